"""``cmdb backup`` and ``cmdb restore``."""

from __future__ import annotations

import functools
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cmdb.cli_support import (
    JSON_OPTION, console, err_console, open_graph, print_json,
    print_table, reports_errors,
)
from cmdb.documents.store import file_store
from cmdb.i18n import _, N_, pgettext
from cmdb.i18n.names import kind_name, relationship_name
from cmdb.settings import get_settings

# Each command imports the modules it needs when it runs, so that every `cmdb` command (and
# --help) starts without loading pandas, FastAPI and every domain (start-up time).


def _progress_bar():
    return Progress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True)


def _reporter(bar: Progress):
    tasks: dict[str, int] = {}

    def progress(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=max(total, 1))
        bar.update(tasks[phase], completed=min(done, max(total, 1)), total=max(total, 1))
    return progress


def _run_with_progress(work, quiet: bool):
    """``work(progress=...)`` with a progress bar on stderr when it is a terminal; without one
    for ``--json`` or when stderr goes to a file or pipe (a bar there is only an empty line)."""
    if quiet or not err_console.is_terminal:
        return work()
    with _progress_bar() as bar:
        return work(progress=_reporter(bar))


def _counts_table(title: str, counts: dict, second: dict | None = None,
                  second_name: str = "") -> Table:
    columns = [pgettext("heading", "what"), pgettext("heading", "count")] + \
        ([second_name] if second is not None else [])
    table = Table(*columns, title=title)
    for group, names in counts.items():
        for name, n in names.items():
            if n or (second and second.get(group, {}).get(name)):
                row = [_count_name(group, name), f"{n:,}"]
                if second is not None:
                    row.append(f"{second.get(group, {}).get(name, 0):,}")
                table.add_row(*row)
    return table


def _count_name(group: str, name: str) -> str:
    """A counted kind or relationship type as a word; the register's own records as named."""
    if group == "cis":
        return kind_name(name)
    if group == "relationships":
        return relationship_name(name)
    return name


@reports_errors
def backup_command(
    file: Path = typer.Argument(..., help=N_("Where to write the backup, e.g. cmdb-2026-11-22.jsonl.gz"),
                                dir_okay=False),
    overwrite: bool = typer.Option(False, "--overwrite", help=N_("Replace FILE if it exists")),
    as_json: bool = JSON_OPTION,
):
    from cmdb.backup.service import write_backup

    with open_graph() as graph:
        result = _run_with_progress(
            functools.partial(write_backup, graph, file, overwrite=overwrite,
                              files=file_store(get_settings())), quiet=as_json)
    if as_json:
        print_json(result.as_dict())
        return
    print_table(_counts_table(_("backup of %(engine)s", engine=graph.description), result.counts))
    console.print(_("wrote %(path)s (%(bytes)s bytes, %(records)s records) in %(seconds)s s",
                    path=result.path, bytes=f"{result.size_bytes:,}",
                    records=f"{result.records:,}", seconds=f"{result.seconds:.1f}"),
                  markup=False, highlight=False)


@reports_errors
def restore_command(
    file: Path = typer.Argument(..., help=N_("A file written by `cmdb backup`"), dir_okay=False),
    into_empty: bool = typer.Option(False, "--into-empty", help=N_("Restore into an empty target "
                                    "(the default): refused if it holds anything")),
    merge: bool = typer.Option(False, "--merge", help=N_("Combine with what the target holds: CIs, "
                               "history entries and tokens in the file replace those with the same "
                               "key or id, the rest stays")),
    as_json: bool = JSON_OPTION,
):
    from cmdb.backup.service import restore_backup

    if into_empty and merge:
        raise typer.BadParameter(_("choose one of --into-empty and --merge"), param_hint="--merge")
    with open_graph() as graph:
        result = _run_with_progress(
            functools.partial(restore_backup, graph, file, merge=merge,
                              files=file_store(get_settings())), quiet=as_json)
    if as_json:
        print_json(result.as_dict())
        return
    print_table(_counts_table(_("restored into %(engine)s", engine=graph.description),
                              result.counts, result.target, pgettext("heading", "now in target")))
    console.print(_("restored %(file)s (backup of %(at)s from the %(engine)s engine, %(mode)s) in "
                    "%(seconds)s s; verified: the counts per kind, relationship type and history "
                    "match the backup", file=file, at=result.created_at,
                    engine=result.source_engine, mode=result.mode,
                    seconds=f"{result.durations['total_s']:.1f}"),
                  markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("backup", help=N_("Back up the whole register (CIs, relationships, history, "
                                  "audits, tokens) to one file."))(backup_command)
    app.command("restore", help=N_("Restore a backup into the configured engine (embedded, or "
                                   "CMDB_NEO4J_URI)."))(restore_command)
