"""Every endpoint x every role: allowed or refused exactly as the endpoint declares.

The declaration is the ``allow(...)`` (or ``public``) dependency on each route; a route without
one fails ``test_every_route_declares_who_may_call_it``, so a new endpoint cannot slip in
unguarded. The table test then calls each /api/v1 route as each role and checks that the
refused roles get 403 and the admitted ones get past the role check.
"""

from __future__ import annotations

import re

import pytest
from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from cmdb.api.app import API_PREFIX, create_app
from cmdb.auth import Viewer, allow, public
from cmdb.graph.tokens import ROLES
from cmdb.settings import Settings
from tests.test_api import Api

UNDECLARED = "undeclared"


def endpoints(app: FastAPI) -> list:
    """The app's API routes as served (with the prefixes and dependencies of the routers that
    include them), whether FastAPI flattens included routers into ``app.routes`` or not."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [c for c in iter_route_contexts(app.routes)
            if isinstance(c.original_route, APIRoute) and getattr(c, "dependant", None) is not None]


def declared_roles(route):
    """The roles a route admits (a frozenset), None for a public route, or UNDECLARED."""
    found = []

    def walk(dependant) -> None:
        for dep in dependant.dependencies:
            if hasattr(dep.call, "allowed_roles"):
                found.append(dep.call.allowed_roles)
            walk(dep)
    walk(route.dependant)
    if not found:
        return UNDECLARED
    if all(f is None for f in found):
        return None
    roles = frozenset(ROLES)
    for f in found:
        if f is not None:
            roles &= f
    return roles


def undeclared_routes(app: FastAPI) -> list[str]:
    return [f"{sorted(r.methods)} {r.path}" for r in endpoints(app)
            if declared_roles(r) == UNDECLARED]


def api_routes(app: FastAPI) -> list[tuple[str, str, object]]:
    return sorted(((m, r.path, r) for r in endpoints(app)
                   if r.path.startswith(API_PREFIX) for m in r.methods), key=lambda x: x[:2])


def test_every_route_declares_who_may_call_it():
    app = create_app(Settings())
    assert undeclared_routes(app) == []
    assert api_routes(app), "no /api/v1 routes found"


def test_the_check_catches_an_unguarded_route():
    app = FastAPI()

    @app.get("/api/v1/guarded")
    def guarded(_: Viewer):  # pragma: no cover - never called
        return {}

    @app.get("/api/v1/open", dependencies=[Depends(public)])
    def open_():  # pragma: no cover
        return {}

    @app.get("/api/v1/forgotten")
    def forgotten():  # pragma: no cover
        return {}

    assert undeclared_routes(app) == ["['GET'] /api/v1/forgotten"]
    assert declared_roles(next(r for r in endpoints(app) if r.path == "/api/v1/guarded")) \
        == frozenset(ROLES)


def test_allow_admits_admin_always_and_viewer_means_everyone():
    assert allow("viewer").allowed_roles == frozenset(ROLES)
    assert allow("asset_staff").allowed_roles == {"asset_staff", "admin"}
    assert allow("admin").allowed_roles == {"admin"}
    with pytest.raises(AssertionError):
        allow("superuser")


# What the CI routes of this module promise (the table in the docs), checked against the code.
EXPECTED = {
    ("GET", "/api/v1/cis"): set(ROLES),
    ("POST", "/api/v1/cis"): {"registrar", "admin"},
    ("GET", "/api/v1/cis/{key}"): set(ROLES),
    ("PATCH", "/api/v1/cis/{key}"): {"asset_staff", "registrar", "admin"},
    ("DELETE", "/api/v1/cis/{key}"): {"admin"},
    ("GET", "/api/v1/cis/{key}/relationships"): set(ROLES),
    ("GET", "/api/v1/cis/{key}/history"): set(ROLES),
    ("POST", "/api/v1/relationships"): {"registrar", "admin"},
    ("DELETE", "/api/v1/relationships"): {"registrar", "admin"},
    ("GET", "/api/v1/search"): set(ROLES),
}


def test_ci_routes_declare_the_documented_roles():
    app = create_app(Settings())
    declared = {(m, p): set(declared_roles(r)) for m, p, r in api_routes(app) if (m, p) in EXPECTED}
    assert declared == EXPECTED


def fill_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "no-such-thing", path)


def test_every_api_route_as_every_role(embedded_graph, embedded_settings):
    api = Api(embedded_graph, embedded_settings)
    outcomes = {}
    for method, path, route in api_routes(api.app):
        roles = declared_roles(route)
        url = fill_path(path)
        body = {} if method in ("POST", "PATCH", "PUT", "DELETE") else None
        anonymous = api.client(None).request(method, url, json=body)
        if roles is not None:
            assert anonymous.status_code == 401, (method, path, anonymous.text)
        for role in ROLES:
            r = api.client(role).request(method, url, json=body)
            assert r.status_code < 500, (method, path, role, r.status_code, r.text)
            refused = r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
            outcomes[(method, path, role)] = "refused" if refused else "allowed"
            should_refuse = roles is not None and role not in roles
            assert refused == should_refuse, (method, path, role, r.status_code, r.text)
            assert r.status_code != 401, (method, path, role, r.text)
    # Nothing slipped through as a write: the table test used keys that do not exist.
    assert api.admin.get(f"{API_PREFIX}/cis").json()["total"] == 0
    assert all(outcomes[(m, p, "admin")] == "allowed" for m, p, _ in api_routes(api.app))
