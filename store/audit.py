"""The audit trail: who did what, as which role, from where, with the object before and after.

The role is the one that allowed the action; a login or a refusal, which no role allowed, records the
roles the user held then.

Every write a person makes goes through ``audited``: the change and its audit row are one
transaction, so neither exists without the other. Refusals, logins and failed logins are recorded
with ``record_event`` in a transaction of their own. The table is append-only (a trigger refuses
UPDATE, DELETE and TRUNCATE).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from heattwin.choices import audit_outcome_values
from store.db import transaction

AUDIT_COLUMNS = ("id", "at", "username", "role", "action", "object_type", "object_id", "before", "after",
                 "outcome", "detail", "client_addr")


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user (with the role that allowed it), a kiosk, the command line or the system."""

    username: str
    role: str = ""
    client_addr: str = ""
    display_name: str = ""

    @property
    def label(self) -> str:
        """How the change is signed where people read it (an alarm's 'acknowledged by')."""
        return self.display_name or self.username


SYSTEM = Actor("system")


@dataclass
class Change:
    """What an audited block changed: set ``before``/``after`` (JSON-able) and, once known, ``object_id``."""

    conn: psycopg.Connection
    object_id: str = ""
    before: dict | None = None
    after: dict | None = None
    detail: str = ""
    extra: dict = field(default_factory=dict)


def _jsonb(value):
    return None if value is None else Jsonb(value, dumps=lambda v: json.dumps(v, default=str, ensure_ascii=False))


def insert_event(conn: psycopg.Connection, actor: Actor, action: str, *, object_type: str, object_id: str,
            before, after, outcome: str, detail: str) -> None:
    if outcome not in audit_outcome_values:
        raise ValueError(f"audit outcome {outcome!r} is not one of {audit_outcome_values}")
    # No role allowed a login or a refusal: the row then says which roles the user held (comma-separated).
    conn.execute(
        "INSERT INTO audit_event (username, role, action, object_type, object_id, before, after, outcome,"
        " detail, client_addr) VALUES (%s, COALESCE(NULLIF(%s, ''),"
        " (SELECT array_to_string(roles, ',') FROM app_user WHERE username = %s), ''),"
        " %s, %s, %s, %s, %s, %s, %s, %s)",
        (actor.username, actor.role, actor.username, action, object_type, str(object_id or ""), _jsonb(before),
         _jsonb(after), outcome, detail[:2000], actor.client_addr))


@contextmanager
def audited(pool: ConnectionPool, actor: Actor, action: str, object_type: str,
            object_id: str | int = "") -> Iterator[Change]:
    """One transaction for a change and its audit row: the row is written when the block ends without
    an exception, so a failed change leaves no row and a failed row undoes the change."""
    with transaction(pool) as conn:
        change = Change(conn, object_id=str(object_id))
        yield change
        insert_event(conn, actor, action, object_type=object_type, object_id=change.object_id, before=change.before,
                after=change.after, outcome="ok", detail=change.detail)


def record_event(pool: ConnectionPool, actor: Actor, action: str, *, outcome: str = "ok", object_type: str = "",
                 object_id: str | int = "", detail: str = "", after: dict | None = None) -> None:
    """An audit row of its own: a login, a failed login, a refusal, a change that failed."""
    with transaction(pool) as conn:
        insert_event(conn, actor, action, object_type=object_type, object_id=str(object_id), before=None, after=after,
                outcome=outcome, detail=detail)


def _filters(username, object_type, object_id, action, outcome, since, until) -> tuple[sql.Composable, list]:
    clauses, params = [], []
    for column, value in (("username", username), ("object_type", object_type), ("object_id", object_id),
                          ("action", action), ("outcome", outcome)):
        if value:
            clauses.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    if since is not None:
        clauses.append(sql.SQL("at >= %s"))
        params.append(since)
    if until is not None:
        clauses.append(sql.SQL("at < %s"))
        params.append(until)
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")
    return where, params


def list_audit_events(pool: ConnectionPool, *, username: str | None = None, object_type: str | None = None,
                      object_id: str | None = None, action: str | None = None, outcome: str | None = None,
                      since: datetime | None = None, until: datetime | None = None, limit: int = 200,
                      offset: int = 0) -> pd.DataFrame:
    """Audit rows matching every filter given, newest first."""
    where, params = _filters(username, object_type, object_id, action, outcome, since, until)
    query = sql.SQL("SELECT id, at, username, role, action, object_type, object_id, before, after, outcome::text,"
                    " detail, client_addr FROM audit_event{} ORDER BY at DESC, id DESC LIMIT %s OFFSET %s").format(where)
    with pool.connection() as conn:
        rows = conn.execute(query, (*params, limit, offset)).fetchall()
    return pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))


def count_audit_events(pool: ConnectionPool, **filters) -> int:
    """How many rows ``list_audit_events`` would page through with the same filters."""
    where, params = _filters(filters.get("username"), filters.get("object_type"), filters.get("object_id"),
                             filters.get("action"), filters.get("outcome"), filters.get("since"),
                             filters.get("until"))
    with pool.connection() as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM audit_event{}").format(where), params).fetchone()[0]
