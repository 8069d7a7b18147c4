"""What goes on a label, and the URL its QR code opens."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

_WHITESPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


def scan_url(base_url: str, key: str) -> str:
    """The asset's scan page. The key is percent-encoded whole (spaces, unicode, '#', '?')."""
    return f"{base_url.rstrip('/')}/s/{urllib.parse.quote(key, safe='')}"


def one_line(text: str | None) -> str:
    """Text as a single printable line: newlines, tabs and control characters become spaces."""
    return _WHITESPACE.sub(" ", text or "").strip()


@dataclass(frozen=True)
class LabelContent:
    key: str
    name: str = ""
    second_line: str = ""  # location path or department
    organisation: str = ""

    def texts(self) -> tuple[str, ...]:
        return tuple(one_line(t) for t in (self.key, self.name, self.second_line, self.organisation))
