"""Spreadsheet-specific value parsing, applied before the schema converts a value.

Registers typed by people hold dates in half a dozen forms, capacities with units and
status words in Chinese. These functions turn such text into what ``convert_value`` in
the schema accepts; anything they do not recognise is passed through unchanged so the
schema's own error (naming what is allowed) reaches the user.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from cmdb.graph import schema
from cmdb.i18n import _
from cmdb.graph.schema import BOOL, DATE, ENUM, INT, NUMBER, Prop

EXCEL_EPOCH = dt.date(1899, 12, 30)
# Excel serials for 1950-01-01 .. 2199-12-31: a bare number in a date column outside this
# range is more likely a typo than a date.
_SERIAL_MIN, _SERIAL_MAX = 18264, 109572

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_YMD = re.compile(r"(\d{4})\s*[/.年]\s*(\d{1,2})\s*[/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
_DMY = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4}|\d{2})"
                  r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?")
# Two-digit years as Excel and LibreOffice read them: 00-29 are 2000-2029, 30-99 1930-1999.
TWO_DIGIT_YEAR_PIVOT = 30
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")


def parse_date(text: str, *, dayfirst: bool = False) -> str:
    """``2026-01-05``, ``2026/1/5``, ``2026.1.5``, ``2026年1月5日``, ``05/01/2026`` and
    ``5/1/26`` (day first with ``dayfirst``, else month first), Excel serial ``46027``
    -> ``2026-01-05``.

    The day/month order is the one asked for, for every value: ``3/4/16`` is 4 March with
    month first and 3 April with day first, and ``1/23/23`` read day first is not a date
    rather than quietly swapped. Two-digit years pivot as spreadsheets do (``29`` is 2029,
    ``30`` is 1930). Returns the text unchanged when it is none of these, or the parts do
    not make a date (the schema then reports it)."""
    s = unicodedata.normalize("NFKC", text).strip()
    try:
        if m := _ISO.fullmatch(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        if m := _YMD.fullmatch(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        if m := _DMY.fullmatch(s):
            a, b, year = int(m[1]), int(m[2]), full_year(m[3])
            day, month = (a, b) if dayfirst else (b, a)
            return dt.date(year, month, day).isoformat()
        if _SERIAL.fullmatch(s):
            serial = float(s)
            if _SERIAL_MIN <= serial <= _SERIAL_MAX:
                return (EXCEL_EPOCH + dt.timedelta(days=int(serial))).isoformat()
    except ValueError:
        pass
    return text


def full_year(digits: str) -> int:
    year = int(digits)
    if len(digits) > 2:
        return year
    return year + (2000 if year < TWO_DIGIT_YEAR_PIVOT else 1900)


def date_order_problem(text: str, *, dayfirst: bool) -> str | None:
    """Why a day/month/year date is not a date in the order asked for, or None."""
    m = _DMY.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if not m:
        return None
    a, b = int(m[1]), int(m[2])
    day, month = (a, b) if dayfirst else (b, a)
    if 1 <= month <= 12:
        return None
    if dayfirst:
        return _("read day first (--dayfirst) its month would be %(month)s; every date of the file "
                 "is read the same way, so import it without --dayfirst if its dates are written "
                 "that way", month=month)
    return _("read month first its month would be %(month)s; every date of the file is read the "
             "same way, so import it with --dayfirst if its dates are written that way",
             month=month)


def add_months(date: dt.date, months: int) -> dt.date:
    """``2023-01-31`` + 1 month -> ``2023-02-28`` (the day is kept where the month has it)."""
    index = date.month - 1 + months
    year, month = date.year + index // 12, index % 12 + 1
    days = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(date.day, days))


_MONTHS = re.compile(r"(\d{1,4})\s*(?:months?|mos?\.?|m|个月|個月|月)?", re.I)


def parse_months(text: str) -> int | None:
    """``36``, ``36 months``, ``36个月`` -> 36; None for anything else."""
    m = _MONTHS.fullmatch(unicodedata.normalize("NFKC", text).strip())
    return int(m[1]) if m else None


_CURRENCY = re.compile(r"^(?:[A-Z]{3}\s*)?[$€£¥￥]?\s*|\s*(?:[$€£¥￥]|[A-Z]{3}|元)?$")


def parse_amount(text: str) -> str:
    """``$1,299.00``, ``1.299,00 €``, ``USD 1299``, ``¥8,000`` -> ``1299.00`` / ``8000``.

    Of ``,`` and ``.`` the last one is the decimal mark when both appear; a lone ``,``
    followed by exactly three digits groups thousands (``1,299``), otherwise it is the
    decimal mark (``12,50``). Unrecognised text passes through for the schema to report."""
    s = unicodedata.normalize("NFKC", text).strip()
    s = _CURRENCY.sub("", s).replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not re.fullmatch(r"[+-]?[\d.,]*\d[\d.,]*", s):
        return text
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif s.count(",") == 1 and not re.search(r",\d{3}$", s):
        s = s.replace(",", ".")
    else:
        s = s.replace(",", "")
    return s if re.fullmatch(r"[+-]?\d+(?:\.\d+)?", s) else text


_UNITS_GB = {
    "": 1, "g": 1, "gb": 1, "gib": 1, "t": 1024, "tb": 1024, "tib": 1024,
    "m": 1 / 1024, "mb": 1 / 1024, "mib": 1 / 1024, "p": 1024 ** 2, "pb": 1024 ** 2,
}
_CAPACITY = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_capacity_gb(text: str) -> str | int | float:
    """``16GB``, ``16 G``, ``1TB``, ``512 MB`` -> gigabytes. Unrecognised text passes through."""
    s = unicodedata.normalize("NFKC", text).strip().lower().replace(",", "")
    m = _CAPACITY.fullmatch(s)
    if not m or m[2] not in _UNITS_GB:
        return text
    value = float(m[1]) * _UNITS_GB[m[2]]
    value = round(value, 6)
    return int(value) if value.is_integer() else value


_CORES = re.compile(r"(\d+)\s*(?:c|cores?|核|vcpus?|cpus?)?", re.I)


def parse_count(text: str) -> str:
    """``8核`` / ``8 cores`` -> ``8``."""
    s = unicodedata.normalize("NFKC", text).strip()
    m = _CORES.fullmatch(s)
    return m[1] if m else text


# Words people write in status/type/criticality columns (a category's words are its record's
# synonyms, in the register), keyed by the
# normalised text (NFKC, lower case, spaces and dashes removed).
ENUM_WORDS: dict[str, dict[str, str]] = {
    "status": {
        # Simplified / Traditional Chinese
        "在用": "in_use", "使用中": "in_use", "使用": "in_use", "运行": "in_use", "運行": "in_use",
        "在线": "in_use", "在線": "in_use", "已部署": "in_use",
        "库存": "in_stock", "庫存": "in_stock", "闲置": "in_stock", "閒置": "in_stock",
        "閑置": "in_stock", "备用": "in_stock", "備用": "in_stock", "在库": "in_stock",
        "维修": "in_repair", "維修": "in_repair", "维修中": "in_repair", "維修中": "in_repair",
        "送修": "in_repair", "故障": "in_repair",
        "报废": "disposed", "報廢": "disposed", "已报废": "disposed", "已報廢": "disposed",
        "处置": "disposed", "處置": "disposed",
        "退役": "retired", "停用": "retired", "下线": "retired", "下線": "retired",
        "丢失": "missing", "遺失": "missing", "遗失": "missing", "丟失": "missing",
        "计划": "planned", "計劃": "planned", "规划": "planned", "規劃": "planned",
        "采购中": "planned", "採購中": "planned", "待采购": "planned",
        # English and tools' words
        "active": "in_use", "inuse": "in_use", "deployed": "in_use", "production": "in_use",
        "instock": "in_stock", "stock": "in_stock", "spare": "in_stock", "inventory": "in_stock",
        "available": "in_stock", "ready to deploy": "in_stock", "readytodeploy": "in_stock",
        "staged": "in_stock", "offline": "in_stock", "pending": "planned",
        "inrepair": "in_repair", "repair": "in_repair", "failed": "in_repair", "broken": "in_repair",
        "decommissioning": "retired", "archived": "retired",
        "lost": "missing", "stolen": "missing", "lost/stolen": "missing",
    },
    "type": {
        "区域": "region", "區域": "region", "地区": "region", "站点": "site", "站點": "site",
        "园区": "site", "園區": "site", "厂区": "site", "楼": "building", "大楼": "building",
        "大樓": "building", "楼宇": "building", "建筑": "building", "建築": "building",
        "楼层": "floor", "樓層": "floor", "层": "floor", "房间": "room", "房間": "room",
        "机房": "room", "機房": "room", "办公室": "room", "辦公室": "room", "分区": "area",
        "机柜": "rack", "機櫃": "rack", "机架": "rack", "機架": "rack", "cabinet": "rack",
    },
    "criticality": {
        "核心": "vip", "关键": "vip", "關鍵": "vip", "重要": "high", "高": "high",
        "一般": "standard", "标准": "standard", "標準": "standard", "普通": "standard",
        "中": "standard", "低": "low", "medium": "standard", "normal": "standard",
        "critical": "vip",
    },
}

CAPACITY_PROPS = frozenset({"ram_gb", "disk_gb", "min_ram_gb", "min_disk_gb"})
AMOUNT_PROPS = frozenset({"purchase_cost"})


def _word(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "").replace("-", "").replace("_", "")


def enum_word(prop: Prop, text: str) -> str:
    table = ENUM_WORDS.get(prop.name, {})
    w = _word(text)
    for choice in prop.choices:
        if w == choice.replace("_", ""):
            return choice
    if w in table:
        return table[w]
    raw = unicodedata.normalize("NFKC", text).strip().lower()
    return table.get(raw, text)


def prepare(prop: Prop, text: str, *, dayfirst: bool = False):
    """Spreadsheet text -> a value for ``schema.convert_value``."""
    if prop.type == DATE:
        return parse_date(text, dayfirst=dayfirst)
    if prop.name in AMOUNT_PROPS:
        return parse_amount(text)
    if prop.type == ENUM:
        return enum_word(prop, text)
    if prop.name in CAPACITY_PROPS:
        return parse_capacity_gb(text)
    if prop.type == INT:
        return parse_count(text)
    if prop.type == BOOL:
        return parse_yes_no(text)
    if prop.type == NUMBER:
        return unicodedata.normalize("NFKC", text).strip()
    return text


def convert(kind: schema.NodeKind, prop: Prop, text: str, *, dayfirst: bool = False):
    """Parse then convert through the schema (raises InvalidProperty)."""
    try:
        return schema.convert_value(prop, prepare(prop, text, dayfirst=dayfirst), kind.label)
    except schema.InvalidProperty as e:
        why = date_order_problem(text, dayfirst=dayfirst) if prop.type == DATE else None
        if why:
            raise schema.InvalidProperty(_("%(message)s: %(reason)s", message=e.message, reason=why),
                                         field=prop.name, value=text,
                                         allowed=e.allowed) from None
        raise


# Spreadsheet programs also read the full-width forms (＝＋－＠, typed with Chinese input methods)
# as formula signs.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise(text: str) -> str:
    """Make text inert in spreadsheet programs (CSV/formula injection) by prefixing an apostrophe."""
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def unneutralise(text: str) -> str:
    """Undo ``neutralise`` for text read back from an exported file."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_LEADS):
        return text[1:]
    return text


