"""Messages in the reader's language: English, 简体中文 (zh_CN) and 繁體中文 (zh_TW).

Every text meant for people goes through ``_`` (or ``ngettext`` / ``pgettext``); the
catalogues are gettext ``.po`` files under ``cmdb/i18n/locale``, read with Babel and compiled
in memory the first time a language is used, so a fresh clone needs no compile step.

The language is the current context's: a request sets it from the browser's choice
(``LanguageMiddleware``), a command from ``CMDB_LANGUAGE`` or the locale (``cli_language``),
a report or label from its option (``use_language``).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
ENGLISH = "en"
LANGUAGES = ("en", "zh_CN", "zh_TW")
# What a language calls itself, for the switcher.
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文", "zh_TW": "繁體中文"}

# Traditional Chinese is read in Taiwan, Hong Kong and Macau; Simplified on the mainland and
# in Singapore. A bare "zh" is the mainland's.
_TRADITIONAL_REGIONS = {"tw", "hk", "mo", "hant"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("cmdb_language", default=ENGLISH)


def normalise_language(tag: str | None) -> str | None:
    """``zh-CN``, ``zh_CN.UTF-8``, ``zh-Hant-HK``, ``en-GB``, ``zh_TW`` … -> one of ``LANGUAGES``,
    or None for a language there is no catalogue for."""
    if not tag:
        return None
    text = tag.strip().split(".")[0].split("@")[0].replace("_", "-").lower()
    parts = [p for p in text.split("-") if p]
    if not parts:
        return None
    if parts[0] == "en":
        return "en"
    if parts[0] == "zh":
        return "zh_TW" if _TRADITIONAL_REGIONS.intersection(parts[1:]) else "zh_CN"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The best language of an ``Accept-Language`` header that has a catalogue, or None."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _sep, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        language = normalise_language(tag)
        if language and weight > 0:
            choices.append((-weight, position, language))
    return min(choices)[2] if choices else None


def from_locale(environ: Mapping[str, str] | None = None) -> str | None:
    """The language of the POSIX locale (``LC_ALL``, else ``LC_MESSAGES``, else ``LANG``)."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return normalise_language(value)
    return None


def current_language() -> str:
    return _current.get()


def set_language(language: str | None) -> contextvars.Token:
    return _current.set(normalise_language(language) or ENGLISH)


def reset_language(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Speak ``language`` (None: English) inside the block."""
    token = set_language(language)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def html_lang(language: str | None = None) -> str:
    """The language as HTML and HTTP name it: ``zh-CN``."""
    return (language or current_language()).replace("_", "-")


@lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English: the messages as written)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == ENGLISH or not po.is_file():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


# Unformatted lookups, for callers that fill placeholders themselves (Jinja2's i18n extension).
def translate(message: str) -> str:
    return translations(current_language()).ugettext(message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ungettext(singular, plural, n)


def translate_in_context(context: str, message: str) -> str:
    return translations(current_language()).upgettext(context, message)


def translate_plural_in_context(context: str, singular: str, plural: str, n: int) -> str:
    return translations(current_language()).unpgettext(context, singular, plural, n)


def _format(text: str, params: Mapping[str, Any]) -> str:
    return text % params if params else text


def _(message: str, /, **params: Any) -> str:
    """``message`` in the current language, with ``%(name)s`` placeholders filled in."""
    return _format(translations(current_language()).ugettext(message), params)


gettext = _


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The singular or plural form for ``n``; ``%(n)s`` (or ``%(num)s``) is ``n``."""
    text = translations(current_language()).ungettext(singular, plural, n)
    return _format(text, {"n": n, "num": n, **params})


def pgettext(context: str, message: str, /, **params: Any) -> str:
    """``message`` in the sense ``context`` gives it ("Missing" as a status, as a finding)."""
    return _format(translations(current_language()).upgettext(context, message), params)


def npgettext(context: str, singular: str, plural: str, n: int, /,
               **params: Any) -> str:
    text = translations(current_language()).unpgettext(context, singular, plural, n)
    return _format(text, {"n": n, "num": n, **params})


def N_(message: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return message
