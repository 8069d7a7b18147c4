"""Every caption of the service reports, from the gettext catalogues (en, zh_CN, zh_TW).

``caption(key)`` gives a caption in the current language (``cmdb.i18n.use_language``), or in
``language`` when one is named.
"""

from __future__ import annotations

from cmdb.i18n import LANGUAGES as CATALOGUES, _, normalise_language, pgettext, use_language

# The languages a report may be asked for, as people write them.
LANGUAGES = ("en", "zh-CN", "zh-TW")


def report_language(language: str | None) -> str | None:
    """``zh-CN``/``zh_CN``/``zh-TW``… -> a catalogue's language, or None when there is none."""
    found = normalise_language(language) if language else None
    return found if found in CATALOGUES else None


def _captions() -> dict[str, str]:
    return {
        "title.month": _("Monthly service report"),
        "title.quarter": _("Quarterly service report"),
        "title.year": _("Yearly service report"),
        "period": _("Period"),
        "scope": _("Scope"),
        "scope.all": _("the whole register"),
        "generated": _("Generated"),
        "summary": _("Summary"),
        "faults": _("Faults"),
        "faults.total": _("Fault records"),
        "faults.closed": _("Closed"),
        "faults.breached": _("With a breached target"),
        "faults.by_severity": _("Faults by grade and service level"),
        "faults.breaches": _("Breaches"),
        "faults.none": _("No fault records in this period."),
        "faults.list": _("Fault records"),
        "severity": _("Grade"),
        "level": _("Service level"),
        "count": _("Count"),
        "id": _("Record"),
        "cis": _("CIs"),
        "title": _("What"),
        "status": _("Status"),
        "reported": _("Reported"),
        "response": _("Response (min / target)"),
        "resolution": _("Resolution (min / target)"),
        "clock": _("Clock"),
        "used": _("Used (min)"),
        "target": _("Target (min)"),
        "repairs": _("Repairs"),
        "repairs.note": _("Faults with a linked repair order."),
        "repairs.none": _("No repair orders linked in this period."),
        "repair_order": _("Repair order"),
        "rounds": _("Maintenance rounds"),
        "rounds.none": _("No maintenance rounds in this period."),
        "round": _("Round"),
        "checked": _("Checked"),
        "expected": _("Devices"),
        "findings": _("Findings"),
        "item": _("Item"),
        "note": _("Note"),
        "changes": _("Register changes"),
        "changes.added": _("Added"),
        "changes.moved": _("Moved"),
        "changes.retired": _("Retired"),
        "category": _("Category"),
        "warranty": _("Warranty ending next quarter"),
        "warranty.none": _("No warranty ends next quarter."),
        "warranty_end": _("Warranty ends"),
        "name": _("Name"),
        "model": _("Model"),
        "audits": _("Inventory audits"),
        "audits.none": _("No audit campaigns."),
        "audit": _("Campaign"),
        "scans": _("Scans"),
        "chart.severity": _("Faults by grade"),
        "chart.ontime": _("On time and breached"),
        "ontime": _("On time"),
        "breached": _("Breached"),
        "clock.response": pgettext("report clock", "response"),
        "clock.arrival": pgettext("report clock", "on-site arrival"),
        "clock.resolution": pgettext("report clock", "resolution"),
        "state.met": pgettext("report clock state", "met"),
        "state.breached": pgettext("report clock state", "breached"),
        "state.within": pgettext("report clock state", "within"),
        "state.at_risk": pgettext("report clock state", "at risk"),
        "state.no_target": "–",
    }


def caption(key: str, language: str | None = None) -> str:
    if language is None:
        return _captions()[key]
    with use_language(report_language(language)):
        return _captions()[key]
