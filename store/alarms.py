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
                      "acknowledged_by_name", "priority", "presented", "parent_id", "suppressed_by", "shelved_until",
                      "shelve_reason", "console", "grouped")


def add_alarm(pool: ConnectionPool, *, asset_id: str, cause: str, severity: str, message: str = "",
              details: dict | None = None, raised_at=None, actor: str = "system") -> int:
    """Raise an alarm (or re-raise the open one of the same cause on the element); return its id."""
    if severity not in alarm_severity_values:
        raise ValueError(f"alarm severity {severity!r} is not one of {alarm_severity_values}")
    with transaction(pool) as conn:
        row = conn.execute(
            "INSERT INTO alarm (asset_id, cause, severity, message, details, raised_at, last_seen_at, presented)"
            " VALUES (%s, %s, %s, %s, %s, coalesce(%s, now()), coalesce(%s, now()), %s <> ALL(%s))"
            " ON CONFLICT (asset_id, cause) WHERE state <> 'cleared' DO UPDATE SET"
            " last_seen_at = EXCLUDED.last_seen_at, raise_count = alarm.raise_count + 1, presented_at = NULL,"
            " severity = EXCLUDED.severity, message = EXCLUDED.message"
            " RETURNING id, raise_count",
            (asset_id, cause, severity, message, Jsonb(details or {}), raised_at, raised_at, cause,
             list(ALARM_EVIDENCE_CAUSES)),
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


def _presented_filter(presented_only: bool) -> sql.Composable:
    """Only what the dispatcher is presented (twin.alarm_presentation decides), or every open alarm."""
    return sql.SQL(" AND presented" if presented_only else "")


def list_open_alarms(pool: ConnectionPool, *, asset_id: str | list[str] | None = None, limit: int | None = None,
                     with_details: bool = False, presented_only: bool = False,
                     parent_id: int | list[int] | None = None) -> pd.DataFrame:
    """Open (raised or acknowledged) alarms, newest first, with their element's kind, name and location
    (and each alarm's ``details`` with ``with_details``: what the wall words its messages from); of one
    element, or of several (an element and its sensors). ``presented_only``: what the wall presents
    (twin.alarm_presentation decides); ``parent_id``: the consequences grouped under that alarm.
    ``grouped``: how many open alarms are grouped under each."""
    asset_ids = [asset_id] if isinstance(asset_id, str) else asset_id
    parent_ids = [parent_id] if isinstance(parent_id, int) else parent_id
    details = sql.SQL(", a.details" if with_details else "")
    query = sql.SQL(
        "SELECT a.id, a.asset_id, a.cause, a.severity::text, a.state::text, a.message, a.raised_at,"
        " a.last_seen_at, a.raise_count, e.kind::text, e.name, e.lon, e.lat, a.acknowledged_at, a.acknowledged_by,"
        " coalesce(nullif(u.display_name, ''), a.acknowledged_by), a.priority, a.presented, a.parent_id,"
        " a.suppressed_by, a.shelved_until, a.shelve_reason, a.console,"
        " (SELECT count(*) FROM alarm c WHERE c.parent_id = a.id AND c.state <> 'cleared'){}"
        " FROM alarm a JOIN asset e ON e.id = a.asset_id LEFT JOIN app_user u ON u.username = a.acknowledged_by"
        " WHERE a.state <> 'cleared' AND (%s::text[] IS NULL OR a.asset_id = ANY(%s))"
        " AND (%s::bigint[] IS NULL OR a.parent_id = ANY(%s)){}"
        " ORDER BY a.raised_at DESC, a.id DESC LIMIT %s").format(details, _presented_filter(presented_only))
    with pool.connection() as conn:
        rows = conn.execute(query, (asset_ids, asset_ids, parent_ids, parent_ids, limit)).fetchall()
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
        rows = conn.execute(sql.SQL("SELECT severity::text, count(*) FROM alarm WHERE state <> 'cleared'{}"
                                    " GROUP BY 1").format(_presented_filter(presented_only))).fetchall()
    counts = dict.fromkeys(alarm_severity_values, 0)
    counts.update(dict(rows))
    return counts


def count_open_by_priority(pool: ConnectionPool) -> dict[str, int]:
    """Presented open alarms per priority (what the wall's tile counts); every priority is present."""
    from heattwin.choices import alarm_priority_values

    with pool.connection() as conn:
        rows = conn.execute("SELECT priority, count(*) FROM alarm WHERE state <> 'cleared' AND presented"
                            " GROUP BY 1").fetchall()
    counts = dict.fromkeys(alarm_priority_values, 0)
    counts.update({k: v for k, v in rows if k in counts})
    return counts


def open_alarms_signature(pool: ConnectionPool, *, presented_only: bool = False) -> tuple:
    """Cheap fingerprint of the open alarms (count, newest change): lets the wall skip unchanged refreshes."""
    with pool.connection() as conn:
        return tuple(conn.execute(sql.SQL(
            "SELECT count(*), max(greatest(last_seen_at, coalesce(acknowledged_at, raised_at))), max(id),"
            " max(presented_at), count(*) FILTER (WHERE parent_id IS NOT NULL)"
            " FROM alarm WHERE state <> 'cleared'{}").format(_presented_filter(presented_only))).fetchone())


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
        " last_seen_at = %s, raise_count = a.raise_count + v.bump,"
        " presented_at = CASE WHEN v.bump > 0 THEN NULL ELSE a.presented_at END FROM unnest(%s::bigint[], %s::text[], %s::text[],"
        " %s::text[], %s::int[]) AS v(id, severity, message, details, bump) WHERE a.id = v.id",
        [at, *[list(column) for column in zip(*rows, strict=True)]])
    return events


