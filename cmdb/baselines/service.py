"""Baselines: create one (a snapshot of the scope, kept in the file store), list them, and
compare one with another or with the register as it is now, with who made each change.

A baseline records every CI of its scope (the whole register, or a location and everything
inside it) with the properties users keep (not the timestamps and counters the CMDB itself
maintains) and every relationship touching them.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

from cmdb.baselines import diff as differences
from cmdb.baselines.snapshot import State
from cmdb.documents.store import FileStore
from cmdb.errors import Conflict, InvalidInput, WrongKind
from cmdb.graph import Graph, baselines as baseline_queries
from cmdb.graph.schema import utc_now, validate_key
from cmdb.i18n import _, names

NAME_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000
NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f/\\]")
NOTE_CONTROL = re.compile(r"[\x00]")
NOW = "now"
# Later than any time the history holds: "up to now".
_END_OF_TIME = "9999-12-31T23:59:59.999999Z"
NO_SITE = "(no site)"


def _clean_name(name: Any, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(_("A baseline needs a name, e.g. \"Hand-over 2026\""), field=field, value=name)
    name = name.strip()
    if len(name) > NAME_MAX_LENGTH or NAME_CONTROL.search(name):
        raise InvalidInput(_("A baseline's name is one line of at most %(limit)s characters without '/' or '\\'",
                             limit=NAME_MAX_LENGTH), field=field, value=name[:80])
    if name.lower() == NOW:
        raise Conflict(_("'now' means the register as it is; choose another name for a baseline"),
                       {"field": field, "value": name})
    return name


def _check_scope(graph: Graph, scope: str | None) -> str | None:
    if scope is None:
        return None
    location = graph.get_ci(validate_key(scope, "scope"))
    if location.kind != "Location":
        raise WrongKind(_("%(key)s is a %(kind)s; a baseline's scope is a Location", key=repr(location.key),
                          kind=names.kind_name(location.kind)),
                        field="scope", value=location.key, allowed=_("the key of a %(kind)s", kind="Location"))
    return location.key


def create(graph: Graph, store: FileStore, name: str, *, actor: str, scope: str | None = None,
           note: str | None = None) -> dict[str, Any]:
    name = _clean_name(name)
    scope = _check_scope(graph, scope)
    if note is not None and (len(note) > NOTE_MAX_LENGTH or NOTE_CONTROL.search(note)):
        raise InvalidInput(_("A baseline's note is text of at most %(limit)s characters", limit=NOTE_MAX_LENGTH),
                           field="note", value=note[:80])
    started = time.perf_counter()
    state = live_state(graph, scope)
    read = time.perf_counter()
    sha256 = store.put(state.encode())
    props = {"name": name, "created_at": state.taken_at, "created_by": actor, "file_sha256": sha256,
             "cis": len(state.cis), "relationships": len(state.links)}
    if scope is not None:
        props["scope"] = scope
    if note:
        props["note"] = note.strip()
    baseline_queries.create_baseline(graph, props)
    return {**_public(props), "durations": {"read_s": round(read - started, 3),
                                            "total_s": round(time.perf_counter() - started, 3)}}


def _public(props: dict[str, Any]) -> dict[str, Any]:
    return {"name": props["name"], "created_at": props["created_at"], "created_by": props["created_by"],
            "scope": props.get("scope"), "note": props.get("note"), "cis": props["cis"],
            "relationships": props["relationships"]}


def list_all(graph: Graph) -> list[dict[str, Any]]:
    return [_public(b) for b in baseline_queries.list_baselines(graph)]


def get(graph: Graph, name: str) -> dict[str, Any]:
    return _public(baseline_queries.get_baseline(graph, _clean_name(name)))


def live_state(graph: Graph, scope: str | None) -> State:
    taken_at = utc_now()  # before the read: a change committed meanwhile is in both
    cis, links = baseline_queries.read_state(graph, scope)
    return State.of(taken_at, scope, cis, links)


def _stored_state(graph: Graph, store: FileStore, name: str) -> tuple[dict[str, Any], State]:
    props = baseline_queries.get_baseline(graph, _clean_name(name))
    return props, State.decode(store.read(props["file_sha256"]))


def diff(graph: Graph, store: FileStore, name: str, to: str | None = None) -> dict[str, Any]:
    """What changed from baseline ``name`` to baseline ``to`` (or now), with who and when."""
    base, old = _stored_state(graph, store, name)
    if to is None or to.strip().lower() == NOW:
        new, until, target = live_state(graph, old.scope), _END_OF_TIME, None
    else:
        other, new = _stored_state(graph, store, to)
        if other["created_at"] < base["created_at"]:
            raise Conflict(_("Baseline %(other)s is older than %(name)s; compare the older one with the newer one",
                             other=repr(other['name']), name=repr(base['name'])), {"to": to})
        if new.scope != old.scope:
            raise Conflict(_("Baseline %(other)s covers %(other_scope)s and %(name)s covers %(scope)s; "
                             "compare baselines of the same scope", other=repr(other['name']),
                             other_scope=new.scope or _("the whole register"), name=repr(base['name']),
                             scope=old.scope or _("the whole register")), {"to": to})
        until, target = other["created_at"], _public(other)
    rows = differences.compare(old, new)
    changes = baseline_queries.changes_between(graph, [r["key"] for r in rows], old.taken_at, until)
    differences.attribute(rows, changes)
    return {"baseline": _public(base), "to": target, "since": old.taken_at, "until": new.taken_at,
            "scope": old.scope, "counts": differences.counts(rows), "changes": rows}


def _site_of(state: State) -> dict[str, str | None]:
    parent = state.single_targets("LOCATED_IN")
    sites: dict[str, str | None] = {}
    for key in state.cis:
        seen, node, site = set(), key, None
        while node is not None and node not in seen:
            seen.add(node)
            props = state.cis.get(node, ("", {}))[1]
            if props.get("type") == "site":
                site = node
                break
            if node not in parent:
                site = node if node != key else None
                break
            node = parent[node]
        sites[key] = site
    return sites


def report(graph: Graph, store: FileStore, name: str) -> dict[str, Any]:
    """The baseline report: what the baseline holds, counted by site, kind and category, and
    what changed since the previous baseline of the same scope."""
    base, state = _stored_state(graph, store, name)
    sites = _site_of(state)
    counts = Counter((sites[key] or NO_SITE, kind, props.get("category") or "")
                     for key, (kind, props) in state.cis.items())
    by_site = Counter(sites[k] or NO_SITE for k in state.cis)
    by_kind = Counter(kind for kind, _ in state.cis.values())
    by_category = Counter(props["category"] for kind, props in state.cis.values()
                          if kind == "Hardware" and props.get("category"))
    earlier = [b for b in baseline_queries.list_baselines(graph)
               if b.get("scope") == base.get("scope") and b["created_at"] < base["created_at"]]
    previous = earlier[-1]["name"] if earlier else None
    return {
        "baseline": _public(base),
        "by_site": dict(sorted(by_site.items())),
        "by_kind": dict(sorted(by_kind.items())),
        "by_category": dict(sorted(by_category.items())),
        "counts": [{"site": s, "kind": k, "category": c or None, "count": n}
                   for (s, k, c), n in sorted(counts.items())],
        "previous": previous,
        "since_previous": diff(graph, store, previous, base["name"]) if previous else None,
    }
