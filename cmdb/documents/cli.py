"""``cmdb doc …``: attach files, write notes, list, search, show, download. The command line is
run by whoever owns the data directory, so it acts with every right (like ``cmdb import``)."""

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
from cmdb.policy import Caller
from cmdb.settings import get_settings

doc_app = typer.Typer(no_args_is_help=True,
                      help=N_("Document library and knowledge base: files and notes for CIs, models, categories."))

TARGET_TYPE = typer.Argument(..., help=N_("What it is for: ci, model or category"))
TARGET = typer.Argument(..., help=N_("A CI's key, a hardware model (e.g. 'OptiPlex 7010') or a category"))


def _owner() -> Caller:
    return Caller(cli_actor(), "admin")


def _row(table: Table, *cells: Any) -> None:
    table.add_row(*(Text("" if c is None else str(c)) for c in cells))


def _target(target_type: str, target: str) -> str:
    shown = names.category_name(target) if target_type == "category" else target
    return f"{names.document_target_name(target_type)} {shown}"


def _table(docs: list[dict[str, Any]], title: str) -> None:
    table = Table(pgettext("heading", "id"), pgettext("heading", "type"), pgettext("heading", "title"),
                  pgettext("heading", "for"), pgettext("heading", "solves"), pgettext("heading", "by"),
                  pgettext("heading", "changed"), title=title)
    for d in docs:
        _row(table, d["id"], names.document_kind_name(d["type"]), d["title"], _target(d["target_type"], d["target"]),
             d["solves"],
             d["created_by"], (d["updated_at"] or "")[:19])
    print_table(table)


@doc_app.command("attach", help=N_("Attach a file (checked by its content, at most "
                                   "CMDB_MAX_DOCUMENT_BYTES)."))
@reports_errors
def attach_command(target_type: str = TARGET_TYPE, target: str = TARGET,
                   file: Path = typer.Argument(..., exists=True, dir_okay=False, help=N_("PDF, image, office document or text")),
                   title: Optional[str] = typer.Option(None, "--title", help=N_("Default: the file name")),
                   as_json: bool = JSON_OPTION):
    from cmdb.documents.service import add_file

    settings = get_settings()
    with open_graph() as graph, open(file, "rb") as stream:
        doc = add_file(graph, file_store(settings), _owner(), target_type=target_type, target=target,
                       title=title, filename=file.name, stream=stream, max_bytes=settings.max_document_bytes)
    if as_json:
        print_json(doc)
        return
    console.print(Text(_("attached %(filename)s (%(media_type)s, %(size)s bytes) to %(target)s as %(id)s",
                         filename=doc['filename'], media_type=doc['media_type'], size=f"{doc['size']:,}",
                         target=_target(doc['target_type'], doc['target']), id=doc['id'])))


@doc_app.command("note", help=N_("Write a note (Markdown), optionally marked as the solution to a "
                                 "symptom."))
@reports_errors
def note_command(target_type: str = TARGET_TYPE, target: str = TARGET,
                 title: str = typer.Option(..., "--title"),
                 body: Optional[str] = typer.Option(None, "--body", help=N_("The note (Markdown)")),
                 from_file: Optional[Path] = typer.Option(None, "--from", exists=True, dir_okay=False,
                                                          help=N_("Read the note from a Markdown file")),
                 solves: Optional[str] = typer.Option(None, "--solves", help=N_("The symptom it is a solution to")),
                 as_json: bool = JSON_OPTION):
    from cmdb.documents.service import add_note
    from cmdb.errors import InvalidInput

    if (body is None) == (from_file is None):
        raise InvalidInput(_("Give the note with --body or --from FILE (one of them)"), field="body")
    text = body if body is not None else from_file.read_text(encoding="utf-8")
    with open_graph() as graph:
        doc = add_note(graph, _owner(), target_type=target_type, target=target, title=title, body=text,
                       solves=solves)
    if as_json:
        print_json(doc)
        return
    console.print(Text(_("note %(id)s for %(target)s: %(title)s", id=doc['id'],
                         target=_target(doc['target_type'], doc['target']), title=doc['title'])))


@doc_app.command("list", help=N_("What is attached to one CI, model or category."))
@reports_errors
def list_command(target_type: str = TARGET_TYPE, target: str = TARGET, as_json: bool = JSON_OPTION):
    from cmdb.documents.service import attached_to

    with open_graph() as graph:
        docs = attached_to(graph, target_type, target)
    if as_json:
        print_json(docs)
        return
    _table(docs, ngettext("%(num)s note or document for %(target)s", "%(num)s notes and documents for %(target)s",
                          len(docs), target=_target(target_type, target)))


@doc_app.command("search", help=N_("Search titles, notes, symptoms, file names and targets; "
                                   "solutions first."))
@reports_errors
def search_command(q: str = typer.Argument(..., help=N_("Words to look for")), as_json: bool = JSON_OPTION):
    from cmdb.documents.service import search

    with open_graph() as graph:
        docs = search(graph, q)
    if as_json:
        print_json(docs)
        return
    _table(docs, ngettext("%(num)s found for %(q)s", "%(num)s found for %(q)s", len(docs), q=repr(q)))


@doc_app.command("show", help=N_("One note (its Markdown) or file (saved with -o)."))
@reports_errors
def show_command(doc_id: str = typer.Argument(..., help=N_("A document's id (DOC-…)")),
                 output: Optional[Path] = typer.Option(None, "--output", "-o", dir_okay=False,
                                                       help=N_("Save a file's content here")),
                 as_json: bool = JSON_OPTION):
    from cmdb.documents.service import content, get

    with open_graph() as graph:
        doc = get(graph, doc_id)
        if output is not None:
            _doc, chunks = content(graph, file_store(get_settings()), doc_id)
            with open(output, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
    if as_json:
        print_json(doc)
        return
    console.print(Text(_("%(kind)s %(id)s: %(title)s (for %(target)s, by %(who)s)",
                         kind=names.document_kind_name(doc['type']), id=doc['id'], title=doc['title'],
                         target=_target(doc['target_type'], doc['target']), who=doc['created_by'])))
    if doc["solves"]:
        console.print(Text(_("solves: %(symptom)s", symptom=doc['solves'])))
    if doc["body"]:
        console.print(Text(doc["body"]))
    if output is not None:
        console.print(Text(_("saved %(filename)s to %(path)s", filename=doc['filename'], path=str(output))))


def register(app: typer.Typer) -> None:
    app.add_typer(doc_app, name="doc")