def _insert_new(conn, conditions: list[dict], at, actor: str) -> list:
    """Raise the alarms that are not open yet; returns their 'raised' events."""
    if not conditions:
        return []
    ids = conn.execute(
        "INSERT INTO alarm (asset_id, cause, severity, message, details, raised_at, last_seen_at, presented)"
        " SELECT v.asset_id, v.cause, v.severity::alarm_severity, v.message, v.details::jsonb, %s, %s,"
        " v.cause <> ALL(%s) FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
        " AS v(asset_id, cause, severity, message, details) RETURNING id",
        (at, at, list(ALARM_EVIDENCE_CAUSES), [c["asset_id"] for c in conditions], [c["cause"] for c in conditions],
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


# -- presentation (twin.alarm_presentation decides; these read and write its decisions) -------------------
PRESENTATION_COLUMNS = ("id", "asset_id", "cause", "severity", "state", "raised_at", "presented", "presented_at",
                        "parent_id", "suppressed_by", "priority", "console", "shelved_until")


def list_open_for_presentation(pool: ConnectionPool) -> pd.DataFrame:
    """Every open alarm with what the presentation pass reads and keeps."""
    with pool.connection() as conn:
        rows = conn.execute("SELECT id, asset_id, cause, severity::text, state::text, raised_at, presented,"
                            " presented_at, parent_id, suppressed_by, priority, console, shelved_until"
                            " FROM alarm WHERE state <> 'cleared'").fetchall()
    return pd.DataFrame(rows, columns=list(PRESENTATION_COLUMNS))


def count_recent_episodes(pool: ConnectionPool, *, since) -> pd.DataFrame:
    """Per element and cause: how many times an alarm was raised or re-raised since ``since`` (the
    chattering test's count)."""
    since = pd.Timestamp(since).to_pydatetime()
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT a.asset_id, a.cause, count(*) FROM alarm_event e JOIN alarm a ON a.id = e.alarm_id"
            " WHERE e.action IN ('raised', 're_raised') AND e.at >= %s GROUP BY 1, 2", (since,)).fetchall()
    return pd.DataFrame(rows, columns=["asset_id", "cause", "episodes"])


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a.astype(object).where(a.notna(), None) == b.astype(object).where(b.notna(), None)) | (a.isna() & b.isna())


