"""The declarative schema: CI kinds, their properties, relationship types and what they join.

Everything that puts a label or a relationship type into Cypher takes it from here, so the
sets are closed: user input only ever selects one of these by name, and values are always
query parameters.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Protocol

from cmdb.errors import ForbiddenRelationship, InvalidInput, InvalidProperty, UnknownProperty
from cmdb.i18n import _

CI_LABEL = "CI"
KEY_MAX_LENGTH = 128
TEXT_MAX_LENGTH = 2_000
LONG_TEXT_MAX_LENGTH = 20_000
LIST_MAX_ITEMS = 500

# Property types. "number" keeps integral values as int, so 16 stays 16 and 16.5 stays 16.5.
STR, TEXT, INT, NUMBER, DATE, DATETIME, BOOL, ENUM, STR_LIST = (
    "str", "text", "int", "number", "date", "datetime", "bool", "enum", "str_list")
# A user's own list of words (a custom field's choices): kept as the user wrote them, matched
# regardless of case.
CHOICE = "choice"


@dataclass(frozen=True)
class Prop:
    name: str
    type: str = STR
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    system: bool = False  # written by the CMDB itself (timestamps, version), never by a user
    description: str = ""

    def allowed(self) -> str:
        """What the property takes, in the reader's language."""
        if self.type in (ENUM, CHOICE):
            return _("one of: %(choices)s", choices=", ".join(self.choices))
        bounds = ""
        if self.minimum is not None:
            bounds += f" >= {self.minimum:g}"
        if self.maximum is not None:
            bounds += f" <= {self.maximum:g}"
        if self.type == STR:
            return _("text of at most %(n)s characters", n=TEXT_MAX_LENGTH)
        if self.type == TEXT:
            return _("text of at most %(n)s characters", n=LONG_TEXT_MAX_LENGTH)
        if self.type == INT:
            return _("a whole number%(bounds)s", bounds=bounds)
        if self.type == NUMBER:
            return _("a number%(bounds)s", bounds=bounds)
        if self.type == DATE:
            return _("a date as YYYY-MM-DD")
        if self.type == DATETIME:
            return _("a date and time in ISO 8601 (YYYY-MM-DDTHH:MM:SSZ)")
        if self.type == BOOL:
            return _("true or false")
        if self.type == STR_LIST:
            return _("a list of at most %(n)s texts", n=LIST_MAX_ITEMS)
        raise KeyError(self.type)


@dataclass(frozen=True)
class NodeKind:
    label: str
    description: str
    properties: tuple[Prop, ...]

    @property
    def by_name(self) -> dict[str, Prop]:
        return {p.name: p for p in self.properties}

    @property
    def user_properties(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.properties if not p.system)


@dataclass(frozen=True)
class RelKind:
    type: str
    description: str
    pairs: frozenset[tuple[str, str]]
    single: bool = False  # a CI has at most one of these outgoing (containment, build image)
    acyclic: bool = False
    # "A needs B": impact follows it. Lineage (SUPERSEDES) joins CIs without one needing the other.
    # A stand-in (spare, loaner) does not need the unit it replaces: it keeps running what
    # needs that unit.
    needs: bool = True

    def allows(self, from_kind: str, to_kind: str) -> bool:
        return (from_kind, to_kind) in self.pairs

    def allowed_text(self) -> str:
        return ", ".join(f"{a} → {b}" for a, b in sorted(self.pairs))


HARDWARE_CATEGORIES = (
    "server", "virtual_machine", "switch", "router", "firewall", "storage", "pc", "laptop",
    "thin_client", "printer", "scanner", "camera", "nvr", "access_point", "ups", "pdu",
    "phone", "monitor", "tablet", "other",
)
HARDWARE_STATUSES = ("planned", "in_stock", "in_use", "in_repair", "retired", "disposed", "missing")
LOCATION_TYPES = ("region", "site", "building", "floor", "room", "area", "rack")
CRITICALITIES = ("vip", "high", "standard", "low")
CRITICALITY_RANK = {c: i for i, c in enumerate(CRITICALITIES)}

