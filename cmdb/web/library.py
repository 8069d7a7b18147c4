"""The document library and knowledge base pages: search, one note (its Markdown shown
sanitised) or file (downloaded, never shown inline), its history, and writing a note."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from urllib.parse import quote

from cmdb.auth import GraphDep, SettingsDep, Viewer
from cmdb.documents import service as documents
from cmdb.documents.store import file_store
from cmdb.web.forms import CheckedForm
from cmdb.i18n import _, names
from cmdb.web.render import TEMPLATES, PageRoute, redirect, render
from cmdb.web.roles import DOCUMENT_ROLES, DocumentEditor

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)
HISTORY_SIZE = 50
TEMPLATES.globals.update(document_kind_name=names.document_kind_name,
                         document_target_name=names.document_target_name)


@router.get("/documents")
def library(request: Request, user: Viewer, graph: GraphDep, settings: SettingsDep, q: str = "",
            target_type: str = "", target: str = "") -> Response:
    q = q.strip()[: settings.max_query_length]
    found = documents.search(graph, q) if q else []
    return render(request, "documents.html", user=user, title=_("Notes and documents"), q=q,
                  found=found, can_write=user.role in DOCUMENT_ROLES,
                  target_type=target_type if target_type in documents.TARGET_TYPES else "ci",
                  target=target.strip()[:200], target_types=documents.TARGET_TYPES)


@router.post("/documents/notes")
def write_note(request: Request, user: DocumentEditor, graph: GraphDep, form: CheckedForm) -> Response:
    note = documents.add_note(graph, user, target_type=form.get("target_type", ""),
                              target=form.get("target", ""), title=form.get("title", ""),
                              body=form.get("body", ""), solves=form.get("solves") or None)
    return redirect(f"/documents/{quote(note['id'], safe='')}")


@router.get("/documents/{doc_id}")
def document(request: Request, doc_id: str, user: Viewer, graph: GraphDep) -> Response:
    doc = documents.get(graph, doc_id)
    history, total = graph.history(doc["id"], limit=HISTORY_SIZE)
    return render(request, "document.html", user=user, title=doc["title"], doc=doc,
                  history=[h.as_dict() for h in history], history_total=total)


@router.get("/documents/{doc_id}/download")
def download(request: Request, doc_id: str, user: Viewer, graph: GraphDep,
             settings: SettingsDep) -> Response:
    doc, chunks = documents.content(graph, file_store(settings), doc_id)
    return StreamingResponse(chunks, media_type=doc["media_type"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(doc['filename'], safe='')}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})
