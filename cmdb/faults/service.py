"""Fault records: the steps of a fault and its service-level clocks.

Each step takes the moment it happened (``at``) and clocks are computed for a given ``now``:
nothing here reads the wall clock, so a whole timeline can be replayed exactly.

Steps: open → assign (the response clock stops) → arrive (the on-site clock stops) →
resolve (the resolution clock stops; an observation period starts) → close (after the
observation period, with the customer's sign-off). Actions can be noted at any open step.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

from PIL import Image, UnidentifiedImageError

from cmdb.errors import Conflict, InvalidInput
from cmdb.graph import Graph
from cmdb.graph import fault_records as store
from cmdb.graph.schema import iso_datetime, validate_key
from cmdb.i18n import N_, _, current_language, pgettext
from cmdb.i18n.names import fault_status_name
from cmdb.levels.hours import clock, service_hours
from cmdb.levels.service import ServiceLevel, applicable_level
from cmdb.policy import Caller, require, require_in_scope

SEVERITIES = ("A", "B", "C", "D")
SEVERITY_TEXT = {"A": "A: service down, many users", "B": "B: service degraded or a key user",
                 "C": "C: one user or device, work-around exists", "D": "D: minor, cosmetic"}
CHANNELS = ("scan", "phone", "api", "cli", "maintenance")
STATUSES = ("open", "assigned", "on_site", "resolved", "closed")
DEFAULT_OBSERVATION_HOURS = 24
MAX_OBSERVATION_HOURS = 24 * 30
MAX_KEYS = 50
MAX_ACTIONS = 200
MAX_TEXT = 2000
SIGNATURE_MAX_BYTES = 200_000
SIGNATURE_MAX_PIXELS = (2000, 1200)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_YEAR, MAX_YEAR = 2000, 2099
TEXT_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NUL = re.compile(r"[\x00]")
# ISO 8601 date and time with a zone, years 2000-2099 (what ``parse_time`` accepts); people
# may leave the seconds out, RFC 3339 (the API's date-time) may not.
_MINUTE = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]"
_SECONDS = r":[0-5][0-9](\.[0-9]{1,6})?"
_ZONE = r"(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
TIME_PATTERN = f"{_MINUTE}({_SECONDS})?{_ZONE}"
RFC3339_PATTERN = f"{_MINUTE}{_SECONDS}{_ZONE}"


def _text(value: Any, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidInput(_("%(name)s is required", name=name), field=name, value=value)
    if len(text) > limit:
        raise InvalidInput(_("%(name)s is %(length)s characters long; at most %(limit)s allowed",
                             name=name, length=len(text), limit=limit),
                           field=name, value=text[:80])
    if "\x00" in text:
        raise InvalidInput(_("%(name)s may not contain NUL", name=name), field=name)
    return text


def parse_time(value: str | dt.datetime, name: str = "at") -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(_("%(name)s: %(value)s is not a date and time", name=name, value=repr(value)), field=name, value=value,
                               allowed=_("ISO 8601, e.g. 2026-09-30T17:30:00+08:00")) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidInput(_("%(name)s: %(value)s is outside the years %(first)s-%(last)s", name=name,
                             value=repr(value), first=MIN_YEAR, last=MAX_YEAR),
                           field=name, value=str(value), allowed=_("%(first)s to %(last)s", first=MIN_YEAR, last=MAX_YEAR))
    if parsed.tzinfo is None:
        raise InvalidInput(_("%(name)s: %(value)s has no time zone", name=name, value=repr(value)), field=name, value=str(value),
                           allowed=_("ISO 8601 with Z or an offset, e.g. 2026-09-30T17:30:00+08:00"))
    return parsed


def _when(value: str | None) -> dt.datetime | None:
    return None if value is None else parse_time(value)


@dataclass(frozen=True)
class Fault:
    record: dict[str, Any]
    clocks: dict[str, dict[str, Any]]

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def breached(self) -> list[str]:
        return [name for name, c in self.clocks.items() if c["state"] == "breached"]

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.record.items() if k not in ("actions",)}
        out["actions"] = json.loads(self.record.get("actions") or "[]")
        out["has_signature"] = bool(self.record.get("has_signature"))
        out["clocks"] = self.clocks
        return out


def clocks_of(record: dict[str, Any], now: dt.datetime) -> dict[str, dict[str, Any]]:
    """Response, arrival and resolution clocks, measured in the level's service hours."""
    hours = service_hours(record.get("level_hours") or "5x8")
    reported = parse_time(record["reported_at"])
    assigned, arrived = _when(record.get("assigned_at")), _when(record.get("arrived_at"))
    responded = min((t for t in (assigned, arrived) if t is not None), default=None)
    resolved = _when(record.get("resolved_at"))
    # A fault resolved remotely needs nobody on site: its arrival clock stops there too.
    on_site_or_resolved = arrived if arrived is not None else resolved
    return {
        "response": clock(hours, record.get("respond_minutes"), reported, responded, now).as_dict(),
        "arrival": clock(hours, record.get("arrive_minutes"), reported, on_site_or_resolved,
                         now).as_dict(),
        "resolution": clock(hours, record.get("resolve_minutes"), reported, resolved, now).as_dict(),
    }