# Written by the CMDB on every CI: the optimistic-locking revision ("version" is taken by
# SoftwareImage's own release number), timestamps, and the fields labels and audits maintain.
SYSTEM_PROPERTIES = (
    Prop("revision", INT, system=True, description="Bumped on every change; the ETag"),
    Prop("created_at", DATETIME, system=True),
    Prop("updated_at", DATETIME, system=True),
    Prop("label_printed_at", DATETIME, system=True),
    Prop("last_seen_at", DATETIME, system=True),
    Prop("last_audited_at", DATETIME, system=True),
    Prop("next_audit_due", DATE, system=True),
)

_COMMON = (
    Prop("name", STR, description="Display name"),
    Prop("description", TEXT),
    Prop("notes", TEXT),
)

KINDS: dict[str, NodeKind] = {
    k.label: k
    for k in (
        NodeKind("Location", "A site, building, floor, room or rack", _COMMON + (
            Prop("type", ENUM, LOCATION_TYPES),
            Prop("address", STR),
        ) + SYSTEM_PROPERTIES),
        NodeKind("Hardware", "A physical or virtual device", _COMMON + (
            Prop("category", ENUM, HARDWARE_CATEGORIES),
            Prop("status", ENUM, HARDWARE_STATUSES),
            Prop("vendor", STR),
            Prop("model", STR),
            Prop("serial", STR),
            Prop("hostname", STR),
            Prop("ip_address", STR),
            Prop("mac_address", STR),
            Prop("purchase_date", DATE),
            Prop("warranty_end", DATE),
            Prop("department", STR),
            Prop("owner", STR),
            Prop("cpu_cores", INT, minimum=0, maximum=100_000),
            Prop("ram_gb", NUMBER, minimum=0, maximum=1_000_000),
            Prop("disk_gb", NUMBER, minimum=0, maximum=1_000_000_000),
            # Bookkeeping asset registers (Snipe-IT and the like) carry for each device.
            Prop("model_number", STR, description="Manufacturer's model or part number"),
            Prop("purchase_cost", NUMBER, minimum=0, maximum=1_000_000_000,
                 description="Purchase cost in the organisation's currency"),
            Prop("supplier", STR),
            Prop("order_number", STR),
            Prop("company", STR, description="Owning company or legal entity"),
            Prop("end_of_life", DATE, description="Date the device is due to be replaced"),
            # A spare or loaner kept in stock (cmdb spare mark): the model it stands in for.
            Prop("spare", BOOL, description="Kept in stock as a spare or loaner"),
            Prop("spare_model", STR, description="The model a spare stands in for (default: its own)"),
        ) + SYSTEM_PROPERTIES),
        NodeKind("SoftwareImage", "A standard software image (baseline OS build)", _COMMON + (
            Prop("version", STR, description="Image version"),
            Prop("os", STR),
            Prop("min_cpu_cores", INT, minimum=0, maximum=100_000),
            Prop("min_ram_gb", NUMBER, minimum=0, maximum=1_000_000),
            Prop("min_disk_gb", NUMBER, minimum=0, maximum=1_000_000_000),
            Prop("supported_models", STR_LIST),
            Prop("end_of_support", DATE),
        ) + SYSTEM_PROPERTIES),
        NodeKind("Application", "A business application or service", _COMMON + (
            Prop("criticality", ENUM, CRITICALITIES),
            Prop("owner", STR),
            Prop("min_hosts", INT, minimum=1, maximum=10_000),
        ) + SYSTEM_PROPERTIES),
    )
}

REVISION = "revision"

