"""``cmdb audit …``: start, scan, import scans, reconcile, report, close, overdue."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from cmdb.cli_support import (
    JSON_OPTION, cli_actor, cli_language, console, emit, open_graph, print_json, print_table,
    reports_errors,
)
from cmdb.i18n import _, N_, pgettext, use_language
from cmdb.language_choice import parse_language
from cmdb.i18n.names import campaign_status_name, finding_name, reason_name, status_name
from cmdb.settings import get_settings

# Each command imports the modules it needs when it runs, so that every `cmdb` command (and
# --help) starts without loading pandas, FastAPI and every domain (start-up time).

audit_app = typer.Typer(no_args_is_help=True,
                        help=N_("Inventory audits: campaigns, scans, reconciliation, reports, corrections."))



def _add_row(table: Table, *cells) -> None:
    """Cells as plain text: names and notes are never read as Rich markup."""
    table.add_row(*(Text("" if c is None else str(c)) for c in cells))


AUDIT_ARG = typer.Argument(..., help=N_("Campaign id (or its name)"))


def _campaign_table(campaigns) -> Table:
    table = Table(pgettext("heading", "id"), pgettext("heading", "name"), pgettext("heading", "status"),
                  pgettext("heading", "scope"), pgettext("heading", "due"), pgettext("heading", "expected"),
                  pgettext("heading", "away"), pgettext("heading", "scans"), pgettext("heading", "started"))
    for c in campaigns:
        _add_row(table, c.id, c.name, campaign_status_name(c.status), ", ".join(c.scope) or _("(all)"),
                 c.due or "",
                      str(c.expected_count), str(c.away_count), str(c.scans), c.created_at[:16])
    return table


def _print_summary(summary: dict) -> None:
    c = summary["campaign"]
    pct = summary["verified_percent"]
    console.print(_("%(name)s (%(id)s, %(status)s): %(verified)s of %(expected)s expected verified",
                    name=c["name"], id=c["id"], status=campaign_status_name(c["status"]),
                    verified=summary["verified"], expected=summary["expected"])
                  + (f" ({pct}%)" if pct is not None else ""), markup=False)
    counts = Table(pgettext("heading", "finding"), pgettext("heading", "count"))
    for category, n in summary["counts"].items():
        _add_row(counts, finding_name(category), str(n))
    print_table(counts)
    if summary["by_site"]:
        table = Table(pgettext("heading", "site"), pgettext("heading", "building"), pgettext("heading", "expected"),
                      pgettext("heading", "verified"), "%", finding_name("missing"), finding_name("relocated"),
                      finding_name("unexpected"))
        for g in summary["by_site"]:
            _add_row(table, g["site_name"] or "-", g["building_name"] or "-", str(g["expected"]),
                          str(g["verified"]), "" if g["verified_percent"] is None else str(g["verified_percent"]),
                          str(g["missing"]), str(g["relocated"]), str(g["unexpected"]))
        print_table(table)


@audit_app.command("start", help=N_("Open a campaign: snapshot the hardware expected in the scope "
                                    "and where it should be."))
@reports_errors
def start(name: str = typer.Argument(..., help=N_("What to call the campaign, e.g. 'Spring 2026'")),
          scope: list[str] = typer.Option([], "--scope", help=N_("Location key whose subtree is audited "
                                          "(repeatable; default: the whole estate)")),
          due: Optional[str] = typer.Option(None, "--due", help=N_("Due date, YYYY-MM-DD")),
          as_json: bool = JSON_OPTION):
    from cmdb.audit.service import start_campaign

    with open_graph() as graph:
        campaign = start_campaign(graph, name, scope=scope, due=due, actor=cli_actor())
    if as_json:
        print_json(campaign.as_dict())
    else:
        console.print(_("started %(id)s (%(name)s): %(expected)s expected, %(away)s away in repair",
                        id=campaign.id, name=campaign.name, expected=campaign.expected_count,
                        away=campaign.away_count), markup=False)


@audit_app.command("list", help=N_("List campaigns, newest first."))
@reports_errors
def list_(as_json: bool = JSON_OPTION):
    from cmdb.audit.service import list_campaigns

    with open_graph() as graph:
        campaigns = list_campaigns(graph)
    if as_json:
        print_json([c.as_dict() for c in campaigns])
    else:
        print_table(_campaign_table(campaigns))


@audit_app.command("show", help=N_("Show one campaign."))
@reports_errors
def show(audit: str = AUDIT_ARG, as_json: bool = JSON_OPTION):
    from cmdb.audit.service import resolve_campaign

    with open_graph() as graph:
        campaign = resolve_campaign(graph, audit)
    if as_json:
        print_json(campaign.as_dict())
    else:
        print_table(_campaign_table([campaign]))
        if campaign.corrections:
            console.print(_("corrections: %(corrections)s", corrections=campaign.corrections),
                          markup=False)


@audit_app.command("scan", help=N_("Record one scan."))
@reports_errors
def scan(audit: str = AUDIT_ARG,
         tag: str = typer.Argument(..., help=N_("The asset tag read from the label (or the serial number)")),
         at: str = typer.Option(..., "--at", help=N_("Key of the location where it was found")),
         note: Optional[str] = typer.Option(None, "--note"),
         condition: Optional[str] = typer.Option(None, "--condition"),
         as_json: bool = JSON_OPTION):
    from cmdb.audit.service import record_scan, resolve_campaign

    with open_graph() as graph:
        campaign = resolve_campaign(graph, audit)
        scan_row = record_scan(graph, campaign.id, tag, at, actor=cli_actor(), note=note,
                               condition=condition, source="cli")
    if as_json:
        print_json(scan_row)
    else:
        console.print(_("recorded %(tag)s at %(location)s in %(id)s", tag=scan_row["tag"],
                        location=scan_row["location"], id=campaign.id), markup=False)


@audit_app.command("import-scans", help=N_("Import scans from a handheld scanner's file; importing"
                                           " it again adds nothing."))
@reports_errors
def import_scans(audit: str = AUDIT_ARG,
                 file: Path = typer.Argument(..., help=N_("Scanner export: CSV/XLSX with tag and location "
                                             "columns, or a plain list of tags (with --at)")),
                 at: Optional[str] = typer.Option(None, "--at", help=N_("Location of every scan (plain "
                                                  "lists) or of rows without one")),
                 as_json: bool = JSON_OPTION):
    from cmdb.audit.service import import_scans as run

    with open_graph() as graph:
        result = run(graph, audit, file, actor=cli_actor(), at=at, name=file.name)
    if as_json:
        print_json(result)
    else:
        console.print(_("%(rows)s rows: %(added)s scans added, %(already)s already recorded",
                        rows=result["rows"], added=result["added"],
                        already=result["already_recorded"])
                      + (_(", %(n)s repeated in the file", n=result["repeated_in_input"])
                         if result["repeated_in_input"] else ""), markup=False)


@audit_app.command("reconcile", help=N_("Expected against found: found, relocated, missing, "
                                        "unexpected, status mismatches, duplicates, away."))
@reports_errors
def reconcile(audit: str = AUDIT_ARG, as_json: bool = JSON_OPTION):
    from cmdb.audit.service import reconcile_campaign

    with open_graph() as graph:
        result = reconcile_campaign(graph, audit)
    if as_json:
        print_json(result)
        return
    _print_summary(result["summary"])
    for category in ("relocated", "missing", "unexpected", "status_mismatch", "duplicates"):
        entries = result[category]
        if not entries:
            continue
        table = Table(pgettext("heading", "key / tag"), pgettext("heading", "name"), pgettext("heading", "registered"),
                      pgettext("heading", "found"), pgettext("heading", "note"), title=finding_name(category))
        for e in entries[:50]:
            found = e.get("found_path") or "; ".join(e.get("found_paths") or [])
            note = (reason_name(e["reason"]) if e.get("reason") else
                    _("deleted from register") if e.get("deleted") else "")
            _add_row(table, e["key"] or e["tag"], e.get("name") or "", e.get("expected_path") or "",
                     found, note)
        print_table(table)
        if len(entries) > 50:
            console.print(_("… and %(n)s more (use --json or `cmdb audit report`)", n=len(entries) - 50),
                          markup=False)


@audit_app.command("report", help=N_("Write the reconciliation as a workbook, a single HTML file "
                                     "or CSV."))
@reports_errors
def report(audit: str = AUDIT_ARG,
           output: Path = typer.Option(..., "-o", "--output", help=N_("FILE.xlsx, FILE.html or FILE.csv")),
           language: Optional[str] = typer.Option(None, "--language", help=N_("en, zh_CN or zh_TW "
                                                  "(default: CMDB_LANGUAGE, else the command's)")),
           as_json: bool = JSON_OPTION):
    from cmdb.audit.reports import format_of, write_report
    from cmdb.audit.service import reconcile_campaign

    format_of(output)
    report_language = parse_language(language) if language else cli_language()
    with open_graph() as graph:
        result = reconcile_campaign(graph, audit)
    with use_language(report_language):
        fmt = write_report(result, output)
    emit(as_json, {"file": str(output), "format": fmt, "language": report_language,
                   "summary": result["summary"]}, _("wrote %(file)s", file=output))


@audit_app.command("close", help=N_("Close the campaign (no more scans) and correct the register "
                                    "as asked."))
@reports_errors
def close(audit: str = AUDIT_ARG,
          apply_relocations: bool = typer.Option(False, "--apply-relocations",
                                                 help=N_("Move relocated assets to where they were found")),
          mark_missing: bool = typer.Option(False, "--mark-missing",
                                            help=N_("Set status 'missing' on expected assets never scanned")),
          as_json: bool = JSON_OPTION):
    from cmdb.audit.service import close_campaign, resolve_campaign

    with open_graph() as graph:
        campaign = resolve_campaign(graph, audit)
        result = close_campaign(graph, campaign, actor=cli_actor(), settings=get_settings(),
                                apply_relocations=apply_relocations, mark_missing=mark_missing)
    if as_json:
        print_json(result)
    else:
        console.print(_("closed %(id)s: %(relocated)s relocated, %(missing)s marked missing, "
                        "%(audited)s audited (next audit due %(due)s)", id=campaign.id,
                        relocated=len(result["relocated"]), missing=len(result["marked_missing"]),
                        audited=result["audited"], due=result["next_audit_due"]), markup=False)


@audit_app.command("overdue", help=N_("Hardware due or past due for an audit; a never audited "
                                      "asset is due from the day it was registered "
                                      "(CMDB_AUDIT_FIRST_DUE_DAYS adds a grace period)."))
@reports_errors
def overdue(as_of: Optional[str] = typer.Option(None, "--as-of", help=N_("Date to check against "
                                                "(YYYY-MM-DD, default today)")),
            as_json: bool = JSON_OPTION):
    from cmdb.audit.service import overdue_assets

    with open_graph() as graph:
        rows = overdue_assets(graph, get_settings(), as_of)
    if as_json:
        print_json(rows)
        return
    table = Table(pgettext("heading", "key"), pgettext("heading", "name"), pgettext("heading", "status"),
                  pgettext("heading", "location"), pgettext("heading", "due"), pgettext("heading", "days overdue"),
                  pgettext("heading", "last audited"),
                  title=_("hardware due or overdue for an audit"))
    for r in rows:
        _add_row(table, r["key"], r["name"] or "", status_name(r["status"]), r["location_path"] or "",
                 r["due"], str(r["days_overdue"]),
                 r["last_audited_at"][:10] if r["last_audited_at"] else _("never audited"))
    print_table(table)
    never = sum(r["never_audited"] for r in rows)
    console.print(_("%(n)s due or overdue (%(never)s never audited)", n=len(rows), never=never),
                  markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
