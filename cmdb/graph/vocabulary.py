"""The register's own vocabulary: categories, the words for the fixed statuses, custom fields.

Categories are records (``Category``) with a key, display names in English, 简体 and 繁體,
synonyms, and the flags the CMDB's features read. The hardware statuses are a fixed lifecycle;
their records (``StatusWord``) carry the words other tools and people use for each state.
Custom fields (``CustomField``) add typed properties to a kind. A new register gets the shipped
defaults once (``lay_down_defaults``); from then on they are the users' to change.

This module holds the values and the transaction-level reads and writes; the store and the
category operations (``cmdb.graph.categories``) call them inside their own transactions.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable

from cmdb.errors import InvalidInput, InvalidProperty
from cmdb.graph import vocabulary_defaults as defaults
from cmdb.i18n import _, current_language
from cmdb.graph.schema import (
    BOOKKEEPING_LABELS, BOOL, CATEGORY_LABEL, CHOICE, DATE, ENUM, FIELD_LABEL, INT, KINDS, LIST_MAX_ITEMS, NUMBER,
    STATUS_LABEL, STR, TEXT_MAX_LENGTH, VOCABULARY_LABELS, VOCABULARY_MARK_LABEL, Prop, utc_now,
)

LANGUAGES = ("en", "zh-CN", "zh-TW")
NAME_PROPS = {"en": "name_en", "zh-CN": "name_zh_cn", "zh-TW": "name_zh_tw"}
FLAGS = ("network_gear", "takes_image")
FLAG_TEXT = {"network_gear": "network gear (carries other devices' traffic)",
             "takes_image": "built from a standard software image"}
FIELD_TYPES = {"text": STR, "integer": INT, "decimal": NUMBER, "date": DATE, "boolean": BOOL,
               "choice": CHOICE}
NAME_MAX_LENGTH = 64
# Numbers a custom field holds: exact in a double and within what every driver packs.
NUMBER_BOUND = 2 ** 53
SYNONYMS_MAX = 200
# Columns and words an import or the API gives another meaning; a custom field may not take them.
RESERVED_FIELD_NAMES = frozenset({"key", "kind", "location", "image", "connected_to", "runs_on",
                                  "depends_on", "from", "to", "revision", "properties"})
_KEY_TEXT = re.compile(r"[^\w]+")
_FIELD_NAME = re.compile(r"^[^\W\d_]\w*$")


def fold(text: str) -> str:
    """The form words are compared in: NFKC, case-folded, without spaces, dashes, dots or
    underscores ("Ready to Deploy" = "ready-to-deploy")."""
    return re.sub(r"[\s_\-.]+", "", unicodedata.normalize("NFKC", str(text)).casefold())


def key_from_text(text: str) -> str:
    """A category or field key made from what a user wrote: "Ornamental Railings" ->
    ornamental_railings, "资产负责人电话" stays as it is."""
    return _KEY_TEXT.sub("_", unicodedata.normalize("NFKC", str(text)).strip().lower()).strip("_")


@dataclass(frozen=True)
class Term:
    """A category, or the record of one of the fixed statuses."""

    key: str
    names: dict[str, str]
    synonyms: tuple[str, ...] = ()
    flags: dict[str, bool] = field(default_factory=dict)

    def name(self, language: str = "en") -> str:
        return self.names.get(language) or self.names.get("en") or self.key

    def words(self) -> list[str]:
        return [self.key, *self.names.values(), *self.synonyms]

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "names": {lang: self.names.get(lang, "") for lang in LANGUAGES},
                "synonyms": list(self.synonyms), **{f: bool(self.flags.get(f)) for f in FLAGS}}

    def record(self) -> dict[str, Any]:
        """The node's properties."""
        return {"key": self.key, **{NAME_PROPS[lang]: self.names.get(lang, "") for lang in LANGUAGES},
                "synonyms": list(self.synonyms), **{f: bool(self.flags.get(f)) for f in FLAGS}}

    @classmethod
    def from_record(cls, props: dict[str, Any]) -> "Term":
        return cls(props["key"], {lang: props.get(NAME_PROPS[lang]) or "" for lang in LANGUAGES},
                   tuple(props.get("synonyms") or ()), {f: bool(props.get(f)) for f in FLAGS})


