"""The web pages without a browser: roles, sign-in, CSRF, escaping, recording scans."""

from __future__ import annotations

import gzip
import hashlib
import html
import time

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from cmdb import policy
from cmdb.api.app import create_app
from cmdb.graph.tokens import ROLES, revoke_token
from tests.web_support import (
    XSS_NAME, csrf_from, role_tokens, sign_in, small_estate, unlabelled_inputs,
)

RECORDERS = {"asset_staff", "auditor", "admin"}
NON_RECORDERS = set(ROLES) - RECORDERS


@pytest.fixture
def estate(embedded_graph):
    small_estate(embedded_graph)
    return embedded_graph


@pytest.fixture
def tokens(estate):
    return role_tokens(estate)


@pytest.fixture
def app(estate, embedded_settings):
    return create_app(embedded_settings, graph=estate)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def signed_in(app, token: str) -> TestClient:
    c = TestClient(app)
    response = sign_in(c, token)
    assert response.status_code == 303, response.text
    return c


# Every page and who may open it; None means every role.
PAGES = {
    "/": None,
    "/cis": None,
    "/cis?q=db&kind=Hardware": None,
    "/cis/HW-1": None,
    "/s/HW-1": None,
    "/s/S1-B-101": None,
    "/images?site=S1&category=pc": None,
    "/baselines": None,
    "/documents": None,
    "/documents?q=manual": None,
}


def page_routes(app) -> list[APIRoute]:
    return [r for r in app.routes if isinstance(r, APIRoute) and not r.path.startswith("/api/")]


def test_every_page_route_declares_its_roles(app):
    def roles_of(dependant):
        found = []
        for dep in dependant.dependencies:
            if hasattr(dep.call, "allowed_roles"):
                found.append(dep.call)
            found += roles_of(dep)
        return found
    undeclared = {r.path for r in page_routes(app) if not roles_of(r.dependant)}
    assert undeclared == set()


