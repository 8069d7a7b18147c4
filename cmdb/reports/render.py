"""A service report as XLSX (sheets with charts), one self-contained HTML file (inline SVG
charts) or PDF (with the Noto Sans CJK font the labels use, so Chinese prints anywhere).

Text cells are neutralised against formula injection in XLSX and escaped in HTML.
"""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any, Callable

import xlsxwriter
from fpdf import FPDF
from fpdf.fonts import FontFace as PdfFontFace

from cmdb.errors import InvalidInput
from cmdb.labels.fonts import choose_font
from cmdb.i18n import _, html_lang, use_language
from cmdb.i18n.names import fault_status_name, round_status_name
from cmdb.reports.captions import LANGUAGES, caption, report_language
from cmdb.reports.data import SEVERITIES, Report
from importers.values import neutralise

FORMATS = ("xlsx", "html", "pdf")
CHANGE_KINDS = ("added", "moved", "retired")


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    suffix = "html" if suffix == "htm" else suffix
    if suffix not in FORMATS:
        raise InvalidInput(_("-o %(path)s: the file name must end in .xlsx, .html or .pdf", path=path),
                           field="output", value=str(path), allowed=list(FORMATS))
    return suffix


def check_language(language: str) -> str:
    if report_language(language) is None:
        raise InvalidInput(_("--language: %(language)s; allowed: %(allowed)s", language=repr(language),
                             allowed=", ".join(LANGUAGES)),
                           field="language", value=language, allowed=list(LANGUAGES))
    return language


def _in(language: str, name: Callable[[Any], str], value: Any) -> str:
    """A value as a word in the report's language."""
    with use_language(report_language(language)):
        return name(value)


