"""Spares and loaners: mark hardware a spare, stock against minimums, issue against a repair
(it stands in for the unit) and return; each issue's slip as a PDF."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from cmdb.auth import GraphDep, SettingsDep, SpareStaff, Viewer
from cmdb.api.models import COMMON_ERRORS, KeyPath, error_responses
from cmdb.api.service_models import (
    IssueId, IssueIn, IssueOut, MinimumIn, MinimumOut, SpareIn, SpareOut, StockOut, public,
)
from cmdb.service import spares

router = APIRouter(prefix="/spares", tags=["spares"], responses=COMMON_ERRORS)


@router.post("", response_model=SpareOut, summary="Mark hardware a spare",
             responses=error_responses(404, 409))
def mark_spare(body: SpareIn, graph: GraphDep, user: SpareStaff) -> dict[str, Any]:
    """In stock at ``location`` (default: where it is), for ``model`` (default: its own)."""
    return spares.mark_spare(graph, user, body.key, location=body.location, model=body.model)


@router.get("/stock", response_model=list[StockOut], summary="Spares per model and location")
def stock(graph: GraphDep, _: Viewer) -> list[dict[str, Any]]:
    return spares.stock(graph)


@router.put("/minimums", response_model=MinimumOut, summary="Set a stock minimum",
            responses=error_responses(404, 409))
def set_minimum(body: MinimumIn, graph: GraphDep, user: SpareStaff) -> dict[str, Any]:
    return spares.set_minimum(graph, user, body.model, body.location, body.minimum)


@router.get("/issues", response_model=list[IssueOut], summary="Spare issues, newest first")
def list_issues(graph: GraphDep, _: Viewer,
                open: bool = Query(False, description="Only spares not yet returned")) -> list[dict[str, Any]]:
    return [public(i) for i in spares.list_issues(graph, open_only=open)]


@router.post("/issues", response_model=IssueOut, status_code=201,
             summary="Issue a spare against a repair", responses=error_responses(404, 409))
def issue_spare(body: IssueIn, graph: GraphDep, user: SpareStaff) -> dict[str, Any]:
    """The spare stands in for the repair's unit (STANDS_IN_FOR) and moves to its location."""
    return spares.issue_spare(graph, user, body.repair, body.spare)


@router.get("/issues/{issue_id}", response_model=IssueOut, summary="A spare issue",
            responses=error_responses(404))
def get_issue(issue_id: IssueId, graph: GraphDep, _: Viewer) -> dict[str, Any]:
    return spares.get_issue(graph, issue_id)


@router.post("/issues/{issue_id}/return", response_model=IssueOut, summary="Swap a spare back",
             responses=error_responses(404, 409))
def return_spare(issue_id: IssueId, graph: GraphDep, user: SpareStaff) -> dict[str, Any]:
    return spares.return_spare(graph, user, issue_id)


@router.get("/issues/{issue_id}/slip.pdf", response_class=Response, summary="The issue slip (PDF)",
            responses={200: {"content": {"application/pdf": {}}}, **error_responses(404, 409)})
def issue_slip(issue_id: IssueId, graph: GraphDep, settings: SettingsDep, _: Viewer) -> Response:
    return Response(spares.issue_slip(graph, issue_id, settings.label_font),
                    media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{issue_id}.pdf"'})


# Last: the OpenAPI document lists paths in this order, and an Allow header is answered from
# the first template that matches, so /spares/stock must come before /spares/{key}.
@router.delete("/{key}", response_model=SpareOut, summary="No longer a spare",
               responses=error_responses(404, 409))
def unmark_spare(key: KeyPath, graph: GraphDep, user: SpareStaff) -> dict[str, Any]:
    return spares.mark_spare(graph, user, key, unmark=True)
