"""Reconciliation reports: XLSX (summary sheet with a chart, one sheet per category), a
single self-contained HTML file (inline SVG chart, no external resources) and CSV.

Every text cell is neutralised against formula injection (a leading = + - @ tab CR LF gets
an apostrophe) and, in HTML, escaped. Headings, findings, statuses and dates are in the current
language (the caller chooses it with ``cmdb.i18n.use_language``); the CSV's first column keeps
the finding's code, for filtering.
"""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path
from typing import Any

import xlsxwriter

from cmdb.audit.reconcile import CATEGORIES
from cmdb.errors import InvalidInput
from cmdb.i18n import _, current_language, html_lang, pgettext
from cmdb.i18n.formats import format_date, format_datetime
from cmdb.i18n.names import campaign_status_name, finding_name, reason_name, status_name
from importers.values import neutralise

FORMATS = ("xlsx", "html", "csv")


def titles() -> dict[str, str]:
    """Each finding's title, in the current language."""
    return {c: finding_name(c) for c in CATEGORIES}


def columns() -> tuple[tuple[str, str], ...]:
    return (("key", pgettext("report", "Key")), ("tag", pgettext("report", "Scanned tag")),
            ("name", pgettext("report", "Name")),
            ("registered_status", pgettext("report", "Registered status")),
            ("expected_location", pgettext("report", "Registered location")),
            ("expected_path", pgettext("report", "Registered path")),
            ("found_location", pgettext("report", "Found location")),
            ("found_path", pgettext("report", "Found path")),
            ("scanned_at", pgettext("report", "Scanned at")),
            ("scanned_by", pgettext("report", "Scanned by")), ("scans", pgettext("report", "Scans")),
            ("label_missing", pgettext("report", "Label missing")),
            ("deleted", pgettext("report", "Deleted from register")),
            ("reason", pgettext("report", "Reason")), ("condition", pgettext("report", "Condition")),
            ("note", pgettext("report", "Note")))


def summary_columns() -> tuple[tuple[str, str], ...]:
    return (("site_name", pgettext("report", "Site")), ("building_name", pgettext("report", "Building")),
            ("expected", pgettext("report", "Expected")), ("verified", pgettext("report", "Verified")),
            ("verified_percent", pgettext("report", "Verified %")),
            *((c, finding_name(c)) for c in CATEGORIES))


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "htm":
        suffix = "html"
    if suffix not in FORMATS:
        raise InvalidInput(_("Cannot write a report as %(name)s; the file name must end in .xlsx, "
                             ".html or .csv", name=repr(Path(path).name)), field="output", value=str(path),
                           allowed=list(FORMATS))
    return suffix


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    return str(value)


def cell(entry: dict[str, Any], field: str) -> Any:
    """One exported cell: numbers stay numbers, text is neutralised."""
    if field in ("found_location", "found_path") and entry.get(field) is None:
        field = {"found_location": "found_locations", "found_path": "found_paths"}[field]
    value = entry.get(field)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if field == "registered_status":
        value = status_name(value)
    elif field == "reason":
        value = reason_name(value)
    elif field == "scanned_at" and value:
        value = format_datetime(value)
    return neutralise(_text(value))


def _place_label(group: dict[str, Any]) -> str:
    parts = [p for p in (group.get("site_name"), group.get("building_name")) if p]
    return " / ".join(parts) if parts else _("(no location)")


