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
from cmdb.i18n import _, html_lang, names
from importers.values import neutralise

FORMATS = ("xlsx", "html")
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "html": "text/html; charset=utf-8"}
CHANGE_FIELDS = ("change", "key", "kind", "property", "type", "before", "after", "by", "at", "source")
# Values shown as words in the reports (raw values stay in the API and --json).
_WORDS = {"change": names.change_name, "kind": names.kind_name, "property": names.property_label,
          "type": names.relationship_name, "category": names.category_name}


def change_columns() -> tuple[tuple[str, str], ...]:
    """The changes table's columns, headed in the current language."""
    return (("change", _("Change")), ("key", _("Key")), ("kind", _("Kind")), ("property", _("Property")),
            ("type", _("Relationship")), ("before", _("Before")), ("after", _("After")),
            ("by", _("By")), ("at", _("At")), ("source", _("Source")))


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its values (change, kind, property …) as words."""
    return {k: (_WORDS[k](v) if k in _WORDS and v is not None else v) for k, v in row.items()}


def _counted(counts: dict[str, int], word=None) -> list[tuple[str, int]]:
    return [(word(k) if word else k, n) for k, n in counts.items()]


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    suffix = "html" if suffix == "htm" else suffix
    if suffix not in FORMATS:
        raise InvalidInput(_("Cannot write %(name)s; the file name must end in .xlsx or .html",
                             name=repr(Path(path).name)),
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
    to = diff["to"]["name"] if diff["to"] else _("now")
    return _("Baseline %(name)s → %(to)s", name=diff['baseline']['name'], to=to)


def _write_rows(ws, bold, top: int, columns, rows) -> None:
    for col, (_field, title) in enumerate(columns):
        ws.write_string(top, col, title, bold)
    for r, row in enumerate(rows, start=top + 1):
        for col, (field, _title) in enumerate(columns):
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
    ws = wb.add_worksheet(_("Summary"))
    ws.set_column(0, 1, 28)
    ws.write_string(0, 0, neutralise(_title(diff)), bold)
    ws.write_string(1, 0, _("From"))
    ws.write_string(1, 1, diff["since"])
    ws.write_string(2, 0, _("To"))
    ws.write_string(2, 1, diff["until"])
    ws.write_string(3, 0, _("Scope"))
    ws.write_string(3, 1, neutralise(diff["scope"] or _("whole register")))
    _write_rows(ws, bold, 5, (("change", _("Change")), ("count", _("Count"))),
                [{"change": names.change_name(c), "count": n} for c, n in diff["counts"].items()])
    changes = wb.add_worksheet(_("Changes"))
    changes.set_column(0, len(CHANGE_FIELDS) - 1, 18)
    _write_rows(changes, bold, 0, change_columns(), [_shown(c) for c in diff["changes"]])
    changes.freeze_panes(1, 0)
    wb.close()
    return buffer.getvalue()


def report_xlsx(report: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    wb, bold = _workbook(buffer)
    base = report["baseline"]
    ws = wb.add_worksheet(_("Baseline"))
    ws.set_column(0, 3, 24)
    rows = [(_("Baseline"), base["name"]), (_("Created"), base["created_at"]), (_("By"), base["created_by"]),
            (_("Scope"), base["scope"] or _("whole register")), (_("Note"), base["note"] or ""),
            (_("CIs"), base["cis"]), (_("Relationships"), base["relationships"]),
            (_("Previous baseline"), report["previous"] or _("none"))]
    for r, (label, value) in enumerate(rows):
        ws.write_string(r, 0, label, bold)
        value = _cell(value)
        ws.write_number(r, 1, value) if isinstance(value, (int, float)) else ws.write_string(r, 1, value)
    top = len(rows) + 1
    for title, counts in ((_("Site"), _counted(report["by_site"])),
                          (_("Kind"), _counted(report["by_kind"], names.kind_name)),
                          (_("Category"), _counted(report["by_category"], names.category_name))):
        _write_rows(ws, bold, top, (("name", title), ("count", _("CIs"))),
                    [{"name": k, "count": n} for k, n in counts])
        top += len(counts) + 2
    detail = wb.add_worksheet(_("Counts"))
    _write_rows(detail, bold, 0, (("site", _("Site")), ("kind", _("Kind")), ("category", _("Category")),
                                  ("count", _("CIs"))), [_shown(c) for c in report["counts"]])
    if report["since_previous"]:
        changes = wb.add_worksheet(_("Changes since previous"))
        changes.set_column(0, len(CHANGE_FIELDS) - 1, 18)
        _write_rows(changes, bold, 0, change_columns(), [_shown(c) for c in report["since_previous"]["changes"]])
    wb.close()
    return buffer.getvalue()


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_ENV.filters["text"] = _text

_CHANGES_TABLE = """
<table><thead><tr>{% for _, title in columns %}<th>{{ title }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for field, _ in columns %}<td>{{ row[field] | text }}</td>{% endfor %}</tr>
{% else %}<tr><td colspan="{{ columns | length }}">{{ no_changes }}</td></tr>{% endfor %}</tbody></table>
"""

_PAGE = _ENV.from_string("""<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
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
    overview = [(_("Compared"), [(_("From"), diff["since"]), (_("To"), diff["until"]),
                                 (_("Scope"), diff["scope"] or _("whole register"))]),
                (_("Changes"), _counted(diff["counts"], names.change_name))]
    return _PAGE.render(title=_title(diff), overview=overview, changes=diff["changes"],
                        rows=[_shown(c) for c in diff["changes"]], columns=change_columns(),
                        changes_heading=_("Every change"), **_page_words())


def report_html(report: dict[str, Any]) -> str:
    base = report["baseline"]
    overview = [(_("Baseline"), [(_("Created"), base["created_at"]), (_("By"), base["created_by"]),
                                 (_("Scope"), base["scope"] or _("whole register")), (_("Note"), base["note"]),
                                 (_("CIs"), base["cis"]), (_("Relationships"), base["relationships"]),
                                 (_("Previous baseline"), report["previous"] or _("none"))]),
                (_("By site"), _counted(report["by_site"])),
                (_("By kind"), _counted(report["by_kind"], names.kind_name)),
                (_("By category"), _counted(report["by_category"], names.category_name))]
    since = report["since_previous"]
    since_heading = _("Changes since %(previous)s", previous=report["previous"] or "")
    if since:
        overview.append((since_heading, _counted(since["counts"], names.change_name)))
    return _PAGE.render(title=_("Baseline report: %(name)s", name=base['name']), overview=overview,
                        changes=since["changes"] if since else None,
                        rows=[_shown(c) for c in since["changes"]] if since else [],
                        columns=change_columns(), changes_heading=since_heading, **_page_words())


def _page_words() -> dict[str, str]:
    return {"lang": html_lang(), "no_changes": _("No changes.")}


def render_diff(diff: dict[str, Any], fmt: str) -> bytes:
    return diff_xlsx(diff) if fmt == "xlsx" else diff_html(diff).encode("utf-8")


def render_report(report: dict[str, Any], fmt: str) -> bytes:
    return report_xlsx(report) if fmt == "xlsx" else report_html(report).encode("utf-8")

