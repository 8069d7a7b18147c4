"""Validate read sheets into an import plan: CIs to upsert, relationships to link, locations
to create from paths, and every problem with the sheet, row, column and value it is about.

Nothing here writes. Row numbers are the ones the user sees (header = row 1 when the
heading row is the first row of the sheet).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from cmdb.errors import InvalidInput
from cmdb.i18n import ENGLISH, _, current_language
from cmdb.i18n.names import kind_name, property_label
from cmdb.graph import schema
from cmdb.graph.schema import KINDS, RELATIONSHIPS
from cmdb.graph.vocabulary import CustomField, Term, Vocabulary, check_field, key_from_text
from importers import values as value_parsing
from importers.headings import REL_COLUMNS, RELATIONSHIPS_SHEET, SYNONYMS, norm
from importers.mapping import Mapping
from importers.readers import RawSheet

PATH_SEPARATORS = re.compile(r"\s*(?:/|\\|>|／|＞)\s*")
LIST_SEPARATORS = re.compile(r"\s*[;,、，；\n]\s*")
PATH_KEY_JOIN = "-"
# A location created from a path gets a key a label and a page address carry cleanly: its
# path's segments, each cut to letters and digits, joined by "-" ("HQ/Building A" -> HQ-BUILDING-A).
_NOT_KEY_TEXT = re.compile(r"[\W_]+")
# ... and a type read from its name where the name says it, else the level below its parent's.
_TYPE_WORDS = (
    ("rack", re.compile(r"\brack\b|机柜|機櫃|机架|機架", re.I)),
    ("room", re.compile(r"\broom\b|室$|房间|房間|机房|機房", re.I)),
    ("floor", re.compile(r"\bfloor\b|\b\d+f\b|层$|層$|楼层|樓層", re.I)),
    ("building", re.compile(r"\bbuilding\b|\bblock\b|大楼|大樓|栋$|棟$|楼$|樓$|座$", re.I)),
    ("site", re.compile(r"\bsite\b|\bcampus\b|园区|園區|厂区|廠區", re.I)),
)
_TYPE_BELOW = {None: "site", "region": "site", "site": "building", "building": "room",
               "floor": "room", "area": "room", "room": "rack"}
MULTI_VALUED = {"runs_on", "depends_on", "connected_to"}
CONVERSION_CACHE_SIZE = 500_000

REL_TYPE_WORDS = {
    "位于": "LOCATED_IN", "位於": "LOCATED_IN", "所在": "LOCATED_IN", "locatedin": "LOCATED_IN",
    "运行于": "RUNS_ON", "運行於": "RUNS_ON", "部署于": "RUNS_ON", "部署於": "RUNS_ON",
    "runson": "RUNS_ON", "使用镜像": "RUNS_IMAGE", "使用鏡像": "RUNS_IMAGE", "镜像": "RUNS_IMAGE",
    "鏡像": "RUNS_IMAGE", "runsimage": "RUNS_IMAGE", "依赖": "DEPENDS_ON", "依賴": "DEPENDS_ON",
    "依赖于": "DEPENDS_ON", "依賴於": "DEPENDS_ON", "dependson": "DEPENDS_ON",
    "连接": "CONNECTED_TO", "連接": "CONNECTED_TO", "连接到": "CONNECTED_TO", "連接到": "CONNECTED_TO",
    "上联": "CONNECTED_TO", "上聯": "CONNECTED_TO", "connectedto": "CONNECTED_TO",
}


class Register(Protocol):
    """What validation needs to know about the register already in the graph."""

    def kinds_of(self, keys: Iterable[str]) -> dict[str, str]: ...

    def locations(self) -> list[tuple[str, str | None, str | None]]:
        """Every Location as (key, name, parent key)."""
        ...

    def vocabulary(self) -> Vocabulary: ...


class EmptyRegister:
    def kinds_of(self, keys: Iterable[str]) -> dict[str, str]:
        return {}

    def vocabulary(self) -> Vocabulary:
        return Vocabulary.shipped()

    def locations(self) -> list[tuple[str, str | None, str | None]]:
        return []


@dataclass
class Problem:
    sheet: str | None
    row: int | None
    column: str | None
    value: Any
    message: str
    allowed: Any = None

    def as_dict(self) -> dict[str, Any]:
        d = {"sheet": self.sheet, "row": self.row, "column": self.column,
             "value": self.value, "message": self.message}
        if self.allowed is not None:
            d["allowed"] = self.allowed
        return d

    def __str__(self) -> str:
        where = " ".join(p for p in (
            _("sheet %(sheet)r", sheet=self.sheet) if self.sheet is not None else "",
            _("row %(row)s", row=self.row) if self.row is not None else "",
            _("column %(column)r", column=self.column) if self.column else "") if p)
        if not where:
            return self.message
        if self.value not in (None, ""):
            return _("%(where)s: value %(value)r: %(message)s", where=where, value=self.value,
                     message=self.message)
        return _("%(where)s: %(message)s", where=where, message=self.message)


@dataclass
class CIRow:
    key: str
    kind: str
    properties: dict[str, Any]
    sheet: str
    row: int
    created_from_path: bool = False


@dataclass
class RelRow:
    from_key: str
    type: str
    to_key: str
    sheet: str
    row: int
    column: str | None
    value: str = ""


@dataclass
class SheetReport:
    name: str
    kind: str | None
    header_row: int | None = None
    rows_read: int = 0
    skipped: int = 0
    rejected_rows: set[int] = field(default_factory=set)
    accepted_rows: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    columns: dict[str, str] = field(default_factory=dict)     # heading -> field
    ignored_columns: list[str] = field(default_factory=list)
    untagged_rows: list[int] = field(default_factory=list)   # a preset's rows with no asset tag

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.name, "kind": self.kind, "rows_read": self.rows_read,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "skipped": self.skipped,
                "adds_up": self.adds_up(), "columns": self.columns,
                "ignored_columns": self.ignored_columns, "untagged_rows": self.untagged_rows}

    def adds_up(self) -> bool:
        return self.rows_read == (self.created + self.updated + self.unchanged
                                  + self.rejected + self.skipped)


@dataclass
class Options:
    kind: str | None = None
    dayfirst: bool | None = None   # None: as the mapping or preset says, else month first
    clear_empty: bool = False
    skip_invalid: bool = False
    encoding: str | None = None    # of CSV files; None: detected
    new_categories: bool | None = None  # None: as the mapping or preset says (presets: yes)
    new_fields: bool = False       # unknown headings become custom fields (else: ignored)

    def new_categories_with(self, mapping: Mapping) -> bool:
        if self.new_categories is not None:
            return self.new_categories
        return bool(mapping.new_categories)

    def dayfirst_with(self, mapping: Mapping) -> bool:
        if self.dayfirst is not None:
            return self.dayfirst
        return bool(mapping.dayfirst)


@dataclass
class Plan:
    cis: dict[str, CIRow] = field(default_factory=dict)
    relationships: list[RelRow] = field(default_factory=list)
    new_locations: list[CIRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Worth a look, but not wrong: nothing is refused for these.
    warnings: list[Problem] = field(default_factory=list)
    sheets: list[SheetReport] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)
    register_kinds: dict[str, str] = field(default_factory=dict)
    # The vocabulary the import adds: categories met in the file, columns kept as custom fields.
    new_categories: list[Term] = field(default_factory=list)
    new_fields: list[CustomField] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def sheet(self, name: str) -> SheetReport:
        return next(s for s in self.sheets if s.name == name)


# ---------------------------------------------------------------------------------------


def build_plan(sheets: list[RawSheet], mapping: Mapping | None = None, options: Options | None = None,
               register: Register | None = None) -> Plan:
    return _Planner(mapping or Mapping(), options or Options(), register or EmptyRegister()).run(sheets)


def _blank(row: list[str]) -> bool:
    return all(not str(c).strip() for c in row)


@dataclass
class _PendingRef:
    from_key: str
    from_kind: str
    field: str             # location, image, runs_on, ... or "sheet" for relationship sheets
    rel_type: str
    value: str
    sheet: str
    row: int
    column: str | None
    from_column: str | None = None


class _Planner:
    def __init__(self, mapping: Mapping, options: Options, register: Register):
        self.mapping = mapping
        self.options = options
        self.register = register
        self.plan = Plan()
        self.first_seen: dict[str, tuple[str, int]] = {}
        self.file_kinds: dict[str, str] = {}   # every key on a CI row, valid or not
        self.refs: list[_PendingRef] = []
        self.row_problems: dict[tuple[str, int], list[Problem]] = {}
        self.number_keys: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self.dayfirst = options.dayfirst_with(mapping)
        self.words = register.vocabulary()
        self.create_categories = options.new_categories_with(mapping)

    # -- driver

    def run(self, sheets: list[RawSheet]) -> Plan:
        for raw in sheets:
            self._sheet(raw)
        self._resolve_references()
        if self.options.skip_invalid:
            self._cascade_rejections()
        self._finish()
        return self.plan

    def _problem(self, report: SheetReport | None, row: int | None, column: str | None, value: Any,
                 message: str, allowed: Any = None) -> None:
        p = Problem(report.name if report else None, row, column, value, message, allowed)
        self.plan.problems.append(p)
        if report is not None and row is not None:
            report.rejected_rows.add(row)
            self.row_problems.setdefault((report.name, row), []).append(p)

    # -- sheets

    def _sheet(self, raw: RawSheet) -> None:
        header_index = next((i for i, r in enumerate(raw.rows) if not _blank(r)), None)
        if header_index is None:
            self.plan.ignored_sheets.append(raw.name)
            return
        headings = [str(h).strip() for h in raw.rows[header_index]]
        kind = (getattr(raw, "kind", None) or self.options.kind
                or self.mapping.sheet_kind(raw.name) or self.mapping.kind
                or self.mapping.guess_kind(headings))
        report = SheetReport(raw.name, kind, header_row=header_index + 1)
        report.rows_read = len(raw.rows) - header_index - 1
        self.plan.sheets.append(report)
        if kind is None:
            report.rejected_rows.update(range(header_index + 2, len(raw.rows) + 1))
            self.plan.problems.append(Problem(
                raw.name, None, None, None,
                _("Cannot tell what sheet %(sheet)r holds: name the sheet after a kind "
                  "(Hardware/硬件/設備, Locations/位置, Images/镜像, Applications/应用, "
                  "Relationships/关系) or pass --kind; headings seen: %(headings)s",
                  sheet=raw.name, headings=", ".join(h for h in headings if h)),
                allowed=["Hardware", "Location", "SoftwareImage", "Application", "Relationships"]))
            return
        columns: list[tuple[int, str, str]] = []
        used: dict[str, int] = {}
        for i, heading in enumerate(headings):
            if not heading:
                continue
            f = self._field_for(heading, kind)
            if f is None and kind in KINDS and self.options.new_fields \
                    and not self.mapping.ignores(heading):
                f = self._new_field(report, kind, heading, i, raw.rows[header_index + 1:])
            if f is not None and f in used:
                self._same_field(report, header_index + 1, headings, used[f], i, f)
            if f is None or f in used:
                report.ignored_columns.append(heading)
                continue
            used[f] = i
            columns.append((i, heading, f))
            report.columns[heading] = f
        required = ("from", "type", "to") if kind == RELATIONSHIPS_SHEET else ("key",)
        missing = [r for r in required if r not in used]
        if missing:
            expected = "; ".join(f"{m}: " + ", ".join(_examples(m)) for m in missing)
            report.rejected_rows.update(
                i + 1 for i in range(header_index + 1, len(raw.rows)) if not _blank(raw.rows[i]))
            report.skipped = report.rows_read - report.rejected
            self.plan.problems.append(Problem(
                raw.name, header_index + 1, None, None,
                _("Sheet %(sheet)r (%(kind)s) has no recognisable %(missing)s column; "
                  "headings seen: %(headings)s; expected %(expected)s",
                  sheet=raw.name, kind=_kind_word(kind), missing=" / ".join(missing),
                  headings=", ".join(h for h in headings if h) or _("(none)"), expected=expected),
                allowed={m: _examples(m) for m in missing}))
            return
        header_norm = [norm(h) for h in headings]
        first_col = columns[0][0]
        first_norm = header_norm[first_col]
        self.cache: dict[tuple[str, str], Any] = {}
        self.props_by_name = self.words.properties(kind) if kind in KINDS else {}
        # Free text rarely repeats: caching it would only cost memory.
        self.uncached = {f for f, p in self.props_by_name.items() if p.type in (schema.STR, schema.TEXT)}
        for index in range(header_index + 1, len(raw.rows)):
            cells = raw.rows[index]
            row_number = index + 1
            if _blank(cells) or (first_col < len(cells) and norm(cells[first_col]) == first_norm
                                 and [norm(c) for c in cells] == header_norm):
                report.skipped += 1
                continue
            if kind == RELATIONSHIPS_SHEET:
                self._relationship_row(report, row_number, cells, columns)
            else:
                self._ci_row(report, kind, row_number, cells, columns)

    def _field_for(self, heading: str, kind: str) -> str | None:
        """What a heading means: the mapping's own columns first, then the register's custom
        fields (by name or display name), then the built-in headings."""
        if kind in KINDS and norm(heading) not in self.mapping.columns:
            custom = self.words.field_for_heading(kind, heading)
            if custom is not None:
                return custom
        return self.mapping.field_for(heading, kind)

    def _new_field(self, report: SheetReport, kind: str, heading: str, column: int,
                   rows: list[list[str]]) -> str | None:
        """--new-fields: a custom field for an unknown heading, its type read from the column."""
        cells = [str(r[column]) for r in rows if column < len(r)]
        field_type = value_parsing.infer_field_type(cells, dayfirst=self.dayfirst)
        try:
            declared = check_field(kind, key_from_text(heading), field_type,
                                   {lang: heading for lang in ("en", "zh-CN", "zh-TW")})
        except InvalidInput as e:
            self.plan.warnings.append(Problem(report.name, report.header_row, heading, heading,
                                              _("Column kept out: it cannot be a custom field (%(reason)s)",
                                                reason=e.message)))
            return None
        if self.words.field(kind, declared.name) is not None:
            return declared.name
        self.plan.new_fields.append(declared)
        self.words = self.words.with_fields([declared])
        return declared.name

    def _category(self, text: str):
        """(category key,) for a category cell, creating the category when the import may."""
        words = self.mapping.values.get("category")
        if words and norm(text) in words:
            text = words[norm(text)]
        found = self.words.category_key(text)
        if found is not None:
            return (found,)
        if self.create_categories:
            key = key_from_text(text)
            if key and not key[0].isdigit() and key not in self.words.categories:
                term = Term(key, {"en": text.strip()}, (), {})
                self.plan.new_categories.append(term)
                self.words = self.words.with_categories([term])
                return (key,)
        e = self.words.unknown_category(text)
        return InvalidInput(_plain(e.message, "Hardware"), field="category", value=text,
                            allowed=e.allowed)

    def _same_field(self, report: SheetReport, header_row: int, headings: list[str], first: int,
                    other: int, f: str) -> None:
        """Two columns for one field: the same heading twice is refused (which one holds the
        values?); different headings meaning the same (Full Name, Username) take the first."""
        a, b = column_letter(first), column_letter(other)
        if norm(headings[first]) == norm(headings[other]):
            self._problem(report, None, headings[other], headings[other],
                          _("Duplicate heading %(heading)r in columns %(a)s and %(b)s "
                            "(row %(row)s); rename or remove one of them",
                            heading=headings[other], a=a, b=b, row=header_row))
        else:
            self.plan.warnings.append(Problem(
                report.name, header_row, headings[other], headings[other],
                _("Columns %(a)s %(first)r and %(b)s %(other)r both give %(field)s; "
                  "%(field)s is read from column %(a)s and column %(b)s is ignored",
                  a=a, b=b, first=headings[first], other=headings[other], field=_field_word(f))))

    def _ci_row(self, report: SheetReport, kind: str, row: int, cells: list[str],
                columns: list[tuple[int, str, str]]) -> None:
        node_kind = KINDS[kind]
        if self.mapping.preset:
            # Another tool's export holds items without an asset tag (accessories, stock):
            # they have no key here, so they are skipped and counted, not refused.
            key_column = next((i for i, _, f in columns if f == "key"), None)
            if key_column is not None and not (str(cells[key_column]).strip()
                                               if key_column < len(cells) else ""):
                report.skipped += 1
                report.untagged_rows.append(row)
                return
        props: dict[str, Any] = {}
        refs: list[tuple[str, str, str]] = []
        key = None
        failed = False
        for i, heading, f in columns:
            text = value_parsing.unneutralise(str(cells[i]).strip()) if i < len(cells) else ""
            if f == "key":
                try:
                    key = schema.validate_key(text)
                except InvalidInput as e:
                    self._problem(report, row, heading, text, e.message, e.allowed)
                    failed = True
                    continue
                if key.isdigit() and not key.startswith("0"):
                    self.number_keys.setdefault((report.name, heading), []).append((row, key))
                continue
            if f in REL_COLUMNS:
                if text:
                    refs.append((f, heading, text))
                continue
            if not text:
                if self.options.clear_empty:
                    props[f] = None
                continue
            cached = self.cache.get((f, text))
            if cached is None:
                cached = self._convert(node_kind, f, text)
                if f not in self.uncached and len(self.cache) < CONVERSION_CACHE_SIZE:
                    self.cache[(f, text)] = cached
            if isinstance(cached, InvalidInput):
                self._problem(report, row, heading, text, _plain(cached.message, node_kind.label),
                              cached.allowed)
                failed = True
            else:
                props[f] = cached[0]
        if key is None:
            return
        if key in self.first_seen:
            sheet, first_row = self.first_seen[key]
            where = (_("row %(row)s", row=first_row) if sheet == report.name
                     else _("sheet %(sheet)r row %(row)s", sheet=sheet, row=first_row))
            key_heading = next(h for _, h, f in columns if f == "key")
            self._problem(report, row, key_heading, key,
                          _("Duplicate key: %(key)r is already on %(where)s; each CI may appear once",
                            key=key, where=where))
            return
        self.first_seen[key] = (report.name, row)
        self.file_kinds[key] = kind
        for f, heading, text in refs:
            rel_type = REL_COLUMNS[f][0]
            parts = LIST_SEPARATORS.split(text) if f in MULTI_VALUED else [text]
            parts = [p for p in parts if p]
            if f not in MULTI_VALUED and f != "location" and LIST_SEPARATORS.search(text):
                parts = [text]
            for part in parts:
                self.refs.append(_PendingRef(key, kind, f, rel_type, part, report.name, row, heading))
        if failed:
            return
        self.plan.cis[key] = CIRow(key, kind, props, report.name, row)

    def _convert(self, node_kind, f: str, text: str):
        """(value,) or the InvalidInput saying why the text is not valid."""
        if f == "category" and node_kind.label == "Hardware":
            return self._category(text)
        prop = self.props_by_name[f]
        words = self.mapping.values.get(f)
        if words and norm(text) in words:
            text = words[norm(text)]
        elif f == "status" and node_kind.label == "Hardware":
            text = self.words.status_key(text) or text
        try:
            return (value_parsing.convert(node_kind, prop, text, dayfirst=self.dayfirst),)
        except InvalidInput as e:
            if words and self.mapping.value_words.get(f):
                return _unknown_word(e, f, text, self.mapping, prop)
            return e

    def _relationship_row(self, report: SheetReport, row: int, cells: list[str],
                          columns: list[tuple[int, str, str]]) -> None:
        got = {f: (heading, value_parsing.unneutralise(str(cells[i]).strip()) if i < len(cells) else "")
               for i, heading, f in columns}
        ok = True
        keys = {}
        for f in ("from", "to"):
            heading, text = got[f]
            try:
                keys[f] = schema.validate_key(text, f)
            except InvalidInput as e:
                self._problem(report, row, heading, text, e.message)
                ok = False
        heading, text = got["type"]
        rel_type = REL_TYPE_WORDS.get(norm(text)) or REL_TYPE_WORDS.get(text.strip())
        if rel_type is None:
            try:
                rel_type = schema.relationship_of(text).type
            except InvalidInput as e:
                self._problem(report, row, heading, text, e.message, e.allowed)
                ok = False
        if not ok:
            return
        self.refs.append(_PendingRef(keys["from"], "", "sheet", rel_type, keys["to"], report.name,
                                     row, got["to"][0], from_column=got["from"][0]))

    # -- references

    def _resolve_references(self) -> None:
        wanted = {r.from_key for r in self.refs if r.field == "sheet"}
        for r in self.refs:
            wanted.add(r.value)
            if r.field == "location":
                wanted.update(_path_prefix_keys(r.value))
        wanted |= set(self.file_kinds)  # kinds of file keys in the register: changing kind is refused
        self.plan.register_kinds = self.register.kinds_of(sorted(wanted))
        for key, ci in list(self.plan.cis.items()):
            existing = self.plan.register_kinds.get(key)
            if existing and existing != ci.kind:
                report = self.plan.sheet(ci.sheet)
                self._problem(report, ci.row, None, key,
                              _("Key %(key)r already belongs to a %(existing)s in the register, "
                                "not a %(kind)s; use another key or the %(existing)s sheet",
                                key=key, existing=_kind_word(existing), kind=_kind_word(ci.kind)))
                del self.plan.cis[key]
                self.file_kinds[key] = existing
        self._locations_index()
        for ref in self.refs:
            self._resolve(ref)

    def _kind(self, key: str) -> str | None:
        return self.file_kinds.get(key) or self.plan.register_kinds.get(key)

    def _resolve(self, ref: _PendingRef) -> None:
        report = self.plan.sheet(ref.sheet)
        rel = RELATIONSHIPS[ref.rel_type]
        if ref.field == "sheet":
            from_kind = self._kind(ref.from_key)
            if from_kind is None:
                self._problem(report, ref.row, ref.from_column, ref.from_key, _unknown(ref.from_key))
                return
        else:
            from_kind = ref.from_kind
        to_key = ref.value
        to_kind = self._kind(to_key)
        if to_kind is None and ref.field == "location":
            to_key = self._location_by_path_or_name(ref, report)
            if to_key is None:
                return
            to_kind = "Location"
        if to_kind is None:
            allowed = sorted({b for a, b in rel.pairs if a == from_kind})
            self._problem(report, ref.row, ref.column, ref.value, _unknown(ref.value, allowed))
            return
        try:
            schema.check_relationship(rel, from_kind, to_kind, ref.from_key, to_key)
        except InvalidInput as e:
            self._problem(report, ref.row, ref.column, ref.value, e.message, rel.allowed_text())
            return
        self.plan.relationships.append(RelRow(ref.from_key, rel.type, to_key, ref.sheet, ref.row,
                                              ref.column, ref.value))

    # -- locations named by path or by name

    def _locations_index(self) -> None:
        self.loc_children: dict[str | None, dict[str, str]] = {}
        self.loc_by_name: dict[str, list[str]] = {}
        parent_of: dict[str, str | None] = {}
        names: dict[str, str | None] = {}
        for key, name, parent in self.register.locations():
            parent_of[key], names[key] = parent, name
        for ref in self.refs:
            if ref.field == "location" and ref.from_kind == "Location":
                parent_of[ref.from_key] = ref.value
        for key, ci in self.plan.cis.items():
            if ci.kind == "Location":
                names[key] = ci.properties.get("name") or names.get(key)
                parent_of.setdefault(key, None)
        for key, parent in parent_of.items():
            name = names.get(key)
            children = self.loc_children.setdefault(parent, {})
            children.setdefault(norm(key), key)
            if name:
                children.setdefault(norm(name), key)
                self.loc_by_name.setdefault(norm(name), []).append(key)
        self.created_paths: dict[tuple[str, ...], str] = {}
        self.created_types: dict[str, str | None] = {}  # location created here -> its type

    def _location_by_path_or_name(self, ref: _PendingRef, report: SheetReport) -> str | None:
        segments = [s.strip() for s in PATH_SEPARATORS.split(unicodedata.normalize("NFC", ref.value))]
        if len(segments) == 1 or not all(segments):
            matches = self.loc_by_name.get(norm(ref.value), [])
            if len(set(matches)) == 1:
                return matches[0]
            if len(set(matches)) > 1:
                self._problem(report, ref.row, ref.column, ref.value,
                              _("%(value)r names %(count)s locations (%(keys)s); use the key "
                                "or a path such as 'HQ/Building A/Room 101'",
                                value=ref.value, count=len(set(matches)),
                                keys=", ".join(sorted(set(matches))[:5])))
                return None
            if len(segments) == 1 and self.mapping.create_locations:
                segments = [ref.value.strip()]
            else:
                self._problem(report, ref.row, ref.column, ref.value,
                              _("%(unknown)s; a path such as 'HQ/Building A/Room 101' creates "
                                "the locations that are missing",
                                unknown=_unknown(ref.value, ["Location"])))
                return None
        parent: str | None = None
        for depth, segment in enumerate(segments):
            path = tuple(norm(s) for s in segments[:depth + 1])
            if path in self.created_paths:
                parent = self.created_paths[path]
                continue
            found = self.loc_children.get(parent, {}).get(norm(segment))
            if found is None and depth == 0 and self._kind(segment) == "Location":
                found = segment
            if found is not None:
                parent = found
                continue
            key = path_segment_key(parent, segment)
            try:
                key = schema.validate_key(key)
            except InvalidInput as e:
                self._problem(report, ref.row, ref.column, ref.value,
                              _("Cannot create location %(segment)r: %(reason)s",
                                segment=segment, reason=e.message))
                return None
            other = self._kind(key)
            if other is not None:
                self._problem(report, ref.row, ref.column, ref.value,
                              _("Cannot create location %(segment)r: key %(key)r already "
                                "belongs to a %(kind)s", segment=segment, key=key,
                                kind=_kind_word(other)))
                return None
            # below a location already in the register, only the name can tell
            location_type = location_type_of(
                segment, parent is None or parent in self.created_types,
                self.created_types.get(parent))
            ci = CIRow(key, "Location", {"name": segment, **({"type": location_type}
                                                           if location_type else {})},
                       ref.sheet, ref.row, created_from_path=True)
            self.created_types[key] = location_type
            self.plan.new_locations.append(ci)
            self.created_paths[path] = key
            self.loc_children.setdefault(parent, {})[norm(segment)] = key
            if parent is not None:
                self.plan.relationships.append(RelRow(key, "LOCATED_IN", parent, ref.sheet, ref.row,
                                                      ref.column, ref.value))
            parent = key
        return parent

    # -- skip-invalid: what needed a rejected row goes too

    def _cascade_rejections(self) -> None:
        while True:
            rejected_keys = set()
            for report in self.plan.sheets:
                for key, ci in list(self.plan.cis.items()):
                    if ci.sheet == report.name and ci.row in report.rejected_rows:
                        rejected_keys.add(key)
            for key in rejected_keys:
                self.plan.cis.pop(key, None)
            changed = False
            kept: list[RelRow] = []
            for rel in self.plan.relationships:
                report = self.plan.sheet(rel.sheet)
                if rel.row in report.rejected_rows:
                    continue
                missing = next((k for k in (rel.from_key, rel.to_key)
                                if k not in self.plan.cis and k not in self.plan.register_kinds
                                and not any(n.key == k for n in self.plan.new_locations)), None)
                if missing is not None:
                    self._problem(report, rel.row, rel.column, rel.value,
                                  _("%(key)r is on a rejected row, so this row is rejected too",
                                    key=missing))
                    changed = True
                    continue
                kept.append(rel)
            self.plan.relationships = kept
            if not changed:
                break

    def _finish(self) -> None:
        # Locations created from paths of rejected rows are not created.
        for report in self.plan.sheets:
            rejected = report.rejected_rows
            for key, ci in list(self.plan.cis.items()):
                if ci.sheet == report.name and ci.row in rejected:
                    del self.plan.cis[key]
            self.plan.relationships = [r for r in self.plan.relationships
                                       if not (r.sheet == report.name and r.row in rejected)]
        needed = {r.to_key for r in self.plan.relationships} | {r.from_key for r in self.plan.relationships}
        self.plan.new_locations = [ci for ci in self.plan.new_locations if ci.key in needed]
        for report in self.plan.sheets:
            accepted = set()
            if report.kind == RELATIONSHIPS_SHEET:
                accepted = {r.row for r in self.plan.relationships if r.sheet == report.name}
            else:
                accepted = {ci.row for ci in self.plan.cis.values() if ci.sheet == report.name}
            report.accepted_rows = sorted(accepted - report.rejected_rows)
        self.plan.relationships = list({(r.from_key, r.type, r.to_key): r
                                        for r in self.plan.relationships}.values())
        for (sheet, heading), rows in self.number_keys.items():
            row, key = rows[0]
            self.plan.warnings.append(Problem(
                sheet, row, heading, key,
                _("%(count)s key(s) in this column are plain numbers (the first here): if your "
                  "asset tags have leading zeros (e.g. 00%(key)s), the spreadsheet may have "
                  "dropped them. Format the column as text and export again, or fix the keys",
                  count=len(rows), key=key)))
        order = {report.name: i for i, report in enumerate(self.plan.sheets)}
        self.plan.problems.sort(key=lambda p: (order.get(p.sheet, -1), p.row or 0))


def _path_prefix_keys(value: str) -> list[str]:
    segments = [s.strip() for s in PATH_SEPARATORS.split(value)]
    if len(segments) < 2:
        return []
    keys, parent = [], None
    for s in segments:
        parent = path_segment_key(parent, s)
        keys.append(parent)
    return keys + [segments[0]]


def path_segment_key(parent: str | None, segment: str) -> str:
    text = _NOT_KEY_TEXT.sub("-", segment).strip("-").upper() or segment
    return text if parent is None else f"{parent}{PATH_KEY_JOIN}{text}"


def location_type_of(name: str, parent_known: bool, parent_type: str | None) -> str | None:
    """What a location made from a path segment is: from its name, else (when its parent's
    type is known) the level below its parent's; a top-level segment is a site."""
    for location_type, words in _TYPE_WORDS:
        if words.search(name):
            return location_type
    return _TYPE_BELOW.get(parent_type) if parent_known else None


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: the column as the spreadsheet shows it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _unknown_word(error: InvalidInput, f: str, text: str, mapping: Mapping, prop) -> InvalidInput:
    known = mapping.value_words[f]
    choices = list(prop.choices) if prop.choices else []
    params = dict(field=_field_word(f), value=text, known=", ".join(known),
                  preset=mapping.preset, choices=", ".join(choices))
    if mapping.preset and choices:
        message = _("%(field)s %(value)r is not one the %(preset)s preset knows (%(known)s) nor one "
                    "of the CMDB's: %(choices)s; change it in the file to one of these", **params)
    elif mapping.preset:
        message = _("%(field)s %(value)r is not one the %(preset)s preset knows (%(known)s); "
                    "change it in the file to one of these", **params)
    elif choices:
        message = _("%(field)s %(value)r is not one the mapping knows (%(known)s) nor one of the "
                    "CMDB's: %(choices)s; change it in the file to one of these", **params)
    else:
        message = _("%(field)s %(value)r is not one the mapping knows (%(known)s); change it in "
                    "the file to one of these", **params)
    return InvalidInput(message, field=f, value=text, allowed=known + choices)


