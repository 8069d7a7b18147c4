"""``cmdb category …``, ``cmdb status …`` and ``cmdb field …``."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from cmdb.cli_support import JSON_OPTION, cli_actor, emit, open_graph, print_json, print_table, reports_errors
from cmdb.graph import categories as vocab
from cmdb.graph.schema import kind_of
from cmdb.graph.vocabulary import FLAGS, LANGUAGES
from cmdb.i18n import _, N_, names, ngettext, pgettext

category_app = typer.Typer(no_args_is_help=True, help=N_("The register's hardware categories: list, "
                           "add, rename, merge, delete."))
status_app = typer.Typer(no_args_is_help=True, help=N_("The fixed hardware statuses and the words "
                         "other tools use for them."))
field_app = typer.Typer(no_args_is_help=True, help=N_("Custom fields of a kind: list, add."))

NAME_EN = typer.Option(None, "--name-en", help=N_("Display name in English"))
NAME_CN = typer.Option(None, "--name-zh-cn", help=N_("Display name in Simplified Chinese"))
NAME_TW = typer.Option(None, "--name-zh-tw", help=N_("Display name in Traditional Chinese"))


def _names(en, cn, tw) -> dict:
    return {lang: text for lang, text in zip(LANGUAGES, (en, cn, tw)) if text is not None}


def _flags(network_gear, takes_image) -> dict:
    return {f: v for f, v in zip(FLAGS, (network_gear, takes_image)) if v is not None}


def _flag_heading(flag: str) -> str:
    return {"network_gear": pgettext("heading", "network gear"),
            "takes_image": pgettext("heading", "takes an image")}.get(flag, flag)


def _term_table(title: str, terms, flags: bool) -> Table:
    table = Table(pgettext("heading", "key"), *LANGUAGES, pgettext("heading", "synonyms"),
                  *(_flag_heading(f) for f in (FLAGS if flags else ())), title=title)
    for t in terms:
        d = t.as_dict()
        table.add_row(d["key"], *(d["names"][lang] for lang in LANGUAGES), ", ".join(d["synonyms"]),
                      *((_("yes") if d[f] else "") for f in (FLAGS if flags else ())))
    return table


@category_app.command("list", help=N_("Every category with its display names, synonyms and flags."))
@reports_errors
def category_list(as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        words = graph.vocabulary()
    if as_json:
        print_json([t.as_dict() for t in words.categories.values()])
        return
    print_table(_term_table(ngettext("%(num)s category", "%(num)s categories", len(words.categories)), words.categories.values(), True))


@category_app.command("add", help=N_("Add a category."))
@reports_errors
def category_add(key: str = typer.Argument(..., help=N_("The key CIs carry (e.g. ornamental_railings)")),
                 name_en: Optional[str] = NAME_EN, name_zh_cn: Optional[str] = NAME_CN,
                 name_zh_tw: Optional[str] = NAME_TW,
                 synonyms: list[str] = typer.Option([], "--synonym", help=N_("Another word for it, "
                                                    "repeatable (Servers, 服务器, 伺服器)")),
                 network_gear: Optional[bool] = typer.Option(None, "--network-gear/--not-network-gear",
                                                             show_default=False),
                 takes_image: Optional[bool] = typer.Option(None, "--takes-image/--no-image",
                                                            show_default=False),
                 as_json: bool = JSON_OPTION):
    term = vocab.new_term(key, _names(name_en, name_zh_cn, name_zh_tw), synonyms,
                          _flags(network_gear, takes_image))
    with open_graph() as graph:
        vocab.add_category(graph, term)
    emit(as_json, term.as_dict(), _("added category %(key)s", key=term.key))


@category_app.command("rename", help=N_("Rename a category (every CI that has it changes, with "
                                        "history) or change its names."))
@reports_errors
def category_rename(key: str, new_key: Optional[str] = typer.Argument(None, help=N_("The new key "
                                                                       "(the old one stays a synonym)")),
                    name_en: Optional[str] = NAME_EN, name_zh_cn: Optional[str] = NAME_CN,
                    name_zh_tw: Optional[str] = NAME_TW,
                    synonyms: Optional[list[str]] = typer.Option(None, "--synonym",
                                                                 help=N_("Replace the synonyms, repeatable")),
                    network_gear: Optional[bool] = typer.Option(None, "--network-gear/--not-network-gear",
                                                                show_default=False),
                    takes_image: Optional[bool] = typer.Option(None, "--takes-image/--no-image",
                                                               show_default=False),
                    as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        term, rewritten = vocab.rename_category(
            graph, key, new_key, names=_names(name_en, name_zh_cn, name_zh_tw),
            synonyms=synonyms or None, flags=_flags(network_gear, takes_image), actor=cli_actor())
    emit(as_json, {"category": term.as_dict(), "cis_changed": rewritten},
         _("category %(key)s: %(changed)s", key=term.key,
           changed=ngettext("%(num)s CI changed", "%(num)s CIs changed", len(rewritten))))


@category_app.command("merge", help=N_("Merge SOURCE into INTO: its CIs move over (with history), "
                                       "its words become synonyms."))
@reports_errors
def category_merge(source: str, into: str, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        term, rewritten = vocab.merge_categories(graph, source, into, actor=cli_actor())
    emit(as_json, {"category": term.as_dict(), "cis_changed": rewritten},
         _("merged %(source)s into %(key)s: %(changed)s", source=source, key=term.key,
           changed=ngettext("%(num)s CI changed", "%(num)s CIs changed", len(rewritten))))


@category_app.command("delete", help=N_("Delete a category no CI uses (one in use: merge it into "
                                        "another)."))
@reports_errors
def category_delete(key: str, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        term = vocab.remove_category(graph, key)
    emit(as_json, {"deleted": term.key}, _("deleted category %(key)s", key=term.key))


@status_app.command("list", help=N_("The hardware statuses with their display names and the words "
                                    "that mean them."))
@reports_errors
def status_list(as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        words = graph.vocabulary()
    if as_json:
        print_json([t.as_dict() for t in words.statuses.values()])
        return
    print_table(_term_table(_("hardware statuses"), words.statuses.values(), False))


@status_app.command("add-word", help=N_("Let another tool's status labels mean one of the fixed "
                                        "states."))
@reports_errors
def status_add_word(state: str, words: list[str] = typer.Argument(..., help=N_("Labels from another "
                                                                  "tool that mean STATE")),
                    as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        term = vocab.add_status_words(graph, state, words)
    emit(as_json, term.as_dict(), f"{term.key}: {', '.join(term.synonyms)}")


@field_app.command("list", help=N_("Custom fields with their types, display names and choices."))
@reports_errors
def field_list(kind: Optional[str] = typer.Option(None, help=N_("Only this kind's fields")),
               as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        words = graph.vocabulary()
    fields = [f for k, fs in sorted(words.fields.items()) if kind is None or k.lower() == kind.lower()
              for f in fs.values()]
    if as_json:
        print_json([f.as_dict() for f in fields])
        return
    table = Table(pgettext("heading", "kind"), pgettext("heading", "name"), pgettext("heading", "type"),
                  *LANGUAGES, pgettext("heading", "choices"),
                  title=ngettext("%(num)s custom field", "%(num)s custom fields", len(fields)))
    for f in fields:
        d = f.as_dict()
        table.add_row(names.kind_name(d["kind"]), d["name"], names.field_type_name(d["type"]),
                      *(d["names"][lang] for lang in LANGUAGES),
                      ", ".join(d["choices"]))
    print_table(table)


@field_app.command("add", help=N_("Declare a custom field of a kind."))
@reports_errors
def field_add(kind: str = typer.Argument(..., help=N_("Location, Hardware, SoftwareImage or Application")),
              name: str = typer.Argument(..., help=N_("The field's name (also its column heading)")),
              type_: str = typer.Option("text", "--type", help=N_("text, integer, decimal, date, "
                                        "boolean or choice")),
              name_en: Optional[str] = NAME_EN, name_zh_cn: Optional[str] = NAME_CN,
              name_zh_tw: Optional[str] = NAME_TW,
              choices: list[str] = typer.Option([], "--choice", help=N_("An allowed value of a choice "
                                                "field, repeatable")),
              as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        declared = vocab.add_field(graph, kind_of(kind).label, name, type_,
                                   names=_names(name_en, name_zh_cn, name_zh_tw), choices=choices)
    emit(as_json, declared.as_dict(), _("added %(type)s field %(field)s", type=names.field_type_name(declared.type),
                                              field=f"{declared.kind}.{declared.name}"))


def register(app: typer.Typer) -> None:
    app.add_typer(category_app, name="category")
    app.add_typer(status_app, name="status")
    app.add_typer(field_app, name="field")
