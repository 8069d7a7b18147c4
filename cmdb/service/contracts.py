"""Contracts and warranties: a contract covers CIs; a CI's warranty is answered from the
contracts covering it, and a hardware CI's ``warranty_end`` follows its warranty contracts
(the latest end among them) whenever one is linked or its end changes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from neo4j import ManagedTransaction

from cmdb import policy
from cmdb.errors import DuplicateKey, InvalidInput, NotFound
from cmdb.graph import contracts as contract_store
from cmdb.graph.ci_writes import change_cis, fetch_cis
from cmdb.graph.history import ChangeLog
from cmdb.graph.schema import (
    DATE, ENUM, NUMBER, STR, STR_LIST, TEXT, Prop, validate_key,
)
from cmdb.graph import Graph
from cmdb.i18n import N_, _
from cmdb.service.records import check_fields, now, today_or

CONTRACT_TYPES = ("warranty", "maintenance", "support", "lease")
COVERAGE = ("hardware", "software", "on_site", "spare_first")
# Which contract answers "under warranty?" when several are in force.
TYPE_PREFERENCE = {t: i for i, t in enumerate(CONTRACT_TYPES)}

CONTRACT_FIELDS = (
    Prop("vendor", STR, description="Vendor or service provider"),
    Prop("type", ENUM, CONTRACT_TYPES),
    Prop("start", DATE),
    Prop("end", DATE),
    Prop("coverage", STR_LIST, description="hardware, software, on_site, spare_first"),
    Prop("response_hours", NUMBER, minimum=0, maximum=10_000),
    Prop("repair_hours", NUMBER, minimum=0, maximum=100_000),
    Prop("contacts", TEXT),
    Prop("notes", TEXT),
    Prop("title", STR),
)
REQUIRED = ("vendor", "type", "start", "end")
_SYSTEM = ("number", "created_at", "created_by", "updated_at", "revision", "documents")


def _check(values: dict[str, Any]) -> dict[str, Any]:
    checked = check_fields(CONTRACT_FIELDS, values, "contract")
    if checked.get("coverage") is not None:
        wrong = [c for c in checked["coverage"] if c not in COVERAGE]
        if wrong:
            raise InvalidInput(_("contract.coverage: %(values)s not known; allowed: %(allowed)s",
                                 values=", ".join(map(repr, wrong)), allowed=", ".join(COVERAGE)),
                               field="coverage",
                               value=wrong, allowed=list(COVERAGE))
    return checked


def _check_dates(contract: dict[str, Any]) -> None:
    if contract.get("start") and contract.get("end") and contract["end"] < contract["start"]:
        raise InvalidInput(_("contract %(number)s: end %(end)s is before start %(start)s",
                             number=contract.get("number"), end=contract["end"],
                             start=contract["start"]), field="end", value=contract["end"])


def add_contract(graph: Graph, caller: policy.Caller, number: str, values: dict[str, Any],
                 covers: Sequence[str] = ()) -> dict[str, Any]:
    policy.require(caller, "contract.manage", N_("manage contracts"))
    number = validate_key(number, "number")
    checked = {k: v for k, v in _check(values).items() if v is not None}
    missing = [f for f in REQUIRED if f not in checked]
    if missing:
        raise InvalidInput(_("contract %(number)s: %(fields)s required", number=number,
                             fields=", ".join(missing)), field=missing[0],
                           allowed=list(REQUIRED))
    keys = [validate_key(k) for k in dict.fromkeys(covers)]
    policy.require_in_scope(graph, caller, keys)
    props = {"number": number, **checked}
    _check_dates(props)
    if contract_store.get(graph, number) is not None:
        raise DuplicateKey(_("A contract numbered %(number)s already exists", number=repr(number)),
                           {"number": number})

    def link_first(tx: ManagedTransaction, changes: ChangeLog) -> None:
        _cover_in_tx(graph, tx, changes, props, keys)
    props.update(created_at=now(), created_by=caller.actor, revision=1)
    contract_store.create(graph, props, link_first, actor=caller.actor)
    return get_contract(graph, number)


def update_contract(graph: Graph, caller: policy.Caller, number: str,
                    values: dict[str, Any]) -> dict[str, Any]:
    """Change fields (``None`` removes one); a new end re-derives covered warranty_end."""
    policy.require(caller, "contract.manage", N_("manage contracts"))
    checked = _check(values)
    for name in REQUIRED:
        if name in checked and checked[name] is None:
            raise InvalidInput(_("contract %(number)s: %(field)s cannot be removed", number=number,
                                 field=name), field=name)

    def work(tx: ManagedTransaction) -> None:
        current = _locked(tx, number)
        changed = {k: v for k, v in checked.items() if current.get(k) != v}
        if not changed:
            return
        after = {**current, **changed}
        _check_dates(after)
        changes = ChangeLog(caller.actor)
        before = {k: current.get(k) for k in changed}
        contract_store.update(tx, number, {**changed, "updated_at": changes.at,
                                           "revision": int(current.get("revision") or 1) + 1})
        changes.add("update", number, "Contract", before, changed)
        if after.get("type") == "warranty" or current.get("type") == "warranty":
            covered = contract_store.covered_among(tx, number, _covered_keys(graph, number))
            _derive_warranty_end(graph, tx, changes, covered, number)
        changes.write(tx)
    graph.write(work)
    return get_contract(graph, number)


def link_contract(graph: Graph, caller: policy.Caller, number: str, keys: Sequence[str], *,
                  remove: bool = False) -> dict[str, Any]:
    """Cover ``keys`` by the contract (or no longer, with ``remove``)."""
    policy.require(caller, "contract.manage", N_("manage contracts"))
    keys = [validate_key(k) for k in dict.fromkeys(keys)]
    if not keys:
        raise InvalidInput(_("Name at least one CI key to link"), field="keys")
    policy.require_in_scope(graph, caller, keys)

    def work(tx: ManagedTransaction) -> None:
        contract = _locked(tx, number)
        changes = ChangeLog(caller.actor)
        if remove:
            cis = fetch_cis(tx, keys)
            present = contract_store.covered_among(tx, number, keys)
            absent = [k for k in keys if k not in present]
            if absent:
                raise NotFound(_("contract %(number)s does not cover %(keys)s", number=number,
                                 keys=", ".join(absent)),
                               {"number": number, "keys": absent})
            contract_store.uncover(tx, number, keys)
            for key in keys:
                changes.add("contract", key, cis[key].kind,
                            {"contract": number, "type": contract.get("type")}, None)
            changes.add("update", number, "Contract", {"covers_removed": keys}, None)
            _derive_warranty_end(graph, tx, changes, set(keys), None)
        else:
            _cover_in_tx(graph, tx, changes, contract, keys)
        changes.write(tx)
    graph.write(work)
    return get_contract(graph, number)


def get_contract(graph: Graph, number: str) -> dict[str, Any]:
    found = contract_store.get(graph, number)
    if found is None:
        raise NotFound(_("No contract numbered %(number)s", number=repr(number)), {"number": number})
    props, covers = found
    return {**_public(props), "covers": covers}


def list_contracts(graph: Graph, *, type: str | None = None, vendor: str | None = None,
                   expiring_within_days: int | None = None,
                   today: dt.date | None = None) -> list[dict[str, Any]]:
    day = today_or(today)
    if type is not None and type not in CONTRACT_TYPES:
        raise InvalidInput(_("Unknown contract type %(value)s; allowed: %(allowed)s", value=repr(type),
                             allowed=", ".join(CONTRACT_TYPES)),
                           field="type", value=type, allowed=list(CONTRACT_TYPES))
    rows = []
    for props, covered in contract_store.all_contracts(graph):
        if type and props.get("type") != type:
            continue
        if vendor and vendor.strip().lower() not in str(props.get("vendor", "")).lower():
            continue
        if expiring_within_days is not None:
            end = dt.date.fromisoformat(props["end"])
            if not day <= end <= day + dt.timedelta(days=expiring_within_days):
                continue
        rows.append({**_public(props), "covered": covered,
                     "in_force": props["start"] <= day.isoformat() <= props["end"]})
    return sorted(rows, key=lambda r: (r["end"], r["number"]))


def warranty_of(graph: Graph, key: str, today: dt.date | None = None) -> dict[str, Any]:
    """Is ``key`` under warranty today, and under which contract?"""
    ci = graph.get_ci(key)
    return warranty_answer(ci.properties.get("warranty_end"),
                           contract_store.contracts_of(graph, [key]).get(key, []), today) | {"key": key}


def warranty_answer(warranty_end: str | None, contracts: list[dict[str, Any]],
                    today: dt.date | None = None) -> dict[str, Any]:
    """The answer from a CI's ``warranty_end`` and the contracts covering it: the contract in
    force that answers (warranty first, then maintenance, support, lease; the latest end), or
    the CI's own warranty_end when no contract is in force."""
    day = today_or(today).isoformat()
    in_force = [c for c in contracts if c.get("start", "") <= day <= c.get("end", "")]
    if in_force:
        latest_first = sorted(in_force, key=lambda c: c["end"], reverse=True)
        best = min(latest_first, key=lambda c: TYPE_PREFERENCE.get(c.get("type"), len(CONTRACT_TYPES)))
        return {"under_warranty": True, "until": best["end"], "source": "contract",
                "contract": _brief(best)}
    if warranty_end and warranty_end >= day:
        return {"under_warranty": True, "until": warranty_end, "source": "warranty_end",
                "contract": None}
    ended = sorted([c["end"] for c in contracts if c.get("end")] +
                   ([warranty_end] if warranty_end else []))
    return {"under_warranty": False, "until": ended[-1] if ended else None,
            "source": "contract" if contracts else ("warranty_end" if warranty_end else None),
            "contract": None}