@dataclass(frozen=True)
class CustomField:
    kind: str
    name: str
    type: str                       # one of FIELD_TYPES
    names: dict[str, str] = field(default_factory=dict)
    choices: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"

    def prop(self) -> Prop:
        bound = NUMBER_BOUND if self.type in ("integer", "decimal") else None
        return Prop(self.name, FIELD_TYPES[self.type], self.choices,
                    minimum=-bound if bound else None, maximum=bound,
                    description=self.names.get("en") or self.name)

    def headings(self) -> list[str]:
        return [self.name, *(n for n in self.names.values() if n)]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "type": self.type,
                "names": {lang: self.names.get(lang, "") for lang in LANGUAGES},
                "choices": list(self.choices)}

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "type": self.type,
                **{NAME_PROPS[lang]: self.names.get(lang, "") for lang in LANGUAGES},
                "choices": list(self.choices)}

    @classmethod
    def from_record(cls, props: dict[str, Any]) -> "CustomField":
        return cls(props["kind"], props["name"], props["type"],
                   {lang: props.get(NAME_PROPS[lang]) or "" for lang in LANGUAGES},
                   tuple(props.get("choices") or ()))


class Vocabulary:
    """What the register calls things: schema.Words for validation, and the look-ups the
    import, the pages and the commands need."""

    def __init__(self, categories: Iterable[Term], statuses: Iterable[Term],
                 fields: Iterable[CustomField]):
        self.categories = {t.key: t for t in sorted(categories, key=lambda t: t.key)}
        self.statuses = {t.key: t for t in statuses}
        self.fields: dict[str, dict[str, CustomField]] = {}
        for f in sorted(fields, key=lambda f: f.name):
            self.fields.setdefault(f.kind, {})[f.name] = f
        self._category_words = _index(self.categories.values())
        self._status_words = _index(self.statuses.values())
        self._props: dict[str, dict[str, Prop]] = {}

    @classmethod
    def shipped(cls) -> "Vocabulary":
        """The defaults a new register starts with (and what validation uses with no register)."""
        return cls(default_categories(), default_statuses(), ())

    # -- schema.Words

    def properties(self, kind: str) -> dict[str, Prop]:
        if kind not in self._props:
            props = dict(KINDS[kind].by_name)
            if kind == "Hardware":
                props["category"] = Prop("category", ENUM, tuple(self.categories),
                                         description="A category of this register")
            for f in self.fields.get(kind, {}).values():
                props[f.name] = f.prop()
            self._props[kind] = props
        return self._props[kind]

    def value_for(self, kind: str, prop: str, value: Any) -> Any:
        if kind != "Hardware" or not isinstance(value, str):
            return value
        if prop == "category":
            found = self.category_key(value)
            if found is None:
                raise self.unknown_category(value)
            return found
        if prop == "status":
            return self.status_key(value) or value
        return value

    # -- look-ups

    def category_key(self, text: str) -> str | None:
        return self._category_words.get(fold(text))

    def status_key(self, text: str) -> str | None:
        return self._status_words.get(fold(text))

    def close_categories(self, text: str, n: int = 5) -> list[str]:
        """Categories whose key, names or synonyms look like ``text``."""
        words = {fold(w): t.key for t in self.categories.values() for w in t.words() if fold(w)}
        found = difflib.get_close_matches(fold(text), list(words), n=n * 3, cutoff=0.6)
        return list(dict.fromkeys(words[w] for w in found))[:n]

    def unknown_category(self, text: str) -> InvalidProperty:
        close = self.close_categories(text)
        hint = _("; did you mean %(close)s?", close=", ".join(self.shown_category(k) for k in close)) \
            if close else ""
        command = f"cmdb category add {key_from_text(text) or 'KEY'} --name-en {text!r}"
        return InvalidProperty(
            _("Hardware.category: %(value)s is not a category of this register%(hint)s "
              "Add it with `%(command)s` (or as a synonym of one), or import with --new-categories; "
              "categories: %(categories)s", value=repr(text), hint=hint, command=command,
              categories=", ".join(self.shown_category(k) for k in self.categories)),
            field="category", value=text, allowed=list(self.categories))

    def shown_category(self, key: str) -> str:
        """A category key for a message: the key, and in Chinese its register name beside it."""
        language = current_language().replace("_", "-")
        term = self.categories.get(key)
        if term is None or language not in LANGUAGES or language == "en":
            return key
        shown = term.names.get(language)
        return f"{key}（{shown}）" if shown and shown != key else key

    def field(self, kind: str, name: str) -> CustomField | None:
        return self.fields.get(kind, {}).get(name)

    def field_for_heading(self, kind: str, heading: str) -> str | None:
        """The custom field of ``kind`` a column heading names (its name or a display name)."""
        wanted = fold(heading)
        for f in self.fields.get(kind, {}).values():
            if any(fold(h) == wanted for h in f.headings()):
                return f.name
        return None

    def with_categories(self, terms: Iterable[Term]) -> "Vocabulary":
        return Vocabulary([*self.categories.values(), *terms], self.statuses.values(),
                          [f for fs in self.fields.values() for f in fs.values()])

    def with_fields(self, new: Iterable[CustomField]) -> "Vocabulary":
        return Vocabulary(self.categories.values(), self.statuses.values(),
                          [*(f for fs in self.fields.values() for f in fs.values()), *new])


