"""Service levels as register records, and the one rule for which level applies to a CI:
the strictest of its own, its location's (inherited down the location tree), its
department's and those of the applications that run on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from cmdb.errors import InvalidInput
from cmdb.graph import Graph
from cmdb.graph import service_levels as store
from cmdb.graph.schema import CRITICALITIES, utc_now
from cmdb.i18n import N_, _
from cmdb.levels.hours import SERVICE_HOURS
from cmdb.policy import Caller, require

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_TARGET_MINUTES = 60 * 24 * 60
NAME_MAX_LENGTH = 100
TEXT_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ServiceLevel:
    id: str
    name_en: str
    name_zh_cn: str
    name_zh_tw: str
    hours: str
    respond_minutes: int
    resolve_minutes: int | None = None
    arrive_minutes: int | None = None
    criticality: str | None = None      # applications of this criticality get this level
    departments: tuple[str, ...] = ()
    is_default: bool = False            # the level of a CI nothing else gives one
    assigned: tuple[str, ...] = field(default=(), compare=False)

    def name(self, language: str = "en") -> str:
        return {"zh-CN": self.name_zh_cn, "zh-TW": self.name_zh_tw}.get(language, self.name_en)

    def strictness(self) -> tuple:
        """Sorts stricter first: sooner response, sooner resolution, sooner arrival, more
        service hours."""
        inf = float("inf")
        return (self.respond_minutes, self.resolve_minutes if self.resolve_minutes is not None else inf,
                self.arrive_minutes if self.arrive_minutes is not None else inf,
                0 if self.hours == "7x24" else 1, self.id)

    def props(self) -> dict[str, Any]:
        out = {"id": self.id, "name_en": self.name_en, "name_zh_cn": self.name_zh_cn,
               "name_zh_tw": self.name_zh_tw, "hours": self.hours,
               "respond_minutes": self.respond_minutes, "departments": list(self.departments),
               "is_default": self.is_default}
        for name in ("resolve_minutes", "arrive_minutes", "criticality"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {**self.props(), "resolve_minutes": self.resolve_minutes,
                "arrive_minutes": self.arrive_minutes, "criticality": self.criticality,
                "assigned": list(self.assigned)}

    @classmethod
    def from_props(cls, props: dict[str, Any], assigned: Sequence[str] = ()) -> "ServiceLevel":
        return cls(id=props["id"], name_en=props.get("name_en", props["id"]),
                   name_zh_cn=props.get("name_zh_cn", ""), name_zh_tw=props.get("name_zh_tw", ""),
                   hours=props.get("hours", "5x8"), respond_minutes=int(props["respond_minutes"]),
                   resolve_minutes=props.get("resolve_minutes"),
                   arrive_minutes=props.get("arrive_minutes"),
                   criticality=props.get("criticality"),
                   departments=tuple(props.get("departments") or ()),
                   is_default=bool(props.get("is_default")), assigned=tuple(assigned))


# The contract's usual terms. "immediate" is for buildings or departments that need someone
# at once whatever the device (a head office, a dispatch centre).
DEFAULT_LEVELS: tuple[ServiceLevel, ...] = (
    ServiceLevel("standard", "Standard", "标准", "標準", "5x8", 120, 240, 240,
                 criticality="standard", is_default=True),
    ServiceLevel("advanced", "Advanced", "高级", "高級", "5x8", 60, None, 120, criticality="high"),
    ServiceLevel("vip", "VIP", "VIP", "VIP", "7x24", 60, 120, 60, criticality="vip"),
    ServiceLevel("immediate", "Immediate", "即时", "即時", "7x24", 15, 120, 30),
)


def _minutes(value: Any, name: str, *, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(_("%(name)s is required (minutes)", name=name), field=name, value=value)
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput(_("%(name)s: %(value)s is not a whole number of minutes (0 to %(limit)s)",
                             name=name, value=repr(value), limit=MAX_TARGET_MINUTES), field=name,
                           value=value, allowed=_("%(first)s to %(last)s", first=0, last=MAX_TARGET_MINUTES)) from None
    if not 0 <= number <= MAX_TARGET_MINUTES:
        raise InvalidInput(_("%(name)s: %(value)s is out of range (0 to %(limit)s minutes)", name=name,
                             value=number, limit=MAX_TARGET_MINUTES), field=name, value=value,
                           allowed=_("%(first)s to %(last)s", first=0, last=MAX_TARGET_MINUTES))
    return number


def _text(value: Any, name: str, limit: int = NAME_MAX_LENGTH) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > limit or TEXT_CONTROL.search(text):
        raise InvalidInput(_("%(name)s: at most %(limit)s characters on one line", name=name, limit=limit), field=name, value=value)
    return text


def level_from_input(data: dict[str, Any]) -> ServiceLevel:
    """A level from user input, or InvalidInput naming the field and what is allowed."""
    level_id = _text(data.get("id"), "id", 40).lower()
    if not ID_PATTERN.match(level_id):
        raise InvalidInput(_("id: %(value)s is not valid; use 1-40 lower-case letters, digits, '-' or '_'",
                             value=repr(level_id)), field="id", value=data.get("id"),
                           allowed="1-40 lower-case letters, digits, '-' or '_'")
    hours = _text(data.get("hours") or "5x8", "hours").lower().replace("×", "x")
    if hours not in SERVICE_HOURS:
        raise InvalidInput(_("hours: %(value)s is not known; allowed: %(allowed)s", value=repr(hours),
                             allowed=", ".join(SERVICE_HOURS)), field="hours", value=data.get("hours"),
                           allowed=list(SERVICE_HOURS))
    criticality = _text(data.get("criticality"), "criticality").lower() or None
    if criticality is not None and criticality not in CRITICALITIES:
        raise InvalidInput(_("criticality: %(value)s is not known; allowed: %(allowed)s",
                             value=repr(criticality), allowed=", ".join(CRITICALITIES)), field="criticality",
                           value=criticality, allowed=list(CRITICALITIES))
    departments = data.get("departments") or ()
    if isinstance(departments, str):
        departments = [d for d in re.split(r"[;,、]", departments)]
    departments = tuple(sorted({_text(d, "departments") for d in departments} - {""}))
    name_en = _text(data.get("name_en"), "name_en") or level_id
    return ServiceLevel(
        id=level_id, name_en=name_en, name_zh_cn=_text(data.get("name_zh_cn"), "name_zh_cn") or name_en,
        name_zh_tw=_text(data.get("name_zh_tw"), "name_zh_tw") or name_en, hours=hours,
        respond_minutes=_minutes(data.get("respond_minutes"), "respond_minutes", required=True),
        resolve_minutes=_minutes(data.get("resolve_minutes"), "resolve_minutes", required=False),
        arrive_minutes=_minutes(data.get("arrive_minutes"), "arrive_minutes", required=False),
        criticality=criticality, departments=departments,
        is_default=bool(data.get("is_default")))


def list_levels(graph: Graph) -> list[ServiceLevel]:
    return [ServiceLevel.from_props(p, a) for p, a in store.list_levels(graph)]


def get_level(graph: Graph, level_id: str) -> ServiceLevel:
    return ServiceLevel.from_props(store.get_level(graph, level_id))


def save_level(graph: Graph, caller: Caller, level: ServiceLevel) -> ServiceLevel:
    require(caller, "service_level.change", N_("change service levels"))
    props = level.props()
    props["updated_at"] = utc_now()
    store.save_level(graph, props, actor=caller.actor)
    return get_level(graph, level.id)


def delete_level(graph: Graph, caller: Caller, level_id: str) -> None:
    require(caller, "service_level.change", N_("change service levels"))
    store.delete_level(graph, level_id, actor=caller.actor)


def install_defaults(graph: Graph, caller: Caller) -> list[ServiceLevel]:
    """Create the default levels that do not exist yet; existing ones are left as they are."""
    existing = {level.id for level in list_levels(graph)}
    for level in DEFAULT_LEVELS:
        if level.id not in existing:
            save_level(graph, caller, level)
    return list_levels(graph)


def assign(graph: Graph, caller: Caller, level_id: str, keys: Sequence[str], *,
           remove: bool = False) -> None:
    require(caller, "service_level.change", N_("assign service levels"))
    store.assign(graph, level_id, list(dict.fromkeys(keys)), actor=caller.actor, remove=remove)


@dataclass(frozen=True)
class AppliedLevel:
    level: ServiceLevel | None
    reasons: tuple[dict[str, Any], ...]     # every source of the winning level
    candidates: tuple[dict[str, Any], ...]  # every source of any level

    def reason_text(self) -> str:
        if self.level is None:
            return "no service level applies"
        parts = []
        for r in self.reasons:
            via = r.get("via_name") or r.get("via")
            parts.append({"own": "assigned to this CI",
                          "location": f"its location {via} ({r.get('via')})",
                          "application": f"application {via} runs on it",
                          "criticality": f"application {via} is {r.get('criticality')}",
                          "department": f"department {via}",
                          "default": "the default level"}[r["source"]])
        return f"{self.level.name_en}: " + "; ".join(parts)

    def reason_words(self) -> str:
        """``reason_text`` in the current language, for people (the API and --json keep the English)."""
        from cmdb.i18n.names import criticality_name, level_name
        if self.level is None:
            return _("no service level applies")
        parts = []
        for r in self.reasons:
            via = r.get("via_name") or r.get("via")
            source = r["source"]
            if source == "own":
                parts.append(_("assigned to this CI"))
            elif source == "location":
                parts.append(_("its location %(name)s (%(key)s)", name=via, key=r.get("via")))
            elif source == "application":
                parts.append(_("application %(name)s runs on it", name=via))
            elif source == "criticality":
                parts.append(_("application %(name)s is %(criticality)s", name=via,
                               criticality=criticality_name(r.get("criticality"))))
            elif source == "department":
                parts.append(_("department %(name)s", name=via))
            else:
                parts.append(_("the default level"))
        return _("%(level)s: %(reasons)s", level=level_name(self.level), reasons="; ".join(parts))

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level.as_dict() if self.level else None,
                "reasons": list(self.reasons), "reason": self.reason_text(),
                "candidates": list(self.candidates)}


def applicable_level(graph: Graph, key: str) -> AppliedLevel:
    """The strictest level among every source for the CI ``key``, with why."""
    levels = {level.id: level for level in list_levels(graph)}
    found = [s for s in store.level_sources(graph, key) if s["id"] in levels]
    if not found:
        default = next((lv for lv in levels.values() if lv.is_default), None)
        if default is None:
            return AppliedLevel(None, (), ())
        reason = {"source": "default", "id": default.id, "via": None, "via_name": None}
        return AppliedLevel(default, (reason,), (reason,))
    best = min((levels[s["id"]] for s in found), key=ServiceLevel.strictness)
    reasons = tuple(s for s in found if s["id"] == best.id)
    return AppliedLevel(best, reasons, tuple(found))
