"""What changed between two states of the register, and who changed it when.

Each difference is one row: a CI added or removed, a CI moved (its LOCATED_IN changed) or
re-imaged (its RUNS_IMAGE changed), a property changed (one row per property), a relationship
added or removed (other than the moves and re-images already listed). Who and when come from
the history entries written between the two states: the latest entry that made that
difference. A CI that came into a scoped baseline's location (or left it) without being created
(or deleted) is explained by its move. A difference no entry explains (a restore, an engine
edited by hand, the other relationships of a CI that moved into the scope) has no author.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from cmdb.baselines.snapshot import State

ADDED, REMOVED, MOVED, REIMAGED, CHANGED = "added", "removed", "moved", "re-imaged", "changed"
LINK_ADDED, LINK_REMOVED = "relationship added", "relationship removed"
CHANGE_KINDS = (ADDED, REMOVED, MOVED, REIMAGED, CHANGED, LINK_ADDED, LINK_REMOVED)
SINGLE_KINDS = {"LOCATED_IN": MOVED, "RUNS_IMAGE": REIMAGED}


def compare(old: State, new: State) -> list[dict[str, Any]]:
    """The differences from ``old`` to ``new``, without authors, in a stable order."""
    rows: list[dict[str, Any]] = []
    for key in sorted(new.cis.keys() - old.cis.keys()):
        rows.append(_row(ADDED, key, new.cis[key][0], after=new.cis[key][1].get("name")))
    for key in sorted(old.cis.keys() - new.cis.keys()):
        rows.append(_row(REMOVED, key, old.cis[key][0], before=old.cis[key][1].get("name")))
    both = old.cis.keys() & new.cis.keys()
    for rel_type, change in SINGLE_KINDS.items():
        before, after = old.single_targets(rel_type), new.single_targets(rel_type)
        for key in sorted(both):
            if before.get(key) != after.get(key):
                rows.append(_row(change, key, new.cis[key][0], before=before.get(key),
                                 after=after.get(key), type=rel_type))
    for key in sorted(both):
        kind, props = new.cis[key]
        was = old.cis[key][1]
        for name in sorted(was.keys() | props.keys()):
            if was.get(name) != props.get(name):
                rows.append(_row(CHANGED, key, kind, property=name, before=was.get(name),
                                 after=props.get(name)))
    shown_as_single = {(a, t) for a, t, _ in old.links ^ new.links if t in SINGLE_KINDS and a in both}
    for change, links, state in ((LINK_ADDED, new.links - old.links, new),
                                 (LINK_REMOVED, old.links - new.links, old)):
        for a, t, b in sorted(links):
            if (a, t) in shown_as_single:
                continue
            kind = (state.cis.get(a) or new.cis.get(a) or old.cis.get(a) or ("",))[0]
            rows.append(_row(change, a, kind, type=t, before=b if change == LINK_REMOVED else None,
                             after=b if change == LINK_ADDED else None))
    return rows


def _row(change: str, key: str, kind: str, *, property: str | None = None, type: str | None = None,
         before: Any = None, after: Any = None) -> dict[str, Any]:
    return {"change": change, "key": key, "kind": kind, "property": property, "type": type,
            "before": before, "after": after, "by": None, "at": None, "source": None}


def attribute(rows: list[dict[str, Any]], changes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each row the author, time and source of the latest history entry that explains it.
    ``changes`` are entries of the rows' keys between the two states, oldest first."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for entry in changes:
        entry = {**entry, "before": _json(entry["before"]), "after": _json(entry["after"])}
        by_key.setdefault(entry["key"], []).append(entry)
    for row in rows:
        entries = by_key.get(row["key"], [])
        found = next((e for e in reversed(entries) if _explains(e, row)), None)
        if found is None and row["change"] in (ADDED, REMOVED):
            # Not created or deleted in between: it came into (or left) a baseline's scope.
            found = next((e for e in reversed(entries) if _moved_scope(e, row)), None)
        if found is not None:
            row.update(by=found["actor"], at=found["at"], source=found["source"])
    return rows


def _moved_scope(entry: dict[str, Any], row: dict[str, Any]) -> bool:
    link = (entry["after"] if row["change"] == ADDED else entry["before"]) or {}
    return entry["action"] == ("link" if row["change"] == ADDED else "unlink") \
        and link.get("type") == "LOCATED_IN" and link.get("from") == row["key"]


def _json(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)


def _explains(entry: dict[str, Any], row: dict[str, Any]) -> bool:
    action, before, after = entry["action"], entry["before"] or {}, entry["after"] or {}
    change = row["change"]
    if change == ADDED:
        return action == "create"
    if change == REMOVED:
        return action == "delete"
    if change == CHANGED:
        return action in ("create", "update") and (row["property"] in after or row["property"] in before)
    if change in (MOVED, REIMAGED):
        if row["after"] is None:
            return action == "unlink" and before.get("type") == row["type"]
        return action == "link" and after.get("type") == row["type"] and after.get("to") == row["after"]
    if change == LINK_ADDED:
        return action == "link" and after.get("type") == row["type"] and after.get("to") == row["after"]
    if change == LINK_REMOVED:
        return (action == "unlink" and before.get("type") == row["type"]
                and before.get("to") == row["before"])
    return False


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Differences per kind of change; a CI with several changed properties counts once."""
    result = {change: 0 for change in CHANGE_KINDS}
    changed_cis = {r["key"] for r in rows if r["change"] == CHANGED}
    for r in rows:
        if r["change"] != CHANGED:
            result[r["change"]] += 1
    result[CHANGED] = len(changed_cis)
    return result