def _index(terms: Iterable[Term]) -> dict[str, str]:
    index: dict[str, str] = {}
    for term in terms:  # a term's own key wins over another term's synonym
        index[fold(term.key)] = term.key
    for term in terms:
        for word in term.words():
            if fold(word):
                index.setdefault(fold(word), term.key)
    return index


def default_categories() -> list[Term]:
    return [Term(key, {"en": en, "zh-CN": cn, "zh-TW": tw}, synonyms, dict(flags))
            for key, (en, cn, tw, synonyms, flags) in defaults.CATEGORIES.items()]


def default_statuses() -> list[Term]:
    return [Term(key, {"en": en, "zh-CN": cn, "zh-TW": tw}, synonyms)
            for key, (en, cn, tw, synonyms) in defaults.STATUSES.items()]


# ---------------------------------------------------------------------------------------
# Checking what users give


def check_key(text: Any, what: str = "category") -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(_("The key is empty"), field="key", value=text)
    key = key_from_text(text)
    if not key or not _FIELD_NAME.match(key) or len(key) > NAME_MAX_LENGTH:
        raise InvalidInput(_("%(text)s cannot be a key: use letters, digits and _ (starting with a letter), "
                             "at most %(limit)s characters", text=repr(text), limit=NAME_MAX_LENGTH),
                           field="key", value=text, allowed="e.g. ornamental_railings, 机柜配件")
    return key


def check_text(value: Any, field_name: str, limit: int = TEXT_MAX_LENGTH) -> str:
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be text", field=field_name), field=field_name, value=value)
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > limit or re.search(r"[\x00-\x1f\x7f]", text):
        raise InvalidInput(_("%(field)s: one line of at most %(limit)s characters", field=field_name, limit=limit),
                           field=field_name, value=value)
    return text


