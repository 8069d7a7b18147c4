"""The file store: content-addressed files under one folder (``CMDB_FILES_DIR``, by default
``files/`` in the data directory).

A file is written once and named by the SHA-256 of its bytes (``ab/abcdef…``), so storing the
same file twice keeps one copy, and a name read back always has the bytes it was stored with.
The graph holds what a file is (title, type, what it is attached to) and refers to it by that
hash in a ``file_sha256`` property; backups carry every file a node refers to.

Anything that keeps files (documents, baseline snapshots, contract attachments) uses this
module: ``put`` / ``put_stream`` to store, ``open`` / ``read`` to read back, ``exists``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, TypeVar

from cmdb.errors import InvalidInput, NotFound, TooLarge
from cmdb.i18n import _
from cmdb.settings import Settings

T = TypeVar("T")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


class FileTooLarge(TooLarge):
    code = "file_too_large"


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256 or ""):
            raise InvalidInput(_("%(name)s is not a stored file's name (64 hexadecimal digits)", name=repr(sha256)),
                               field="sha256", value=sha256)
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def size(self, sha256: str) -> int:
        return self._existing(sha256).stat().st_size

    def _existing(self, sha256: str) -> Path:
        path = self._path(sha256)
        if not path.is_file():
            raise NotFound(_("The stored file %(name)s is missing from %(store)s", name=sha256, store=str(self.root)),
                           {"sha256": sha256, "store": str(self.root)})
        return path

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its SHA-256 (the name to keep in the graph)."""
        return self._commit(hashlib.sha256(data).hexdigest(), [data])

    def put_stream(self, stream: BinaryIO, max_bytes: int,
                   check: Callable[[Path], T] | None = None) -> tuple[str, int, T | None]:
        """Store what ``stream`` holds, refusing more than ``max_bytes`` without holding it in
        memory; ``check(path)`` looks at the bytes before they are kept (raise to refuse).
        Returns (sha256, size, what ``check`` returned)."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileTooLarge(_("The file is larger than %(max_bytes)s bytes, the most a document "
                                             "may be (CMDB_MAX_DOCUMENT_BYTES)", max_bytes=f"{max_bytes:,}"),
                                           {"field": "file", "max_bytes": max_bytes})
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            checked = check(Path(temporary)) if check is not None else None
            sha256 = digest.hexdigest()
            target = self._path(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
            return sha256, size, checked
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def _commit(self, sha256: str, parts: list[bytes]) -> str:
        target = self._path(sha256)
        if target.is_file():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    out.write(part)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return sha256

    def read(self, sha256: str) -> bytes:
        return self._existing(sha256).read_bytes()

    def head(self, sha256: str, size: int) -> bytes:
        """The first ``size`` bytes (to check a file's type by its content)."""
        with self._existing(sha256).open("rb") as stream:
            return stream.read(size)

    def open(self, sha256: str) -> BinaryIO:
        return self._existing(sha256).open("rb")

    def chunks(self, sha256: str) -> Iterator[bytes]:
        with self.open(sha256) as stream:
            while chunk := stream.read(CHUNK):
                yield chunk

    def put_verified(self, sha256: str, data: bytes) -> None:
        """Store ``data`` under the name a backup gave it, refusing bytes that do not match."""
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise InvalidInput(_("The file named %(name)s holds bytes whose SHA-256 is %(actual)s", name=sha256,
                                 actual=actual),
                               field="sha256", value=sha256)
        self._commit(sha256, [data])


def file_store(settings: Settings) -> FileStore:
    """The register's file store as the settings name it."""
    return FileStore(settings.file_store_dir)
