"""The warranty expiry report: hardware whose warranty ends within a window (from its warranty
contracts, else its own ``warranty_end``), with counts by site, vendor and category, as
XLSX, a self-contained HTML page or CSV. Text cells are neutralised against formula injection."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import xlsxwriter

from cmdb.errors import InvalidInput
from cmdb.graph import contracts as contract_store
from cmdb.graph import Graph
from cmdb.i18n import N_, _, html_lang, names
from cmdb.service.contracts import effective_warranty_end
from cmdb.service.records import today_or
from importers.values import neutralise

FORMATS = ("xlsx", "html", "csv")
MAX_WINDOW_DAYS = 3660
# Headings in the report's language (the current one when it is rendered).
COLUMNS = (("key", N_("Key")), ("name", N_("Name")), ("category", N_("Category")),
           ("vendor", N_("Vendor")), ("model", N_("Model")), ("status", N_("Status")),
           ("site", N_("Site")), ("location", N_("Location")),
           ("warranty_end", N_("Warranty ends")), ("days_left", N_("Days left")),
           ("contract", N_("Contract")), ("contract_vendor", N_("Contract vendor")))
GROUPS = (("site", N_("Site")), ("vendor", N_("Vendor")), ("category", N_("Category")))


def parse_window(text: str | int) -> int:
    """``90d``, ``12w``, ``6m`` (30 days each), ``1y`` or a number of days."""
    if isinstance(text, int) and not isinstance(text, bool):
        days = text
    else:
        match = re.fullmatch(r"\s*(\d{1,5})\s*([dwmy]?)\s*", str(text).lower())
        if not match:
            raise InvalidInput(_("--within %(text)s is not a period; write e.g. 90d, 12w, 6m or 1y",
                                 text=repr(text)),
                               field="within", value=text, allowed=_("N followed by d, w, m or y"))
        days = int(match.group(1)) * {"": 1, "d": 1, "w": 7, "m": 30, "y": 365}[match.group(2)]
    if not 0 <= days <= MAX_WINDOW_DAYS:
        raise InvalidInput(_("--within %(text)s is %(days)s days; at most %(max)s allowed",
                             text=repr(text), days=days, max=MAX_WINDOW_DAYS),
                           field="within", value=text, allowed=_("0-%(max)s days", max=MAX_WINDOW_DAYS))
    return days


def warranty_report(graph: Graph, within_days: int, today: dt.date | None = None) -> dict[str, Any]:
    day = today_or(today)
    until = day + dt.timedelta(days=within_days)
    coverage: dict[str, list[dict[str, Any]]] = {}
    for key, contract in contract_store.all_coverage(graph):
        coverage.setdefault(key, []).append(contract)
    items = []
    for hw in contract_store.hardware_warranties(graph):
        covering = coverage.get(hw["key"], [])
        end = effective_warranty_end(hw["warranty_end"], covering)
        if not end or not day.isoformat() <= end <= until.isoformat():
            continue
        warranty = [c for c in covering if c.get("type") == "warranty" and c.get("end") == end]
        items.append({**hw, "warranty_end": end,
                      "days_left": (dt.date.fromisoformat(end) - day).days,
                      "contract": warranty[0]["number"] if warranty else None,
                      "contract_vendor": warranty[0].get("vendor") if warranty else None})
    paths = graph.location_paths([i["key"] for i in items])
    for item in items:
        path = paths.get(item["key"], [])
        item["site"] = next((p.get("name") or p["key"] for p in path if p.get("type") == "site"),
                            path[0].get("name") or path[0]["key"] if path else None)
        item["location"] = path[-1]["key"] if path else None
    items.sort(key=lambda i: (i["warranty_end"], i["key"]))
    counts = {field: dict(sorted(Counter(i.get(field) or "(none)" for i in items).items()))
              for field, _heading in GROUPS}
    return {"as_of": day.isoformat(), "within_days": within_days, "until": until.isoformat(),
            "total": len(items), "items": items, "counts": counts}


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    suffix = "html" if suffix == "htm" else suffix
    if suffix not in FORMATS:
        raise InvalidInput(_("Cannot write a report as %(name)s; the file name must end in "
                             ".xlsx, .html or .csv", name=repr(Path(path).name)),
                           field="output", value=str(path),
                           allowed=list(FORMATS))
    return suffix


def _cell(field: str, value: Any) -> Any:
    """A cell of the spreadsheet or CSV as people read it (statuses and categories as words),
    never read as a formula."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return neutralise(_shown(field, value))


