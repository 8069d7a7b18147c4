"""Domain errors: each names a failure a caller can act on.

The API maps them to HTTP status codes in one place (``cmdb.api.errors``); the CLI prints
their message and exits 1.
"""

from __future__ import annotations

from typing import Any

from cmdb.i18n import _, ngettext


class CMDBError(Exception):
    code = "error"
    # What a remote client (API, pages) is told instead, when ``message`` names things only the
    # server's operator should see (folders, the engine's address).
    public_message: str | None = None
    public_details: Any = None

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class UnknownKey(CMDBError):
    code = "unknown_key"

    def __init__(self, keys: str | list[str], what: str = "CI"):
        keys = [keys] if isinstance(keys, str) else list(keys)
        self.keys = keys
        shown = ", ".join(repr(k) for k in keys[:20]) + (" …" if len(keys) > 20 else "")
        if what == "CI":
            message = ngettext("No CI with key %(keys)s", "No CIs with keys %(keys)s", len(keys),
                               keys=shown)
        else:
            message = _("No %(what)s with key %(keys)s", what=what if len(keys) == 1 else what + "s",
                        keys=shown)
        super().__init__(message, {"keys": keys})


class UnknownReference(UnknownKey):
    """A key given in the body names nothing, while the resource the address names exists
    (HTTP 409: a 404 would say the addressed resource is gone)."""

    code = "unknown_reference"


class NotFound(CMDBError):
    code = "not_found"


class DuplicateKey(CMDBError):
    code = "duplicate_key"


class InvalidInput(CMDBError):
    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, value: Any = None,
                 allowed: Any = None, details: Any = None):
        if details is None:
            details = {k: v for k, v in
                       (("field", field), ("value", _shorten(value)), ("allowed", allowed))
                       if v is not None}
        super().__init__(message, details)
        self.field = field
        self.value = value
        self.allowed = allowed


class InvalidProperty(InvalidInput):
    code = "invalid_property"


class UnknownProperty(InvalidProperty):
    """A property (or custom field) the CI's kind does not have."""


class ForbiddenRelationship(InvalidInput):
    code = "forbidden_relationship"


class WrongKind(InvalidInput):
    """A well-formed key names a CI of another kind than the operation needs: the request
    conflicts with the register as it is (HTTP 409), it is not malformed."""

    code = "wrong_kind"


class Unprintable(InvalidInput):
    """A label cannot carry a CI as the register holds it: its name has characters the font
    lacks, or its key makes the QR code too fine for the label (HTTP 409)."""

    code = "unprintable"


class StillNeeded(CMDBError):
    """A CI cannot be deleted while other CIs need it."""

    code = "still_needed"


class VersionConflict(CMDBError):
    code = "version_conflict"


class Conflict(CMDBError):
    code = "conflict"


class EngineUnavailable(CMDBError):
    """The engine cannot be reached (stopped, restarting, not started). ``retry_after``: the
    seconds after which trying again is worth it, when that is known."""

    code = "engine_unavailable"

    def __init__(self, message: str, details: Any = None, *, retry_after: int | None = None):
        super().__init__(message, details)
        self.retry_after = retry_after


class DiskFull(CMDBError):
    """The register's disk has too little room (or cannot be written at all) for an operation:
    refused before it started, or failed while it ran and was rolled back."""

    code = "disk_full"


class EngineOutOfMemory(CMDBError):
    """The engine ran out of memory during an operation, which was rolled back."""

    code = "engine_out_of_memory"


class RegisterLocked(CMDBError):
    """Another process holds the register's files and does not serve them to this one."""

    code = "register_locked"


class EngineRestarting(EngineUnavailable):
    """The engine is down and being restarted (``cmdb serve``); worth trying again shortly.
    Its sentence names no folder or address, so clients are told it as it is."""

    def __init__(self, message: str, details: Any = None, *, retry_after: int):
        super().__init__(message, details, retry_after=retry_after)
        self.public_message, self.public_details = message, details


class PermissionDenied(CMDBError):
    code = "forbidden"


class TooLarge(CMDBError):
    code = "too_large"


def _shorten(value: Any, limit: int = 200) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"… ({len(value)} characters)"
    return value


class Unauthenticated(CMDBError):
    """No valid token or session came with the request."""

    code = "unauthenticated"


class Forbidden(PermissionDenied):
    """The caller's role may not use this endpoint."""


class BackupIncomplete(CMDBError):
    """A backup could not read or write everything; no backup file was left."""

    code = "backup_incomplete"


class RestoreMismatch(CMDBError):
    """A restore failed part-way or does not match its file."""

    code = "restore_mismatch"
