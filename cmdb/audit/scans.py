"""Recording scans: one from the scan page, a handheld app or the CLI, or many from a file.

A scan's id is a hash of what it says (campaign, tag, location, time, person), so the same
scan stored twice — a re-imported file, a request retried after a timeout — is one scan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Sequence

from cmdb.errors import InvalidInput, UnknownReference, WrongKind
from cmdb.graph import audit as graph_audit, schema
from cmdb.graph.schema import utc_now
from cmdb.graph import Graph
from cmdb.i18n import N_, _
from cmdb.i18n.names import kind_name

TEXT_LIMIT = 2000
PERSON_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATE_ONLY = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@dataclass(frozen=True)
class ScanInput:
    tag: str
    location: str
    at: str | None = None         # ISO 8601 UTC; None means "now" (and a new scan each time)
    person: str | None = None
    note: str | None = None
    condition: str | None = None
    row: int | None = None        # where it came from in a file (1-based), for messages


def scan_id(campaign_id: str, tag: str, location: str, at: str, person: str) -> str:
    text = "\x1f".join((campaign_id, tag, location, at, person))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def parse_time(value: Any, field: str = "time") -> str:
    """ISO 8601, ``2026-11-21 10:30``, ``2026/11/21 10:30:00`` or a date; naive times are UTC."""
    if isinstance(value, dt.datetime):
        return schema.iso_datetime(value)
    if isinstance(value, dt.date):
        return schema.iso_datetime(dt.datetime(value.year, value.month, value.day))
    if isinstance(value, str) and value.isascii():
        # The common case, ISO text (a scanner's or a spreadsheet's): no clean-up needed.
        try:
            return schema.iso_datetime(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
        except ValueError:
            pass
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = re.sub(r"^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?", r"\1-\2-\3", text)
    m = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(.*)$", text)
    if m:
        text = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}{m.group(4)}"
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(_("%(field)s: %(value)r is not a date and time; expected e.g. "
                             "2026-11-21T10:30:00Z or 2026-11-21 10:30", field=field_word(field),
                             value=value), field=field, value=value,
                           allowed="ISO 8601 date and time") from None
    return schema.iso_datetime(parsed)


# A scan's fields as its messages name them.
_FIELD_WORDS = {"tag": N_("tag"), "location": N_("location"), "at": N_("at"),
                "person": N_("person"), "note": N_("note"), "condition": N_("condition"),
                "key": N_("key")}
_NO_SUCH_LOCATION = N_("no such location in the register")


def field_word(field: str) -> str:
    """``tag`` -> "tag" (English) / "资产编号"-like words in the reader's language."""
    return _(_FIELD_WORDS[field]) if field in _FIELD_WORDS else field


def clean_text(value: Any, field: str, limit: int = TEXT_LIMIT) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).strip()
    if not text:
        return None
    if len(text) > limit:
        raise InvalidInput(_("%(field)s is %(length)s characters long; at most %(limit)s allowed",
                             field=field_word(field), length=len(text), limit=limit),
                           field=field, value=text)
    if _CONTROL.search(text):
        raise InvalidInput(_("%(field)s contains control characters", field=field_word(field)), field=field, value=text)
    return text


def check_locations(graph: Graph, keys: Sequence[str]) -> dict[str, str]:
    """Which of ``keys`` are not Location CIs: {key: reason}."""
    found = graph.get_cis(list(dict.fromkeys(keys)))
    problems = {}
    for k in dict.fromkeys(keys):
        if k not in found:
            problems[k] = _(_NO_SUCH_LOCATION)
        elif found[k].kind != "Location":
            problems[k] = _("is a %(kind)s, not a Location", kind=kind_name(found[k].kind))
    return problems


def checked_key(value: Any, field: str) -> str:
    try:
        return schema.validate_key(value, field)
    except InvalidInput as exc:
        message = exc.message.replace("The key", f"The {field}").replace("every CI needs a key (its asset tag)",
                                                                         f"every scan needs a {field}")
        raise InvalidInput(_("%(field)s: %(message)s", field=field_word(field), message=message),
                           field=field, value=exc.value,
                           allowed=exc.allowed) from None


