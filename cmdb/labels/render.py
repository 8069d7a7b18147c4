"""PNG of one label and PDF sheets of many.

The PDF places every label as its own image at the exact millimetre position of its cell,
so the page geometry does not depend on pixel rounding, and sets ``/PrintScaling /None``
so that viewers print at 100 % by default (a scaled print misses the die-cut labels).
"""

from __future__ import annotations

import io
import zlib
from typing import Sequence

from PIL import Image

from cmdb.errors import InvalidInput
from cmdb.i18n import _
from cmdb.labels.content import LabelContent, scan_url
from cmdb.labels.fonts import FontFace, choose_font
from cmdb.labels.layout import MM_PER_INCH, draw_label, mm_to_px
from cmdb.labels.qr import qr_matrix
from cmdb.labels.templates import MAX_LABEL_SIDE_MM, MIN_LABEL_SIDE_MM, SheetTemplate

DEFAULT_DPI = 300
MIN_DPI, MAX_DPI = 72, 1200
# A label of 300 x 300 mm at 400 dpi, or 100 x 100 mm at 1200 dpi: a 25 MB greyscale image.
MAX_LABEL_PIXELS = 25_000_000
POINTS_PER_MM = 72 / MM_PER_INCH


def check_dpi(dpi: int) -> int:
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not MIN_DPI <= dpi <= MAX_DPI:
        raise InvalidInput(_("dpi %(dpi)r is out of range; allowed: %(min)s to %(max)s", dpi=dpi,
                             min=MIN_DPI, max=MAX_DPI),
                           field="dpi", value=dpi, allowed=f"{MIN_DPI}-{MAX_DPI}")
    return dpi


def check_label_size(width_mm: float, height_mm: float, dpi: int) -> tuple[int, int]:
    """The label's size in pixels, refused before anything is allocated when a side is outside
    MIN_LABEL_SIDE_MM..MAX_LABEL_SIDE_MM or the image would exceed MAX_LABEL_PIXELS."""
    check_dpi(dpi)
    for name, value in ((_("width"), width_mm), (_("height"), height_mm)):
        if not MIN_LABEL_SIDE_MM <= value <= MAX_LABEL_SIDE_MM:
            raise InvalidInput(_("Label %(side)s %(value)s mm is out of range; allowed: "
                                 "%(min)s to %(max)s mm", side=name, value=f"{value:g}",
                                 min=f"{MIN_LABEL_SIDE_MM:g}", max=f"{MAX_LABEL_SIDE_MM:g}"),
                               field="size", value=value,
                               allowed=f"{MIN_LABEL_SIDE_MM:g}-{MAX_LABEL_SIDE_MM:g} mm")
    width_px, height_px = mm_to_px(width_mm, dpi), mm_to_px(height_mm, dpi)
    if width_px * height_px > MAX_LABEL_PIXELS:
        raise InvalidInput(_("A %(width)s x %(height)s mm label at %(dpi)s dpi is %(pixels)s pixels; "
                             "at most %(limit)s allowed (use a lower dpi)", width=f"{width_mm:g}",
                             height=f"{height_mm:g}", dpi=dpi, pixels=f"{width_px * height_px:,}",
                             limit=f"{MAX_LABEL_PIXELS:,}"), field="dpi", value=dpi,
                           allowed=f"at most {MAX_LABEL_PIXELS:,} pixels per label")
    return width_px, height_px


def label_image(content: LabelContent, base_url: str, width_mm: float, height_mm: float, *,
                dpi: int = DEFAULT_DPI, error_correction: str = "Q",
                font: FontFace | None = None, font_setting: str | None = None) -> Image.Image:
    face = font or choose_font(content.texts(), configured=font_setting)
    matrix = qr_matrix(scan_url(base_url, content.key), error_correction)
    width_px, height_px = check_label_size(width_mm, height_mm, dpi)
    return draw_label(content, matrix, width_px, height_px, dpi, face)


def render_png(content: LabelContent, base_url: str, width_mm: float, height_mm: float, *,
               dpi: int = DEFAULT_DPI, error_correction: str = "Q",
               font_setting: str | None = None) -> bytes:
    """One label as a PNG that records its dpi (so it prints at the label's real size)."""
    check_dpi(dpi)
    image = label_image(content, base_url, width_mm, height_mm, dpi=dpi,
                        error_correction=error_correction, font_setting=font_setting)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def check_skip(skip: int, template: SheetTemplate) -> int:
    if isinstance(skip, bool) or not isinstance(skip, int) or not 0 <= skip < template.per_sheet:
        raise InvalidInput(
            _("skip %(skip)r is out of range for %(template)s (%(count)s labels a sheet); "
              "allowed: 0 to %(last)s", skip=skip, template=template.name,
              count=template.per_sheet, last=template.per_sheet - 1),
            field="skip", value=skip, allowed=f"0-{template.per_sheet - 1}")
    return skip


