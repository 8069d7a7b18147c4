"""API tokens, stored hashed in the graph (so backups carry them)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from cmdb.errors import Conflict, InvalidInput, NotFound
from cmdb.graph.connection import Connection
from cmdb.graph.schema import ROLES, utc_now
from cmdb.i18n import _


TOKEN_PREFIX = "cmdb_"

CREATE_TOKEN = "CREATE (t:ApiToken) SET t = $props"
TOKEN_BY_HASH = """
MATCH (t:ApiToken {token_hash: $hash})
WHERE t.revoked_at IS NULL
RETURN t.name AS name, t.role AS role, t.scope AS scope
"""
LIST_TOKENS = """
MATCH (t:ApiToken)
RETURN t.name AS name, t.role AS role, t.created_at AS created_at, t.revoked_at AS revoked_at,
       t.created_by AS created_by, t.scope AS scope
ORDER BY t.name
"""
REVOKE_TOKEN = """
MATCH (t:ApiToken {name: $name})
WHERE t.revoked_at IS NULL
SET t.revoked_at = $at
RETURN t.name AS name
"""
SCOPE_LOCATION = "MATCH (l:CI {key: $key}) WHERE l:Location RETURN l.key AS key"
COUNT_ACTIVE_ADMINS = "MATCH (t:ApiToken {role: 'admin'}) WHERE t.revoked_at IS NULL RETURN count(t) AS n"


@dataclass(frozen=True)
class TokenInfo:
    name: str
    role: str
    created_at: str | None = None
    revoked_at: str | None = None
    created_by: str | None = None
    scope: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(_("Unknown role %(role)s; allowed: %(allowed)s", role=repr(role),
                             allowed=", ".join(ROLES)),
                           field="role", value=role, allowed=list(ROLES))
    return role


def create_token(graph: Connection, name: str, role: str, *, created_by: str = "cli",
                 scope: str | None = None) -> str:
    """Create a token and return its secret, which is never stored and cannot be shown again.

    With ``scope`` (a Location's key) the token writes, scans and prints labels only for CIs
    inside that location."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(_("A token needs a name of 1 to 100 characters"), field="name", value=name)
    validate_role(role)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    props = {"name": name, "role": role, "token_hash": hash_token(token),
             "created_at": utc_now(), "created_by": created_by}
    if scope is not None:
        props["scope"] = scope

    def work(tx: ManagedTransaction) -> None:
        if scope is not None and not tx.run(SCOPE_LOCATION, key=scope).single():
            raise InvalidInput(_("The scope %(scope)s is not the key of a Location in the register",
                                 scope=repr(scope)),
                               field="scope", value=scope)
        if tx.run("MATCH (t:ApiToken {name: $name}) RETURN t.name AS n", name=name).single():
            raise Conflict(_("A token named %(name)s already exists; choose another name",
                             name=repr(name)),
                           {"name": name})
        tx.run(CREATE_TOKEN, props=props).consume()
    try:
        graph.write(work)
    except ConstraintError as exc:
        raise Conflict(_("A token named %(name)s already exists", name=repr(name)),
                       {"name": name}) from exc
    return token


def authenticate(graph: Connection, token: str) -> TokenInfo | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    rows = graph.read(TOKEN_BY_HASH, hash=hash_token(token))
    return TokenInfo(rows[0]["name"], rows[0]["role"], scope=rows[0]["scope"]) if rows else None


def list_tokens(graph: Connection) -> list[TokenInfo]:
    return [TokenInfo(**r) for r in graph.read(LIST_TOKENS)]


def revoke_token(graph: Connection, name: str) -> None:
    at = utc_now()

    def work(tx: ManagedTransaction) -> bool:
        return tx.run(REVOKE_TOKEN, name=name, at=at).single() is not None
    if not graph.write(work):
        raise NotFound(_("No active token named %(name)s", name=repr(name)), {"name": name})


def free_token_name(graph: Connection, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``, … : a name no token has (revoked ones included)."""
    taken = {r["name"] for r in graph.read(LIST_TOKENS)}
    name, n = wanted, 1
    while name in taken:
        n += 1
        name = f"{wanted}-{n}"
    return name


def has_admin_token(graph: Connection) -> bool:
    return graph.read(COUNT_ACTIVE_ADMINS)[0]["n"] > 0
