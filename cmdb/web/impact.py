"""``/impact``: choose CIs, see the picture of what a change to them touches and the table."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, Reviewer, SettingsDep, Viewer
from cmdb.errors import CMDBError, InvalidInput, UnknownKey
from cmdb.impact.service import impact
from cmdb.i18n import _
from cmdb.i18n.names import kind_name
from cmdb.web.render import JsonRoute, PageRoute, render

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)
json_router = APIRouter(route_class=JsonRoute, tags=["pages"], include_in_schema=False)

MAX_KEYS = 50
TABLE_LIMIT = 500


def _keys(values: list[str]) -> list[str]:
    """Keys from repeated parameters or one box of keys separated by commas or new lines."""
    keys: list[str] = []
    for value in values:
        for part in value.replace("\n", ",").split(","):
            if part.strip():
                keys.append(part.strip())
    keys = list(dict.fromkeys(keys))
    if len(keys) > MAX_KEYS:
        raise InvalidInput(_("Choose at most %(max)s CIs at once (%(n)s given)", max=MAX_KEYS, n=len(keys)),
                           field="keys")
    return keys


def _depth(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 32:
        raise InvalidInput(_("Steps must be a whole number from 1 to 32, not %(value)s", value=repr(text[:10])),
                           field="depth", value=text[:10])
    return int(text)


@router.get("/impact")
def impact_page(request: Request, user: Reviewer, graph: GraphDep,
                keys: list[str] = Query(default=[]), depth: str = "") -> Response:
    result = None
    error = None
    status = 200
    chosen: list[str] = []
    steps: int | None = None
    try:
        steps = _depth(depth)
        chosen = _keys(keys)
        if chosen:
            result = impact(graph, chosen, depth=steps)
    except UnknownKey as exc:
        error, status = exc.message, 404
    except CMDBError as exc:
        error, status = exc.message, 422
    picture_url = None
    rows = []
    if result is not None:
        query = [("keys", k) for k in chosen] + ([("depth", str(steps))] if steps else [])
        picture_url = "/api/v1/impact/graph.svg?" + urlencode(query)
        rows = _table_order(result)[:TABLE_LIMIT]
    return render(request, "impact.html", status=status, user=user, title=_("Impact"), wide=True,
                  keys_text=", ".join(chosen), depth=depth.strip()[:10], error=error, result=result,
                  rows=rows, picture_url=picture_url, table_limit=TABLE_LIMIT)


def _table_order(result: dict) -> list[dict]:
    """One list of the affected CIs: applications first, most critical first, then the rest
    nearest first (the order the analysis gives)."""
    rank = {a["key"]: i for i, a in enumerate(result["summary"]["applications"])}
    return sorted(result["affected"], key=lambda a: (0, rank[a["key"]]) if a["key"] in rank else (1, 0))


@json_router.get("/web/cis.json")
def ci_choices(user: Viewer, graph: GraphDep, settings: SettingsDep, q: str = "") -> dict:
    """CIs matching ``q``, for the impact page's picker."""
    q = q.strip()[: settings.max_query_length]
    page = graph.list_cis(q=q or None, limit=20)
    return {"items": [{"key": c.key, "name": c.name or "", "path": f"{kind_name(c.kind)}: {c.name or c.key}"}
                      for c in page.items]}
