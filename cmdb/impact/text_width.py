"""How wide a text is drawn, measured with the fonts a browser on this machine would use.

The picture names DejaVu Sans first and a CJK face after it: DejaVu Sans is among the widest
sans-serif fonts, so a box sized for it also holds the text in the narrower fonts other
systems substitute. Characters DejaVu Sans lacks (Chinese) are measured in the CJK face.
Without either font installed, an estimate per character (wide or narrow) is used.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from PIL import ImageFont

from cmdb.labels.fonts import FontFace, covered_characters, discover_fonts

FONT_FAMILY = "DejaVu Sans, Noto Sans CJK SC, Noto Sans SC, WenQuanYi Zen Hei, sans-serif"
SLACK = 1.03  # hinting and kerning differences between Pillow and browsers


@lru_cache(maxsize=1)
def _faces() -> tuple[FontFace | None, FontFace | None]:
    """(Latin face, CJK face) among the installed fonts, either may be None."""
    latin = cjk = None
    for face in discover_fonts():
        if face.path.endswith("DejaVuSans.ttf"):
            latin = latin or face
        elif cjk is None:
            cjk = face
    return latin, cjk


def _bold(face: FontFace) -> FontFace:
    candidates = (face.path.replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
                  face.path.replace("-Regular.", "-Bold."))
    for path in candidates:
        if path != face.path:
            try:
                ImageFont.truetype(path, 10, index=face.index)
                return FontFace(path, face.index)
            except OSError:
                continue
    return face


@lru_cache(maxsize=64)
def _font(face: FontFace, size: float, bold: bool) -> ImageFont.FreeTypeFont:
    chosen = _bold(face) if bold else face
    # measured at 10x the size and scaled down: Pillow rounds advances at small sizes
    return ImageFont.truetype(chosen.path, round(size * 10), index=chosen.index)


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _estimate(text: str, size: float, bold: bool) -> float:
    narrow = 0.64 if bold else 0.6
    return sum(size * (1.0 if _is_wide(c) else narrow) for c in text)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width in pixels of ``text`` at font size ``size`` (px)."""
    latin, cjk = _faces()
    if latin is None and cjk is None:
        return _estimate(text, size, bold) * SLACK
    have_latin = covered_characters(latin) if latin else frozenset()
    width = 0.0
    run, run_face = "", None
    for char in text + "\0":
        face = latin if ord(char) in have_latin else (cjk or latin)
        if char == "\0" or face != run_face:
            if run:
                width += (_font(run_face, size, bold).getlength(run) / 10 if run_face
                          else _estimate(run, size, bold))
            run, run_face = char, face
        else:
            run += char
    return width * SLACK


def fit(text: str, size: float, max_width: float, bold: bool = False) -> str:
    """``text``, cut with an ellipsis where it would be wider than ``max_width``."""
    if text_width(text, size, bold) <= max_width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if text_width(text[:middle] + "…", size, bold) <= max_width:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"
