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


# --- service records: contracts, repairs, spares ---------------------------------------------


def _contract_types() -> dict[str, str]:
    return {
        "warranty": pgettext("contract type", "Warranty"),
        "maintenance": pgettext("contract type", "Maintenance"),
        "support": pgettext("contract type", "Support"),
        "lease": pgettext("contract type", "Lease"),
    }


def _coverages() -> dict[str, str]:
    return {
        "hardware": pgettext("coverage", "Hardware"),
        "software": pgettext("coverage", "Software"),
        "on_site": pgettext("coverage", "On site"),
        "spare_first": pgettext("coverage", "Spare first"),
    }


def _repair_statuses() -> dict[str, str]:
    return {
        "open": pgettext("repair status", "Open"),
        "sent_out": pgettext("repair status", "Sent out"),
        "returned": pgettext("repair status", "Returned"),
        "closed": pgettext("repair status", "Closed"),
    }


def _repair_outcomes() -> dict[str, str]:
    return {
        "repaired": pgettext("repair outcome", "Repaired"),
        "replaced": pgettext("repair outcome", "Replaced"),
        "written_off": pgettext("repair outcome", "Written off"),
    }


def _overdue_reasons() -> dict[str, str]:
    return {
        "progress": pgettext("overdue reason", "progress note"),
        "return": pgettext("overdue reason", "return"),
    }


def _issue_states() -> dict[str, str]:
    return {
        "issued": pgettext("spare issue", "Issued"),
        "returned": pgettext("spare issue", "Returned"),
    }


def contract_type_name(value: object) -> str:
    """A contract type (``maintenance`` -> Maintenance / 维保 / 維護)."""
    return _name(_contract_types, value)


def coverage_name(value: object) -> str:
    return _name(_coverages, value)


def repair_status_name(value: object) -> str:
    return _name(_repair_statuses, value)


def repair_outcome_name(value: object) -> str:
    return _name(_repair_outcomes, value)


def overdue_reason_name(value: object) -> str:
    return _name(_overdue_reasons, value)


def issue_state_name(value: object) -> str:
    return _name(_issue_states, value)


FAMILIES.update({
    "contract_type": _contract_types, "coverage": _coverages, "repair_status": _repair_statuses,
    "repair_outcome": _repair_outcomes, "overdue_reason": _overdue_reasons,
    "issue_state": _issue_states,
})

_general_relationships = _relationships
_general_properties = _properties


def _relationships() -> dict[str, str]:  # noqa: F811 (the service relationships added)
    return {**_general_relationships(),
            "STANDS_IN_FOR": pgettext("relationship", "stands in for")}


def _properties() -> dict[str, str]:  # noqa: F811 (the spare's properties added)
    return {**_general_properties(),
            "spare": pgettext("property", "Spare"),
            "spare_model": pgettext("property", "Spare for model")}


FAMILIES.update({"relationship": _relationships, "property": _properties})

# --- Service levels, fault records, maintenance rounds -------------------------------------

def _clock_states() -> dict[str, str]:
    return {
        "no_target": pgettext("clock state", "no target"),
        "within": pgettext("clock state", "within target"),
        "at_risk": pgettext("clock state", "at risk"),
        "breached": pgettext("clock state", "breached"),
        "met": pgettext("clock state", "met"),
    }


def _clocks() -> dict[str, str]:
    return {
        "response": pgettext("clock", "Response"),
        "arrival": pgettext("clock", "On-site arrival"),
        "resolution": pgettext("clock", "Resolution"),
    }


def _severities() -> dict[str, str]:
    return {
        "A": pgettext("severity", "A: service down, many users"),
        "B": pgettext("severity", "B: service degraded or a key user"),
        "C": pgettext("severity", "C: one user or device, work-around exists"),
        "D": pgettext("severity", "D: minor, cosmetic"),
    }


def _service_hours() -> dict[str, str]:
    return {
        "5x8": pgettext("service hours", "5×8 (working days, 09:00–17:00)"),
        "7x24": pgettext("service hours", "7×24 (around the clock)"),
    }


def _fault_statuses() -> dict[str, str]:
    return {
        "open": pgettext("fault status", "Open"),
        "assigned": pgettext("fault status", "Engineer assigned"),
        "on_site": pgettext("fault status", "Engineer on site"),
        "resolved": pgettext("fault status", "Resolved, under observation"),
        "closed": pgettext("fault status", "Closed"),
    }


