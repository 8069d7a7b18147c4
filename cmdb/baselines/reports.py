"""A baseline diff and a baseline report as files: XLSX (a summary sheet and one sheet of
changes) or HTML (one self-contained page). Text cells are neutralised against formula
injection; HTML is escaped."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jinja2
import xlsxwriter

from cmdb.errors import InvalidInput
from importers.values import neutralise

FORMATS = ("xlsx", "html")
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "html": "text/html; charset=utf-8"}
CHANGE_COLUMNS = (("change", "Change"), ("key", "Key"), ("kind", "Kind"), ("property", "Property"),
                  ("type", "Relationship"), ("before", "Before"), ("after", "After"),
                  ("by", "By"), ("at", "At"), ("source", "Source"))


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    suffix = "html" if suffix == "htm" else suffix
    if suffix not in FORMATS:
        raise InvalidInput(f"Cannot write {Path(path).name!r}; the file name must end in .xlsx or .html",
                           field="output", value=str(path), allowed=list(FORMATS))
    return suffix


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    return str(value)


def _cell(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return neutralise(_text(value))


def _title(diff: dict[str, Any]) -> str:
    to = diff["to"]["name"] if diff["to"] else "now"
    return f"Baseline {diff['baseline']['name']} → {to}"


def _write_rows(ws, bold, top: int, columns, rows) -> None:
    for col, (_, title) in enumerate(columns):
        ws.write_string(top, col, title, bold)
    for r, row in enumerate(rows, start=top + 1):
        for col, (field, _) in enumerate(columns):
            value = _cell(row.get(field))
            if isinstance(value, (int, float)):
                ws.write_number(r, col, value)
            elif value:
                ws.write_string(r, col, value)


def _workbook(target: io.BytesIO):
    workbook = xlsxwriter.Workbook(target, {"strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False, "in_memory": True})
    return workbook, workbook.add_format({"bold": True})


def diff_xlsx(diff: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    wb, bold = _workbook(buffer)
    ws = wb.add_worksheet("Summary")
    ws.set_column(0, 1, 28)
    ws.write_string(0, 0, neutralise(_title(diff)), bold)
    ws.write_string(1, 0, "From")
    ws.write_string(1, 1, diff["since"])
    ws.write_string(2, 0, "To")
    ws.write_string(2, 1, diff["until"])
    ws.write_string(3, 0, "Scope")
    ws.write_string(3, 1, neutralise(diff["scope"] or "whole register"))
    _write_rows(ws, bold, 5, (("change", "Change"), ("count", "Count")),
                [{"change": c, "count": n} for c, n in diff["counts"].items()])
    changes = wb.add_worksheet("Changes")
    changes.set_column(0, len(CHANGE_COLUMNS) - 1, 18)
    _write_rows(changes, bold, 0, CHANGE_COLUMNS, diff["changes"])
    changes.freeze_panes(1, 0)
    wb.close()
    return buffer.getvalue()


def report_xlsx(report: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    wb, bold = _workbook(buffer)
    base = report["baseline"]
    ws = wb.add_worksheet("Baseline")
    ws.set_column(0, 3, 24)
    rows = [("Baseline", base["name"]), ("Created", base["created_at"]), ("By", base["created_by"]),
            ("Scope", base["scope"] or "whole register"), ("Note", base["note"] or ""),
            ("CIs", base["cis"]), ("Relationships", base["relationships"]),
            ("Previous baseline", report["previous"] or "none")]
    for r, (label, value) in enumerate(rows):
        ws.write_string(r, 0, label, bold)
        value = _cell(value)
        ws.write_number(r, 1, value) if isinstance(value, (int, float)) else ws.write_string(r, 1, value)
    top = len(rows) + 1
    for title, counts in (("Site", report["by_site"]), ("Kind", report["by_kind"]),
                          ("Category", report["by_category"])):
        _write_rows(ws, bold, top, (("name", title), ("count", "CIs")),
                    [{"name": k, "count": n} for k, n in counts.items()])
        top += len(counts) + 2
    detail = wb.add_worksheet("Counts")
    _write_rows(detail, bold, 0, (("site", "Site"), ("kind", "Kind"), ("category", "Category"),
                                  ("count", "CIs")), report["counts"])
    if report["since_previous"]:
        changes = wb.add_worksheet("Changes since previous")
        changes.set_column(0, len(CHANGE_COLUMNS) - 1, 18)
        _write_rows(changes, bold, 0, CHANGE_COLUMNS, report["since_previous"]["changes"])
    wb.close()
    return buffer.getvalue()


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_ENV.filters["text"] = _text

_CHANGES_TABLE = """
<table><thead><tr>{% for _, title in columns %}<th>{{ title }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for field, _ in columns %}<td>{{ row[field] | text }}</td>{% endfor %}</tr>
{% else %}<tr><td colspan="{{ columns | length }}">No changes.</td></tr>{% endfor %}</tbody></table>
"""

_PAGE = _ENV.from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}
th{background:#f3f3f3}</style></head><body>
<h1>{{ title }}</h1>
{% for heading, pairs in overview %}<h2>{{ heading }}</h2><table>
{% for label, value in pairs %}<tr><th>{{ label }}</th><td>{{ value | text }}</td></tr>{% endfor %}</table>
{% endfor %}
{% if changes is not none %}<h2>{{ changes_heading }}</h2>""" + _CHANGES_TABLE + """{% endif %}
</body></html>""")


def diff_html(diff: dict[str, Any]) -> str:
    overview = [("Compared", [("From", diff["since"]), ("To", diff["until"]),
                              ("Scope", diff["scope"] or "whole register")]),
                ("Changes", list(diff["counts"].items()))]
    return _PAGE.render(title=_title(diff), overview=overview, changes=diff["changes"],
                        rows=diff["changes"], columns=CHANGE_COLUMNS, changes_heading="Every change")


def report_html(report: dict[str, Any]) -> str:
    base = report["baseline"]
    overview = [("Baseline", [("Created", base["created_at"]), ("By", base["created_by"]),
                              ("Scope", base["scope"] or "whole register"), ("Note", base["note"]),
                              ("CIs", base["cis"]), ("Relationships", base["relationships"]),
                              ("Previous baseline", report["previous"] or "none")]),
                ("By site", list(report["by_site"].items())),
                ("By kind", list(report["by_kind"].items())),
                ("By category", list(report["by_category"].items()))]
    since = report["since_previous"]
    if since:
        overview.append((f"Changes since {report['previous']}", list(since["counts"].items())))
    return _PAGE.render(title=f"Baseline report: {base['name']}", overview=overview,
                        changes=since["changes"] if since else None,
                        rows=since["changes"] if since else [], columns=CHANGE_COLUMNS,
                        changes_heading=f"Changes since {report['previous']}")


def render_diff(diff: dict[str, Any], fmt: str) -> bytes:
    return diff_xlsx(diff) if fmt == "xlsx" else diff_html(diff).encode("utf-8")


def render_report(report: dict[str, Any], fmt: str) -> bytes:
    return report_xlsx(report) if fmt == "xlsx" else report_html(report).encode("utf-8")

