"""``cmdb level …``: service levels, their assignment, and which applies to a CI."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from cmdb.i18n import _, N_, pgettext
from cmdb.i18n.names import criticality_name, level_name, service_hours_name
from cmdb.cli_support import JSON_OPTION, cli_actor, emit, open_graph, print_json, print_table, reports_errors
from cmdb.levels import service
from cmdb.policy import Caller

level_app = typer.Typer(no_args_is_help=True,
                        help=N_("Service levels: response, arrival and resolution targets; assignment."))


def cli_caller() -> Caller:
    """Whoever runs the command line on the register's machine administers it."""
    return Caller(cli_actor(), "admin")


def _minutes(value: int | None) -> str:
    if value is None:
        return "–"
    if value < 60:
        return _("%(minutes)s min", minutes=value)
    hours = _("%(hours)s h", hours=value // 60)
    return hours + (" " + _("%(minutes)s min", minutes=value % 60) if value % 60 else "")


def level_table(levels) -> Table:
    table = Table(pgettext("heading", "id"), pgettext("heading", "name"), pgettext("heading", "hours"), pgettext("heading", "respond"), pgettext("heading", "arrive"), pgettext("heading", "resolve"),
                  pgettext("heading", "applies to"))
    for lv in levels:
        applies = [*lv.assigned, *(_("department %(name)s", name=d) for d in lv.departments)]
        if lv.criticality:
            applies.append(_("%(criticality)s applications", criticality=criticality_name(lv.criticality)))
        if lv.is_default:
            applies.append(_("(default)"))
        table.add_row(*(Text(str(c)) for c in (
            lv.id, level_name(lv), service_hours_name(lv.hours), _minutes(lv.respond_minutes),
            _minutes(lv.arrive_minutes), _minutes(lv.resolve_minutes), ", ".join(applies))))
    return table


@level_app.command("defaults", help=N_("Create the contract's usual levels (标准 standard, 高级 "
                                       "advanced, VIP, 即时 immediate) that do not exist yet."))
@reports_errors
def defaults(as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        levels = service.install_defaults(graph, cli_caller())
    if as_json:
        print_json([lv.as_dict() for lv in levels])
        return
    print_table(level_table(levels))


@level_app.command("list", help=N_("List the service levels and what they are assigned to."))
@reports_errors
def list_levels(as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        levels = service.list_levels(graph)
    if as_json:
        print_json([lv.as_dict() for lv in levels])
        return
    print_table(level_table(levels))


@level_app.command("set", help=N_("Create or replace a service level."))
@reports_errors
def set_level(level_id: str = typer.Argument(..., help=N_("Short id, e.g. vip")),
              hours: str = typer.Option("5x8", "--hours", help=N_("Service hours: 5x8 or 7x24")),
              respond: int = typer.Option(..., "--respond", help=N_("Response target in minutes")),
              resolve: Optional[int] = typer.Option(None, "--resolve", help=N_("Resolution target in minutes")),
              arrive: Optional[int] = typer.Option(None, "--arrive", help=N_("On-site arrival target in minutes")),
              name_en: Optional[str] = typer.Option(None, "--name-en"),
              name_zh_cn: Optional[str] = typer.Option(None, "--name-zh-cn"),
              name_zh_tw: Optional[str] = typer.Option(None, "--name-zh-tw"),
              criticality: Optional[str] = typer.Option(None, "--criticality",
                                                        help=N_("Applications of this criticality get this level")),
              department: list[str] = typer.Option([], "--department", help=N_("A department whose devices "
                                                   "get this level; repeatable")),
              default: bool = typer.Option(False, "--default", help=N_("The level of CIs nothing else gives one")),
              as_json: bool = JSON_OPTION):
    level = service.level_from_input({
        "id": level_id, "hours": hours, "respond_minutes": respond, "resolve_minutes": resolve,
        "arrive_minutes": arrive, "name_en": name_en, "name_zh_cn": name_zh_cn,
        "name_zh_tw": name_zh_tw, "criticality": criticality, "departments": department,
        "is_default": default})
    with open_graph() as graph:
        saved = service.save_level(graph, cli_caller(), level)
    emit(as_json, saved.as_dict(), _("saved service level %(id)s", id=saved.id))


@level_app.command("assign", help=N_("Assign a level to CIs (a location passes it to everything "
                                     "inside it)."))
@reports_errors
def assign(level_id: str, keys: list[str] = typer.Argument(..., help=N_("CI keys: applications, "
                                                            "hardware or locations")),
           remove: bool = typer.Option(False, "--remove", help=N_("Take the level off these CIs")),
           as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        service.assign(graph, cli_caller(), level_id, keys, remove=remove)
    emit(as_json, {"level": level_id, "keys": keys, "removed": remove},
         _("removed %(level)s from %(keys)s", level=level_id, keys=", ".join(keys)) if remove
         else _("assigned %(level)s to %(keys)s", level=level_id, keys=", ".join(keys)))


@level_app.command("of", help=N_("The level that applies to a CI, and why."))
@reports_errors
def level_of(key: str, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        applied = service.applicable_level(graph, key)
    emit(as_json, applied.as_dict(), applied.reason_words())


def register(app: typer.Typer) -> None:
    app.add_typer(level_app, name="level")
