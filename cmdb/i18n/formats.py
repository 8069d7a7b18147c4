"""Dates and name order as the reader's locale has them.

Dates: Babel's CLDR formats (``2027年4月30日`` in Chinese, ``Apr 30, 2027`` in English).
Names: by ICU's collation for the locale (PyICU, from the ``pyicu-wheels`` package): pinyin
for zh_CN, stroke count for zh_TW (the order of Taiwan's and Hong Kong's registers and
directories), the usual alphabetical order for English.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, Callable, Iterable, TypeVar

from babel.dates import format_date as _babel_date, format_datetime as _babel_datetime
import icu

from cmdb.i18n import _, current_language

T = TypeVar("T")


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def format_date(value: Any) -> str:
    """A date (or the date of a timestamp) in the current locale's form; text that is not a
    date is returned as it is."""
    if not value:  # None, "", or a template's undefined value
        return ""
    day = _as_date(value)
    return _babel_date(day, "medium", locale=current_language()) if day else str(value)


def format_datetime(value: Any, *, never: str | None = None) -> str:
    """A timestamp in UTC, in the current locale's form (``2026年11月29日 04:30 UTC``)."""
    if not value:
        return never if never is not None else _("never")
    moment = _as_datetime(value)
    if moment is None:
        return str(value)
    moment = moment.astimezone(dt.timezone.utc)
    day = _babel_date(moment.date(), "medium", locale=current_language())
    return f"{day} {moment:%H:%M} UTC"


@lru_cache(maxsize=None)
def _collator(language: str) -> icu.Collator:
    return icu.Collator.createInstance(icu.Locale(language))


def name_sort_key(text: str | None, language: str | None = None) -> bytes:
    """Sort key for a name: pinyin for zh_CN, strokes for zh_TW, alphabetical for English."""
    return _collator(language or current_language()).getSortKey(text or "")


def sort_by_name(items: Iterable[T], name: Callable[[T], str | None]) -> list[T]:
    language = current_language()
    return sorted(items, key=lambda item: name_sort_key(name(item), language))
