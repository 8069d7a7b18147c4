"""``cmdb fault …``: open, assign, arrive, note, resolve, close, list and show fault records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from cmdb.i18n import _, N_, pgettext
from cmdb.i18n.names import clock_name, clock_state_name, fault_status_name, level_name
from cmdb.cli_support import JSON_OPTION, console, emit, open_graph, print_json, print_table, reports_errors
from cmdb.errors import InvalidInput
from cmdb.faults import service
from cmdb.levels.cli import cli_caller

fault_app = typer.Typer(no_args_is_help=True,
                        help=N_("Fault records (故障处理工作单): open, assign, arrive, resolve, close, list."))

AT_OPTION = typer.Option(None, "--at", help=N_("When it happened, ISO 8601 with a zone "
                         "(e.g. 2026-09-24T16:30+08:00); default: now"))
FAULT_ARG = typer.Argument(..., help=N_("Fault record id, e.g. F-202609-0001"))


def _at(value: str | None) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) if value is None else service.parse_time(value, "--at")


def _state(clock: dict) -> str:
    if clock["state"] == "no_target":
        return "–"
    word = clock_state_name(clock["state"])
    return word.upper() if clock["state"] in ("at_risk", "breached") else word


def _summary(fault: service.Fault) -> str:
    r = fault.record
    clocks = ", ".join(f"{clock_name(name)} {_state(c)}" for name, c in fault.clocks.items()
                       if c["state"] != "no_target")
    return _("%(id)s [%(severity)s] %(status)s on %(keys)s (%(level)s): %(clocks)s", id=r["id"],
             severity=r["severity"], status=fault_status_name(r["status"]), keys=", ".join(r["keys"]),
             level=level_name(r) or _("no service level"), clocks=clocks)


def _emit(as_json: bool, fault: service.Fault) -> None:
    emit(as_json, fault.as_dict(), _summary(fault))


@fault_app.command("open", help=N_("Open a fault record; the strictest service level of its CIs "
                                   "starts its clocks."))
@reports_errors
def open_fault(keys: list[str] = typer.Argument(..., help=N_("Keys of the CIs at fault")),
               title: str = typer.Option(..., "--title", help=N_("What is wrong, in a line")),
               severity: str = typer.Option(..., "--severity", help=N_("A, B, C or D")),
               reported_by: str = typer.Option(..., "--reported-by", help=N_("Who reported it")),
               via: str = typer.Option("phone", "--via", help=N_("scan, phone, api, cli or maintenance")),
               description: str = typer.Option("", "--description"),
               repair_order: Optional[str] = typer.Option(None, "--repair-order",
                                                          help=N_("A linked repair order's number")),
               at: Optional[str] = AT_OPTION, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        fault = service.open_fault(graph, cli_caller(), keys=keys, title=title, severity=severity,
                                   reported_by=reported_by, reported_via=via, at=_at(at),
                                   description=description, repair_order=repair_order)
    _emit(as_json, fault)


@fault_app.command("assign", help=N_("Dispatch an engineer (stops the response clock)."))
@reports_errors
def assign(fault_id: str = FAULT_ARG, engineer: str = typer.Option(..., "--to", help=N_("The engineer")),
           at: Optional[str] = AT_OPTION, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        _emit(as_json, service.assign(graph, cli_caller(), fault_id, engineer=engineer, at=_at(at)))


@fault_app.command("arrive", help=N_("The engineer is on site (stops the arrival clock)."))
@reports_errors
def arrive(fault_id: str = FAULT_ARG, at: Optional[str] = AT_OPTION, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        _emit(as_json, service.arrive(graph, cli_caller(), fault_id, at=_at(at)))


@fault_app.command("note", help=N_("Record an action taken."))
@reports_errors
def note(fault_id: str = FAULT_ARG, text: str = typer.Argument(..., help=N_("What was done")),
         at: Optional[str] = AT_OPTION, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        _emit(as_json, service.add_action(graph, cli_caller(), fault_id, text=text, at=_at(at)))


@fault_app.command("resolve", help=N_("Resolved (stops the resolution clock); the observation "
                                      "period starts."))
@reports_errors
def resolve(fault_id: str = FAULT_ARG,
            resolution: str = typer.Option(..., "--resolution", help=N_("How it was fixed")),
            observe_hours: float = typer.Option(service.DEFAULT_OBSERVATION_HOURS, "--observe-hours",
                                                help=N_("Observation period before it can be closed")),
            at: Optional[str] = AT_OPTION, as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        _emit(as_json, service.resolve(graph, cli_caller(), fault_id, resolution=resolution,
                                       at=_at(at), observe_hours=observe_hours))


@fault_app.command("close", help=N_("Close after the observation period, with the customer's sign-"
                                    "off."))
@reports_errors
def close(fault_id: str = FAULT_ARG,
          signed_by: str = typer.Option(..., "--signed-by", help=N_("The customer who signs it off")),
          signature: Optional[Path] = typer.Option(None, "--signature", help=N_("PNG of the signature")),
          at: Optional[str] = AT_OPTION, as_json: bool = JSON_OPTION):
    png = None
    if signature is not None:
        if not signature.is_file():
            raise InvalidInput(_("--signature: no file %(file)s", file=signature), field="--signature", value=str(signature))
        png = signature.read_bytes()[:service.SIGNATURE_MAX_BYTES + 1]
    with open_graph() as graph:
        _emit(as_json, service.close(graph, cli_caller(), fault_id, signed_by=signed_by,
                                     at=_at(at), signature_png=png))


@fault_app.command("show", help=N_("A fault record with its clocks and history."))
@reports_errors
def show(fault_id: str = FAULT_ARG, at: Optional[str] = typer.Option(
             None, "--at", help=N_("Clocks as at this moment (default: now)")),
         as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        fault = service.get(graph, fault_id, _at(at))
        history = service.history(graph, fault_id)
    if as_json:
        print_json({**fault.as_dict(), "history": history})
        return
    console.print(_summary(fault), markup=False, highlight=False)
    table = Table(pgettext("heading", "clock"), pgettext("heading", "target (min)"),
                  pgettext("heading", "elapsed (min)"), pgettext("heading", "due"), pgettext("heading", "state"))
    for name, c in fault.clocks.items():
        table.add_row(clock_name(name), str(c["target_minutes"] or "–"), str(c["elapsed_minutes"]),
                      c["due_at"] or "", _state(c))
    print_table(table)
    steps = Table(pgettext("heading", "at"), pgettext("heading", "who"), pgettext("heading", "what"))
    for h in history:
        steps.add_row(h["at"][:19], Text(h.get("actor", "")), Text(h.get("after", "")[:100]))
    print_table(steps)


@fault_app.command("list", help=N_("List fault records with their clock states, newest first."))
@reports_errors
def list_faults(status: Optional[str] = typer.Option(None, "--status", help=N_("open, assigned, on_site, "
                                                     "resolved or closed")),
                open_only: bool = typer.Option(False, "--open", help=N_("Only those not closed")),
                key: Optional[str] = typer.Option(None, "--ci", help=N_("Only those on this CI")),
                at: Optional[str] = typer.Option(None, "--at", help=N_("Clocks as at this moment")),
                as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        faults = service.list_faults(graph, _at(at), status=status, open_only=open_only, key=key)
    if as_json:
        print_json([f.as_dict() for f in faults])
        return
    table = Table(pgettext("heading", "id"), pgettext("heading", "sev"), pgettext("heading", "status"),
                  pgettext("heading", "CIs"), pgettext("heading", "title"), pgettext("heading", "level"),
                  *(clock_name(c) for c in ("response", "arrival", "resolution")),
                  title=pgettext("heading", "fault records"))
    for f in faults:
        r = f.record
        table.add_row(*(Text(str(c)) for c in (
            r["id"], r["severity"], fault_status_name(r["status"]), ", ".join(r["keys"]), r["title"],
            level_name(r) or "–", *(_state(c) for c in f.clocks.values()))))
    print_table(table)


def register(app: typer.Typer) -> None:
    app.add_typer(fault_app, name="fault")
