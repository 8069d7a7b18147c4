"""The content of a service report for a period and a scope, computed once and rendered as
XLSX, HTML or PDF (``cmdb.reports.render``)."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cmdb.audit.campaigns import list_campaigns
from cmdb.errors import InvalidInput
from cmdb.i18n import _
from cmdb.faults import service as faults
from cmdb.graph import Graph
from cmdb.graph import reports as store
from cmdb.graph.schema import KINDS, iso_datetime
from cmdb.levels.hours import CHINA
from cmdb.maintenance.service import list_rounds

PERIOD_KINDS = ("month", "quarter", "year")
SEVERITIES = faults.SEVERITIES
ENDED = ("retired", "disposed")


@dataclass(frozen=True)
class Period:
    kind: str
    label: str            # 2026-09, 2026-Q3, 2026
    start: dt.date
    end: dt.date          # the day after the last

    def utc_bounds(self) -> tuple[str, str]:
        """The period in China time, as UTC timestamps the register stores."""
        def at(day: dt.date) -> str:
            return iso_datetime(dt.datetime.combine(day, dt.time(0), CHINA))
        return at(self.start), at(self.end)


def period_of(kind: str, text: str) -> Period:
    """``2026-09`` (month), ``2026-Q3`` (quarter), ``2026`` (year)."""
    text = str(text).strip().upper()
    patterns = {"month": r"(\d{4})-(\d{2})", "quarter": r"(\d{4})-Q([1-4])", "year": r"(\d{4})"}
    examples = {"month": "YYYY-MM, e.g. 2026-09", "quarter": "YYYY-Qn, e.g. 2026-Q3", "year": "YYYY"}
    match = re.fullmatch(patterns[kind], text)
    year = int(match.group(1)) if match else 0
    if not match or not 2000 <= year <= 2099 or (kind == "month" and not 1 <= int(match.group(2)) <= 12):
        raise InvalidInput(_("--%(kind)s: %(value)s is not a %(kind)s", kind=kind, value=repr(text)), field=kind, value=text,
                           allowed=examples[kind])
    if kind == "month":
        month = int(match.group(2))
        start = dt.date(year, month, 1)
        end = start + dt.timedelta(days=calendar.monthrange(year, month)[1])
    elif kind == "quarter":
        q = int(match.group(2))
        start = dt.date(year, 3 * q - 2, 1)
        end = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    else:
        start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    return Period(kind, text, start, end)


def next_quarter(day: dt.date) -> tuple[dt.date, dt.date]:
    q_start_month = (day.month - 1) // 3 * 3 + 1
    start = dt.date(day.year + (q_start_month == 10), 1 if q_start_month == 10 else q_start_month + 3, 1)
    end = dt.date(start.year + (start.month == 10), 1 if start.month == 10 else start.month + 3, 1)
    return start, end


@dataclass
class Report:
    period: Period
    scope: str | None
    scope_name: str | None
    generated_at: str
    faults: list[dict[str, Any]] = field(default_factory=list)
    by_severity_level: dict[str, dict[str, int]] = field(default_factory=dict)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    repairs: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[str, dict[str, int]] = field(default_factory=dict)   # added/moved/retired by category
    warranty: list[dict[str, Any]] = field(default_factory=list)
    warranty_quarter: tuple[str, str] = ("", "")
    audits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {"faults": len(self.faults),
                "closed": sum(1 for f in self.faults if f["status"] == "closed"),
                "breached": len({b["id"] for b in self.breaches})}

    def as_dict(self) -> dict[str, Any]:
        return {"period": {"kind": self.period.kind, "label": self.period.label,
                           "start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
                "scope": self.scope, "scope_name": self.scope_name, "generated_at": self.generated_at,
                "totals": self.totals, "faults": self.faults, "by_severity_level": self.by_severity_level,
                "breaches": self.breaches, "repairs": self.repairs, "rounds": self.rounds,
                "findings": self.findings, "changes": self.changes, "warranty": self.warranty,
                "warranty_quarter": list(self.warranty_quarter), "audits": self.audits}


def build(graph: Graph, period: Period, scope: str | None, *, now: dt.datetime) -> Report:
    inside: set[str] | None = None
    scope_name = None
    if scope:
        location = graph.get_ci(scope)
        if location.kind != "Location":
            raise InvalidInput(_("--scope: %(value)s is a %(kind)s, not a location", value=repr(scope),
                                 kind=location.kind),
                               field="scope", value=scope, allowed="a Location key")
        scope_name = location.name
        inside = set(graph.subtree_keys(scope)) | {scope}
    report = Report(period, scope, scope_name, iso_datetime(now))
    start, end = period.utc_bounds()
    end_moment = min(now, dt.datetime.fromisoformat(end.replace("Z", "+00:00")))

    def in_scope(keys) -> bool:
        return inside is None or any(k in inside for k in keys)

    def overlaps(locations) -> bool:
        """A round's or campaign's scope (empty: everything) overlaps the report's."""
        return (inside is None or not locations or any(s in inside for s in locations)
                or any(scope in graph.subtree_keys_if_any(s) for s in locations))

    # Faults reported in the period; clocks as at the end of the period (or now, if earlier).
    levels: Counter = Counter()
    for record in sorted(faults.store.faults_reported_between(graph, start, end),
                         key=lambda r: (r["reported_at"], r["id"])):
        if not in_scope(record["keys"]):
            continue
        clocks = faults.clocks_of(record, end_moment)
        row = {"id": record["id"], "severity": record["severity"], "level": record.get("level_name_en") or "–",
               "level_zh": record.get("level_name_zh_cn") or "–",
               "level_zh_tw": record.get("level_name_zh_tw") or record.get("level_name_zh_cn") or "–", "keys": record["keys"],
               "title": record["title"], "status": record["status"], "reported_at": record["reported_at"],
               "repair_order": record.get("repair_order"), "clocks": clocks}
        report.faults.append(row)
        levels[(record["severity"], row["level"])] += 1
        for name, c in clocks.items():
            if c["state"] == "breached":
                report.breaches.append({"id": record["id"], "severity": record["severity"],
                                        "level": row["level"], "keys": record["keys"], "clock": name,
                                        "elapsed_minutes": c["elapsed_minutes"],
                                        "target_minutes": c["target_minutes"]})
        if record.get("repair_order"):
            report.repairs.append(row)
    for sev in SEVERITIES:
        report.by_severity_level[sev] = {lvl: n for (s, lvl), n in sorted(levels.items()) if s == sev}

    # Maintenance rounds started in the period over (part of) the scope.
    for r in list_rounds(graph):
        if not start <= r.record["started_at"] < end:
            continue
        if not overlaps(r.record["scope"]):
            continue
        p = r.progress()
        report.rounds.append({"id": r.id, "name": r.record["name"], "scope": r.record["scope"],
                              "status": r.record["status"], **p})
        report.findings += [{**f, "round": r.record["name"]} for f in r.findings()]

    # Register changes from the history: added, moved (location changed), retired.
    changes: dict[str, Counter] = {"added": Counter(), "moved": Counter(), "retired": Counter()}
    rows = store.changes_between(graph, start, end, list(KINDS))
    facts = store.hardware_facts(graph, sorted({r["key"] for r in rows}))
    # The first location a CI gets is written with its creation: not a move.
    created_at = {row["key"]: row["at"] for row in rows if row["action"] == "create"}
    for row in rows:
        if not in_scope([row["key"]]) and inside is not None:
            continue
        after = json.loads(row["after"]) if row["after"] else {}
        category = after.get("category") or facts.get(row["key"], {}).get("category") or row["kind"]
        if row["action"] == "create":
            changes["added"][category] += 1
        elif (row["action"] == "link" and after.get("type") == "LOCATED_IN"
              and row["key"] == after.get("from") and created_at.get(row["key"]) != row["at"]):
            changes["moved"][category] += 1
        elif row["action"] == "update" and after.get("status") in ENDED:
            changes["retired"][category] += 1
    report.changes = {name: dict(sorted(c.items())) for name, c in changes.items()}

    # Warranty ending in the quarter after the period.
    q_start, q_end = next_quarter(period.end - dt.timedelta(days=1))
    report.warranty_quarter = (q_start.isoformat(), (q_end - dt.timedelta(days=1)).isoformat())
    report.warranty = sorted((w for w in store.warranty_ending(graph, q_start.isoformat(), q_end.isoformat())
                              if inside is None or w["key"] in inside),
                             key=lambda w: (w["warranty_end"], w["key"]))

    # Audit campaigns open during the period.
    for c in list_campaigns(graph):
        if c.created_at < end and (c.closed_at is None or c.closed_at >= start):
            if overlaps(c.scope):
                report.audits.append({"id": c.id, "name": c.name, "status": c.status,
                                      "expected": c.expected_count, "scans": c.scans,
                                      "created_at": c.created_at, "closed_at": c.closed_at})
    return report
