"""``cmdb impact``, ``cmdb check-image`` and ``cmdb check-hardware``."""

from __future__ import annotations

from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from cmdb.cli_support import (
    JSON_OPTION, console, open_graph, parse_assignments, print_json, print_table,
    reports_errors,
)
from cmdb.i18n import _, N_, pgettext
from cmdb.i18n.names import (
    check_result_name, criticality_name, impact_state_name, kind_name, property_label,
)

# Each command imports the modules it needs when it runs, so that every `cmdb` command (and
# --help) starts without loading pandas, FastAPI and every domain (start-up time).

STATE_STYLE = {"down": "bold red", "degraded": "yellow", "changed": "magenta"}
VERDICT_STYLE = {"pass": "green", "fail": "bold red", "unknown": "yellow", "not_required": "dim"}


def _t(value: Any, style: str = "") -> Text:
    """User data as plain text: never read as rich markup."""
    return Text("" if value is None else str(value), style=style)


def impact_command(
    keys: Optional[list[str]] = typer.Argument(None, metavar="KEY...", help=N_("The CIs that change "
                                               "or go away")),
    depth: Optional[int] = typer.Option(None, "--depth", help=N_("Follow at most this many steps (1-64)")),
    kinds: Optional[list[str]] = typer.Option(None, "--kind", help=N_("Only list affected CIs of this "
                                              "kind (repeatable)")),
    limit: int = typer.Option(50, "--limit", min=1, help=N_("Rows shown per state in the human output")),
    as_json: bool = JSON_OPTION,
):
    from cmdb.impact.service import impact

    with open_graph() as graph:
        result = impact(graph, keys or [], depth=depth, kinds=kinds)
    if as_json:
        print_json(result)
        return
    _print_impact(result, limit)


def _print_impact(result: dict[str, Any], limit: int) -> None:
    from cmdb.impact.service import path_text

    summary = result["summary"]
    changed = ", ".join(f"{kind_name(c['kind'])} {c['key']}" for c in result["changed"])
    console.print(_t(_("Change to %(changed)s: %(total)s CI(s) affected — %(down)s down, "
                       "%(degraded)s degraded", changed=changed, total=summary["total"],
                       down=summary["by_state"]["down"], degraded=summary["by_state"]["degraded"])
                     + (_(" (depth limited to %(depth)s)", depth=result["depth"]) if result["depth"] else ""),
                     "bold"))
    for fault in result.get("open_faults", []):
        console.print(_t(_("%(key)s already has an open %(severity)s fault: %(id)s %(title)s (%(status)s)",
                           key=fault["key"], severity=fault["severity"], id=fault["id"],
                           title=fault["title"], status=fault["status"]), "yellow"))
    if not result["affected"]:
        console.print(_t(_("Nothing else needs these CIs.")))
        return

    apps = summary["applications"]
    if apps:
        by_key = {a["key"]: a for a in result["affected"]}
        table = Table(pgettext("heading", "criticality"), pgettext("heading", "state"), pgettext("heading", "application"), pgettext("heading", "name"), pgettext("heading", "why"),
                      title=_("Applications affected"))
        for a in apps[:limit]:
            table.add_row(_t(criticality_name(a["criticality"] or "unset")),
                          _t(impact_state_name(a["state"]), STATE_STYLE[a["state"]]),
                          _t(a["key"]), _t(a["name"]), _t(path_text(by_key[a["key"]]["path"])))
        print_table(table)
        if len(apps) > limit:
            console.print(_t(_("… %(n)s more applications (--limit or --json)", n=len(apps) - limit)))

    for state in ("down", "degraded"):
        rows = [a for a in result["affected"] if a["state"] == state and a["kind"] != "Application"]
        if not rows:
            continue
        title = _("Other CIs down") if state == "down" else _("Other CIs degraded")
        table = Table(pgettext("heading", "distance"), pgettext("heading", "kind"), pgettext("heading", "key"), pgettext("heading", "name"), pgettext("heading", "why"), title=title,
                      title_style=STATE_STYLE[state])
        for a in rows[:limit]:
            table.add_row(_t(a["distance"]), _t(kind_name(a["kind"])), _t(a["key"]), _t(a["name"]),
                          _t(path_text(a["path"])))
        print_table(table)
        if len(rows) > limit:
            console.print(_t(_("… %(n)s more %(state)s (--limit or --json)", n=len(rows) - limit,
                               state=impact_state_name(state))))

    counts = Table(pgettext("heading", "kind"), pgettext("heading", "count"), title=_("By kind"))
    for kind, n in summary["by_kind"].items():
        counts.add_row(_t(kind_name(kind)), _t(n))
    print_table(counts)
    if summary["by_location"]:
        places = Table(pgettext("heading", "site"), pgettext("heading", "building"), pgettext("heading", "affected"), impact_state_name("down"),
                       impact_state_name("degraded"), title=_("By location"))
        for g in summary["by_location"]:
            places.add_row(_t(_place(g["site"])), _t(_place(g["building"])), _t(g["count"]),
                           _t(g["down"]), _t(g["degraded"]))
        print_table(places)


