"""Alarms: raised on an element for a cause, acknowledged, cleared. One open alarm per cause and element.

Every state change also writes an ``alarm_event`` row (who, when, what), in the same transaction.
"""

from __future__ import annotations

import pandas as pd
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from heattwin.choices import alarm_severity_values
from store.db import transaction

OPEN_ALARM_COLUMNS = ("id", "asset_id", "cause", "severity", "state", "message", "raised_at", "last_seen_at",
                      "raise_count", "kind", "name", "lon", "lat")


def add_alarm(pool: ConnectionPool, *, asset_id: str, cause: str, severity: str, message: str = "",
              details: dict | None = None, raised_at=None, actor: str = "system") -> int:
    """Raise an alarm (or re-raise the open one of the same cause on the element); return its id."""
    if severity not in alarm_severity_values:
        raise ValueError(f"alarm severity {severity!r} is not one of {alarm_severity_values}")
    with transaction(pool) as conn:
        row = conn.execute(
            "INSERT INTO alarm (asset_id, cause, severity, message, details, raised_at, last_seen_at)"
            " VALUES (%s, %s, %s, %s, %s, coalesce(%s, now()), coalesce(%s, now()))"
            " ON CONFLICT (asset_id, cause) WHERE state <> 'cleared' DO UPDATE SET"
            " last_seen_at = EXCLUDED.last_seen_at, raise_count = alarm.raise_count + 1,"
            " severity = EXCLUDED.severity, message = EXCLUDED.message"
            " RETURNING id, raise_count",
            (asset_id, cause, severity, message, Jsonb(details or {}), raised_at, raised_at),
        ).fetchone()
        conn.execute("INSERT INTO alarm_event (alarm_id, actor, action) VALUES (%s, %s, %s)",
                     (row[0], actor, "raised" if row[1] == 1 else "re_raised"))
    return row[0]


def get_alarm(pool: ConnectionPool, alarm_id: int) -> dict | None:
    with pool.connection() as conn:
        cur = conn.execute(
            "SELECT id, asset_id, cause, severity::text, state::text, message, details, raised_at,"
            " last_seen_at, raise_count, acknowledged_at, acknowledged_by, cleared_at, cleared_by"
            " FROM alarm WHERE id = %s", (alarm_id,))
        row = cur.fetchone()
        names = [d.name for d in cur.description]
    return None if row is None else dict(zip(names, row, strict=True))


def list_open_alarms(pool: ConnectionPool, *, asset_id: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Open (raised or acknowledged) alarms, newest first, with their element's kind, name and location."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT a.id, a.asset_id, a.cause, a.severity::text, a.state::text, a.message, a.raised_at,"
            " a.last_seen_at, a.raise_count, e.kind::text, e.name, e.lon, e.lat"
            " FROM alarm a JOIN asset e ON e.id = a.asset_id"
            " WHERE a.state <> 'cleared' AND (%s::text IS NULL OR a.asset_id = %s)"
            " ORDER BY a.raised_at DESC, a.id DESC LIMIT %s",
            (asset_id, asset_id, limit)).fetchall()
    return pd.DataFrame(rows, columns=list(OPEN_ALARM_COLUMNS))


def count_open_by_severity(pool: ConnectionPool) -> dict[str, int]:
    """Open alarms per severity; every severity is present (0 when none)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT severity::text, count(*) FROM alarm WHERE state <> 'cleared' GROUP BY 1").fetchall()
    counts = dict.fromkeys(alarm_severity_values, 0)
    counts.update(dict(rows))
    return counts


def open_alarms_signature(pool: ConnectionPool) -> tuple:
    """Cheap fingerprint of the open alarms (count, newest change): lets the wall skip unchanged refreshes."""
    with pool.connection() as conn:
        return tuple(conn.execute(
            "SELECT count(*), max(greatest(last_seen_at, coalesce(acknowledged_at, raised_at))), max(id)"
            " FROM alarm WHERE state <> 'cleared'").fetchone())


def update_alarm_state(pool: ConnectionPool, alarm_id: int, state: str, *, actor: str, note: str = "") -> None:
    """Acknowledge or clear an open alarm."""
    if state not in ("acknowledged", "cleared"):
        raise ValueError(f"an alarm can be set to 'acknowledged' or 'cleared', not {state!r}")
    stamp = "acknowledged_at = now(), acknowledged_by = %s" if state == "acknowledged" else \
        "cleared_at = now(), cleared_by = %s"
    with transaction(pool) as conn:
        changed = conn.execute(
            f"UPDATE alarm SET state = %s, {stamp} WHERE id = %s AND state <> 'cleared'",  # stamp is ours
            (state, actor, alarm_id)).rowcount
        if not changed:
            raise ValueError(f"alarm {alarm_id} is not open")
        conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note) VALUES (%s, %s, %s, %s)",
                     (alarm_id, actor, state, note))
