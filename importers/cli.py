"""``cmdb import`` and ``cmdb export``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich import box
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cmdb.cli_support import (
    JSON_OPTION, cli_actor, console, err_console, open_graph, print_json, print_table,
    reports_errors,
)
from cmdb.i18n import _, N_, names, pgettext

# Each command imports the modules it needs when it runs, so that every `cmdb` command (and
# --help) starts without loading pandas, FastAPI and every domain (start-up time).

PROGRESS_FROM_BYTES = 200_000  # roughly a few thousand rows
SHOWN_PROBLEMS = 200


def import_command(
    files: list[Path] = typer.Argument(..., help=N_("Spreadsheets: .xlsx, .xls, .ods or .csv (several "
                                               "files are validated and written together)")),
    kind: Optional[str] = typer.Option(None, "--kind", help=N_("What the sheets hold: Hardware, Location, "
                                       "SoftwareImage, Application or Relationships (default: from the "
                                       "sheet name or its headings)")),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=N_("Read only this sheet")),
    mapping: Optional[str] = typer.Option(None, "--mapping", help=N_("Column mapping file (YAML/JSON) or "
                                          "a preset: snipeit, netbox")),
    dry_run: bool = typer.Option(False, "--dry-run", help=N_("Validate and report what would change; "
                                 "write nothing")),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=N_("Write the valid rows and report "
                                      "the others (default: any invalid row and nothing is written)")),
    clear_empty: bool = typer.Option(False, "--clear-empty", help=N_("Empty cells erase the property "
                                     "(default: empty means no value given)")),
    dayfirst: Optional[bool] = typer.Option(None, "--dayfirst/--monthfirst", help=N_("Read 05/01/26 as "
                                            "5 January / as May 1 (default: as the preset says, "
                                            "else month first)"), show_default=False),
    encoding: Optional[str] = typer.Option(None, "--encoding", help=N_("Text encoding of CSV files: "
                                           "utf-8, gbk, gb18030, big5, utf-16, windows-1252, "
                                           "mac-roman (default: detected)")),
    new_categories: Optional[bool] = typer.Option(
        None, "--new-categories/--no-new-categories", show_default=False,
        help=N_("Create the categories the file names that the register lacks (default: only with "
             "a preset, snipeit or netbox; otherwise they are refused with the close matches)")),
    new_fields: bool = typer.Option(False, "--new-fields", help=N_("Keep columns no field matches as "
                                    "new custom fields, their type read from the column "
                                    "(default: they are listed as ignored)")),
    as_json: bool = JSON_OPTION,
):
    from importers.mapping import parse_kind
    from importers.presets import load_mapping
    from importers.plan import Options
    from importers.service import run_import

    from importers.readers import codec_for

    if encoding:
        codec_for(encoding)  # refuse an unknown name before reading anything
    options = Options(kind=parse_kind(kind) if kind else None, dayfirst=dayfirst,
                      clear_empty=clear_empty, skip_invalid=skip_invalid, encoding=encoding,
                      new_categories=new_categories, new_fields=new_fields)
    chosen = load_mapping(mapping)
    sources = [(str(f), f) for f in files]
    big = sum(f.stat().st_size for f in files if f.is_file()) >= PROGRESS_FROM_BYTES
    with open_graph() as graph:
        if big and not as_json:
            with Progress(TextColumn("{task.description:<11}"), BarColumn(), TimeElapsedColumn(),
                          console=err_console, transient=True) as bar:
                tasks: dict[str, int] = {}

                def progress(phase: str, done: int, total: int) -> None:
                    if phase not in tasks:
                        tasks[phase] = bar.add_task(phase, total=max(total, 1))
                    bar.update(tasks[phase], completed=done, total=max(total, 1))
                result = run_import(graph, sources, mapping=chosen, options=options, sheet=sheet,
                                    dry_run=dry_run, actor=cli_actor(), progress=progress)
        else:
            result = run_import(graph, sources, mapping=chosen, options=options, sheet=sheet,
                                dry_run=dry_run, actor=cli_actor())
    failed = bool(result.plan.problems) and not skip_invalid
    if as_json:
        print_json(result.as_dict())
    else:
        _print_result(result, failed)
    if failed:
        raise typer.Exit(1)


def _print_result(result, failed: bool) -> None:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(pgettext("heading", "sheet"), min_width=8, overflow="fold")
    table.add_column(pgettext("heading", "kind"), min_width=8, overflow="fold")
    for heading in (pgettext("heading", "read"), pgettext("heading", "created"),
                    pgettext("heading", "updated"), pgettext("heading", "unchanged"),
                    pgettext("heading", "rejected"), pgettext("heading", "skipped")):
        table.add_column(heading, justify="right", no_wrap=True)
    for s in result.plan.sheets:
        table.add_row(s.name, names.kind_name(s.kind) if s.kind else "?", str(s.rows_read), str(s.created), str(s.updated),
                      str(s.unchanged), str(s.rejected), str(s.skipped))
    print_table(table)
    broken = [s.name for s in result.plan.sheets if not s.adds_up()]
    if broken:  # would be a bug; say so rather than hide it
        err_console.print(_("counts do not add up for: %(sheets)s", sheets=", ".join(broken)),
                          markup=False)
    else:
        console.print(_("every sheet adds up: read = created + updated + unchanged + rejected + "
                        "skipped"), markup=False)
    for s in result.plan.sheets:
        if s.ignored_columns:
            console.print(_("sheet %(sheet)s: ignored columns: %(columns)s (--new-fields keeps them as custom "
                            "fields)", sheet=repr(s.name), columns=", ".join(s.ignored_columns)), markup=False)
    for s in result.plan.sheets:
        if s.untagged_rows:
            console.print(_("sheet %(sheet)s: %(n)s row(s) without an asset tag skipped (rows "
                            "%(rows)s)", sheet=repr(s.name), n=len(s.untagged_rows),
                            rows=", ".join(map(str, s.untagged_rows[:20]))
                            + (" …" if len(s.untagged_rows) > 20 else "")), markup=False)
    planned = result.dry_run or failed
    if result.plan.new_categories:
        shown = ", ".join(f"{t.key} ({names.register_name(t.as_dict(), t.name())})"
                          for t in result.plan.new_categories)
        console.print(_("categories would create: %(categories)s", categories=shown) if planned
                      else _("categories created: %(categories)s", categories=shown), markup=False)
    if result.plan.new_fields:
        shown = ", ".join(f"{f.kind}.{f.name} ({names.field_type_name(f.type)})" for f in result.plan.new_fields)
        console.print(_("custom fields would create: %(fields)s", fields=shown) if planned
                      else _("custom fields created: %(fields)s", fields=shown), markup=False)
    if result.plan.ignored_sheets:
        console.print(_("empty sheets ignored: %(sheets)s", sheets=", ".join(result.plan.ignored_sheets)),
                      markup=False)
    for warning in result.plan.warnings:
        err_console.print(_("warning: %(warning)s", warning=warning), markup=False, highlight=False, soft_wrap=True)
    problems = result.plan.problems
    for p in problems[:SHOWN_PROBLEMS]:
        err_console.print(str(p), markup=False, highlight=False, soft_wrap=True)
    if len(problems) > SHOWN_PROBLEMS:
        err_console.print(_("… and %(n)s more problems (use --json for all)",
                            n=len(problems) - SHOWN_PROBLEMS), markup=False)
    counts = _("%(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(links)s "
               "relationships created", created=result.created, updated=result.updated,
               unchanged=result.unchanged, links=result.relationships_created)
    if result.locations_from_paths:
        counts += _(", %(n)s locations created from paths", n=result.locations_from_paths)
    if result.dry_run:
        console.print(_("dry run, nothing written: would be %(counts)s", counts=counts),
                      markup=False)
    elif failed:
        err_console.print(_("nothing written: %(n)s problem(s) to fix first (or --skip-invalid to "
                            "write the valid rows); would be %(counts)s", n=len(problems),
                            counts=counts), markup=False, style="red")
    else:
        console.print(_("imported: %(counts)s", counts=counts), markup=False)


def export_command(
    file: Path = typer.Argument(..., help=N_("FILE.xlsx (one sheet per kind plus Relationships) or "
                                         "FILE.csv (one file per sheet)")),
    kind: Optional[str] = typer.Option(None, "--kind", help=N_("Export only this kind")),
    as_json: bool = JSON_OPTION,
):
    from importers.export import export_register

    with open_graph() as graph:
        summary = export_register(graph, file, kind)
    if as_json:
        print_json(summary)
    else:
        for name, count in summary["sheets"].items():
            console.print(_("%(sheet)s: %(n)s rows", sheet=name, n=count), markup=False)
        console.print(_("wrote %(files)s", files=", ".join(summary["files"])), markup=False)


def register(app: typer.Typer) -> None:
    app.command("import", help=N_("Import CIs and relationships from spreadsheets (Chinese or "
                                  "English headings)."))(reports_errors(import_command))
    app.command("export", help=N_("Export the register in a form that `cmdb import` reads back "
                                  "unchanged."))(reports_errors(export_command))
