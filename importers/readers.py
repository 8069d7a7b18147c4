"""Read .xlsx/.xls/.ods/.csv into sheets of text cells, refusing dangerous or broken files.

Every cell comes back as text: asset tags keep leading zeros (they are text in the file)
and a number Excel stores as 1.0 comes back as ``1``. Row ``i`` of a sheet (0-based) is
row ``i + 1`` as the user sees it in the spreadsheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import math
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cmdb.errors import InvalidInput, TooLarge
from cmdb.i18n import _
from cmdb.settings import Settings, get_settings
from importers.headings import known_heading_count
from importers.isolation import run_isolated

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Sheet XML of real registers compresses 5-50x; zip bombs reach 1000x and more.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_FROM_BYTES = 1_000_000
MAX_ZIP_MEMBERS = 10_000
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt", ".tsv")


@dataclass
class RawSheet:
    name: str
    rows: list[list[str]]
    kind: str | None = None   # set by presets that know what a file holds


class UnreadableFile(InvalidInput):
    code = "unreadable_file"


def read_file(source: str | Path | bytes, *, name: str | None = None, sheet: str | None = None,
              settings: Settings | None = None, encoding: str | None = None) -> list[RawSheet]:
    """Read every sheet (or only ``sheet``) of a spreadsheet file or its bytes; ``encoding``
    is that of a CSV file (detected when None)."""
    settings = settings or get_settings()
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        try:
            size = path.stat().st_size
        except OSError as e:
            raise InvalidInput(_("Cannot open %(name)s: %(reason)s", name=name, reason=e.strerror or e),
                               field="file", value=str(path)) from None
        check_size(size, name, settings)
        data = path.read_bytes()
    else:
        data = bytes(source)
        name = name or "upload"
        check_size(len(data), name, settings)
    return run_isolated(parse_bytes, (data, name, sheet, settings, encoding), name=name,
                        memory_mb=settings.max_parse_memory_mb,
                        seconds=settings.max_parse_seconds)


def parse_bytes(data: bytes, name: str, sheet: str | None, settings: Settings,
                encoding: str | None = None) -> list[RawSheet]:
    """The sheets of a file's bytes. Runs in the parsing child process (``importers.isolation``)."""
    fmt = detect_format(data, name)
    if fmt in ("xlsx", "ods"):
        check_zip(data, name, settings)
    if fmt == "xlsx":
        check_dimensions(data, name, settings)
    if fmt == "csv":
        sheets = [RawSheet(Path(name).stem, read_csv_rows(data, name, encoding))]
    else:
        sheets = read_workbook_rows(data, name, fmt)
    if sheet is not None:
        chosen = [s for s in sheets if s.name == sheet or s.name.strip().lower() == sheet.strip().lower()]
        if not chosen:
            raise InvalidInput(_("%(name)s has no sheet %(sheet)r; its sheets are: %(sheets)s",
                                 name=name, sheet=sheet, sheets=", ".join(s.name for s in sheets)),
                               field="sheet", value=sheet, allowed=[s.name for s in sheets])
        sheets = chosen
    return sheets


def check_size(size: int, name: str, settings: Settings) -> None:
    if size == 0:
        raise InvalidInput(_("%(name)s is empty (0 bytes); nothing to import", name=name), field="file", value=name)
    if size > settings.max_upload_bytes:
        raise TooLarge(_("%(name)s is %(size)s bytes; the limit is %(limit)s bytes "
                         "(CMDB_MAX_UPLOAD_BYTES). Split the file or raise the limit.",
                         name=name, size=f"{size:,}", limit=f"{settings.max_upload_bytes:,}"),
                       {"field": "file", "value": size, "allowed": settings.max_upload_bytes})


def detect_format(data: bytes, name: str) -> str:
    """By content, not by the file name: "xlsx", "ods", "xls" or "csv"."""
    if data.startswith(ZIP_MAGIC):
        if data[30:38] == b"mimetype" and ODS_MIMETYPE in data[38:120]:
            return "ods"
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        # Office encrypts password-protected .xlsx files into an OLE2 container holding
        # "EncryptionInfo" and "EncryptedPackage" streams (names in UTF-16).
        if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            raise UnreadableFile(_("%(name)s is password-protected; remove the password in Excel "
                                   "(File > Info > Protect Workbook) and import it again", name=name),
                                 field="file", value=name)
        return "xls"
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".ods", ".xls"):
        raise UnreadableFile(_("%(name)s is not a valid %(format)s file (it may be damaged or "
                               "be another format renamed)", name=name, format=suffix[1:]), field="file", value=name)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(_("%(name)s is not a spreadsheet or CSV file (binary content)", name=name),
                             field="file", value=name, allowed="xlsx, xls, ods, csv")
    return "csv"