RELATIONSHIPS: dict[str, RelKind] = {
    r.type: r
    for r in (
        RelKind("LOCATED_IN", "physical containment",
                frozenset({("Hardware", "Location"), ("Location", "Location")}),
                single=True, acyclic=True),
        RelKind("RUNS_ON", "the application is hosted on that hardware",
                frozenset({("Application", "Hardware")})),
        RelKind("RUNS_IMAGE", "the device was built from that standard image",
                frozenset({("Hardware", "SoftwareImage")}), single=True),
        RelKind("DEPENDS_ON", "service dependency",
                frozenset({("Application", "Application")})),
        RelKind("CONNECTED_TO", "network uplink or power feed the first device needs",
                frozenset({("Hardware", "Hardware")})),
        RelKind("STANDS_IN_FOR", "a spare or loaner placed while the unit it replaces is away",
                frozenset({("Hardware", "Hardware")}), single=True, needs=False),
        RelKind("SUPERSEDES", "the newer standard image replaces the older one",
                frozenset({("SoftwareImage", "SoftwareImage")}), needs=False),
    )
}
# The relationships impact follows: everything that reaches a changed CI through these needs it.
NEEDS_RELATIONSHIPS: tuple[str, ...] = tuple(t for t, r in RELATIONSHIPS.items() if r.needs)

# The roles an API token (and a page session opened with it) carries; ``cmdb.policy`` says
# what each may do.
ROLES = ("viewer", "asset_staff", "reviewer", "auditor", "registrar", "engineer", "admin")


@dataclass(frozen=True)
class SystemKind:
    """A kind of the CMDB's own bookkeeping nodes (not CIs): declared here like CI kinds, so
    indexes, backups, restores and wipes know every label in use."""

    label: str
    description: str
    identity: str                   # the property that identifies one node
    unique: bool = True             # identity enforced by a constraint (else only indexed)
    indexed: tuple[str, ...] = ()   # further properties looked up by
    backed_up: bool = True          # part of a backup (sessions are not: sign in again)


CHANGE_LABEL = "Change"
TOKEN_LABEL = "ApiToken"
SESSION_LABEL = "WebSession"
CAMPAIGN_LABEL = "AuditCampaign"
SCAN_LABEL = "AuditScan"
# The register's vocabulary (cmdb.graph.vocabulary): categories, the words for the fixed
# statuses, and custom fields; the marker says the shipped defaults were laid down once.
CATEGORY_LABEL = "Category"
STATUS_LABEL = "StatusWord"
FIELD_LABEL = "CustomField"
VOCABULARY_MARK_LABEL = "VocabularyDefaults"
VOCABULARY_LABELS = (CATEGORY_LABEL, STATUS_LABEL, FIELD_LABEL, VOCABULARY_MARK_LABEL)
DOCUMENT_LABEL = "Document"
# Service records (cmdb.service): contracts, repair orders, spare issues, stock minimums.
CONTRACT_LABEL = "Contract"
REPAIR_LABEL = "RepairOrder"
SPARE_ISSUE_LABEL = "SpareIssue"
SPARE_MINIMUM_LABEL = "SpareMinimum"
BASELINE_LABEL = "Baseline"
SERVICE_LEVEL_LABEL = "ServiceLevel"
FAULT_LABEL = "FaultRecord"
ROUND_LABEL = "MaintenanceRound"
CHECK_LABEL = "MaintenanceCheck"
SCHEDULE_LABEL = "MaintenanceSchedule"
COMMIT_MARK_LABEL = "CommitMark"
IMPORT_RUN_LABEL = "ImportRun"
IMPORT_STEP_LABEL = "ImportStep"
# Bookkeeping of running processes, not register content: not backed up, ignored by the
# "is it empty" checks.
BOOKKEEPING_LABELS = (COMMIT_MARK_LABEL, IMPORT_RUN_LABEL, IMPORT_STEP_LABEL)

