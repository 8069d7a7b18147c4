"""Which column means what, and which kind of CI a sheet holds.

Headings are matched case, width and space insensitively against built-in synonyms in
English, Simplified and Traditional Chinese. A user mapping file (YAML or JSON) adds to
and overrides them::

    kind: Hardware              # default kind for sheets whose name says nothing
    sheets: {台账: Hardware}     # sheet name -> kind
    columns: {资产卡片号: key, 使用人: owner, 备注2: null}   # null ignores the column
    values: {status: {正常: in_use}}                        # extra words for enum columns
    create_locations: true      # unknown location names become new top-level locations
    dayfirst: true              # read 05/01/26 as 5 January (--dayfirst/--monthfirst win)
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from cmdb.errors import InvalidInput, TooLarge
from cmdb.i18n import _
from importers.headings import (
    GENERIC, KIND_SPECIFIC, RELATIONSHIPS_SHEET, SHEET_KINDS, SHEET_SYNONYMS, kind_fields, norm,
    strip_unit,
)

@dataclass
class Mapping:
    columns: dict[str, str | None] = field(default_factory=dict)   # normalised heading -> field
    sheets: dict[str, str] = field(default_factory=dict)            # normalised sheet name -> kind
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    # The words of ``values`` as written, to list them when a cell has none of them.
    value_words: dict[str, list[str]] = field(default_factory=dict)
    kind: str | None = None
    dayfirst: bool | None = None
    create_locations: bool = False
    new_categories: bool = False   # categories the file names that the register lacks are created
    preset: str | None = None

    def field_for(self, heading: str, kind: str) -> str | None:
        """The field a heading means on a sheet of ``kind``, or None."""
        allowed = kind_fields(kind)
        for h in (heading, strip_unit(heading)):
            n = norm(h)
            if not n:
                return None
            if n in self.columns:
                target = self.columns[n]
                return target if target in allowed else None
            specific = {norm(k): v for k, v in KIND_SPECIFIC.get(kind, {}).items()}
            if n in specific and specific[n] in allowed:
                return specific[n]
            target = GENERIC.get(n)
            if target in allowed:
                return target
        return None

    def ignores(self, heading: str) -> bool:
        n = norm(heading)
        return n in self.columns and self.columns[n] is None

    def sheet_kind(self, sheet_name: str) -> str | None:
        n = norm(sheet_name)
        if n in self.sheets:
            return self.sheets[n]
        for kind, words in SHEET_SYNONYMS.items():
            if n in {norm(w) for w in words}:
                return kind
        # "硬件资产2026", "Hardware (Jan)": a name that starts with a kind's word.
        best: tuple[int, str] | None = None
        for kind, words in SHEET_SYNONYMS.items():
            for w in words:
                nw = norm(w)
                if len(nw) >= 2 and n.startswith(nw) and (best is None or len(nw) > best[0]):
                    best = (len(nw), kind)
        if best:
            return best[1]
        # "register_Hardware" (what `cmdb export` writes for CSV): the last word names the kind.
        tokens = [t for t in re.split(r"[\s._\-]+", unicodedata.normalize("NFKC", sheet_name)) if t]
        if len(tokens) > 1:
            return self.sheet_kind(tokens[-1])
        return None

    def guess_kind(self, headings: list[str]) -> str | None:
        """The kind whose fields the headings name best (needs a key column, or from/to)."""
        scores: dict[str, int] = {}
        for kind in SHEET_KINDS:
            fields = {self.field_for(h, kind) for h in headings} - {None}
            if kind == RELATIONSHIPS_SHEET:
                if {"from", "to"} <= fields:
                    return RELATIONSHIPS_SHEET
                continue
            if "key" not in fields:
                continue
            generic = {"key", "name", "description", "notes", "owner"}
            scores[kind] = len(fields - generic)
        if not scores:
            return None
        best = max(scores.values())
        winners = [k for k, v in scores.items() if v == best]
        if len(winners) == 1:
            return winners[0]
        return "Hardware" if "Hardware" in winners and best == 0 else None


def parse_kind(name: str) -> str:
    """A kind given by the user (--kind or a mapping file), English or Chinese."""
    n = norm(name)
    for kind in SHEET_KINDS:
        if norm(kind) == n:
            return kind
    found = Mapping().sheet_kind(name)
    if found:
        return found
    raise InvalidInput(_("Unknown kind %(kind)r; allowed: %(allowed)s", kind=name,
                         allowed=", ".join(SHEET_KINDS)),
                       field="kind", value=name, allowed=list(SHEET_KINDS))


def mapping_too_large(name: str, size: int, limit: int) -> Exception:
    return TooLarge(_("Mapping file %(name)s is %(size)s bytes; at most %(limit)s allowed "
                      "(CMDB_MAX_MAPPING_BYTES)", name=name, size=f"{size:,}", limit=f"{limit:,}"),
                    {"field": "mapping", "value": size, "allowed": limit})


def parse_mapping(data: bytes, name: str, limit: int) -> Mapping:
    """A mapping file's bytes (JSON, or YAML without anchors and aliases) as a Mapping.

    Anchors and aliases are refused: nested aliases expand tenfold per level (an "alias bomb"),
    and a column mapping never needs them.
    """
    if len(data) > limit:
        raise mapping_too_large(name, len(data), limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_("Mapping file %(name)s is not UTF-8 text", name=name), field="mapping",
                           value=name) from None
    try:
        if text.lstrip().startswith(("{", "[")):
            spec = json.loads(text)
        else:
            spec = _load_plain_yaml(text, name)
    except RecursionError:
        raise InvalidInput(_("Mapping file %(name)s is nested too deeply", name=name), field="mapping",
                           value=name) from None
    except (ValueError, _yaml_error()) as e:
        raise InvalidInput(_("Mapping file %(name)s cannot be parsed: %(reason)s", name=name, reason=e),
                           field="mapping",
                           value=name) from None
    return mapping_from_dict(spec or {}, source=name)


def _yaml_error() -> type[Exception]:
    import yaml
    return yaml.YAMLError


def _load_plain_yaml(text: str, name: str) -> Any:
    import yaml

    class PlainLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise InvalidInput(
                    _("Mapping file %(name)s uses a YAML anchor or alias (&name / *name) at "
                      "line %(line)s; write each entry out instead", name=name,
                      line=event.start_mark.line + 1),
                    field="mapping", value=name)
            return super().compose_node(parent, index)

    return yaml.load(text, Loader=PlainLoader)  # noqa: S506 — a SafeLoader without aliases


def mapping_from_dict(data: Any, source: str = "mapping") -> Mapping:
    if not isinstance(data, dict):
        raise InvalidInput(_("%(source)s: expected a mapping with 'columns', 'sheets', 'values', 'kind'",
                             source=source),
                           field="mapping", value=type(data).__name__)
    unknown = set(data) - {"columns", "sheets", "values", "kind", "create_locations", "dayfirst"}
    if unknown:
        raise InvalidInput(_("%(source)s: unknown entries %(entries)s; allowed: columns, sheets, "
                             "values, kind, create_locations, dayfirst", source=source,
                             entries=sorted(unknown)), field="mapping",
                           value=sorted(unknown))
    every_field = {f for k in SHEET_KINDS for f in kind_fields(k)}
    m = Mapping(create_locations=bool(data.get("create_locations", False)))
    for heading, target in (data.get("columns") or {}).items():
        if target is not None and target not in every_field:
            raise InvalidInput(_("%(source)s: column %(heading)r maps to %(target)r, which is not a field",
                                 source=source, heading=heading, target=target),
                               field=f"columns.{heading}", value=target, allowed=sorted(every_field))
        m.columns[norm(heading)] = target
    for sheet, kind in (data.get("sheets") or {}).items():
        m.sheets[norm(sheet)] = parse_kind(str(kind))
    for fname, words in (data.get("values") or {}).items():
        if not isinstance(words, dict):
            raise InvalidInput(_("%(source)s: values.%(field)s must map words to values", source=source,
                                 field=fname),
                               field=f"values.{fname}", value=words)
        m.values[fname] = {norm(str(k)): str(v) for k, v in words.items()}
        m.value_words[fname] = [str(k) for k in words]
    if data.get("dayfirst") is not None:
        if not isinstance(data["dayfirst"], bool):
            raise InvalidInput(_("%(source)s: dayfirst must be true or false", source=source), field="dayfirst",
                               value=data["dayfirst"], allowed=[True, False])
        m.dayfirst = data["dayfirst"]
    if data.get("kind"):
        m.kind = parse_kind(str(data["kind"]))
    return m