def prepare(campaign_id: str, item: ScanInput, *, actor: str, source: str,
            recorded_at: str, untimed_is_new: bool) -> dict[str, Any]:
    """Validate one scan and turn it into the row stored (raises InvalidInput).

    A scan without a time is stamped ``recorded_at`` (and without a person, ``actor``). The
    id includes those defaults when ``untimed_is_new`` (each call is a new scan) and leaves
    them out otherwise, so a file read again, by anyone, yields the same ids.
    """
    tag = checked_key(item.tag, "tag")
    location = checked_key(item.location, "location")
    timed = item.at not in (None, "")
    at = parse_time(item.at) if timed else recorded_at
    given_person = clean_text(item.person, "person", PERSON_LIMIT)
    person = given_person or actor
    id_time = at if timed or untimed_is_new else ""
    id_person = given_person or (actor if untimed_is_new else "")
    row = {"id": scan_id(campaign_id, tag, location, id_time, id_person), "campaign_id": campaign_id,
           "tag": tag, "location": location, "at": at, "by": person, "source": source,
           "recorded_at": recorded_at, "recorded_by": actor}
    note = clean_text(item.note, "note")
    condition = clean_text(item.condition, "condition", PERSON_LIMIT)
    if note:
        row["note"] = note
    if condition:
        row["condition"] = condition
    return row


def record_scan(graph: Graph, campaign_id: str, tag: str, location: str, *, actor: str,
                at: Any = None, person: str | None = None, note: str | None = None,
                condition: str | None = None, source: str = "api") -> dict[str, Any]:
    """Record one scan in an open campaign. Returns the stored scan with ``created``
    (False when exactly this scan was recorded before)."""
    row = prepare(campaign_id, ScanInput(tag, location, at, person, note, condition),
                  actor=actor, source=source, recorded_at=utc_now(), untimed_is_new=True)
    problems = check_locations(graph, [row["location"]])
    if problems:
        reason = problems[row["location"]]
        if reason == _(_NO_SUCH_LOCATION):
            raise UnknownReference(row["location"], "location")
        raise WrongKind(_("location %(location)r %(reason)s", location=row["location"],
                             reason=reason), field="location",
                           value=row["location"], allowed="a Location key")
    added, _present = graph_audit.add_scans(graph, campaign_id, [row])
    return {**row, "created": bool(added)}


def record_scans(graph: Graph, campaign_id: str, items: Sequence[ScanInput], *, actor: str,
                 source: str) -> dict[str, Any]:
    """Validate every scan first; write only if all are valid (then in batches)."""
    recorded_at = utc_now()
    rows: list[dict[str, Any]] = []
    origin: list[int | None] = []
    problems: list[dict[str, Any]] = []
    for item in items:
        try:
            rows.append(prepare(campaign_id, item, actor=actor, source=source,
                                recorded_at=recorded_at, untimed_is_new=False))
            origin.append(item.row)
        except InvalidInput as exc:
            problems.append({"row": item.row, "field": exc.field, "value": exc.value,
                             "message": exc.message})
    bad_places = check_locations(graph, [r["location"] for r in rows])
    for r, line in zip(rows, origin):
        if r["location"] in bad_places:
            problems.append({"row": line, "field": "location", "value": r["location"],
                             "message": _("location %(location)r: %(reason)s", location=r["location"],
                                          reason=bad_places[r["location"]])})
    if problems:
        problems.sort(key=lambda p: (p["row"] or 0))
        shown = _("; ").join(_("row %(row)s: %(message)s", row=p["row"], message=p["message"])
                             if p["row"] else p["message"] for p in problems[:5])
        more = _(" (and %(count)s more)", count=len(problems) - 5) if len(problems) > 5 else ""
        raise InvalidInput(_("%(count)s scan(s) are invalid, nothing was recorded: %(shown)s%(more)s",
                             count=len(problems), shown=shown, more=more),
                           details={"problems": problems[:500], "invalid": len(problems)})
    unique = list({r["id"]: r for r in rows}.values())
    added, present = graph_audit.add_scans(graph, campaign_id, unique)
    return {"campaign": campaign_id, "rows": len(items), "added": len(added),
            "already_recorded": len(present), "repeated_in_input": len(rows) - len(unique)}

