"""``cmdb report monthly|quarterly|yearly``: the customer's service reports; ``cmdb report
demo-month``: a month of service records on the demo estate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer

from cmdb.i18n import _, N_
from cmdb.cli_support import JSON_OPTION, console, emit, open_graph, print_json, reports_errors
from cmdb.reports import data, render
from cmdb.reports.demo_month import seed_month

report_app = typer.Typer(no_args_is_help=True, help=N_("Service reports: monthly, quarterly, yearly."))

SCOPE = typer.Option(None, "--scope", help=N_("A location key (a customer's site); default: everything"))
OUTPUT = typer.Option(None, "-o", "--output", help=N_("Write .xlsx, .html or .pdf"))
LANGUAGE = typer.Option("en", "--language", help=N_("en, zh-CN or zh-TW"))


def _report(kind: str, label: str, scope: Optional[str], output: Optional[Path], language: str,
            as_json: bool) -> None:
    period = data.period_of(kind, label)
    render.check_language(language)
    fmt = render.format_of(output) if output is not None else None
    with open_graph() as graph:
        report = data.build(graph, period, scope, now=dt.datetime.now(dt.timezone.utc))
    if output is not None:
        output.write_bytes(render.render(report, fmt, language))
    totals = report.totals
    text = _("%(period)s: %(faults)s fault record(s), %(closed)s closed, %(breached)s with a breached "
             "target; %(rounds)s maintenance round(s), %(findings)s finding(s); %(warranty)s "
             "warranty(ies) ending next quarter", period=period.label, faults=totals["faults"],
             closed=totals["closed"], breached=totals["breached"], rounds=len(report.rounds),
             findings=len(report.findings), warranty=len(report.warranty)) + (
        _("; written to %(file)s", file=output) if output else "")
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(text, markup=False, highlight=False)


@report_app.command("monthly", help=N_("The monthly service and repair summary (月度服务总结)."))
@reports_errors
def monthly(month: str = typer.Option(..., "--month", help=N_("YYYY-MM")), scope: Optional[str] = SCOPE,
            output: Optional[Path] = OUTPUT, language: str = LANGUAGE, as_json: bool = JSON_OPTION):
    _report("month", month, scope, output, language, as_json)


@report_app.command("quarterly", help=N_("The quarterly report."))
@reports_errors
def quarterly(quarter: str = typer.Option(..., "--quarter", help=N_("YYYY-Qn")), scope: Optional[str] = SCOPE,
              output: Optional[Path] = OUTPUT, language: str = LANGUAGE, as_json: bool = JSON_OPTION):
    _report("quarter", quarter, scope, output, language, as_json)


@report_app.command("yearly", help=N_("The yearly report."))
@reports_errors
def yearly(year: str = typer.Option(..., "--year", help=N_("YYYY")), scope: Optional[str] = SCOPE,
           output: Optional[Path] = OUTPUT, language: str = LANGUAGE, as_json: bool = JSON_OPTION):
    _report("year", year, scope, output, language, as_json)


@report_app.command("demo-month", help=N_("Record a month of service work on the demo estate (load"
                                          " it first with `cmdb demo`)."))
@reports_errors
def demo_month(month: str = typer.Option(..., "--month", help=N_("YYYY-MM")), as_json: bool = JSON_OPTION):
    with open_graph() as graph:
        summary = seed_month(graph, month)
    emit(as_json, summary, _("%(month)s: %(faults)s fault records and %(rounds)s maintenance round over %(devices)s "
                             "devices recorded", month=month, faults=summary["faults"],
                             rounds=summary["rounds"], devices=summary["devices_checked"]))


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
