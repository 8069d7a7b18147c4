"""Service levels and fault records over the REST API: roles, input, clocks, signature."""

import base64
import io

from PIL import Image

from cmdb.levels import service as levels
from cmdb.policy import Caller

from tests.test_api import API as API_PREFIX, Api
from tests.web_support import small_estate


def png_b64(width=200, height=80) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_levels_and_a_fault_through_the_api(embedded_graph, embedded_settings):
    small_estate(embedded_graph)
    levels.install_defaults(embedded_graph, Caller("setup", "admin"))
    api = Api(embedded_graph, embedded_settings)
    engineer, staff, viewer = api.client("engineer"), api.client("asset_staff"), api.client("viewer")

    assert viewer.put(f"{API_PREFIX}/service-levels/gold", json={"respond_minutes": 30}).status_code == 403
    put = api.admin.put(f"{API_PREFIX}/service-levels/gold", json={
        "name_en": "Gold", "name_zh_cn": "金牌", "hours": "7x24", "respond_minutes": 30,
        "resolve_minutes": 90})
    assert put.status_code == 200, put.text
    assert put.json()["name_zh_tw"] == "Gold"
    bad = api.admin.put(f"{API_PREFIX}/service-levels/gold", json={"respond_minutes": 30, "hours": "6x6"})
    assert bad.status_code == 422 and "hours" in bad.text
    assigned = api.admin.post(f"{API_PREFIX}/service-levels/gold/assignments", json={"keys": ["S1-B-101"]})
    assert assigned.json()["assigned"] == ["S1-B-101"]
    missing = api.admin.post(f"{API_PREFIX}/service-levels/gold/assignments", json={"keys": ["NOPE"]})
    assert missing.status_code == 404
    of = viewer.get(f"{API_PREFIX}/cis/HW-1/service-level").json()
    assert (of["level"]["id"], of["reason"]) == ("gold", "Gold: its location Room 101 (S1-B-101)")

    body = {"keys": ["HW-1"], "title": "fan noise", "severity": "B", "reported_by": "Chen",
            "at": "2026-09-24T16:30:00+08:00"}
    assert viewer.post(f"{API_PREFIX}/faults", json=body).status_code == 403
    opened = staff.post(f"{API_PREFIX}/faults", json=body)
    assert opened.status_code == 201, opened.text
    fault = opened.json()
    assert (fault["id"], fault["level_id"], fault["reported_via"], fault["opened_by"]) == (
        "F-202609-0001", "gold", "api", "asset_staff-user")
    fid = fault["id"]
    assert staff.post(f"{API_PREFIX}/faults/{fid}/assign", json={"engineer": "x"}).status_code == 403
    early = engineer.post(f"{API_PREFIX}/faults/{fid}/assign",
                          json={"engineer": "Li", "at": "2026-09-24T08:00:00+08:00"})
    assert early.status_code == 409 and "before reported_at" in early.text
    steps = [("assign", {"engineer": "Li", "at": "2026-09-24T16:50:00+08:00"}),
             ("arrive", {"at": "2026-09-24T17:10:00+08:00"}),
             ("actions", {"text": "cleaned the fan", "at": "2026-09-24T17:20:00+08:00"}),
             ("resolve", {"resolution": "fan replaced", "observe_hours": 2,
                          "at": "2026-09-24T18:30:00+08:00"})]
    for step, payload in steps:
        r = engineer.post(f"{API_PREFIX}/faults/{fid}/{step}", json=payload)
        assert r.status_code == 200, (step, r.text)
    too_soon = engineer.post(f"{API_PREFIX}/faults/{fid}/close",
                             json={"signed_by": "Zhao", "at": "2026-09-24T19:00:00+08:00"})
    assert too_soon.status_code == 409 and "under observation" in too_soon.text
    not_png = engineer.post(f"{API_PREFIX}/faults/{fid}/close", json={
        "signed_by": "Zhao", "at": "2026-09-24T21:00:00+08:00",
        "signature_png": base64.b64encode(b"GIF89a....").decode()})
    assert not_png.status_code == 422 and "not a PNG" in not_png.text
    closed = engineer.post(f"{API_PREFIX}/faults/{fid}/close", json={
        "signed_by": "Zhao", "at": "2026-09-24T21:00:00+08:00", "signature_png": png_b64()})
    assert closed.status_code == 200, closed.text
    result = closed.json()
    assert {n: (c["state"], c["elapsed_minutes"]) for n, c in result["clocks"].items()} == {
        "response": ("met", 20), "arrival": ("no_target", 40), "resolution": ("breached", 120)}
    assert [a["text"] for a in result["actions"]] == ["cleaned the fan"]
    sig = viewer.get(f"{API_PREFIX}/faults/{fid}/signature")
    assert (sig.status_code, sig.headers["content-type"]) == (200, "image/png")
    assert base64.b64encode(sig.content).decode() == png_b64()
    history = viewer.get(f"{API_PREFIX}/faults/{fid}/history").json()
    assert [h["actor"] for h in history] == ["asset_staff-user"] + ["engineer-user"] * 5
    listed = viewer.get(f"{API_PREFIX}/faults", params={"open": True}).json()
    assert listed == []
    assert [f["id"] for f in viewer.get(f"{API_PREFIX}/faults", params={"ci": "HW-1"}).json()] == [fid]
    assert viewer.get(f"{API_PREFIX}/faults/F-202609-9999").status_code == 404