def _kind_word(kind: str) -> str:
    """A kind as a message names it: in English its label (SoftwareImage, as sheets and
    mappings name it), else its name in the reader's language."""
    return kind if current_language() == ENGLISH else kind_name(kind)


def _field_word(f: str) -> str:
    """A field as a message names it: in English the name a mapping file uses, else its label."""
    return f if current_language() == ENGLISH else property_label(f)


def _unknown(key: str, kinds: list[str] | None = None) -> str:
    what = _(" or ").join(_kind_word(k) for k in kinds) if kinds else _("CI")
    return _("No %(what)s with key %(key)r in this file or in the register", what=what, key=key)


def _plain(message: str, label: str) -> str:
    return message[len(label) + 1:] if message.startswith(label + ".") else message


_EXAMPLES = {
    "key": ["key", "Asset Tag", "资产编号", "資產編號", "资产标签", "编号"],
    "from": ["from", "源", "從"], "type": ["type", "关系", "關係"], "to": ["to", "目标", "目標"],
}


def _examples(f: str) -> list[str]:
    return _EXAMPLES.get(f) or [f, *SYNONYMS.get(f, ())[:6]]


__all__ = ["build_plan", "Plan", "Problem", "CIRow", "RelRow", "SheetReport", "Options",
           "Register", "EmptyRegister"]
