"""The location tree, read once and walked in Python: containment, paths, site and building."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cmdb.graph import Graph, links
from cmdb.graph.values import path_text


@dataclass(frozen=True)
class Place:
    key: str
    name: str | None
    type: str | None
    parent: str | None


class LocationTree:
    def __init__(self, places: dict[str, Place]):
        self.places = places
        self._chains: dict[str, tuple[str, ...]] = {}

    @classmethod
    def load(cls, graph: Graph) -> "LocationTree":
        rows = links.location_tree(graph)
        return cls({r["key"]: Place(r["key"], r["name"], r["type"], r["parent"]) for r in rows})

    def __contains__(self, key: str) -> bool:
        return key in self.places

    def chain(self, key: str | None) -> tuple[str, ...]:
        """``key`` and the locations containing it, innermost first."""
        if key is None:
            return ()
        if key in self._chains:
            return self._chains[key]
        chain: list[str] = []
        current: str | None = key
        seen: set[str] = set()
        while current is not None and current not in seen and len(chain) < 64:
            seen.add(current)
            chain.append(current)
            place = self.places.get(current)
            current = place.parent if place else None
        result = tuple(chain)
        self._chains[key] = result
        return result

    def contains(self, outer: str, inner: str) -> bool:
        """Whether ``outer`` is ``inner`` or one of the locations around it."""
        return outer in self.chain(inner)

    def related(self, a: str | None, b: str | None) -> bool:
        """Same place, or one contains the other (a room and a rack in it)."""
        if a is None or b is None:
            return False
        return self.contains(a, b) or self.contains(b, a)

    def subtree(self, roots: list[str]) -> set[str]:
        """Every location inside any of ``roots`` (the roots included)."""
        children: dict[str, list[str]] = {}
        for place in self.places.values():
            if place.parent is not None:
                children.setdefault(place.parent, []).append(place.key)
        found: set[str] = set()
        stack = [r for r in roots if r in self.places]
        while stack:
            key = stack.pop()
            if key in found:
                continue
            found.add(key)
            stack.extend(children.get(key, ()))
        return found

    def path(self, key: str | None) -> list[dict[str, Any]]:
        """Outermost first: [{key, name, type}, …] down to ``key`` itself."""
        return [{"key": k, "name": self.places[k].name, "type": self.places[k].type}
                for k in reversed(self.chain(key)) if k in self.places]

    def path_text(self, key: str | None) -> str:
        return path_text(self.path(key))

    def describe(self, key: str | None) -> dict[str, Any] | None:
        if key is None:
            return None
        return {"key": key, "path": self.path_text(key) or key, "known": key in self.places}

    def site_building(self, key: str | None) -> tuple[str | None, str | None]:
        """The site and building around ``key``; without types, the outermost two levels."""
        chain = [k for k in reversed(self.chain(key)) if k in self.places]
        if not chain:
            return None, None
        site = next((k for k in chain if self.places[k].type == "site"), None)
        building = next((k for k in chain if self.places[k].type == "building"), None)
        if site is None:
            site = chain[0]
        if building is None:
            rest = chain[chain.index(site) + 1:]
            building = rest[0] if rest else None
        return site, building

    def name(self, key: str | None) -> str | None:
        if key is None:
            return None
        place = self.places.get(key)
        return (place.name or key) if place else key