def _fault(record: dict[str, Any], now: dt.datetime) -> Fault:
    return Fault(record, clocks_of(record, now))


def _check_not_before(record: dict[str, Any], at: dt.datetime, field: str, after: str) -> None:
    earlier = record.get(after)
    if earlier and at < parse_time(earlier):
        raise Conflict(_("%(field)s: %(value)s is before %(after)s %(earlier)s", field=field,
                         value=iso_datetime(at), after=after, earlier=earlier),
                       {"field": field, "value": iso_datetime(at), after: earlier})


def open_fault(graph: Graph, caller: Caller, *, keys: Sequence[str], title: str,
               severity: str, reported_by: str, reported_via: str, at: dt.datetime,
               description: str = "", repair_order: str | None = None) -> Fault:
    """Open a fault record on one or more CIs; the strictest level of those CIs applies."""
    require(caller, "fault.report", N_("report faults"))
    clean_keys = list(dict.fromkeys(validate_key(k, "keys") for k in keys))
    if not clean_keys:
        raise InvalidInput(_("keys: name at least one CI the fault concerns"), field="keys")
    if len(clean_keys) > MAX_KEYS:
        raise InvalidInput(_("keys: at most %(count)s CIs on one fault record", count=MAX_KEYS), field="keys",
                           value=len(clean_keys))
    require_in_scope(graph, caller, clean_keys)
    sev = str(severity or "").strip().upper()
    if sev not in SEVERITIES:
        raise InvalidInput(_("severity: %(value)s is not a grade; allowed: A, B, C or D", value=repr(severity)),
                           field="severity",
                           value=severity, allowed=list(SEVERITIES))
    channel = str(reported_via or "").strip().lower()
    if channel not in CHANNELS:
        raise InvalidInput(_("reported_via: %(value)s is not known; allowed: %(allowed)s",
                             value=repr(reported_via), allowed=", ".join(CHANNELS)), field="reported_via",
                           value=reported_via, allowed=list(CHANNELS))
    applied = [(k, applicable_level(graph, k)) for k in clean_keys]
    with_level = [(k, a) for k, a in applied if a.level is not None]
    props: dict[str, Any] = {
        "title": _text(title, "title", required=True, limit=200),
        "description": _text(description, "description"),
        "severity": sev, "status": "open", "keys": clean_keys,
        "reported_by": _text(reported_by, "reported_by", required=True, limit=200),
        "reported_via": channel, "reported_at": iso_datetime(at), "opened_by": caller.actor,
        "actions": "[]", "has_signature": False,
    }
    if repair_order:
        props["repair_order"] = _text(repair_order, "repair_order", limit=200)
    if with_level:
        key, best = min(with_level, key=lambda ka: ServiceLevel.strictness(ka[1].level))
        level = best.level
        props.update({
            "level_id": level.id, "level_name_en": level.name_en,
            "level_name_zh_cn": level.name_zh_cn, "level_name_zh_tw": level.name_zh_tw,
            "level_hours": level.hours, "respond_minutes": level.respond_minutes,
            "level_reason": f"{key}: {best.reason_text()}",
        })
        for name in ("resolve_minutes", "arrive_minutes"):
            if getattr(level, name) is not None:
                props[name] = getattr(level, name)
    prefix = "F-" + at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y%m") + "-"
    record = store.create_fault(graph, prefix, props, clean_keys, actor=caller.actor)
    return _fault(store.get_fault(graph, record["id"]), at)


