"""Compatibility of hardware and standard images (the contract's configuration rule).

A software change must fit the hardware's capacity; a hardware change must keep the images
(and so the applications) on it working. Each requirement of an image is checked against a
device: cpu cores, RAM and disk against ``min_*``, the model against ``supported_models``.
Each check is ``pass``, ``fail``, ``unknown`` (the device does not record the value — never
counted as a pass) or ``not_required`` (the image sets no such requirement).
"""

from __future__ import annotations

from typing import Any, Mapping

from cmdb.errors import InvalidInput, WrongKind
from cmdb.graph import CI, Graph
from cmdb.graph import impact as graph_impact
from cmdb.graph.schema import KINDS, validate_properties
from cmdb.i18n import _

PASS, FAIL, UNKNOWN, NOT_REQUIRED = "pass", "fail", "unknown", "not_required"
VERDICT_ORDER = {FAIL: 0, UNKNOWN: 1, PASS: 2}

# requirement on the image -> property of the hardware
CAPACITY = (("min_cpu_cores", "cpu_cores"), ("min_ram_gb", "ram_gb"), ("min_disk_gb", "disk_gb"))
REQUIREMENTS = tuple(r for r, _ in CAPACITY) + ("supported_models",)
HARDWARE_FACTS = tuple(h for _, h in CAPACITY) + ("model",)


def requirements_of(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {r: properties.get(r) for r in REQUIREMENTS}


def check(requirements: Mapping[str, Any], hardware: Mapping[str, Any]) -> dict[str, Any]:
    """Each requirement checked against one device's properties, and the overall verdict."""
    checks = []
    for requirement, fact in CAPACITY:
        required, actual = requirements.get(requirement), hardware.get(fact)
        if required is None:
            result = NOT_REQUIRED
        elif actual is None:
            result = UNKNOWN
        else:
            result = PASS if actual >= required else FAIL
        checks.append({"requirement": requirement, "property": fact, "required": required,
                       "actual": actual, "result": result})
    models = requirements.get("supported_models") or []
    model = hardware.get("model")
    if not models:
        result = NOT_REQUIRED
    elif model is None or not str(model).strip():
        result = UNKNOWN
    else:
        wanted = {_model_name(m) for m in models}
        result = PASS if _model_name(model) in wanted else FAIL
    checks.append({"requirement": "supported_models", "property": "model", "required": list(models),
                   "actual": model, "result": result})
    return {"checks": checks, "verdict": verdict(checks)}


def verdict(checks: list[dict[str, Any]]) -> str:
    results = {c["result"] for c in checks}
    if FAIL in results:
        return FAIL
    if UNKNOWN in results:
        return UNKNOWN
    return PASS


def _model_name(model: Any) -> str:
    return " ".join(str(model).split()).casefold()


def _require_kind(ci: CI, kind: str, field: str) -> None:
    if ci.kind != kind:
        raise WrongKind(_("%(key)s is a %(kind)s, not a %(wanted)s", key=repr(ci.key),
                          kind=ci.kind, wanted=kind), field=field, value=ci.key,
                        allowed=_("the key of a %(kind)s", kind=kind))


def check_image_change(graph: Graph, image_key: str, new_image_key: str | None = None,
                       new_requirements: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Would every device built from ``image_key`` carry the new image?

    The requirements are the new image's (``new_image_key``), overridden by
    ``new_requirements`` (``min_cpu_cores``, ``min_ram_gb``, ``min_disk_gb``,
    ``supported_models``); with neither, the image's own requirements are checked
    (is every device still fit for the image it runs?).
    """
    image = graph.get_ci(image_key)
    _require_kind(image, "SoftwareImage", "image")
    target = image
    if new_image_key is not None:
        target = graph.get_ci(new_image_key)
        _require_kind(target, "SoftwareImage", "new_image")
    requirements = requirements_of(target.properties)
    overrides = _requirement_overrides(new_requirements or {})
    requirements.update(overrides)

    devices = []
    for device in graph_impact.devices_built_from(graph, image.key):
        result = check(requirements, device)
        devices.append({"key": device["key"], "name": device["name"], "category": device["category"],
                        "status": device["status"], "model": device["model"],
                        "applications": device["applications"], **result})
    devices.sort(key=lambda d: (VERDICT_ORDER[d["verdict"]], d["key"]))
    counts = {v: sum(d["verdict"] == v for d in devices) for v in (PASS, FAIL, UNKNOWN)}
    return {
        "image": {"key": image.key, "name": image.name, "version": image.properties.get("version")},
        "new_image": (None if new_image_key is None else
                      {"key": target.key, "name": target.name, "version": target.properties.get("version")}),
        "requirements": requirements,
        "devices": devices,
        "summary": {"devices": len(devices), **counts,
                    "applications_on_failing_devices": sorted(
                        {a for d in devices if d["verdict"] == FAIL for a in d["applications"]})},
    }


def _requirement_overrides(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = [name for name in values if name not in REQUIREMENTS]
    if unknown:
        raise InvalidInput(_("%(name)s is not an image requirement; allowed: %(allowed)s",
                             name=repr(unknown[0]), allowed=", ".join(REQUIREMENTS)),
                           field=unknown[0], value=values[unknown[0]], allowed=list(REQUIREMENTS))
    return validate_properties(KINDS["SoftwareImage"], values)


def check_hardware_change(graph: Graph, hw_key: str, new_properties: Mapping[str, Any]) -> dict[str, Any]:
    """Which images (and the applications running on this hardware) would the new
    configuration no longer satisfy? ``new_properties`` are Hardware properties such as
    ``ram_gb=8`` or ``model=...``; ``None`` means the value is removed (so becomes unknown)."""
    hardware = graph.get_ci(hw_key)
    _require_kind(hardware, "Hardware", "key")
    if not new_properties:
        raise InvalidInput(_("Give at least one new hardware property, e.g. ram_gb=8"),
                           field="properties", value={}, allowed=", ".join(HARDWARE_FACTS))
    changes = validate_properties(KINDS["Hardware"], new_properties, words=graph.vocabulary())
    before = {f: hardware.properties.get(f) for f in HARDWARE_FACTS}
    after = dict(before)
    after.update({k: v for k, v in changes.items() if k in HARDWARE_FACTS})

    images = []
    for row in graph_impact.images_on(graph, hardware.key):
        requirements = requirements_of(row["props"])
        now, then = check(requirements, before), check(requirements, after)
        images.append({"key": row["key"], "name": row["props"].get("name"),
                       "version": row["props"].get("version"), "requirements": requirements,
                       "verdict_before": now["verdict"], "verdict": then["verdict"],
                       "no_longer_satisfied": now["verdict"] != FAIL and then["verdict"] == FAIL,
                       "checks": then["checks"]})
    worst = min((i["verdict"] for i in images), key=VERDICT_ORDER.__getitem__, default=PASS)
    broken = [i["key"] for i in images if i["verdict"] == FAIL]
    applications = [{"key": a["key"], "name": a["name"], "criticality": a["criticality"],
                     "verdict": worst, "images": broken}
                    for a in graph_impact.applications_on(graph, hardware.key)]
    return {
        "hardware": {"key": hardware.key, "name": hardware.name},
        "before": before,
        "after": after,
        "changes": changes,
        "images": images,
        "applications": applications,
        "summary": {"images": len(images), "images_failing": broken,
                    "images_no_longer_satisfied": [i["key"] for i in images if i["no_longer_satisfied"]],
                    "applications_affected": [a["key"] for a in applications] if broken else [],
                    "verdict": worst},
    }
