"""Image and hardware compatibility checks: pass/fail/unknown per requirement."""

from __future__ import annotations

import pytest

from cmdb.errors import InvalidInput, UnknownKey
from cmdb.impact.compatibility import check_hardware_change, check_image_change
from tests.test_impact import build

NEW_IMAGE = {"name": "Windows 11 2026", "version": "2026.1", "min_cpu_cores": 4, "min_ram_gb": 8,
             "min_disk_gb": 128, "supported_models": ["OptiPlex 7090", "ThinkCentre M70q"]}
PCS = {
    "PC-OK": {"cpu_cores": 8, "ram_gb": 16, "disk_gb": 256, "model": "OptiPlex 7090"},
    "PC-LOWRAM": {"cpu_cores": 4, "ram_gb": 4, "disk_gb": 256, "model": "ThinkCentre M70q"},
    "PC-OLDMODEL": {"cpu_cores": 4, "ram_gb": 8, "disk_gb": 128, "model": "OptiPlex 3010"},
    "PC-NORAM": {"cpu_cores": 4, "disk_gb": 500, "model": "optiplex  7090"},
}


def image_estate(graph):
    build(graph, [(pc, "RUNS_IMAGE", "IMG-W10") for pc in PCS] + [("APP-POS", "RUNS_ON", "PC-LOWRAM"),
                                                                   ("PC-OTHER", "RUNS_IMAGE", "IMG-W11")],
          props={**PCS, "IMG-W11": NEW_IMAGE, "IMG-W10": {"min_ram_gb": 2},
                 "PC-OTHER": {"ram_gb": 1}})


def results(device):
    return {c["requirement"]: c["result"] for c in device["checks"]}


def test_image_rollout_lists_every_device_with_each_requirement(graph):
    image_estate(graph)
    report = check_image_change(graph, "IMG-W10", new_image_key="IMG-W11")
    devices = {d["key"]: d for d in report["devices"]}
    assert {k: d["verdict"] for k, d in devices.items()} == {
        "PC-OK": "pass", "PC-LOWRAM": "fail", "PC-OLDMODEL": "fail", "PC-NORAM": "unknown"}
    assert {k: results(d) for k, d in devices.items()} == {
        "PC-OK": {"min_cpu_cores": "pass", "min_ram_gb": "pass", "min_disk_gb": "pass", "supported_models": "pass"},
        "PC-LOWRAM": {"min_cpu_cores": "pass", "min_ram_gb": "fail", "min_disk_gb": "pass",
                      "supported_models": "pass"},
        "PC-OLDMODEL": {"min_cpu_cores": "pass", "min_ram_gb": "pass", "min_disk_gb": "pass",
                        "supported_models": "fail"},
        "PC-NORAM": {"min_cpu_cores": "pass", "min_ram_gb": "unknown", "min_disk_gb": "pass",
                     "supported_models": "pass"},
    }
    ram = next(c for c in devices["PC-LOWRAM"]["checks"] if c["requirement"] == "min_ram_gb")
    assert (ram["required"], ram["actual"]) == (8, 4)
    assert devices["PC-LOWRAM"]["applications"] == ["APP-POS"]
    assert report["summary"] == {"devices": 4, "pass": 1, "fail": 2, "unknown": 1,
                                 "applications_on_failing_devices": ["APP-POS"]}
    assert [d["verdict"] for d in report["devices"]] == ["fail", "fail", "unknown", "pass"]


def test_requirements_given_directly_override_the_new_image(graph):
    image_estate(graph)
    report = check_image_change(graph, "IMG-W10", new_requirements={"min_ram_gb": "16"})
    assert report["requirements"] == {"min_cpu_cores": None, "min_ram_gb": 16, "min_disk_gb": None,
                                      "supported_models": None}
    assert {d["key"]: d["verdict"] for d in report["devices"]} == {
        "PC-OK": "pass", "PC-LOWRAM": "fail", "PC-OLDMODEL": "fail", "PC-NORAM": "unknown"}
    both = check_image_change(graph, "IMG-W10", "IMG-W11", {"supported_models": "OptiPlex 3010"})
    assert {d["key"]: d["verdict"] for d in both["devices"]} == {
        "PC-OK": "fail", "PC-LOWRAM": "fail", "PC-OLDMODEL": "pass", "PC-NORAM": "fail"}


