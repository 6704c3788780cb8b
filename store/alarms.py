"""Alarms: raised on an element for a cause, acknowledged, cleared. One open alarm per cause and element.

Every state change also writes an ``alarm_event`` row (who, when, what), in the same transaction.
"""

from __future__ import annotations

import json

import pandas as pd
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from heattwin.choices import ALARM_EVIDENCE_CAUSES, alarm_severity_values
from store.audit import Actor, audited
from store.db import transaction

MAX_NOTE_CHARS = 1000
# What kind of job an alarm's work order is (heattwin.choices.WORK_ORDER_CATEGORY); others: equipment.
ALARM_CATEGORY = {"leak": "leak", "room_t_low": "room_cold", "compliance_low": "room_cold",
                  "station_t_supply_low": "no_heat", "station_dp_low": "no_heat"}

OPEN_ALARM_COLUMNS = ("id", "asset_id", "cause", "severity", "state", "message", "raised_at", "last_seen_at",
                      "raise_count", "kind", "name", "lon", "lat", "acknowledged_at", "acknowledged_by",
                      "acknowledged_by_name")


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


def revise_alarm(pool: ConnectionPool, alarm_id: int, *, asset_id: str, message: str, details: dict, at=None,
                 actor: str = "system") -> None:
    """New findings for an open alarm: its details and message, and its element when that moved (kept
    where it is when the new element already holds an open alarm of the same cause); an event says so."""
    with transaction(pool) as conn:
        old = conn.execute("SELECT asset_id, cause FROM alarm WHERE id = %s AND state <> 'cleared' FOR UPDATE",
                           (alarm_id,)).fetchone()
        if old is None:
            return
        taken = conn.execute("SELECT 1 FROM alarm WHERE asset_id = %s AND cause = %s AND state <> 'cleared'"
                             " AND id <> %s", (asset_id, old[1], alarm_id)).fetchone()
        where = old[0] if taken else asset_id
        conn.execute("UPDATE alarm SET asset_id = %s, message = %s, details = %s,"
                     " last_seen_at = coalesce(%s, now()) WHERE id = %s",
                     (where, message, Jsonb(details), at, alarm_id))
        note = f"moved from {old[0]} to {where}" if where != old[0] else f"revised on {where}"
        conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note, at) VALUES (%s, %s, %s, %s,"
                     " coalesce(%s, now()))", (alarm_id, actor, "revised", note, at))


def get_alarm(pool: ConnectionPool, alarm_id: int) -> dict | None:
    with pool.connection() as conn:
        cur = conn.execute(
            "SELECT id, asset_id, cause, severity::text, state::text, message, details, raised_at,"
            " last_seen_at, raise_count, acknowledged_at, acknowledged_by, cleared_at, cleared_by"
            " FROM alarm WHERE id = %s", (alarm_id,))
        row = cur.fetchone()
        names = [d.name for d in cur.description]
    return None if row is None else dict(zip(names, row, strict=True))


def _left_out(presented_only: bool) -> list[str]:
    """The causes a query leaves out: the evidence causes when only what the dispatcher is shown counts."""
    return list(ALARM_EVIDENCE_CAUSES) if presented_only else []


def list_open_alarms(pool: ConnectionPool, *, asset_id: str | list[str] | None = None, limit: int | None = None,
                     with_details: bool = False, presented_only: bool = False) -> pd.DataFrame:
    """Open (raised or acknowledged) alarms, newest first, with their element's kind, name and location
    (and each alarm's ``details`` with ``with_details``: what the wall words its messages from); of one
    element, or of several (an element and its sensors). ``presented_only``: what the wall presents
    (not the evidence causes, ``ALARM_EVIDENCE_CAUSES``)."""
    asset_ids = [asset_id] if isinstance(asset_id, str) else asset_id
    details = sql.SQL(", a.details" if with_details else "")
    query = sql.SQL(
        "SELECT a.id, a.asset_id, a.cause, a.severity::text, a.state::text, a.message, a.raised_at,"
        " a.last_seen_at, a.raise_count, e.kind::text, e.name, e.lon, e.lat, a.acknowledged_at, a.acknowledged_by,"
        " coalesce(nullif(u.display_name, ''), a.acknowledged_by){}"
        " FROM alarm a JOIN asset e ON e.id = a.asset_id LEFT JOIN app_user u ON u.username = a.acknowledged_by"
        " WHERE a.state <> 'cleared' AND (%s::text[] IS NULL OR a.asset_id = ANY(%s)) AND a.cause <> ALL(%s)"
        " ORDER BY a.raised_at DESC, a.id DESC LIMIT %s").format(details)
    with pool.connection() as conn:
        rows = conn.execute(query, (asset_ids, asset_ids, _left_out(presented_only), limit)).fetchall()
    return pd.DataFrame(rows, columns=[*OPEN_ALARM_COLUMNS, *(["details"] if with_details else [])])


