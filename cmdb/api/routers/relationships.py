"""Relationships between CIs: create and remove (from, type, to). Reading them is per CI
(``GET /cis/{key}/relationships``)."""

from __future__ import annotations

from fastapi import APIRouter

from cmdb import policy
from cmdb.auth import GraphDep, RelationshipEditor
from cmdb.api.models import (
    COMMON_ERRORS, LinkOut, Relationship, RelationshipIn, UnlinkOut, error_responses,
)

router = APIRouter(tags=["relationships"], responses=COMMON_ERRORS)


@router.post("/relationships", response_model=LinkOut, summary="Link two CIs",
             responses=error_responses(404))
def link(body: RelationshipIn, graph: GraphDep, principal: RelationshipEditor) -> LinkOut:
    """Creates ``from -[type]-> to``; a LOCATED_IN or RUNS_IMAGE replaces the CI's previous one.
    Linking what is already linked changes nothing (``created: false``)."""
    policy.require_in_scope(graph, principal, _changed(body))
    result = graph.link(body.from_key, body.type, body.to_key, actor=principal.actor)
    link = (result.created or result.unchanged)[0]
    return LinkOut(from_key=link.from_key, type=link.type, to_key=link.to_key,
                   created=bool(result.created),
                   replaced=[Relationship(from_key=r.from_key, type=r.type, to_key=r.to_key)
                             for r in result.replaced])


@router.delete("/relationships", response_model=UnlinkOut, summary="Unlink two CIs",
               responses=error_responses(404))
def unlink(body: RelationshipIn, graph: GraphDep, principal: RelationshipEditor) -> UnlinkOut:
    policy.require_in_scope(graph, principal, _changed(body))
    graph.unlink(body.from_key, body.type, body.to_key, actor=principal.actor)
    return UnlinkOut(from_key=body.from_key, type=body.type, to_key=body.to_key)


def _changed(body: RelationshipIn) -> list[str]:
    """The CIs a scope must hold: the one that needs, and where it moves to for LOCATED_IN."""
    return [body.from_key] + ([body.to_key] if body.type == "LOCATED_IN" else [])
