"""Error messages of the register (graph layer, impact, API) in the request's language: each
refusal is triggered for real through the API with ``Accept-Language`` and its whole message
compared, the offending value in it; the machine-readable ``error.code`` is the same in every
language. The rollout's "why not" reasons (data the pages show) too."""

from __future__ import annotations

import pytest

from cmdb.levels.service import install_defaults
from cmdb.policy import Caller
from tests.spreadsheets import xlsx_bytes
from tests.test_api import API, Api, create

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LANGUAGES = ("en", "zh-CN", "zh-TW")
RELATIONSHIP_TYPES = ("LOCATED_IN", "RUNS_ON", "RUNS_IMAGE", "DEPENDS_ON", "CONNECTED_TO",
                      "STANDS_IN_FOR", "SUPERSEDES")
STATUSES = ("planned", "in_stock", "in_use", "in_repair", "retired", "disposed", "missing")


@pytest.fixture
def api(embedded_graph, embedded_settings) -> Api:
    """Site S1 holds rooms R1 and R2; H1 runs image OLD; NEW needs 16 GB of RAM; Hardware
    has the custom field rack_side (front or rear)."""
    api = Api(embedded_graph, embedded_settings)
    a = api.admin
    create(a, "S1", "Location", type="site", name="Main site")
    create(a, "R1", "Location", type="room", name="Room 1")
    create(a, "R2", "Location", type="room", name="Room 2")
    create(a, "H1", "Hardware", name="desk pc", category="pc", status="in_use", ram_gb=8,
           model="OptiPlex 7010")
    create(a, "OLD", "SoftwareImage", name="old image")
    create(a, "NEW", "SoftwareImage", name="new image", min_ram_gb=16)
    for f, t, to in [("R1", "LOCATED_IN", "S1"), ("R2", "LOCATED_IN", "S1"), ("H1", "RUNS_IMAGE", "OLD")]:
        linked = a.post(f"{API}/relationships", json={"from": f, "type": t, "to": to})
        assert linked.status_code == 200, linked.text
    field = a.post(f"{API}/fields", json={"kind": "Hardware", "name": "rack_side", "type": "choice",
                                          "choices": ["front", "rear"]})
    assert field.status_code == 201, field.text
    return api


def _relationships_sheet(*rows: list[str]) -> dict:
    data = xlsx_bytes({"Relationships": [["from", "type", "to"], *rows]})
    return {"files": {"file": ("links.xlsx", data, XLSX)}}


def _choices(values, last_word: str) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + last_word + quoted[-1]