def count_raised(pool: ConnectionPool, cause: str, *, since=None) -> int:
    """How many times alarms of ``cause`` were raised (re-raises included), in any state, since ``since``."""
    with pool.connection() as conn:
        row = conn.execute("SELECT coalesce(sum(raise_count), 0) FROM alarm"
                           " WHERE cause = %s AND (%s::timestamptz IS NULL OR raised_at >= %s)",
                           (cause, since, since)).fetchone()
    return int(row[0])


def count_open_by_severity(pool: ConnectionPool, *, presented_only: bool = False) -> dict[str, int]:
    """Open alarms per severity (``presented_only``: what the wall presents); every severity is present."""
    with pool.connection() as conn:
        rows = conn.execute("SELECT severity::text, count(*) FROM alarm WHERE state <> 'cleared'"
                            " AND cause <> ALL(%s) GROUP BY 1", (_left_out(presented_only),)).fetchall()
    counts = dict.fromkeys(alarm_severity_values, 0)
    counts.update(dict(rows))
    return counts


def open_alarms_signature(pool: ConnectionPool, *, presented_only: bool = False) -> tuple:
    """Cheap fingerprint of the open alarms (count, newest change): lets the wall skip unchanged refreshes."""
    with pool.connection() as conn:
        return tuple(conn.execute(
            "SELECT count(*), max(greatest(last_seen_at, coalesce(acknowledged_at, raised_at))), max(id)"
            " FROM alarm WHERE state <> 'cleared' AND cause <> ALL(%s)", (_left_out(presented_only),)).fetchone())


def _check_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"note: at most {MAX_NOTE_CHARS} characters (got {len(note)})")
    return note


def _alarm_row(conn, alarm_id: int) -> dict:
    cur = conn.execute("SELECT id, asset_id, cause, severity::text, state::text, message, acknowledged_by,"
                       " cleared_by FROM alarm WHERE id = %s FOR UPDATE", (alarm_id,))
    row = cur.fetchone()
    if row is None:
        raise ValueError(f"alarm {alarm_id} does not exist")
    return dict(zip([d.name for d in cur.description], row, strict=True))


def update_alarm_state(pool: ConnectionPool, alarm_id: int, state: str, *, actor: Actor, note: str = "") -> None:
    """Acknowledge or clear (a note saying why is required) an open alarm; audited."""
    if state not in ("acknowledged", "cleared"):
        raise ValueError(f"an alarm can be set to 'acknowledged' or 'cleared', not {state!r}")
    note = _check_note(note)
    if state == "cleared" and not note:
        raise ValueError("note: clearing an alarm by hand needs a note saying why")
    stamp = "acknowledged_at = now(), acknowledged_by = %s" if state == "acknowledged" else \
        "cleared_at = now(), cleared_by = %s, clear_note = %s"
    params = (actor.username,) if state == "acknowledged" else (actor.username, note)
    action = "alarm.ack" if state == "acknowledged" else "alarm.clear"
    with audited(pool, actor, action, "alarm", alarm_id) as change:
        before = _alarm_row(change.conn, alarm_id)
        if before["state"] == "cleared":
            raise ValueError(f"alarm {alarm_id} is not open (it was cleared)")
        change.conn.execute(sql.SQL("UPDATE alarm SET state = %s, {} WHERE id = %s").format(sql.SQL(stamp)),
                            (state, *params, alarm_id))
        change.conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note) VALUES (%s, %s, %s, %s)",
                            (alarm_id, actor.username, state, note))
        change.before, change.after = {"state": before["state"]}, {"state": state, "note": note}


