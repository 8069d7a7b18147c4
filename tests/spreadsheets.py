"""Workbooks built in memory for the import tests."""

from __future__ import annotations

import io

import openpyxl


def xlsx_bytes(rows_by_sheet: dict[str, list[list]]) -> bytes:
    """An .xlsx file with one sheet per entry, rows as given (first row = headings)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in rows_by_sheet.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
