"""``cmdb round …``: maintenance rounds, device checks, schedules and overdue rounds."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from cmdb.i18n import _, N_, pgettext
from cmdb.i18n.names import frequency_name, round_status_name
from cmdb.cli_support import JSON_OPTION, emit, open_graph, print_json, print_table, reports_errors
from cmdb.errors import InvalidInput
from cmdb.faults.service import parse_time
from cmdb.levels.cli import cli_caller
from cmdb.levels.hours import CHINA
from cmdb.maintenance import service

round_app = typer.Typer(no_args_is_help=True,
                        help=N_("Maintenance rounds: start, check devices, open faults, close, schedules."))
AT_OPTION = typer.Option(None, "--at", help=N_("When, ISO 8601 with a zone; default: now"))


def _at(value: str | None) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) if value is None else parse_time(value, "--at")


def _summary(r: service.Round) -> str:
    p = r.progress()
    return _("%(id)s %(name)s (%(status)s, %(scope)s): %(checked)s of %(expected)s devices checked, "
             "%(failed)s with failed items", id=r.id, name=r.record["name"],
             status=round_status_name(r.record["status"]), scope=", ".join(r.record["scope"]),
             checked=p["checked"], expected=p["expected"], failed=p["failed"])


@round_app.command("start", help=N_("Start a round over the devices in the scope (the default "
                                    "checklists per category)."))
@reports_errors
def start(name: str, scope: list[str] = typer.Option(..., "--scope", help=N_("Location key; repeatable")),
          at: Optional[str] = AT_OPTION, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        r = service.start_round(graph, cli_caller(), name, scope=scope, at=_at(at))
    emit(as_json, r.as_dict(), _summary(r))


@round_app.command("check", help=N_("Record a device's pass/fail per checklist item."))
@reports_errors
def check(round_id: str, key: str,
          results: str = typer.Option(..., "--results", help=N_("One letter per checklist item: p (pass) "
                                      "or f (fail), e.g. ppfp")),
          note: list[str] = typer.Option([], "--note", help=N_("N=TEXT: a note on item N (from 1); repeatable")),
          at: Optional[str] = AT_OPTION, as_json: bool = JSON_OPTION):
    marks = results.strip().lower()
    if not marks or set(marks) - {"p", "f"}:
        raise InvalidInput(_("--results: %(value)s; use p or f per item, e.g. ppfp", value=repr(results)), field="--results")
    notes: dict[int, str] = {}
    for n in note:
        number, _, text = n.partition("=")
        if not number.strip().isdigit() or not 1 <= int(number) <= len(marks):
            raise InvalidInput(_("--note: %(value)s; use N=TEXT with N from 1 to %(count)s", value=repr(n), count=len(marks)), field="--note")
        notes[int(number) - 1] = text
    with open_graph() as graph:
        r = service.record_check(graph, cli_caller(), round_id, key,
                                 results=[(m == "p", notes.get(i, "")) for i, m in enumerate(marks)],
                                 at=_at(at))
    emit(as_json, r.as_dict(), _summary(r))


@round_app.command("fault", help=N_("Open a fault record for a failed item."))
@reports_errors
def fault(round_id: str, key: str, item: int = typer.Argument(..., help=N_("The failed item's number (from 1)")),
          severity: str = typer.Option("C", "--severity"), at: Optional[str] = AT_OPTION,
          as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        f = service.open_fault_for_item(graph, cli_caller(), round_id, key, item - 1, at=_at(at),
                                        severity=severity)
    emit(as_json, f.as_dict(), _("opened %(id)s on %(key)s: %(title)s", id=f.id, key=key, title=f.record["title"]))


@round_app.command("close", help=N_("Close a round."))
@reports_errors
def close(round_id: str, at: Optional[str] = AT_OPTION, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        r = service.close_round(graph, cli_caller(), round_id, at=_at(at))
    emit(as_json, r.as_dict(), _summary(r))


@round_app.command("list", help=N_("List rounds with their progress."))
@reports_errors
def list_rounds(as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        rounds = service.list_rounds(graph)
    if as_json:
        print_json([r.as_dict() for r in rounds])
        return
    table = Table(pgettext("heading", "id"), pgettext("heading", "name"), pgettext("heading", "status"), pgettext("heading", "scope"), pgettext("heading", "started"),
                  pgettext("heading", "expected"), pgettext("heading", "checked"), pgettext("heading", "failed"))
    for r in rounds:
        p = r.progress()
        table.add_row(*(Text(str(c)) for c in (r.id, r.record["name"], round_status_name(r.record["status"]),
                                               ", ".join(r.record["scope"]), r.record["started_at"][:10],
                                               p["expected"], p["checked"], p["failed"])))
    print_table(table)


@round_app.command("schedule", help=N_("Schedule monthly or quarterly rounds for a location."))
@reports_errors
def schedule(scope: str, frequency: str = typer.Option("monthly", "--every", help=N_("monthly or quarterly")),
             name: str = typer.Option("", "--name"), at: Optional[str] = AT_OPTION,
             as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        s = service.add_schedule(graph, cli_caller(), name, scope=scope, frequency=frequency, at=_at(at))
    emit(as_json, s, _("scheduled %(frequency)s rounds for %(scope)s", frequency=frequency_name(s["frequency"]), scope=s["scope"]))


@round_app.command("overdue", help=N_("Schedules whose last period ended without a round."))
@reports_errors
def overdue(today: Optional[str] = typer.Option(None, "--today", help=N_("YYYY-MM-DD; default: today")),
            as_json: bool = JSON_OPTION):
    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(CHINA).date()
    except ValueError:
        raise InvalidInput(_("--today: %(value)s is not a date", value=repr(today)), field="--today", value=today,
                           allowed="YYYY-MM-DD") from None
    with open_graph() as graph:
        rows = [s for s in service.schedule_status(graph, day) if s["overdue"]]
    if as_json:
        print_json(rows)
        return
    table = Table(pgettext("heading", "scope"), pgettext("heading", "every"), pgettext("heading", "name"), pgettext("heading", "last round"), pgettext("heading", "due this period"),
                  title=pgettext("heading", "overdue rounds"))
    for s in rows:
        table.add_row(*(Text(str(c)) for c in (s["scope"], frequency_name(s["frequency"]), s["name"],
                                               (s["last_round"] or "")[:10] or _("never"), s["due"])))
    print_table(table)


def register(app: typer.Typer) -> None:
    app.add_typer(round_app, name="round")