def check_zip(data: bytes, name: str, settings: Settings) -> None:
    """Refuse archives that would expand past the limit before anything decompresses them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnreadableFile(_("%(name)s is damaged: its zip structure cannot be read", name=name),
                             field="file", value=name) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise TooLarge(_("%(name)s holds %(count)s parts; at most %(limit)s allowed", name=name,
                         count=f"{len(members):,}", limit=f"{MAX_ZIP_MEMBERS:,}"),
                       {"field": "file", "value": len(members), "allowed": MAX_ZIP_MEMBERS})
    total = 0
    for m in members:
        total += m.file_size
        if m.file_size >= RATIO_CHECK_FROM_BYTES:
            ratio = m.file_size / max(m.compress_size, 1)
            if ratio > MAX_COMPRESSION_RATIO:
                raise TooLarge(_("%(name)s looks like a zip bomb: part %(part)r expands %(ratio)s "
                                 "times (to %(size)s bytes); at most %(limit)s times allowed",
                                 name=name, part=m.filename, ratio=f"{ratio:,.0f}",
                                 size=f"{m.file_size:,}", limit=MAX_COMPRESSION_RATIO),
                               {"field": "file", "value": m.filename, "allowed": MAX_COMPRESSION_RATIO})
    if total > settings.max_unzipped_bytes:
        raise TooLarge(_("%(name)s expands to %(size)s bytes; the limit is %(limit)s bytes "
                         "(CMDB_MAX_UNZIPPED_BYTES)", name=name, size=f"{total:,}",
                         limit=f"{settings.max_unzipped_bytes:,}"),
                       {"field": "file", "value": total, "allowed": settings.max_unzipped_bytes})


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s[^>]*?\bref\s*=\s*["\']([^"\']{1,40})["\']')
_CELL_REF = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br\s*=\s*["\']([A-Za-z]{1,4})([0-9]{1,8})["\']')
_SCAN_CHUNK = 1 << 20


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _sheet_names_by_part(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part path (lower case) -> the sheet's name as Excel shows it."""
    try:
        workbook = zf.read("xl/workbook.xml")[:2_000_000].decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels")[:2_000_000].decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return {}
    targets = {}
    for rel in re.finditer(r"<(?:\w+:)?Relationship\s[^>]*>", rels):
        rid = re.search(r'\bId="([^"]*)"', rel.group(0))
        target = re.search(r'\bTarget="([^"]*)"', rel.group(0))
        if rid and target:
            path = target.group(1).lstrip("/")
            targets[rid.group(1)] = (path if path.startswith("xl/") else "xl/" + path).lower()
    names = {}
    for sheet in re.finditer(r"<(?:\w+:)?sheet\s[^>]*>", workbook):
        name = re.search(r'\bname="([^"]*)"', sheet.group(0))
        rid = re.search(r'\b\w+:id="([^"]*)"', sheet.group(0))
        if name and rid and rid.group(1) in targets:
            names[targets[rid.group(1)]] = html.unescape(name.group(1))
    return names


def check_dimensions(data: bytes, name: str, settings: Settings) -> None:
    """Refuse a sheet whose used area (declared, or spanned by its cells) holds more cells than
    allowed, before a reader allocates it as one dense grid: one cell in A1 and one in
    XFD200000 make 3.3 billion."""
    limit = settings.max_sheet_cells
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet_names = _sheet_names_by_part(zf)
        for member in zf.infolist():
            if not re.fullmatch(r"xl/(?:worksheets|chartsheets|dialogsheets)/[^/]+\.xml",
                                member.filename, re.IGNORECASE):
                continue
            rows = columns = 0
            tail = b""
            with zf.open(member) as stream:
                while chunk := stream.read(_SCAN_CHUNK):
                    text = tail + chunk
                    for found in _DIMENSION.finditer(text):
                        for ref in found.group(1).split(b":"):
                            cell = re.fullmatch(rb"\$?([A-Za-z]{1,4})\$?([0-9]{1,8})", ref)
                            if cell:
                                columns = max(columns, _column_number(cell.group(1)))
                                rows = max(rows, int(cell.group(2)))
                    for found in _CELL_REF.finditer(text):
                        columns = max(columns, _column_number(found.group(1)))
                        rows = max(rows, int(found.group(2)))
                    tail = text[-200:]  # a tag cut at the chunk boundary is seen whole next time
            if rows * columns > limit:
                sheet = sheet_names.get(member.filename.lower(), Path(member.filename).stem)
                sizes = {"columns": f"{columns:,}", "rows": f"{rows:,}",
                         "cells": f"{rows * columns:,}", "limit": f"{limit:,}"}
                raise TooLarge(
                    _("%(name)s: %(sheet)s spans %(columns)s columns x %(rows)s rows = "
                      "%(cells)s cells; at most %(limit)s allowed (CMDB_MAX_SHEET_CELLS). "
                      "Delete the empty rows and columns between the data and the far cells, or "
                      "split the file.", name=name, sheet=sheet, **sizes),
                    {"field": "file", "value": name, "sheet": sheet, "rows": rows,
                     "columns": columns, "allowed": limit})