def _place(location: dict[str, Any] | None) -> str:
    if location is None:
        return "—"
    return f"{location['key']} ({location['name']})" if location.get("name") else location["key"]


def check_image_command(
    image: str = typer.Argument(..., help=N_("The image the devices run now")),
    to: Optional[str] = typer.Option(None, "--to", help=N_("The image to roll out instead")),
    values: list[str] = typer.Option([], "--set", "-s", help=N_("A requirement to use instead, e.g. "
                                     "min_ram_gb=8 or supported_models='OptiPlex 7010,OptiPlex 7090'")),
    as_json: bool = JSON_OPTION,
):
    from cmdb.impact.compatibility import check_image_change
    from cmdb.impact.rollout import rollout

    with open_graph() as graph:
        result = check_image_change(graph, image, to, parse_assignments(values))
        # The rollout view is about the new image as it is: with --set it would mix the two.
        plan = rollout(graph, image, to) if to is not None and not values else None
    if plan is not None:
        result["rollout"] = plan
    if as_json:
        print_json(result)
        return
    target = result["new_image"] or result["image"]
    s = result["summary"]
    console.print(_t(_("%(n)s device(s) built from %(image)s checked against %(target)s: %(pass)s pass, "
                       "%(fail)s fail, %(unknown)s unknown", n=s["devices"], image=result["image"]["key"],
                       target=target["key"], **{"pass": s["pass"]}, fail=s["fail"], unknown=s["unknown"]),
                     "bold"))
    console.print(_t(_("requirements: ") + ", ".join(
        f"{property_label(k)}={v}" for k, v in result["requirements"].items() if v not in (None, []))))
    table = Table(pgettext("heading", "verdict"), pgettext("heading", "device"), pgettext("heading", "name"), pgettext("heading", "model"), pgettext("heading", "cpu"), pgettext("heading", "ram"),
                  pgettext("heading", "disk"), pgettext("heading", "model ok"), pgettext("heading", "applications"))
    for d in result["devices"]:
        checks = {c["requirement"]: c for c in d["checks"]}
        table.add_row(_t(check_result_name(d["verdict"]), VERDICT_STYLE[d["verdict"]]), _t(d["key"]), _t(d["name"]),
                      _t(d["model"]), *(_check_cell(checks[r]) for r in
                                       ("min_cpu_cores", "min_ram_gb", "min_disk_gb", "supported_models")),
                      _t(", ".join(d["applications"])))
    print_table(table)
    if plan is not None:
        _print_rollout(plan)


