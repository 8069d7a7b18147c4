"""Finding a font that can really draw a label's text.

Pillow draws a missing glyph as an empty box (or nothing), which would put unreadable
labels on devices. The font's character map (read with fontTools) says which characters it
has, so a font is only chosen when it covers every character on the labels, and otherwise
the user is told which package to install.

Fonts are searched in this order: the system's CJK fonts (Debian's Noto Sans CJK first), then
the Noto Sans CJK collection installed with cmdb from PyPI (package ``noto-cjk-sans-otc``, SIL
Open Font License 1.1), then the system's DejaVu Sans. So a Chinese name prints on a machine
with no font installed at all, and a font set in CMDB_LABEL_FONT is the only one tried.
"""

from __future__ import annotations

import glob
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

from cmdb.errors import InvalidInput, Unprintable
from cmdb.i18n import _

CJK_FONT_PACKAGES = ("fonts-noto-cjk", "fonts-wqy-zenhei")
ELLIPSIS = "…"


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int = 0  # face number inside a .ttc collection

    def __str__(self) -> str:
        return self.path if self.index == 0 else f"{self.path}#{self.index}"


# Noto Sans CJK's collection holds the Japanese, Korean, Simplified Chinese, Traditional
# Chinese and Hong Kong faces, in that order; face 2 is Simplified Chinese.
NOTO_CJK_COLLECTION = "NotoSansCJK-Regular.ttc"
NOTO_CJK_FACES = {"jp": 0, "kr": 1, "sc": 2, "tc": 3, "hk": 4}
NOTO_CJK_SIMPLIFIED = NOTO_CJK_FACES["sc"]
# CMDB_LABEL_FONT=noto-sans-cjk-tc: that collection's face with the regional forms of Taiwan
# (tc), Hong Kong (hk) or the mainland (sc), wherever the collection is installed.
_NOTO_CJK_NAME = re.compile(r"noto-sans-cjk-(" + "|".join(NOTO_CJK_FACES) + ")", re.IGNORECASE)
# Searched in this order under the system's font directories.
_CJK_PATTERNS: tuple[tuple[str, int], ...] = (
    ("**/" + NOTO_CJK_COLLECTION, NOTO_CJK_SIMPLIFIED),
    ("**/NotoSansCJKsc-Regular.otf", 0),
    ("**/NotoSansSC-Regular.*", 0),
    ("**/wqy-zenhei.ttc", 0),
    ("**/wqy-microhei.ttc", 0),
    ("**/DroidSansFallbackFull.ttf", 0),
    ("**/DroidSansFallback.ttf", 0),
)
_LATIN_PATTERNS: tuple[tuple[str, int], ...] = (("**/DejaVuSans.ttf", 0),)
FONT_DIRS: tuple[str, ...] = ("/usr/share/fonts", "/usr/local/share/fonts")
# Where to look for system fonts instead of FONT_DIRS (os.pathsep-separated; empty: nowhere).
FONT_DIRS_VARIABLE = "CMDB_FONT_DIRS"


def parse_font_setting(value: str) -> FontFace:
    """``/path/font.ttc#2`` selects face 2 of a collection; a plain path selects face 0."""
    value = value.strip()
    path, sep, index = value.rpartition("#")
    if sep and path and index.isdigit():
        return FontFace(path, int(index))
    return FontFace(value)


def system_font_dirs() -> tuple[str, ...]:
    setting = os.environ.get(FONT_DIRS_VARIABLE)
    if setting is None:
        return FONT_DIRS
    return tuple(d for d in setting.split(os.pathsep) if d.strip())