def check_names(names: dict[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for lang, text in (names or {}).items():
        if lang not in LANGUAGES:
            raise InvalidInput(_("Unknown language %(language)s for a display name; allowed: %(allowed)s",
                                 language=repr(lang), allowed=", ".join(LANGUAGES)), field="names", value=lang,
                               allowed=list(LANGUAGES))
        if text is not None:
            out[lang] = check_text(text, f"names.{lang}", NAME_MAX_LENGTH * 2)
    return out


def check_synonyms(words: Iterable[Any]) -> tuple[str, ...]:
    out = [check_text(w, "synonyms", NAME_MAX_LENGTH * 2) for w in words]
    out = [w for w in dict.fromkeys(out) if w]
    if len(out) > SYNONYMS_MAX:
        raise InvalidInput(_("At most %(limit)s synonyms", limit=SYNONYMS_MAX), field="synonyms", value=len(out))
    return tuple(out)


def check_field(kind: str, name: Any, type_: Any, names: dict[str, Any] | None = None,
                choices: Iterable[Any] = ()) -> CustomField:
    if kind not in KINDS:
        raise InvalidInput(_("Unknown kind %(kind)s; allowed: %(allowed)s", kind=repr(kind),
                             allowed=", ".join(KINDS)), field="kind",
                           value=kind, allowed=list(KINDS))
    key = check_key(name, "field")
    taken = {p.name for k in KINDS.values() for p in k.properties} | RESERVED_FIELD_NAMES
    if key in taken:
        raise InvalidInput(_("%(name)s is a built-in property or column; choose another field name",
                             name=repr(key)),
                           field="name", value=name, allowed=_("a name that is not one of: %(names)s",
                                             names=", ".join(sorted(taken))))
    if type_ not in FIELD_TYPES:
        raise InvalidInput(_("Unknown field type %(type)s; allowed: %(allowed)s", type=repr(type_),
                             allowed=", ".join(FIELD_TYPES)),
                           field="type", value=type_, allowed=list(FIELD_TYPES))
    words = tuple(dict.fromkeys(check_text(c, "choices", NAME_MAX_LENGTH * 2) for c in choices))
    words = tuple(w for w in words if w)
    if type_ == "choice" and not words:
        raise InvalidInput(_("A choice field needs its choices"), field="choices", value=[],
                           allowed="e.g. --choice red --choice blue")
    if type_ != "choice" and words:
        raise InvalidInput(_("Only choice fields have choices, not %(type)s fields", type=type_),
                           field="choices", value=list(words))
    if len(words) > LIST_MAX_ITEMS:
        raise InvalidInput(_("At most %(limit)s choices", limit=LIST_MAX_ITEMS), field="choices", value=len(words))
    shown = check_names(names)
    return CustomField(kind, key, type_, shown, words)


# ---------------------------------------------------------------------------------------
# Reads and writes inside a caller's transaction

READ_CATEGORIES = f"MATCH (c:{CATEGORY_LABEL}) RETURN collect(properties(c)) AS rows"
READ_STATUSES = f"MATCH (s:{STATUS_LABEL}) RETURN collect(properties(s)) AS rows"
READ_FIELDS = f"MATCH (f:{FIELD_LABEL}) RETURN collect(properties(f)) AS rows"
DEFAULTS_LAID = f"MATCH (m:{VOCABULARY_MARK_LABEL} {{id: 'defaults'}}) RETURN count(m) AS n"
MARK_DEFAULTS = f"MERGE (m:{VOCABULARY_MARK_LABEL} {{id: 'defaults'}}) SET m.at = $at"
MERGE_CATEGORIES = f"UNWIND $rows AS r MERGE (c:{CATEGORY_LABEL} {{key: r.key}}) ON CREATE SET c = r"
MERGE_STATUSES = f"UNWIND $rows AS r MERGE (s:{STATUS_LABEL} {{key: r.key}}) ON CREATE SET s = r"
CREATE_CATEGORIES = f"UNWIND $rows AS r CREATE (c:{CATEGORY_LABEL}) SET c = r"
SET_CATEGORY = f"MATCH (c:{CATEGORY_LABEL} {{key: $key}}) SET c = $record"
SET_STATUS = f"MATCH (s:{STATUS_LABEL} {{key: $key}}) SET s = $record"
DELETE_CATEGORY = f"MATCH (c:{CATEGORY_LABEL} {{key: $key}}) DELETE c"
DELETE_FIELDS = f"UNWIND $ids AS id MATCH (f:{FIELD_LABEL} {{id: id}}) DELETE f"
CREATE_FIELDS = f"UNWIND $rows AS r CREATE (f:{FIELD_LABEL}) SET f = r"
# Hardware is looked up through the CI label's category index.
CATEGORY_USE = "MATCH (n:CI {category: $key}) RETURN collect(n.key) AS keys"


# Commit marks and import runs are bookkeeping of running processes, not content.
OTHER_THAN_VOCABULARY = ("MATCH (n) WHERE NOT ("
                         + " OR ".join(f"n:{label}" for label in (*VOCABULARY_LABELS, *BOOKKEEPING_LABELS))
                         + ") RETURN count(n) > 0 AS found")
CLEAR_VOCABULARY = [f"MATCH (n:{label}) DETACH DELETE n"
                    for label in (CATEGORY_LABEL, STATUS_LABEL, FIELD_LABEL, VOCABULARY_MARK_LABEL)]


def clear_if_nothing_else(tx) -> None:
    """Remove the vocabulary of a register that holds nothing else (before a restore into it)."""
    if tx.run(OTHER_THAN_VOCABULARY).single()["found"]:
        return
    for query in CLEAR_VOCABULARY:
        tx.run(query).consume()


def read_vocabulary(tx) -> Vocabulary:
    return Vocabulary([Term.from_record(r) for r in tx.run(READ_CATEGORIES).single()["rows"]],
                      [Term.from_record(r) for r in tx.run(READ_STATUSES).single()["rows"]],
                      [CustomField.from_record(r) for r in tx.run(READ_FIELDS).single()["rows"]])


def defaults_laid(tx) -> bool:
    return tx.run(DEFAULTS_LAID).single()["n"] > 0


def lay_down_defaults(tx) -> None:
    """The shipped categories and status words, once per register: a category the users have
    since renamed, merged or deleted does not come back."""
    if defaults_laid(tx):
        return
    tx.run(MERGE_CATEGORIES, rows=[t.record() for t in default_categories()]).consume()
    tx.run(MERGE_STATUSES, rows=[t.record() for t in default_statuses()]).consume()
    tx.run(MARK_DEFAULTS, at=utc_now()).consume()


def create_categories(tx, terms: Iterable[Term]) -> None:
    rows = [t.record() for t in terms]
    if rows:
        tx.run(CREATE_CATEGORIES, rows=rows).consume()


def set_category(tx, key: str, term: Term) -> None:
    tx.run(SET_CATEGORY, key=key, record=term.record()).consume()


def set_status(tx, term: Term) -> None:
    tx.run(SET_STATUS, key=term.key, record=term.record()).consume()


def delete_category(tx, key: str) -> None:
    tx.run(DELETE_CATEGORY, key=key).consume()


def category_users(tx, key: str) -> list[str]:
    return sorted(tx.run(CATEGORY_USE, key=key).single()["keys"])


def create_fields(tx, fields: Iterable[CustomField]) -> None:
    rows = [f.record() for f in fields]
    if rows:
        tx.run(CREATE_FIELDS, rows=rows).consume()


def delete_fields(tx, ids: list[str]) -> None:
    """Remove custom fields nothing uses yet (an import that added them and was undone)."""
    if ids:
        tx.run(DELETE_FIELDS, ids=ids).consume()
