"""A month of service records on the demo estate: the default levels, fault records with
their whole timelines (some breached, some with a repair order), a maintenance round with a
finding. Fixed times, so a report of the month always reads the same."""

from __future__ import annotations

import datetime as dt

from cmdb.errors import Conflict
from cmdb.i18n import _
from cmdb.faults import service as faults
from cmdb.graph import Graph
from cmdb.levels import service as levels
from cmdb.levels.hours import CHINA
from cmdb.maintenance import service as rounds
from cmdb.policy import Caller
from cmdb.reports.data import period_of

DESK = Caller("service desk", "engineer")
ENGINEERS = ("Li Wei 李伟", "Chen Jie 陈杰", "Zhang Min 张敏")

# (day, hour, minute, category or key, severity, title, minutes to assign, to arrive, to resolve,
#  repair order). Minutes are wall-clock minutes after the report.
FAULTS = (
    (2, 10, 5, "APP-ERP", "A", "ERP 登录失败 / ERP login fails", 20, 50, 100, None),
    (3, 14, 30, "pc", "C", "显示器黑屏 / Monitor blank", 60, 150, 200, None),
    (7, 9, 15, "printer", "D", "卡纸 / Paper jam", 30, 90, 120, None),
    (9, 16, 40, "APP-MAIL", "B", "邮件延迟 / Mail delayed", 70, 140, 260, None),
    (11, 11, 0, "pc", "C", "硬盘故障 / Disk failure", 45, 120, 1500, "RO-2026-0917"),
    (15, 8, 20, "switch", "B", "端口闪断 / Port flapping", 25, 60, 180, None),
    (18, 17, 50, "APP-ORA", "A", "数据库响应慢 / Database slow", 30, 60, 300, None),
    (22, 10, 10, "laptop", "C", "电池鼓包 / Swollen battery", 50, 120, 240, "RO-2026-0922"),
    (24, 16, 30, "APP-WEB", "A", "门户无法访问 / Portal down", 30, 990, 5370, None),
    (29, 9, 45, "printer", "D", "碳粉不足 / Toner low", 90, None, 300, None),
)


def _first_of(graph: Graph, category_or_app: str) -> str:
    if category_or_app.startswith("APP-"):
        hosts = sorted(r["key"] for r in graph.relationships(category_or_app)
                       if r["type"] == "RUNS_ON" and r["direction"] == "out")
        return hosts[0]
    devices = sorted((ci.properties.get("status") != "in_use", ci.key)
                     for ci in graph.list_cis(kind="Hardware", category=category_or_app, limit=200).items)
    if not devices:
        raise Conflict(_("The register has no %(what)s: load the demo estate first (cmdb demo)",
                         what=category_or_app), {"category": category_or_app})
    return devices[0][1]


def seed_month(graph: Graph, month: str, *, actor: Caller = DESK) -> dict[str, int]:
    """Record the month's service work on the demo estate (refused if already there)."""
    period = period_of("month", month)
    if faults.store.faults_reported_between(graph, *period.utc_bounds()):
        raise Conflict(_("%(month)s already has fault records; the demo month is not added twice",
                         month=month),
                       {"month": month})
    admin = Caller(actor.name, "admin")
    levels.install_defaults(graph, admin)
    opened = 0
    for n, (day, hour, minute, what, sev, title, assign, arrive, resolve, order) in enumerate(FAULTS):
        at = dt.datetime(period.start.year, period.start.month, day, hour, minute, tzinfo=CHINA)
        key = _first_of(graph, what)
        fault = faults.open_fault(graph, admin, keys=[key], title=title, severity=sev,
                                  reported_by="Customer help desk 客户服务台",
                                  reported_via=("phone", "scan", "api")[n % 3], at=at,
                                  repair_order=order)
        engineer = ENGINEERS[n % len(ENGINEERS)]
        faults.assign(graph, admin, fault.id, engineer=engineer, at=at + dt.timedelta(minutes=assign))
        if arrive is not None:
            faults.arrive(graph, admin, fault.id, at=at + dt.timedelta(minutes=arrive))
        faults.add_action(graph, admin, fault.id, text="诊断并处理 / diagnosed and fixed",
                          at=at + dt.timedelta(minutes=resolve - 5))
        resolved = at + dt.timedelta(minutes=resolve)
        faults.resolve(graph, admin, fault.id, resolution="已修复 / fixed", at=resolved, observe_hours=24)
        if day < 28:
            faults.close(graph, admin, fault.id, signed_by="王经理 Manager Wang",
                         at=resolved + dt.timedelta(hours=26))
        opened += 1
    # A maintenance round over the first office room, one device failing an item.
    room = graph.location_path(_first_of(graph, "printer"))[-1]["key"]
    start = dt.datetime(period.start.year, period.start.month, 20, 9, 0, tzinfo=CHINA)
    rounds.add_schedule(graph, admin, "Monthly cleaning 月度清洁", scope=room, frequency="monthly", at=start)
    r = rounds.start_round(graph, admin, "Monthly cleaning 月度清洁", scope=[room], at=start)
    if not r.expected:   # everything in the room is away or missing: an empty round
        rounds.close_round(graph, admin, r.id, at=start + dt.timedelta(hours=6))
        return {"faults": opened, "rounds": 1, "devices_checked": 0}
    for i, device in enumerate(r.expected):
        items = rounds.checklist_for(r.checklists, device["category"])
        marks = [(not (i == 0 and j == len(items) - 1), "风扇积灰 / dusty fan" if i == 0 and j == len(items) - 1 else "")
                 for j in range(len(items))]
        rounds.record_check(graph, admin, r.id, device["key"], results=marks,
                            at=start + dt.timedelta(minutes=10 * i))
    first = r.expected[0]["key"]
    rounds.open_fault_for_item(graph, admin, r.id, first,
                               len(rounds.checklist_for(r.checklists, r.expected[0]["category"])) - 1,
                               at=start + dt.timedelta(hours=2), severity="D")
    rounds.close_round(graph, admin, r.id, at=start + dt.timedelta(hours=6))
    return {"faults": opened + 1, "rounds": 1, "devices_checked": len(r.expected)}