def _step_words(doing: str) -> str:
    """What is done to a fault, for the refusal below, in the reader's language."""
    return {"assigned": pgettext("fault action", "assigned"),
            "marked on site": pgettext("fault action", "marked on site"),
            "noted": pgettext("fault action", "noted"),
            "resolved": pgettext("fault action", "resolved"),
            "closed": pgettext("fault action", "closed")}.get(doing, doing)


def _require_status(record: dict[str, Any], allowed: Sequence[str], doing: str) -> None:
    if record["status"] not in allowed:
        # English keeps the stored words (tests and scripts match them); Chinese names them.
        word = (lambda s: s) if current_language() == "en" else fault_status_name
        raise Conflict(_("Fault %(id)s is %(status)s; it can be %(doing)s only when %(allowed)s",
                         id=record["id"], status=word(record["status"]), doing=_step_words(doing),
                         allowed=_(" or ").join(word(a) for a in allowed)),
                       {"id": record["id"], "status": record["status"],
                        "allowed_statuses": list(allowed)})


def _handle(graph: Graph, caller: Caller, fault_id: str) -> None:
    require(caller, "fault.handle", N_("handle faults"))
    if caller.scope is not None:
        require_in_scope(graph, caller, store.get_fault(graph, fault_id)["keys"])


def assign(graph: Graph, caller: Caller, fault_id: str, *, engineer: str,
           at: dt.datetime) -> Fault:
    _handle(graph, caller, fault_id)
    name = _text(engineer, "engineer", required=True, limit=200)

    def step(record):
        _require_status(record, ("open", "assigned"), "assigned")
        _check_not_before(record, at, "assigned_at", "reported_at")
        changes = {"assignee": name, "status": "assigned"}
        if not record.get("assigned_at"):
            changes["assigned_at"] = iso_datetime(at)
        return changes
    return _fault(store.update_fault(graph, fault_id, step, actor=caller.actor), at)


def arrive(graph: Graph, caller: Caller, fault_id: str, *, at: dt.datetime) -> Fault:
    _handle(graph, caller, fault_id)

    def step(record):
        _require_status(record, ("open", "assigned"), "marked on site")
        _check_not_before(record, at, "arrived_at", "reported_at")
        return {"arrived_at": iso_datetime(at), "status": "on_site"}
    return _fault(store.update_fault(graph, fault_id, step, actor=caller.actor), at)


def add_action(graph: Graph, caller: Caller, fault_id: str, *, text: str,
               at: dt.datetime) -> Fault:
    _handle(graph, caller, fault_id)
    note = _text(text, "text", required=True)

    def step(record):
        _require_status(record, ("open", "assigned", "on_site", "resolved"), "noted")
        actions = json.loads(record.get("actions") or "[]")
        if len(actions) >= MAX_ACTIONS:
            raise Conflict(_("Fault %(id)s already holds %(count)s actions, the most a record keeps",
                             id=record["id"], count=MAX_ACTIONS), {"id": record["id"], "actions": len(actions)})
        actions.append({"at": iso_datetime(at), "by": caller.actor, "text": note})
        return {"actions": json.dumps(actions, ensure_ascii=False)}
    return _fault(store.update_fault(graph, fault_id, step, actor=caller.actor), at)


def resolve(graph: Graph, caller: Caller, fault_id: str, *, resolution: str, at: dt.datetime,
            observe_hours: float = DEFAULT_OBSERVATION_HOURS) -> Fault:
    _handle(graph, caller, fault_id)
    text = _text(resolution, "resolution", required=True)
    if not 0 <= observe_hours <= MAX_OBSERVATION_HOURS:
        raise InvalidInput(_("observe_hours: %(value)s is out of range", value=observe_hours), field="observe_hours",
                           value=observe_hours, allowed=_("%(first)s to %(last)s", first=0, last=MAX_OBSERVATION_HOURS))

    def step(record):
        _require_status(record, ("open", "assigned", "on_site"), "resolved")
        _check_not_before(record, at, "resolved_at", "reported_at")
        return {"resolved_at": iso_datetime(at), "resolution": text, "status": "resolved",
                "observe_until": iso_datetime(at + dt.timedelta(hours=observe_hours))}
    return _fault(store.update_fault(graph, fault_id, step, actor=caller.actor), at)


