"""What a stored file really is, read from its content (not its name): PDF, images, office
documents (Word, Excel, PowerPoint, both the zip-based and the older binary formats, and
OpenDocument) and plain text. The name's extension must agree with the content."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePath

from cmdb.errors import InvalidInput
from cmdb.i18n import _


class UnsupportedFile(InvalidInput):
    code = "unsupported_file"


# media type -> the extensions a file of that type may have
TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.oasis.opendocument.presentation": (".odp",),
    "application/vnd.ms-office": (".doc", ".xls", ".ppt", ".vsd", ".msg"),
    "text/plain": (".txt", ".log", ".cfg", ".conf", ".ini", ".csv", ".md"),
}
ALLOWED_EXTENSIONS = sorted(ext for exts in TYPES.values() for ext in exts)
_OOXML = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
HEAD_BYTES = 8192


def _zip_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                with archive.open("mimetype") as entry:  # 100 bytes, however large it claims to be
                    mimetype = entry.read(100).decode("ascii", "replace").strip()
                return mimetype if mimetype in TYPES else None
            if "[Content_Types].xml" in names:
                for prefix, media_type in _OOXML.items():
                    if any(name.startswith(prefix) for name in names):
                        return media_type
    except (zipfile.BadZipFile, OSError, KeyError, NotImplementedError, RuntimeError, EOFError):
        return None
    return None


def sniff(path: Path) -> str | None:
    """The media type the content of ``path`` has, or None if it is none of the allowed ones."""
    with open(path, "rb") as stream:
        head = stream.read(HEAD_BYTES)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/vnd.ms-office"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
                return None
        return "text/plain"
    return None


def check(path: Path, filename: str) -> str:
    """The media type of the file at ``path`` named ``filename``, or UnsupportedFile saying why."""
    extension = PurePath(filename).suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise UnsupportedFile(_("%(name)s: files ending in %(extension)s are not kept; allowed: %(allowed)s",
                                name=repr(filename), extension=extension or _("(nothing)"),
                                allowed=", ".join(ALLOWED_EXTENSIONS)), field="file",
                              value=filename, allowed=ALLOWED_EXTENSIONS)
    media_type = sniff(path)
    if media_type is None:
        raise UnsupportedFile(_("%(name)s is not a PDF, image, office document or text file by its content",
                                name=repr(filename)), field="file", value=filename, allowed=ALLOWED_EXTENSIONS)
    if extension not in TYPES[media_type]:
        raise UnsupportedFile(_("%(name)s is named %(extension)s but its content is %(media_type)s "
                                "(expected %(expected)s)", name=repr(filename), extension=extension,
                                media_type=media_type, expected=", ".join(TYPES[media_type])), field="file",
                              value=filename, allowed=list(TYPES[media_type]))
    return media_type