_YES = {"true", "yes", "y", "1", "是", "有", "✓"}
_NO = {"false", "no", "n", "0", "否", "无", "無"}


def parse_yes_no(text: str) -> str:
    w = unicodedata.normalize("NFKC", text).strip().lower()
    return "true" if w in _YES else "false" if w in _NO else text


def infer_field_type(texts: list[str], *, dayfirst: bool = False) -> str:
    """The custom field type a column's cells suggest: boolean, integer, decimal, date, else
    text. Digits with a leading zero or more than 9 of them (phone numbers, codes) stay text."""
    cells = [t.strip() for t in texts if t and t.strip()]
    if not cells:
        return "text"
    if all(unicodedata.normalize("NFKC", c).strip().lower() in _YES | _NO for c in cells) and \
            not all(c in ("0", "1") for c in cells):
        return "boolean"
    if all(re.fullmatch(r"[+-]?[1-9]\d{0,8}|0", c) for c in cells):
        return "integer"
    if all(re.fullmatch(r"[+-]?(\d{1,3}(,\d{3})+|\d{1,9})\.\d+", c) for c in cells):
        return "decimal"
    if all(re.search(r"\d[/.\-年]\d", c) and _is_date(c, dayfirst) for c in cells):
        return "date"
    return "text"


def _is_date(text: str, dayfirst: bool) -> bool:
    try:
        dt.date.fromisoformat(parse_date(text, dayfirst=dayfirst))
        return True
    except (ValueError, TypeError):
        return False
