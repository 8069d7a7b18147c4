"""Printing the labels of a selection of CIs: look them up, render, record ``label_printed_at``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from cmdb.errors import InvalidInput, NotFound
from cmdb.i18n import _
from cmdb.graph import schema
from cmdb.graph.labels import label_rows
from cmdb.graph.values import path_text
from cmdb.labels.content import LabelContent
from cmdb.labels.render import DEFAULT_DPI, render_pdf, render_png
from cmdb.labels.templates import SheetTemplate, load_template
from cmdb.labels.zpl import render_zpl
from cmdb.settings import Settings

FORMATS = ("pdf", "png", "zpl")
MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png", "zpl": "application/x-zpl"}
MAX_LABELS = 20_000


@dataclass(frozen=True)
class Selection:
    keys: tuple[str, ...] = ()
    location: str | None = None
    kind: str | None = None
    category: str | None = None
    unlabelled: bool = False


@dataclass(frozen=True)
class LabelJob:
    format: str = "pdf"
    template: str = "avery-l7651"
    skip: int = 0
    dpi: int | None = None  # 300 for PNG/PDF, 203 for ZPL
    size: str | None = None  # "WxH" in mm for ZPL; PNG defaults to the template's label
    error_correction: str = "Q"
    printer_font: str | None = None  # ZPL: a font stored on the printer, e.g. E:ANMDJ.TTF


@dataclass
class LabelOutput:
    data: bytes
    media_type: str
    extension: str
    keys: list[str] = field(default_factory=list)


# A label side: 10 to 300 mm.
_MM = r"(?:(?:[1-9][0-9]|[12][0-9]{2})(?:\.[0-9]+)?|300(?:\.0+)?)"
# WIDTHxHEIGHT in millimetres, each 10 to 300 (the API documents this pattern).
SIZE_PATTERN = rf"^ *({_MM}) *[xX×] *({_MM}) *(?:mm)? *$"


def parse_size(text: str) -> tuple[float, float]:
    match = re.match(SIZE_PATTERN, text or "")
    if not match:
        raise InvalidInput(_("Label size %(size)r is not WIDTHxHEIGHT in millimetres, each 10 to "
                             "300, e.g. 50x25", size=text), field="size", value=text, allowed="10x10 to 300x300")
    return float(match.group(1)), float(match.group(2))


def select(graph, selection: Selection) -> list[LabelContent]:
    """The labels of the selected CIs, sorted by key; unknown keys and empty selections fail."""
    keys = [schema.validate_key(k) for k in selection.keys]
    if keys:
        graph.require_cis(keys)  # UnknownKey lists every missing key
    if selection.location is not None:
        graph.get_ci(schema.validate_key(selection.location, "location"))
    kind = schema.kind_of(selection.kind).label if selection.kind else None
    category = None
    if selection.category:
        words = graph.vocabulary()
        category = words.category_key(selection.category)
        if category is None:
            raise words.unknown_category(selection.category)
    if not (keys or selection.location or kind or category or selection.unlabelled):
        raise InvalidInput(_("Say which labels to print: give keys, --location, --kind, "
                             "--category or --unlabelled"), field="selection")
    rows = label_rows(graph, keys=keys or None, location=selection.location, kind=kind,
                      category=category, unlabelled=selection.unlabelled)
    if not rows:
        raise NotFound(_("No CIs match the selection: nothing to print"),
                       {"field": "selection", "selection": _describe(selection)})
    if len(rows) > MAX_LABELS:
        raise InvalidInput(_("The selection holds %(count)s CIs; at most %(limit)s labels per run",
                             count=len(rows), limit=MAX_LABELS), field="selection", value=len(rows))
    paths = graph.location_paths([r["key"] for r in rows])
    return [LabelContent(key=r["key"], name=r.get("name") or "",
                         second_line=(_spare_line(r["spare_model"]) if r.get("spare") else
                                      _second_line(paths.get(r["key"]), r.get("department"))),
                         organisation="") for r in rows]


SPARE_CAPTION = "备件 Spare"


def _spare_line(model: str | None) -> str:
    """A spare's label says so, and which model it stands in for, where others show a place."""
    return f"{SPARE_CAPTION}: {model}" if model else SPARE_CAPTION


def _second_line(path: list[dict] | None, department: str | None) -> str:
    if path:
        return path_text(path)
    return department or ""


def _describe(selection: Selection) -> dict:
    return {k: v for k, v in selection.__dict__.items() if v not in (None, (), False)}


def render(labels: Sequence[LabelContent], job: LabelJob, settings: Settings, *,
           template: SheetTemplate | None = None) -> LabelOutput:
    fmt = (job.format or "").lower()
    if fmt not in FORMATS:
        raise InvalidInput(_("Unknown label format %(format)r; allowed: %(allowed)s",
                             format=job.format, allowed=", ".join(FORMATS)),
                           field="format", value=job.format, allowed=list(FORMATS))
    labels = _with_organisation(labels, settings)
    keys = [c.key for c in labels]
    if fmt == "zpl":
        width, height = parse_size(job.size) if job.size else (50.8, 25.4)
        data = render_zpl(labels, settings.base_url, width_mm=width, height_mm=height,
                          dpi=job.dpi or 203, error_correction=job.error_correction,
                          printer_font=job.printer_font, font_setting=settings.label_font)
        return LabelOutput(data, MEDIA_TYPES[fmt], "zpl", keys)
    dpi = job.dpi or DEFAULT_DPI
    if fmt == "png":
        if len(labels) != 1:
            raise InvalidInput(_("PNG holds one label; the selection has %(count)s "
                                 "(use --format pdf for sheets)", count=len(labels)), field="format", value=fmt)
        return LabelOutput(_png(labels[0], job, settings), MEDIA_TYPES[fmt], "png", keys)
    data = render_pdf(labels, settings.base_url, template or load_template(job.template), dpi=dpi,
                      skip=job.skip, error_correction=job.error_correction,
                      font_setting=settings.label_font)
    return LabelOutput(data, MEDIA_TYPES[fmt], "pdf", keys)


def render_each_png(labels: Sequence[LabelContent], job: LabelJob,
                    settings: Settings) -> list[LabelOutput]:
    """One PNG per label, in key order: for writing a file per label."""
    return [LabelOutput(_png(c, job, settings), MEDIA_TYPES["png"], "png", [c.key])
            for c in _with_organisation(labels, settings)]


def _with_organisation(labels: Sequence[LabelContent], settings: Settings) -> list[LabelContent]:
    organisation = settings.organisation or ""
    return [LabelContent(c.key, c.name, c.second_line, c.organisation or organisation)
            for c in labels]


def _png(label: LabelContent, job: LabelJob, settings: Settings) -> bytes:
    if job.size:
        width, height = parse_size(job.size)
    else:
        template = load_template(job.template)
        width, height = template.label_width_mm, template.label_height_mm
    return render_png(label, settings.base_url, width, height, dpi=job.dpi or DEFAULT_DPI,
                      error_correction=job.error_correction, font_setting=settings.label_font)


def mark_printed(graph, keys: Sequence[str], *, actor: str) -> None:
    """Record ``label_printed_at`` on each CI (batched writes, each with its history entry)."""
    now = schema.utc_now()
    graph.set_system_properties([(k, {"label_printed_at": now}) for k in keys], actor=actor,
                                source="labels")


def print_labels(graph, selection: Selection, job: LabelJob, settings: Settings, *,
                 actor: str, record: bool = True) -> LabelOutput:
    output = render(select(graph, selection), job, settings)
    if record:
        mark_printed(graph, output.keys, actor=actor)
    return output