def apply_presentation(pool: ConnectionPool, alarms: pd.DataFrame, decided: pd.DataFrame, *, at,
                       actor: str = "presentation") -> int:
    """Write the pass's decisions where they changed: an alarm that becomes presented gets its
    ``presented_at`` and a 'presented' event (an annunciation: what the alarm-rate figures count); one
    that goes off the wall gets a 'suppressed' event naming the rule (and its root cause); an expired
    shelf is taken off with an 'unshelved' event. Returns how many alarms changed."""
    # Put before the dispatcher now: a new episode, or back on the wall after a rule or a shelf kept it off.
    newly = decided["presented"] & (alarms["presented_at"].isna() | ~alarms["presented"].astype(bool))
    changed = newly | ~(_same(alarms["presented"], decided["presented"]) & _same(alarms["parent_id"], decided["parent_id"])
                        & _same(alarms["suppressed_by"], decided["suppressed_by"])
                        & _same(alarms["priority"], decided["priority"]) & _same(alarms["console"], decided["console"]))
    expired = alarms["shelved_until"].notna() & (pd.to_datetime(alarms["shelved_until"], utc=True) <= pd.Timestamp(at))
    rows = alarms[changed | expired]
    if rows.empty:
        return 0
    d = decided.loc[rows.index]
    went_off = ~d["presented"] & (rows["presented"] | ~_same(rows["suppressed_by"], d["suppressed_by"]))
    events = [(int(i), actor, "unshelved", "shelf expired", at) for i in rows.loc[expired.loc[rows.index], "id"]]
    events += [(int(i), actor, "presented", "", at) for i in rows.loc[newly.loc[rows.index], "id"]]
    events += [(int(i), actor, "suppressed", _suppressed_note(rule, parent), at) for i, rule, parent in
               zip(rows.loc[went_off, "id"], d.loc[went_off, "suppressed_by"], d.loc[went_off, "parent_id"], strict=True)]
    parents = [None if pd.isna(p) else int(p) for p in d["parent_id"]]
    with transaction(pool) as conn:
        conn.execute(
            "UPDATE alarm a SET presented = v.presented, parent_id = v.parent_id, suppressed_by = v.suppressed_by,"
            " priority = v.priority, console = v.console,"
            " presented_at = CASE WHEN v.presented AND a.presented_at IS NULL THEN %s ELSE a.presented_at END,"
            " shelved_until = CASE WHEN a.shelved_until <= %s THEN NULL ELSE a.shelved_until END,"
            " shelved_by = CASE WHEN a.shelved_until <= %s THEN NULL ELSE a.shelved_by END,"
            " shelve_reason = CASE WHEN a.shelved_until <= %s THEN NULL ELSE a.shelve_reason END"
            " FROM unnest(%s::bigint[], %s::boolean[], %s::bigint[], %s::text[], %s::text[], %s::text[])"
            " AS v(id, presented, parent_id, suppressed_by, priority, console) WHERE a.id = v.id",
            (at, at, at, at, rows["id"].astype(int).tolist(), d["presented"].astype(bool).tolist(), parents,
             [None if pd.isna(r) else str(r) for r in d["suppressed_by"]], d["priority"].astype(str).tolist(),
             [None if pd.isna(c) else str(c) for c in d["console"]]))
        if events:
            conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note, at)"
                         " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])",
                         [list(column) for column in zip(*events, strict=True)])
    return len(rows)


def _suppressed_note(rule, parent) -> str:
    return f"{rule}" + ("" if pd.isna(parent) else f" under #{int(parent)}")


def shelve_alarm(pool: ConnectionPool, alarm_id: int, *, hours: float, reason: str, actor: Actor) -> None:
    """Take an alarm off the wall for ``hours`` (at most ``ALARM_SHELVE_MAX_H``) with a reason; it comes back
    by itself at the expiry (the presentation pass)."""
    from heattwin.choices import ALARM_SHELVE_MAX_H

    reason = _check_note(reason)
    if not reason:
        raise ValueError("reason: say why the alarm is shelved")
    if not 0 < float(hours) <= ALARM_SHELVE_MAX_H:
        raise ValueError(f"hours: between 0 and {ALARM_SHELVE_MAX_H:g} (got {hours})")
    with audited(pool, actor, "alarm.shelve", "alarm", alarm_id) as change:
        row = change.conn.execute(
            "UPDATE alarm SET shelved_until = now() + make_interval(secs => %s), shelved_by = %s, shelve_reason = %s,"
            " presented = false, presented_at = NULL, suppressed_by = 'shelved' WHERE id = %s AND state <> 'cleared'"
            " RETURNING shelved_until", (float(hours) * 3600.0, actor.username, reason, alarm_id)).fetchone()
        if row is None:
            raise ValueError(f"alarm #{alarm_id} is not open")
        change.conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note) VALUES (%s, %s, 'shelved', %s)",
                            (alarm_id, actor.username, f"{float(hours):g} h: {reason}"))
        change.after = {"shelved_until": row[0].isoformat(), "reason": reason}