def _title(report: dict[str, Any]) -> str:
    return _("Warranties ending %(start)s – %(end)s (%(n)s)", start=report["as_of"],
             end=report["until"], n=report["total"])


def render(report: dict[str, Any], fmt: str) -> bytes:
    if fmt == "xlsx":
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False})
        bold = book.add_format({"bold": True})
        items = book.add_worksheet(_("Warranties"))
        items.write_string(0, 0, _title(report), bold)
        for col, (_field, heading) in enumerate(COLUMNS):
            items.write_string(1, col, _(heading), bold)
        for row, item in enumerate(report["items"], start=2):
            for col, (field, _heading) in enumerate(COLUMNS):
                _write(items, row, col, _cell(field, item.get(field)))
        summary = book.add_worksheet(_("Counts"))
        row = 0
        for field, heading in GROUPS:
            summary.write_string(row, 0, _(heading), bold)
            summary.write_string(row, 1, _("Count"), bold)
            for name, n in report["counts"][field].items():
                row += 1
                summary.write_string(row, 0, _cell(field, name))
                summary.write_number(row, 1, n)
            row += 2
        book.close()
        return buffer.getvalue()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([_(heading) for _field, heading in COLUMNS])
        for item in report["items"]:
            writer.writerow([_cell(field, item.get(field)) for field, _heading in COLUMNS])
        for field, heading in GROUPS:
            writer.writerow([])
            writer.writerow([_(heading), _("Count")])
            for name, n in report["counts"][field].items():
                writer.writerow([_cell(field, name), n])
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if fmt == "html":
        return render_html(report).encode("utf-8")
    raise InvalidInput(_("Unknown format %(format)s; allowed: %(allowed)s", format=repr(fmt),
                         allowed=", ".join(FORMATS)), field="format",
                       value=fmt, allowed=list(FORMATS))


def _write(ws, row: int, col: int, value: Any) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value)
    elif value:
        ws.write_string(row, col, value)


def _shown(field: str, value: Any) -> str:
    """A value as people read it: statuses and categories as words."""
    if value is None:
        return ""
    if field == "status":
        return names.status_name(value)
    if field == "category":
        return names.category_name(value)
    return str(value)


def render_html(report: dict[str, Any]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(_(h))}</th>" for _field, h in COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td>{esc(_shown(f, i.get(f)))}</td>"
                                    for f, _heading in COLUMNS) + "</tr>" for i in report["items"])
    groups = "".join(
        f"<table><caption>{esc(_(heading))}</caption><tr><th>{esc(_(heading))}</th><th>{esc(_('Count'))}</th></tr>"
        + "".join(f"<tr><td>{esc(_shown(field, name))}</td><td>{n}</td></tr>"
                  for name, n in report["counts"][field].items()) + "</table>"
        for field, heading in GROUPS)
    return (f"<!doctype html><html lang=\"{html_lang()}\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(_title(report))}</title><style>body{{font-family:sans-serif}}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:2px 6px}"
            f"</style></head><body><h1>{esc(_title(report))}</h1>{groups}"
            f"<table id=\"items\"><tr>{head}</tr>{rows}</table></body></html>")


def write_report(report: dict[str, Any], path: str | Path) -> str:
    fmt = format_of(path)
    Path(path).write_bytes(render(report, fmt))
    return fmt
