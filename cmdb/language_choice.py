"""A language named by a person (an option, a setting, the page switcher)."""

from __future__ import annotations

from cmdb.errors import InvalidInput
from cmdb.i18n import LANGUAGES, _, normalise_language


def parse_language(tag: str) -> str:
    """``zh-CN``, ``zh_TW``, ``en`` … -> a language with a catalogue; others are refused."""
    language = normalise_language(tag)
    if language is None:
        raise InvalidInput(_("Unknown language %(language)s; use en, zh_CN or zh_TW",
                             language=repr(tag)), field="language", value=tag,
                           allowed=list(LANGUAGES))
    return language
