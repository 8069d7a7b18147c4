"""``cmdb contract …``, ``cmdb warranty …``, ``cmdb repair …`` and ``cmdb spare …``.

The command line acts as the local administrator (like every other command); dates default
to today, and ``--as-of`` answers for another day (what will be overdue, what will expire).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from cmdb import policy
from cmdb.cli_support import (
    JSON_OPTION, cli_actor, console, emit, open_graph, parse_assignments, print_json, print_table,
    reports_errors,
)
from cmdb.errors import InvalidInput
from cmdb.i18n import _, N_
from cmdb.i18n.formats import format_date
from cmdb.i18n.names import (
    contract_type_name, overdue_reason_name, repair_outcome_name, repair_status_name,
)
from cmdb.settings import get_settings

contract_app = typer.Typer(no_args_is_help=True, help=N_("Contracts: warranty, maintenance, support, lease."))
warranty_app = typer.Typer(no_args_is_help=True, help=N_("Warranties: is it covered, what expires soon."))
repair_app = typer.Typer(no_args_is_help=True, help=N_("Repair orders: open, progress, send out, return, close."))
spare_app = typer.Typer(no_args_is_help=True, help=N_("Spares and loaners: mark, stock, issue, return."))

REPAIR_ARG = typer.Argument(..., help=N_("Repair order id, or the key of a CI with an open repair"))
AS_OF = typer.Option(None, "--as-of", help=N_("Answer for this day (YYYY-MM-DD) instead of today"))


def _caller() -> policy.Caller:
    return policy.Caller(cli_actor(), "admin")


def _day(value: Optional[str]) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(_("--as-of %(value)s is not a date; expected YYYY-MM-DD", value=repr(value)), field="as_of",
                           value=value) from None


def _row(table: Table, *cells: Any) -> None:
    table.add_row(*(Text("" if c is None else str(c)) for c in cells))


# --- contracts -------------------------------------------------------------------------------


@contract_app.command("add", help=N_("Register a contract (and the CIs it covers)."))
@reports_errors
def contract_add(number: str = typer.Argument(..., help=N_("The contract number")),
                 vendor: str = typer.Option(..., "--vendor"),
                 type_: str = typer.Option(..., "--type", help=N_("warranty, maintenance, support or lease")),
                 start: str = typer.Option(..., "--start", help=N_("YYYY-MM-DD")),
                 end: str = typer.Option(..., "--end", help=N_("YYYY-MM-DD")),
                 coverage: list[str] = typer.Option([], "--coverage", help=N_("hardware, software, "
                                                    "on_site, spare_first (repeatable)")),
                 covers: list[str] = typer.Option([], "--covers", help=N_("Key of a CI it covers (repeatable)")),
                 values: list[str] = typer.Option([], "--set", "-s", help=N_("NAME=VALUE: title, "
                                                  "response_hours, repair_hours, contacts, notes")),
                 as_json: bool = JSON_OPTION):
    from cmdb.service.contracts import add_contract

    fields = {"vendor": vendor, "type": type_, "start": start, "end": end,
              **({"coverage": coverage} if coverage else {}), **parse_assignments(values)}
    with open_graph() as graph:
        contract = add_contract(graph, _caller(), number, fields, covers)
    emit(as_json, contract, _("added contract %(number)s (%(type)s, %(start)s – %(end)s), covering "
                              "%(n)s CI(s)", number=contract["number"],
                              type=contract_type_name(contract["type"]), start=contract["start"],
                              end=contract["end"], n=len(contract["covers"])))


@contract_app.command("set", help=N_("Change a contract's fields; a new end moves its covered "
                                     "hardware's warranty_end."))
@reports_errors
def contract_set(number: str, values: list[str] = typer.Argument(..., help=N_("NAME=VALUE (NAME= removes it)")),
                 as_json: bool = JSON_OPTION):
    from cmdb.service.contracts import update_contract

    with open_graph() as graph:
        contract = update_contract(graph, _caller(), number, parse_assignments(values))
    emit(as_json, contract, _("updated contract %(number)s", number=number))


@contract_app.command("link", help=N_("Cover CIs by a contract (or, with --remove, no longer)."))
@reports_errors
def contract_link(number: str, keys: list[str] = typer.Argument(..., help=N_("Keys of the CIs it covers")),
                  remove: bool = typer.Option(False, "--remove", help=N_("No longer cover them")),
                  as_json: bool = JSON_OPTION):
    from cmdb.service.contracts import link_contract

    with open_graph() as graph:
        contract = link_contract(graph, _caller(), number, keys, remove=remove)
    emit(as_json, contract, _("contract %(number)s now covers %(n)s CI(s)", number=number,
                              n=len(contract["covers"])))


@contract_app.command("list", help=N_("List contracts, soonest end first."))
@reports_errors
def contract_list(type_: Optional[str] = typer.Option(None, "--type"),
                  vendor: Optional[str] = typer.Option(None, "--vendor"),
                  expiring: Optional[str] = typer.Option(None, "--expiring", help=N_("Only those ending "
                                                         "within this period, e.g. 90d")),
                  as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.contracts import list_contracts
    from cmdb.service.warranty import parse_window

    days = parse_window(expiring) if expiring else None
    with open_graph() as graph:
        rows = list_contracts(graph, type=type_, vendor=vendor, expiring_within_days=days,
                              today=_day(as_of))
    if as_json:
        print_json(rows)
        return
    table = Table(_("number"), _("type"), _("vendor"), _("start"), _("end"), _("in force"), _("covers"),
                  title=_("%(n)s contract(s)", n=len(rows)))
    for r in rows:
        _row(table, r["number"], contract_type_name(r["type"]), r["vendor"], r["start"], r["end"],
             _("yes") if r["in_force"] else _("no"), r["covered"])
    print_table(table)


@contract_app.command("show", help=N_("Show a contract and the CIs it covers."))
@reports_errors
def contract_show(number: str, as_json: bool = JSON_OPTION):
    from cmdb.service.contracts import get_contract

    with open_graph() as graph:
        contract = get_contract(graph, number)
    if as_json:
        print_json(contract)
        return
    table = Table(title=_("contract %(number)s", number=number), show_header=False)
    for name, value in contract.items():
        if name != "covers":
            shown = contract_type_name(value) if name == "type" else value
            _row(table, name, "; ".join(value) if isinstance(value, list) else shown)
    _row(table, _("covers"), ", ".join(contract["covers"]) or "—")
    print_table(table)


# --- warranty ------------------------------------------------------------------------------------


@warranty_app.command("show", help=N_("Is KEY under warranty, and under which contract?"))
@reports_errors
def warranty_show(key: str, as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.contracts import warranty_of

    with open_graph() as graph:
        answer = warranty_of(graph, key, _day(as_of))
    contract = answer["contract"]
    text = (_("%(key)s: in warranty until %(date)s", key=key, date=format_date(answer["until"]))
            + (_(" — contract %(number)s (%(vendor)s, %(type)s)", number=contract["number"],
                 vendor=contract["vendor"], type=contract_type_name(contract["type"]))
               if contract else _(" (its warranty_end; no contract in force)"))
            if answer["under_warranty"] else
            _("%(key)s: out of warranty", key=key)
            + (_(" (ended %(date)s)", date=format_date(answer["until"])) if answer["until"] else ""))
    emit(as_json, answer, text)


@warranty_app.command("report", help=N_("Hardware whose warranty ends within the period, with "
                                        "counts by site, vendor, category."))
@reports_errors
def warranty_report(within: str = typer.Option("90d", "--within", help=N_("Period: 90d, 12w, 6m, 1y")),
                    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                                          help=N_("Write .xlsx, .html or .csv")),
                    as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service import warranty

    days = warranty.parse_window(within)
    if output is not None:
        warranty.format_of(output)
    with open_graph() as graph:
        report = warranty.warranty_report(graph, days, _day(as_of))
    if output is not None:
        fmt = warranty.write_report(report, output)
        if not as_json:
            console.print(_("wrote %(n)s CI(s) to %(file)s (%(format)s)", n=report["total"], file=output,
                            format=fmt), markup=False)
    if as_json:
        print_json(report)
        return
    if output is not None:
        return
    table = Table(_("key"), _("name"), _("category"), _("vendor"), _("site"), _("warranty ends"),
                  _("days left"), _("contract"),
                  title=_("%(n)s warranty(ies) ending %(start)s – %(end)s", n=report["total"],
                          start=report["as_of"], end=report["until"]))
    for i in report["items"]:
        _row(table, i["key"], i["name"], i["category"], i["vendor"], i["site"], i["warranty_end"],
             i["days_left"], i["contract"])
    print_table(table)
    for field, counts in report["counts"].items():
        heading = {"site": _("site"), "vendor": _("vendor"), "category": _("category")}.get(field, field)
        counted = Table(heading, _("count"), title=_("by %(field)s", field=heading))
        for name, n in counts.items():
            _row(counted, name, n)
        print_table(counted)


# --- repairs -----------------------------------------------------------------------------------


def _repair_text(r: dict[str, Any]) -> str:
    warranty = (_("under warranty until %(date)s", date=r.get("warranty_until"))
                + (_(", contract %(number)s", number=r["contract"]) if r.get("contract") else "")
                if r.get("under_warranty") else _("not under warranty"))
    where = (_(", sent to %(to)s (due back %(due)s)", to=r["sent_to"], due=r["due_back"])
             if r.get("sent_to") else "")
    return _("repair %(id)s on %(key)s: %(status)s, %(warranty)s%(where)s", id=r["id"], key=r["key"],
             status=repair_status_name(r["status"]), warranty=warranty, where=where)


@repair_app.command("open", help=N_("Open a repair order: the unit becomes in_repair; warranty is "
                                    "answered at once."))
@reports_errors
def repair_open(key: str, fault: str = typer.Option(..., "--fault", help=N_("What is wrong")),
                send_to: Optional[str] = typer.Option(None, "--send-to", help=N_("Vendor or repairer "
                                                      "it is sent to")),
                as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.repairs import open_repair

    with open_graph() as graph:
        repair = open_repair(graph, _caller(), key, fault, send_to=send_to,
                             settings=get_settings(), today=_day(as_of))
    emit(as_json, repair, _("opened %(repair)s", repair=_repair_text(repair)))


@repair_app.command("note", help=N_("Write a progress note."))
@reports_errors
def repair_note(repair_id: str = REPAIR_ARG, text: str = typer.Argument(..., help=N_("The progress note")),
                as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.repairs import add_note, resolve

    with open_graph() as graph:
        repair = add_note(graph, _caller(), resolve(graph, repair_id), text, settings=get_settings(), today=_day(as_of))
    emit(as_json, repair, _("noted on %(id)s; next note due %(due)s", id=repair["id"],
                            due=repair.get("progress_due")))


@repair_app.command("send", help=N_("Send the unit out; it is due back within the configured "
                                    "working days."))
@reports_errors
def repair_send(repair_id: str = REPAIR_ARG, to: str = typer.Option(..., "--to", help=N_("Vendor or repairer")),
                as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.repairs import send_out, resolve

    with open_graph() as graph:
        repair = send_out(graph, _caller(), resolve(graph, repair_id), to, settings=get_settings(), today=_day(as_of))
    emit(as_json, repair, _("sent %(repair)s", repair=_repair_text(repair)))


@repair_app.command("return", help=N_("The unit is back; spares standing in for it go back to "
                                      "stock."))
@reports_errors
def repair_return(repair_id: str = REPAIR_ARG, cost: Optional[float] = typer.Option(None, "--cost", min=0),
                  note: Optional[str] = typer.Option(None, "--note"),
                  as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.repairs import record_return, resolve

    with open_graph() as graph:
        repair = record_return(graph, _caller(), resolve(graph, repair_id), cost=cost, note=note,
                               settings=get_settings(), today=_day(as_of))
    emit(as_json, repair, _("returned %(repair)s", repair=_repair_text(repair)))


@repair_app.command("close", help=N_("Close: repaired puts the unit back to its status; "
                                     "replaced/written_off retires it."))
@reports_errors
def repair_close(repair_id: str = REPAIR_ARG, outcome: str = typer.Option(..., "--outcome", help=N_("repaired, "
                                                             "replaced or written_off")),
                 cost: Optional[float] = typer.Option(None, "--cost", min=0),
                 note: Optional[str] = typer.Option(None, "--note"),
                 as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.repairs import close_repair, resolve

    with open_graph() as graph:
        repair = close_repair(graph, _caller(), resolve(graph, repair_id), outcome, cost=cost, note=note,
                              settings=get_settings(), today=_day(as_of))
    emit(as_json, repair, _("closed repair %(id)s on %(key)s: %(outcome)s", id=repair["id"],
                            key=repair["key"], outcome=repair_outcome_name(repair["outcome"])))


def _repairs_table(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(_("id"), _("key"), _("status"), _("fault"), _("sent to"), _("due back"),
                  _("progress due"), _("overdue"), title=title)
    for r in rows:
        _row(table, r["id"], r["key"], repair_status_name(r["status"]), r["fault"], r.get("sent_to"),
             r.get("due_back"), r.get("progress_due"),
             ", ".join(overdue_reason_name(x) for x in r["overdue_reasons"]))
    print_table(table)


@repair_app.command("list", help=N_("List repair orders, newest first."))
@reports_errors
def repair_list(status: Optional[str] = typer.Option(None, "--status", help=N_("open, sent_out, "
                                                     "returned or closed")),
                key: Optional[str] = typer.Option(None, "--key", help=N_("Only this CI's repairs")),
                as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.repairs import list_repairs

    with open_graph() as graph:
        rows = list_repairs(graph, status=status, key=key, settings=get_settings(), today=_day(as_of))
    if as_json:
        print_json(rows)
        return
    _repairs_table(rows, _("%(n)s repair order(s)", n=len(rows)))


@repair_app.command("show", help=N_("Show a repair order with its progress notes."))
@reports_errors
def repair_show(repair_id: str = REPAIR_ARG, as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.repairs import get_repair, resolve

    with open_graph() as graph:
        repair = get_repair(graph, resolve(graph, repair_id), settings=get_settings(), today=_day(as_of))
    if as_json:
        print_json(repair)
        return
    table = Table(title=_("repair %(id)s", id=repair_id), show_header=False)
    for name, value in repair.items():
        if name != "notes":
            shown = (repair_status_name(value) if name == "status" else
                     repair_outcome_name(value) if name == "outcome" else value)
            _row(table, name, shown)
    print_table(table)
    notes = Table(_("on"), _("by"), _("note"), title=_("progress notes"))
    for n in repair["notes"]:
        _row(notes, n["on"], n["by"], n["text"])
    print_table(notes)


@repair_app.command("overdue", help=N_("Repairs whose progress note or return is overdue (working "
                                       "days)."))
@reports_errors
def repair_overdue(as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.repairs import overdue

    with open_graph() as graph:
        rows = overdue(graph, settings=get_settings(), today=_day(as_of))
    if as_json:
        print_json(rows)
        return
    _repairs_table(rows, _("%(n)s overdue repair order(s)", n=len(rows)))


# --- spares ------------------------------------------------------------------------------------


@spare_app.command("mark", help=N_("Mark hardware a spare in stock (or, with --unmark, no longer)."))
@reports_errors
def spare_mark(key: str, location: Optional[str] = typer.Option(None, "--location", help=N_("Stock location")),
               model: Optional[str] = typer.Option(None, "--model", help=N_("Model it is a spare for "
                                                   "(default: its own)")),
               unmark: bool = typer.Option(False, "--unmark", help=N_("No longer a spare")),
               as_json: bool = JSON_OPTION):
    from cmdb.service.spares import mark_spare

    with open_graph() as graph:
        row = mark_spare(graph, _caller(), key, location=location, model=model, unmark=unmark)
    emit(as_json, row, _("%(key)s is no longer a spare", key=key) if unmark else
         _("%(key)s is a spare of %(model)s", key=key, model=row["spare_model"])
         + (_(" at %(location)s", location=row["location"]) if row.get("location") else ""))


@spare_app.command("stock", help=N_("Spares in stock per model and location, against the minimum."))
@reports_errors
def spare_stock(minimum: Optional[str] = typer.Option(None, "--min", help=N_("Set a minimum: "
                                                      "MODEL@LOCATION=N")),
                as_json: bool = JSON_OPTION):
    from cmdb.service.spares import set_minimum, stock

    with open_graph() as graph:
        if minimum is not None:
            target, _sep, number = minimum.rpartition("=")
            model, _sep, location = target.rpartition("@")
            if not model or not location or not number.strip().isdigit():
                raise InvalidInput(_("--min %(value)s: write MODEL@LOCATION=N", value=repr(minimum)), field="min",
                                   value=minimum)
            set_minimum(graph, _caller(), model, location, int(number))
        rows = stock(graph)
    if as_json:
        print_json(rows)
        return
    table = Table(_("model"), _("location"), _("in stock"), _("issued"), _("minimum"), _("short"),
                  title=_("spare stock"))
    for r in rows:
        _row(table, r["model"], r["location"], r["in_stock"], r["issued"],
             "" if r["minimum"] is None else r["minimum"], r["short"] or "")
    print_table(table)


@spare_app.command("issue", help=N_("Issue a spare against a repair: it stands in for the unit, at"
                                    " the unit's place."))
@reports_errors
def spare_issue(repair_id: str = REPAIR_ARG, spare: str = typer.Argument(..., help=N_("Key of the spare")),
                slip: Optional[Path] = typer.Option(None, "--slip", help=N_("Write the slip PDF here")),
                as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.repairs import resolve
    from cmdb.service.spares import issue_slip, issue_spare

    with open_graph() as graph:
        issue = issue_spare(graph, _caller(), resolve(graph, repair_id), spare, today=_day(as_of))
        if slip is not None:
            slip.write_bytes(issue_slip(graph, issue["id"], get_settings().label_font))
    emit(as_json, issue, _("issued %(spare)s (%(id)s) for %(unit)s at %(location)s", spare=issue["spare"],
                           id=issue["id"], unit=issue["unit"],
                           location=issue.get("to_location") or _("(no location)"))
         + (_("; slip written to %(file)s", file=slip) if slip else ""))


@spare_app.command("return", help=N_("Swap a spare back to its stock location."))
@reports_errors
def spare_return(issue_id: str = typer.Argument(..., help=N_("Spare issue id, or the key of the spare")), slip: Optional[Path] = typer.Option(None, "--slip", help=N_("Write "
                                                                    "the slip PDF here")),
                 as_of: Optional[str] = AS_OF, as_json: bool = JSON_OPTION):
    from cmdb.service.spares import issue_slip, resolve_issue, return_spare

    with open_graph() as graph:
        issue = return_spare(graph, _caller(), resolve_issue(graph, issue_id), today=_day(as_of))
        if slip is not None:
            slip.write_bytes(issue_slip(graph, issue["id"], get_settings().label_font))
    emit(as_json, issue, _("returned %(spare)s to %(location)s", spare=issue["spare"],
                           location=issue.get("from_location") or _("stock")))


@spare_app.command("slip", help=N_("Write the slip (PDF) of an issue, with signature lines."))
@reports_errors
def spare_slip(issue_id: str = typer.Argument(..., help=N_("Spare issue id, or the key of a spare out on issue")),
               output: Path = typer.Option(..., "-o", "--output")):
    from cmdb.service.spares import issue_slip, resolve_issue

    with open_graph() as graph:
        output.write_bytes(issue_slip(graph, resolve_issue(graph, issue_id), get_settings().label_font))
    console.print(_("wrote %(file)s", file=output), markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")
    app.add_typer(warranty_app, name="warranty")
    app.add_typer(repair_app, name="repair")
    app.add_typer(spare_app, name="spare")
