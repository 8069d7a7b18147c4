"""``cmdb baseline …``: create, list, diff, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from cmdb.cli_support import (
    JSON_OPTION, cli_actor, console, open_graph, print_json, print_table, reports_errors,
)
from cmdb.documents.store import file_store
from cmdb.i18n import _, N_, names, ngettext, pgettext
from cmdb.settings import get_settings

baseline_app = typer.Typer(no_args_is_help=True,
                           help=N_("Configuration baselines: record the register, compare it later."))


def _row(table: Table, *cells: Any) -> None:
    table.add_row(*(Text("" if c is None else str(c)) for c in cells))


@baseline_app.command("create", help=N_("Record the CIs, properties and relationships of the "
                                        "register (or a location) now."))
@reports_errors
def create_command(
    name: str = typer.Argument(..., help=N_("What to call it, e.g. 'Hand-over 2026'")),
    scope: Optional[str] = typer.Option(None, "--scope", help=N_("A location: only it and what is inside it")),
    note: Optional[str] = typer.Option(None, "--note", help=N_("Why it was taken")),
    as_json: bool = JSON_OPTION,
):
    from cmdb.baselines.service import create

    with open_graph() as graph:
        result = create(graph, file_store(get_settings()), name, actor=cli_actor(), scope=scope, note=note)
    if as_json:
        print_json(result)
        return
    console.print(Text(_("baseline %(name)s: %(cis)s CI(s) and %(relationships)s relationship(s) of "
                         "%(scope)s at %(at)s", name=repr(result['name']), cis=f"{result['cis']:,}",
                         relationships=f"{result['relationships']:,}",
                         scope=result['scope'] or _("the whole register"), at=result['created_at'])))


@baseline_app.command("list", help=N_("Every baseline, oldest first."))
@reports_errors
def list_command(as_json: bool = JSON_OPTION):
    from cmdb.baselines.service import list_all

    with open_graph() as graph:
        baselines = list_all(graph)
    if as_json:
        print_json(baselines)
        return
    if not baselines:
        console.print(_("no baselines yet: %(command)s", command="`cmdb baseline create NAME`"), markup=False)
        return
    table = Table(pgettext("heading", "name"), pgettext("heading", "created"), pgettext("heading", "by"),
                  pgettext("heading", "scope"), pgettext("heading", "CIs"),
                  pgettext("heading", "relationships"), pgettext("heading", "note"),
                  title=ngettext("%(num)s baseline", "%(num)s baselines", len(baselines)))
    for b in baselines:
        _row(table, b["name"], b["created_at"][:19], b["created_by"], b["scope"] or _("(all)"),
             f"{b['cis']:,}", f"{b['relationships']:,}", b["note"])
    print_table(table)


def _write(data: bytes, output: Path) -> None:
    output.write_bytes(data)


@baseline_app.command("diff", help=N_("What was added, removed, moved, re-imaged and changed since"
                                      " a baseline, by whom and when."))
@reports_errors
def diff_command(
    name: str = typer.Argument(..., help=N_("The baseline to compare from")),
    to: str = typer.Option("now", "--to", help=N_("Another (newer) baseline, or 'now'")),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help=N_("Also write it to .xlsx or .html"),
                                          dir_okay=False),
    as_json: bool = JSON_OPTION,
):
    from cmdb.baselines.reports import format_of, render_diff
    from cmdb.baselines.service import diff

    fmt = format_of(output) if output else None
    with open_graph() as graph:
        result = diff(graph, file_store(get_settings()), name, to)
    if output:
        _write(render_diff(result, fmt), output)
    if as_json:
        print_json(result)
        return
    counts = ", ".join(f"{names.change_name(change)} {n}" for change, n in result["counts"].items() if n) \
        or _("no changes")
    console.print(Text(f"{result['baseline']['name']} → {result['to']['name'] if result['to'] else _('now')}: "
                       f"{counts}"))
    if result["changes"]:
        table = Table(pgettext("heading", "change"), pgettext("heading", "key"), pgettext("heading", "kind"),
                      pgettext("heading", "what"), pgettext("heading", "before"), pgettext("heading", "after"),
                      pgettext("heading", "by"), pgettext("heading", "at"))
        for c in result["changes"]:
            what = names.property_label(c["property"]) if c["property"] else names.relationship_name(c["type"])
            _row(table, names.change_name(c["change"]), c["key"], names.kind_name(c["kind"]), what,
                 c["before"], c["after"], c["by"] or "?", (c["at"] or "")[:19])
        print_table(table)
    if output:
        console.print(Text(_("wrote %(path)s", path=str(output))))


@baseline_app.command("report", help=N_("Counts by site, kind and category, and the changes since "
                                        "the previous baseline."))
@reports_errors
def report_command(
    name: str = typer.Argument(..., help=N_("The baseline to report on")),
    output: Path = typer.Option(..., "--output", "-o", help=N_("The report file: .xlsx or .html"),
                                dir_okay=False),
    as_json: bool = JSON_OPTION,
):
    from cmdb.baselines.reports import format_of, render_report
    from cmdb.baselines.service import report

    fmt = format_of(output)
    with open_graph() as graph:
        result = report(graph, file_store(get_settings()), name)
    _write(render_report(result, fmt), output)
    if as_json:
        print_json(result)
        return
    base = result["baseline"]
    console.print(Text(_("baseline report %(name)s (%(cis)s CIs; previous: %(previous)s) written to %(path)s",
                         name=repr(base['name']), cis=f"{base['cis']:,}",
                         previous=result['previous'] or _("none"), path=str(output))))


def register(app: typer.Typer) -> None:
    app.add_typer(baseline_app, name="baseline")