# name -> (role, method, path, request arguments, HTTP status, error code, message per language)
REFUSALS = {
    "bad value of a custom field": (
        "admin", "POST", "/cis",
        {"json": {"key": "H-BAD", "kind": "Hardware", "properties": {"rack_side": "top"}}},
        422, "invalid_property", {
            "en": "H-BAD: Hardware.rack_side: 'top' is not valid; expected one of: front, rear",
            "zh-CN": "H-BAD: Hardware.rack_side：'top' 无效；应为以下之一：front, rear",
            "zh-TW": "H-BAD: Hardware.rack_side：'top' 無效；應為下列之一：front, rear",
        }),
    "unknown property": (
        "admin", "POST", "/cis",
        {"json": {"key": "H-BAD", "kind": "Application", "properties": {"colour": "red"}}},
        422, "invalid_property", {
            "en": "H-BAD: Application has no property 'colour'; allowed: name, description, notes, "
                  "criticality, owner, min_hosts",
            "zh-CN": "H-BAD: Application 没有属性 'colour'；允许的属性：name, description, notes, "
                     "criticality, owner, min_hosts",
            "zh-TW": "H-BAD: Application 沒有屬性 'colour'；允許的屬性：name, description, notes, "
                     "criticality, owner, min_hosts",
        }),
    "status not in the schema": (
        "admin", "POST", "/cis",
        {"json": {"key": "H-BAD", "kind": "Hardware", "properties": {"status": "dancing"}}},
        422, "invalid_input", {
            "en": "Invalid request — properties.status: Input should be " + _choices(STATUSES, " or "),
            "zh-CN": "请求无效 — properties.status: 输入应为 " + _choices(STATUSES, " 或 "),
            "zh-TW": "請求無效 — properties.status: 輸入應為 " + _choices(STATUSES, " 或 "),
        }),
    "number property given text": (
        "admin", "POST", "/cis",
        {"json": {"key": "H-BAD", "kind": "Hardware", "properties": {"ram_gb": "lots"}}},
        422, "invalid_input", {
            "en": "Invalid request — properties.ram_gb: Input should be a valid number",
            "zh-CN": "请求无效 — properties.ram_gb: 输入应为有效数字",
            "zh-TW": "請求無效 — properties.ram_gb: 輸入應為有效數字",
        }),
    "containment cycle": (
        "admin", "POST", "/relationships", {"json": {"from": "S1", "type": "LOCATED_IN", "to": "R1"}},
        409, "forbidden_relationship", {
            "en": "Placing 'S1' there would put it inside itself",
            "zh-CN": "把 'S1' 放在那里会使它位于自身之内",
            "zh-TW": "把 'S1' 放在那裡會使它位於自身之內",
        }),
    "linked to itself": (
        "admin", "POST", "/relationships", {"json": {"from": "R1", "type": "LOCATED_IN", "to": "R1"}},
        409, "forbidden_relationship", {
            "en": "'R1' cannot be linked to itself",
            "zh-CN": "'R1' 不能与自身建立关系",
            "zh-TW": "'R1' 不能與自身建立關係",
        }),
    "relationship the schema does not allow": (
        "admin", "POST", "/relationships", {"json": {"from": "S1", "type": "RUNS_IMAGE", "to": "OLD"}},
        409, "forbidden_relationship", {
            "en": "RUNS_IMAGE cannot join Location 'S1' to SoftwareImage 'OLD'; RUNS_IMAGE joins "
                  "Hardware → SoftwareImage",
            "zh-CN": "RUNS_IMAGE 不能把 Location 'S1' 连接到 SoftwareImage 'OLD'；RUNS_IMAGE 只能连接 "
                     "Hardware → SoftwareImage",
            "zh-TW": "RUNS_IMAGE 不能把 Location 'S1' 連接到 SoftwareImage 'OLD'；RUNS_IMAGE 只能連接 "
                     "Hardware → SoftwareImage",
        }),
    "second value of a single-valued link": (
        "admin", "POST", "/imports",
        _relationships_sheet(["H1", "LOCATED_IN", "R1"], ["H1", "LOCATED_IN", "R2"]),
        409, "forbidden_relationship", {
            "en": "'H1' can have only one LOCATED_IN; given: R1, R2",
            "zh-CN": "'H1' 只能有一个 LOCATED_IN 关系；给出了：R1, R2",
            "zh-TW": "'H1' 只能有一個 LOCATED_IN 關係；提供了：R1, R2",
        }),
    "unknown relationship type": (
        "admin", "POST", "/relationships", {"json": {"from": "H1", "type": "LIVES_IN", "to": "R1"}},
        422, "invalid_input", {
            "en": "Invalid request — type: Input should be " + _choices(RELATIONSHIP_TYPES, " or "),
            "zh-CN": "请求无效 — type: 输入应为 " + _choices(RELATIONSHIP_TYPES, " 或 "),
            "zh-TW": "請求無效 — type: 輸入應為 " + _choices(RELATIONSHIP_TYPES, " 或 "),
        }),
    "role refused": (
        "viewer", "POST", "/cis", {"json": {"key": "H-NEW", "kind": "Hardware", "properties": {}}},
        403, "forbidden", {
            "en": "The role 'viewer' may not do this; it needs one of: admin, registrar",
            "zh-CN": "角色 'viewer' 无权执行此操作；需要以下角色之一：admin, registrar",
            "zh-TW": "角色 'viewer' 無權執行此操作；需要下列角色之一：admin, registrar",
        }),
    "unknown token": (
        None, "GET", "/cis", {"headers": {"Authorization": "Bearer cmdb_no-such-token"}},
        401, "unauthenticated", {
            "en": "The token is unknown or revoked; ask an admin for a new one (`cmdb token create`)",
            "zh-CN": "令牌无效或已吊销；请向管理员申请新令牌（`cmdb token create`）",
            "zh-TW": "權杖無效或已撤銷；請向管理員申請新權杖（`cmdb token create`）",
        }),
    "no such service level": (
        "admin", "POST", "/service-levels/nosuch/assignments", {"json": {"keys": ["H1"]}},
        404, "not_found", {
            "en": "No service level 'nosuch'",
            "zh-CN": "没有服务等级 'nosuch'",
            "zh-TW": "沒有服務等級 'nosuch'",
        }),
    "service level target below zero": (
        "admin", "PUT", "/service-levels/gold", {"json": {"respond_minutes": -5}},
        422, "invalid_input", {
            "en": "Invalid request — respond_minutes: Input should be greater than or equal to 0",
            "zh-CN": "请求无效 — respond_minutes: 输入应大于或等于 0",
            "zh-TW": "請求無效 — respond_minutes: 輸入應大於或等於 0",
        }),
    "no such fault record": (
        "admin", "GET", "/faults/F-202609-9999", {},
        404, "not_found", {
            "en": "No fault record 'F-202609-9999'",
            "zh-CN": "没有故障单 'F-202609-9999'",
            "zh-TW": "沒有故障單 'F-202609-9999'",
        }),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_refusals_speak_the_request_language(api, language):
    got, expected = {}, {}
    for name, (role, method, path, arguments, status, code, messages) in REFUSALS.items():
        arguments = dict(arguments)
        headers = {**arguments.pop("headers", {}), "Accept-Language": language}
        response = api.client(role).request(method, API + path, headers=headers, **arguments)
        body = response.json()
        got[name] = (response.status_code, body["error"]["code"], body["error"]["message"])
        expected[name] = (status, code, messages[language])
    assert got == expected


MISSING_TYPE = {
    "en": "Unknown relationship type 'LIVES_IN'; allowed: " + ", ".join(RELATIONSHIP_TYPES),
    "zh-CN": "未知关系类型 'LIVES_IN'；允许：" + ", ".join(RELATIONSHIP_TYPES),
    "zh-TW": "未知關係類型 'LIVES_IN'；允許：" + ", ".join(RELATIONSHIP_TYPES),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_relationship_type_in_an_import_is_named_in_the_request_language(api, language):
    response = api.admin.post(f"{API}/imports", headers={"Accept-Language": language},
                              **_relationships_sheet(["H1", "LIVES_IN", "R1"]))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_import"
    assert [(e["row"], e["value"], e["message"]) for e in error["details"]["errors"]] == [
        (2, "LIVES_IN", MISSING_TYPE[language])]


WHY_NOT = {
    "en": (["ram_gb 8 below 16"], {"ram_gb below 16": 1}),
    "zh-CN": (["ram_gb 为 8，低于 16"], {"ram_gb 低于 16": 1}),
    "zh-TW": (["ram_gb 為 8，低於 16"], {"ram_gb 低於 16": 1}),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_rollout_says_why_not_in_the_request_language(api, language):
    response = api.client("reviewer").get(f"{API}/images/OLD/rollout", params={"to": "NEW"},
                                          headers={"Accept-Language": language})
    assert response.status_code == 200, response.text
    view = response.json()
    assert ([d["key"] for d in view["cannot"]], view["can"], view["unknown"]) == (["H1"], [], [])
    assert (view["cannot"][0]["reasons"], view["summary"]["reasons"]) == WHY_NOT[language]


STEP_REFUSED = {
    "en": "Fault {id} is open; it can be closed only when resolved",
    "zh-CN": "故障单 {id} 当前为 待处理；只有在 已解决，观察中 时才能 关闭",
    "zh-TW": "故障單 {id} 目前為 待處理；只有在 已解決，觀察中 時才能 結案",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_fault_step_refused_names_the_statuses_in_the_request_language(api, language):
    install_defaults(api.graph, Caller("setup", "admin"))
    opened = api.client("asset_staff").post(f"{API}/faults", json={
        "keys": ["H1"], "title": "fan noise", "severity": "B", "reported_by": "Chen",
        "at": "2026-09-24T16:30:00+08:00"})
    assert opened.status_code == 201, opened.text
    fault_id = opened.json()["id"]
    refused = api.client("engineer").post(
        f"{API}/faults/{fault_id}/close", headers={"Accept-Language": language},
        json={"signed_by": "Zhao", "at": "2026-09-24T21:00:00+08:00"})
    error = refused.json()["error"]
    assert (refused.status_code, error["code"], error["message"]) == (
        409, "conflict", STEP_REFUSED[language].format(id=fault_id))
