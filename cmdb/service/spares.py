"""Spares and loaners (备件 / 备机): hardware kept in stock for a model at a stock location,
counted against a minimum; issued against a repair to stand in for the faulty unit
(``STANDS_IN_FOR``, placed at the unit's location, in use) and swapped back to stock when the
unit returns. Each issue is a ``SpareIssue`` record with its slip (``cmdb.service.slips``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from neo4j import ManagedTransaction

from cmdb import policy
from cmdb.errors import Conflict, InvalidInput, NotFound, WrongKind
from cmdb.graph import repairs as repair_store
from cmdb.graph import spares as spare_store
from cmdb.graph.ci_writes import change_cis, fetch_cis
from cmdb.graph.history import ChangeLog
from cmdb.graph.schema import validate_key
from cmdb.graph import Graph, Link
from cmdb.i18n import N_, _, current_language
from cmdb.i18n.names import kind_name, status_name
from cmdb.service.records import new_id, now, today_or
from cmdb.service.slips import slip_pdf

STOCK_STATUS = "in_stock"
MINIMUM_LIMIT = 100_000


def _location(graph: Graph, key: str) -> str:
    """The key of a registered location; other CIs are refused."""
    key = validate_key(key, "location")
    place = graph.get_ci(key)
    if place.kind != "Location":
        raise WrongKind(_("%(key)s is a %(kind)s, not a location", key=repr(key),
                          kind=kind_name(place.kind)), field="location", value=key)
    return key


def _location_of(graph: Graph, key: str) -> str | None:
    path = graph.location_path(key)
    return path[-1]["key"] if path else None


def mark_spare(graph: Graph, caller: policy.Caller, key: str, *, location: str | None = None,
               model: str | None = None, unmark: bool = False) -> dict[str, Any]:
    """Mark hardware a spare (in stock at ``location``, for ``model``, default its own)."""
    policy.require(caller, "spare", N_("manage spares"))
    key = validate_key(key)
    ci = graph.get_ci(key)
    if ci.kind != "Hardware":
        raise WrongKind(_("%(key)s is a %(kind)s; only hardware can be a spare", key=repr(key), kind=kind_name(ci.kind)),
                        field="key",
                        value=key)
    if location is not None:
        location = _location(graph, location)
    policy.require_in_scope(graph, caller, [key] + ([location] if location else []))
    if unmark:
        if any(r["type"] == "STANDS_IN_FOR" for r in graph.neighbours(key, direction="out")):
            raise Conflict(_("%(key)s is standing in for a unit; return it first", key=key), {"key": key})
        graph.update_ci(key, {"spare": None, "spare_model": None}, actor=caller.actor,
                        source="spare: unmarked")
        return spare_row(graph, key)
    values: dict[str, Any] = {"spare": True, "status": STOCK_STATUS}
    values["spare_model"] = model or ci.properties.get("spare_model") or ci.properties.get("model")
    if not values["spare_model"]:
        raise Conflict(_("%(key)s has no model; say which model it is a spare for (--model)", key=key),
                       {"key": key, "field": "model"})
    graph.update_ci(key, values, actor=caller.actor, source="spare: marked", location=location)
    return spare_row(graph, key)


def spare_row(graph: Graph, key: str) -> dict[str, Any]:
    for row in spare_store.spares(graph):
        if row["key"] == key:
            return row
    ci = graph.get_ci(key)
    return {"key": key, "name": ci.name, "model": ci.properties.get("model"), "spare_model": None,
            "status": ci.properties.get("status"), "location": _location_of(graph, key),
            "location_name": None}


def in_stock_for(graph: Graph, model: str | None) -> list[dict[str, Any]]:
    """The spares in stock that stand in for ``model``."""
    return [s for s in spare_store.spares(graph)
            if s["status"] == STOCK_STATUS and (s["spare_model"] or s["model"]) == model]


def set_minimum(graph: Graph, caller: policy.Caller, model: str, location: str,
                minimum: int) -> dict[str, Any]:
    policy.require(caller, "spare", N_("set spare minimums"))
    model = (model or "").strip()
    if not model or len(model) > 200:
        raise InvalidInput(_("Name the model (at most 200 characters)"), field="model", value=model)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or not 0 <= minimum <= MINIMUM_LIMIT:
        raise InvalidInput(_("minimum %(value)s is not a whole number from 0 to %(limit)s",
                             value=repr(minimum), limit=MINIMUM_LIMIT),
                           field="minimum", value=minimum, allowed=f"0-{MINIMUM_LIMIT}")
    location = _location(graph, location)
    policy.require_in_scope(graph, caller, [location])
    props = {"model": model, "location": location, "minimum": minimum, "updated_at": now(),
             "updated_by": caller.actor}
    graph.write(lambda tx: spare_store.set_minimum(tx, f"{model}@{location}", props))
    return props


def stock(graph: Graph) -> list[dict[str, Any]]:
    """Per model and stock location: spares in stock, out (issued), the minimum, and short."""
    counts: dict[tuple[str, str], dict[str, Any]] = {}
    for row in spare_store.spares(graph):
        model = row["spare_model"] or row["model"] or "(no model)"
        if row["status"] == STOCK_STATUS:
            place = row["location"] or "(no location)"
            entry = counts.setdefault((model, place), _stock_entry(model, place, row["location_name"]))
            entry["in_stock"] += 1
            entry["keys"].append(row["key"])
    for issue in spare_store.all_issues(graph):
        if not issue.get("returned_at"):
            entry = counts.setdefault((issue["model"], issue["from_location"]),
                                      _stock_entry(issue["model"], issue["from_location"], None))
            entry["issued"] += 1
    for minimum in spare_store.minimums(graph):
        entry = counts.setdefault((minimum["model"], minimum["location"]),
                                  _stock_entry(minimum["model"], minimum["location"], None))
        entry["minimum"] = minimum["minimum"]
    for entry in counts.values():
        entry["short"] = max(0, (entry["minimum"] or 0) - entry["in_stock"])
        entry["keys"].sort()
    return sorted(counts.values(), key=lambda e: (e["model"], e["location"]))


def _stock_entry(model: str, location: str, name: str | None) -> dict[str, Any]:
    return {"model": model, "location": location, "location_name": name, "in_stock": 0,
            "issued": 0, "minimum": None, "short": 0, "keys": []}


def issue_spare(graph: Graph, caller: policy.Caller, repair_id: str, spare_key: str, *,
                today: dt.date | None = None) -> dict[str, Any]:
    """Issue a spare against a repair: it stands in for the unit, at the unit's location."""
    policy.require(caller, "spare", N_("issue spares"))
    spare_key = validate_key(spare_key, "spare")
    issue_id = new_id("SI")
    day = today_or(today)

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        repair = repair_store.lock(tx, repair_id)
        if repair is None:
            raise NotFound(_("No repair order %(id)s", id=repr(repair_id)), {"id": repair_id})
        if repair["status"] == "closed":
            raise Conflict(_("Repair %(id)s is closed", id=repair_id), {"id": repair_id})
        unit_key = repair["key"]
        cis = fetch_cis(tx, [spare_key, unit_key])
        spare = cis[spare_key]
        if spare.kind != "Hardware" or not spare.properties.get("spare"):
            raise Conflict(_("%(key)s is not marked a spare (cmdb spare mark %(key)s)", key=spare_key),
                           {"key": spare_key})
        if spare.properties.get("status") != STOCK_STATUS:
            raise Conflict(_("%(key)s is %(status)s, not in stock", key=spare_key,
                             status=(spare.properties.get("status") if current_language() == "en"
                                     else status_name(spare.properties.get("status")))),
                           {"key": spare_key, "status": spare.properties.get("status")})
        source, target = _location_of(graph, spare_key), _location_of(graph, unit_key)
        policy.require_in_scope(graph, caller, [unit_key, spare_key, source, target])
        changes = ChangeLog(caller.actor, f"repair {repair_id}: spare issue {issue_id}")
        props = {"id": issue_id, "repair": repair_id, "spare": spare_key, "unit": unit_key,
                 "model": spare.properties.get("spare_model") or spare.properties.get("model"),
                 "from_location": source, "to_location": target, "issued_at": changes.at,
                 "issued_on": day.isoformat(), "issued_by": caller.actor}
        props = {k: v for k, v in props.items() if v is not None}
        spare_store.create_issue(tx, props, [spare_key, unit_key])
        changes.add("create", issue_id, "SpareIssue", None, props)
        event = {"event": "issued", "issue": issue_id, "repair": repair_id}
        changes.add("spare", spare_key, "Hardware", None, {**event, "stands_in_for": unit_key})
        changes.add("spare", unit_key, cis[unit_key].kind, None, {**event, "spare": spare_key})
        links = [Link(spare_key, "STANDS_IN_FOR", unit_key)]
        if target:
            links.append(Link(spare_key, "LOCATED_IN", target))
        change_cis(tx, changes, updates=[(spare_key, {"status": "in_use"})], links=links)
        changes.write(tx)
        return props
    return graph.write(work)