def test_without_a_new_image_the_current_requirements_are_checked(graph):
    image_estate(graph)
    report = check_image_change(graph, "IMG-W11")
    assert [(d["key"], d["verdict"]) for d in report["devices"]] == [("PC-OTHER", "fail")]


@pytest.mark.parametrize("kwargs, field", [
    ({"image_key": "PC-OK"}, "image"),
    ({"image_key": "IMG-W10", "new_image_key": "APP-POS"}, "new_image"),
    ({"image_key": "IMG-W10", "new_requirements": {"ram_gb": 8}}, "ram_gb"),
    ({"image_key": "IMG-W10", "new_requirements": {"min_ram_gb": "lots"}}, "min_ram_gb"),
])
def test_bad_image_checks_are_refused(graph, kwargs, field):
    image_estate(graph)
    with pytest.raises(InvalidInput) as err:
        check_image_change(graph, **kwargs)
    assert err.value.field == field


def test_unknown_image(graph):
    image_estate(graph)
    with pytest.raises(UnknownKey):
        check_image_change(graph, "IMG-NOPE")
    with pytest.raises(UnknownKey):
        check_image_change(graph, "IMG-W10", "IMG-NOPE")


def server_estate(graph):
    build(graph, [("SRV-DB", "RUNS_IMAGE", "IMG-RHEL"), ("APP-ERP", "RUNS_ON", "SRV-DB"),
                  ("APP-BI", "RUNS_ON", "SRV-DB")],
          props={"SRV-DB": {"cpu_cores": 16, "ram_gb": 64, "disk_gb": 2000, "model": "PowerEdge R750"},
                 "IMG-RHEL": {"min_cpu_cores": 8, "min_ram_gb": 32, "min_disk_gb": 500,
                              "supported_models": ["PowerEdge R750", "PowerEdge R760"]},
                 "APP-ERP": {"criticality": "vip"}})


def test_hardware_change_that_breaks_the_image(graph):
    server_estate(graph)
    report = check_hardware_change(graph, "SRV-DB", {"ram_gb": "16"})
    assert report["changes"] == {"ram_gb": 16}
    assert [(i["key"], i["verdict_before"], i["verdict"], i["no_longer_satisfied"]) for i in report["images"]] == [
        ("IMG-RHEL", "pass", "fail", True)]
    assert {c["requirement"]: c["result"] for c in report["images"][0]["checks"]} == {
        "min_cpu_cores": "pass", "min_ram_gb": "fail", "min_disk_gb": "pass", "supported_models": "pass"}
    assert {(a["key"], a["criticality"], a["verdict"]) for a in report["applications"]} == {
        ("APP-ERP", "vip", "fail"), ("APP-BI", None, "fail")}
    assert report["summary"] == {"images": 1, "images_failing": ["IMG-RHEL"],
                                 "images_no_longer_satisfied": ["IMG-RHEL"],
                                 "applications_affected": ["APP-BI", "APP-ERP"], "verdict": "fail"}


@pytest.mark.parametrize("change, verdict", [
    ({"ram_gb": 128, "disk_gb": 4000}, "pass"),
    ({"model": "PowerEdge R640"}, "fail"),
    ({"cpu_cores": 4}, "fail"),
    ({"ram_gb": None}, "unknown"),
])
def test_hardware_changes(graph, change, verdict):
    server_estate(graph)
    report = check_hardware_change(graph, "SRV-DB", change)
    assert report["summary"]["verdict"] == verdict
    assert report["summary"]["applications_affected"] == (["APP-BI", "APP-ERP"] if verdict == "fail" else [])


@pytest.mark.parametrize("key, change, field", [
    ("SRV-DB", {"ram_gb": "lots"}, "ram_gb"),
    ("SRV-DB", {"memory": 8}, "memory"),
    ("SRV-DB", {}, "properties"),
    ("APP-ERP", {"ram_gb": 8}, "key"),
])
def test_bad_hardware_changes_are_refused(graph, key, change, field):
    server_estate(graph)
    with pytest.raises(InvalidInput) as err:
        check_hardware_change(graph, key, change)
    assert err.value.field == field


def test_hardware_without_an_image(graph):
    build(graph, [("APP-X", "RUNS_ON", "SRV-BARE")])
    report = check_hardware_change(graph, "SRV-BARE", {"ram_gb": 8})
    assert report["images"] == []
    assert report["summary"]["verdict"] == "pass"
    with pytest.raises(UnknownKey):
        check_hardware_change(graph, "SRV-NOPE", {"ram_gb": 8})
