"""Documents (files) and notes attached to CIs, models, categories, images, applications and
locations: read by every role, changed by the roles the policy's ``document.change`` names."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from urllib.parse import quote

from starlette.convertors import Convertor, register_url_convertor
from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from cmdb.auth import GraphDep, SettingsDep, Viewer, allowed_to
from cmdb.api.models import KeyPath, RequestModel, text_without
from cmdb.documents import service
from cmdb.documents.store import file_store
from cmdb.policy import Caller

router = APIRouter(tags=["documents"])


class _DocumentSegment(Convertor):
    """A path segment that may name one document: not the collection's own words, so that a
    method /documents/files, /notes or /search lacks is answered 405, not tried as an id."""

    regex = "(?!(?:files|notes|search)$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("document", _DocumentSegment())

DocumentEditor = Annotated[Caller, Depends(allowed_to("document.change"))]

TargetType = Literal[service.TARGET_TYPES]  # type: ignore[valid-type]
DOC_ID_PATTERN = r"^DOC-[0-9a-f]{16}$"
DocId = Annotated[str, Path(pattern=DOC_ID_PATTERN, min_length=20, max_length=20,
                            description="The document's id", examples=["DOC-0123456789abcdef"])]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUL = re.compile(r"[\x00]")
Line = text_without(_CONTROL, service.TITLE_MAX_LENGTH, nonblank=True)
Target = text_without(_CONTROL, service.MODEL_MAX_LENGTH, nonblank=True,
                      description="A CI's key (target_type ci), a hardware model (model) or a "
                                  "hardware category (category)", examples=["OptiPlex 7010"])
Symptom = text_without(_CONTROL, service.SOLVES_MAX_LENGTH, nonblank=True,
                       description="The symptom this note is the solution to",
                       examples=["Blue screen after docking"])
Body = text_without(_NUL, service.BODY_MAX_LENGTH, nonblank=True, description="Markdown")


class DocumentNoteIn(RequestModel):
    target_type: TargetType
    target: Target  # type: ignore[valid-type]
    title: Line  # type: ignore[valid-type]
    body: Body  # type: ignore[valid-type]
    solves: Symptom | None = None  # type: ignore[valid-type]


class NotePatch(RequestModel):
    title: Line | None = None  # type: ignore[valid-type]
    body: Body | None = None  # type: ignore[valid-type]
    solves: Symptom | None = Field(None, description="The symptom it solves; null with "  # type: ignore[valid-type]
                                                     "unmark_solution to unmark it")
    unmark_solution: bool = False


class DocumentOut(BaseModel):
    id: str
    type: Literal["file", "note"]
    title: str
    target_type: TargetType
    target: str
    solves: str | None
    body: str | None = Field(description="A note's Markdown (shown sanitised on the pages)")
    filename: str | None
    media_type: str | None
    size: int | None
    created_at: str
    created_by: str
    updated_at: str | None
    updated_by: str | None
    revision: int


class AttachedGroup(BaseModel):
    group: Literal["ci", "model", "category", "image"]
    target: str
    notes: list[DocumentOut]
    files: list[DocumentOut]


class AttachedOut(BaseModel):
    key: str
    groups: list[AttachedGroup]


@router.post("/documents/notes", response_model=DocumentOut, status_code=201, summary="Add a note")
def add_document_note(body: DocumentNoteIn, graph: GraphDep, user: DocumentEditor) -> dict[str, Any]:
    return service.add_note(graph, user, target_type=body.target_type, target=body.target,
                            title=body.title, body=body.body, solves=body.solves)


@router.post("/documents/files", response_model=DocumentOut, status_code=201, summary="Attach a file")
def add_document_file(graph: GraphDep, settings: SettingsDep, user: DocumentEditor,
             file: Annotated[UploadFile, File(description="PDF, image, office document or text; "
                                                          "checked by its content")],
             target_type: Annotated[TargetType, Form()],
             target: Annotated[str, Form(min_length=1, max_length=service.MODEL_MAX_LENGTH)],
             title: Annotated[str | None, Form(max_length=service.TITLE_MAX_LENGTH)] = None,
             ) -> dict[str, Any]:
    """The file is refused above ``CMDB_MAX_DOCUMENT_BYTES`` (413) or when its content is not
    what its name says (422)."""
    return service.add_file(graph, file_store(settings), user, target_type=target_type,
                            target=target, title=title, filename=file.filename, stream=file.file,
                            max_bytes=settings.max_document_bytes)


@router.get("/documents", response_model=list[DocumentOut], summary="Documents attached to one target")
def documents_attached_to(graph: GraphDep, _: Viewer, target_type: TargetType,
             target: Annotated[str, Query(min_length=1, max_length=service.MODEL_MAX_LENGTH,
                                          pattern=r"^[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*$")]
             ) -> list[dict[str, Any]]:
    return service.attached_to(graph, target_type, target)


@router.get("/documents/search", response_model=list[DocumentOut], summary="Search documents and notes")
def search_documents(graph: GraphDep, _: Viewer,
           q: Annotated[str, Query(min_length=1, max_length=200,
                                   pattern=r"^[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*$")],
           limit: Annotated[int, Query(ge=1, le=500)] = service.SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Title, text, symptom, file name and target, case-insensitive; solutions first."""
    return service.search(graph, q, limit)


@router.get("/documents/{doc_id:document}", response_model=DocumentOut, summary="One document or note")
def get_document(doc_id: DocId, graph: GraphDep, _: Viewer) -> dict[str, Any]:
    return service.get(graph, doc_id)


@router.get("/documents/{doc_id:document}/content", response_class=StreamingResponse, summary="Download a file",
            responses={200: {"content": {"application/octet-stream": {}}}})
def download_document(doc_id: DocId, graph: GraphDep, settings: SettingsDep, _: Viewer) -> StreamingResponse:
    doc, chunks = service.content(graph, file_store(settings), doc_id)
    return StreamingResponse(chunks, media_type=doc["media_type"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quoted(doc['filename'])}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


def _quoted(name: str) -> str:
        return quote(name, safe="")


@router.patch("/documents/{doc_id:document}", response_model=DocumentOut, summary="Change a note")
def change_document_note(doc_id: DocId, body: NotePatch, graph: GraphDep, user: DocumentEditor) -> dict[str, Any]:
    solves: Any = None if body.unmark_solution else (body.solves if body.solves is not None else ...)
    return service.update_note(graph, user, doc_id, title=body.title, body=body.body, solves=solves)


@router.delete("/documents/{doc_id:document}", status_code=204, response_class=Response, summary="Remove a document")
def delete_document(doc_id: DocId, graph: GraphDep, user: DocumentEditor) -> Response:
    service.delete(graph, user, doc_id)
    return Response(status_code=204)


@router.get("/cis/{key}/documents", response_model=AttachedOut,
            summary="Documents and notes for a CI, its model, category and image")
def documents_for_ci(key: KeyPath, graph: GraphDep, _: Viewer) -> dict[str, Any]:
    return service.for_ci(graph, key)

