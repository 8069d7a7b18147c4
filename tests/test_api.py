"""The REST API through the real app on the embedded engine: CIs, relationships, search,
versions (ETag / If-Match), roles on writes, and bad input of every kind."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from neo4j import GraphDatabase

from cmdb.api.app import create_app
from cmdb.graph import Graph
from cmdb.graph.schema import KEY_PATTERN
from cmdb.graph.tokens import ROLES, create_token
from tests.serve_support import refused_port

API = "/api/v1"


class Api:
    """One app over the test graph, with a signed-in client per role."""

    def __init__(self, graph: Graph, settings):
        self.graph = graph
        self.app = create_app(settings, graph=graph)
        self.tokens = {role: create_token(graph, f"{role}-user", role) for role in ROLES}
        self._clients: dict[str, TestClient] = {}

    def client(self, role: str | None = None) -> TestClient:
        if role not in self._clients:
            headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
            self._clients[role] = TestClient(self.app, headers=headers, raise_server_exceptions=False)
        return self._clients[role]

    @property
    def admin(self) -> TestClient:
        return self.client("admin")


@pytest.fixture
def api(embedded_graph, embedded_settings) -> Api:
    return Api(embedded_graph, embedded_settings)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"] and "Traceback" not in response.text
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def create(client, key, kind, **props):
    response = client.post(f"{API}/cis", json={"key": key, "kind": kind, "properties": props})
    assert response.status_code == 201, response.text
    return response


def keys(page: dict) -> list[str]:
    return [item["key"] for item in page["items"]]


def estate(api: Api) -> None:
    """site S1 > room R1 > rack K1; servers in K1, a pc in R1, a switch nowhere; an image, an app."""
    a = api.admin
    create(a, "S1", "Location", type="site", name="Main site")
    create(a, "R1", "Location", type="room", name="Server room")
    create(a, "K1", "Location", type="rack", name="Rack 1")
    create(a, "SRV-1", "Hardware", category="server", status="in_use", name="web one", serial="SN-AAA", model="PowerEdge R650")
    create(a, "SRV-2", "Hardware", category="server", status="in_repair", name="db two", serial="SN-BBB", model="ProLiant")
    create(a, "PC-1", "Hardware", category="pc", status="in_use", name="front desk")
    create(a, "SW-1", "Hardware", category="switch", status="in_stock", name="spare switch")
    create(a, "IMG-1", "SoftwareImage", name="Win11 base", version="23H2")
    create(a, "APP-1", "Application", name="Booking", criticality="vip")
    for f, t, to in [("R1", "LOCATED_IN", "S1"), ("K1", "LOCATED_IN", "R1"), ("SRV-1", "LOCATED_IN", "K1"),
                     ("SRV-2", "LOCATED_IN", "K1"), ("PC-1", "LOCATED_IN", "R1"),
                     ("APP-1", "RUNS_ON", "SRV-1"), ("SRV-1", "RUNS_IMAGE", "IMG-1")]:
        r = a.post(f"{API}/relationships", json={"from": f, "type": t, "to": to})
        assert r.status_code == 200 and r.json()["created"] is True, r.text


# --- CIs ---------------------------------------------------------------------------------


def test_create_read_patch_delete_with_versions_and_history(api):
    a = api.admin
    r = create(a, "SRV-9", "Hardware", category="server", status="planned", ram_gb=16)
    assert r.headers["etag"] == '"1"' and r.headers["location"] == f"{API}/cis/SRV-9"
    body = r.json()
    assert (body["key"], body["kind"], body["revision"]) == ("SRV-9", "Hardware", 1)
    assert {k: body["properties"][k] for k in ("category", "status", "ram_gb")} == \
        {"category": "server", "status": "planned", "ram_gb": 16}

    r = a.get(f"{API}/cis/SRV-9")
    assert r.status_code == 200 and r.headers["etag"] == '"1"' and r.json() == body

    r = a.patch(f"{API}/cis/SRV-9", json={"properties": {"status": "in_use", "ram_gb": None}},
                headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"' and r.json()["revision"] == 2
    assert r.json()["properties"]["status"] == "in_use" and "ram_gb" not in r.json()["properties"]

    assert_error(a.patch(f"{API}/cis/SRV-9", json={"properties": {"name": "late"}},
                         headers={"If-Match": '"1"'}), 412, "version_conflict")
    assert_error(a.delete(f"{API}/cis/SRV-9", headers={"If-Match": '"1"'}), 412, "version_conflict")
    assert a.get(f"{API}/cis/SRV-9").json()["properties"].get("name") is None

    r = a.delete(f"{API}/cis/SRV-9", headers={"If-Match": 'W/"2"'})
    assert r.status_code == 200 and r.json() == {"key": "SRV-9", "deleted": True, "removed_relationships": []}
    assert_error(a.get(f"{API}/cis/SRV-9"), 404, "unknown_key")

    history = a.get(f"{API}/cis/SRV-9/history").json()
    assert [(e["action"], e["actor"]) for e in history["items"]] == \
        [("delete", "admin-user"), ("update", "admin-user"), ("create", "admin-user")]
    assert history["total"] == 3
    assert history["items"][1]["before"] == {"status": "planned", "ram_gb": 16}
    assert history["items"][1]["after"] == {"status": "in_use", "ram_gb": None}
    assert_error(a.get(f"{API}/cis/NEVER-EXISTED/history"), 404, "unknown_key")


def test_list_filters_pagination_and_search(api):
    estate(api)
    v = api.client("viewer")
    everything = v.get(f"{API}/cis", params={"limit": 500}).json()
    assert everything["total"] == 9 and len(everything["items"]) == 9
    assert keys(everything) == sorted(keys(everything))

    def listed(**params):
        r = v.get(f"{API}/cis", params=params)
        assert r.status_code == 200, r.text
        return set(keys(r.json()))

    assert listed(kind="Hardware") == {"SRV-1", "SRV-2", "PC-1", "SW-1"}
    assert listed(kind="Hardware", status="in_use") == {"SRV-1", "PC-1"}
    assert listed(category="server") == {"SRV-1", "SRV-2"}
    assert listed(location="R1") == {"R1", "K1", "SRV-1", "SRV-2", "PC-1"}
    assert listed(location="K1", kind="Hardware") == {"SRV-1", "SRV-2"}
    assert listed(q="poweredge") == {"SRV-1"}
    assert listed(q="sn-bbb") == {"SRV-2"}
    assert listed(q="  ") == listed()

    first = v.get(f"{API}/cis", params={"kind": "Hardware", "limit": 3}).json()
    second = v.get(f"{API}/cis", params={"kind": "Hardware", "limit": 3, "page": 2}).json()
    third = v.get(f"{API}/cis", params={"kind": "Hardware", "limit": 3, "offset": 3}).json()
    assert (first["total"], first["offset"], first["limit"]) == (4, 0, 3)
    assert keys(first) == ["PC-1", "SRV-1", "SRV-2"] and keys(second) == ["SW-1"] == keys(third)
    assert second["offset"] == 3

    found = v.get(f"{API}/search", params={"q": "SRV"}).json()
    assert keys(found) == ["SRV-1", "SRV-2"] and found["total"] == 2
    assert keys(v.get(f"{API}/search", params={"q": "front"}).json()) == ["PC-1"]
    assert v.get(f"{API}/search", params={"q": "nothing-like-this"}).json()["items"] == []

    rels = v.get(f"{API}/cis/SRV-1/relationships").json()
    assert {(r["direction"], r["type"], r["key"]) for r in rels} == {
        ("out", "LOCATED_IN", "K1"), ("out", "RUNS_IMAGE", "IMG-1"), ("in", "RUNS_ON", "APP-1")}
    assert_error(v.get(f"{API}/cis/NOPE/relationships"), 404, "unknown_key")


def test_limits_page_size_query_length_and_filters(api, embedded_settings):
    v = api.client("viewer")
    err = assert_error(v.get(f"{API}/cis", params={"limit": embedded_settings.max_page_size + 1}),
                       422, "invalid_input")
    assert err["details"]["field"] == "limit" and str(embedded_settings.max_page_size) in err["message"]
    assert v.get(f"{API}/cis", params={"limit": embedded_settings.max_page_size}).status_code == 200
    long_q = "x" * (embedded_settings.max_query_length + 1)
    assert assert_error(v.get(f"{API}/search", params={"q": long_q}), 422)["details"]["field"] == "q"
    assert assert_error(v.get(f"{API}/cis", params={"q": long_q}), 422)["details"]["field"] == "q"
    assert_error(v.get(f"{API}/search", params={"q": ""}), 422)
    assert_error(v.get(f"{API}/search"), 422)
    err = assert_error(v.get(f"{API}/cis", params={"kind": "Spaceship"}), 422)
    assert err["details"][0]["field"] == "query.kind" and "Hardware" in err["details"][0]["message"]
    assert_error(v.get(f"{API}/cis", params={"status": "lost"}), 422)
    assert_error(v.get(f"{API}/cis", params={"limit": "ten"}), 422)
    assert_error(v.get(f"{API}/cis", params={"limit": 0}), 422)
    assert_error(v.get(f"{API}/cis", params={"offset": -1}), 422)
    assert_error(v.get(f"{API}/cis", params={"offset": 10**30}), 422)
    every = keys(v.get(f"{API}/cis", params={"kind": "Hardware"}).json())
    from_offset = v.get(f"{API}/cis", params={"kind": "Hardware", "limit": 1, "page": 2, "offset": 1}).json()
    assert keys(from_offset) == every[2:3] and from_offset["offset"] == 2
    assert_error(v.get(f"{API}/cis", params={"location": "NO-SUCH-ROOM"}), 404, "unknown_key")


def test_duplicate_key_and_invalid_properties_write_nothing(api):
    a = api.admin
    create(a, "000123", "Hardware", category="pc")
    err = assert_error(a.post(f"{API}/cis", json={"key": "000123", "kind": "Location"}), 409, "duplicate_key")
    assert "000123" in err["message"]
    assert a.get(f"{API}/cis/000123").json()["kind"] == "Hardware"
    assert a.get(f"{API}/cis/123").status_code == 404

    # The per-kind property schemas of the OpenAPI document refuse these before the graph.
    err = assert_error(a.post(f"{API}/cis", json={"key": "PC-2", "kind": "Hardware",
                                                  "properties": {"status": "sold"}}), 422, "invalid_input")
    assert (err["details"][0]["field"], err["details"][0]["value"]) == ("properties.status", "sold")
    assert "in_use" in err["details"][0]["message"]
    # Other names may be custom fields, which the register declares: the graph layer refuses
    # the ones it does not have, naming what the kind takes.
    err = assert_error(a.post(f"{API}/cis", json={"key": "PC-2", "kind": "Hardware",
                                                  "properties": {"colour": "red"}}), 422, "invalid_property")
    assert (err["details"]["field"], err["details"]["value"]) == ("colour", "red")
    assert "serial" in err["details"]["allowed"] and "revision" not in err["details"]["allowed"]
    err = assert_error(a.post(f"{API}/cis", json={"key": "PC-2", "kind": "Hardware",
                                                  "properties": {"revision": 99}}), 422)
    assert err["details"]["field"] == "revision"
    err = assert_error(a.post(f"{API}/cis", json={"key": "PC-2", "kind": "Hardware",
                                                  "properties": {"colour": {"r": 1}}}), 422)
    assert err["details"][0]["field"].startswith("properties.colour")
    err = assert_error(a.post(f"{API}/cis", json={"key": "PC-2", "kind": "Hardware",
                                                  "properties": {"cpu_cores": -1}}), 422)
    assert "cpu_cores" in err["message"]
    assert a.get(f"{API}/cis/PC-2").status_code == 404
    assert a.get(f"{API}/cis/PC-2/history").status_code == 404


def test_delete_refused_while_needed_lists_dependents_then_force(api):
    estate(api)
    a = api.admin
    err = assert_error(a.delete(f"{API}/cis/K1"), 409, "still_needed")
    assert {d["key"] for d in err["details"]["needed_by"]} == {"SRV-1", "SRV-2"}
    assert "SRV-1" in err["message"] and "SRV-2" in err["message"]
    assert a.get(f"{API}/cis/K1").status_code == 200
    r = a.delete(f"{API}/cis/K1", params={"force": "true"})
    assert r.status_code == 200, r.text
    assert {(x["direction"], x["type"], x["key"]) for x in r.json()["removed_relationships"]} == {
        ("in", "LOCATED_IN", "SRV-1"), ("in", "LOCATED_IN", "SRV-2"), ("out", "LOCATED_IN", "R1")}
    assert a.get(f"{API}/cis/K1").status_code == 404
    assert {x["key"] for x in a.get(f"{API}/cis/SRV-1/relationships").json()} == {"IMG-1", "APP-1"}


def test_relationships_create_replace_refuse_and_delete(api):
    estate(api)
    a = api.admin
    r = a.post(f"{API}/relationships", json={"from": "SRV-1", "type": "LOCATED_IN", "to": "R1"})
    assert r.status_code == 200
    assert r.json() == {"from": "SRV-1", "type": "LOCATED_IN", "to": "R1", "created": True,
                        "replaced": [{"from": "SRV-1", "type": "LOCATED_IN", "to": "K1"}]}
    again = a.post(f"{API}/relationships", json={"from": "SRV-1", "type": "LOCATED_IN", "to": "R1"})
    assert again.json()["created"] is False

    err = assert_error(a.post(f"{API}/relationships", json={"from": "APP-1", "type": "LOCATED_IN", "to": "R1"}),
                       409, "forbidden_relationship")
    assert "Hardware → Location" in err["message"]
    err = assert_error(a.post(f"{API}/relationships", json={"from": "S1", "type": "LOCATED_IN", "to": "K1"}),
                       409, "forbidden_relationship")
    assert "inside itself" in err["message"]
    assert {x["key"] for x in a.get(f"{API}/cis/S1/relationships").json() if x["direction"] == "out"} == set()
    err = assert_error(a.post(f"{API}/relationships", json={"from": "SRV-1", "type": "OWNS", "to": "R1"}), 422)
    assert "LOCATED_IN" in err["message"]
    err = assert_error(a.post(f"{API}/relationships", json={"from": "GHOST", "type": "RUNS_ON", "to": "SRV-1"}),
                       404, "unknown_key")
    assert err["details"]["keys"] == ["GHOST"]
    err = assert_error(a.post(f"{API}/relationships", json={"from_key": "SRV-1", "type": "RUNS_ON", "to": "K1"}), 422)
    assert {d["field"] for d in err["details"]} == {"from", "from_key"}

    r = a.request("DELETE", f"{API}/relationships", json={"from": "APP-1", "type": "RUNS_ON", "to": "SRV-1"})
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert_error(a.request("DELETE", f"{API}/relationships",
                           json={"from": "APP-1", "type": "RUNS_ON", "to": "SRV-1"}), 404, "not_found")
    history = a.get(f"{API}/cis/APP-1/history").json()["items"]
    assert (history[0]["action"], history[0]["actor"]) == ("unlink", "admin-user")


# --- roles on writes ---------------------------------------------------------------------


def test_asset_staff_moves_and_sets_status_but_nothing_else(api):
    estate(api)
    staff = api.client("asset_staff")
    r = staff.patch(f"{API}/cis/PC-1", json={"location": "K1", "properties": {"status": "in_repair"}},
                    headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["status"] == "in_repair" and r.headers["etag"] == '"2"'
    out = {(x["type"], x["key"]) for x in staff.get(f"{API}/cis/PC-1/relationships").json()
           if x["direction"] == "out"}
    assert out == {("LOCATED_IN", "K1")}

    # A move alone is a change too: it bumps the version.
    r = staff.patch(f"{API}/cis/PC-1", json={"location": "R1"}, headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    assert_error(staff.patch(f"{API}/cis/PC-1", json={"location": "K1"}, headers={"If-Match": '"2"'}),
                 412, "version_conflict")

    err = assert_error(staff.patch(f"{API}/cis/PC-1", json={"properties": {"name": "mine", "status": "in_use"}}),
                       403, "forbidden")
    assert err["details"]["fields"] == ["name"] and "location and status" in err["message"]
    for role in ("viewer", "reviewer", "auditor"):
        assert_error(api.client(role).patch(f"{API}/cis/PC-1", json={"location": "K1"}), 403, "forbidden")
        assert_error(api.client(role).post(f"{API}/cis", json={"key": "X", "kind": "Location"}), 403)
    assert_error(staff.post(f"{API}/cis", json={"key": "X", "kind": "Location"}), 403)
    assert_error(staff.delete(f"{API}/cis/PC-1"), 403)
    assert_error(staff.post(f"{API}/relationships", json={"from": "PC-1", "type": "LOCATED_IN", "to": "K1"}), 403)

    history = staff.get(f"{API}/cis/PC-1/history").json()["items"]
    by_admin = [e["action"] for e in history if e["actor"] == "admin-user"]
    by_staff = [(e["action"], (e["after"] or e["before"]).get("to")) for e in history
                if e["actor"] == "asset_staff-user"]
    assert sorted(by_admin) == ["create", "link"]  # the estate
    assert sorted(by_staff) == sorted([("update", None), ("unlink", "R1"), ("link", "K1"),
                                       ("update", None), ("unlink", "K1"), ("link", "R1")])
    assert staff.get(f"{API}/cis/PC-1").json()["properties"].get("name") == "front desk"


def test_patch_is_all_or_nothing(api):
    estate(api)
    a = api.admin
    before = a.get(f"{API}/cis/SW-1").json()
    history_before = a.get(f"{API}/cis/SW-1/history").json()["total"]
    # A valid property with an impossible location, then with a location that is not a Location.
    # SW-1 exists; the location it names does not.
    assert_error(a.patch(f"{API}/cis/SW-1", json={"properties": {"name": "x"}, "location": "NOWHERE"}),
                 409, "unknown_reference")
    assert_error(a.patch(f"{API}/cis/SW-1", json={"properties": {"name": "x"}, "location": "APP-1"}),
                 409, "forbidden_relationship")
    assert_error(a.patch(f"{API}/cis/SW-1", json={"properties": {"name": "x", "ram_gb": "lots"}}), 422)
    assert a.get(f"{API}/cis/SW-1").json() == before
    assert a.get(f"{API}/cis/SW-1/history").json()["total"] == history_before
    assert a.get(f"{API}/cis/SW-1/relationships").json() == []


def test_concurrent_patches_with_the_same_version_exactly_one_wins(api):
    a = api.admin
    create(a, "HOT-1", "Hardware", category="server", name="start")
    writers = 8
    barrier = threading.Barrier(writers)
    results: dict[int, tuple[int, str]] = {}

    def patch(i: int) -> None:
        barrier.wait()
        r = a.patch(f"{API}/cis/HOT-1", json={"properties": {"name": f"writer {i}"}},
                    headers={"If-Match": '"1"'})
        results[i] = (r.status_code, r.text)

    threads = [threading.Thread(target=patch, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(s for s, _ in results.values())
    assert statuses == [200] + [412] * (writers - 1), results
    winner = next(i for i, (s, _) in results.items() if s == 200)
    final = a.get(f"{API}/cis/HOT-1").json()
    assert final["revision"] == 2 and final["properties"]["name"] == f"writer {winner}"
    updates = [e for e in a.get(f"{API}/cis/HOT-1/history").json()["items"] if e["action"] == "update"]
    assert [e["after"] for e in updates] == [{"name": f"writer {winner}"}]


# --- authentication and engine -------------------------------------------------------------


def test_missing_wrong_or_revoked_token_is_401(api):
    anonymous = api.client(None)
    err = assert_error(anonymous.get(f"{API}/cis"), 401, "unauthenticated")
    assert "Bearer" in err["message"]
    assert anonymous.get(f"{API}/cis").headers["www-authenticate"] == "Bearer"
    for header in ("Bearer cmdb_not-a-real-token", "Bearer ", "Basic YWRtaW46YWRtaW4=", "cmdb_x",
                   "Bearer " + "x" * 5000, f"Bearer {api.tokens['admin']}x"):
        assert_error(anonymous.get(f"{API}/cis", headers={"Authorization": header}), 401)
    from cmdb.auth import TOKEN_CACHE_SECONDS
    from cmdb.graph.tokens import revoke_token
    assert api.client("viewer").get(f"{API}/cis").status_code == 200
    revoke_token(api.graph, "viewer-user")
    revoked_at = time.monotonic()
    while True:
        # a request asked after the cache entry (made before the revocation) expired is refused,
        # however long it takes to answer
        asked = time.monotonic()
        if api.client("viewer").get(f"{API}/cis").status_code != 200:
            break
        assert asked - revoked_at < TOKEN_CACHE_SECONDS, "revoked token still accepted"
        time.sleep(0.2)
    assert_error(api.client("viewer").get(f"{API}/cis"), 401, "unauthenticated")
    assert api.client(None).get("/healthz").status_code == 200


def test_engine_unreachable_is_503(embedded_settings):
    with refused_port() as port:
        driver = GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("root", "x"),
                                      connection_timeout=2, max_transaction_retry_time=1)
        dead = Graph(driver, "cmdb", "a stopped engine")
        client = TestClient(create_app(embedded_settings, graph=dead), raise_server_exceptions=False)
        err = assert_error(client.get(f"{API}/cis/X", headers={"Authorization": "Bearer cmdb_abc"}),
                           503, "engine_unavailable")
        assert "unreachable" in err["message"]
        assert_error(client.get("/healthz"), 503, "engine_unavailable")
        driver.close()


# --- bad input ---------------------------------------------------------------------------------


def test_malformed_bodies_wrong_types_and_unknown_fields(api):
    a = api.admin
    json_header = {"content-type": "application/json"}
    for raw in (b"{bad", b"", b"null", b"[]", b'"text"', b'{"key": "A", "kind": "Hardware",}',
                b"\xff\xfe\x00garbage"):
        r = a.post(f"{API}/cis", content=raw, headers=json_header)
        assert r.status_code in (400, 422), (raw, r.text)
        assert_error(r, r.status_code)
    assert_error(a.post(f"{API}/cis", content=b"[" * 100_000, headers=json_header), 400, "bad_request")
    cases = [
        {"key": 123, "kind": "Hardware"},
        {"key": ["A"], "kind": "Hardware"},
        {"key": "A", "kind": "hardware "},
        {"key": "A", "kind": "Hardware", "properties": ["status", "in_use"]},
        {"key": "A", "kind": "Hardware", "extra": True},
        {"key": "", "kind": "Hardware"},
        {"key": "A" * 129, "kind": "Hardware"},
        {"kind": "Hardware"},
    ]
    for body in cases:
        assert_error(a.post(f"{API}/cis", json=body), 422, "invalid_input")
    err = assert_error(a.post(f"{API}/cis", json={"key": "A", "kind": "Hardware", "extra": True}), 422)
    assert err["details"][0]["field"] == "extra"
    assert_error(a.patch(f"{API}/cis/A", json={"status": "in_use"}), 422)
    assert_error(a.patch(f"{API}/cis/A", json={"properties": {"status": 5}, "location": None, "x": 1}), 422)
    # An If-Match that is no ETag of this API matches no version: 412, as RFC 9110 says.
    err = assert_error(a.patch(f"{API}/cis/A", json={}, headers={"If-Match": "yesterday"}), 412)
    assert err["details"]["field"] == "If-Match"
    assert_error(a.request("DELETE", f"{API}/relationships", json={"from": "A", "type": "RUNS_ON"}), 422)
    assert a.get(f"{API}/cis", params={"limit": 500}).json()["total"] == 0


def test_huge_bodies_are_413(api, embedded_settings):
    a = api.admin
    limit = embedded_settings.max_body_bytes
    big = {"key": "BIG", "kind": "Hardware", "properties": {"notes": "x" * (limit + 10)}}
    err = assert_error(a.post(f"{API}/cis", json=big), 413, "too_large")
    assert f"{limit:,}" in err["message"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(limit // 50_000 + 2):
            yield b"x" * 50_000
    assert_error(a.post(f"{API}/cis", content=chunks(), headers={"content-type": "application/json"}), 413)
    err = assert_error(a.post(f"{API}/cis", json={"key": "BIG", "kind": "Hardware",
                                                  "properties": {"notes": "y" * 30_000}}), 422)
    assert err["details"][0]["field"] == "properties.notes"
    assert a.get(f"{API}/cis/BIG").status_code == 404


UNICODE_KEYS = ["機房-01 A", "Ünïcödé key", "🖥️ desk 3", "ПК-7", "000123", "a b  c", "?x=1&y#z", "<b>&amp;",
                "x' OR 1=1 --", "n} RETURN n --", "$key", "'); MATCH (n) DETACH DELETE n; --", "...",
                ".hidden"]


def key_in_path(key: str) -> str:
    return quote(key, safe="")


@pytest.mark.parametrize("key", [".", "..", " .. "])
def test_keys_a_page_address_cannot_carry_are_refused(api, key):
    a = api.admin
    r = a.post(f"{API}/cis", json={"key": key, "kind": "Hardware", "properties": {}})
    err = assert_error(r, 422, "invalid_input")
    assert err["details"][0]["field"] == "key" and repr(key) in err["message"]
    assert keys(a.get(f"{API}/cis").json()) == []


@pytest.mark.parametrize("key", UNICODE_KEYS)
def test_unicode_and_injection_looking_keys_round_trip(api, key):
    a = api.admin
    create(a, "KEEP-ME", "Location", type="site")
    r = create(a, key, "Hardware", name=key, serial=key)
    encoded = key_in_path(key)
    assert r.headers["location"] == f"{API}/cis/{encoded}"
    got = a.get(f"{API}/cis/{encoded}")
    assert got.status_code == 200 and got.json()["key"] == key
    assert keys(a.get(f"{API}/cis", params={"q": key}).json()) == [key]
    assert set(keys(a.get(f"{API}/search", params={"q": key}).json())) == {key}
    patched = a.patch(f"{API}/cis/{encoded}", json={"properties": {"status": "in_use"}},
                      headers={"If-Match": got.headers["etag"]})
    assert patched.status_code == 200, patched.text
    r = a.post(f"{API}/relationships", json={"from": key, "type": "LOCATED_IN", "to": "KEEP-ME"})
    assert r.status_code == 200, r.text
    assert a.get(f"{API}/cis/{encoded}/history").json()["total"] == 3
    assert a.delete(f"{API}/cis/{encoded}", params={"force": True}).status_code == 200
    assert set(keys(a.get(f"{API}/cis").json())) == {"KEEP-ME"}


@pytest.mark.parametrize("value", ["' OR 1=1 --", "x\") RETURN n //", "{}", "$q", "%", "_", ".*", "\\",
                                   "n.key CONTAINS ''", "中文", "🙂"])
def test_injection_looking_filters_match_nothing_and_change_nothing(api, value):
    estate(api)
    v = api.client("viewer")
    r = v.get(f"{API}/cis", params={"q": value})
    assert r.status_code == 200 and r.json()["items"] == [], r.text
    assert v.get(f"{API}/search", params={"q": value}).json()["items"] == []
    if re.search(KEY_PATTERN, value):
        assert_error(v.get(f"{API}/cis", params={"location": value}), 404, "unknown_key")
    else:  # not a key at all
        assert_error(v.get(f"{API}/cis", params={"location": value}), 422, "invalid_input")
    assert v.get(f"{API}/cis", params={"status": value}).status_code == 422
    assert v.get(f"{API}/cis", params={"limit": 500}).json()["total"] == 9


@pytest.mark.parametrize("path", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2E%2E%2F", "..", "%2e%2e",
                                  "a%2Fb", "K1%2F..%2F..%2Fhealthz", "%00", "a%0Ab", "%FF%FE",
                                  "x" * 300, "K1%5C..%5Cx"])
def test_path_traversal_and_odd_keys_are_clean_404_or_422(api, path):
    estate(api)
    a = api.admin
    for method, suffix in (("GET", ""), ("GET", "/history"), ("GET", "/relationships"),
                           ("PATCH", ""), ("DELETE", "")):
        r = a.request(method, f"{API}/cis/{path}{suffix}",
                      json={"properties": {"status": "retired"}} if method == "PATCH" else None)
        assert r.status_code in (404, 405, 422), (method, path, suffix, r.status_code, r.text)
        assert_error(r, r.status_code)
    assert a.get(f"{API}/cis", params={"limit": 500}).json()["total"] == 9
    assert {ci["properties"].get("status") for ci in a.get(f"{API}/cis", params={"kind": "Hardware"}).json()["items"]} \
        == {"in_use", "in_repair", "in_stock"}


def test_unpaired_surrogates_are_refused_not_crashing(api):
    a = api.admin
    raw = b'{"key": "OK-1", "kind": "Hardware", "properties": {"name": "bad \\ud800 text"}}'
    err = assert_error(a.post(f"{API}/cis", content=raw, headers={"content-type": "application/json"}), 422)
    assert "surrogate" in err["message"]
    raw = b'{"key": "OK-1", "kind": "Hardware", "properties": {"\\udfff": 1}}'
    assert_error(a.post(f"{API}/cis", content=raw, headers={"content-type": "application/json"}), 422)
    assert a.get(f"{API}/cis/OK-1").status_code == 404
