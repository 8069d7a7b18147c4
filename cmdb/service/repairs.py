"""Repair orders (设备维修单 / 设备送修单): opened against a hardware CI, answered for warranty
at once, repaired on site or sent out with a promised return date in working days, followed
with written progress notes, returned, and closed with an outcome.

Opening sets the unit ``in_repair``; closing puts back the status it had (or ``retired`` when
it was replaced or written off). The order's own changes and the unit's are written in one
transaction, with history entries on both (the order's under its id).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from neo4j import ManagedTransaction

from cmdb import policy
from cmdb.errors import Conflict, InvalidInput, NotFound, WrongKind
from cmdb.graph import contracts as contract_store
from cmdb.graph import repairs as repair_store
from cmdb.graph.ci_writes import change_cis, fetch_cis
from cmdb.graph.history import ChangeLog
from cmdb.graph.schema import validate_key
from cmdb.graph import Graph
from cmdb.i18n import N_, _, current_language
from cmdb.i18n.names import kind_name, repair_status_name
from cmdb.service import spares
from cmdb.service.contracts import warranty_answer
from cmdb.service.records import new_id, parse_day, today_or
from cmdb.service.workdays import add_working_days, working_days_between
from cmdb.settings import Settings

STATUSES = ("open", "sent_out", "returned", "closed")
OUTCOMES = ("repaired", "replaced", "written_off")
RETIRED_BY_OUTCOME = {"replaced", "written_off"}
TEXT_LIMIT = 2000
PARTY_LIMIT = 200


def _text(value: Any, field: str, limit: int = TEXT_LIMIT, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(_("Say what the %(field)s is; it cannot be empty", field=field), field=field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be text", field=field), field=field, value=value)
    text = " ".join(value.replace("\x00", " ").split()) if limit <= PARTY_LIMIT else value.strip()
    if len(text) > limit:
        raise InvalidInput(_("%(field)s is %(length)s characters long; at most %(limit)s allowed",
                             field=field, length=len(text), limit=limit),
                           field=field, value=text, allowed=f"at most {limit} characters")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text) or "\x7f" in text:
        raise InvalidInput(_("%(field)s contains control characters", field=field), field=field, value=text)
    return text


def _cost(value: Any) -> float | int | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("cost: %(value)s is not a number", value=repr(value)), field="cost", value=value,
                           allowed="a number >= 0") from None
    if not 0 <= number <= 1_000_000_000 or number != number:
        raise InvalidInput(_("cost: %(value)s is out of range", value=repr(value)), field="cost", value=value,
                           allowed="0 to 1,000,000,000")
    return int(number) if number.is_integer() else number


def _locked(tx: ManagedTransaction, repair_id: str) -> dict[str, Any]:
    current = repair_store.lock(tx, repair_id)
    if current is None:
        raise NotFound(_("No repair order %(id)s", id=repr(repair_id)), {"id": repair_id})
    return current


def _status_word(status: str) -> str:
    """A status in a refusal: as stored in English (``sent_out``), as a word in Chinese."""
    return status if current_language() == "en" else repair_status_name(status)


def _require_status(repair: dict[str, Any], allowed: tuple[str, ...], doing: str) -> None:
    if repair["status"] not in allowed:
        raise Conflict(_("Repair %(id)s is %(status)s; it can be %(doing)s only when %(allowed)s",
                         id=repair["id"], status=_status_word(repair["status"]), doing=_(doing),
                         allowed=_(" or ").join(_status_word(a) for a in allowed)),
                       {"id": repair["id"], "status": repair["status"],
                                                  "allowed": list(allowed)})


def _record(changes: ChangeLog, repair: dict[str, Any], before: dict[str, Any] | None,
            after: dict[str, Any], event: str, unit_kind: str = "Hardware") -> None:
    """History on the order (under its id) and the unit's "repair" event."""
    if before is None:
        changes.add("create", repair["id"], "RepairOrder", None, after)
    else:
        changes.add("update", repair["id"], "RepairOrder", before, after)
    changes.add("repair", repair["key"], unit_kind, None,
                {"event": event, "repair": repair["id"],
                 **{k: v for k, v in after.items() if k in ("fault", "sent_to", "due_back",
                                                             "text", "outcome", "cost")}})


