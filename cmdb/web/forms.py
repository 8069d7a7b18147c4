"""Reading posted forms and JSON with the CSRF check every state-changing request passes."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Depends, Request

from cmdb.auth import CSRF_HEADER, csrf_ok, current_session
from cmdb.errors import InvalidInput, PermissionDenied
from cmdb.i18n import _
from cmdb.web.security import CSRF_FIELD

MAX_FIELD_LENGTH = 4000


class CsrfRejected(PermissionDenied):
    code = "csrf_rejected"

    def __init__(self) -> None:
        super().__init__(_("The form's security token is missing or out of date; "
                           "reload the page and try again"))


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form's text fields, after checking the session's CSRF token."""
    return await read_checked_form(request)


async def read_checked_form(request: Request,
                            longer: dict[str, int] | None = None) -> dict[str, str]:
    """``checked_form`` where the fields named in ``longer`` may be that long (a drawn
    signature as a data URL)."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    supplied = values.pop(CSRF_FIELD, None) or request.headers.get(CSRF_HEADER)
    if not csrf_ok(current_session(request), supplied):
        raise CsrfRejected()
    for name, value in values.items():
        limit = (longer or {}).get(name, MAX_FIELD_LENGTH)
        if len(value) > limit:
            raise InvalidInput(_("The field %(name)s is %(n)s characters long; at most %(max)s "
                                 "allowed", name=repr(name), n=len(value), max=limit),
                               field=name)
    return values


async def checked_json(request: Request) -> dict[str, Any]:
    """A JSON object posted by the pages' scripts, with the CSRF token in a header."""
    if not csrf_ok(current_session(request), request.headers.get(CSRF_HEADER)):
        raise CsrfRejected()
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(_("The request body is not valid JSON")) from None
    if not isinstance(body, dict):
        raise InvalidInput(_("The request body must be a JSON object"))
    return body


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]
CheckedJson = Annotated[dict[str, Any], Depends(checked_json)]
