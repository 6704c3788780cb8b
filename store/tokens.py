"""Bearer tokens of the data sources allowed to post readings; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

from psycopg_pool import ConnectionPool

from store.audit import SYSTEM, Actor, audited


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_token(pool: ConnectionPool, data_source: str, *, actor: Actor = SYSTEM) -> str:
    """A new token for ``data_source``; shown once, since the database keeps only its hash. Audited."""
    if not data_source or not data_source.strip():
        raise ValueError("a token needs a data source name, e.g. 'scada-north'")
    token = secrets.token_urlsafe(32)
    with audited(pool, actor, "token.manage", "data_source", data_source.strip()) as change:
        change.conn.execute("INSERT INTO data_source_token (token_sha256, data_source) VALUES (%s, %s)",
                            (_digest(token), data_source.strip()))
        change.detail = "token added"
    return token


def get_data_source(pool: ConnectionPool, token: str) -> str | None:
    """The data source a token belongs to, or None when it is unknown or revoked."""
    if not token:
        return None
    with pool.connection() as conn:
        row = conn.execute("SELECT data_source FROM data_source_token"
                           " WHERE token_sha256 = %s AND revoked_at IS NULL", (_digest(token),)).fetchone()
    return None if row is None else row[0]


def revoke_tokens(pool: ConnectionPool, data_source: str, *, actor: Actor = SYSTEM) -> int:
    """Revoke every token of ``data_source``; returns how many were live. Audited."""
    with audited(pool, actor, "token.manage", "data_source", data_source) as change:
        revoked = change.conn.execute("UPDATE data_source_token SET revoked_at = now()"
                                      " WHERE data_source = %s AND revoked_at IS NULL", (data_source,)).rowcount
        change.detail = f"{revoked} token(s) revoked"
    return revoked
