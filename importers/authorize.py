"""An import may do exactly what its caller may do through the API: checked per row and column
against ``cmdb.policy`` once the import knows what it would change, before anything is written."""

from __future__ import annotations

from cmdb import policy
from cmdb.graph import CIInput, Graph
from cmdb.i18n import _
from importers.headings import REL_COLUMNS, RELATIONSHIPS_SHEET
from importers.plan import CIRow, Plan, Problem
from importers.register import GraphRegister

# Relationship type -> the CI field (column) that sets it, so links are checked like fields.
FIELD_OF_LINK = {rel_type: field for field, (rel_type, _) in REL_COLUMNS.items()}


def refusals(graph: Graph, caller: policy.Caller, plan: Plan,
             changes: list[tuple[CIInput, str]], new_links: set[tuple[str, str, str]],
             register: GraphRegister) -> list[Problem]:
    """Every row and column of the plan that the caller may not write."""
    rows = {ci.key: ci for ci in list(plan.cis.values()) + plan.new_locations}
    problems: list[Problem] = []

    def problem(ci: CIRow | None, column_field: str | None, value, message: str,
                sheet: str | None = None, row: int | None = None, column: str | None = None) -> None:
        if ci is not None:
            sheet, row = ci.sheet, ci.row
            column = _heading(plan, ci.sheet, column_field) or column_field
        problems.append(Problem(sheet, row, column, value, message))

    fields_by_key: dict[str, set[str]] = {}
    for item, status in changes:
        if status == "created":
            if not policy.may(caller, "ci.create"):
                problem(rows.get(item.key), "key", item.key,
                        _("The role %(role)r may not create CIs; %(key)r is not in the "
                          "register", role=caller.role, key=item.key))
            continue
        if status == "updated":
            before = register.cis[item.key].properties
            fields_by_key.setdefault(item.key, set()).update(
                k for k, v in item.properties.items() if before.get(k) != v)
    link_rows = {(r.from_key, r.type, r.to_key): r for r in plan.relationships}
    for link in sorted(new_links):
        field = FIELD_OF_LINK.get(link[1], link[1].lower())
        refused = policy.refused_fields(caller, [field])
        if refused:
            rel = link_rows.get(link)
            column = rel.column if rel else field
            if rel is not None and _kind_of_sheet(plan, rel.sheet) == RELATIONSHIPS_SHEET:
                column = _heading(plan, rel.sheet, "type") or "type"
            problems.append(Problem(rel.sheet if rel else None, rel.row if rel else None,
                                    column, link[1], policy.fields_message(caller, refused)))
    for key, fields in sorted(fields_by_key.items()):
        ci = rows.get(key)
        for field in policy.refused_fields(caller, fields):
            value = plan.cis[key].properties.get(field) if key in plan.cis else None
            problem(ci, field, value, policy.fields_message(caller, [field]))
    if caller.scope is not None:
        problems.extend(_outside_scope(graph, caller, rows, changes, new_links, plan))
    return problems


def _outside_scope(graph: Graph, caller: policy.Caller, rows: dict[str, CIRow],
                   changes: list[tuple[CIInput, str]], new_links: set[tuple[str, str, str]],
                   plan: Plan) -> list[Problem]:
    scope = policy.scope_keys(graph, caller)
    moves = {a: b for a, t, b in new_links if t == "LOCATED_IN"}
    created = {c.key for c, s in changes if s == "created"}
    # Inside after the import: what is inside now and not moved out, and new CIs placed inside
    # (a chain of new locations is followed to the end).
    inside = {k for k in scope if k not in moves}
    pending = {k: to for k, to in moves.items()}
    grew = True
    while grew:
        grew = False
        for key, to in list(pending.items()):
            if to in inside:
                inside.add(key)
                del pending[key]
                grew = True
    touched = {c.key for c, s in changes if s != "unchanged"} | {a for a, _, _ in new_links}
    problems = []
    for key in sorted(touched):
        currently = key in scope or key in created
        if currently and key in inside:
            continue
        ci = rows.get(key)
        if currently:
            message = _("This token may change only CIs inside location %(scope)r; %(key)r "
                        "would be outside it", scope=caller.scope, key=key)
        else:
            message = _("This token may change only CIs inside location %(scope)r; %(key)r "
                        "is outside it", scope=caller.scope, key=key)
        problems.append(Problem(ci.sheet if ci else None, ci.row if ci else None,
                                _heading(plan, ci.sheet, "key") if ci else None, key, message))
    return problems


def _heading(plan: Plan, sheet: str, field: str | None) -> str | None:
    """The sheet's column heading that holds ``field``."""
    report = next((s for s in plan.sheets if s.name == sheet), None)
    if report is None or field is None:
        return None
    return next((heading for heading, f in report.columns.items() if f == field), None)


def _kind_of_sheet(plan: Plan, sheet: str) -> str | None:
    return next((s.kind for s in plan.sheets if s.name == sheet), None)
