"""Documents (files) and notes (Markdown) attached to what the register holds.

A document or note is attached to one target: a CI of any kind (a device, a location, a
standard image, an application), a hardware model (the ``model`` value devices share) or a
hardware category. A CI's page and scan page show what is attached to the CI itself, to its
model, to its category and to the image it runs. A note may be marked as the solution to a
symptom (``solves``). Changing them takes the ``document.change`` action of the policy, and a
caller with a location scope may attach only to CIs inside it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from cmdb import policy
from cmdb.documents import filetypes
from cmdb.documents.store import FileStore
from cmdb.errors import Conflict, InvalidInput, UnknownReference
from cmdb.graph import Graph, documents as document_queries
from cmdb.graph.schema import utc_now, validate_key
from cmdb.i18n import N_, _, names, pgettext
from cmdb.policy import Caller

TARGET_TYPES = ("ci", "model", "category")


class UnknownCategory(Conflict):
    code = "unknown_category"
FILE, NOTE = "file", "note"
TITLE_MAX_LENGTH = 300
BODY_MAX_LENGTH = 100_000
SOLVES_MAX_LENGTH = 500
MODEL_MAX_LENGTH = 200
FILENAME_MAX_LENGTH = 255
SEARCH_LIMIT = 50


def _field_word(field: str) -> str:
    """A document's field as people call it in a message."""
    return {"title": pgettext("document field", "title"), "target": pgettext("document field", "target"),
            "solves": pgettext("document field", "symptom"), "filename": pgettext("document field", "file name"),
            }.get(field, field)