def read_workbook_rows(data: bytes, name: str, fmt: str) -> list[RawSheet]:
    try:
        frames: dict[str, pd.DataFrame] = pd.read_excel(
            io.BytesIO(data), sheet_name=None, header=None, dtype=object,
            keep_default_na=False, na_filter=False, engine="calamine")
    except Exception as e:  # calamine raises its own error types for every kind of damage
        text = str(e)
        if "password" in text.lower() or "encrypt" in text.lower():
            raise UnreadableFile(_("%(name)s is password-protected; remove the password and import it "
                                   "again", name=name),
                                 field="file", value=name) from None
        raise UnreadableFile(_("%(name)s cannot be read as %(format)s: it may be damaged (%(reason)s)",
                               name=name, format=fmt, reason=_short(text)),
                             field="file", value=name) from None
    return [RawSheet(str(sheet_name), [[cell_text(c) for c in row] for row in frame.itertuples(index=False, name=None)])
            for sheet_name, frame in frames.items()]


def cell_text(value: Any) -> str:
    """One workbook cell as the text the user typed or sees."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (dt.timedelta, pd.Timedelta)):
        return str(value)
    return str(value)


# ---------------------------------------------------------------------------------------
# CSV


# Encodings ``--encoding`` accepts, by the names people use for them -> Python's codec.
ENCODINGS = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig",
    "gbk": "gbk", "gb2312": "gbk", "gb18030": "gb18030", "cp936": "gbk",
    "big5": "big5", "big5-hkscs": "big5hkscs", "cp950": "cp950",
    "utf-16": "utf-16", "utf16": "utf-16", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be",
    "windows-1252": "cp1252", "cp1252": "cp1252", "latin-1": "latin-1", "iso-8859-1": "latin-1",
    "mac-roman": "mac_roman", "macroman": "mac_roman", "macintosh": "mac_roman",
    "x-mac-roman": "mac_roman",
}
ENCODING_NAMES = ("utf-8", "gbk", "gb18030", "big5", "utf-16", "windows-1252", "mac-roman")


def codec_for(encoding: str) -> str:
    """The codec of an encoding named by the user, or a clear refusal."""
    codec = ENCODINGS.get(encoding.strip().lower().replace("_", "-"))
    if codec is None:
        raise InvalidInput(_("Unknown encoding %(encoding)r; allowed: %(allowed)s", encoding=encoding,
                             allowed=", ".join(ENCODING_NAMES)),
                           field="encoding", value=encoding, allowed=list(ENCODING_NAMES))
    return codec


def decode_as(data: bytes, name: str, encoding: str) -> str:
    """Decode with the encoding the user gave, naming where the bytes do not fit it."""
    codec = codec_for(encoding)
    if codec in ("utf-8", "utf-8-sig", "gbk", "gb18030", "big5") and data.startswith(b"\xef\xbb\xbf"):
        codec, data = "utf-8", data[3:]  # a BOM says more than the option
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as e:
        before = data[:e.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = before.count(b"\n") + 1
        raise UnreadableFile(_("%(name)s is not %(encoding)s text: the bytes at line %(line)s "
                               "(%(bytes)s) are not valid %(encoding)s; leave out --encoding to "
                               "have it detected", name=name, encoding=encoding, line=line,
                               bytes=data[e.start:e.start + 4].hex(" ")),
                             field="encoding", value=encoding, allowed=list(ENCODING_NAMES)) from None
    return text.lstrip("\ufeff")


def decode_text(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode CSV bytes as ``encoding``, or detect it: UTF-8 (with or without BOM), UTF-16
    with BOM, GB18030/GBK, Big5, then Windows-1252 or Mac Roman for Western text."""
    if encoding:
        return decode_as(data, name, encoding), codec_for(encoding)
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: dict[str, str] = {}
    for enc in ("gb18030", "big5"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _looks_chinese(text[:CJK_SAMPLE_CHARS]):
            candidates[enc] = text
    if not candidates:
        return _decode_western(data, name)
    if len(candidates) == 1:
        enc = next(iter(candidates))
        return candidates[enc], enc
    # Both decode. Prefer the one whose heading row names known columns; otherwise GB text
    # read as GB is almost all GB2312 ideographs, while Big5 read as GB is not.
    scores = {enc: known_heading_count(_first_line(text)) for enc, text in candidates.items()}
    if scores["gb18030"] != scores["big5"]:
        enc = max(scores, key=scores.__getitem__)
        return candidates[enc], enc
    enc = "gb18030" if _gb2312_share(candidates["gb18030"]) >= 0.9 else "big5"
    return candidates[enc], enc


CJK_SAMPLE_CHARS = 200_000
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3000 <= o <= 0x303F
            or 0xFF00 <= o <= 0xFFEF or 0xF900 <= o <= 0xFAFF)