def comment_alarm(pool: ConnectionPool, alarm_id: int, note: str, *, actor: Actor) -> None:
    """A dispatcher's comment on an alarm (any state), kept among its events; audited."""
    note = _check_note(note)
    if not note:
        raise ValueError("note: a comment needs some text")
    with audited(pool, actor, "alarm.comment", "alarm", alarm_id) as change:
        _alarm_row(change.conn, alarm_id)
        change.conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note) VALUES (%s, %s, 'comment', %s)",
                            (alarm_id, actor.username, note))
        change.after = {"comment": note}


def upsert_alarms(pool: ConnectionPool, conditions: list[dict], *, at, continuing_s: float,
                  actor: str = "system") -> dict[str, int]:
    """Raise or refresh one alarm per condition (asset_id, cause, severity, message, details), in one
    transaction and a handful of statements whatever the number of conditions.

    A condition whose open alarm was last seen within ``continuing_s`` continues it (last seen,
    severity, message and details refreshed; an escalation or de-escalation is an event); after a
    longer gap it is a re-raise (``raise_count`` + 1). Returns counts of raised / re_raised / continued.
    """
    for c in conditions:
        if c["severity"] not in alarm_severity_values:
            raise ValueError(f"alarm severity {c['severity']!r} is not one of {alarm_severity_values}")
    wanted = {(c["asset_id"], c["cause"]): c for c in conditions}  # one alarm per element and cause
    counts = {"raised": 0, "re_raised": 0, "continued": 0}
    if not wanted:
        return counts
    with transaction(pool) as conn:
        keys = list(wanted)
        open_rows = conn.execute(
            "SELECT a.id, a.asset_id, a.cause, a.last_seen_at, a.severity::text FROM alarm a"
            " JOIN unnest(%s::text[], %s::text[]) AS k(asset_id, cause) USING (asset_id, cause)"
            " WHERE a.state <> 'cleared' FOR UPDATE OF a",
            ([k[0] for k in keys], [k[1] for k in keys])).fetchall()
        existing = {(r[1], r[2]): r for r in open_rows}
        events = _refresh_open(conn, wanted, existing, at, continuing_s, actor, counts)
        events += _insert_new(conn, [wanted[k] for k in keys if k not in existing], at, actor)
        counts["raised"] = len(keys) - len(existing)
        if events:
            conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note, at)"
                         " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])",
                         [list(column) for column in zip(*events, strict=True)])
    return counts


def _refresh_open(conn, wanted: dict, existing: dict, at, continuing_s: float, actor: str, counts: dict) -> list:
    """Continue or re-raise the alarms already open; returns their events (re-raises, severity changes)."""
    if not existing:
        return []
    rows, events = [], []
    at_ts = pd.Timestamp(at)
    for key, (alarm_id, _asset, _cause, last_seen, severity) in existing.items():
        c = wanted[key]
        re_raised = (at_ts - pd.Timestamp(last_seen)).total_seconds() > continuing_s
        counts["re_raised" if re_raised else "continued"] += 1
        rows.append((alarm_id, c["severity"], c.get("message", ""), _json_text(c.get("details")), int(re_raised)))
        if re_raised:
            events.append((alarm_id, actor, "re_raised", "", at))
        elif severity != c["severity"]:
            events.append((alarm_id, actor, "severity", f"{severity} → {c['severity']}", at))
    conn.execute(
        "UPDATE alarm a SET severity = v.severity::alarm_severity, message = v.message, details = v.details::jsonb,"
        " last_seen_at = %s, raise_count = a.raise_count + v.bump FROM unnest(%s::bigint[], %s::text[], %s::text[],"
        " %s::text[], %s::int[]) AS v(id, severity, message, details, bump) WHERE a.id = v.id",
        [at, *[list(column) for column in zip(*rows, strict=True)]])
    return events


