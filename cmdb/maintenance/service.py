"""Maintenance rounds, built on the audit campaigns' machinery: a round's scope is validated
and its devices are taken the way a campaign takes its expected assets (``cmdb.audit``), and
each device scanned gets pass or fail per checklist item with a note. A failed item opens a
fault record in one step. Schedules say which scopes get a round monthly or quarterly; a
period that ended without a round for the scope is overdue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Sequence

from cmdb.audit.campaigns import take_snapshot, validate_scope
from cmdb.audit.locations import LocationTree
from cmdb.errors import Conflict, InvalidInput, NotFound
from cmdb.faults import service as faults
from cmdb.graph import Graph
from cmdb.graph import maintenance as store
from cmdb.graph.schema import iso_datetime, validate_key
from cmdb.i18n import N_, _
from cmdb.levels.hours import CHINA
from cmdb.policy import Caller, require, require_in_scope

# The team's checklists start from these; a round may bring its own.
DEFAULT_CHECKLISTS: dict[str, tuple[str, ...]] = {
    "pc": ("Case and vents cleaned of dust", "Keyboard, mouse and screen work",
           "Disk health (SMART) normal", "OS updates and antivirus current"),
    "server": ("Status lights normal", "Fans and filters free of dust", "RAID and disk health normal",
               "System logs checked for errors", "Last backup succeeded"),
    "printer": ("Paper path and rollers cleaned", "Toner or ink above 20 %", "Test page prints cleanly"),
    "network": ("Status lights normal", "Dust removed", "Logs checked for errors",
                "Configuration backed up"),
    "other": ("Status lights normal", "Cleaned and dust removed"),
}
CHECKLIST_OF_CATEGORY = {
    "pc": "pc", "laptop": "pc", "thin_client": "pc", "monitor": "pc", "server": "server",
    "storage": "server", "virtual_machine": "server", "printer": "printer", "scanner": "printer",
    "switch": "network", "router": "network", "firewall": "network", "access_point": "network",
}
FREQUENCIES = ("monthly", "quarterly")
NOTE_MAX = 500


def checklist_for(checklists: dict[str, list[str]], category: str | None) -> list[str]:
    group = CHECKLIST_OF_CATEGORY.get(category or "", "other")
    return list(checklists.get(group) or checklists.get("other") or DEFAULT_CHECKLISTS["other"])


@dataclass(frozen=True)
class Round:
    record: dict[str, Any]
    checks: dict[str, dict[str, Any]]   # device key -> its check

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def expected(self) -> list[dict[str, Any]]:
        return json.loads(self.record.get("expected") or "[]")

    @property
    def checklists(self) -> dict[str, list[str]]:
        return json.loads(self.record.get("checklists") or "{}")

    def progress(self) -> dict[str, Any]:
        expected = self.expected
        checked = [d for d in expected if d["key"] in self.checks]
        failed = [d for d in checked if self.checks[d["key"]]["failed_items"]]
        return {"expected": len(expected), "checked": len(checked), "failed": len(failed),
                "pending": len(expected) - len(checked)}

    def findings(self) -> list[dict[str, Any]]:
        """Every failed item: device, item, note, the fault record opened for it."""
        out = []
        for key, check in sorted(self.checks.items()):
            for i, result in enumerate(json.loads(check["results"])):
                if not result["ok"]:
                    out.append({"key": key, "item": result["item"], "index": i,
                                "note": result.get("note") or "", "fault": result.get("fault"),
                                "at": check["at"], "by": check["by"]})
        return out

    def as_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.record.items() if k not in ("expected", "checklists")},
                "checklists": self.checklists, "expected": self.expected,
                "progress": self.progress(), "findings": self.findings(),
                "checks": {k: {**c, "results": json.loads(c["results"])} for k, c in self.checks.items()}}


def _round(graph: Graph, record: dict[str, Any]) -> Round:
    checks = {c["key"]: c for c in store.checks_of(graph, [record["id"]])}
    return Round(record, checks)


def _clean_checklists(custom: dict[str, Sequence[str]] | None) -> dict[str, list[str]]:
    lists = {k: list(v) for k, v in DEFAULT_CHECKLISTS.items()}
    for group, items in (custom or {}).items():
        if group not in DEFAULT_CHECKLISTS:
            raise InvalidInput(_("checklist: no group %(group)s; allowed: %(allowed)s", group=repr(group),
                                 allowed=", ".join(DEFAULT_CHECKLISTS)),
                               field="checklists", value=group, allowed=list(DEFAULT_CHECKLISTS))
        cleaned = [" ".join(str(i).split())[:200] for i in items if str(i).strip()]
        if not cleaned or len(cleaned) > 50:
            raise InvalidInput(_("checklist %(group)s: give 1 to 50 items", group=group), field="checklists", value=group)
        lists[group] = cleaned
    return lists


def start_round(graph: Graph, caller: Caller, name: str, *, scope: Sequence[str], at: dt.datetime,
                checklists: dict[str, Sequence[str]] | None = None,
                schedule_id: str | None = None) -> Round:
    require(caller, "maintenance.plan", N_("start maintenance rounds"))
    title = " ".join(str(name or "").split())[:200]
    if not title:
        raise InvalidInput(_("name: say what the round is, e.g. 'September cleaning'"), field="name")
    keys = validate_scope(graph, list(scope))
    if not keys:
        raise InvalidInput(_("scope: name at least one location"), field="scope")
    require_in_scope(graph, caller, keys)
    snapshot = take_snapshot(graph, keys, LocationTree.load(graph))
    expected = sorted(({"key": a.key, "name": a.name, "category": a.category, "location": a.location}
                       for a in snapshot.assets.values() if not a.away), key=lambda d: d["key"])
    local = at.astimezone(CHINA)
    round_id = "MR-" + local.strftime("%Y%m%d") + "-" + hashlib.sha256(
        f"{title}|{keys}|{iso_datetime(at)}".encode()).hexdigest()[:6]
    props = {"id": round_id, "name": title, "scope": keys, "status": "open",
             "started_at": iso_datetime(at), "started_by": caller.actor,
             "period": local.strftime("%Y-%m"),
             "expected": json.dumps(expected, ensure_ascii=False),
             "checklists": json.dumps(_clean_checklists(checklists), ensure_ascii=False)}
    if schedule_id:
        props["schedule_id"] = schedule_id
    store.create_round(graph, props, actor=caller.actor)
    return get_round(graph, round_id)


def get_round(graph: Graph, round_id: str) -> Round:
    return _round(graph, store.get_round(graph, round_id))


def list_rounds(graph: Graph) -> list[Round]:
    records = store.all_rounds(graph)
    checks: dict[str, dict[str, dict[str, Any]]] = {}
    for c in store.checks_of(graph, [r["id"] for r in records]):
        checks.setdefault(c["round_id"], {})[c["key"]] = c
    return sorted((Round(r, checks.get(r["id"], {})) for r in records),
                  key=lambda r: (r.record["started_at"], r.id), reverse=True)


def record_check(graph: Graph, caller: Caller, round_id: str, key: str, *,
                 results: Sequence[tuple[bool, str]], at: dt.datetime) -> Round:
    """One device's pass/fail (and note) for each item of its category's checklist."""
    require(caller, "maintenance.check", N_("record maintenance checks"))
    key = validate_key(key)
    current = get_round(graph, round_id)
    device = next((d for d in current.expected if d["key"] == key), None)
    if device is None:
        raise Conflict(_("%(key)s is not among the devices of round %(round)s (%(scope)s)", key=key,
                         round=round_id, scope=", ".join(current.record["scope"])), {"id": round_id, "key": key})
    require_in_scope(graph, caller, [key])
    items = checklist_for(current.checklists, device["category"])
    if len(results) != len(items):
        raise InvalidInput(_("results: %(count)s items to check on a %(category)s, got %(got)s",
                             count=len(items), category=device["category"] or "device", got=len(results)),
                           field="results", value=len(results),
                           allowed=items)
    previous = store.get_check(graph, f"{round_id}:{key}")
    earlier_faults = {r["item"]: r.get("fault") for r in json.loads(previous["results"])} if previous else {}
    rows = []
    for item, (ok, note) in zip(items, results):
        text = " ".join(str(note or "").split())
        if len(text) > NOTE_MAX:
            raise InvalidInput(_("note for %(item)s: at most %(limit)s characters", item=repr(item), limit=NOTE_MAX), field="note")
        row = {"item": item, "ok": bool(ok), "note": text}
        if earlier_faults.get(item):
            row["fault"] = earlier_faults[item]
        rows.append(row)
    store.save_check(graph, {
        "id": f"{round_id}:{key}", "round_id": round_id, "key": key,
        "category": device["category"], "at": iso_datetime(at), "by": caller.actor,
        "results": json.dumps(rows, ensure_ascii=False),
        "failed_items": sum(1 for r in rows if not r["ok"])}, actor=caller.actor)
    return get_round(graph, round_id)


def open_fault_for_item(graph: Graph, caller: Caller, round_id: str, key: str, index: int, *,
                        at: dt.datetime, severity: str = "C") -> faults.Fault:
    """A failed checklist item becomes a fault record on the device (once)."""
    current = get_round(graph, round_id)
    check = current.checks.get(key)
    if check is None:
        raise NotFound(_("%(key)s has not been checked in round %(round)s", key=key, round=round_id), {"id": round_id, "key": key})
    results = json.loads(check["results"])
    if not 0 <= index < len(results) or results[index]["ok"]:
        raise Conflict(_("Item %(number)s of %(key)s did not fail in round %(round)s", number=index + 1, key=key,
                         round=round_id),
                       {"id": round_id, "key": key, "index": index})
    if results[index].get("fault"):
        return faults.get(graph, results[index]["fault"], at)
    item = results[index]
    fault = faults.open_fault(
        graph, caller, keys=[key], title=f"Maintenance: {item['item']}", severity=severity,
        reported_by=caller.name, reported_via="maintenance", at=at,
        description=f"Failed in maintenance round {current.record['name']} ({round_id})"
                    + (f": {item['note']}" if item["note"] else ""))
    results[index]["fault"] = fault.id
    store.save_check(graph, {**check, "results": json.dumps(results, ensure_ascii=False)},
                     actor=caller.actor)
    return fault


def close_round(graph: Graph, caller: Caller, round_id: str, *, at: dt.datetime) -> Round:
    require(caller, "maintenance.plan", N_("close maintenance rounds"))
    store.close_round(graph, round_id, {"status": "closed", "closed_at": iso_datetime(at),
                                        "closed_by": caller.actor}, actor=caller.actor)
    return get_round(graph, round_id)


# --- schedules ---------------------------------------------------------------------------


def _period(day: dt.date, frequency: str) -> tuple[dt.date, dt.date]:
    """The period (first day, day after the last) of ``frequency`` that contains ``day``."""
    if frequency == "monthly":
        start = day.replace(day=1)
    else:
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    months = 1 if frequency == "monthly" else 3
    month = start.month - 1 + months
    end = dt.date(start.year + month // 12, month % 12 + 1, 1)
    return start, end


def add_schedule(graph: Graph, caller: Caller, name: str, *, scope: str, frequency: str,
                 at: dt.datetime) -> dict[str, Any]:
    require(caller, "maintenance.plan", N_("schedule maintenance rounds"))
    if frequency not in FREQUENCIES:
        raise InvalidInput(_("frequency: %(value)s; allowed: %(allowed)s", value=repr(frequency),
                             allowed=", ".join(FREQUENCIES)),
                           field="frequency", value=frequency, allowed=list(FREQUENCIES))
    keys = validate_scope(graph, [scope])
    if not keys:
        raise InvalidInput(_("scope: name a location"), field="scope")
    title = " ".join(str(name or "").split())[:200] or f"{frequency} round {keys[0]}"
    props = {"id": f"{keys[0]}:{frequency}", "name": title, "scope": keys[0], "frequency": frequency,
             "created_at": iso_datetime(at), "created_by": caller.actor}
    store.save_schedule(graph, props, actor=caller.actor)
    return props


def schedule_status(graph: Graph, today: dt.date) -> list[dict[str, Any]]:
    """Each schedule with its last round, the current period's due date, and whether the
    period before ended without a round for its scope (overdue)."""
    rounds = list_rounds(graph)
    out = []
    for s in sorted(store.all_schedules(graph), key=lambda s: s["id"]):
        start, end = _period(today, s["frequency"])
        previous_start, _ = _period(start - dt.timedelta(days=1), s["frequency"])
        created = dt.date.fromisoformat(s["created_at"][:10])
        covering = [r for r in rounds if s["scope"] in r.record["scope"]]
        started = [dt.datetime.fromisoformat(r.record["started_at"].replace("Z", "+00:00"))
                   .astimezone(CHINA).date() for r in covering]
        done_this = any(start <= d < end for d in started)
        done_previous = any(previous_start <= d < start for d in started)
        overdue = created < start and not done_previous and not done_this
        out.append({**s, "period_start": start.isoformat(), "due": (end - dt.timedelta(days=1)).isoformat(),
                    "done_this_period": done_this, "overdue": overdue,
                    "last_round": max((r.record["started_at"] for r in covering), default=None)})
    return out
