"""Sessions of the web pages, kept in the graph.

In the graph, a restart of ``cmdb serve`` does not sign everyone out (auditors mid-campaign,
staff scanning labels), and every server process sharing the engine sees the same sessions.
Only the SHA-256 of a session id is stored; the id itself lives in the browser's cookie.
Sessions are not in backups (``WebSession`` is not a system label): a restored register
starts with everyone signed out.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from neo4j import ManagedTransaction

from cmdb.graph.schema import SESSION_LABEL
from cmdb.graph.connection import Connection
from cmdb.graph.tokens import hash_token

IDLE_SECONDS = 24 * 3600
MAX_AGE_SECONDS = 14 * 24 * 3600
MAX_SESSIONS = 10_000
# A session's last use is written at most this often, not on every page view.
TOUCH_AFTER_SECONDS = 300
SESSION_ID_MAX_LENGTH = 100

CREATE_SESSION = f"CREATE (s:{SESSION_LABEL}) SET s = $props"
SESSION_WITH_TOKEN = f"""
MATCH (s:{SESSION_LABEL} {{id_hash: $id_hash}})
OPTIONAL MATCH (t:ApiToken {{token_hash: s.token_hash}})
WHERE t.revoked_at IS NULL
RETURN s.csrf AS csrf, s.created AS created, s.last_used AS last_used,
       t.name AS name, t.role AS role, t.scope AS scope
"""
TOUCH_SESSION = f"MATCH (s:{SESSION_LABEL} {{id_hash: $id_hash}}) SET s.last_used = $now"
DROP_SESSION = f"MATCH (s:{SESSION_LABEL} {{id_hash: $id_hash}}) DETACH DELETE s"
DROP_EXPIRED_SESSIONS = f"""
MATCH (s:{SESSION_LABEL})
WHERE s.last_used < $idle_before OR s.created < $created_before
DETACH DELETE s
"""
DROP_OLDEST_OF_TOKEN = f"""
MATCH (s:{SESSION_LABEL} {{token_hash: $token_hash}})
WITH s ORDER BY s.created DESC, s.last_used DESC SKIP $keep
DETACH DELETE s
"""
COUNT_SESSIONS = f"MATCH (s:{SESSION_LABEL}) RETURN count(s) AS n"
DROP_OLDEST_SESSIONS = f"""
MATCH (s:{SESSION_LABEL})
WITH s ORDER BY s.last_used LIMIT $n
DETACH DELETE s
"""


@dataclass(frozen=True)
class WebSession:
    """A live session and who it speaks for now (the token's current name and role)."""
    csrf: str
    name: str
    role: str
    scope: str | None = None


def _expired(created: float, last_used: float, now: float) -> bool:
    return now - last_used > IDLE_SECONDS or now - created > MAX_AGE_SECONDS


def open_session(graph: Connection, token_hash: str, max_per_token: int = 10) -> tuple[str, str]:
    """A new session for the token with this hash: ``(session id, CSRF token)``.

    Expired sessions go in the same transaction; so do the token's oldest sessions beyond
    ``max_per_token`` (one user cannot crowd out everyone else's), and past ``MAX_SESSIONS``
    the least recently used.
    """
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = time.time()

    def work(tx: ManagedTransaction) -> None:
        tx.run(DROP_EXPIRED_SESSIONS, idle_before=now - IDLE_SECONDS,
               created_before=now - MAX_AGE_SECONDS).consume()
        tx.run(DROP_OLDEST_OF_TOKEN, token_hash=token_hash, keep=max(max_per_token - 1, 0)).consume()
        excess = tx.run(COUNT_SESSIONS).single()["n"] - MAX_SESSIONS + 1
        if excess > 0:
            tx.run(DROP_OLDEST_SESSIONS, n=excess).consume()
        tx.run(CREATE_SESSION, props={"id_hash": hash_token(session_id), "token_hash": token_hash,
                                      "csrf": csrf, "created": now, "last_used": now}).consume()
    graph.write(work)
    return session_id, csrf


def find_session(graph: Connection, session_id: str | None) -> WebSession | None:
    """The live session with this id; ``None`` (and the session gone) once expired or once
    its token was revoked."""
    if not session_id or len(session_id) > SESSION_ID_MAX_LENGTH:
        return None
    id_hash = hash_token(session_id)
    rows = graph.read(SESSION_WITH_TOKEN, id_hash=id_hash)
    if not rows:
        return None
    row, now = rows[0], time.time()
    if row["role"] is None or _expired(row["created"], row["last_used"], now):
        graph.write(lambda tx: tx.run(DROP_SESSION, id_hash=id_hash).consume())
        return None
    if now - row["last_used"] > TOUCH_AFTER_SECONDS:
        graph.write(lambda tx: tx.run(TOUCH_SESSION, id_hash=id_hash, now=now).consume())
    return WebSession(row["csrf"], row["name"], row["role"], row["scope"])


def close_session(graph: Connection, session_id: str | None) -> None:
    if session_id and len(session_id) <= SESSION_ID_MAX_LENGTH:
        graph.write(lambda tx: tx.run(DROP_SESSION, id_hash=hash_token(session_id)).consume())
