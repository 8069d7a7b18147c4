"""Spreadsheet import (multipart upload) and the register as a workbook."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response

from cmdb.auth import GraphDep, Importer, SettingsDep
from cmdb.api.errors import error_response
from cmdb.api.models import COMMON_ERRORS, error_responses
from cmdb.errors import InvalidInput, TooLarge
from cmdb.graph.schema import KINDS
from cmdb.i18n import _
from importers.export import export_xlsx_bytes
from importers.headings import RELATIONSHIPS_SHEET, SHEET_KINDS
from importers.mapping import Mapping, parse_kind, parse_mapping
from importers.plan import Options
from importers.presets import PRESETS, load_mapping
from importers.readers import ENCODING_NAMES
from importers.service import run_import

router = APIRouter(tags=["imports"], responses=COMMON_ERRORS)

SheetKind = Literal[SHEET_KINDS]  # type: ignore[valid-type]
Preset = Literal[PRESETS]  # type: ignore[valid-type]
Encoding = Literal[ENCODING_NAMES]  # type: ignore[valid-type]
ExportKind = Literal[tuple(KINDS)]  # type: ignore[valid-type]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ_CHUNK = 1 << 20


async def _read_bounded(upload: UploadFile, limit: int, setting: str = "CMDB_MAX_UPLOAD_BYTES") -> bytes:
    """The upload's bytes, refusing more than ``limit`` without reading the rest."""
    chunks, size = [], 0
    while chunk := await upload.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(_("%(file)s is larger than the limit of %(limit)s bytes (%(setting)s)",
                             file=upload.filename or _("the upload"), limit=f"{limit:,}",
                             setting=setting),
                           {"field": "file", "allowed": limit})
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/imports", summary="Import a spreadsheet",
             responses=error_responses(413, 422))
async def import_spreadsheet(
    graph: GraphDep, settings: SettingsDep, principal: Importer,
    file: Annotated[UploadFile, File(description=".xlsx, .xls, .ods or .csv")],
    dry_run: Annotated[bool, Form(description="Validate and report; write nothing")] = False,
    skip_invalid: Annotated[bool, Form(description="Write the valid rows, report the others")] = False,
    clear_empty: Annotated[bool, Form(description="Empty cells erase the property")] = False,
    dayfirst: Annotated[Optional[bool], Form(description="Read 05/01/26 as 5 January (true) or as "
                                             "May 1 (false); default: as the preset says, else "
                                             "month first")] = None,
    encoding: Annotated[Optional[Encoding], Form(description="Text encoding of a CSV file "
                                                 "(default: detected)")] = None,
    kind: Annotated[Optional[SheetKind], Form(description="Kind of every sheet (default: from sheet names)")] = None,
    sheet: Annotated[Optional[str], Form(max_length=200, description="Import only this sheet")] = None,
    mapping: Annotated[Optional[Preset], Form(description="A preset mapping")] = None,
    mapping_file: Annotated[Optional[UploadFile], File(description="Column mapping (YAML or JSON)")] = None,
    new_categories: Annotated[Optional[bool], Form(
        description="Create the categories the file names that the register lacks (default: "
                    "only with a preset); needs the role registrar")] = None,
    new_fields: Annotated[bool, Form(description="Keep unknown columns as new custom fields "
                                                 "(default: reported as ignored); needs the role "
                                                 "registrar")] = False,
) -> Any:
    """Same rules and summary as `cmdb import --json`. When problems stop the import (and
    `skip_invalid` is not set) nothing is written and the answer is 422 with the summary,
    every problem naming its sheet, row, column and value, in `error.details`."""
    from fastapi.concurrency import run_in_threadpool

    data = await _read_bounded(file, settings.max_upload_bytes)
    chosen: Mapping = Mapping()
    if mapping:
        if mapping.lower() not in PRESETS:
            raise InvalidInput(_("mapping must be one of the presets %(presets)s; upload a "
                                 "mapping file as mapping_file", presets=", ".join(PRESETS)),
                               field="mapping", value=mapping,
                               allowed=list(PRESETS))
        chosen = load_mapping(mapping.lower())
    elif mapping_file is not None:
        spec = await _read_bounded(mapping_file, settings.max_mapping_bytes, "CMDB_MAX_MAPPING_BYTES")
        # Parsed in the thread pool: a slow document must not hold up every other request.
        chosen = await run_in_threadpool(parse_mapping, spec, mapping_file.filename or "mapping_file",
                                         settings.max_mapping_bytes)
    options = Options(kind=parse_kind(kind) if kind else None, dayfirst=dayfirst,
                      clear_empty=clear_empty, skip_invalid=skip_invalid, encoding=encoding or None,
                      new_categories=new_categories, new_fields=new_fields)
    name = file.filename or "upload"
    result = await run_in_threadpool(
        run_import, graph, [(name, data)], mapping=chosen, options=options, sheet=sheet,
        dry_run=dry_run, actor=principal.actor, settings=settings, caller=principal)
    summary = result.as_dict()
    if result.refused:
        n = len(result.plan.problems)
        if principal.scope:
            message = _("%(name)s changes what the role %(role)s (scoped to %(scope)s) may not "
                        "change; nothing was written. %(n)s problem(s), each naming its sheet, "
                        "row and column, in error.details.", name=name,
                        role=repr(principal.role), scope=repr(principal.scope), n=n)
        else:
            message = _("%(name)s changes what the role %(role)s may not change; nothing was "
                        "written. %(n)s problem(s), each naming its sheet, row and column, in "
                        "error.details.", name=name, role=repr(principal.role), n=n)
        return error_response(403, "forbidden", message, summary)
    if result.plan.problems and not skip_invalid:
        n = len(result.plan.problems)
        return error_response(422, "invalid_import",
                              _("%(n)s problem(s) in %(name)s; nothing was written. Fix them "
                                "or send skip_invalid=true to write the valid rows.", n=n,
                                name=name), summary)
    return JSONResponse(summary)


@router.get("/exports/register.xlsx", summary="The register as a workbook",
            response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "One sheet per kind plus "
                                                                   "Relationships"}})
def export_register(graph: GraphDep, principal: Importer, kind: Optional[ExportKind] = None) -> Response:
    """One sheet per kind plus Relationships, readable back by `POST /imports` with nothing
    changed. Text starting with = + - @ tab CR LF is prefixed with an apostrophe."""
    chosen = parse_kind(kind) if kind else None
    if chosen == RELATIONSHIPS_SHEET:
        raise InvalidInput(_("kind takes a CI kind; relationships come with their CIs"), field="kind",
                           value=kind)
    body = export_xlsx_bytes(graph, chosen)
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="register.xlsx"'})
