"""Export the register as a workbook (or CSV files) that ``cmdb import`` reads back unchanged.

One sheet per kind with the key, every user property (custom fields included, headed by their
names; categories by their keys) and the single-valued relationships
as columns (``location``, ``image``), plus a ``Relationships`` sheet (from, type, to) with
the many-valued ones. Text that a spreadsheet program would run as a formula (starting with
= + - @ tab CR LF) is prefixed with an apostrophe; the importer removes that prefix again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter

from cmdb.errors import InvalidInput
from cmdb.i18n import _
from cmdb.graph import Graph
from cmdb.graph import imports as graph_imports
from cmdb.graph.schema import INT, KINDS, NUMBER, STR_LIST
from importers.headings import RELATIONSHIPS_SHEET
from importers.mapping import parse_kind
from importers.values import neutralise

COLUMN_RELATIONSHIPS = {"LOCATED_IN": "location", "RUNS_IMAGE": "image"}  # single-valued
KIND_COLUMNS = {"Hardware": ("location", "image"), "Location": ("location",)}


@dataclass
class Sheet:
    name: str
    headers: list[str]
    rows: list[list[Any]]


def collect(graph: Graph, kind: str | None = None) -> list[Sheet]:
    kinds = [KINDS[kind].label] if kind else list(KINDS)
    links = graph_imports.all_links(graph)
    single: dict[tuple[str, str], str] = {}
    others: list[tuple[str, str, str]] = []
    for a, t, b in links:
        if t in COLUMN_RELATIONSHIPS:
            single[(a, COLUMN_RELATIONSHIPS[t])] = b
        else:
            others.append((a, t, b))
    sheets: list[Sheet] = []
    exported: set[str] = set()
    words = graph.vocabulary()
    for label in kinds:
        node_kind = KINDS[label]
        props = [p for p in node_kind.properties if not p.system]
        props += [f.prop() for f in words.fields.get(label, {}).values()]
        rel_columns = KIND_COLUMNS.get(label, ())
        headers = ["key", *(p.name for p in props), *rel_columns]
        rows = []
        for key, values in graph_imports.cis_of_kind(graph, label):
            exported.add(key)
            row: list[Any] = [key]
            for p in props:
                v = values.get(p.name)
                if v is None:
                    row.append("")
                elif p.type == STR_LIST:
                    row.append("; ".join(str(x) for x in v))
                elif p.type in (INT, NUMBER) and isinstance(v, (int, float)) and not isinstance(v, bool):
                    row.append(v)
                elif isinstance(v, bool):
                    row.append("true" if v else "false")
                else:
                    row.append(str(v))
            row.extend(single.get((key, c), "") for c in rel_columns)
            rows.append(row)
        sheets.append(Sheet(label, headers, rows))
    rel_rows = sorted([a, t, b] for a, t, b in others if a in exported)
    sheets.append(Sheet(RELATIONSHIPS_SHEET, ["from", "type", "to"], rel_rows))
    return sheets


def _cell(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


def write_xlsx(sheets: list[Sheet], target: str | Path | BinaryIO) -> None:
    options = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
               "strings_to_urls": False}
    if not isinstance(target, (str, Path)):
        options["in_memory"] = True
        options.pop("constant_memory")
    workbook = xlsxwriter.Workbook(str(target) if isinstance(target, Path) else target, options)
    bold = workbook.add_format({"bold": True})
    for sheet in sheets:
        ws = workbook.add_worksheet(sheet.name)
        for c, h in enumerate(sheet.headers):
            ws.write_string(0, c, h, bold)
        ws.freeze_panes(1, 1)
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    if value:
                        ws.write_string(r, c, neutralise(value))
                else:
                    ws.write_number(r, c, value)
    workbook.close()


def write_csv(sheets: list[Sheet], target: Path) -> list[Path]:
    """One CSV (UTF-8 with BOM, which Excel opens correctly) per sheet; with one sheet the
    file is ``target`` itself, else ``<stem>_<Sheet>.csv`` next to it."""
    written = []
    for sheet in sheets:
        path = target if len(sheets) == 1 else target.with_name(f"{target.stem}_{sheet.name}.csv")
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(sheet.headers)
            for row in sheet.rows:
                w.writerow([_cell(v) for v in row])
        written.append(path)
    return written


def export_register(graph: Graph, target: str | Path, kind: str | None = None) -> dict[str, Any]:
    target = Path(target)
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InvalidInput(_("Cannot export to %(name)s: use a .xlsx or .csv file name",
                             name=target.name),
                           field="file", value=str(target), allowed=[".xlsx", ".csv"])
    if kind is not None:
        kind = parse_kind(kind)
        if kind == RELATIONSHIPS_SHEET:
            raise InvalidInput(_("--kind takes a CI kind; relationships are exported with their CIs"),
                               field="kind", value=kind, allowed=list(KINDS))
    sheets = collect(graph, kind)
    if suffix == ".xlsx":
        write_xlsx(sheets, target)
        files = [target]
    else:
        files = write_csv(sheets, target)
    return {"files": [str(f) for f in files],
            "sheets": {s.name: len(s.rows) for s in sheets}}


def export_xlsx_bytes(graph: Graph, kind: str | None = None) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(collect(graph, kind), buffer)
    return buffer.getvalue()