def _fault_channels() -> dict[str, str]:
    return {
        "scan": pgettext("fault channel", "scan"),
        "phone": pgettext("fault channel", "phone"),
        "api": pgettext("fault channel", "API"),
        "cli": pgettext("fault channel", "command line"),
        "maintenance": pgettext("fault channel", "maintenance round"),
    }


def _round_statuses() -> dict[str, str]:
    return {
        "open": pgettext("round status", "Open"),
        "closed": pgettext("round status", "Closed"),
    }


def _frequencies() -> dict[str, str]:
    return {
        "monthly": pgettext("frequency", "monthly"),
        "quarterly": pgettext("frequency", "quarterly"),
    }


def _checklist_items() -> dict[str, str]:
    """The default checklists' items (cmdb/maintenance/service.py); a team's own stay as written."""
    return {
        "Case and vents cleaned of dust": pgettext("checklist item", "Case and vents cleaned of dust"),
        "Keyboard, mouse and screen work": pgettext("checklist item", "Keyboard, mouse and screen work"),
        "Disk health (SMART) normal": pgettext("checklist item", "Disk health (SMART) normal"),
        "OS updates and antivirus current": pgettext("checklist item", "OS updates and antivirus current"),
        "Status lights normal": pgettext("checklist item", "Status lights normal"),
        "Fans and filters free of dust": pgettext("checklist item", "Fans and filters free of dust"),
        "RAID and disk health normal": pgettext("checklist item", "RAID and disk health normal"),
        "System logs checked for errors": pgettext("checklist item", "System logs checked for errors"),
        "Last backup succeeded": pgettext("checklist item", "Last backup succeeded"),
        "Paper path and rollers cleaned": pgettext("checklist item", "Paper path and rollers cleaned"),
        "Toner or ink above 20 %": pgettext("checklist item", "Toner or ink above 20 %"),
        "Test page prints cleanly": pgettext("checklist item", "Test page prints cleanly"),
        "Dust removed": pgettext("checklist item", "Dust removed"),
        "Logs checked for errors": pgettext("checklist item", "Logs checked for errors"),
        "Configuration backed up": pgettext("checklist item", "Configuration backed up"),
        "Cleaned and dust removed": pgettext("checklist item", "Cleaned and dust removed"),
    }


def clock_state_name(value: object) -> str:
    """A fault clock's state (``at_risk`` -> at risk / 临近超时 / 即將逾時)."""
    return _name(_clock_states, value)


def clock_name(value: object) -> str:
    return _name(_clocks, value)


def severity_name(value: object) -> str:
    """A fault grade A–D with what it means."""
    return _name(_severities, value)


def service_hours_name(value: object) -> str:
    return _name(_service_hours, value)


def fault_status_name(value: object) -> str:
    return _name(_fault_statuses, value)


def fault_channel_name(value: object) -> str:
    return _name(_fault_channels, value)


def round_status_name(value: object) -> str:
    return _name(_round_statuses, value)


def frequency_name(value: object) -> str:
    return _name(_frequencies, value)


def checklist_item_name(value: object) -> str:
    """A checklist item as stored (English) -> its words in the current language."""
    return _name(_checklist_items, value)


def level_name(level: object) -> str:
    """A service level's name in the current language: from a level (``name_en``, ``name_zh_cn``,
    ``name_zh_tw``) or a fault record (``level_name_en`` …)."""
    def get(field: str) -> str:
        if isinstance(level, Mapping):
            return level.get(field) or level.get("level_" + field) or ""
        return getattr(level, field, "") or ""
    language = current_language()
    if language == "zh_TW":
        return get("name_zh_tw") or get("name_zh_cn") or get("name_en")
    if language == "zh_CN":
        return get("name_zh_cn") or get("name_en")
    return get("name_en")


FAMILIES.update({
    "clock_state": _clock_states, "clock": _clocks, "severity": _severities,
    "service_hours": _service_hours, "fault_status": _fault_statuses, "fault_channel": _fault_channels,
    "round_status": _round_statuses, "frequency": _frequencies,
})
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

_register_history_actions = _history_actions


def _history_actions() -> dict[str, str]:  # noqa: F811 (the service records' events added)
    """The events a repair order, a spare issue or a contract writes into a CI's history."""
    return {**_register_history_actions(),
            "repair": pgettext("history", "Repair"),
            "spare": pgettext("history", "Spare part"),
            "contract": pgettext("history", "Contract")}


FAMILIES["history_action"] = _history_actions
