"""Neo4j's Cypher front end checks every query the test suite sends.

``pytest --lint-cypher`` (what ``make test`` runs) records each distinct query text sent
through the neo4j driver by the tests and by every process they start (see
``cmdb/graph/query_recording.py``), then lints them all in one node process with
``@neo4j-cypher/language-support``, each with the parameters it was sent with declared.
Errors fail the run and are printed with their query; warnings are listed.

The npm package is pinned in ``package.json``/``package-lock.json`` beside this file and
installed into ``node_modules`` here by ``make install`` and ``make test``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINTER = HERE / "lint.mjs"
PACKAGE_DIR = HERE / "node_modules" / "@neo4j-cypher" / "language-support"
# Generous: the front end takes tenths of a second a query, so a slow, loaded machine must
# not turn into a failed run. It only guards against a hung node process.
LINT_TIMEOUT_S = 1800


class LintUnavailable(Exception):
    """node or the npm package is missing, or the linter itself failed."""


@dataclass(frozen=True)
class Query:
    text: str
    parameters: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "error", "warning", …
    message: str
    line: int
    column: int


@dataclass
class LintReport:
    version: str
    diagnostics: dict[Query, list[Diagnostic]] = field(default_factory=dict)

    @property
    def errors(self) -> list[tuple[Query, Diagnostic]]:
        return [(q, d) for q, ds in self.diagnostics.items() for d in ds if d.severity == "error"]

    @property
    def warnings(self) -> list[tuple[Query, Diagnostic]]:
        """Everything that is not an error: deprecations, hints."""
        return [(q, d) for q, ds in self.diagnostics.items() for d in ds if d.severity != "error"]


def check_available() -> None:
    if shutil.which("node") is None:
        raise LintUnavailable("node is not on PATH: the Cypher lint needs Node.js 20 or newer")
    if not PACKAGE_DIR.is_dir():
        raise LintUnavailable(f"{PACKAGE_DIR.relative_to(HERE.parent.parent)} is missing: "
                              "run `make install` (or `npm ci --prefix tests/cypher_lint`)")


def read_recordings(directory: Path) -> tuple[list[Query], int]:
    """The distinct query texts recorded in ``directory``, each with every parameter name it
    was sent with, and how many processes recorded them."""
    parameters: dict[str, set[str]] = {}
    files = sorted(directory.glob("queries-*.jsonl"))
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # the last line of a process killed mid-write
            parameters.setdefault(entry["query"], set()).update(entry["parameters"])
    queries = [Query(text, frozenset(names)) for text, names in sorted(parameters.items())]
    return queries, len(files)


def lint(queries: list[Query]) -> LintReport:
    """Lint ``queries`` in one node process."""
    check_available()
    with tempfile.TemporaryDirectory(prefix="cypher-lint-") as tmp:
        batch = Path(tmp) / "queries.json"
        batch.write_text(json.dumps([{"query": q.text, "parameters": sorted(q.parameters)}
                                     for q in queries]), encoding="utf-8")
        try:
            run = subprocess.run(["node", str(LINTER), str(batch)], capture_output=True,
                                 text=True, timeout=LINT_TIMEOUT_S, cwd=HERE)
        except subprocess.TimeoutExpired as exc:
            raise LintUnavailable(f"the Cypher linter did not finish in {LINT_TIMEOUT_S} s") from exc
    if run.returncode != 0:
        raise LintUnavailable(f"the Cypher linter failed (exit {run.returncode}):\n{run.stderr}")
    output = json.loads(run.stdout)
    report = LintReport(output["version"])
    for query, found in zip(queries, output["results"], strict=True):
        report.diagnostics[query] = [Diagnostic(d["severity"], d["message"], d["line"], d["column"])
                                     for d in found]
    return report