def open_repair(graph: Graph, caller: policy.Caller, key: str, fault: str, *,
                send_to: str | None = None, settings: Settings | None = None,
                today: dt.date | None = None, source: str | None = None) -> dict[str, Any]:
    """Open a repair order on hardware ``key``; with ``send_to`` it is sent out at once."""
    policy.require(caller, "repair", N_("open repairs"))
    key = validate_key(key)
    fault = _text(fault, "fault", required=True)
    send_to = _text(send_to, "send_to", PARTY_LIMIT)
    policy.require_in_scope(graph, caller, [key])
    settings = settings or Settings()
    day = today_or(today)
    repair_id = new_id("RO")

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        unit = fetch_cis(tx, [key])[key]
        if unit.kind != "Hardware":
            raise WrongKind(_("%(key)s is a %(kind)s; repairs are for hardware", key=repr(key), kind=kind_name(unit.kind)), field="key",
                            value=key)
        already = repair_store.open_for_key(tx, key)
        if already:
            raise Conflict(_("%(key)s already has an open repair order: %(id)s", key=key, id=already[0]["id"]),
                           {"key": key, "repair": already[0]["id"]})
        contracts = contract_store.contracts_of_in_tx(tx, [key]).get(key, [])
        warranty = warranty_answer(unit.properties.get("warranty_end"), contracts, day)
        changes = ChangeLog(caller.actor, f"repair {repair_id}" + (f" ({source})" if source else ""))
        props = {"id": repair_id, "key": key, "fault": fault, "status": "open",
                 "opened_at": changes.at, "opened_by": caller.actor, "opened_on": day.isoformat(),
                 "under_warranty": warranty["under_warranty"],
                 "status_before": unit.properties.get("status"),
                 "last_progress_on": day.isoformat(), "notes": []}
        if warranty["until"]:
            props["warranty_until"] = warranty["until"]
        if warranty["contract"]:
            props["contract"] = warranty["contract"]["number"]
            props["contract_vendor"] = warranty["contract"]["vendor"]
        if send_to:
            props.update(_sent(send_to, day, settings, changes.at))
        repair_store.create(tx, key, props)
        _record(changes, props, None, {k: v for k, v in props.items() if k != "notes"}, "opened")
        if send_to:
            _record(changes, props, {"status": "open"}, {"status": "sent_out", "sent_to": send_to,
                                                         "due_back": props["due_back"]}, "sent out")
        if unit.properties.get("status") != "in_repair":
            change_cis(tx, changes, updates=[(key, {"status": "in_repair"})])
        changes.write(tx)
        return props
    graph.write(work)
    return get_repair(graph, repair_id, settings=settings, today=day)


def _sent(send_to: str, day: dt.date, settings: Settings, at: str) -> dict[str, Any]:
    return {"status": "sent_out", "sent_to": send_to, "sent_at": at, "sent_on": day.isoformat(),
            "due_back": add_working_days(day, settings.repair_return_working_days).isoformat()}


def send_out(graph: Graph, caller: policy.Caller, repair_id: str, send_to: str, *,
             settings: Settings | None = None, today: dt.date | None = None) -> dict[str, Any]:
    policy.require(caller, "repair", N_("send repairs out"))
    send_to = _text(send_to, "send_to", PARTY_LIMIT, required=True)
    settings = settings or Settings()
    day = today_or(today)

    def work(tx: ManagedTransaction) -> None:
        current = _locked(tx, repair_id)
        policy.require_in_scope(graph, caller, [current["key"]])
        _require_status(current, ("open",), N_("sent out"))
        changes = ChangeLog(caller.actor, f"repair {repair_id}")
        after = _sent(send_to, day, settings, changes.at)
        repair_store.update(tx, repair_id, after)
        _record(changes, current, {"status": current["status"]}, after, "sent out")
        changes.write(tx)
    graph.write(work)
    return get_repair(graph, repair_id, settings=settings, today=day)