def render_pdf(contents: Sequence[LabelContent], base_url: str, template: SheetTemplate, *,
               dpi: int = DEFAULT_DPI, skip: int = 0, error_correction: str = "Q",
               font_setting: str | None = None) -> bytes:
    """Sheets of labels; the first ``skip`` cells of the first sheet are left empty."""
    if not contents:
        raise InvalidInput(_("No labels to print: the selection is empty"), field="selection")
    check_dpi(dpi)
    check_skip(skip, template)
    face = choose_font([t for c in contents for t in c.texts()], configured=font_setting)
    width_px, height_px = check_label_size(template.label_width_mm, template.label_height_mm, dpi)
    pdf = _PdfWriter()
    page_w = template.page_width_mm * POINTS_PER_MM
    page_h = template.page_height_mm * POINTS_PER_MM
    label_w = template.label_width_mm * POINTS_PER_MM
    label_h = template.label_height_mm * POINTS_PER_MM
    pages: list[int] = []
    pages_ref = pdf.reserve()
    sheet_start = 0
    while sheet_start < len(contents):
        first_cell = skip if sheet_start == 0 else 0
        batch = contents[sheet_start:sheet_start + template.per_sheet - first_cell]
        images, drawing = {}, []
        for offset, content in enumerate(batch):
            cell = first_cell + offset
            image = draw_label(content, qr_matrix(scan_url(base_url, content.key), error_correction),
                               width_px, height_px, dpi, face)
            name = f"L{cell}"
            images[name] = pdf.add_stream(
                f"/Type /XObject /Subtype /Image /Width {width_px} /Height {height_px} "
                "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
                zlib.compress(image.tobytes(), 1))
            x_mm, y_mm = template.cell(cell)
            x = x_mm * POINTS_PER_MM
            y = page_h - (y_mm + template.label_height_mm) * POINTS_PER_MM
            drawing.append(f"q {label_w:.4f} 0 0 {label_h:.4f} {x:.4f} {y:.4f} cm /{name} Do Q")
        content_ref = pdf.add_stream("/Filter /FlateDecode",
                                     zlib.compress("\n".join(drawing).encode("ascii"), 6))
        resources = " ".join(f"/{name} {ref} 0 R" for name, ref in images.items())
        pages.append(pdf.add(
            f"<< /Type /Page /Parent {pages_ref} 0 R /MediaBox [0 0 {page_w:.4f} {page_h:.4f}] "
            f"/Resources << /XObject << {resources} >> >> /Contents {content_ref} 0 R >>"))
        sheet_start += len(batch)
    kids = " ".join(f"{p} 0 R" for p in pages)
    pdf.set(pages_ref, f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>")
    catalog = pdf.add(f"<< /Type /Catalog /Pages {pages_ref} 0 R "
                      "/ViewerPreferences << /PrintScaling /None >> >>")
    info = pdf.add(f"<< /Producer (cmdb) /Title (Asset labels, {_pdf_text(template.name)}) >>")
    return pdf.finish(catalog, info)


def _pdf_text(text: str) -> str:
    safe = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


class _PdfWriter:
    """The few PDF objects a sheet of images needs, with a correct cross-reference table."""

    def __init__(self) -> None:
        self._objects: list[bytes | None] = []

    def reserve(self) -> int:
        self._objects.append(None)
        return len(self._objects)

    def set(self, ref: int, body: str | bytes) -> None:
        self._objects[ref - 1] = body.encode("ascii") if isinstance(body, str) else body

    def add(self, body: str | bytes) -> int:
        ref = self.reserve()
        self.set(ref, body)
        return ref

    def add_stream(self, entries: str, data: bytes) -> int:
        return self.add(f"<< {entries} /Length {len(data)} >>\nstream\n".encode("ascii")
                        + data + b"\nendstream")

    def finish(self, root: int, info: int) -> bytes:
        out = io.BytesIO()
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self._objects, start=1):
            if body is None:
                raise AssertionError(f"PDF object {number} was reserved but never written")
            offsets.append(out.tell())
            out.write(f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n")
        xref = out.tell()
        out.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode("ascii"))
        out.write("".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode("ascii"))
        out.write(f"trailer\n<< /Size {len(offsets) + 1} /Root {root} 0 R /Info {info} 0 R >>\n"
                  f"startxref\n{xref}\n%%EOF\n".encode("ascii"))
        return out.getvalue()
