"""Values as words: the display name of a stored value (``in_use`` -> 在用) in the current
language. Keys and raw values stay as they are in ``--json`` and the API; these are for pages,
tables and reports. A value with no name here (a user's own category, a future status) is
shown as it is stored.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Mapping

from cmdb.i18n import current_language, pgettext


def _statuses() -> dict[str, str]:
    return {
        "planned": pgettext("status", "Planned"),
        "in_stock": pgettext("status", "In stock"),
        "in_use": pgettext("status", "In use"),
        "in_repair": pgettext("status", "In repair"),
        "retired": pgettext("status", "Retired"),
        "disposed": pgettext("status", "Disposed"),
        "missing": pgettext("status", "Missing"),
    }


def _campaign_statuses() -> dict[str, str]:
    return {
        "open": pgettext("campaign status", "Open"),
        "closing": pgettext("campaign status", "Closing"),
        "closed": pgettext("campaign status", "Closed"),
    }


def _kinds() -> dict[str, str]:
    return {
        "Location": pgettext("kind", "Location"),
        "Hardware": pgettext("kind", "Hardware"),
        "SoftwareImage": pgettext("kind", "Software image"),
        "Application": pgettext("kind", "Application"),
    }


def _categories() -> dict[str, str]:
    return {
        "server": pgettext("category", "Server"),
        "virtual_machine": pgettext("category", "Virtual machine"),
        "switch": pgettext("category", "Switch"),
        "router": pgettext("category", "Router"),
        "firewall": pgettext("category", "Firewall"),
        "storage": pgettext("category", "Storage"),
        "pc": pgettext("category", "PC"),
        "laptop": pgettext("category", "Laptop"),
        "thin_client": pgettext("category", "Thin client"),
        "printer": pgettext("category", "Printer"),
        "scanner": pgettext("category", "Scanner"),
        "camera": pgettext("category", "Camera"),
        "nvr": pgettext("category", "Video recorder (NVR)"),
        "access_point": pgettext("category", "Wireless access point"),
        "ups": pgettext("category", "UPS"),
        "pdu": pgettext("category", "PDU"),
        "phone": pgettext("category", "Phone"),
        "monitor": pgettext("category", "Monitor"),
        "tablet": pgettext("category", "Tablet"),
        "other": pgettext("category", "Other"),
    }


def _location_types() -> dict[str, str]:
    return {
        "region": pgettext("location type", "Region"),
        "site": pgettext("location type", "Site"),
        "building": pgettext("location type", "Building"),
        "floor": pgettext("location type", "Floor"),
        "room": pgettext("location type", "Room"),
        "area": pgettext("location type", "Area"),
        "rack": pgettext("location type", "Rack"),
    }


def _criticalities() -> dict[str, str]:
    return {
        "vip": pgettext("criticality", "VIP"),
        "high": pgettext("criticality", "High"),
        "standard": pgettext("criticality", "Standard"),
        "low": pgettext("criticality", "Low"),
        "unset": pgettext("criticality", "Not set"),
    }


def _relationships() -> dict[str, str]:
    """How a relationship reads between two CIs: ``APP-1 runs on SRV-1``."""
    return {
        "LOCATED_IN": pgettext("relationship", "is located in"),
        "RUNS_ON": pgettext("relationship", "runs on"),
        "RUNS_IMAGE": pgettext("relationship", "runs the image"),
        "DEPENDS_ON": pgettext("relationship", "depends on"),
        "CONNECTED_TO": pgettext("relationship", "is connected to"),
        "SUPERSEDES": pgettext("relationship", "supersedes"),
    }


def _findings() -> dict[str, str]:
    return {
        "found": pgettext("finding", "Found"),
        "relocated": pgettext("finding", "Relocated"),
        "missing": pgettext("finding", "Missing"),
        "unexpected": pgettext("finding", "Unexpected"),
        "status_mismatch": pgettext("finding", "Status mismatch"),
        "duplicates": pgettext("finding", "Duplicates"),
        "away": pgettext("finding", "Away (in repair)"),
    }


def _reasons() -> dict[str, str]:
    """Why a scanned tag is unexpected."""
    return {
        "not_in_register": pgettext("reason", "the tag is not in the register"),
        "registered_outside_scope": pgettext("reason", "registered at a location outside the campaign's scope"),
        "not_in_expected_set": pgettext("reason", "registered in scope but not expected (status or "
                                           "registered after the start)"),
        "not_hardware": pgettext("reason", "the tag belongs to a CI that is not hardware"),
    }


def _impact_states() -> dict[str, str]:
    return {
        "down": pgettext("impact state", "Down"),
        "degraded": pgettext("impact state", "Degraded"),
        "changed": pgettext("impact state", "Changed"),
    }


def _check_results() -> dict[str, str]:
    return {
        "pass": pgettext("check", "Pass"),
        "fail": pgettext("check", "Fail"),
        "unknown": pgettext("check", "Unknown"),
        "not_required": pgettext("check", "Not required"),
    }


def _history_actions() -> dict[str, str]:
    return {
        "create": pgettext("history", "Created"),
        "update": pgettext("history", "Changed"),
        "delete": pgettext("history", "Deleted"),
        "link": pgettext("history", "Linked"),
        "unlink": pgettext("history", "Unlinked"),
    }


def _properties() -> dict[str, str]:
    return {
        "name": pgettext("property", "Name"),
        "description": pgettext("property", "Description"),
        "notes": pgettext("property", "Notes"),
        "type": pgettext("property", "Type"),
        "address": pgettext("property", "Address"),
        "category": pgettext("property", "Category"),
        "status": pgettext("property", "Status"),
        "vendor": pgettext("property", "Vendor"),
        "model": pgettext("property", "Model"),
        "serial": pgettext("property", "Serial number"),
        "hostname": pgettext("property", "Host name"),
        "ip_address": pgettext("property", "IP address"),
        "mac_address": pgettext("property", "MAC address"),
        "purchase_date": pgettext("property", "Purchase date"),
        "warranty_end": pgettext("property", "Warranty end"),
        "department": pgettext("property", "Department"),
        "owner": pgettext("property", "Owner"),
        "cpu_cores": pgettext("property", "CPU cores"),
        "ram_gb": pgettext("property", "RAM (GB)"),
        "disk_gb": pgettext("property", "Disk (GB)"),
        "model_number": pgettext("property", "Model number"),
        "purchase_cost": pgettext("property", "Purchase cost"),
        "supplier": pgettext("property", "Supplier"),
        "order_number": pgettext("property", "Order number"),
        "company": pgettext("property", "Company"),
        "end_of_life": pgettext("property", "End of life"),
        "version": pgettext("property", "Version"),
        "os": pgettext("property", "Operating system"),
        "min_cpu_cores": pgettext("property", "Minimum CPU cores"),
        "min_ram_gb": pgettext("property", "Minimum RAM (GB)"),
        "min_disk_gb": pgettext("property", "Minimum disk (GB)"),
        "supported_models": pgettext("property", "Supported models"),
        "end_of_support": pgettext("property", "End of support"),
        "criticality": pgettext("property", "Service level"),
        "min_hosts": pgettext("property", "Minimum hosts"),
        "revision": pgettext("property", "Revision"),
        "created_at": pgettext("property", "Created"),
        "updated_at": pgettext("property", "Updated"),
        "label_printed_at": pgettext("property", "Label printed"),
        "last_seen_at": pgettext("property", "Last seen"),
        "last_audited_at": pgettext("property", "Last audited"),
        "next_audit_due": pgettext("property", "Next audit due"),
        "location": pgettext("property", "Location"),
    }


@lru_cache(maxsize=None)
def _table(build: Callable[[], dict[str, str]], language: str) -> Mapping[str, str]:
    return build()


def _name(build: Callable[[], dict[str, str]], value: object) -> str:
    if value is None or value == "":
        return ""
    return _table(build, current_language()).get(str(value), str(value))


def status_name(value: object) -> str:
    """A hardware status (``in_use`` -> In use / 在用 / 使用中)."""
    return _name(_statuses, value)


def campaign_status_name(value: object) -> str:
    return _name(_campaign_statuses, value)


def kind_name(value: object) -> str:
    return _name(_kinds, value)


def category_name(value: object, register_names: Mapping[str, str] | None = None) -> str:
    """A hardware category's display name. ``register_names`` (category -> name in the current
    language), when the register holds its own categories, wins over the catalogue."""
    if register_names and value in register_names and register_names[value]:
        return register_names[value]  # type: ignore[index]
    return _name(_categories, value)


def location_type_name(value: object) -> str:
    return _name(_location_types, value)


def criticality_name(value: object) -> str:
    return _name(_criticalities, value)


def relationship_name(value: object) -> str:
    return _name(_relationships, value)


def finding_name(value: object) -> str:
    """An audit finding (``missing`` -> Missing / 缺失 / 缺少)."""
    return _name(_findings, value)


def reason_name(value: object) -> str:
    return _name(_reasons, value)


def impact_state_name(value: object) -> str:
    return _name(_impact_states, value)


def check_result_name(value: object) -> str:
    return _name(_check_results, value)


def history_action_name(value: object) -> str:
    return _name(_history_actions, value)


def property_label(name: object) -> str:
    """A property's label (``warranty_end`` -> Warranty end / 保修截止 / 保固到期)."""
    return _name(_properties, name)