def _minutes(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _clock_text(c: dict[str, Any], t: Callable[[str], str]) -> str:
    if c["target_minutes"] is None:
        return _minutes(c["elapsed_minutes"])
    return f"{_minutes(c['elapsed_minutes'])} / {_minutes(c['target_minutes'])} {t('state.' + c['state'])}"


def _title(report: Report, t) -> str:
    return t(f"title.{report.period.kind}") + f" {report.period.label}"


def tables(report: Report, language: str) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Every section as (caption, headings, rows): what all three formats show."""
    def t(key: str) -> str:
        return caption(key, language)
    chosen = report_language(language)
    zh = chosen != "en"
    levels = sorted({lvl for by in report.by_severity_level.values() for lvl in by})
    level_zh = {f["level"]: f.get("level_zh_tw", f["level_zh"]) if chosen == "zh_TW" else f["level_zh"]
                for f in report.faults}
    level_names = [level_zh.get(lvl, lvl) if zh else lvl for lvl in levels]
    sections = [
        (t("faults.by_severity"), [t("severity"), *level_names, t("count")],
         [[sev, *(report.by_severity_level.get(sev, {}).get(lvl, 0) for lvl in levels),
           sum(report.by_severity_level.get(sev, {}).values())] for sev in SEVERITIES]),
        (t("faults.breaches"), [t("id"), t("severity"), t("level"), t("cis"), t("clock"), t("used"), t("target")],
         [[b["id"], b["severity"], level_zh.get(b["level"], b["level"]) if zh else b["level"],
           ", ".join(b["keys"]), t(f"clock.{b['clock']}"),
           _minutes(b["elapsed_minutes"]), _minutes(b["target_minutes"])] for b in report.breaches]),
        (t("faults.list"), [t("id"), t("severity"), t("level"), t("cis"), t("title"), t("status"),
                            t("reported"), t("response"), t("resolution")],
         [[f["id"], f["severity"], level_zh.get(f["level"], f["level"]) if zh else f["level"], ", ".join(f["keys"]), f["title"],
           _in(language, fault_status_name, f["status"]), f["reported_at"][:16].replace("T", " "),
           _clock_text(f["clocks"]["response"], t), _clock_text(f["clocks"]["resolution"], t)]
          for f in report.faults]),
        (t("repairs"), [t("id"), t("repair_order"), t("cis"), t("status")],
         [[f["id"], f["repair_order"], ", ".join(f["keys"]), _in(language, fault_status_name, f["status"])] for f in report.repairs]),
        (t("rounds"), [t("round"), t("scope"), t("status"), t("checked"), t("expected"), t("findings")],
         [[r["name"], ", ".join(r["scope"]), _in(language, round_status_name, r["status"]), r["checked"], r["expected"], r["failed"]]
          for r in report.rounds]),
        (t("findings"), [t("round"), t("cis"), t("item"), t("note"), t("id")],
         [[f["round"], f["key"], f["item"], f["note"], f.get("fault") or ""] for f in report.findings]),
        (t("changes"), [t("category"), *(t(f"changes.{k}") for k in CHANGE_KINDS)],
         [[cat, *(report.changes.get(k, {}).get(cat, 0) for k in CHANGE_KINDS)]
          for cat in sorted({c for k in CHANGE_KINDS for c in report.changes.get(k, {})})]),
        (t("warranty") + f" ({report.warranty_quarter[0]} – {report.warranty_quarter[1]})",
         [t("cis"), t("name"), t("category"), t("model"), t("warranty_end")],
         [[w["key"], w["name"] or "", w["category"] or "", w["model"] or "", w["warranty_end"]]
          for w in report.warranty]),
        (t("audits"), [t("audit"), t("status"), t("expected"), t("scans")],
         [[a["name"], a["status"], a["expected"], a["scans"]] for a in report.audits]),
    ]
    return sections


def summary_rows(report: Report, language: str) -> list[tuple[str, Any]]:
    def t(key: str) -> str:
        return caption(key, language)
    totals = report.totals
    return [(t("period"), f"{report.period.start} – {report.period.end}"),
            (t("scope"), f"{report.scope_name} ({report.scope})" if report.scope else t("scope.all")),
            (t("faults.total"), totals["faults"]), (t("faults.closed"), totals["closed"]),
            (t("faults.breached"), totals["breached"]), (t("rounds"), len(report.rounds)),
            (t("findings"), len(report.findings)), (t("generated"), report.generated_at[:16])]


def chart_data(report: Report, language: str) -> list[tuple[str, list[tuple[str, int]]]]:
    counts = [(sev, sum(report.by_severity_level.get(sev, {}).values())) for sev in SEVERITIES]
    breached = report.totals["breached"]
    return [(caption("chart.severity", language), counts),
            (caption("chart.ontime", language),
             [(caption("ontime", language), len(report.faults) - breached),
              (caption("breached", language), breached)])]


# --- XLSX ----------------------------------------------------------------------------------


def render_xlsx(report: Report, language: str) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    summary = book.add_worksheet(caption("summary", language)[:31])
    summary.set_column(0, 0, 28)
    summary.set_column(1, 1, 30)
    summary.write(0, 0, _title(report, lambda k: caption(k, language)), title)
    for i, (name, value) in enumerate(summary_rows(report, language), start=2):
        summary.write(i, 0, name, bold)
        summary.write(i, 1, neutralise(value) if isinstance(value, str) else value)
    # Chart data below the summary, charts beside it.
    row = 12
    for n, (name, points) in enumerate(chart_data(report, language)):
        summary.write(row, 0, name, bold)
        for i, (label, value) in enumerate(points, start=1):
            summary.write(row + i, 0, label)
            summary.write(row + i, 1, value)
        chart = book.add_chart({"type": "column" if n == 0 else "pie"})
        chart.add_series({"name": name, "categories": [summary.name, row + 1, 0, row + len(points), 0],
                          "values": [summary.name, row + 1, 1, row + len(points), 1]})
        chart.set_title({"name": name})
        if n == 0:
            chart.set_legend({"none": True})
        summary.insert_chart(2 + n * 16, 3, chart)
        row += len(points) + 2
    for number, (name, headings, rows) in enumerate(tables(report, language), start=1):
        sheet = book.add_worksheet(f"{number} {name}"[:31].replace("/", " ").replace(":", " "))
        sheet.write(0, 0, name, title)
        for c, heading in enumerate(headings):
            sheet.write(2, c, heading, bold)
            sheet.set_column(c, c, 18)
        for r, values in enumerate(rows, start=3):
            for c, value in enumerate(values):
                sheet.write(r, c, neutralise(value) if isinstance(value, str) else value)
    book.close()
    return out.getvalue()


# --- HTML ----------------------------------------------------------------------------------


def _svg_bars(name: str, points: list[tuple[str, int]]) -> str:
    width, bar, gap, height = 360, 28, 10, 30 + len(points) * 38
    top = max([v for _, v in points] + [1])
    parts = [f'<svg role="img" aria-label="{html.escape(name)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{html.escape(name)}</text>']
    for i, (label, value) in enumerate(points):
        y = 28 + i * (bar + gap)
        w = int((width - 140) * value / top)
        parts.append(f'<text x="0" y="{y + 19}" font-size="13">{html.escape(label)}</text>'
                     f'<rect x="90" y="{y}" width="{w}" height="{bar}" fill="#2f6fab"/>'
                     f'<text x="{96 + w}" y="{y + 19}" font-size="13">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report, language: str) -> bytes:
    e = html.escape
    t = lambda k: caption(k, language)  # noqa: E731
    parts = [f'<!doctype html><html lang="{e(html_lang(report_language(language)))}"><head><meta charset="utf-8">'
             f"<title>{e(_title(report, t))}</title><style>"
             "body{font-family:'Noto Sans CJK SC','Noto Sans',sans-serif;margin:24px;color:#1b1f24}"
             "table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #b8c2cc;padding:4px 8px;"
             "text-align:left;font-size:13px}th{background:#eef2f6}.charts{display:flex;gap:32px;flex-wrap:wrap}"
             ".breach{color:#9b1c1c;font-weight:600}</style></head><body>",
             f"<h1>{e(_title(report, t))}</h1><table>"]
    for name, value in summary_rows(report, language):
        parts.append(f"<tr><th>{e(name)}</th><td>{e(str(value))}</td></tr>")
    parts.append('</table><div class="charts">')
    parts += [_svg_bars(name, points) for name, points in chart_data(report, language)]
    parts.append("</div>")
    for name, headings, rows in tables(report, language):
        parts.append(f"<h2>{e(name)}</h2>")
        if not rows:
            parts.append("<p>–</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in headings) + "</tr>")
        for values in rows:
            parts.append("<tr>" + "".join(
                f'<td{" class=breach" if "breached" in str(v) or "超时" in str(v) else ""}>{e(str(v))}</td>'
                for v in values) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts).encode("utf-8")


# --- PDF -----------------------------------------------------------------------------------


class _Pdf(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("body", size=8)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}", align="R")


def render_pdf(report: Report, language: str) -> bytes:
    t = lambda k: caption(k, language)  # noqa: E731
    texts = [_title(report, t)] + [str(v) for name, _, rows in tables(report, language) for r in rows for v in r]
    face = choose_font(texts)
    pdf = _Pdf(_title(report, t))
    pdf.add_font("body", fname=face.path, collection_font_number=face.index)
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()
    pdf.set_font("body", size=16)
    pdf.cell(0, 10, _title(report, t), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=10)
    for name, value in summary_rows(report, language):
        pdf.cell(60, 6, name)
        pdf.cell(0, 6, str(value), new_x="LMARGIN", new_y="NEXT")
    # Charts: horizontal bars.
    y0 = pdf.get_y() + 4
    for n, (name, points) in enumerate(chart_data(report, language)):
        x0 = 10 + n * 140
        pdf.set_xy(x0, y0)
        pdf.set_font("body", size=11)
        pdf.cell(120, 7, name)
        top = max([v for _, v in points] + [1])
        pdf.set_font("body", size=9)
        for i, (label, value) in enumerate(points):
            y = y0 + 9 + i * 8
            pdf.set_xy(x0, y)
            pdf.cell(25, 6, label)
            pdf.set_fill_color(47, 111, 171)
            w = 80 * value / top
            if w:
                pdf.rect(x0 + 26, y + 0.5, w, 5, style="F")
            pdf.set_xy(x0 + 28 + w, y)
            pdf.cell(15, 6, str(value))
    pdf.set_xy(10, y0 + 12 + 8 * max(len(p) for _, p in chart_data(report, language)))
    pdf.set_fill_color(255, 255, 255)
    for name, headings, rows in tables(report, language):
        pdf.set_font("body", size=12)
        pdf.cell(0, 8, name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("body", size=8)
        if not rows:
            pdf.cell(0, 6, "–", new_x="LMARGIN", new_y="NEXT")
            continue
        # One face (the CJK font has no bold face): headings stand out by their fill.
        headings_style = PdfFontFace(emphasis="NONE", fill_color=(228, 234, 240))
        with pdf.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True,
                       headings_style=headings_style) as table:
            table.row([str(h) for h in headings])
            for values in rows:
                table.row([str(v) for v in values])
        pdf.ln(3)
    return bytes(pdf.output())


def render(report: Report, fmt: str, language: str = "en") -> bytes:
    check_language(language)
    return {"xlsx": render_xlsx, "html": render_html, "pdf": render_pdf}[fmt](report, language)
