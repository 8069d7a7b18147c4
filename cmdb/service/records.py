"""What the service records share: their fields checked like CI properties, ids, dates."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Iterable, Mapping

from cmdb.errors import InvalidInput
from cmdb.graph.schema import Prop, convert_value, utc_now
from cmdb.i18n import _


def check_fields(props: Iterable[Prop], values: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Convert ``values`` by their Prop; unknown names are refused naming the allowed ones.
    ``None`` passes through (it removes the field on an update)."""
    known = {p.name: p for p in props}
    out: dict[str, Any] = {}
    for name, value in values.items():
        prop = known.get(name)
        if prop is None:
            raise InvalidInput(_("A %(what)s has no field %(name)s; allowed: %(allowed)s", what=what,
                                 name=repr(name), allowed=", ".join(known)),
                               field=name, value=value, allowed=list(known))
        out[name] = None if value is None or value == "" else convert_value(prop, value, what)
    return out


def new_id(prefix: str) -> str:
    """``RO-20261129-1a2b3c``: readable, sortable by day, unique without a counter."""
    return f"{prefix}-{dt.datetime.now(dt.timezone.utc):%Y%m%d}-{uuid.uuid4().hex[:6]}"


def today_or(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


def parse_day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(_("%(field)s: %(value)s is not a date; expected YYYY-MM-DD", field=field,
                             value=repr(value)),
                           field=field, value=value, allowed="YYYY-MM-DD") from None


def now() -> str:
    return utc_now()