def add_note(graph: Graph, caller: policy.Caller, repair_id: str, text: str, *,
             settings: Settings | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """A written progress note (the contract asks for one every few working days)."""
    policy.require(caller, "repair", N_("write repair progress"))
    text = _text(text, "text", required=True)
    day = today_or(today)

    def work(tx: ManagedTransaction) -> None:
        current = _locked(tx, repair_id)
        policy.require_in_scope(graph, caller, [current["key"]])
        _require_status(current, ("open", "sent_out", "returned"), N_("noted"))
        changes = ChangeLog(caller.actor, f"repair {repair_id}")
        note = {"at": changes.at, "on": day.isoformat(), "by": caller.actor, "text": text}
        notes = list(current.get("notes") or []) + [json.dumps(note, ensure_ascii=False)]
        repair_store.update(tx, repair_id, {"notes": notes, "last_progress_on": day.isoformat()})
        _record(changes, current, {"last_progress_on": current.get("last_progress_on")},
                {"last_progress_on": day.isoformat(), "text": text}, "progress note")
        changes.write(tx)
    graph.write(work)
    return get_repair(graph, repair_id, settings=settings, today=day)


def record_return(graph: Graph, caller: policy.Caller, repair_id: str, *,
                  cost: Any = None, note: str | None = None, settings: Settings | None = None,
                  today: dt.date | None = None) -> dict[str, Any]:
    """The unit is back; any spare still standing in for it is swapped back to stock."""
    policy.require(caller, "repair", N_("record repair returns"))
    cost = _cost(cost)
    note = _text(note, "note")
    day = today_or(today)

    def work(tx: ManagedTransaction) -> None:
        current = _locked(tx, repair_id)
        policy.require_in_scope(graph, caller, [current["key"]])
        _require_status(current, ("sent_out",), N_("returned"))
        changes = ChangeLog(caller.actor, f"repair {repair_id}")
        after = {"status": "returned", "returned_at": changes.at, "returned_on": day.isoformat(),
                 "last_progress_on": day.isoformat()}
        if cost is not None:
            after["cost"] = cost
        if note:
            after["return_note"] = note
        repair_store.update(tx, repair_id, after)
        _record(changes, current, {"status": current["status"]}, after, "returned")
        spares.return_all_in_tx(graph, tx, changes, repair_id, day)
        changes.write(tx)
    graph.write(work)
    return get_repair(graph, repair_id, settings=settings, today=day)


def close_repair(graph: Graph, caller: policy.Caller, repair_id: str, outcome: str, *,
                 cost: Any = None, note: str | None = None, settings: Settings | None = None,
                 today: dt.date | None = None) -> dict[str, Any]:
    """Close with an outcome: repaired puts the unit back to the status it had; replaced or
    written off retires it. Spares still out are swapped back."""
    policy.require(caller, "repair", N_("close repairs"))
    if outcome not in OUTCOMES:
        raise InvalidInput(_("outcome %(value)s is not known; allowed: %(allowed)s", value=repr(outcome),
                             allowed=", ".join(OUTCOMES)),
                           field="outcome", value=outcome, allowed=list(OUTCOMES))
    cost = _cost(cost)
    note = _text(note, "note")
    day = today_or(today)

    def work(tx: ManagedTransaction) -> None:
        current = _locked(tx, repair_id)
        policy.require_in_scope(graph, caller, [current["key"]])
        _require_status(current, ("open", "returned"), N_("closed"))
        changes = ChangeLog(caller.actor, f"repair {repair_id}")
        after = {"status": "closed", "outcome": outcome, "closed_at": changes.at,
                 "closed_on": day.isoformat(), "closed_by": caller.actor}
        if cost is not None:
            after["cost"] = cost
        if note:
            after["close_note"] = note
        repair_store.update(tx, repair_id, after)
        _record(changes, current, {"status": current["status"]}, after, "closed")
        spares.return_all_in_tx(graph, tx, changes, repair_id, day)
        back = current.get("status_before")
        status = "retired" if outcome in RETIRED_BY_OUTCOME else (
            back if back and back != "in_repair" else "in_use")
        change_cis(tx, changes, updates=[(current["key"], {"status": status})])
        changes.write(tx)
    graph.write(work)
    return get_repair(graph, repair_id, settings=settings, today=day)


# --- reading --------------------------------------------------------------------------------

REPAIR_ID = re.compile(r"RO-[0-9]{8}-[0-9a-f]{6}")


def resolve(graph: Graph, reference: str) -> str:
    """A repair order's id from its id, or from the key of a CI with one open repair order
    (engineers know the asset tag, not the order's number)."""
    reference = (reference or "").strip()
    if REPAIR_ID.fullmatch(reference):
        return reference
    key = validate_key(reference, "repair")
    open_orders = [r for r in repair_store.repairs_of(graph, key) if r["status"] != "closed"]
    if not open_orders:
        graph.get_ci(key)
        raise NotFound(_("%(key)s has no open repair order; name a repair order (RO-…) or open one "
                         "with `cmdb repair open %(key)s --fault …`", key=key), {"key": key})
    return open_orders[0]["id"]


def get_repair(graph: Graph, repair_id: str, *, settings: Settings | None = None,
               today: dt.date | None = None) -> dict[str, Any]:
    found = repair_store.get(graph, repair_id)
    if found is None:
        raise NotFound(_("No repair order %(id)s", id=repr(repair_id)), {"id": repair_id})
    return _view(found, settings or Settings(), today_or(today))


def list_repairs(graph: Graph, *, status: str | None = None, key: str | None = None,
                 overdue: bool = False, settings: Settings | None = None,
                 today: dt.date | None = None) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(_("Unknown repair status %(value)s; allowed: %(allowed)s", value=repr(status),
                             allowed=", ".join(STATUSES)),
                           field="status", value=status, allowed=list(STATUSES))
    settings, day = settings or Settings(), today_or(today)
    rows = repair_store.repairs_of(graph, key) if key else repair_store.all_repairs(graph)
    views = [_view(r, settings, day) for r in rows]
    views = [v for v in views if (status is None or v["status"] == status)
             and (not overdue or v["overdue"])]
    return sorted(views, key=lambda v: (v["opened_at"], v["id"]), reverse=True)


def overdue(graph: Graph, *, settings: Settings | None = None,
            today: dt.date | None = None) -> list[dict[str, Any]]:
    return list_repairs(graph, overdue=True, settings=settings, today=today)


def _view(repair: dict[str, Any], settings: Settings, day: dt.date) -> dict[str, Any]:
    view = {k: v for k, v in repair.items() if not k.startswith("_") and k != "notes"}
    view["notes"] = [json.loads(n) for n in repair.get("notes") or []]
    reasons = []
    if repair["status"] != "closed":
        last = parse_day(repair.get("last_progress_on") or repair["opened_on"], "last_progress_on")
        note_due = add_working_days(last, settings.repair_progress_working_days)
        view["progress_due"] = note_due.isoformat()
        if day > note_due:
            reasons.append("progress")
    if repair["status"] == "sent_out" and repair.get("due_back"):
        due = parse_day(repair["due_back"], "due_back")
        if day > due:
            reasons.append("return")
            view["working_days_late"] = working_days_between(due, day)
    view["overdue"] = bool(reasons)
    view["overdue_reasons"] = reasons
    return view