def unshelve_alarm(pool: ConnectionPool, alarm_id: int, *, actor: Actor) -> None:
    """Put a shelved alarm back on the wall now (it is presented again at once)."""
    with audited(pool, actor, "alarm.shelve", "alarm", alarm_id) as change:
        row = change.conn.execute(
            "UPDATE alarm SET shelved_until = NULL, shelved_by = NULL, shelve_reason = NULL, presented = true,"
            " suppressed_by = NULL, presented_at = NULL WHERE id = %s AND shelved_until IS NOT NULL RETURNING id",
            (alarm_id,)).fetchone()
        if row is None:
            raise ValueError(f"alarm #{alarm_id} is not shelved")
        change.conn.execute("INSERT INTO alarm_event (alarm_id, actor, action) VALUES (%s, %s, 'unshelved')",
                            (alarm_id, actor.username))


def list_shelved(pool: ConnectionPool) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute("SELECT id, asset_id, cause, severity::text, shelved_until, shelved_by, shelve_reason"
                            " FROM alarm WHERE state <> 'cleared' AND shelved_until IS NOT NULL"
                            " ORDER BY shelved_until").fetchall()
    return pd.DataFrame(rows, columns=["id", "asset_id", "cause", "severity", "shelved_until", "shelved_by",
                                       "shelve_reason"])


OUT_OF_SERVICE_COLUMNS = ("id", "asset_id", "work_order_id", "reason", "started_at", "started_by")


def add_out_of_service(pool: ConnectionPool, asset_id: str, *, work_order_id: int, reason: str, actor: Actor) -> int:
    """An element under repair on an open work order: its alarms (and its sensors') stay off the wall
    until the order is closed or cancelled."""
    from heattwin.choices import WORK_ORDER_OPEN_STATES

    reason = _check_note(reason)
    with audited(pool, actor, "alarm.out_of_service", "asset", asset_id) as change:
        order = change.conn.execute("SELECT state::text, asset_id FROM work_order WHERE id = %s",
                                    (work_order_id,)).fetchone()
        if order is None or order[0] not in WORK_ORDER_OPEN_STATES:
            raise ValueError(f"work_order_id: #{work_order_id} is not an open work order")
        if order[1] != asset_id:
            raise ValueError(f"work_order_id: #{work_order_id} is on {order[1]}, not on {asset_id}")
        taken = change.conn.execute("SELECT id FROM alarm_out_of_service WHERE asset_id = %s AND ended_at IS NULL",
                                    (asset_id,)).fetchone()
        if taken:
            raise ValueError(f"{asset_id} is already out of service (#{taken[0]})")
        oos_id = change.conn.execute(
            "INSERT INTO alarm_out_of_service (asset_id, work_order_id, reason, started_by) VALUES (%s, %s, %s, %s)"
            " RETURNING id", (asset_id, work_order_id, reason, actor.username)).fetchone()[0]
        change.after = {"out_of_service": oos_id, "work_order_id": work_order_id, "reason": reason}
    return oos_id


def end_out_of_service(pool: ConnectionPool, asset_id: str, *, actor: Actor) -> bool:
    with audited(pool, actor, "alarm.out_of_service", "asset", asset_id) as change:
        ended = change.conn.execute("UPDATE alarm_out_of_service SET ended_at = now(), ended_by = %s"
                                    " WHERE asset_id = %s AND ended_at IS NULL", (actor.username, asset_id)).rowcount
        change.detail = "ended" if ended else "was not out of service"
    return bool(ended)


def list_out_of_service(pool: ConnectionPool) -> pd.DataFrame:
    """Elements out of service now; one whose work order became final is ended here first (by the system)."""
    from heattwin.choices import WORK_ORDER_FINAL_STATES

    with transaction(pool) as conn:
        conn.execute("UPDATE alarm_out_of_service o SET ended_at = now(), ended_by = 'system'"
                     " FROM work_order w WHERE w.id = o.work_order_id AND o.ended_at IS NULL"
                     " AND w.state::text = ANY(%s)", (list(WORK_ORDER_FINAL_STATES),))
        rows = conn.execute("SELECT id, asset_id, work_order_id, reason, started_at, started_by"
                            " FROM alarm_out_of_service WHERE ended_at IS NULL ORDER BY started_at").fetchall()
    return pd.DataFrame(rows, columns=list(OUT_OF_SERVICE_COLUMNS))


def list_open_keys(pool: ConnectionPool) -> set[tuple[str, str]]:
    """(element, cause) of every open alarm: the rules hold these with their deadbands."""
    with pool.connection() as conn:
        return {(r[0], r[1]) for r in conn.execute("SELECT asset_id, cause FROM alarm WHERE state <> 'cleared'")}
