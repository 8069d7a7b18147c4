"""The spare issue slip (备件领用单): one A4 page, Chinese captions with English, the spare, the
unit it stands in for, where from and to, when issued and returned, and signature lines for
the engineer and the customer. Captions are in the current language (en, zh_CN, zh_TW). Drawn with the label fonts (``cmdb.labels.fonts``), so Chinese
prints with no font set-up."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw

from cmdb.i18n import N_, _
from cmdb.labels.fonts import choose_font, load_font

DPI = 150
PAGE_PX = (1240, 1754)          # A4 at 150 dpi
MARGIN = 110
TITLE = N_("Spare / loaner issue slip")
ROWS = (("id", N_("Slip no.")), ("repair", N_("Repair order")), ("fault", N_("Fault")),
        ("spare", N_("Spare")), ("spare_text", N_("Model / serial")),
        ("unit", N_("Stands in for")), ("unit_text", N_("Unit name")),
        ("from_location", N_("Issued from")), ("to_location", N_("Placed at")),
        ("issued", N_("Issued")), ("returned", N_("Returned")))
SIGNATURES = (N_("Engineer's signature"), N_("Customer's signature"))
DATE = N_("Date")


def slip_pdf(issue: dict[str, Any], spare: dict[str, Any], unit: dict[str, Any],
             repair: dict[str, Any] | None, font_setting: str | None = None) -> bytes:
    values = {
        "id": issue["id"], "repair": issue.get("repair"),
        "fault": (repair or {}).get("fault"),
        "spare": issue["spare"],
        "spare_text": " / ".join(str(v) for v in (spare.get("model"), spare.get("serial")) if v),
        "unit": issue["unit"], "unit_text": unit.get("name"),
        "from_location": issue.get("from_location"), "to_location": issue.get("to_location"),
        "issued": f"{issue.get('issued_on', '')}  {issue.get('issued_by', '')}",
        "returned": (f"{issue['returned_on']}  {issue.get('returned_by', '')}"
                     if issue.get("returned_on") else "—"),
    }
    title, date = _(TITLE), _(DATE)
    rows = [(field, _(caption)) for field, caption in ROWS]
    signatures = [_(caption) for caption in SIGNATURES]
    texts = [title, *(c for _field, c in rows), *signatures, date,
             *(str(v) for v in values.values() if v)]
    face = choose_font(texts, configured=font_setting)
    title_font, caption_font, value_font = (load_font(face, 44), load_font(face, 24),
                                            load_font(face, 30))
    page = Image.new("L", PAGE_PX, 255)
    draw = ImageDraw.Draw(page)
    y = MARGIN
    draw.text((MARGIN, y), title, font=title_font, fill=0)
    y += 90
    right = PAGE_PX[0] - MARGIN
    for field, caption in rows:
        draw.line((MARGIN, y, right, y), fill=160, width=1)
        draw.text((MARGIN, y + 12), caption, font=caption_font, fill=60)
        text = str(values.get(field) or "—")
        draw.text((MARGIN + 420, y + 8), _fit(draw, text, value_font, right - MARGIN - 420),
                  font=value_font, fill=0)
        y += 64
    draw.line((MARGIN, y, right, y), fill=160, width=1)
    y += 160
    column = (right - MARGIN) // 2
    for i, caption in enumerate(signatures):
        x = MARGIN + i * column
        draw.line((x, y, x + column - 60, y), fill=0, width=2)
        draw.text((x, y + 12), caption, font=caption_font, fill=0)
        draw.line((x, y + 140, x + column - 60, y + 140), fill=0, width=2)
        draw.text((x, y + 152), date, font=caption_font, fill=0)
    out = io.BytesIO()
    page.save(out, "PDF", resolution=DPI, title=f"{title} {issue['id']}")
    return out.getvalue()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
