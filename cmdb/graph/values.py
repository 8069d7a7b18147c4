"""The values the graph layer takes and returns: CIs, changes to make, and what was done."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from cmdb.graph.schema import KINDS, REVISION


@dataclass(frozen=True)
class CI:
    key: str
    kind: str
    properties: dict[str, Any]

    @property
    def revision(self) -> int:
        return int(self.properties.get(REVISION) or 0)

    @property
    def name(self) -> str | None:
        return self.properties.get("name")

    def user_properties(self) -> dict[str, Any]:
        system = {p.name for p in KINDS[self.kind].properties if p.system}
        return {k: v for k, v in self.properties.items() if k not in system}

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "properties": dict(self.properties),
                "revision": self.revision}


@dataclass(frozen=True)
class CIInput:
    """One CI to create or update. ``None`` as a value removes that property."""

    key: str
    kind: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """A relationship. ``properties`` are written as they are only by a restore; every other
    writer stamps who made the link and when."""

    from_key: str
    type: str
    to_key: str
    properties: dict[str, Any] | None = field(default=None, compare=False, hash=False)


@dataclass
class UpsertResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def merge(self, other: "UpsertResult") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass
class LinkResult:
    created: list[Link] = field(default_factory=list)
    unchanged: list[Link] = field(default_factory=list)
    replaced: list[Link] = field(default_factory=list)  # single-valued links that were moved
    removed: list[Link] = field(default_factory=list)   # unlinked, or gone with a deleted CI

    def merge(self, other: "LinkResult") -> None:
        self.created += other.created
        self.unchanged += other.unchanged
        self.replaced += other.replaced
        self.removed += other.removed


@dataclass(frozen=True)
class Page:
    items: list[CI]
    total: int
    offset: int
    limit: int


def kind_from_labels(labels: Iterable[str]) -> str:
    for label in labels:
        if label in KINDS:
            return label
    raise ValueError(f"node with labels {list(labels)} is not a CI")


def ci_from_row(key: str, labels: list[str], props: dict[str, Any]) -> CI:
    """A CI from a ``[key, labels(n), properties(n)]`` row."""
    props = dict(props)
    props.pop("key", None)
    return CI(key, kind_from_labels(labels), props)


def path_text(path: Sequence[dict[str, Any]], separator: str = " / ") -> str:
    """A containment chain (outermost first) as one line: each place's name, else its key."""
    return separator.join(str(p.get("name") or p.get("key")) for p in path)
