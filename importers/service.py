"""Import spreadsheets into the graph: read, validate, compare with the register, write.

The result always adds up per sheet: rows read = created + updated + unchanged + rejected
+ skipped. When problems stop the import, nothing is written and the counts say what the
import would have done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from cmdb.errors import TooLarge
from cmdb.errors import PermissionDenied
from cmdb.policy import Caller, may, roles_for
from cmdb.graph import CIInput, Graph
from cmdb.graph import faults
from cmdb.graph import imports as graph_imports
from cmdb.i18n import _
from cmdb.policy import Caller
from cmdb.settings import Settings, get_settings
from importers import authorize, presets
from importers.headings import RELATIONSHIPS_SHEET
from importers.mapping import Mapping
from importers.plan import Options, Plan, Problem, build_plan
from importers.readers import RawSheet, read_file
from importers.register import GraphRegister

Progress = Callable[[str, int, int], None]
PREFETCH_ALWAYS_BELOW = 20_000


def _prefetch_worth_it(graph: Graph, sources: Sequence[tuple[str, str | Path | bytes]]) -> bool:
    size = 0
    for _, source in sources:
        if isinstance(source, (bytes, bytearray)):
            size += len(source)
        elif Path(source).is_file():
            size += Path(source).stat().st_size
    estimated_rows = size // 40
    total = graph_imports.register_size(graph)
    return total <= PREFETCH_ALWAYS_BELOW or total <= 2 * estimated_rows


@dataclass
class ImportResult:
    files: list[str]
    plan: Plan
    dry_run: bool
    written: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    relationships_created: int = 0
    relationships_unchanged: int = 0
    locations_from_paths: int = 0
    source: str = ""
    refused: bool = False   # rows or columns beyond the caller's rights: nothing written

    @property
    def stopped(self) -> bool:
        """Problems stopped the import (all-or-nothing)."""
        return bool(self.plan.problems) and not self.written and not self.dry_run

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "dry_run": self.dry_run,
            "written": self.written,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": sum(s.rejected for s in self.plan.sheets),
            "skipped": sum(s.skipped for s in self.plan.sheets),
            "relationships_created": self.relationships_created,
            "relationships_unchanged": self.relationships_unchanged,
            "locations_from_paths": self.locations_from_paths,
            "errors": [p.as_dict() for p in self.plan.problems],
            "warnings": [p.as_dict() for p in self.plan.warnings],
            "sheets": [s.as_dict() for s in self.plan.sheets],
            "ignored_sheets": self.plan.ignored_sheets,
            "new_categories": [t.as_dict() for t in self.plan.new_categories],
            "new_fields": [f.as_dict() for f in self.plan.new_fields],
            "refused": self.refused,
        }


def read_sources(sources: Sequence[tuple[str, str | Path | bytes]], *, sheet: str | None,
                 mapping: Mapping, settings: Settings, options: Options | None = None) -> list[RawSheet]:
    options = options or Options()
    sheets: list[RawSheet] = []
    multiple = len(sources) > 1
    for name, source in sources:
        for raw in read_file(source, name=name, sheet=sheet, settings=settings,
                             encoding=options.encoding):
            if multiple and not name.lower().endswith((".csv", ".txt", ".tsv")):
                raw.name = f"{Path(name).name}:{raw.name}"
            sheets.append(raw)
    names = [s.name for s in sheets]
    if len(set(names)) != len(names):
        seen: dict[str, int] = {}
        for s in sheets:
            seen[s.name] = seen.get(s.name, 0) + 1
            if seen[s.name] > 1:
                s.name = f"{s.name} ({seen[s.name]})"
    return presets.apply(mapping, sheets, dayfirst=options.dayfirst_with(mapping))


def run_import(graph: Graph, sources: Sequence[tuple[str, str | Path | bytes]], *,
               mapping: Mapping | None = None, options: Options | None = None,
               sheet: str | None = None, dry_run: bool = False, actor: str = "import",
               settings: Settings | None = None, progress: Progress | None = None,
               caller: "Caller | None" = None) -> ImportResult:
    """Import ``sources``. With ``caller`` (the API's signed-in user) every row and column is
    checked against the authorization policy first; rows beyond its rights stop the import,
    even with ``skip_invalid``. Without one (the command line, run by whoever owns the data
    directory) nothing is checked."""
    settings = settings or get_settings()
    mapping = mapping or Mapping()
    options = options or Options()
    tick = progress or (lambda phase, done, total: None)
    tick("reading", 0, 1)
    register = GraphRegister(graph, prefetch=_prefetch_worth_it(graph, sources))
    try:
        sheets = read_sources(sources, sheet=sheet, mapping=mapping, settings=settings, options=options)
        tick("reading", 1, 1)
        tick("validating", 0, 1)
        plan = build_plan(sheets, mapping, options, register)
        del sheets  # the plan holds what is needed; the raw cells can go
        tick("validating", 1, 1)
    finally:
        register.close()
    names = [Path(n).name for n, _ in sources]
    result = ImportResult(names, plan, dry_run, source="import " + ", ".join(names))
    tick("comparing", 0, 1)
    changes, new_links = _compare(plan, register)
    tick("comparing", 1, 1)
    if caller is not None and (plan.new_categories or plan.new_fields) \
            and not may(caller, "vocabulary"):
        raise PermissionDenied(
            _("This import would add to the register's vocabulary (%(words)s), which the role "
              "%(role)r may not do; it needs one of: %(roles)s. Add them first, or import without "
              "--new-categories / --new-fields", words=_vocabulary_text(plan), role=caller.role,
              roles=", ".join(sorted(roles_for("vocabulary")))), {"role": caller.role,
                                                 "allowed_roles": sorted(roles_for("vocabulary"))})
    if caller is not None:
        refused = authorize.refusals(graph, caller, plan, changes, new_links, register)
        if refused:
            result.refused = True
            _reject(plan, refused)
            changes, new_links = _without_rejected(plan, changes, new_links)
    _count(result, changes, new_links)
    if dry_run or result.refused or (plan.problems and not options.skip_invalid):
        return result
    creates = [c for c, status in changes if status == "created"]
    updates = [c for c, status in changes if status == "updated"]
    links = sorted(new_links)
    if creates or updates or links or plan.new_categories or plan.new_fields:
        total = len(creates) + len(updates) + len(links)
        _check_size(settings, total, len(creates), len(updates), len(links))
        faults.check_disk(graph.engine, faults.import_bytes(len(creates) + len(updates), len(links)),
                          _("the import"))
        tick("writing", 0, total)
        kinds = {k: ci.kind for k, ci in register.cis.items()}
        kinds.update({c.key: c.kind for c, _ in changes})
        upserted, linked = graph_imports.write_import(
            graph, creates, updates, links, kinds, actor=actor, source=result.source,
            categories=plan.new_categories, fields=plan.new_fields,
            batch_rows=settings.import_batch_rows,
            written=lambda done: tick("writing", done, total))
        if upserted.unchanged:  # someone else made the same change meanwhile
            statuses = {c.key: s for c, s in changes}
            statuses.update({k: "unchanged" for k in upserted.unchanged})
            changes = [(c, statuses[c.key]) for c, _ in changes]
            _count(result, changes, new_links)
    result.written = True
    return result


def _check_size(settings: Settings, total: int, creates: int, updates: int, links: int) -> None:
    """Refuse an import larger than the limit (the importing process holds its plan in memory)."""
    limit = settings.max_import_changes
    if total <= limit:
        return
    numbers = {name: format(n, ",") for name, n in
               (("total", total), ("creates", creates), ("updates", updates), ("links", links),
                ("limit", limit))}
    raise TooLarge(
        _("This import would make %(total)s changes (%(creates)s new CIs, %(updates)s updated, "
          "%(links)s new relationships); at most %(limit)s are allowed (CMDB_MAX_IMPORT_CHANGES). "
          "Nothing was written. Split the file, or raise CMDB_MAX_IMPORT_CHANGES.", **numbers),
        {"field": "file", "value": total, "allowed": limit})


def _vocabulary_text(plan: Plan) -> str:
    parts = []
    if plan.new_categories:
        parts.append(_("categories %(categories)s", categories=", ".join(t.key for t in plan.new_categories)))
    if plan.new_fields:
        parts.append(_("custom fields %(fields)s",
                       fields=", ".join(f"{f.kind}.{f.name}" for f in plan.new_fields)))
    return "; ".join(parts)


def _reject(plan: Plan, problems: list[Problem]) -> None:
    plan.problems.extend(problems)
    for p in problems:
        report = next((s for s in plan.sheets if s.name == p.sheet), None)
        if report is not None and p.row is not None:
            report.rejected_rows.add(p.row)
            if p.row in report.accepted_rows:
                report.accepted_rows.remove(p.row)
    order = {report.name: i for i, report in enumerate(plan.sheets)}
    plan.problems.sort(key=lambda p: (order.get(p.sheet, -1), p.row or 0))


def _without_rejected(plan: Plan, changes: list[tuple[CIInput, str]],
                      new_links: set[tuple[str, str, str]]
                      ) -> tuple[list[tuple[CIInput, str]], set[tuple[str, str, str]]]:
    """What the rows that are still accepted would change (for the counts)."""
    rejected = {(s.name, row) for s in plan.sheets for row in s.rejected_rows}
    gone = {ci.key for ci in list(plan.cis.values()) + plan.new_locations
            if (ci.sheet, ci.row) in rejected}
    kept_links = {(r.from_key, r.type, r.to_key) for r in plan.relationships
                  if (r.sheet, r.row) not in rejected}
    return ([(c, s) for c, s in changes if c.key not in gone],
            {link for link in new_links if link[0] not in gone and link in kept_links})


def _compare(plan: Plan, register: GraphRegister
             ) -> tuple[list[tuple[CIInput, str]], set[tuple[str, str, str]]]:
    """Each planned CI with created/updated/unchanged, and the links that do not exist yet."""
    changes: list[tuple[CIInput, str]] = []
    for ci in list(plan.cis.values()) + plan.new_locations:
        existing = register.cis.get(ci.key)
        item = CIInput(ci.key, ci.kind, ci.properties)
        if existing is None:
            changes.append((item, "created"))
        elif any(existing.properties.get(k) != v for k, v in ci.properties.items()):
            changes.append((item, "updated"))
        else:
            changes.append((item, "unchanged"))
    wanted = {(r.from_key, r.type, r.to_key) for r in plan.relationships}
    new_links = set()
    for link in wanted:
        existing = register.cis.get(link[0])
        if existing is None or (link[1], link[2]) not in existing.out:
            new_links.add(link)
    return changes, new_links


def _count(result: ImportResult, changes: list[tuple[CIInput, str]],
           new_links: set[tuple[str, str, str]]) -> None:
    plan = result.plan
    status = {c.key: s for c, s in changes}
    linked_from = {a for a, _, _ in new_links}
    path_keys = {ci.key for ci in plan.new_locations}
    result.locations_from_paths = sum(1 for k in path_keys if status.get(k) == "created")
    rel_rows: dict[tuple[str, int], set[tuple[str, str, str]]] = {}
    for r in plan.relationships:
        rel_rows.setdefault((r.sheet, r.row), set()).add((r.from_key, r.type, r.to_key))
    for report in plan.sheets:
        report.created = report.updated = report.unchanged = 0
        if report.kind == RELATIONSHIPS_SHEET:
            for row in report.accepted_rows:
                if rel_rows.get((report.name, row), set()) & new_links:
                    report.created += 1
                else:
                    report.unchanged += 1
            continue
        by_row = {ci.row: ci.key for ci in plan.cis.values() if ci.sheet == report.name}
        for row in report.accepted_rows:
            key = by_row[row]
            s = status.get(key, "unchanged")
            if s == "unchanged" and key in linked_from:
                s = "updated"
            setattr(report, s, getattr(report, s) + 1)
    result.created = sum(1 for s in status.values() if s == "created")
    result.updated = sum(s.updated for s in plan.sheets)
    result.unchanged = sum(s.unchanged for s in plan.sheets if s.kind != RELATIONSHIPS_SHEET)
    result.relationships_created = len(new_links)
    result.relationships_unchanged = len({(r.from_key, r.type, r.to_key) for r in plan.relationships}
                                         - new_links)


def validate_only(sheets: list[RawSheet], mapping: Mapping | None = None,
                  options: Options | None = None) -> Plan:
    """Validation without a register (every reference must be in the sheets)."""
    return build_plan(sheets, mapping, options)


__all__ = ["run_import", "ImportResult", "GraphRegister", "read_sources", "validate_only"]