SYSTEM_KINDS: dict[str, SystemKind] = {k.label: k for k in (
    SystemKind(CHANGE_LABEL, "one history entry: who changed which CI when, before and after",
               "id", unique=False, indexed=("key",)),
    SystemKind(TOKEN_LABEL, "an API token: its name, role, scope and the hash of its secret",
               "name", indexed=("token_hash",)),
    SystemKind(SESSION_LABEL, "a signed-in page session, opened with a token", "id_hash",
               backed_up=False),
    SystemKind(CAMPAIGN_LABEL, "an inventory audit campaign and what it expected to find", "id"),
    SystemKind(SCAN_LABEL, "one scan of a campaign: tag, place, time, person", "id",
               indexed=("campaign_id",)),
    SystemKind(CATEGORY_LABEL, "a hardware category: key, names in three languages, synonyms, "
               "flags", "key"),
    SystemKind(STATUS_LABEL, "one of the fixed hardware statuses with its names and the words "
               "that mean it", "key"),
    SystemKind(FIELD_LABEL, "a custom field of a kind: name, type, names, choices", "id"),
    SystemKind(VOCABULARY_MARK_LABEL, "marks that the shipped vocabulary was laid down", "id"),
    SystemKind(DOCUMENT_LABEL, "a document or note attached to a CI, a hardware model or a category",
               "id", indexed=("target",)),
    SystemKind(CONTRACT_LABEL, "a contract (warranty, maintenance, support, lease) and its terms",
               "number"),
    SystemKind(REPAIR_LABEL, "a repair order: fault, warranty answer, send-out, notes, outcome",
               "id", indexed=("key", "status")),
    SystemKind(SPARE_ISSUE_LABEL, "a spare or loaner issued against a repair, and its return", "id",
               indexed=("repair",)),
    SystemKind(SPARE_MINIMUM_LABEL, "the minimum stock of spares of a model at a place", "id"),
    SystemKind(BASELINE_LABEL, "a named record of the register at one moment (its snapshot is a "
               "stored file)", "name"),
    # Service records: register records with an ``id``, linked to the CIs they concern.
    SystemKind(SERVICE_LEVEL_LABEL, "a service level: service hours, response, arrival and "
               "resolution targets, names in three languages", "id"),
    SystemKind(FAULT_LABEL, "a fault record (故障处理工作单) from report to sign-off", "id",
               indexed=("status",)),
    SystemKind(ROUND_LABEL, "a maintenance round: scope, checklists, the devices it covers", "id"),
    SystemKind(CHECK_LABEL, "one device's checklist results in a maintenance round", "id",
               indexed=("round_id",)),
    SystemKind(SCHEDULE_LABEL, "monthly or quarterly maintenance rounds for a location", "id"),
    SystemKind(COMMIT_MARK_LABEL, "says that a write to CIs committed: when, and which CIs (the "
               "list indexes of running processes catch up from it)", "id", indexed=("at",),
               backed_up=False),
    SystemKind(IMPORT_RUN_LABEL, "an import being written in batches: who writes it and since "
               "when (cmdb.graph.import_runs undoes one its writer left unfinished)", "id",
               backed_up=False),
    SystemKind(IMPORT_STEP_LABEL, "one committed batch of an unfinished import and how to undo it",
               "id", indexed=("run",), backed_up=False),
)}
SYSTEM_LABELS: tuple[str, ...] = tuple(k.label for k in SYSTEM_KINDS.values() if k.backed_up)
# Nodes of these labels may refer to a stored file (cmdb.documents.store) by its SHA-256 in
# FILE_PROPERTY; backups carry the files referred to.
FILE_PROPERTY = "file_sha256"
FILE_LABELS: tuple[str, ...] = (DOCUMENT_LABEL, BASELINE_LABEL)
# Relationship types from the CMDB's own records to CIs (a closed set, like RELATIONSHIPS): a
# contract COVERS a CI; a repair order, spare issue or fault record CONCERNS one; a service
# level is assigned (SERVICE_LEVEL_OF) to one. A backup and a restore allow these.
COVERS = "COVERS"
LEVEL_OF = "SERVICE_LEVEL_OF"
CONCERNS = "CONCERNS"
SYSTEM_RELATIONSHIPS: tuple[str, ...] = (COVERS, LEVEL_OF, CONCERNS)