def return_spare(graph: Graph, caller: policy.Caller, issue_id: str, *,
                 today: dt.date | None = None) -> dict[str, Any]:
    """Swap a spare back: back to its stock location, in stock, no longer standing in."""
    policy.require(caller, "spare", N_("return spares"))
    day = today_or(today)

    def work(tx: ManagedTransaction) -> dict[str, Any]:
        issue = spare_store.lock_issue(tx, issue_id)
        if issue is None:
            raise NotFound(_("No spare issue %(id)s", id=repr(issue_id)), {"id": issue_id})
        if issue.get("returned_at"):
            raise Conflict(_("Spare issue %(id)s was returned on %(day)s", id=issue_id, day=issue.get("returned_on")),
                           {"id": issue_id})
        policy.require_in_scope(graph, caller, [issue["spare"], issue.get("from_location")])
        changes = ChangeLog(caller.actor, f"repair {issue['repair']}: spare return {issue_id}")
        _return_in_tx(graph, tx, changes, issue, day)
        changes.write(tx)
        return issue
    graph.write(work)
    return get_issue(graph, issue_id)


def return_all_in_tx(graph: Graph, tx: ManagedTransaction, changes: ChangeLog,
                     repair_id: str, today: dt.date | None = None) -> list[str]:
    """Swap back every spare still out against ``repair_id`` (the unit is back or closed)."""
    returned = []
    for issue in spare_store.issues_of_repair(tx, repair_id):
        if not issue.get("returned_at"):
            _return_in_tx(graph, tx, changes, issue, today_or(today))
            returned.append(issue["id"])
    return returned


