"""Who may change what: one policy for every write path (API, pages, imports, labels, scans).

A caller has a role and, optionally, a location scope. The role says which kinds of change it
may make (and, for asset staff, which fields); the scope limits every write, scan and label to
CIs inside one location's subtree, while reads stay register-wide. The API, the pages and the
import all ask here; the import asks per row and column before anything is written, so an
import can never do more than its caller could do through the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from cmdb.errors import PermissionDenied
from cmdb.graph import Graph
from cmdb.graph.schema import ROLES
from cmdb.i18n import _

# Action -> roles that may do it besides admin (who may do everything).
ACTIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "impact": frozenset({"reviewer"}),
    "ci.create": frozenset({"registrar"}),
    "ci.update": frozenset({"asset_staff", "registrar"}),
    "ci.delete": frozenset(),
    "relationship.change": frozenset({"registrar"}),
    "import": frozenset({"asset_staff", "registrar"}),
    "export": frozenset({"asset_staff", "registrar"}),
    "labels": frozenset({"asset_staff", "registrar"}),
    "scan": frozenset({"asset_staff", "auditor"}),
    "audit": frozenset({"auditor"}),
    "vocabulary": frozenset({"registrar"}),   # categories, status words, custom fields
    "baseline.create": frozenset({"registrar", "auditor"}),
    "document.change": frozenset({"registrar"}),
    # Service records (cmdb.service): a registrar manages contracts; asset staff open and
    # progress repairs and issue spares (registrars too). Location scopes apply to the CIs.
    "contract.manage": frozenset({"registrar"}),
    "repair": frozenset({"asset_staff", "registrar"}),
    "spare": frozenset({"asset_staff", "registrar"}),
    # Service records: levels are contract terms; anyone but a viewer may report a fault;
    # service engineers handle faults and run maintenance rounds.
    "service_level.change": frozenset({"registrar"}),
    "fault.report": frozenset({"asset_staff", "reviewer", "auditor", "registrar", "engineer"}),
    "fault.handle": frozenset({"engineer", "registrar"}),
    "maintenance.plan": frozenset({"engineer", "registrar"}),
    "maintenance.check": frozenset({"engineer", "asset_staff"}),
    "tokens": frozenset(),
    "backup": frozenset(),
    "restore": frozenset(),
}

# Roles limited to some fields of a CI when they change one ("location" is its LOCATED_IN link).
FIELDS_BY_ROLE: dict[str, frozenset[str]] = {
    "asset_staff": frozenset({"status", "location"}),
}


@dataclass(frozen=True)
class Caller:
    name: str
    role: str
    scope: str | None = None   # key of a Location: writes only inside its subtree

    @property
    def actor(self) -> str:
        """How this caller is named in history entries."""
        return self.name


def roles_for(action: str) -> frozenset[str]:
    return ACTIONS[action] | {"admin"}


def may(caller: Caller, action: str) -> bool:
    return caller.role in roles_for(action)


def require(caller: Caller, action: str, what: str | None = None) -> None:
    if not may(caller, action):
        allowed = sorted(roles_for(action))
        raise PermissionDenied(
            _("The role %(role)s may not %(action)s; it needs one of: %(allowed)s",
              role=repr(caller.role), action=_(what) if what else action, allowed=", ".join(allowed)),
            {"role": caller.role, "allowed_roles": allowed})


def refused_fields(caller: Caller, fields: Iterable[str]) -> list[str]:
    """The fields of a CI the caller may not change (all may be changed unless limited)."""
    allowed = FIELDS_BY_ROLE.get(caller.role)
    if allowed is None:
        return []
    return sorted(set(fields) - allowed)


def fields_message(caller: Caller, refused: list[str]) -> str:
    allowed = sorted(FIELDS_BY_ROLE.get(caller.role, ()))
    return _("The role %(role)s may change only a CI's %(allowed)s, not: %(refused)s",
             role=repr(caller.role), allowed=" and ".join(allowed), refused=", ".join(refused))


def require_fields(caller: Caller, fields: Iterable[str]) -> None:
    refused = refused_fields(caller, fields)
    if refused:
        raise PermissionDenied(fields_message(caller, refused),
                               {"role": caller.role, "fields": refused,
                                "allowed_fields": sorted(FIELDS_BY_ROLE[caller.role])})


def scope_keys(graph: Graph, caller: Caller) -> frozenset[str]:
    """Every key a scoped caller may write: its location and everything inside it."""
    assert caller.scope is not None
    return frozenset(graph.subtree_keys_if_any(caller.scope))


def require_in_scope(graph: Graph, caller: Caller, keys: Iterable[str | None]) -> None:
    """Refuse when any of ``keys`` (CIs to change, locations to move them to) is outside the
    caller's location scope. ``None`` stands for "no location", which is outside any scope."""
    if caller.scope is None:
        return
    wanted = list(keys)
    inside = graph.keys_inside(caller.scope, [k for k in wanted if k is not None])
    _refuse_outside(caller, {k or "(no location)" for k in wanted if k not in inside})


def require_chains_in_scope(caller: Caller, chains: dict[str, Iterable[str]]) -> None:
    """``require_in_scope`` for keys whose containment chains (the key and every location
    around it) the caller has already read."""
    if caller.scope is None:
        return
    _refuse_outside(caller, {k for k, chain in chains.items() if caller.scope not in chain})


def _refuse_outside(caller: Caller, outside_keys: set[str]) -> None:
    outside = sorted(outside_keys)
    if outside:
        shown = ", ".join(repr(k) for k in outside[:20]) + (" …" if len(outside) > 20 else "")
        raise PermissionDenied(_("This token may change only CIs inside location %(scope)s; "
                                 "outside it: %(keys)s", scope=repr(caller.scope), keys=shown),
                               {"scope": caller.scope, "outside_scope": outside})
