"""Search text that understands Chinese: Simplified and Traditional forms fold together
(服务器 = 伺服器 = 服務器, with OpenCC's phrase tables for Taiwan's IT terms), and a name can
be found by its pinyin initials (``fwq`` -> 服务器).

No Cypher here: the list search sends ``query_variants`` to the graph layer, and an index of
the register can store ``search_terms`` of each name and look up ``fold(query)``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# To Simplified: character by character, and with Taiwan's phrases (伺服器 -> 服务器).
_TO_SIMPLIFIED = ("t2s", "tw2sp")
# From Simplified: Traditional characters (Hong Kong usage), and Taiwan's phrases.
_TO_TRADITIONAL = ("s2t", "s2twp")


@lru_cache(maxsize=None)
def _converter(config: str):
    # Imported when first needed: a command that searches no Chinese text does not load it.
    import opencc

    return opencc.OpenCC(config)


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def normalise(text: str) -> str:
    """Width folded and lower-cased (ＡＢＣ -> abc), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def fold(text: str) -> str:
    """One form for Simplified and Traditional spellings alike: the mainland's."""
    text = normalise(text)
    if not has_han(text):
        return text
    return _converter("tw2sp").convert(_converter("t2s").convert(text))


def query_variants(q: str) -> list[str]:
    """The spellings of ``q`` to look for in stored text: as typed (trimmed, lower case), in
    Simplified and in Traditional Chinese (characters and Taiwan phrases); sorted, no repeats."""
    typed = q.strip().lower()
    if not typed:
        return []
    if not has_han(typed):
        return [typed]
    simplified = {typed, *(_converter(c).convert(typed) for c in _TO_SIMPLIFIED)}
    variants = set(simplified)
    for text in simplified:
        variants.update(_converter(c).convert(text) for c in _TO_TRADITIONAL)
    return sorted(variants)


def pinyin_initials(text: str) -> str:
    """The first letter of each Chinese syllable, other characters as they are (normalised):
    服务器 -> fwq, 财务打印机 A -> cwdyj a."""
    folded = fold(text)
    if not has_han(folded):
        return folded
    from pypinyin import Style, lazy_pinyin  # its dictionaries load in a second or so

    return "".join(lazy_pinyin(folded, style=Style.FIRST_LETTER, errors=lambda s: s))


def search_terms(text: str) -> set[str]:
    """What an index keeps of a name to find it by ``fold(query)``: its folded form and, for
    Chinese text, its pinyin initials."""
    if not text:
        return set()
    terms = {fold(text)}
    if has_han(text):
        terms.add(pinyin_initials(text))
    return terms


def matches(text: str | None, q: str) -> bool:
    """Does ``text`` hold ``q``, by folded spelling or (for Latin letters) pinyin initials?"""
    if not text:
        return False
    needle = fold(q)
    return any(needle in term for term in search_terms(text))