def value_text(name: str, value: object) -> str:
    """A property's value as people read it: enum values by name, lists joined."""
    if value is None:
        return ""
    if name == "status":
        return status_name(value)
    if name == "category":
        return category_name(value)
    if name == "type":
        return location_type_name(value)
    if name == "criticality":
        return criticality_name(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


# Every family of values with a name, for pages that need the whole list (filters, tests).
FAMILIES: dict[str, Callable[[], dict[str, str]]] = {
    "status": _statuses, "campaign_status": _campaign_statuses, "kind": _kinds,
    "category": _categories, "location_type": _location_types, "criticality": _criticalities,
    "relationship": _relationships, "finding": _findings, "reason": _reasons,
    "impact_state": _impact_states, "check": _check_results, "property": _properties,
    "history_action": _history_actions,
}


def names_of(family: str) -> dict[str, str]:
    """Value -> display name for one family, in the current language."""
    return dict(_table(FAMILIES[family], current_language()))


# Baselines, documents and the register vocabulary.

def _changes() -> dict[str, str]:
    """A baseline difference's kind of change."""
    return {
        "added": pgettext("change", "Added"),
        "removed": pgettext("change", "Removed"),
        "moved": pgettext("change", "Moved"),
        "re-imaged": pgettext("change", "Re-imaged"),
        "changed": pgettext("change", "Changed"),
        "relationship added": pgettext("change", "Relationship added"),
        "relationship removed": pgettext("change", "Relationship removed"),
    }


def _document_kinds() -> dict[str, str]:
    return {
        "note": pgettext("document kind", "Note"),
        "file": pgettext("document kind", "File"),
    }


def _document_targets() -> dict[str, str]:
    """What a document or note is for."""
    return {
        "ci": pgettext("document target", "Item"),
        "model": pgettext("document target", "Hardware model"),
        "category": pgettext("document target", "Hardware category"),
    }


def _field_types() -> dict[str, str]:
    """A custom field's type."""
    return {
        "text": pgettext("field type", "Text"),
        "integer": pgettext("field type", "Integer"),
        "decimal": pgettext("field type", "Decimal"),
        "date": pgettext("field type", "Date"),
        "boolean": pgettext("field type", "Yes/no"),
        "choice": pgettext("field type", "Choice"),
    }


def change_name(value: object) -> str:
    """A baseline change (``re-imaged`` -> Re-imaged / 已换映像 / 已換映像)."""
    return _name(_changes, value)


def document_kind_name(value: object) -> str:
    return _name(_document_kinds, value)


def document_target_name(value: object) -> str:
    return _name(_document_targets, value)


def field_type_name(value: object) -> str:
    return _name(_field_types, value)


def register_name(record: Mapping[str, object] | None, fallback: object = "") -> str:
    """A register record's display name (category or custom field) in the current language:
    its ``names`` map (en / zh-CN / zh-TW), else its ``name``/``label``, else ``fallback``."""
    if not record:
        return str(fallback or "")
    names = record.get("names") or {}
    if isinstance(names, Mapping):
        language = current_language()
        for tag in (language, language.replace("_", "-"), "en"):
            if names.get(tag):
                return str(names[tag])
    for field in ("label", "name", "display_name"):
        if record.get(field):
            return str(record[field])
    return str(fallback or "")


FAMILIES.update({"change": _changes, "document_kind": _document_kinds,
                 "document_target": _document_targets, "field_type": _field_types})