def _line(value: Any, field: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise InvalidInput(_("The %(field)s is missing", field=_field_word(field)), field=field, value=value)
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(_("The %(field)s is empty", field=_field_word(field)), field=field, value=value)
    text = " ".join(value.split())
    if len(text) > limit or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInput(_("The %(field)s is one line of at most %(limit)s characters",
                             field=_field_word(field), limit=limit),
                           field=field, value=text[:80])
    return text


def _body(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(_("A note needs some text (Markdown)"), field="body", value=value)
    if len(value) > BODY_MAX_LENGTH or "\x00" in value:
        raise InvalidInput(_("A note is text of at most %(limit)s characters", limit=f"{BODY_MAX_LENGTH:,}"),
                           field="body", value=value[:80])
    return value.replace("\r\n", "\n").strip()


def model_name(model: str) -> str:
    """Models compare as the compatibility checks compare them: spacing and case folded."""
    return " ".join(str(model).split()).casefold()


def resolve_target(graph: Graph, target_type: str, value: Any) -> tuple[str, str, str | None]:
    """(indexed target text, the value as shown, the CI key a location scope must hold).
    A target the register does not hold (no such CI, not a category) is a conflict with the
    register, not a malformed request."""
    if target_type == "ci":
        try:
            key = validate_key(value, "target")
        except InvalidInput:
            raise UnknownReference(str(value)) from None
        if key not in graph.get_cis([key]):
            raise UnknownReference(key)
        return f"ci:{key}", key, key
    if target_type == "model":
        model = _line(value, "target", MODEL_MAX_LENGTH)
        return f"model:{model_name(model)}", model, None
    if target_type == "category":
        # The register's categories (shipped ones and those users added), by key, name or synonym.
        words = graph.vocabulary()
        key = words.category_key(str(value))
        if key is None:
            raise UnknownCategory(_("%(value)s is not a category of this register; categories: %(categories)s",
                                    value=repr(value), categories=", ".join(
                                        names.category_name(c) for c in words.categories)),
                                  {"field": "target", "value": value, "allowed": list(words.categories)})
        return f"category:{key}", key, None
    raise InvalidInput(_("%(value)s is not something a document attaches to; allowed: %(allowed)s",
                         value=repr(target_type), allowed=", ".join(TARGET_TYPES)), field="target_type", value=target_type,
                       allowed=list(TARGET_TYPES))


def _authorise(graph: Graph, caller: Caller, scope_key: str | None) -> None:
    policy.require(caller, "document.change", N_("attach, change or remove documents and notes"))
    # A model or a category is register-wide: outside any location scope.
    policy.require_in_scope(graph, caller, [scope_key])


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["id"], "type": doc["type"], "title": doc["title"],
            "target_type": doc["target"].split(":", 1)[0], "target": doc["target_value"],
            "solves": doc.get("solves"), "body": doc.get("body"), "filename": doc.get("filename"),
            "media_type": doc.get("media_type"), "size": doc.get("size"),
            "created_at": doc["created_at"], "created_by": doc["created_by"],
            "updated_at": doc.get("updated_at"), "updated_by": doc.get("updated_by"),
            "revision": int(doc.get("revision") or 1)}


def _new(target: str, shown: str, title: str, actor: str, **fields: Any) -> dict[str, Any]:
    now = utc_now()
    props = {"id": "DOC-" + uuid.uuid4().hex[:16], "target": target, "target_value": shown,
             "title": title, "created_at": now, "created_by": actor, "updated_at": now,
             "updated_by": actor, "revision": 1, **fields}
    return {k: v for k, v in props.items() if v is not None}


def add_note(graph: Graph, caller: Caller, *, target_type: str, target: Any, title: Any, body: Any,
             solves: Any = None) -> dict[str, Any]:
    indexed, shown, scope_key = resolve_target(graph, target_type, target)
    _authorise(graph, caller, scope_key)
    props = _new(indexed, shown, _line(title, "title", TITLE_MAX_LENGTH), caller.actor, type=NOTE,
                 body=_body(body), solves=_line(solves, "solves", SOLVES_MAX_LENGTH, required=False))
    document_queries.create(graph, props, actor=caller.actor)
    return public(props)


def add_file(graph: Graph, store: FileStore, caller: Caller, *, target_type: str, target: Any,
             title: Any, filename: Any, stream: BinaryIO, max_bytes: int) -> dict[str, Any]:
    indexed, shown, scope_key = resolve_target(graph, target_type, target)
    _authorise(graph, caller, scope_key)
    name = _line(Path(str(filename or "")).name or None, "filename", FILENAME_MAX_LENGTH)
    title = _line(title, "title", TITLE_MAX_LENGTH, required=False) or name
    sha256, size, media_type = store.put_stream(stream, max_bytes,
                                                check=lambda path: filetypes.check(path, name))
    props = _new(indexed, shown, title, caller.actor, type=FILE, filename=name,
                 media_type=media_type, size=size, file_sha256=sha256)
    document_queries.create(graph, props, actor=caller.actor)
    return public(props)


def get(graph: Graph, doc_id: str) -> dict[str, Any]:
    return public(document_queries.get(graph, doc_id))


def content(graph: Graph, store: FileStore, doc_id: str) -> tuple[dict[str, Any], Iterator[bytes]]:
    doc = document_queries.get(graph, doc_id)
    if doc["type"] != FILE:
        raise Conflict(_("%(id)s is a note, not a file; read its text", id=doc_id), {"id": doc_id, "type": NOTE})
    return public(doc), store.chunks(doc["file_sha256"])


def update_note(graph: Graph, caller: Caller, doc_id: str, *, title: Any = None, body: Any = None,
                solves: Any = ..., ) -> dict[str, Any]:
    """Change a note's title, text or the symptom it solves (``solves=None`` unmarks it)."""
    doc = document_queries.get(graph, doc_id)
    _authorise(graph, caller, doc["target"].split(":", 1)[1] if doc["target"].startswith("ci:") else None)
    values: dict[str, Any] = {}
    if title is not None:
        values["title"] = _line(title, "title", TITLE_MAX_LENGTH)
    if body is not None:
        if doc["type"] != NOTE:
            raise Conflict(_("%(id)s is a file; only a note has text to change", id=doc_id), {"id": doc_id, "type": FILE})
        values["body"] = _body(body)
    if solves is not ...:
        values["solves"] = _line(solves, "solves", SOLVES_MAX_LENGTH, required=False)
    if not values:
        return public(doc)
    return public(document_queries.update(graph, doc_id, values, actor=caller.actor, at=utc_now()))


def delete(graph: Graph, caller: Caller, doc_id: str) -> None:
    """Remove a document or note; its history stays (and a file stays in the store while a
    backup or another document may name it)."""
    doc = document_queries.get(graph, doc_id)
    _authorise(graph, caller, doc["target"].split(":", 1)[1] if doc["target"].startswith("ci:") else None)
    document_queries.delete(graph, doc_id, actor=caller.actor)


def _sorted(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((public(d) for d in docs), key=lambda d: (d["type"], d["title"].casefold(), d["id"]))


def attached_to(graph: Graph, target_type: str, target: Any) -> list[dict[str, Any]]:
    indexed, _shown, _scope = resolve_target(graph, target_type, target)
    return _sorted(document_queries.for_targets(graph, [indexed]))


def for_ci(graph: Graph, key: str) -> dict[str, Any]:
    """What is attached to the CI, to its model, its category and the image it runs, each
    with its documents and notes."""
    ci = graph.get_ci(validate_key(key))
    groups: list[tuple[str, str, str]] = [("ci", ci.key, f"ci:{ci.key}")]
    model, category = ci.properties.get("model"), ci.properties.get("category")
    if ci.kind == "Hardware":
        if model:
            groups.append(("model", model, f"model:{model_name(model)}"))
        if category:
            groups.append(("category", category, f"category:{category}"))
        for link in graph.neighbours(ci.key, direction="out", types=["RUNS_IMAGE"]):
            groups.append(("image", link["key"], f"ci:{link['key']}"))
    docs = document_queries.for_targets(graph, [target for _, _, target in groups])
    result = []
    for group, shown, target in groups:
        mine = _sorted([d for d in docs if d["target"] == target])
        result.append({"group": group, "target": shown,
                       "notes": [d for d in mine if d["type"] == NOTE],
                       "files": [d for d in mine if d["type"] == FILE]})
    return {"key": ci.key, "groups": result}


def search(graph: Graph, q: Any, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Documents and notes whose title, text, symptom, file name or target holds ``q``
    (case-insensitive). The one search of the library: an index can take it over here."""
    text = _line(q, "q", 200).lower()  # as Cypher's toLower
    found = _sorted(document_queries.search(graph, text))
    solutions_first = sorted(found, key=lambda d: d["solves"] is None)
    return solutions_first[:max(1, min(int(limit), 500))]
