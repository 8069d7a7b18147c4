"""Label stock: where each label sits on a sheet, in millimetres.

The built-in stock lives in ``templates/*.json`` next to this module, in the same format a
user writes for custom stock (JSON or YAML):

    page: A4                 # or page_width_mm / page_height_mm
    columns: 5
    rows: 13
    label_width_mm: 38.1
    label_height_mm: 21.2
    margin_left_mm: 4.75     # page edge to the first label
    margin_top_mm: 10.7
    pitch_x_mm: 40.6         # left edge to left edge; defaults to the label width
    pitch_y_mm: 21.2         # top edge to top edge; defaults to the label height
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from cmdb.errors import InvalidInput
from cmdb.i18n import _

PAGE_SIZES_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "A3": (297.0, 420.0),
                 "LETTER": (215.9, 279.4), "LEGAL": (215.9, 355.6)}
MAX_TEMPLATE_BYTES = 64 * 1024
MAX_GRID = 100  # columns or rows; real stock has at most a few dozen
MIN_LABEL_SIDE_MM = 10.0  # a QR code with its quiet zone and a margin needs about this
MAX_LABEL_SIDE_MM = 300.0
MAX_PAGE_SIDE_MM = 2000.0
_TOLERANCE_MM = 0.01  # published dimensions are rounded to 0.05 mm

_NUMBER_FIELDS = ("page_width_mm", "page_height_mm", "label_width_mm", "label_height_mm",
                  "margin_left_mm", "margin_top_mm", "pitch_x_mm", "pitch_y_mm")
ALLOWED_FIELDS = ("name", "description", "page", "columns", "rows") + _NUMBER_FIELDS


@dataclass(frozen=True)
class SheetTemplate:
    name: str
    page_width_mm: float
    page_height_mm: float
    columns: int
    rows: int
    label_width_mm: float
    label_height_mm: float
    margin_left_mm: float
    margin_top_mm: float
    pitch_x_mm: float
    pitch_y_mm: float
    description: str = ""

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    def cell(self, index: int) -> tuple[float, float]:
        """Top-left corner (mm from the page's top-left) of label ``index`` on a sheet,
        counting left to right, then top to bottom."""
        row, column = divmod(index % self.per_sheet, self.columns)
        return (self.margin_left_mm + column * self.pitch_x_mm,
                self.margin_top_mm + row * self.pitch_y_mm)

    def cells(self) -> list[tuple[float, float, float, float]]:
        """Every label's (x, y, width, height) on a sheet, in mm."""
        return [(*self.cell(i), self.label_width_mm, self.label_height_mm)
                for i in range(self.per_sheet)]


def builtin_template_names() -> tuple[str, ...]:
    return tuple(sorted(_builtin_templates()))


@lru_cache(maxsize=1)
def _builtin_templates() -> dict[str, SheetTemplate]:
    found = {}
    for entry in resources.files("cmdb.labels").joinpath("templates").iterdir():
        if entry.name.endswith(".json"):
            template = template_from_mapping(json.loads(entry.read_text("utf-8")), entry.name)
            found[template.name] = template
    return found


def load_template(spec: str | Path) -> SheetTemplate:
    """A built-in template by name (``avery-l7651``) or a custom one from a JSON/YAML file."""
    text = str(spec).strip()
    builtin = _builtin_templates().get(text.lower())
    if builtin is not None:
        return builtin
    path = Path(text)
    if not path.is_file():
        raise InvalidInput(
            _("Unknown label template %(template)r: use one of %(names)s or the path of a "
              "JSON/YAML file of millimetre dimensions", template=text,
              names=", ".join(builtin_template_names())),
            field="template", value=text, allowed=list(builtin_template_names()))
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        raise InvalidInput(_("Template file %(template)r is larger than %(limit)s bytes",
                             template=text, limit=MAX_TEMPLATE_BYTES),
                           field="template", value=text)
    return parse_template(path.read_bytes(), source=path.name)


def parse_template(data: bytes | str, source: str = "template") -> SheetTemplate:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(_("%(source)s: the template file is not UTF-8 text", source=source),
                               field="template", value=source) from None
    try:
        if source.lower().endswith(".json"):
            parsed = json.loads(data)
        else:
            parsed = yaml.safe_load(data)  # YAML is a superset of JSON
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(_("%(source)s: not valid JSON/YAML: %(reason)s", source=source, reason=exc),
                           field="template",
                           value=source) from None
    return template_from_mapping(parsed, source)


def template_from_mapping(data: Any, source: str = "template") -> SheetTemplate:
    if not isinstance(data, Mapping):
        raise InvalidInput(_("%(source)s: expected a mapping of fields (%(fields)s)", source=source,
                             fields=", ".join(ALLOWED_FIELDS)),
                           field="template", value=source, allowed=list(ALLOWED_FIELDS))
    unknown = [str(k) for k in data if k not in ALLOWED_FIELDS]
    if unknown:
        raise InvalidInput(_("%(source)s: unknown field(s) %(unknown)s; allowed: %(fields)s",
                             source=source, unknown=", ".join(unknown),
                             fields=", ".join(ALLOWED_FIELDS)),
                           field=unknown[0], value=unknown, allowed=list(ALLOWED_FIELDS))

    def bad(field: str, message: str) -> InvalidInput:
        return InvalidInput(_("%(source)s: %(field)s = %(value)r: %(reason)s", source=source,
                              field=field, value=data.get(field), reason=message),
                            field=field, value=data.get(field))

    def number(field: str, *, required: bool = True, positive: bool = True) -> float | None:
        value = data.get(field)
        if value is None:
            if required:
                raise InvalidInput(_("%(source)s: %(field)s is missing (a number of millimetres)",
                                     source=source, field=field),
                                   field=field)
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad(field, _("expected a number of millimetres"))
        if positive and value <= 0:
            raise bad(field, _("must be greater than 0"))
        if value < 0:
            raise bad(field, _("must not be negative"))
        limit = MAX_LABEL_SIDE_MM if field.startswith("label_") else MAX_PAGE_SIDE_MM
        if value > limit:
            raise bad(field, _("must be at most %(limit)s mm", limit=f"{limit:g}"))
        return float(value)

    def count(field: str) -> int:
        value = data.get(field)
        if value is None:
            raise InvalidInput(_("%(source)s: %(field)s is missing (a whole number)", source=source,
                                 field=field), field=field)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_GRID:
            raise bad(field, _("expected a whole number from 1 to %(limit)s", limit=MAX_GRID))
        return value

    page = data.get("page")
    if page is not None:
        if any(f in data for f in ("page_width_mm", "page_height_mm")):
            raise bad("page", _("give either page or page_width_mm/page_height_mm, not both"))
        size = PAGE_SIZES_MM.get(str(page).strip().upper())
        if size is None:
            raise InvalidInput(_("%(source)s: unknown page size %(page)r; allowed: %(sizes)s or "
                                 "page_width_mm/page_height_mm", source=source, page=page,
                                 sizes=", ".join(PAGE_SIZES_MM)),
                               field="page", value=page, allowed=list(PAGE_SIZES_MM))
        page_w, page_h = size
    else:
        page_w, page_h = number("page_width_mm"), number("page_height_mm")
    columns, rows = count("columns"), count("rows")
    label_w, label_h = number("label_width_mm"), number("label_height_mm")
    left = number("margin_left_mm", positive=False)
    top = number("margin_top_mm", positive=False)
    pitch_x = number("pitch_x_mm", required=False) or label_w
    pitch_y = number("pitch_y_mm", required=False) or label_h
    name = data.get("name") or Path(source).stem
    if not isinstance(name, str) or not name.strip():
        raise bad("name", _("expected text"))

    if min(label_w, label_h) < MIN_LABEL_SIDE_MM:
        raise InvalidInput(
            _("%(source)s: labels of %(width)s x %(height)s mm are too small for a QR code "
              "with its quiet zone; each side must be at least %(limit)s mm", source=source,
              width=f"{label_w:g}", height=f"{label_h:g}", limit=f"{MIN_LABEL_SIDE_MM:g}"),
            field="label_width_mm" if label_w < label_h else "label_height_mm",
            value=min(label_w, label_h))
    if columns > 1 and pitch_x < label_w - _TOLERANCE_MM:
        raise InvalidInput(_("%(source)s: labels overlap: pitch_x_mm %(pitch)s is less than "
                             "label_width_mm %(width)s", source=source, pitch=f"{pitch_x:g}",
                             width=f"{label_w:g}"), field="pitch_x_mm", value=pitch_x)
    if rows > 1 and pitch_y < label_h - _TOLERANCE_MM:
        raise InvalidInput(_("%(source)s: labels overlap: pitch_y_mm %(pitch)s is less than "
                             "label_height_mm %(height)s", source=source, pitch=f"{pitch_y:g}",
                             height=f"{label_h:g}"), field="pitch_y_mm", value=pitch_y)
    right = left + (columns - 1) * pitch_x + label_w
    if right > page_w + _TOLERANCE_MM:
        raise InvalidInput(_("%(source)s: the last column ends %(end)s mm from the left edge, "
                             "beyond the page width of %(page)s mm", source=source,
                             end=f"{right:g}", page=f"{page_w:g}"),
                           field="columns", value=columns)
    bottom = top + (rows - 1) * pitch_y + label_h
    if bottom > page_h + _TOLERANCE_MM:
        raise InvalidInput(_("%(source)s: the last row ends %(end)s mm from the top edge, "
                             "beyond the page height of %(page)s mm", source=source,
                             end=f"{bottom:g}", page=f"{page_h:g}"), field="rows", value=rows)
    description = data.get("description") or ""
    return SheetTemplate(name=name.strip(), page_width_mm=page_w, page_height_mm=page_h,
                         columns=columns, rows=rows, label_width_mm=label_w,
                         label_height_mm=label_h, margin_left_mm=left, margin_top_mm=top,
                         pitch_x_mm=pitch_x, pitch_y_mm=pitch_y, description=str(description))
