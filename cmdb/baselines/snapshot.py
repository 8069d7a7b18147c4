"""A baseline's snapshot: the CIs (key, kind, the properties a user keeps — not the
timestamps and counters the CMDB maintains) and relationships of its scope, as compressed
JSON in the file store.

    {"format": "cmdb-baseline-snapshot", "version": 1, "taken_at": "...", "scope": null,
     "cis": [["SRV-001", "Hardware", {"name": "srv001", ...}], ...],
     "links": [["SRV-001", "LOCATED_IN", "A-101-R01"], ...]}
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from typing import Any

from cmdb.errors import InvalidInput
from cmdb.i18n import _
from cmdb.graph import schema

FORMAT = "cmdb-baseline-snapshot"
VERSION = 1
SYSTEM_PROPERTIES = frozenset(p.name for p in schema.SYSTEM_PROPERTIES)
SINGLE = tuple(t for t, r in schema.RELATIONSHIPS.items() if r.single)  # LOCATED_IN, RUNS_IMAGE


@dataclass
class State:
    """The register (or a scope of it) as a baseline compares it."""

    taken_at: str
    scope: str | None
    cis: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # key -> (kind, props)
    links: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def of(cls, taken_at: str, scope: str | None, cis, links) -> "State":
        return cls(taken_at, scope,
                   {key: (kind, {k: v for k, v in props.items()
                                 if k not in SYSTEM_PROPERTIES and k != "key"})
                    for key, kind, props in cis},
                   {tuple(link) for link in links})

    def single_targets(self, rel_type: str) -> dict[str, str]:
        """CI -> the one CI it has a ``rel_type`` link to (where it is, which image it runs)."""
        return {a: b for a, t, b in self.links if t == rel_type}

    def encode(self) -> bytes:
        document = {"format": FORMAT, "version": VERSION, "taken_at": self.taken_at,
                    "scope": self.scope,
                    "cis": [[key, kind, props] for key, (kind, props) in sorted(self.cis.items())],
                    "links": sorted(list(link) for link in self.links)}
        text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)

    @classmethod
    def decode(cls, data: bytes) -> "State":
        try:
            document = json.loads(gzip.decompress(data))
        except (OSError, EOFError, ValueError) as exc:
            raise InvalidInput(_("The baseline's snapshot cannot be read (%(error)s)", error=str(exc)), field="snapshot") from None
        if document.get("format") != FORMAT or document.get("version") != VERSION:
            raise InvalidInput(_("The baseline's snapshot is not in a format this CMDB reads"),
                               field="snapshot", value=document.get("version"))
        return cls(document["taken_at"], document["scope"],
                   {key: (kind, props) for key, kind, props in document["cis"]},
                   {tuple(link) for link in document["links"]})