def _print_rollout(plan: dict[str, Any]) -> None:
    s = plan["summary"]
    old, new = plan["image"]["key"], plan["new_image"]["key"]
    console.print(_t(_("rollout %(old)s → %(new)s: %(moved)s moved, %(can)s can move, "
                       "%(cannot)s cannot, %(unknown)s unknown", old=old, new=new,
                       moved=s["moved"], can=s["can"], cannot=s["cannot"],
                       unknown=s["unknown"]), "bold"))
    if s["reasons"]:
        console.print(_t(_("why not: %(reasons)s", reasons=", ".join(
            f"{why} ({n})" for why, n in s["reasons"].items()))))
    if plan["moved"]:
        moved = Table(pgettext("heading", "device"), pgettext("heading", "name"),
                      pgettext("heading", "moved at"), pgettext("heading", "by"),
                      title=_("Moved to %(image)s", image=new))
        for d in plan["moved"]:
            moved.add_row(_t(d["key"]), _t(d["name"]), _t(d["at"]), _t(d["actor"]))
        print_table(moved)


def _check_cell(c: dict[str, Any]) -> Text:
    if c["result"] == "not_required":
        return _t("—", "dim")
    if c["requirement"] == "supported_models":
        return _t(check_result_name(c["result"]), VERDICT_STYLE[c["result"]])
    actual = "?" if c["actual"] is None else c["actual"]
    return _t(f"{actual} ≥ {c['required']}: {check_result_name(c['result'])}", VERDICT_STYLE[c["result"]])


def check_hardware_command(
    key: str = typer.Argument(..., help=N_("The hardware that changes")),
    values: list[str] = typer.Option([], "--set", "-s", help=N_("The new configuration, e.g. ram_gb=8, "
                                     "model='OptiPlex 7090' (repeatable)")),
    as_json: bool = JSON_OPTION,
):
    from cmdb.impact.compatibility import check_hardware_change

    with open_graph() as graph:
        result = check_hardware_change(graph, key, parse_assignments(values))
    if as_json:
        print_json(result)
        return
    s = result["summary"]
    changes = ", ".join(f"{k}={v}" for k, v in result["changes"].items())
    console.print(_t(_("%(key)s with %(changes)s: %(verdict)s", key=result["hardware"]["key"],
                       changes=changes, verdict=check_result_name(s["verdict"])), "bold"))
    if not result["images"]:
        console.print(_t(_("No image is recorded on this hardware (nothing to check).")))
    table = Table(pgettext("heading", "image"), pgettext("heading", "name"), pgettext("heading", "before"), pgettext("heading", "after"), pgettext("heading", "cpu"), pgettext("heading", "ram"),
                  pgettext("heading", "disk"), pgettext("heading", "model ok"), title=_("Images"))
    for i in result["images"]:
        checks = {c["requirement"]: c for c in i["checks"]}
        table.add_row(_t(i["key"]), _t(i["name"]),
                      _t(check_result_name(i["verdict_before"]), VERDICT_STYLE[i["verdict_before"]]),
                      _t(check_result_name(i["verdict"]), VERDICT_STYLE[i["verdict"]]),
                      *(_check_cell(checks[r]) for r in
                        ("min_cpu_cores", "min_ram_gb", "min_disk_gb", "supported_models")))
    if result["images"]:
        print_table(table)
    if result["applications"]:
        apps = Table(pgettext("heading", "application"), pgettext("heading", "name"), pgettext("heading", "criticality"), pgettext("heading", "verdict"),
                     title=_("Applications on it"))
        for a in result["applications"]:
            apps.add_row(_t(a["key"]), _t(a["name"]), _t(criticality_name(a["criticality"] or "unset")),
                         _t(check_result_name(a["verdict"]), VERDICT_STYLE[a["verdict"]]))
        print_table(apps)


def register(app: typer.Typer) -> None:
    app.command("impact", help=N_("What breaks if KEY... change or go down: affected CIs by state "
                                  "and criticality, each with the path that explains it."))(reports_errors(impact_command))
    app.command("check-image", help=N_("Can every device built from IMAGE carry the new image (or "
                                       "requirements)?"))(reports_errors(check_image_command))
    app.command("check-hardware", help=N_("Would the images and applications on KEY still fit its "
                                          "new configuration?"))(reports_errors(check_hardware_command))