def _overview(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    c = summary["campaign"]
    rows: list[tuple[str, Any]] = [
        (pgettext("report", "Campaign"), f"{c['name']} ({c['id']})"),
        (pgettext("report", "Status"), campaign_status_name(c["status"])),
        (pgettext("report", "Scope"), ", ".join(c["scope"]) or _("whole estate")),
        (pgettext("report", "Started"), format_datetime(c["started_at"])),
        (pgettext("report", "Due"), format_date(c["due"]) if c["due"] else ""),
        (pgettext("report", "Expected"), summary["expected"]),
        (pgettext("report", "Verified"), summary["verified"]),
        (pgettext("report", "Verified %"),
         summary["verified_percent"] if summary["verified_percent"] is not None else ""),
        (pgettext("report", "Scans"), summary["scans"]),
        (pgettext("report", "Labels missing"), summary["label_missing"]),
        (pgettext("report", "Deleted from register since the start"), summary["deleted_from_register"]),
    ]
    rows += [(finding_name(k), v) for k, v in summary["counts"].items()]
    return rows


# --- XLSX --------------------------------------------------------------------------------


def write_xlsx(result: dict[str, Any], target: str | Path | io.BytesIO) -> None:
    wb = xlsxwriter.Workbook(target if not isinstance(target, Path) else str(target),
                             {"strings_to_formulas": False, "strings_to_urls": False,
                              "strings_to_numbers": False, "constant_memory": False})
    bold = wb.add_format({"bold": True})
    summary = result["summary"]
    summary_title = _xlsx_sheet_name(pgettext("report", "Summary"))
    summary_columns_ = summary_columns()
    ws = wb.add_worksheet(summary_title)
    ws.set_column(0, 0, 36)
    ws.set_column(1, 12, 14)
    row = 0
    for label, value in _overview(summary):
        ws.write_string(row, 0, neutralise(label), bold)
        _write(ws, row, 1, value if isinstance(value, (int, float)) else neutralise(_text(value)))
        row += 1
    row += 1
    header_row = row
    for col, (_field, title) in enumerate(summary_columns_):
        ws.write_string(row, col, title, bold)
    groups = summary["by_site"]
    for group in groups:
        row += 1
        for col, (field, _title) in enumerate(summary_columns_):
            value = group.get(field)
            _write(ws, row, col, value if isinstance(value, (int, float)) else neutralise(_text(value)))
        # The chart's category label: site / building, in a helper column.
        ws.write_string(row, len(summary_columns_), neutralise(_place_label(group)))
    ws.write_string(header_row, len(summary_columns_), pgettext("report", "Place"), bold)
    if groups:
        chart = wb.add_chart({"type": "column"})
        first, last = header_row + 1, header_row + len(groups)
        label_col = len(summary_columns_)
        for field, colour in (("verified", "#2e7d32"), ("missing", "#c62828")):
            col = [f for f, _title in summary_columns_].index(field)
            chart.add_series({"name": [summary_title, header_row, col],
                              "categories": [summary_title, first, label_col, last, label_col],
                              "values": [summary_title, first, col, last, col],
                              "fill": {"color": colour}})
        chart.set_title({"name": _("Verified vs missing per site / building")})
        chart.set_size({"width": 760, "height": 360})
        ws.insert_chart(row + 2, 0, chart)
    entry_columns = columns()
    for category in CATEGORIES:
        sheet = wb.add_worksheet(_xlsx_sheet_name(finding_name(category)))
        for col, (_field, title) in enumerate(entry_columns):
            sheet.write_string(0, col, title, bold)
        sheet.set_column(0, len(entry_columns) - 1, 18)
        for r, entry in enumerate(result[category], start=1):
            for col, (field, _title) in enumerate(entry_columns):
                _write(sheet, r, col, cell(entry, field))
        sheet.freeze_panes(1, 0)
    wb.close()


def _xlsx_sheet_name(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\ or brackets."""
    return "".join(c for c in title if c not in "[]:*?/\\()（）")[:31]


def _write(ws, row: int, col: int, value: Any) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value)
    elif value:
        ws.write_string(row, col, value)


# --- CSV ---------------------------------------------------------------------------------


def write_csv(result: dict[str, Any], target: io.TextIOBase) -> None:
    """One file: the overview, the per-place summary, then every entry with its category."""
    out = csv.writer(target)
    for label, value in _overview(result["summary"]):
        out.writerow([neutralise(label), value if isinstance(value, (int, float)) else neutralise(_text(value))])
    out.writerow([])
    summary_columns_ = summary_columns()
    out.writerow([title for _field, title in summary_columns_])
    for group in result["summary"]["by_site"]:
        out.writerow([group.get(f) if isinstance(group.get(f), (int, float)) else neutralise(_text(group.get(f)))
                      for f, _title in summary_columns_])
    out.writerow([])
    entry_columns = columns()
    out.writerow([pgettext("report", "Finding"), *(title for _field, title in entry_columns)])
    for category in CATEGORIES:
        for entry in result[category]:
            out.writerow([category, *(cell(entry, f) for f, _title in entry_columns)])


# --- HTML --------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:2rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}
"""


def _esc(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return html.escape(str(value))
    return html.escape(neutralise(_text(value)), quote=True)


def svg_chart(groups: list[dict[str, Any]]) -> str:
    """Grouped horizontal bars: verified and missing per site / building."""
    if not groups:
        return "<p>" + html.escape(_("No expected assets.")) + "</p>"
    bar, gap, label_w, width = 14, 10, 260, 420
    legend = {"verified": pgettext("report", "Verified"), "missing": finding_name("missing")}
    biggest = max(max(g["verified"], g["missing"]) for g in groups) or 1
    height = len(groups) * (2 * bar + gap) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + width + 80}" '
             f'height="{height}" role="img" aria-label="{_esc(_("Verified vs missing per site / building"))}">']
    y = 10
    for g in groups:
        parts.append(f'<text x="{label_w - 8}" y="{y + bar + 4}" text-anchor="end" '
                     f'font-size="12">{_esc(_place_label(g))}</text>')
        for field, colour in (("verified", "#2e7d32"), ("missing", "#c62828")):
            w = round(width * g[field] / biggest, 1)
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" fill="{colour}">'
                         f'<title>{_esc(legend[field])}: {g[field]}</title></rect>')
            parts.append(f'<text x="{label_w + w + 4}" y="{y + bar - 3}" font-size="11">{g[field]}</text>')
            y += bar
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def render_html(result: dict[str, Any]) -> str:
    summary = result["summary"]
    c = summary["campaign"]
    title = _("Audit report: %(name)s", name=c["name"])
    summary_columns_, entry_columns = summary_columns(), columns()
    out = ["<!DOCTYPE html>", f'<html lang="{html_lang(current_language())}"><head><meta charset="utf-8">',
           f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>{_esc(title)} ({_esc(c['id'])})</h1>", "<table>"]
    for label, value in _overview(summary):
        out.append(f"<tr><th>{_esc(label)}</th><td>{_esc(value)}</td></tr>")
    out.append(f"</table><h2>{_esc(_('Verified vs missing per site / building'))}</h2>")
    out.append(f'<p class="legend"><span style="background:#2e7d32"></span>{_esc(pgettext("report", "Verified"))}'
               f'<span style="background:#c62828"></span>{_esc(finding_name("missing"))}</p>')
    out.append(svg_chart(summary["by_site"]))
    out.append("<table><tr>" + "".join(f"<th>{_esc(t)}</th>" for _field, t in summary_columns_) + "</tr>")
    for g in summary["by_site"]:
        out.append("<tr>" + "".join(
            f'<td class="n">{_esc(g.get(f))}</td>' if isinstance(g.get(f), (int, float))
            else f"<td>{_esc(g.get(f))}</td>" for f, _title in summary_columns_) + "</tr>")
    out.append("</table>")
    for category in CATEGORIES:
        entries = result[category]
        out.append(f'<h2 id="{category}">{_esc(finding_name(category))} ({len(entries)})</h2>')
        if not entries:
            out.append(f"<p>{_esc(_('None.'))}</p>")
            continue
        out.append("<table><tr>" + "".join(f"<th>{_esc(t)}</th>" for _field, t in entry_columns) + "</tr>")
        for entry in entries:
            out.append("<tr>" + "".join(f"<td>{_esc(cell(entry, f))}</td>" for f, _title in entry_columns)
                       + "</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


# --- entry points ------------------------------------------------------------------------


def render(result: dict[str, Any], fmt: str) -> bytes:
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(result, buffer)
        return buffer.getvalue()
    if fmt == "html":
        return render_html(result).encode("utf-8")
    if fmt == "csv":
        text = io.StringIO()
        write_csv(result, text)
        return ("\ufeff" + text.getvalue()).encode("utf-8")  # BOM: Excel reads it as UTF-8
    raise InvalidInput(_("Unknown report format %(format)s", format=repr(fmt)), field="format", value=fmt, allowed=list(FORMATS))


def write_report(result: dict[str, Any], path: str | Path) -> str:
    fmt = format_of(path)
    Path(path).write_bytes(render(result, fmt))
    return fmt