@dataclass(frozen=True)
class IndexSpec:
    label: str
    prop: str
    unique: bool = False

    @property
    def name(self) -> str:
        return f"{self.label.lower()}_{self.prop}{'_unique' if self.unique else ''}"

    def cypher(self) -> str:
        if self.unique:
            return (f"CREATE CONSTRAINT {self.name} IF NOT EXISTS "
                    f"FOR (n:{self.label}) REQUIRE n.{self.prop} IS UNIQUE")
        return f"CREATE INDEX {self.name} IF NOT EXISTS FOR (n:{self.label}) ON (n.{self.prop})"


# CIs are always looked up through the CI label (the one with the constraint): on the
# embedded engine a lookup through a kind label does not use the index.
INDEXES: tuple[IndexSpec, ...] = (
    IndexSpec(CI_LABEL, "key", unique=True),
    IndexSpec(CI_LABEL, "serial"),
    IndexSpec(CI_LABEL, "status"),
    IndexSpec(CI_LABEL, "category"),
    IndexSpec(CI_LABEL, "name"),
    *(spec for kind in SYSTEM_KINDS.values()
      for spec in (IndexSpec(kind.label, kind.identity, unique=kind.unique),
                   *(IndexSpec(kind.label, prop) for prop in kind.indexed))),
)


def system_relationship_types() -> frozenset[str]:
    """Relationship types allowed at or between the CMDB's own nodes (a closed set too)."""
    return frozenset(SYSTEM_RELATIONSHIPS) | frozenset(RELATIONSHIPS)


def identity_property(label: str) -> str | None:
    """The property that identifies a node of a system label (None for other labels)."""
    kind = SYSTEM_KINDS.get(label)
    return kind.identity if kind else None


def schema_statements() -> list[str]:
    return [ix.cypher() for ix in INDEXES]


# ---------------------------------------------------------------------------------------
# Validation


def kind_of(name: str) -> NodeKind:
    """The kind called ``name`` (case-insensitive), or InvalidInput listing the kinds."""
    for label, kind in KINDS.items():
        if label.lower() == str(name).strip().lower():
            return kind
    raise InvalidInput(_("Unknown kind %(name)s; allowed: %(allowed)s", name=repr(name),
                         allowed=", ".join(KINDS)),
                       field="kind", value=name, allowed=list(KINDS))


def relationship_of(name: str) -> RelKind:
    normalised = str(name).strip().upper().replace(" ", "_").replace("-", "_")
    if normalised in RELATIONSHIPS:
        return RELATIONSHIPS[normalised]
    raise InvalidInput(_("Unknown relationship type %(name)s; allowed: %(allowed)s",
                         name=repr(name), allowed=", ".join(RELATIONSHIPS)),
                       field="type", value=name, allowed=list(RELATIONSHIPS))


def check_relationship(rel: RelKind, from_kind: str, to_kind: str, from_key: str, to_key: str):
    if not rel.allows(from_kind, to_kind):
        raise ForbiddenRelationship(
            _("%(type)s cannot join %(from_kind)s %(from_key)s to %(to_kind)s %(to_key)s; "
              "%(type)s joins %(allowed)s", type=rel.type, from_kind=from_kind,
              from_key=repr(from_key), to_kind=to_kind, to_key=repr(to_key),
              allowed=rel.allowed_text()),
            details={"from": from_key, "type": rel.type, "to": to_key,
                     "from_kind": from_kind, "to_kind": to_kind,
                     "allowed": sorted(f"{a}->{b}" for a, b in rel.pairs)})
    if from_key == to_key:
        raise ForbiddenRelationship(_("%(key)s cannot be linked to itself", key=repr(from_key)),
                                    details={"from": from_key, "type": rel.type, "to": to_key})


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# The keys validate_key returns, as one regular expression in the dialect JSON Schema, Python
# and pydantic share (no look-arounds): no control characters, '/' or '\\', nothing Python's
# str.strip() would remove at either end, and neither "." nor "..". The API takes keys only
# in this form, so its OpenAPI document states exactly what the register accepts.
_CONTROL_CLASS = r"\x00-\x1f\x7f"
_SPACE_CLASS = "".join(f"\\u{c:04x}" for c in range(0x80, 0x3001) if chr(c).isspace()) + " "
SPACE_CLASS = _SPACE_CLASS + r"\t\n\x0b\x0c\r\x1c-\x1f"
_INNER = rf"[^{_CONTROL_CLASS}/\\]"
_EDGE = rf"[^{_CONTROL_CLASS}/\\{_SPACE_CLASS}]"
_EDGE_NOT_DOT = rf"[^{_CONTROL_CLASS}/\\{_SPACE_CLASS}.]"
KEY_PATTERN = (rf"^(?:{_EDGE_NOT_DOT}|\.{_EDGE_NOT_DOT}|{_EDGE_NOT_DOT}{_EDGE}"
               rf"|{_EDGE}{_INNER}+{_EDGE})$")