def _looks_chinese(text: str) -> bool:
    """Western bytes (``Café,`` in Windows-1252) can decode as GBK or Big5, but then give
    lone ideographs between Latin letters; Chinese text has ideographs next to each other."""
    non_ascii = [i for i, ch in enumerate(text) if ord(ch) > 127]
    if not non_ascii:
        return True
    cjk = [i for i in non_ascii if _is_cjk(text[i])]
    if len(cjk) < 0.9 * len(non_ascii):
        return False
    paired = sum(1 for i in cjk if (i > 0 and _is_cjk(text[i - 1]))
                 or (i + 1 < len(text) and _is_cjk(text[i + 1])))
    return paired >= 0.5 * len(cjk)


# Windows-1252 and Mac Roman both decode most bytes; the right one gives letters where
# words have them and the usual typographic marks, the wrong one symbols and capitals
# in the middle of words.
_WESTERN_MARKS = set("’‘“”–—…€£¥¢°©®™•§«»·")


def _western_score(text: str) -> int:
    score = 0
    for m in _NON_ASCII.finditer(text):
        i, ch = m.start(), m.group()
        before = text[i - 1] if i else " "
        if ch.islower():
            score += 2
        elif ch.isupper():
            score += -1 if before.isalpha() and before.islower() else 1
        elif ch in _WESTERN_MARKS:
            score += 1
        else:
            score -= 2
    return score


def _decode_western(data: bytes, name: str) -> tuple[str, str]:
    scored = []
    for enc in ("cp1252", "mac_roman"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        scored.append((_western_score(text), enc, text))
    best = max(scored, key=lambda s: s[0])  # mac_roman decodes any bytes; ties go to cp1252
    if best[0] < 0:
        raise UnreadableFile(_("%(name)s: cannot tell its text encoding; save it as UTF-8 CSV "
                               "(Excel: Save As > CSV UTF-8) or name it with --encoding", name=name),
                             field="file", value=name, allowed=list(ENCODING_NAMES))
    return best[2], best[1]


def normalise_line_ends(text: str) -> str:
    """Lone CR line ends (classic Mac, Excel for Mac) become LF. Files with LF or CR LF line
    ends are left as they are: the CSV parsers take both, and a CR inside a quoted cell of
    such a file is part of the cell."""
    return text.replace("\r", "\n") if "\r" in text and "\n" not in text else text


def _first_line(text: str) -> list[str]:
    line = text.lstrip("\r\n").split("\n", 1)[0]
    return [c.strip().strip('"') for c in line.replace(";", ",").replace("\t", ",").split(",")]


def _gb2312_share(text: str) -> float:
    non_ascii = [ch for ch in text if ord(ch) > 127]
    if not non_ascii:
        return 1.0
    good = 0
    for ch in non_ascii:
        try:
            b = ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        if b[0] >= 0xB0 or b[0] in (0xA1, 0xA3):  # ideographs and common punctuation
            good += 1
    return good / len(non_ascii)


def read_csv_rows(data: bytes, name: str, encoding: str | None = None) -> list[list[str]]:
    text, _encoding = decode_text(data, name, encoding)
    text = normalise_line_ends(text)
    delimiter = _sniff_delimiter(text)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str,
                            keep_default_na=False, na_filter=False, skip_blank_lines=False,
                            engine="c")
        rows = [list(r) for r in frame.itertuples(index=False, name=None)]
    except pd.errors.ParserError:
        # Ragged rows (a trailing delimiter on some lines): the csv module takes them as they are.
        rows = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except pd.errors.EmptyDataError:
        return []
    return [["" if c is None else str(c) for c in r] for r in rows]


def _sniff_delimiter(text: str) -> str:
    head = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: head.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def is_spreadsheet_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in SPREADSHEET_SUFFIXES
