"""``cmdb labels``: print QR asset labels to a file or straight to a Zebra printer."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cmdb.cli_support import JSON_OPTION, cli_actor, console, open_graph, print_json, reports_errors
from cmdb.errors import InvalidInput
from cmdb.i18n import _, N_
from cmdb.settings import get_settings

# Each command imports the modules it needs when it runs, so that every `cmdb` command (and
# --help) starts without loading pandas, FastAPI and every domain (start-up time).


def labels_command(
    keys: Optional[list[str]] = typer.Argument(None, metavar="KEY...", help=N_("CIs to label")),
    location: Optional[str] = typer.Option(None, "--location", help=N_("Every CI in this location's "
                                           "subtree (site, building, room, rack)")),
    kind: Optional[str] = typer.Option(None, "--kind", help=N_("Only CIs of this kind")),
    category: Optional[str] = typer.Option(None, "--category", help=N_("Only hardware of this "
                                           "category (server, switch, …)")),
    unlabelled: bool = typer.Option(False, "--unlabelled", help=N_("Only CIs whose label was never "
                                    "printed")),
    fmt: str = typer.Option("pdf", "--format", help=N_("pdf (sheets), png (a file per label: "
                            "NAME-KEY.png beside -o, or KEY.png in a folder) or zpl (Zebra)")),
    template: str = typer.Option("avery-l7651", "--template", help=N_("avery-l7651, avery-l7160, "
                                 "avery-5160, or a JSON/YAML file of millimetre dimensions")),
    skip: int = typer.Option(0, "--skip", min=0, help=N_("Labels already used on the first sheet")),
    dpi: Optional[int] = typer.Option(None, "--dpi", help=N_("Resolution: 300 for PDF/PNG; printer "
                                      "dpi 203/300/600 for ZPL")),
    size: Optional[str] = typer.Option(None, "--size", help=N_("Label size WxH in mm for ZPL or PNG "
                                       "(ZPL default 50.8x25.4)")),
    error_correction: str = typer.Option("Q", "--error-correction", help=N_("QR level L, M, Q or H")),
    printer_font: Optional[str] = typer.Option(None, "--printer-font", help=N_("ZPL: a CJK font "
                                               "stored on the printer, e.g. E:ANMDJ.TTF (without "
                                               "one, text the printer's font 0 lacks is sent as "
                                               "graphics)")),
    printer: Optional[str] = typer.Option(None, "--print", help=N_("Send ZPL to tcp://HOST:9100")),
    timeout: float = typer.Option(10.0, "--timeout", help=N_("Seconds to wait for the printer")),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help=N_("File to write")),
    as_json: bool = JSON_OPTION,
):
    from cmdb.labels.printer import parse_printer_url, send_zpl
    from cmdb.labels.service import (
        LabelJob, Selection, mark_printed, render, render_each_png, select,
    )

    if printer:
        parse_printer_url(printer)
        if fmt.lower() != "zpl":
            raise InvalidInput(_("--print sends ZPL: use it with --format zpl"), field="format",
                               value=fmt, allowed=["zpl"])
    elif output is None:
        raise InvalidInput(_("Say where the labels go: -o FILE or --print tcp://HOST:9100"),
                           field="output")
    selection = Selection(tuple(keys or ()), location, kind, category, unlabelled)
    job = LabelJob(format=fmt, template=template, skip=skip, dpi=dpi, size=size,
                   error_correction=error_correction, printer_font=printer_font)
    settings = get_settings()
    with open_graph() as graph:
        labels = select(graph, selection)
        if fmt.lower() == "png" and output is not None and (len(labels) > 1 or output.is_dir()):
            results = render_each_png(labels, job, settings)
            files = png_files(output, [r.keys[0] for r in results])
            for result, path in zip(results, files):
                path.write_bytes(result.data)
            keys, extension, written = [k for r in results for k in r.keys], "png", files
            size = sum(len(r.data) for r in results)
        else:
            result = render(labels, job, settings)
            if output is not None:
                output.write_bytes(result.data)
            if printer:
                send_zpl(printer, result.data, timeout=timeout)
            keys, extension, size = result.keys, result.extension, len(result.data)
            written = [output] if output is not None else []
        mark_printed(graph, keys, actor=cli_actor())
    summary = {"labels": len(keys), "format": extension, "keys": keys,
               "output": str(output) if output else None,
               "files": [str(path) for path in written], "printer": printer, "bytes": size}
    if as_json:
        print_json(summary)
    else:
        where = _(" and ").join(x for x in (str(output) if len(written) == 1 else "", printer or "")
                                if x)
        if len(written) > 1:
            where = _("%(n)s files: ", n=len(written)) + ", ".join(str(path) for path in written)
        console.print(_("%(n)s label(s) as %(format)s to %(where)s", n=len(keys),
                        format=extension.upper(), where=where), markup=False, highlight=False)


def png_files(output: Path, keys: list[str]) -> list[Path]:
    """Where a PNG per label goes: ``KEY.png`` inside a folder, else ``NAME-KEY.png`` beside -o."""
    if output.is_dir():
        return [output / f"{key}.png" for key in keys]
    stem = output.name[: -len(output.suffix)] if output.suffix else output.name
    return [output.with_name(f"{stem}-{key}.png") for key in keys]


def register(app: typer.Typer) -> None:
    app.command("labels", help=N_("Print QR asset labels; records label_printed_at on each CI "
                                  "printed."))(reports_errors(labels_command))
