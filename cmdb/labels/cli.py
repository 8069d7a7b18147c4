"""``cmdb labels``: print QR asset labels to a file or straight to a Zebra printer."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cmdb.cli_support import JSON_OPTION, cli_actor, console, open_graph, print_json, reports_errors


def labels_command(
    keys: Optional[list[str]] = typer.Argument(None, metavar="KEY...", help="CIs to label"),
    location: Optional[str] = typer.Option(None, "--location", help="Every CI in this location's "
                                           "subtree (site, building, room, rack)"),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only CIs of this kind"),
    category: Optional[str] = typer.Option(None, "--category", help="Only hardware of this "
                                           "category (server, switch, …)"),
    unlabelled: bool = typer.Option(False, "--unlabelled", help="Only CIs whose label was never "
                                    "printed"),
    fmt: str = typer.Option("pdf", "--format", help="pdf (sheets), png (one label) or zpl (Zebra)"),
    template: str = typer.Option("avery-l7651", "--template", help="avery-l7651, avery-l7160, "
                                 "avery-5160, or a JSON/YAML file of millimetre dimensions"),
    skip: int = typer.Option(0, "--skip", min=0, help="Labels already used on the first sheet"),
    dpi: Optional[int] = typer.Option(None, "--dpi", help="Resolution: 300 for PDF/PNG; printer "
                                      "dpi 203/300/600 for ZPL"),
    size: Optional[str] = typer.Option(None, "--size", help="Label size WxH in mm for ZPL or PNG "
                                       "(ZPL default 50.8x25.4)"),
    error_correction: str = typer.Option("Q", "--error-correction", help="QR level L, M, Q or H"),
    printer_font: Optional[str] = typer.Option(None, "--printer-font", help="ZPL: a font stored "
                                               "on the printer for non-Latin text, e.g. "
                                               "E:ANMDJ.TTF"),
    printer: Optional[str] = typer.Option(None, "--print", help="Send ZPL to tcp://HOST:9100"),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds to wait for the printer"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File to write"),
    as_json: bool = JSON_OPTION,
):
    """Print QR asset labels; records label_printed_at on each CI printed."""
    from cmdb.errors import InvalidInput
    from cmdb.labels.printer import parse_printer_url, send_zpl
    from cmdb.labels.service import LabelJob, Selection, mark_printed, render, select
    from cmdb.settings import get_settings

    if printer:
        parse_printer_url(printer)
        if fmt.lower() != "zpl":
            raise InvalidInput("--print sends ZPL: use it with --format zpl", field="format",
                               value=fmt, allowed=["zpl"])
    elif output is None:
        raise InvalidInput("Say where the labels go: -o FILE or --print tcp://HOST:9100",
                           field="output")
    selection = Selection(tuple(keys or ()), location, kind, category, unlabelled)
    job = LabelJob(format=fmt, template=template, skip=skip, dpi=dpi, size=size,
                   error_correction=error_correction, printer_font=printer_font)
    settings = get_settings()
    with open_graph() as graph:
        result = render(select(graph, selection), job, settings)
        if output is not None:
            output.write_bytes(result.data)
        if printer:
            send_zpl(printer, result.data, timeout=timeout)
        mark_printed(graph, result.keys, actor=cli_actor())
    summary = {"labels": len(result.keys), "format": result.extension, "keys": result.keys,
               "output": str(output) if output else None, "printer": printer,
               "bytes": len(result.data)}
    if as_json:
        print_json(summary)
    else:
        where = " and ".join(x for x in (str(output) if output else "", printer or "") if x)
        console.print(f"{len(result.keys)} label(s) as {result.extension.upper()} to {where}",
                      markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("labels")(reports_errors(labels_command))
