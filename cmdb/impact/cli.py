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

STATE_STYLE = {"down": "bold red", "degraded": "yellow", "changed": "magenta"}
VERDICT_STYLE = {"pass": "green", "fail": "bold red", "unknown": "yellow", "not_required": "dim"}


def _t(value: Any, style: str = "") -> Text:
    """User data as plain text: never read as rich markup."""
    return Text("" if value is None else str(value), style=style)


def impact_command(
    keys: Optional[list[str]] = typer.Argument(None, metavar="KEY...", help="The CIs that change "
                                               "or go away"),
    depth: Optional[int] = typer.Option(None, "--depth", help="Follow at most this many steps (1-64)"),
    kinds: Optional[list[str]] = typer.Option(None, "--kind", help="Only list affected CIs of this "
                                              "kind (repeatable)"),
    limit: int = typer.Option(50, "--limit", min=1, help="Rows shown per state in the human output"),
    as_json: bool = JSON_OPTION,
):
    """What breaks if KEY... change or go down: affected CIs by state and criticality, each
    with the path that explains it."""
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
    changed = ", ".join(f"{c['kind']} {c['key']}" for c in result["changed"])
    console.print(_t(f"Change to {changed}: {summary['total']} CI(s) affected — "
                     f"{summary['by_state']['down']} down, {summary['by_state']['degraded']} degraded"
                     + (f" (depth limited to {result['depth']})" if result["depth"] else ""), "bold"))
    for fault in result.get("open_faults", []):
        console.print(_t(f"{fault['key']} already has an open {fault['severity']} fault: "
                         f"{fault['id']} {fault['title']} ({fault['status']})", "yellow"))
    if not result["affected"]:
        console.print(_t("Nothing else needs these CIs."))
        return

    apps = summary["applications"]
    if apps:
        by_key = {a["key"]: a for a in result["affected"]}
        table = Table("criticality", "state", "application", "name", "why", title="Applications affected")
        for a in apps[:limit]:
            table.add_row(_t(a["criticality"] or "unset"), _t(a["state"], STATE_STYLE[a["state"]]),
                          _t(a["key"]), _t(a["name"]), _t(path_text(by_key[a["key"]]["path"])))
        print_table(table)
        if len(apps) > limit:
            console.print(_t(f"… {len(apps) - limit} more applications (--limit or --json)"))

    for state in ("down", "degraded"):
        rows = [a for a in result["affected"] if a["state"] == state and a["kind"] != "Application"]
        if not rows:
            continue
        table = Table("distance", "kind", "key", "name", "why", title=f"Other CIs {state}",
                      title_style=STATE_STYLE[state])
        for a in rows[:limit]:
            table.add_row(_t(a["distance"]), _t(a["kind"]), _t(a["key"]), _t(a["name"]),
                          _t(path_text(a["path"])))
        print_table(table)
        if len(rows) > limit:
            console.print(_t(f"… {len(rows) - limit} more {state} (--limit or --json)"))

    counts = Table("kind", "count", title="By kind")
    for kind, n in summary["by_kind"].items():
        counts.add_row(_t(kind), _t(n))
    print_table(counts)
    if summary["by_location"]:
        places = Table("site", "building", "affected", "down", "degraded", title="By location")
        for g in summary["by_location"]:
            places.add_row(_t(_place(g["site"])), _t(_place(g["building"])), _t(g["count"]),
                           _t(g["down"]), _t(g["degraded"]))
        print_table(places)


def _place(location: dict[str, Any] | None) -> str:
    if location is None:
        return "—"
    return f"{location['key']} ({location['name']})" if location.get("name") else location["key"]


