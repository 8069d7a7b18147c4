"""Finding a font that can really draw a label's text.

Pillow draws a missing glyph as an empty box (or nothing), which would put unreadable
labels on devices. The font's character map (read with fontTools) says which characters it
has, so a font is only chosen when it covers every character on the labels, and otherwise
the user is told which package to install.
"""

from __future__ import annotations

import glob
import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

from cmdb.errors import InvalidInput, Unprintable

CJK_FONT_PACKAGES = ("fonts-noto-cjk", "fonts-wqy-zenhei")
ELLIPSIS = "…"


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int = 0  # face number inside a .ttc collection

    def __str__(self) -> str:
        return self.path if self.index == 0 else f"{self.path}#{self.index}"


# Searched in this order under the font directories. Noto Sans CJK's collection holds the
# Japanese, Korean, Simplified and Traditional Chinese faces; face 2 is Simplified Chinese.
_SEARCH_PATTERNS: tuple[tuple[str, int], ...] = (
    ("**/NotoSansCJK-Regular.ttc", 2),
    ("**/NotoSansCJKsc-Regular.otf", 0),
    ("**/NotoSansSC-Regular.*", 0),
    ("**/wqy-zenhei.ttc", 0),
    ("**/wqy-microhei.ttc", 0),
    ("**/DroidSansFallbackFull.ttf", 0),
    ("**/DroidSansFallback.ttf", 0),
    ("**/DejaVuSans.ttf", 0),
)
FONT_DIRS: tuple[str, ...] = ("/usr/share/fonts", "/usr/local/share/fonts")


def parse_font_setting(value: str) -> FontFace:
    """``/path/font.ttc#2`` selects face 2 of a collection; a plain path selects face 0."""
    value = value.strip()
    path, sep, index = value.rpartition("#")
    if sep and path and index.isdigit():
        return FontFace(path, int(index))
    return FontFace(value)


@lru_cache(maxsize=8)
def discover_fonts(dirs: tuple[str, ...] = FONT_DIRS) -> tuple[FontFace, ...]:
    """Installed fonts from the search list, in order of preference."""
    found: list[FontFace] = []
    for pattern, index in _SEARCH_PATTERNS:
        for directory in dirs:
            for path in sorted(glob.glob(os.path.join(directory, pattern), recursive=True)):
                face = FontFace(path, index)
                if face not in found:
                    found.append(face)
    return tuple(found)


@lru_cache(maxsize=32)
def covered_characters(face: FontFace) -> frozenset[int]:
    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
        cmap = font.getBestCmap() or {}
    except (OSError, TTLibError, IndexError, KeyError, AssertionError) as exc:
        raise InvalidInput(f"Cannot read the label font {str(face)!r}: {exc}",
                           field="CMDB_LABEL_FONT", value=str(face)) from None
    return frozenset(cmap)


def _needs_glyph(char: str) -> bool:
    # Spaces and format/control characters draw nothing whether or not the font has them.
    return unicodedata.category(char) not in ("Zs", "Zl", "Zp", "Cc", "Cf")


def missing_characters(face: FontFace, text: str) -> list[str]:
    have = covered_characters(face)
    seen: list[str] = []
    for char in text:
        if _needs_glyph(char) and ord(char) not in have and char not in seen:
            seen.append(char)
    return seen


def choose_font(texts: Iterable[str], configured: str | None = None,
                candidates: Sequence[FontFace] | None = None) -> FontFace:
    """The first font that has a glyph for every character of ``texts``.

    A font set in CMDB_LABEL_FONT is the only one tried: the user chose it. Otherwise the
    installed CJK fonts are tried first (so Latin and Chinese labels on one sheet look
    alike), then DejaVu Sans.
    """
    texts = [t for t in texts if t]
    wanted = "".join(dict.fromkeys("".join(texts)))
    if configured:
        face = parse_font_setting(configured)
        if not os.path.isfile(face.path):
            raise InvalidInput(f"The label font {face.path!r} set in CMDB_LABEL_FONT does not exist",
                               field="CMDB_LABEL_FONT", value=configured)
        _raise_if_missing(face, texts, wanted, configured=True)
        return face
    faces = list(discover_fonts() if candidates is None else candidates)
    if not faces:
        raise InvalidInput(
            "No font found for labels; install the Debian package "
            f"{' or '.join(CJK_FONT_PACKAGES)} (or fonts-dejavu-core for Latin text only), "
            "or set CMDB_LABEL_FONT to a TrueType/OpenType font file",
            field="CMDB_LABEL_FONT")
    readable = []
    for face in faces:
        try:
            covered_characters(face)
        except InvalidInput:
            continue  # a damaged or unexpected file in the font directories: try the next
        readable.append(face)
        if not missing_characters(face, wanted):
            return face
    if not readable:
        raise InvalidInput("None of the installed fonts could be read: "
                           + ", ".join(str(f) for f in faces), field="font")
    faces = readable
    _raise_if_missing(faces[0], texts, wanted, configured=False, others=faces[1:])
    raise AssertionError("unreachable")  # pragma: no cover


def _raise_if_missing(face: FontFace, texts: list[str], wanted: str, *, configured: bool,
                      others: Sequence[FontFace] = ()) -> None:
    missing = [c for c in missing_characters(face, wanted)
               if all(c in missing_characters(other, c) for other in others)] or \
        missing_characters(face, wanted)
    if not missing:
        return
    text = next((t for t in texts if any(c in t for c in missing)), "")
    shown = " ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
    where = (f"the font set in CMDB_LABEL_FONT ({face}) has" if configured
             else "none of the installed fonts (" + ", ".join(str(f) for f in (face, *others))
             + ") has")
    raise Unprintable(
        f"Cannot draw {text!r} on a label: {where} glyphs for {shown}. "
        f"Install a CJK font with the Debian package {' or '.join(CJK_FONT_PACKAGES)} "
        "(apt-get install fonts-noto-cjk), or set CMDB_LABEL_FONT to a font file that has them",
        field="font", value=text, allowed=list(CJK_FONT_PACKAGES))


def ellipsis_for(face: FontFace) -> str:
    return ELLIPSIS if ord(ELLIPSIS) in covered_characters(face) else "..."


@lru_cache(maxsize=256)
def load_font(face: FontFace, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face.path, max(1, size_px), index=face.index)