def signature_from_png(data: bytes) -> str:
    """Check a drawn signature (PNG, size-bounded) and return it as base64 text."""
    if len(data) > SIGNATURE_MAX_BYTES:
        raise InvalidInput(_("signature: %(size)s bytes; at most %(limit)s allowed", size=len(data),
                             limit=SIGNATURE_MAX_BYTES),
                           field="signature", value=len(data))
    if not data.startswith(PNG_MAGIC):
        raise InvalidInput(_("signature: not a PNG image"), field="signature", allowed="image/png")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(_("signature: the PNG image cannot be read"), field="signature") from None
    max_w, max_h = SIGNATURE_MAX_PIXELS
    if width > max_w or height > max_h:
        raise InvalidInput(_("signature: %(width)s×%(height)s pixels; at most %(max_width)s×%(max_height)s",
                             width=width, height=height, max_width=max_w, max_height=max_h),
                           field="signature", value=f"{width}x{height}")
    return base64.b64encode(data).decode("ascii")


def signature_from_data_url(text: str) -> bytes:
    """The PNG bytes of a ``data:image/png;base64,…`` URL (what a canvas gives)."""
    prefix = "data:image/png;base64,"
    if not text.startswith(prefix):
        raise InvalidInput(_("signature: expected a data:image/png;base64 URL"), field="signature")
    if len(text) > SIGNATURE_MAX_BYTES * 4 // 3 + len(prefix) + 4:
        raise InvalidInput(_("signature: larger than %(limit)s bytes", limit=SIGNATURE_MAX_BYTES),
                           field="signature")
    try:
        return base64.b64decode(text[len(prefix):], validate=True)
    except ValueError:
        raise InvalidInput(_("signature: the data URL is not valid base64"), field="signature") from None


def close(graph: Graph, caller: Caller, fault_id: str, *, signed_by: str, at: dt.datetime,
          signature_png: bytes | None = None) -> Fault:
    """Close a resolved fault once its observation period is over, with the customer's
    sign-off (name, time and optionally the signature drawn on the phone)."""
    _handle(graph, caller, fault_id)
    name = _text(signed_by, "signed_by", required=True, limit=200)
    encoded = signature_from_png(signature_png) if signature_png is not None else None

    def step(record):
        _require_status(record, ("resolved",), "closed")
        until = record.get("observe_until")
        if until and at < parse_time(until):
            raise Conflict(_("Fault %(id)s is under observation until %(until)s; it can be closed after that",
                             id=record["id"], until=until), {"id": record["id"], "observe_until": until})
        changes = {"status": "closed", "closed_at": iso_datetime(at), "closed_by": caller.actor,
                   "signed_by": name, "signed_at": iso_datetime(at)}
        if encoded is not None:
            changes["signature_png"] = encoded
            changes["has_signature"] = True
        return changes
    return _fault(store.update_fault(graph, fault_id, step, actor=caller.actor), at)


def get(graph: Graph, fault_id: str, now: dt.datetime) -> Fault:
    return _fault(store.get_fault(graph, fault_id), now)


def signature_png(graph: Graph, fault_id: str) -> bytes | None:
    encoded = store.signature(graph, fault_id)
    return None if encoded is None else base64.b64decode(encoded)


def list_faults(graph: Graph, now: dt.datetime, *, status: str | None = None,
                open_only: bool = False, key: str | None = None) -> list[Fault]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(_("status: %(value)s is not known; allowed: %(allowed)s", value=repr(status),
                             allowed=", ".join(STATUSES)),
                           field="status", value=status,
                           allowed=list(STATUSES))
    records = store.all_faults(graph)
    out = [_fault(r, now) for r in records
           if (status is None or r["status"] == status)
           and (not open_only or r["status"] != "closed")
           and (key is None or key in (r.get("keys") or []))]
    return sorted(out, key=lambda f: (f.record["reported_at"], f.id), reverse=True)


def open_faults_of(graph: Graph, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The open fault records of these CIs (for the CI page and impact results)."""
    return sorted(store.open_faults_of(graph, keys),
                  key=lambda f: (f["severity"], f["reported_at"], f["key"]))


def history(graph: Graph, fault_id: str) -> list[dict[str, Any]]:
    store.get_fault(graph, fault_id)
    return store.fault_history(graph, fault_id)
