"""Advised schedules (supply temperatures, the pressure plant's lift, station shares) and their acceptance.

A schedule is stored ``proposed``. ``accept_schedule`` makes it the one the plant follows: in one
transaction it supersedes the accepted one, records who accepted it (the acceptance row and the audit row)
and calls ``send`` with its setpoints — if sending fails, nothing is accepted. ``rollback_schedule`` takes an
accepted schedule back and restores the one it superseded while that still runs (else the plant goes back to
its heating curve: ``send`` gets no rows). Only a role allowed ``control.accept`` (or the command line) may.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from heattwin.permissions import granting_role
from store.audit import Actor, audited, record_event
from store.db import transaction

ACCEPT_ACTION = "control.accept"
PLAN_ACTION = "control.plan"
CLI_ROLE = "cli"
SETPOINT_COLUMNS = ["valid_from", "element_id", "kind", "value"]
STATION_COLUMNS = ["station_id", "ratio_before", "ratio", "median_before_c", "median_after_c", "min_before_c",
                   "min_after_c", "in_band_before", "in_band_after", "rooms"]
SCHEDULE_COLUMNS = ["id", "issued_at", "expires_at", "created_at", "created_by", "state", "summary"]
ACCEPTANCE_COLUMNS = ["id", "schedule_id", "action", "at", "username", "role", "note", "sent_via", "restored_id"]

Send = Callable[[pd.DataFrame, dict], str]   # (setpoints, schedule row) -> what it went through


def _allowed(actor: Actor, action: str) -> bool:
    return actor.role == CLI_ROLE or (bool(actor.role) and granting_role([actor.role], action) is not None)


def _refuse(pool: ConnectionPool, actor: Actor, action: str, schedule_id) -> None:
    record_event(pool, actor, action, outcome="refused", object_type="control_schedule", object_id=schedule_id,
                 detail=f"role {actor.role or '(none)'} may not {action}")
    raise PermissionError(f"{actor.username} ({actor.role or 'no role'}) may not {action}: it needs a role "
                          f"allowed {action} (heattwin.permissions)")


def add_schedule(pool: ConnectionPool, *, issued_at, expires_at, setpoints: pd.DataFrame, stations: pd.DataFrame,
                 summary: dict, actor: Actor) -> int:
    """Store a proposed schedule with its setpoints and station advice; returns its id (audited)."""
    if not _allowed(actor, PLAN_ACTION) and actor.username != "system":
        _refuse(pool, actor, PLAN_ACTION, "")
    rows = setpoints[SETPOINT_COLUMNS]
    with audited(pool, actor, PLAN_ACTION, "control_schedule") as change:
        conn = change.conn
        schedule_id = conn.execute(
            "INSERT INTO control_schedule (issued_at, expires_at, created_by, summary) VALUES (%s, %s, %s, %s)"
            " RETURNING id", (issued_at, expires_at, actor.username, Jsonb(summary))).fetchone()[0]
        with conn.cursor().copy("COPY control_setpoint (schedule_id, valid_from, element_id, kind, value)"
                                " FROM STDIN") as copy:
            for valid_from, element_id, kind, value in rows.itertuples(index=False):
                copy.write_row((schedule_id, pd.Timestamp(valid_from).to_pydatetime(), str(element_id), str(kind),
                                float(value)))
        if len(stations):
            table = stations.reset_index().rename(columns={"index": "station_id"}) \
                if "station_id" not in stations.columns else stations
            with conn.cursor().copy(f"COPY control_station_advice (schedule_id, {', '.join(STATION_COLUMNS)})"
                                    " FROM STDIN") as copy:
                for row in table.reindex(columns=STATION_COLUMNS).itertuples(index=False):
                    copy.write_row((schedule_id, *_station_values(row)))
        change.object_id = str(schedule_id)
        change.after = {"issued_at": str(issued_at), "expires_at": str(expires_at), "setpoints": len(rows),
                        "stations": len(stations)}
    return int(schedule_id)


def _station_values(row) -> list:
    """One station's advice as the table takes it: NULL for what is unknown, the room count whole — a station
    balanced on its heat meter (no room sensors) counts none; it comes in as NaN, or without the room columns at
    all when no station has room readings."""
    values = [None if pd.isna(v) else v for v in row]
    rooms = STATION_COLUMNS.index("rooms")
    values[rooms] = int(values[rooms] or 0)
    return values


def get_schedule(pool: ConnectionPool, schedule_id: int) -> dict | None:
    """The schedule row with ``setpoints`` and ``stations`` frames; None if there is none of that id."""
    with pool.connection() as conn:
        row = conn.execute(f"SELECT {', '.join(SCHEDULE_COLUMNS)} FROM control_schedule WHERE id = %s",
                           (schedule_id,)).fetchone()
        if row is None:
            return None
        points = conn.execute("SELECT valid_from, element_id, kind, value FROM control_setpoint"
                              " WHERE schedule_id = %s ORDER BY kind, element_id, valid_from", (schedule_id,)).fetchall()
        stations = conn.execute(f"SELECT {', '.join(STATION_COLUMNS)} FROM control_station_advice"
                                " WHERE schedule_id = %s ORDER BY station_id", (schedule_id,)).fetchall()
    out = dict(zip(SCHEDULE_COLUMNS, row, strict=True))
    out["setpoints"] = pd.DataFrame(points, columns=SETPOINT_COLUMNS)
    out["stations"] = pd.DataFrame(stations, columns=STATION_COLUMNS)
    return out


def get_schedule_as_of(pool: ConnectionPool, at) -> dict | None:
    """The newest schedule issued at or before ``at`` (what the advice said then, for the wall's strip and its
    replay); None if none had been issued."""
    with pool.connection() as conn:
        row = conn.execute("SELECT id FROM control_schedule WHERE issued_at <= %s ORDER BY issued_at DESC, id DESC"
                           " LIMIT 1", (at,)).fetchone()
    return None if row is None else get_schedule(pool, row[0])


def list_schedules(pool: ConnectionPool, *, limit: int = 50) -> pd.DataFrame:
    """The newest schedules first (without their setpoints)."""
    with pool.connection() as conn:
        rows = conn.execute(f"SELECT {', '.join(SCHEDULE_COLUMNS)} FROM control_schedule"
                            " ORDER BY issued_at DESC, id DESC LIMIT %s", (limit,)).fetchall()
    return pd.DataFrame(rows, columns=SCHEDULE_COLUMNS)


def get_accepted(pool: ConnectionPool) -> dict | None:
    """The schedule the plant follows now, if any."""
    with pool.connection() as conn:
        row = conn.execute("SELECT id FROM control_schedule WHERE state = 'accepted'").fetchone()
    return None if row is None else get_schedule(pool, row[0])


def list_acceptances(pool: ConnectionPool, *, schedule_id: int | None = None, limit: int = 100) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute(f"SELECT {', '.join(ACCEPTANCE_COLUMNS)} FROM control_acceptance"
                            " WHERE %s::bigint IS NULL OR schedule_id = %s ORDER BY at DESC, id DESC LIMIT %s",
                            (schedule_id, schedule_id, limit)).fetchall()
    return pd.DataFrame(rows, columns=ACCEPTANCE_COLUMNS)


def accept_schedule(pool: ConnectionPool, schedule_id: int, *, actor: Actor, send: Send, note: str = "") -> dict:
    """Make ``schedule_id`` the schedule the plant follows and send its setpoints (see the module's note)."""
    if not _allowed(actor, ACCEPT_ACTION):
        _refuse(pool, actor, ACCEPT_ACTION, schedule_id)
    schedule = get_schedule(pool, schedule_id)
    if schedule is None:
        raise LookupError(f"no control schedule {schedule_id}")
    if schedule["state"] != "proposed":
        raise ValueError(f"control schedule {schedule_id} is {schedule['state']}: only a proposed one can be accepted")
    with audited(pool, actor, ACCEPT_ACTION, "control_schedule", schedule_id) as change:
        conn = change.conn
        previous = conn.execute("UPDATE control_schedule SET state = 'superseded' WHERE state = 'accepted'"
                                " RETURNING id").fetchone()
        conn.execute("UPDATE control_schedule SET state = 'accepted' WHERE id = %s", (schedule_id,))
        via = send(schedule["setpoints"], schedule)
        conn.execute("INSERT INTO control_acceptance (schedule_id, action, username, role, note, sent_via)"
                     " VALUES (%s, 'accept', %s, %s, %s, %s)", (schedule_id, actor.username, actor.role, note, via))
        change.before = {"state": "proposed", "accepted": previous[0] if previous else None}
        change.after = {"state": "accepted", "setpoints": len(schedule["setpoints"]), "sent_via": via}
        change.detail = note
    return {"schedule_id": schedule_id, "superseded": previous[0] if previous else None, "sent_via": via}


def rollback_schedule(pool: ConnectionPool, schedule_id: int, *, actor: Actor, send: Send, note: str = "",
                      at=None) -> dict:
    """Take the accepted ``schedule_id`` back; the schedule it superseded runs again if it has not expired by
    ``at`` (default now), else the plant returns to its heating curve."""
    if not _allowed(actor, ACCEPT_ACTION):
        _refuse(pool, actor, ACCEPT_ACTION, schedule_id)
    at = pd.Timestamp.now(tz="UTC") if at is None else pd.Timestamp(at)
    schedule = get_schedule(pool, schedule_id)
    if schedule is None or schedule["state"] != "accepted":
        raise ValueError(f"control schedule {schedule_id} is not the accepted one: nothing to roll back")
    with transaction(pool) as conn:
        row = conn.execute(
            "SELECT s.id FROM control_acceptance a JOIN control_schedule s ON s.id = a.schedule_id"
            " WHERE a.action = 'accept' AND a.schedule_id <> %s AND s.state = 'superseded' AND s.expires_at > %s"
            " AND a.at <= (SELECT max(at) FROM control_acceptance WHERE schedule_id = %s AND action = 'accept')"
            " ORDER BY a.at DESC, a.id DESC LIMIT 1", (schedule_id, at.to_pydatetime(), schedule_id)).fetchone()
    restored = get_schedule(pool, row[0]) if row else None
    with audited(pool, actor, ACCEPT_ACTION, "control_schedule", schedule_id) as change:
        conn = change.conn
        conn.execute("UPDATE control_schedule SET state = 'rolled_back' WHERE id = %s", (schedule_id,))
        if restored is not None:
            conn.execute("UPDATE control_schedule SET state = 'accepted' WHERE id = %s", (restored["id"],))
        rows = restored["setpoints"] if restored is not None else pd.DataFrame(columns=SETPOINT_COLUMNS)
        via = send(rows, restored or {})
        conn.execute("INSERT INTO control_acceptance (schedule_id, action, username, role, note, sent_via,"
                     " restored_id) VALUES (%s, 'rollback', %s, %s, %s, %s, %s)",
                     (schedule_id, actor.username, actor.role, note, via, restored["id"] if restored else None))
        change.before = {"state": "accepted"}
        change.after = {"state": "rolled_back", "restored": restored["id"] if restored else None, "sent_via": via}
        change.detail = note
    return {"schedule_id": schedule_id, "restored": restored["id"] if restored else None, "sent_via": via}
