"""``cmdb image …``: lineage, devices still on a superseded image, devices past end of support."""

from __future__ import annotations

from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from cmdb.cli_support import JSON_OPTION, console, open_graph, print_json, print_table, reports_errors
from cmdb.i18n import _, N_, names, ngettext, pgettext

image_app = typer.Typer(no_args_is_help=True,
                        help=N_("Standard images: lineage, superseded images, end of support."))

SITE_OPTION = typer.Option(None, "--site", help=N_("Only devices in this site (a location key)"))
CATEGORY_OPTION = typer.Option(None, "--category", help=N_("Only devices of this category, e.g. pc"))


def _row(table: Table, *cells: Any) -> None:
    table.add_row(*(Text("" if c is None else str(c)) for c in cells))


@image_app.command("lineage", help=N_("What an image supersedes and what supersedes it."))
@reports_errors
def lineage_command(key: str = typer.Argument(..., help=N_("A SoftwareImage key")), as_json: bool = JSON_OPTION):
    from cmdb.images.lineage import lineage

    with open_graph() as graph:
        result = lineage(graph, key)
    if as_json:
        print_json(result)
        return
    image = result["image"]
    support = image['end_of_support'] or '—'
    if result['past_end_of_support']:
        support = _("%(date)s, past", date=support)
    console.print(Text(_("%(key)s %(name)s (end of support %(support)s; %(devices)s)", key=image['key'],
                         name=image['name'] or '', support=support,
                         devices=ngettext("%(num)s device", "%(num)s devices", result['devices']))))
    console.print(Text(_("supersedes: %(keys)s", keys=', '.join(result['supersedes']) or '—')))
    console.print(Text(_("superseded by: %(keys)s", keys=', '.join(result['superseded_by']) or _('— (current)'))))


def _devices(result: dict[str, Any], title: str) -> None:
    console.print(Text(title
                       + (": " + ", ".join(f"{s} {n}" for s, n in result["by_site"].items()) if result["total"] else "")))
    if result["devices"]:
        table = Table(pgettext("heading", "device"), pgettext("heading", "name"), pgettext("heading", "category"),
                      pgettext("heading", "status"), pgettext("heading", "site"), pgettext("heading", "image"),
                      pgettext("heading", "end of support"), pgettext("heading", "superseded by"))
        for d in result["devices"]:
            _row(table, d["key"], d["name"], names.category_name(d["category"]), names.status_name(d["status"]),
                 d["site"], d["image"],
                 d["end_of_support"], ", ".join(d["superseded_by"]))
        print_table(table)


@image_app.command("superseded", help=N_("Devices in service still on an image that another image "
                                         "supersedes."))
@reports_errors
def superseded_command(site: Optional[str] = SITE_OPTION, category: Optional[str] = CATEGORY_OPTION,
                       as_json: bool = JSON_OPTION):
    from cmdb.images.lineage import on_superseded_images

    with open_graph() as graph:
        result = on_superseded_images(graph, site=site, category=category)
    if as_json:
        print_json(result)
        return
    _devices(result, ngettext("%(num)s device still on a superseded image",
                              "%(num)s devices still on a superseded image", result["total"]))


@image_app.command("past-support", help=N_("Devices in service on an image whose end of support is"
                                           " before a day."))
@reports_errors
def past_support_command(on: Optional[str] = typer.Option(None, "--on", help=N_("Compare with this day "
                                                          "(YYYY-MM-DD; default today)")),
                         site: Optional[str] = SITE_OPTION, category: Optional[str] = CATEGORY_OPTION,
                         as_json: bool = JSON_OPTION):
    from cmdb.images.lineage import past_end_of_support

    with open_graph() as graph:
        result = past_end_of_support(graph, on=on, site=site, category=category)
    if as_json:
        print_json(result)
        return
    _devices(result, ngettext("%(num)s device on an image past its end of support on %(date)s",
                              "%(num)s devices on an image past its end of support on %(date)s",
                              result["total"], date=result["on"]))


def register(app: typer.Typer) -> None:
    app.add_typer(image_app, name="image")