def check_image_command(
    image: str = typer.Argument(..., help="The image the devices run now"),
    to: Optional[str] = typer.Option(None, "--to", help="The image to roll out instead"),
    values: list[str] = typer.Option([], "--set", "-s", help="A requirement to use instead, e.g. "
                                     "min_ram_gb=8 or supported_models='OptiPlex 7010,OptiPlex 7090'"),
    as_json: bool = JSON_OPTION,
):
    """Can every device built from IMAGE carry the new image (or requirements)?"""
    from cmdb.impact.compatibility import check_image_change

    with open_graph() as graph:
        result = check_image_change(graph, image, to, parse_assignments(values))
    if as_json:
        print_json(result)
        return
    target = result["new_image"] or result["image"]
    s = result["summary"]
    console.print(_t(f"{s['devices']} device(s) built from {result['image']['key']} checked against "
                     f"{target['key']}: {s['pass']} pass, {s['fail']} fail, {s['unknown']} unknown",
                     "bold"))
    console.print(_t("requirements: " + ", ".join(f"{k}={v}" for k, v in result["requirements"].items()
                                                  if v not in (None, []))))
    table = Table("verdict", "device", "name", "model", "cpu", "ram", "disk", "model ok", "applications")
    for d in result["devices"]:
        checks = {c["requirement"]: c for c in d["checks"]}
        table.add_row(_t(d["verdict"], VERDICT_STYLE[d["verdict"]]), _t(d["key"]), _t(d["name"]),
                      _t(d["model"]), *(_check_cell(checks[r]) for r in
                                       ("min_cpu_cores", "min_ram_gb", "min_disk_gb", "supported_models")),
                      _t(", ".join(d["applications"])))
    print_table(table)


def _check_cell(c: dict[str, Any]) -> Text:
    if c["result"] == "not_required":
        return _t("—", "dim")
    if c["requirement"] == "supported_models":
        return _t(c["result"], VERDICT_STYLE[c["result"]])
    actual = "?" if c["actual"] is None else c["actual"]
    return _t(f"{actual} ≥ {c['required']}: {c['result']}", VERDICT_STYLE[c["result"]])


def check_hardware_command(
    key: str = typer.Argument(..., help="The hardware that changes"),
    values: list[str] = typer.Option([], "--set", "-s", help="The new configuration, e.g. ram_gb=8, "
                                     "model='OptiPlex 7090' (repeatable)"),
    as_json: bool = JSON_OPTION,
):
    """Would the images and applications on KEY still fit its new configuration?"""
    from cmdb.impact.compatibility import check_hardware_change

    with open_graph() as graph:
        result = check_hardware_change(graph, key, parse_assignments(values))
    if as_json:
        print_json(result)
        return
    s = result["summary"]
    changes = ", ".join(f"{k}={v}" for k, v in result["changes"].items())
    console.print(_t(f"{result['hardware']['key']} with {changes}: {s['verdict']}", "bold"))
    if not result["images"]:
        console.print(_t("No image is recorded on this hardware (nothing to check)."))
    table = Table("image", "name", "before", "after", "cpu", "ram", "disk", "model ok", title="Images")
    for i in result["images"]:
        checks = {c["requirement"]: c for c in i["checks"]}
        table.add_row(_t(i["key"]), _t(i["name"]), _t(i["verdict_before"], VERDICT_STYLE[i["verdict_before"]]),
                      _t(i["verdict"], VERDICT_STYLE[i["verdict"]]),
                      *(_check_cell(checks[r]) for r in
                        ("min_cpu_cores", "min_ram_gb", "min_disk_gb", "supported_models")))
    if result["images"]:
        print_table(table)
    if result["applications"]:
        apps = Table("application", "name", "criticality", "verdict", title="Applications on it")
        for a in result["applications"]:
            apps.add_row(_t(a["key"]), _t(a["name"]), _t(a["criticality"] or "unset"),
                         _t(a["verdict"], VERDICT_STYLE[a["verdict"]]))
        print_table(apps)


def register(app: typer.Typer) -> None:
    app.command("impact")(reports_errors(impact_command))
    app.command("check-image")(reports_errors(check_image_command))
    app.command("check-hardware")(reports_errors(check_hardware_command))