# One line of text: no control characters (names, search text).
LINE_PATTERN = rf"^[^{_CONTROL_CLASS}]*$"
# One line with something other than spaces in it (the server strips the ends).
NONBLANK_LINE_PATTERN = rf"^[^{_CONTROL_CLASS}]*[^{_CONTROL_CLASS}{_SPACE_CLASS}][^{_CONTROL_CLASS}]*$"
# Text properties may span lines but may not hold NUL.
TEXT_PATTERN = r"^[^\x00]*$"


def validate_key(value: Any, field_name: str = "key") -> str:
    """Asset tags are text: ``000123`` stays ``000123``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise InvalidInput(_("The key is empty; every CI needs a key (its asset tag)"),
                           field=field_name, value=value)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(_("The key must be text, got %(type)s", type=type(value).__name__),
                           field=field_name, value=value)
    key = unicodedata.normalize("NFC", str(value)).strip()
    if not key:
        raise InvalidInput(_("The key is empty; every CI needs a key (its asset tag)"),
                           field=field_name, value=value)
    if len(key) > KEY_MAX_LENGTH:
        raise InvalidInput(_("The key is %(length)s characters long; at most %(max)s allowed",
                             length=len(key), max=KEY_MAX_LENGTH),
                           field=field_name, value=key)
    if _CONTROL.search(key) or "/" in key or "\\" in key:
        raise InvalidInput(_("The key may not contain '/', '\\' or control characters"),
                           field=field_name, value=key,
                           allowed=_("letters, digits, spaces and punctuation other than / and \\"))
    if key in (".", ".."):
        # A page address ends in the key; browsers and proxies fold "." and ".." away.
        raise InvalidInput(_("The key may not be %(key)s", key=repr(key)), field=field_name, value=key,
                           allowed=_("any other text, e.g. a full asset tag"))
    return key


class Words(Protocol):
    """The register's own words (its vocabulary): properties it adds to a kind (custom
    fields), and the value a word stands for (a category's synonym -> its key)."""

    def properties(self, kind: str) -> dict[str, Prop]: ...

    def value_for(self, kind: str, prop: str, value: Any) -> Any: ...


def validate_properties(kind: NodeKind, props: Mapping[str, Any], *,
                        allow_system: bool = False, words: "Words | None" = None) -> dict[str, Any]:
    """Check and convert user-supplied properties of ``kind``.

    ``None`` means "remove this property" and is passed through. Unknown properties and
    system properties (unless ``allow_system``) are refused. ``words``: the register's
    vocabulary (its categories and custom fields); without it, the shipped categories only.
    """
    known = words.properties(kind.label) if words is not None else kind.by_name
    out: dict[str, Any] = {}
    for name, value in props.items():
        if name == "key":
            continue
        prop = known.get(name)
        if prop is None or (prop.system and not allow_system):
            allowed = [n for n, p in known.items() if not p.system]
            raise UnknownProperty(
                _("%(kind)s has no property %(name)s; allowed: %(allowed)s", kind=kind.label,
                  name=repr(name), allowed=", ".join(allowed)),
                field=name, value=value, allowed=allowed)
        if value is not None and words is not None:
            value = words.value_for(kind.label, name, value)
        out[name] = None if value is None else convert_value(prop, value, kind.label)
    return out


# Characters XML (the SVG pictures, XLSX exports) cannot carry, and DEL: refused in text.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def convert_value(prop: Prop, value: Any, kind_label: str = "") -> Any:
    """Convert one value to the property's type, or raise InvalidProperty saying what is allowed."""
    where = f"{kind_label}.{prop.name}" if kind_label else prop.name

    def bad(reason: str = "") -> InvalidProperty:
        shown = value if not isinstance(value, str) or len(value) <= 80 else value[:80] + "…"
        if reason:
            msg = _("%(where)s: %(value)s is not valid (%(reason)s); expected %(allowed)s",
                    where=where, value=repr(shown), reason=reason, allowed=prop.allowed())
        else:
            msg = _("%(where)s: %(value)s is not valid; expected %(allowed)s",
                    where=where, value=repr(shown), allowed=prop.allowed())
        return InvalidProperty(msg, field=prop.name, value=value, allowed=prop.allowed())

    t = prop.type
    if t in (STR, TEXT):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise bad(_("not text"))
        text = value if isinstance(value, str) else _number_text(value)
        limit = TEXT_MAX_LENGTH if t == STR else LONG_TEXT_MAX_LENGTH
        if len(text) > limit:
            raise bad(_("%(length)s characters long", length=len(text)))
        invalid = _XML_INVALID.search(text)
        if invalid:
            raise bad(_("contains the control character %(char)s at position %(position)s; "
                        "only tab and line breaks are allowed",
                        char=f"U+{ord(invalid.group()):04X}", position=invalid.start() + 1))
        return unicodedata.normalize("NFC", text)
    if t == ENUM:
        if not isinstance(value, str):
            raise bad()
        v = value.strip().lower().replace(" ", "_").replace("-", "_")
        if v not in prop.choices:
            raise bad()
        return v
    if t == CHOICE:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise bad()
        text = unicodedata.normalize("NFC", value if isinstance(value, str) else _number_text(value)).strip()
        for choice in prop.choices:
            if choice.casefold() == text.casefold():
                return choice
        raise bad()
    if t in (INT, NUMBER):
        number = _to_number(value)
        if number is None:
            raise bad()
        if t == INT:
            if isinstance(number, float):
                if not number.is_integer():
                    raise bad(_("not a whole number"))
                number = int(number)
        if prop.minimum is not None and number < prop.minimum:
            raise bad(_("too small"))
        if prop.maximum is not None and number > prop.maximum:
            raise bad(_("too large"))
        return number
    if t == BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
            return value.strip().lower() in ("true", "yes", "1")
        raise bad()
    if t == DATE:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                raise bad() from None
        raise bad()
    if t == DATETIME:
        if isinstance(value, dt.datetime):
            return iso_datetime(value)
        if isinstance(value, str):
            try:
                return iso_datetime(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
            except ValueError:
                raise bad() from None
        raise bad()
    if t == STR_LIST:
        if isinstance(value, str):
            items: Iterable[Any] = [v for v in re.split(r"[;,、\n]", value)]
        elif isinstance(value, (list, tuple)):
            items = value
        else:
            raise bad(_("not a list"))
        result = []
        for item in items:
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                raise bad(_("list items must be text"))
            text = str(item).strip()
            if text:
                if len(text) > TEXT_MAX_LENGTH:
                    raise bad(_("an item is too long"))
                result.append(unicodedata.normalize("NFC", text))
        if len(result) > LIST_MAX_ITEMS:
            raise bad(_("too many items"))
        return result
    raise AssertionError(f"unhandled property type {t}")  # pragma: no cover


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            return None
        number = float(text)
        if math.isinf(number):
            return None
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        return int(number) if number.is_integer() else number
    return None


def iso_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return iso_datetime(dt.datetime.now(dt.timezone.utc))
