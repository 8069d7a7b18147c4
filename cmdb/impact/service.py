"""Impact analysis: what breaks, and why, if a set of CIs changes or goes away.

Relationships read "A needs B", so the CIs affected by a change are those that reach a
changed CI by following relationships forwards. The affected subgraph is fetched by a
bounded backwards traversal (``cmdb.graph.graph_impact``, a few rounds for a deep impact);
distances (breadth-first), states and explanation paths are then computed here:

- ``down``: the CI needs an affected CI and has no redundancy left;
- ``degraded``: an application that RUNS_ON several hosts still has at least ``min_hosts``
  (default 1) hosts that are not down; anything that needs a degraded CI is degraded.
- a host that is down but has a spare or loaner standing in for it (``STANDS_IN_FOR``) that is
  not down still counts for its applications, which are then degraded, not down: the loaner
  restores the redundancy.

States are the least fixpoint of these rules (a worklist: a CI is re-examined when something
it needs gets worse), so cycles terminate and every CI is reported once.

With a ``depth`` limit only the CIs within that many steps are fetched, and their states
consider only what was fetched: an application whose other hosts are affected further away
than the limit may show as degraded where the unlimited analysis says down.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from cmdb.errors import InvalidInput
from cmdb.faults.service import open_faults_of
from cmdb.graph import Graph
from cmdb.graph import impact as graph_impact
from cmdb.graph import spares as spare_store
from cmdb.graph.schema import CRITICALITIES, CRITICALITY_RANK, kind_of, validate_key
from cmdb.i18n import _

DOWN, DEGRADED = "down", "degraded"
STATES = (DOWN, DEGRADED)
_RANK = {None: 0, DEGRADED: 1, DOWN: 2}
_BY_RANK = {0: None, 1: DEGRADED, 2: DOWN}
MAX_DEPTH = 64
MAX_KEYS = 10_000
NO_CRITICALITY = "unset"


@dataclass
class _Node:
    key: str
    kind: str
    name: str | None
    type: str | None = None          # a location's type (site, building, ...)
    criticality: str | None = None
    min_hosts: int | None = None
    hosts: int = 0                   # how many hosts it RUNS_ON, affected or not
    location: dict[str, Any] | None = None  # what it is directly LOCATED_IN
    needs: set[tuple[str, str]] = field(default_factory=set)  # (relationship, key) within the subgraph


def clean_keys(keys: Iterable[Any], field_name: str = "keys") -> list[str]:
    """Validated, de-duplicated keys in the order given; at least one."""
    if keys is None or isinstance(keys, (str, bytes)):
        keys = [keys] if isinstance(keys, str) else []
    cleaned = list(dict.fromkeys(validate_key(k, field_name) for k in keys))
    if not cleaned:
        raise InvalidInput(_("The change is empty: give the key of at least one CI that changes"),
                           field=field_name, value=[], allowed=_("one or more CI keys"))
    if len(cleaned) > MAX_KEYS:
        raise InvalidInput(_("%(n)s keys in one change; at most %(max)s allowed", n=len(cleaned),
                             max=f"{MAX_KEYS:,}"),
                           field=field_name, value=len(cleaned))
    return cleaned


def _check_depth(depth: Any) -> int | None:
    if depth is None:
        return None
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise InvalidInput(_("depth must be a whole number from 1 to %(max)s, got %(depth)s",
                             max=MAX_DEPTH, depth=repr(depth)),
                           field="depth", value=depth, allowed=f"1..{MAX_DEPTH}")
    return depth


def _check_kinds(kinds: Sequence[str] | None) -> set[str] | None:
    if not kinds:
        return None
    return {kind_of(k).label for k in kinds}


def impact(graph: Graph, keys: Iterable[str], depth: int | None = None,
           kinds: Sequence[str] | None = None) -> dict[str, Any]:
    """The CIs affected by a change to ``keys``.

    Returns ``{"changed": [...], "depth": depth, "affected": [...], "summary": {...}}``;
    each affected CI has key, kind, name, state, distance (steps to the nearest changed CI)
    and path, one shortest explanation ``[{"key": x}, {"type": "RUNS_ON"}, {"key": y}, ...]``
    from the CI to a changed CI (for a down CI, the shortest through down CIs only, so it can
    be longer than the distance). ``kinds`` restricts the affected list and the summary (the
    analysis itself always follows every kind). Unknown keys raise UnknownKey; an empty
    change raises InvalidInput.
    """
    keys = clean_keys(keys)
    depth = _check_depth(depth)
    wanted_kinds = _check_kinds(kinds)
    changed = graph.require_cis(keys)

    nodes, distance = _fetch(graph, list(changed), depth)
    hosts = sorted({target for node in nodes.values() for rel, target in node.needs if rel == "RUNS_ON"})
    stand_ins = spare_store.stand_ins(graph, hosts)
    state = compute_states(nodes, set(changed), stand_ins)
    paths = _paths(nodes, distance, state, set(changed))

    affected = []
    for key, node in nodes.items():
        if wanted_kinds is not None and node.kind not in wanted_kinds:
            continue
        affected.append({"key": key, "kind": node.kind, "name": node.name,
                         "state": _BY_RANK[state[key]], "distance": distance[key],
                         "path": paths[key],
                         **({"criticality": node.criticality} if node.kind == "Application" else {})})
    affected.sort(key=lambda a: (a["distance"], -_RANK[a["state"]], a["kind"], a["key"]))
    return {
        "changed": [{"key": k, "kind": ci.kind, "name": ci.name} for k, ci in changed.items()],
        "depth": depth,
        "affected": affected,
        "stand_ins": {unit: sorted(keys) for unit, keys in sorted(stand_ins.items())},
        "summary": _summary(graph, affected, nodes),
        # "This server already has an open A fault": faults on what changes or is affected.
        "open_faults": open_faults_of(graph, [*changed, *nodes]),
    }


# --- fetching the affected subgraph ---------------------------------------------------------


def _fetch(graph: Graph, changed: list[str], depth: int | None) -> tuple[dict[str, _Node], dict[str, int]]:
    """The CIs within ``depth`` (all, if None) of the change, and their distances.

    Each round reaches ``REACH_STEPS`` further, starting from the CIs exactly at the edge
    of what is known: every shortest path to a CI further away passes through one of them.
    """
    nodes: dict[str, _Node] = {}
    distance: dict[str, int] = {k: 0 for k in changed}
    frontier, reached = list(changed), 0
    while frontier and (depth is None or reached < depth):
        steps = graph_impact.REACH_STEPS if depth is None else min(graph_impact.REACH_STEPS, depth - reached)
        for row in graph_impact.reach(graph, frontier, steps):
            node = nodes.get(row["key"])
            if node is None:
                node = nodes[row["key"]] = _Node(
                    row["key"], row["kind"], row["name"], row["type"], row["criticality"],
                    row["min_hosts"], row["hosts"], row["location"])
            node.needs.update(row["needs"])
        reached += steps
        distance = _distances(nodes, changed)
        frontier = [k for k, d in distance.items() if d == reached]
    for key in changed:
        nodes.pop(key, None)  # a changed CI that needs another changed CI is not "affected"
    if depth is not None:
        nodes = {k: n for k, n in nodes.items() if distance.get(k, depth + 1) <= depth}
    return nodes, distance


def _distances(nodes: dict[str, _Node], changed: list[str]) -> dict[str, int]:
    needed_by: dict[str, list[str]] = defaultdict(list)
    for key, node in nodes.items():
        for _rel, target in node.needs:
            needed_by[target].append(key)
    distance = {k: 0 for k in changed}
    queue = deque(changed)
    while queue:
        key = queue.popleft()
        for other in needed_by.get(key, ()):
            if other not in distance:
                distance[other] = distance[key] + 1
                queue.append(other)
    return distance


# --- states ------------------------------------------------------------------------------------


def compute_states(nodes: dict[str, _Node], changed: set[str],
                   stand_ins: dict[str, list[str]] | None = None) -> dict[str, int]:
    """Least fixpoint of the state rules over the fetched subgraph (rank: 2 down, 1 degraded).
    ``stand_ins``: host -> the spares standing in for it."""
    stand_ins = stand_ins or {}
    state: dict[str, int] = {k: 0 for k in nodes}
    state.update({k: _RANK[DOWN] for k in changed})
    needed_by: dict[str, list[str]] = defaultdict(list)
    for key, node in nodes.items():
        for _rel, target in node.needs:
            needed_by[target].append(key)

    def evaluate(node: _Node) -> int:
        worst = 0
        hosts_hit = hosts_lost = 0
        for rel, target in node.needs:
            s = state.get(target, 0)
            if rel == "RUNS_ON":
                covered = any(state.get(spare, 0) < _RANK[DOWN] for spare in stand_ins.get(target, ()))
                hosts_hit += s > 0
                hosts_lost += s == _RANK[DOWN] and not covered
            elif s > worst:
                worst = s
        if hosts_hit:
            total = max(node.hosts, hosts_hit)
            remaining = total - hosts_lost
            enough = remaining >= (node.min_hosts or 1)
            worst = max(worst, _RANK[DEGRADED] if enough else _RANK[DOWN])
        return worst

    queue = deque(nodes)
    queued = set(queue)
    while queue:
        key = queue.popleft()
        queued.discard(key)
        new = evaluate(nodes[key])
        if new > state[key]:
            state[key] = new
            for needer in needed_by.get(key, ()):
                if needer not in queued:
                    queued.add(needer)
                    queue.append(needer)
    return state


def _paths(nodes: dict[str, _Node], distance: dict[str, int], state: dict[str, int],
           changed: set[str]) -> dict[str, list[dict[str, str]]]:
    """One shortest explanation per CI, from the CI to a changed CI.

    A down CI is explained by the shortest path through down CIs only (one always exists:
    a CI is down because something it needs is down); a degraded CI by a shortest path,
    stepping to the worst-off CI where there is a choice. Ties go to the first relationship
    type and key, so the answer is stable.
    """
    down = _RANK[DOWN]
    down_distance = {k: 0 for k in changed}
    needed_by: dict[str, list[str]] = defaultdict(list)
    for key, node in nodes.items():
        if state[key] == down:
            for _rel, target in node.needs:
                needed_by[target].append(key)
    queue = deque(changed)
    while queue:
        key = queue.popleft()
        for other in needed_by.get(key, ()):
            if other not in down_distance:
                down_distance[other] = down_distance[key] + 1
                queue.append(other)

    shortest: dict[str, tuple[str, str]] = {}
    through_down: dict[str, tuple[str, str]] = {}
    for key, node in nodes.items():
        d = distance[key]
        steps = [(rel, t) for rel, t in node.needs if distance.get(t) == d - 1]
        shortest[key] = min(steps, key=lambda s: (-state.get(s[1], down), s[0], s[1]))
        if state[key] == down and key in down_distance:
            d = down_distance[key]
            steps = [(rel, t) for rel, t in node.needs if down_distance.get(t) == d - 1]
            through_down[key] = min(steps)

    def walk(key: str) -> list[dict[str, str]]:
        parents = through_down if key in through_down else shortest
        path = [{"key": key}]
        while key not in changed:
            rel, key = parents[key]
            path += [{"type": rel}, {"key": key}]
        return path

    return {key: walk(key) for key in nodes}


# --- summary ------------------------------------------------------------------------------------


def _summary(graph: Graph, affected: list[dict[str, Any]], nodes: dict[str, _Node]) -> dict[str, Any]:
    by_state = {s: 0 for s in STATES}
    by_state.update(Counter(a["state"] for a in affected))
    by_criticality = {c: 0 for c in (*CRITICALITIES, NO_CRITICALITY)}
    applications = []
    for a in affected:
        if a["kind"] == "Application":
            by_criticality[a.get("criticality") or NO_CRITICALITY] += 1
            applications.append({k: a[k] for k in ("key", "name", "criticality", "state", "distance")})
    applications.sort(key=lambda a: (CRITICALITY_RANK.get(a["criticality"], len(CRITICALITIES)),
                                     -_RANK[a["state"]], a["distance"], a["key"]))
    return {
        "total": len(affected),
        "by_kind": dict(sorted(Counter(a["kind"] for a in affected).items())),
        "by_state": by_state,
        "by_location": _by_location(graph, affected, nodes),
        "by_criticality": by_criticality,
        "applications": applications,
    }


def _by_location(graph: Graph, affected: list[dict[str, Any]], nodes: dict[str, _Node]) -> list[dict[str, Any]]:
    """Affected hardware and locations counted per site and building."""
    located = [a for a in affected if a["kind"] in ("Hardware", "Location")]
    if not located:
        return []
    parents = {a["key"]: nodes[a["key"]].location for a in located if nodes[a["key"]].location}
    above = graph.location_paths(sorted({p["key"] for p in parents.values()}))
    groups: dict[tuple, dict[str, Any]] = {}
    for a in located:
        chain: list[dict[str, Any]] = []
        parent = parents.get(a["key"])
        if parent is not None:
            chain = list(above.get(parent["key"], [])) + [parent]
        if a["kind"] == "Location":
            node = nodes[a["key"]]
            chain.append({"key": node.key, "name": node.name, "type": node.type})
        site = _first_of_type(chain, "site") or (chain[0] if chain else None)
        building = _first_of_type(chain, "building")
        group_key = (site and site["key"], building and building["key"])
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = {"site": _brief(site), "building": _brief(building),
                                         "count": 0, DOWN: 0, DEGRADED: 0}
        group["count"] += 1
        group[a["state"]] += 1
    return sorted(groups.values(), key=lambda g: (-g["count"], str(g["site"]), str(g["building"])))


def _first_of_type(chain: list[dict[str, Any]], type_: str) -> dict[str, Any] | None:
    return next((c for c in chain if c.get("type") == type_), None)


def _brief(location: dict[str, Any] | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"key": location["key"], "name": location.get("name")}


def path_text(path: list[dict[str, str]]) -> str:
    """``APP1 -RUNS_ON-> SRV1 -LOCATED_IN-> RACK1``."""
    return " ".join(step["key"] if "key" in step else f"-{step['type']}->" for step in path)
