"""QR asset labels over HTTP: one label as PNG or ZPL, or a selection as a file."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cmdb import policy
from cmdb.auth import GraphDep, LabelPrinter, SettingsDep
from cmdb.api.models import PATTERN_HELP, Key, KeyPath, KindName, RequestModel
from cmdb.errors import InvalidInput
from cmdb.labels.render import MAX_DPI, MIN_DPI
from cmdb.labels.service import SIZE_PATTERN, FORMATS, LabelJob, Selection, mark_printed, render, select
from cmdb.graph.schema import NONBLANK_LINE_PATTERN
from cmdb.labels.templates import builtin_template_names, template_from_mapping
from cmdb.i18n import N_, _
from cmdb.labels.zpl import DOTS_PER_MM, _PRINTER_FONT

# The printer-font rule of the ZPL renderer, as a case-insensitive pattern.
PRINTER_FONT_PATTERN = "^[BERZberz]:[A-Za-z0-9_-]{1,16}\\.(?:[Tt][Tt][FfEe]|[Ff][Nn][Tt])$"
PATTERN_HELP[SIZE_PATTERN] = N_("WIDTHxHEIGHT in millimetres, each side 10 to 300 mm, e.g. 50.8x25.4")
PATTERN_HELP[PRINTER_FONT_PATTERN] = N_("a font stored on the printer, such as E:ANMDJ.TTF")
assert _PRINTER_FONT.match("E:ANMDJ.TTF") and _PRINTER_FONT.pattern.startswith("^[BERZ]:[A-Z0-9_-]{1,16}")

ZPL_DPIS = tuple(DOTS_PER_MM)

router = APIRouter(tags=["labels"])

_TEMPLATE_HELP = "avery-l7651, avery-l7160 or avery-5160"


Template = Literal[tuple(builtin_template_names())]  # type: ignore[valid-type]
Format = Literal[tuple(FORMATS)]  # type: ignore[valid-type]
# The register's own categories (any text here; an unknown one is refused naming them).
Category = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NONBLANK_LINE_PATTERN)]


# Which labels: not nothing (select() refuses an empty selection). Absent, null, [] and false
# select nothing.
_SELECTION = {"not": {"properties": {
    "keys": {"maxItems": 0}, "unlabelled": {"const": False},
    **{name: {"type": "null"} for name in ("location", "kind", "category")}}}}


class LabelsRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra=_SELECTION)
    keys: list[Key] = Field(default_factory=list, max_length=20_000, description="CIs to label")
    location: Optional[Key] = Field(None, description="Every CI in this location's subtree")
    kind: Optional[KindName] = None
    category: Optional[Category] = Field(None, description="Hardware category: its key, a display "
                                         "name or a synonym (server, 服务器, Servers)")
    unlabelled: bool = Field(False, description="Only CIs whose label was never printed")
    format: Format = Field("pdf", description="pdf, png (one label) or zpl")
    template: Template = Field("avery-l7651", description=_TEMPLATE_HELP)
    custom_template: Optional[dict[str, Any]] = Field(
        None, description="Custom stock in millimetres (page or page_width_mm/page_height_mm, "
                          "columns, rows, label_width_mm, label_height_mm, margin_left_mm, "
                          "margin_top_mm, pitch_x_mm, pitch_y_mm); replaces template")
    skip: int = Field(0, ge=0, le=1000, description="Labels already used on the first sheet")
    dpi: Optional[int] = Field(None, ge=MIN_DPI, le=MAX_DPI)
    size: Optional[str] = Field(None, max_length=32, pattern=SIZE_PATTERN,
                                description="WxH in mm for ZPL or PNG")
    error_correction: str = Field("Q", pattern="^[LMQHlmqh]$")
    printer_font: Optional[str] = Field(None, max_length=32, pattern=PRINTER_FONT_PATTERN, description="ZPL: a font stored on "
                                        "the printer for non-Latin text, e.g. E:ANMDJ.TTF")
    record: bool = Field(True, description="Record label_printed_at on each CI")


def _builtin(template: str) -> str:
    # Only built-in stock by name: a path would let callers read files on the server.
    if template.strip().lower() not in builtin_template_names():
        raise InvalidInput(_("Unknown label template %(template)s; allowed: %(allowed)s (or send "
                             "custom_template)", template=repr(template),
                             allowed=", ".join(builtin_template_names())),
                           field="template", value=template, allowed=list(builtin_template_names()))
    return template.strip().lower()


def _file(output, filename: str) -> Response:
    return Response(output.data, media_type=output.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "X-Label-Count": str(len(output.keys))})


@router.get("/cis/{key}/label.png", summary="One CI's label as PNG (does not record printing)",
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
def label_png(key: KeyPath, graph: GraphDep, settings: SettingsDep, principal: LabelPrinter,
              template: Template = Query("avery-l7651", description=_TEMPLATE_HELP),
              dpi: int = Query(300, ge=MIN_DPI, le=MAX_DPI)) -> Response:
    policy.require_in_scope(graph, principal, [key])
    labels = select(graph, Selection(keys=(key,)))
    output = render(labels, LabelJob(format="png", template=_builtin(template), dpi=dpi), settings)
    return Response(output.data, media_type=output.media_type)


@router.get("/cis/{key}/label.zpl", summary="One CI's label as ZPL (does not record printing)",
            response_class=Response, responses={200: {"content": {"application/x-zpl": {}}}})
def label_zpl(key: KeyPath, graph: GraphDep, settings: SettingsDep, principal: LabelPrinter,
              dpi: int = Query(203, description="Printer dpi", json_schema_extra={"enum": list(ZPL_DPIS)}),
              size: str = Query("50.8x25.4", max_length=32, pattern=SIZE_PATTERN,
                                description="WxH in mm"),
              printer_font: Optional[str] = Query(None, max_length=32, pattern=PRINTER_FONT_PATTERN, description="A font stored "
                                                  "on the printer, e.g. E:ANMDJ.TTF")) -> Response:
    policy.require_in_scope(graph, principal, [key])
    labels = select(graph, Selection(keys=(key,)))
    output = render(labels, LabelJob(format="zpl", dpi=dpi, size=size, printer_font=printer_font),
                    settings)
    return Response(output.data, media_type=output.media_type)


@router.post("/labels", summary="Labels of a selection as PDF sheets, PNG or ZPL",
             response_class=Response,
             responses={200: {"content": {f"application/{f}": {} for f in ("pdf", "x-zpl")}}})
def labels_file(body: LabelsRequest, graph: GraphDep, settings: SettingsDep,
                principal: LabelPrinter) -> Response:
    fmt = body.format.lower()
    if fmt not in FORMATS:
        raise InvalidInput(_("Unknown label format %(format)s; allowed: %(allowed)s",
                             format=repr(body.format), allowed=", ".join(FORMATS)),
                           field="format", value=body.format, allowed=list(FORMATS))
    selection = Selection(tuple(body.keys), body.location, body.kind, body.category, body.unlabelled)
    labels = select(graph, selection)
    policy.require_in_scope(graph, principal, [label.key for label in labels])
    if body.custom_template is not None:
        if fmt != "pdf":
            raise InvalidInput(_("custom_template applies to PDF sheets"), field="custom_template")
        template = template_from_mapping(body.custom_template, "custom_template")
        job = LabelJob(format="pdf", skip=body.skip, dpi=body.dpi,
                       error_correction=body.error_correction.upper())
        output = render(labels, job, settings, template=template)
    else:
        job = LabelJob(format=fmt, template=_builtin(body.template), skip=body.skip,
                       dpi=body.dpi, size=body.size, error_correction=body.error_correction.upper(),
                       printer_font=body.printer_font)
        output = render(labels, job, settings)
    if body.record:
        mark_printed(graph, output.keys, actor=principal.actor)
    return _file(output, f"labels.{output.extension}")