@pytest.mark.parametrize("path", list(PAGES) + ["/s/NOPE-404"])
def test_signed_out_is_sent_to_sign_in_with_the_way_back(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/signin?next=")
    from urllib.parse import parse_qs, urlsplit
    assert parse_qs(urlsplit(location).query)["next"] == [path]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_opens_for_every_role_with_safe_headers(app, tokens, role):
    c = signed_in(app, tokens[role])
    for path, roles in PAGES.items():
        response = c.get(path)
        expected = 200 if roles is None or role in roles else 403
        assert response.status_code == expected, (path, response.text[:300])
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert unlabelled_inputs(response.text) == set(), path


def test_sign_in_rejects_a_wrong_token_and_a_missing_csrf_token(client, tokens):
    page = client.get("/signin")
    bad = client.post("/signin", data={"csrf_token": csrf_from(page.text), "token": "cmdb_wrong"})
    assert bad.status_code == 401
    assert "unknown or revoked" in bad.text
    fresh = TestClient(client.app)
    no_csrf = fresh.post("/signin", data={"token": tokens["viewer"]}, follow_redirects=False)
    assert no_csrf.status_code == 403
    assert "cmdb_session" not in fresh.cookies


def test_session_cookie_flags(app, tokens):
    c = TestClient(app)
    response = sign_in(c, tokens["viewer"])
    cookie = [v for k, v in response.headers.multi_items()
              if k == "set-cookie" and v.startswith("cmdb_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_secure_cookies_when_configured(estate, embedded_settings, tokens):
    settings = embedded_settings.model_copy(update={"secure_cookies": True})
    c = TestClient(create_app(settings, graph=estate), base_url="https://testserver")
    response = sign_in(c, tokens["viewer"])
    cookie = [v for k, v in response.headers.multi_items()
              if k == "set-cookie" and v.startswith("cmdb_session=")][0].lower()
    assert "secure" in cookie and "httponly" in cookie


@pytest.mark.parametrize("target,expected", [
    ("/s/HW-1", "/s/HW-1"), ("//evil.example/x", "/"), ("https://evil.example/", "/"),
    ("/\\evil.example", "/"), ("javascript:alert(1)", "/"),
])
def test_next_is_a_local_path_only(app, tokens, target, expected):
    c = TestClient(app)
    response = sign_in(c, tokens["viewer"], target)
    assert response.status_code == 303
    assert response.headers["location"] == expected


def test_sign_out_needs_csrf_and_ends_the_session(app, tokens):
    c = signed_in(app, tokens["viewer"])
    assert c.post("/signout", data={}, follow_redirects=False).status_code == 403
    token = csrf_from(c.get("/").text)
    assert c.post("/signout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303


def test_revoking_the_token_ends_the_session(app, estate, tokens):
    c = signed_in(app, tokens["reviewer"])
    assert c.get("/cis").status_code == 200
    revoke_token(estate, "reviewer-user")
    assert c.get("/cis", follow_redirects=False).status_code == 303


def test_xss_name_is_shown_as_text(app, tokens):
    c = signed_in(app, tokens["viewer"])
    for path in ("/s/HW-2", "/cis/HW-2", "/cis?q=OptiPlex"):
        body = c.get(path).text
        assert XSS_NAME not in body
        assert html.escape(XSS_NAME, quote=True) in body or "&lt;img src=x onerror=alert(1)&gt;" in body


def test_scan_card_shows_the_asset(app, tokens):
    c = signed_in(app, tokens["viewer"])
    body = c.get("/s/HW-1").text
    for text in ("HW-1", "db server", "Server", "PowerEdge R750", "SN-001", ">In use<",
                 "Main site › Building B › Room 101 › Rack R1", "Payroll", "never"):
        assert text in body, text
    assert "Found here" not in body  # a viewer may look, not record


@pytest.mark.parametrize("role", ROLES)
def test_only_recorders_may_record_a_scan(app, estate, tokens, role):
    c = signed_in(app, tokens[role])
    page = c.get("/s/HW-1").text
    token = csrf_from(page)
    response = c.post("/s/HW-1/found", data={"csrf_token": token, "location": "S1-B-101-R1"},
                      follow_redirects=False)
    seen = estate.get_ci("HW-1").properties.get("last_seen_at")
    if role in RECORDERS:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/s/HW-1?done=found")
        assert seen is not None
        assert "Recorded: found here" in c.get(response.headers["location"]).text
        history, _ = estate.history("HW-1")
        assert (history[0].actor, history[0].source, history[0].after) == (
            f"{role}-user", "scan page: found at S1-B-101-R1", {"last_seen_at": seen})
    else:
        assert response.status_code == 403
        assert "may not do this" in response.text
        assert seen is None


STATUS_SETTERS = policy.roles_for("ci.update")  # the roles the API lets change a status


@pytest.mark.parametrize("role", ROLES)
def test_a_missing_asset_found_again_can_be_set_back_by_who_may_change_a_status(app, estate, tokens, role):
    estate.update_ci("HW-1", {"status": "missing"}, actor="test")
    c = signed_in(app, tokens[role])
    page = c.get("/s/HW-1").text
    assert "Registered as missing." in page
    assert ("Set its status back to In use" in page) == (role in STATUS_SETTERS)
    response = c.post("/s/HW-1/status", data={"csrf_token": csrf_from(page), "status": "in_use"},
                      follow_redirects=False)
    status = estate.get_ci("HW-1").properties["status"]
    if role in STATUS_SETTERS:
        assert response.status_code == 303
        assert response.headers["location"] == "/s/HW-1?done=restored"
        assert status == "in_use"
        history, _ = estate.history("HW-1")
        assert (history[0].actor, history[0].source, history[0].after) == (
            f"{role}-user", "scan page: found again, status set back from missing", {"status": "in_use"})
        again = c.post("/s/HW-1/status", data={"csrf_token": csrf_from(page), "status": "in_use"})
        assert again.status_code == 422
        assert "HW-1 is registered as In use, not missing" in again.text
    else:
        assert response.status_code == 403
        assert "may not do this" in response.text
        assert status == "missing"
        assert "ask asset staff, a registrar or an administrator" in page


def test_setting_a_status_back_refuses_other_statuses_and_forged_forms(app, estate, tokens):
    estate.update_ci("HW-1", {"status": "missing"}, actor="test")
    c = signed_in(app, tokens["admin"])
    token = csrf_from(c.get("/s/HW-1").text)
    for data, status, message in (
            ({"csrf_token": token, "status": "retired"}, 422, "not &#39;retired&#39;"),
            ({"csrf_token": token}, 422, "set back to &#39;In use&#39; here"),
            ({"csrf_token": "forged", "status": "in_use"}, 403, "security token"),
            ({"status": "in_use"}, 403, "security token")):
        response = c.post("/s/HW-1/status", data=data, follow_redirects=False)
        assert (response.status_code, message in response.text) == (status, True), response.text
    assert estate.get_ci("HW-1").properties["status"] == "missing"
    refused = c.post("/s/S1-B-101/status", data={"csrf_token": token, "status": "in_use"})
    assert refused.status_code == 422 and "only hardware is scanned" in refused.text


def test_found_here_without_csrf_is_rejected_and_changes_nothing(app, estate, tokens):
    c = signed_in(app, tokens["asset_staff"])
    for data in ({"location": "S1-B-101-R1"}, {"location": "S1-B-101-R1", "csrf_token": "forged"}):
        response = c.post("/s/HW-1/found", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "security token" in response.text
    assert "last_seen_at" not in estate.get_ci("HW-1").properties


def test_found_here_refuses_a_location_that_is_not_one(app, estate, tokens):
    c = signed_in(app, tokens["asset_staff"])
    token = csrf_from(c.get("/s/HW-1").text)
    response = c.post("/s/HW-1/found", data={"csrf_token": token, "location": "HW-3"})
    assert response.status_code == 422
    assert "not a registered location" in response.text
    assert "last_seen_at" not in estate.get_ci("HW-1").properties


def test_report_a_problem_leaves_a_history_entry_with_the_note(app, estate, tokens):
    c = signed_in(app, tokens["asset_staff"])
    token = csrf_from(c.get("/s/HW-3").text)
    response = c.post("/s/HW-3/problem", data={"csrf_token": token, "problem": "damaged",
                                               "note": "cracked <b>case</b>", "location": "S1-B-202"},
                      follow_redirects=False)
    assert response.status_code == 303
    history, _ = estate.history("HW-3")
    assert history[0].source == "problem reported: Damaged — cracked <b>case</b> (at S1-B-202)"
    detail = c.get("/cis/HW-3").text
    assert "cracked &lt;b&gt;case&lt;/b&gt;" in detail
    bad = c.post("/s/HW-3/problem", data={"csrf_token": token, "problem": "stolen"})
    assert bad.status_code == 422


def test_unknown_tag_page(app, tokens):
    c = signed_in(app, tokens["asset_staff"])
    response = c.get("/s/NOT-IN-REGISTER")
    assert response.status_code == 404
    assert "No asset with tag" in response.text and "NOT-IN-REGISTER" in response.text


def test_location_picker_json(app, tokens):
    c = signed_in(app, tokens["viewer"])
    items = c.get("/web/locations.json", params={"q": "room"}).json()["items"]
    assert {(i["key"], i["path"]) for i in items} == {
        ("S1-B-101", "Main site › Building B › Room 101"),
        ("S1-B-202", "Main site › Building B › Room 202")}
    assert TestClient(c.app).get("/web/locations.json").status_code == 401


def test_ci_detail_has_relationships_and_history(app, tokens):
    c = signed_in(app, tokens["viewer"])
    body = c.get("/cis/HW-1").text
    assert "← runs on" in body and "APP-1" in body and "located in →" in body
    assert "create" in body and "by test" in body
    assert c.get("/cis/NOPE").status_code == 404


def test_browse_searches_and_filters(app, tokens):
    c = signed_in(app, tokens["viewer"])
    body = c.get("/cis", params={"q": "room", "kind": "Location"}).text
    assert "2 items" in body and "S1-B-101" in body and "S1-B-202" in body and "HW-1" not in body
    assert c.get("/cis", params={"kind": "Bogus"}).status_code == 422


def test_assets_are_served_and_unknown_ones_are_not(client):
    assert client.get("/assets/app.css").headers["content-type"].startswith("text/css")
    assert client.get("/assets/picker.js").status_code == 200
    assert client.get("/assets/..%2Fsecurity.py").status_code == 404


# --- audits ---------------------------------------------------------------------------------


@pytest.fixture
def campaign(estate):
    from cmdb.audit.service import start_campaign
    return start_campaign(estate, "Spring <b>inventory</b>", scope=["S1"], actor="test")


@pytest.mark.parametrize("role", ROLES)
def test_audit_pages_for_every_role(app, tokens, campaign, role):
    c = signed_in(app, tokens[role])
    for path in ("/audits", f"/audits/{campaign.id}", f"/audits/{campaign.id}/progress.json"):
        response = c.get(path)
        assert response.status_code == (200 if role in RECORDERS else 403), (path, role)
    assert TestClient(app).get(f"/audits/{campaign.id}", follow_redirects=False).status_code == 303
    assert TestClient(app).get(f"/audits/{campaign.id}/progress.json").status_code == 401


def test_audit_page_escapes_and_shows_progress(app, tokens, campaign):
    c = signed_in(app, tokens["auditor"])
    body = c.get(f"/audits/{campaign.id}").text
    assert "Spring &lt;b&gt;inventory&lt;/b&gt;" in body and "<b>inventory" not in body
    assert "0 of 3 expected assets" in body
    assert c.get("/audits/AUD-nope").status_code == 404
    assert "Main site › Building B" in body  # the per-building bar
    assert unlabelled_inputs(body) == set()


def test_found_here_counts_in_the_campaign(app, estate, tokens, campaign):
    c = signed_in(app, tokens["asset_staff"])
    page = c.get("/s/HW-1").text
    assert "Spring &lt;b&gt;inventory&lt;/b&gt;" in page  # the covering campaign is named
    response = c.post("/s/HW-1/found", data={"csrf_token": csrf_from(page), "location": ""},
                      follow_redirects=False)
    assert response.headers["location"] == "/s/HW-1?done=found&campaigns=1"
    progress = c.get(f"/audits/{campaign.id}/progress.json").json()
    assert (progress["verified"], progress["expected"], progress["scans"]) == (1, 3, 1)
    assert progress["lists"] == {}   # the findings are the auditors', on the pages as in the API
    auditor = signed_in(app, tokens["auditor"])
    progress = auditor.get(f"/audits/{campaign.id}/progress.json").json()
    assert {e["key"] for e in progress["lists"]["missing"]["items"]} == {"HW-2", "HW-3"}
    # found in another room: relocated
    c.post("/s/HW-3/found", data={"csrf_token": csrf_from(page), "location": "S1-B-101"})
    progress = auditor.get(f"/audits/{campaign.id}/progress.json").json()
    assert [(e["key"], e["expected"], e["found"]) for e in progress["lists"]["relocated"]["items"]] == [
        ("HW-3", "Main site / Building B / Room 202", "Main site / Building B / Room 101")]


def test_problem_report_is_on_the_scan(app, estate, tokens, campaign):
    c = signed_in(app, tokens["asset_staff"])
    token = csrf_from(c.get("/s/HW-2").text)
    c.post("/s/HW-2/problem", data={"csrf_token": token, "problem": "label_missing",
                                    "note": "re-label", "location": "S1-B-202"})
    progress = c.get(f"/audits/{campaign.id}/progress.json").json()
    assert progress["verified"] == 1
    from cmdb.audit.service import reconcile_campaign
    found = reconcile_campaign(estate, campaign.id)["found"]
    assert [(e["key"], e.get("condition"), e.get("note")) for e in found] == [
        ("HW-2", "Label missing or unreadable", "re-label")]


def test_continuous_scanning_endpoint(app, estate, tokens, campaign):
    c = signed_in(app, tokens["asset_staff"])
    token = csrf_from(c.get(f"/audits/{campaign.id}").text)
    url = f"/audits/{campaign.id}/scans.json"
    body = {"tag": "HW-1", "location": "S1-B-101"}
    assert c.post(url, json=body).status_code == 403  # no CSRF header
    assert c.post(url, json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    ok = c.post(url, json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["known"] is True
    assert ok.json()["registered_elsewhere"] is None  # registered in a rack of that room
    moved = c.post(url, json={"tag": "HW-3", "location": "S1-B-101"},
                   headers={"X-CSRF-Token": token}).json()
    assert moved["registered_elsewhere"] == "Main site › Building B › Room 202"
    assert moved["message"] == "HW-3 printer — registered in Main site › Building B › Room 202"
    unknown = c.post(url, json={"tag": "STRAY-9", "location": "S1-B-101"},
                     headers={"X-CSRF-Token": token}).json()
    assert unknown["known"] is False and "not in the register" in unknown["message"]
    no_place = c.post(url, json={"tag": "HW-2"}, headers={"X-CSRF-Token": token})
    assert no_place.status_code == 422 and "location" in no_place.json()["error"]["message"]
    progress = signed_in(app, tokens["auditor"]).get(f"/audits/{campaign.id}/progress.json").json()
    assert [e["key"] for e in progress["lists"]["unexpected"]["items"]] == ["STRAY-9"]
    viewer = signed_in(app, tokens["viewer"])
    vtoken = csrf_from(viewer.get("/").text)
    assert viewer.post(url, json=body, headers={"X-CSRF-Token": vtoken}).status_code == 403


def test_unknown_tag_recorded_as_unexpected(app, estate, tokens, campaign):
    c = signed_in(app, tokens["asset_staff"])
    page = c.get("/s/NEW-77")
    assert page.status_code == 404 and "Record as unexpected" in page.text
    response = c.post("/s/NEW-77/unexpected", data={"csrf_token": csrf_from(page.text),
                                                    "campaign": campaign.id, "location": "S1-B-202"},
                      follow_redirects=False)
    assert response.status_code == 303
    progress = signed_in(app, tokens["auditor"]).get(f"/audits/{campaign.id}/progress.json").json()
    assert [(e["key"], e["found"]) for e in progress["lists"]["unexpected"]["items"]] == [
        ("NEW-77", "Main site / Building B / Room 202")]
    bad = c.post("/s/NEW-78/unexpected", data={"csrf_token": csrf_from(page.text),
                                               "campaign": "AUD-nope", "location": "S1-B-202"})
    assert bad.status_code == 422


# --- impact -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_impact_page_for_every_role(app, tokens, role):
    c = signed_in(app, tokens[role])
    response = c.get("/impact", params={"keys": "HW-1"})
    allowed = role in ("reviewer", "admin")
    assert response.status_code == (200 if allowed else 403)
    if allowed:
        body = response.text
        assert "1 down" in body and "APP-1" in body and "Payroll" in body
        assert 'src="/api/v1/impact/graph.svg?keys=HW-1"' in body
        assert unlabelled_inputs(body) == set()
        picture = c.get("/api/v1/impact/graph.svg", params={"keys": "HW-1"})  # the <img>, by cookie
        assert picture.status_code == 200 and picture.headers["content-type"].startswith("image/svg+xml")


def test_impact_page_errors_are_shown_on_the_page(app, tokens):
    c = signed_in(app, tokens["reviewer"])
    unknown = c.get("/impact", params={"keys": "NOPE, HW-1"})
    assert unknown.status_code == 404 and "NOPE" in unknown.text and "<form" in unknown.text
    bad_depth = c.get("/impact", params={"keys": "HW-1", "depth": "x"})
    assert bad_depth.status_code == 422 and "1 to 32" in bad_depth.text
    assert c.get("/impact").status_code == 200
    both = c.get("/impact", params={"keys": "HW-1,S1-B-202", "depth": "2"})
    assert both.status_code == 200 and "HW-2" in both.text


def test_ci_picker_json(app, tokens):
    c = signed_in(app, tokens["reviewer"])
    items = c.get("/web/cis.json", params={"q": "pay"}).json()["items"]
    assert items == [{"key": "APP-1", "name": "Payroll", "path": "Application: Payroll"}]


def test_cookie_cannot_write_through_the_api_without_the_csrf_header(app, estate, tokens):
    c = signed_in(app, tokens["admin"])
    body = {"key": "NEW-1", "kind": "Hardware", "properties": {"name": "x"}}
    response = c.post("/api/v1/cis", json=body)
    assert response.status_code == 401
    assert c.post("/api/v1/cis", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 401
    assert estate.get_cis(["NEW-1"]) == {}
    token = csrf_from(c.get("/").text)
    created = c.post("/api/v1/cis", json=body, headers={"X-CSRF-Token": token})
    assert created.status_code == 201
    assert estate.get_ci("NEW-1").name == "x"


def test_closed_campaign_takes_no_scans(app, estate, tokens, campaign, embedded_settings):
    from cmdb.audit.service import close_campaign
    close_campaign(estate, campaign, actor="test", settings=embedded_settings)
    c = signed_in(app, tokens["auditor"])
    page = c.get(f"/audits/{campaign.id}").text
    assert "takes no more scans" in page and 'id="scan-form"' not in page
    refused = c.post(f"/audits/{campaign.id}/scans.json", json={"tag": "HW-1", "location": "S1-B"},
                     headers={"X-CSRF-Token": csrf_from(page)})
    assert refused.status_code == 409 and "no longer accepts scans" in refused.json()["error"]["message"]
    # the scan page no longer offers the campaign, and "Found here" still marks the asset seen
    scan_page = c.get("/s/HW-1").text
    assert "Open campaign" not in scan_page
    done = c.post("/s/HW-1/found", data={"csrf_token": csrf_from(scan_page)}, follow_redirects=False)
    assert done.headers["location"] == "/s/HW-1?done=found&campaigns=0"
    assert estate.get_ci("HW-1").properties.get("last_seen_at")


def test_home_opens_the_scan_page_of_a_typed_tag(app, tokens):
    c = signed_in(app, tokens["viewer"])
    response = c.get("/", params={"tag": " HW-1 "}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/s/HW-1"
    odd = c.get("/", params={"tag": "a b?c"}, follow_redirects=False)
    assert odd.headers["location"] == "/s/a%20b%3Fc"


def test_browse_inside_a_location(app, tokens):
    c = signed_in(app, tokens["viewer"])
    body = c.get("/cis", params={"location": "S1-B-202"}).text
    assert "3 items" in body
    for key in ("S1-B-202", "HW-2", "HW-3"):
        assert f'href="/cis/{key}"' in body
    assert 'href="/cis/HW-1"' not in body
    assert c.get("/cis", params={"location": "NOPE"}).status_code == 404
    assert "What is in it" in c.get("/s/S1-B-202").text


# --- sessions and the way back ------------------------------------------------------------------


SESSION_NODES = "MATCH (s:WebSession) RETURN properties(s) AS props"


def test_sessions_are_kept_hashed_and_expire(estate, tokens, monkeypatch):
    from cmdb.graph import sessions
    from cmdb.graph.tokens import hash_token

    session_id, csrf = sessions.open_session(estate, hash_token(tokens["viewer"]))
    stored = [row["props"] for row in estate.read(SESSION_NODES)]
    assert len(stored) == 1 and session_id not in stored[0].values()
    assert stored[0]["id_hash"] == hashlib.sha256(session_id.encode()).hexdigest()
    assert sessions.find_session(estate, session_id) == sessions.WebSession(
        csrf, "viewer-user", "viewer")
    assert sessions.find_session(estate, "not-a-session") is None
    assert sessions.find_session(estate, "x" * 500) is None
    now = time.time()
    monkeypatch.setattr(sessions.time, "time", lambda: now + sessions.IDLE_SECONDS + 1)
    assert sessions.find_session(estate, session_id) is None
    assert estate.read(SESSION_NODES) == []


def test_a_restart_keeps_the_session_and_sign_out_ends_it_everywhere(estate, embedded_settings, tokens):
    first = signed_in(create_app(embedded_settings, graph=estate), tokens["asset_staff"])
    cookie = first.cookies.get("cmdb_session")
    # a new server process on the same register: the same cookie still signs in
    restarted = TestClient(create_app(embedded_settings, graph=estate))
    restarted.cookies.set("cmdb_session", cookie)
    page = restarted.get("/s/HW-1", follow_redirects=False)
    assert page.status_code == 200 and csrf_from(page.text) == csrf_from(first.get("/").text)
    assert restarted.post("/signout", data={"csrf_token": csrf_from(page.text)},
                          follow_redirects=False).status_code == 303
    assert first.get("/", follow_redirects=False).status_code == 303
    assert estate.read(SESSION_NODES) == []


def test_sessions_are_not_backed_up(estate, tokens, tmp_path):
    from cmdb.backup.service import write_backup
    from cmdb.graph.tokens import hash_token
    from cmdb.graph.sessions import open_session

    session_id, csrf = open_session(estate, hash_token(tokens["viewer"]))
    path = tmp_path / "register.jsonl.gz"
    write_backup(estate, path)
    text = gzip.decompress(path.read_bytes()).decode()
    assert "ApiToken" in text and "HW-1" in text
    assert "WebSession" not in text and csrf not in text


def test_the_way_back_is_escaped_on_the_sign_in_page(client):
    body = client.get("/signin", params={"next": '/s/x"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in body
    assert 'value="/s/x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in body


def test_pages_name_categories_and_custom_fields_as_the_register_does(app, estate, tokens):
    from cmdb.graph import categories as vocab

    vocab.rename_category(estate, "server", names={"en": "Database host"}, actor="test")
    vocab.add_field(estate, "Hardware", "owner_phone", "text", names={"en": "Owner's phone"})
    estate.update_ci("HW-1", {"owner_phone": "0755-8888"}, actor="test")
    c = signed_in(app, tokens["viewer"])
    page = c.get("/cis/HW-1").text
    assert '<dd data-category="server">Database host</dd>' in page
    assert '<dt data-property="owner_phone">Owner&#39;s phone</dt><dd>0755-8888</dd>' in page
    scan = c.get("/s/HW-1").text
    assert "<dd>Database host</dd>" in scan
