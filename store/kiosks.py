"""Kiosk tokens: the video-wall PCs see the wall read-only without a login. Only a token's SHA-256 is
stored; revoking one takes effect on the wall's next request (nothing caches it)."""

from __future__ import annotations

import hashlib
import secrets

import pandas as pd
from psycopg_pool import ConnectionPool

from store.audit import Actor, audited

TOKEN_BYTES = 32  # 256 bits of randomness: not guessable, long enough not to be typed by hand
KIOSK_COLUMNS = ("id", "name", "created_at", "created_by", "revoked_at", "last_seen_at")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_kiosk(pool: ConnectionPool, name: str, *, actor: Actor) -> str:
    """A new kiosk token named ``name`` (a live name is unique); shown once, then only its hash is kept."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValueError("kiosk name: 1-100 characters, e.g. 'wall-left'")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with audited(pool, actor, "kiosk.manage", "kiosk", name) as change:
        if change.conn.execute("SELECT 1 FROM kiosk_token WHERE name = %s AND revoked_at IS NULL",
                               (name,)).fetchone():
            raise ValueError(f"kiosk {name!r} already has a live token: revoke it first (heattwin kiosk revoke)")
        change.conn.execute("INSERT INTO kiosk_token (name, token_sha256, created_by) VALUES (%s, %s, %s)",
                            (name, _digest(token), actor.username))
        change.detail = "kiosk token added"
    return token


def get_kiosk(pool: ConnectionPool, token: str) -> str | None:
    """The name of the live kiosk a token belongs to, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    with pool.connection() as conn:
        row = conn.execute("SELECT name FROM kiosk_token WHERE token_sha256 = %s AND revoked_at IS NULL",
                           (_digest(token),)).fetchone()
    return None if row is None else row[0]


def list_kiosks(pool: ConnectionPool) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute("SELECT id, name, created_at, created_by, revoked_at, last_seen_at FROM kiosk_token"
                            " ORDER BY revoked_at IS NOT NULL, name").fetchall()
    return pd.DataFrame(rows, columns=list(KIOSK_COLUMNS))


def revoke_kiosk(pool: ConnectionPool, name: str, *, actor: Actor) -> int:
    """Revoke the live token of kiosk ``name``; returns how many were live (0 or 1)."""
    with audited(pool, actor, "kiosk.manage", "kiosk", name) as change:
        revoked = change.conn.execute("UPDATE kiosk_token SET revoked_at = now() WHERE name = %s"
                                      " AND revoked_at IS NULL", (name,)).rowcount
        change.detail = "kiosk token revoked" if revoked else "no live token to revoke"
    return revoked