def _return_in_tx(graph: Graph, tx: ManagedTransaction, changes: ChangeLog,
                  issue: dict[str, Any], day: dt.date) -> None:
    spare_key, unit_key = issue["spare"], issue["unit"]
    after = {"returned_at": changes.at, "returned_on": day.isoformat(),
             "returned_by": changes.actor}
    spare_store.update_issue(tx, issue["id"], after)
    changes.add("update", issue["id"], "SpareIssue", {"returned_at": None}, after)
    event = {"event": "returned", "issue": issue["id"], "repair": issue["repair"]}
    cis = fetch_cis(tx, [spare_key, unit_key])
    changes.add("spare", unit_key, cis[unit_key].kind, None, {**event, "spare": spare_key})
    changes.add("spare", spare_key, cis[spare_key].kind, None, {**event, "stood_in_for": unit_key})
    links = [Link(spare_key, "LOCATED_IN", issue["from_location"])] if issue.get("from_location") else []
    change_cis(tx, changes, updates=[(spare_key, {"status": STOCK_STATUS})],
               unlinks=[Link(spare_key, "STANDS_IN_FOR", unit_key)], links=links)


ISSUE_ID = re.compile(r"SI-[0-9]{8}-[0-9a-f]{6}")


def resolve_issue(graph: Graph, reference: str) -> str:
    """A spare issue's id from its id, or from the key of a spare that is out on issue."""
    reference = (reference or "").strip()
    if ISSUE_ID.fullmatch(reference):
        return reference
    key = validate_key(reference, "issue")
    out = [i for i in spare_store.all_issues(graph) if i["spare"] == key and not i.get("returned_at")]
    if not out:
        graph.get_ci(key)
        raise NotFound(_("%(key)s is not out on issue; name a spare issue (SI-…)", key=key), {"key": key})
    return out[0]["id"]


def get_issue(graph: Graph, issue_id: str) -> dict[str, Any]:
    found = spare_store.get_issue(graph, issue_id)
    if found is None:
        raise NotFound(_("No spare issue %(id)s", id=repr(issue_id)), {"id": issue_id})
    return {k: v for k, v in found.items() if not k.startswith("_")}


def list_issues(graph: Graph, *, open_only: bool = False) -> list[dict[str, Any]]:
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in spare_store.all_issues(graph)]
    if open_only:
        rows = [r for r in rows if not r.get("returned_at")]
    return sorted(rows, key=lambda r: (r["issued_at"], r["id"]), reverse=True)


def issue_slip(graph: Graph, issue_id: str, font_setting: str | None = None) -> bytes:
    """The printable slip of one issue (PDF)."""
    issue = get_issue(graph, issue_id)
    cis = graph.get_cis([issue["spare"], issue["unit"]])
    repair = repair_store.get(graph, issue["repair"])
    spare = cis.get(issue["spare"])
    unit = cis.get(issue["unit"])
    return slip_pdf(issue, {**(spare.properties if spare else {})},
                    {**(unit.properties if unit else {})}, repair, font_setting)
