"""No import loops: between the modules of cmdb/ and importers/, nor between their packages.

The import graph is read from the source with the standard library (``ast``): every
``import`` and ``from … import`` of a project module, at module level or inside a function
alike, is an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cmdb", "importers")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports: ``from a.b import c`` is a.b.c when that is a
    module, else a.b."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def package_of(module: str) -> str:
    """The package a module belongs to: cmdb's subpackages (cmdb.graph, cmdb.api with its
    routers) and top-level modules (cmdb.policy) each, and importers as a whole."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "cmdb" else parts[0]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def module_graph() -> tuple[dict[str, set[str]], dict[str, Path]]:
    modules = project_modules()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}, modules


def test_no_module_imports_itself_through_others():
    edges, _ = module_graph()
    assert cycles(edges) == []


def test_no_package_imports_itself_through_others():
    edges, _ = module_graph()
    packages: dict[str, set[str]] = {}
    for module, targets in edges.items():
        mine = package_of(module)
        packages.setdefault(mine, set()).update(
            p for p in map(package_of, targets) if p != mine)
    assert cycles(packages) == []


def test_the_walker_sees_a_loop_through_a_function_local_import():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    source = {"cmdb.x": "def f():\n    from cmdb import y\n", "cmdb.y": "import cmdb.x\n"}
    modules = {name: Path(f"{name.replace('.', '/')}.py") for name in source}
    modules["cmdb"] = Path("cmdb/__init__.py")
    parsed = {}
    for name, text in source.items():
        tree_path = ROOT / "tests" / ".import_walk_probe.py"
        tree_path.write_text(text, encoding="utf-8")
        try:
            parsed[name] = imported_modules(name, tree_path, modules)
        finally:
            tree_path.unlink()
    assert parsed == {"cmdb.x": {"cmdb.y"}, "cmdb.y": {"cmdb.x"}}
    assert cycles(parsed) == [["cmdb.x", "cmdb.y"]]