def effective_warranty_end(warranty_end: str | None, contracts: list[dict[str, Any]]) -> str | None:
    """The end of a CI's warranty: its warranty contracts' latest end, else its warranty_end."""
    ends = [c["end"] for c in contracts if c.get("type") == "warranty" and c.get("end")]
    return max(ends) if ends else warranty_end


# --- internals ---------------------------------------------------------------------------


def _brief(contract: dict[str, Any]) -> dict[str, Any]:
    return {k: contract.get(k) for k in ("number", "vendor", "type", "start", "end", "coverage",
                                         "response_hours", "repair_hours")}


def _public(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("_")}


def _locked(tx: ManagedTransaction, number: str) -> dict[str, Any]:
    current = contract_store.lock(tx, number)
    if current is None:
        raise NotFound(_("No contract numbered %(number)s", number=repr(number)), {"number": number})
    return current


def _covered_keys(graph: Graph, number: str) -> list[str]:
    found = contract_store.get(graph, number)
    return found[1] if found else []


def _cover_in_tx(graph: Graph, tx: ManagedTransaction, changes: ChangeLog,
                 contract: dict[str, Any], keys: list[str]) -> None:
    if not keys:
        return
    number = contract["number"]
    cis = fetch_cis(tx, keys)
    new = [k for k in keys if k not in contract_store.covered_among(tx, number, keys)]
    contract_store.cover(tx, number, new, at=changes.at, actor=changes.actor)
    for key in new:
        changes.add("contract", key, cis[key].kind, None,
                    {"contract": number, "type": contract.get("type"), "end": contract.get("end")})
    if new:
        changes.add("update", number, "Contract", None, {"covers_added": new})
    _derive_warranty_end(graph, tx, changes, set(new), None)


def _derive_warranty_end(graph: Graph, tx: ManagedTransaction, changes: ChangeLog,
                         keys: set[str], source_number: str | None) -> None:
    """Set each hardware CI's warranty_end to its warranty contracts' latest end."""
    if not keys:
        return
    cis = fetch_cis(tx, sorted(keys))
    covering = contract_store.contracts_of_in_tx(tx, sorted(keys))
    updates = []
    for key in sorted(keys):
        if cis[key].kind != "Hardware":
            continue
        ends = [c["end"] for c in covering.get(key, []) if c.get("type") == "warranty"]
        if ends and cis[key].properties.get("warranty_end") != max(ends):
            updates.append((key, {"warranty_end": max(ends)}))
    change_cis(tx, changes, updates=updates)