def _insert_new(conn, conditions: list[dict], at, actor: str) -> list:
    """Raise the alarms that are not open yet; returns their 'raised' events."""
    if not conditions:
        return []
    ids = conn.execute(
        "INSERT INTO alarm (asset_id, cause, severity, message, details, raised_at, last_seen_at)"
        " SELECT v.asset_id, v.cause, v.severity::alarm_severity, v.message, v.details::jsonb, %s, %s"
        " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
        " AS v(asset_id, cause, severity, message, details) RETURNING id",
        (at, at, [c["asset_id"] for c in conditions], [c["cause"] for c in conditions],
         [c["severity"] for c in conditions], [c.get("message", "") for c in conditions],
         [_json_text(c.get("details")) for c in conditions])).fetchall()
    return [(row[0], actor, "raised", "", at) for row in ids]


def _json_text(details: dict | None) -> str:
    return json.dumps(details or {}, default=_plain, ensure_ascii=False)


def _plain(value):
    """numpy scalars as the Python numbers they are; anything else as its text."""
    return value.item() if hasattr(value, "item") else str(value)


def clear_gone(pool: ConnectionPool, cause: str, still_active: set[str], *, at, hold_off_s: float,
               actor: str = "system") -> list[int]:
    """Clear the open alarms of ``cause`` whose element is not in ``still_active`` and was last seen
    more than ``hold_off_s`` before ``at``; returns their ids."""
    with transaction(pool) as conn:
        rows = conn.execute(
            "UPDATE alarm SET state = 'cleared', cleared_at = %s, cleared_by = %s,"
            " clear_note = 'cause gone for ' || round(%s / 60.0) || ' min'"
            " WHERE cause = %s AND state <> 'cleared' AND NOT (asset_id = ANY(%s))"
            " AND last_seen_at < %s - make_interval(secs => %s) RETURNING id",
            (at, actor, hold_off_s, cause, list(still_active), at, hold_off_s)).fetchall()
        ids = [r[0] for r in rows]
        if ids:
            conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note, at)"
                         " SELECT unnest(%s::bigint[]), %s, 'cleared', 'cause gone (automatic)', %s",
                         (ids, actor, at))
    return ids


def list_alarm_events(pool: ConnectionPool, alarm_id: int) -> pd.DataFrame:
    """Every change of an alarm, oldest first: at, actor, action, note."""
    with pool.connection() as conn:
        rows = conn.execute("SELECT at, actor, action, note FROM alarm_event WHERE alarm_id = %s ORDER BY at, id",
                            (alarm_id,)).fetchall()
    return pd.DataFrame(rows, columns=["at", "actor", "action", "note"])


def open_work_order_from_alarm(pool: ConnectionPool, alarm_id: int, *, actor: Actor, team_id: str | None = None,
                               priority: str | None = None) -> int:
    """A work order for the alarm's element and location (origin 'alarm'), noted in the alarm's events;
    the order, the note and the audit row are one transaction."""
    from store.work_orders import insert_work_order

    with audited(pool, actor, "alarm.work_order", "alarm", alarm_id) as change:
        alarm = _alarm_row(change.conn, alarm_id)
        urgent = alarm["severity"] in ("critical", "alarm")
        category = ALARM_CATEGORY.get(alarm["cause"], "equipment")
        wo_id, _ = insert_work_order(change.conn, title=f"{alarm['cause']}: {alarm['asset_id']}", actor=actor,
                                  asset_id=alarm["asset_id"], description=alarm["message"] or "", origin="alarm", category=category,
                                  priority=priority or ("urgent" if urgent else "normal"), team_id=team_id,
                                  alarm_id=alarm_id, note=f"from alarm #{alarm_id}")
        change.conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note) VALUES (%s, %s, %s, %s)",
                            (alarm_id, actor.username, "work_order", f"work order #{wo_id}"))
        change.after = {"work_order_id": wo_id}
    return wo_id