def bundled_font() -> FontFace | None:
    """Noto Sans CJK as installed with cmdb from PyPI (None if that package is missing)."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError:
        return None
    path = str(FONT_PATH)
    return FontFace(path, NOTO_CJK_SIMPLIFIED) if os.path.isfile(path) else None


def discover_fonts(dirs: tuple[str, ...] | None = None) -> tuple[FontFace, ...]:
    """Usable fonts in order of preference: system CJK fonts, the bundled one, DejaVu Sans."""
    return _discover(system_font_dirs() if dirs is None else tuple(dirs), bundled_font())


@lru_cache(maxsize=8)
def _discover(dirs: tuple[str, ...], bundled: FontFace | None) -> tuple[FontFace, ...]:
    found: list[FontFace] = []

    def search(patterns: tuple[tuple[str, int], ...]) -> None:
        for pattern, index in patterns:
            for directory in dirs:
                for path in sorted(glob.glob(os.path.join(directory, pattern), recursive=True)):
                    face = FontFace(path, index)
                    if face not in found:
                        found.append(face)

    search(_CJK_PATTERNS)
    if bundled is not None:
        found.append(bundled)
    search(_LATIN_PATTERNS)
    return tuple(found)


@lru_cache(maxsize=32)
def covered_characters(face: FontFace) -> frozenset[int]:
    try:
        font = TTFont(face.path, fontNumber=face.index, lazy=True)
        cmap = font.getBestCmap() or {}
    except (OSError, TTLibError, IndexError, KeyError, AssertionError) as exc:
        raise InvalidInput(_("Cannot read the label font %(font)r: %(reason)s", font=str(face),
                             reason=exc),
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
    CJK fonts are tried first (so Latin and Chinese labels on one sheet look alike): the
    system's, then the one installed with cmdb; then DejaVu Sans.
    """
    texts = [t for t in texts if t]
    wanted = "".join(dict.fromkeys("".join(texts)))
    if configured:
        face = _noto_cjk_face(configured) or parse_font_setting(configured)
        if not os.path.isfile(face.path):
            raise InvalidInput(_("The label font %(font)r set in CMDB_LABEL_FONT does not exist",
                                 font=face.path),
                               field="CMDB_LABEL_FONT", value=configured)
        _raise_if_missing(face, texts, wanted, configured=True)
        return face
    faces = list(discover_fonts() if candidates is None else candidates)
    if not faces:
        raise InvalidInput(
            _("No font found for labels; install the Debian package %(packages)s (or "
              "fonts-dejavu-core for Latin text only), or set CMDB_LABEL_FONT to a "
              "TrueType/OpenType font file", packages=_(" or ").join(CJK_FONT_PACKAGES)),
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
        raise InvalidInput(_("None of the installed fonts could be read: %(fonts)s",
                             fonts=", ".join(str(f) for f in faces)), field="font")
    faces = readable
    _raise_if_missing(faces[0], texts, wanted, configured=False, others=faces[1:])
    raise AssertionError("unreachable")  # pragma: no cover


def _noto_cjk_face(setting: str) -> FontFace | None:
    """The face of Noto Sans CJK a ``noto-sans-cjk-XX`` setting names (None: not such a name)."""
    match = _NOTO_CJK_NAME.fullmatch(setting.strip())
    if not match:
        return None
    for face in discover_fonts():
        if os.path.basename(face.path) == NOTO_CJK_COLLECTION:
            return FontFace(face.path, NOTO_CJK_FACES[match.group(1).lower()])
    raise InvalidInput(
        _("CMDB_LABEL_FONT=%(setting)s names Noto Sans CJK, which is not installed: install "
          "the Debian package fonts-noto-cjk (or cmdb with its dependencies)", setting=setting),
        field="CMDB_LABEL_FONT", value=setting)


def _raise_if_missing(face: FontFace, texts: list[str], wanted: str, *, configured: bool,
                      others: Sequence[FontFace] = ()) -> None:
    missing = [c for c in missing_characters(face, wanted)
               if all(c in missing_characters(other, c) for other in others)] or \
        missing_characters(face, wanted)
    if not missing:
        return
    text = next((t for t in texts if any(c in t for c in missing)), "")
    shown = " ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
    bundled = bundled_font()
    if configured or bundled is None or bundled not in (face, *others):
        remedy = _("Install a CJK font with the Debian package %(packages)s (apt-get install "
                   "fonts-noto-cjk), or set CMDB_LABEL_FONT to a font file that has them",
                   packages=_(" or ").join(CJK_FONT_PACKAGES))
    else:  # even the Noto Sans CJK that comes with cmdb lacks them (emoji, rare ideographs)
        remedy = _("Set CMDB_LABEL_FONT to a font file that has them")
    if configured:
        message = _("Cannot draw %(text)r on a label: the font set in CMDB_LABEL_FONT (%(font)s) "
                    "has no glyphs for %(shown)s. %(remedy)s", text=text, font=face, shown=shown,
                    remedy=remedy)
    else:
        message = _("Cannot draw %(text)r on a label: none of the installed fonts (%(fonts)s) "
                    "has glyphs for %(shown)s. %(remedy)s", text=text,
                    fonts=", ".join(str(f) for f in (face, *others)), shown=shown, remedy=remedy)
    raise Unprintable(message,
                      field="font", value=text, allowed=list(CJK_FONT_PACKAGES))


def ellipsis_for(face: FontFace) -> str:
    return ELLIPSIS if ord(ELLIPSIS) in covered_characters(face) else "..."


@lru_cache(maxsize=256)
def load_font(face: FontFace, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face.path, max(1, size_px), index=face.index)
