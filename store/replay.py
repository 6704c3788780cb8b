"""History for replay: the network's state, the alarms and the tiles' figures as they were at a past time.

Raw runs (``twin_run`` / ``twin_state`` / ``twin_residual``) are kept about two days (``prune_runs``); before
a converged sync run may go, ``roll_up_history`` folds it into the history: states per element in
15-minute buckets, residuals per sensor per hour, and per bucket the last run's summary (migration 018).
Folding is incremental (a bucket's means are weighted by the runs already in it), so a run that arrives
late, or a bucket rolled while it was still filling, comes out the same as a bucket rolled at once.

``get_state_at(pool, at)`` answers with the raw run nearest before ``at`` while there is one in the
bucket holding it, else with that bucket's means; ``list_alarms_at`` with the alarms open at ``at`` as they
stood then (state, severity), ``count_orders_open_at`` with the work orders open then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
from psycopg import sql
from psycopg_pool import ConnectionPool

from heattwin.choices import ALARM_EVIDENCE_CAUSES, WORK_ORDER_OPEN_STATES, alarm_severity_values
from store.db import transaction
from store.migrate import has_timescaledb
from store.twin_runs import RESIDUAL_COLUMNS, STATE_COLUMNS, get_run_residuals, get_run_states

STATE_BUCKET = timedelta(minutes=15)
RESIDUAL_BUCKET = timedelta(hours=1)
HISTORY_TABLES = ("twin_state_history", "twin_residual_history", "twin_run_history")
_ROLL_BATCH = 120  # runs folded per transaction (about 200,000 state rows at the demo city's size)
_STATUS_RANK = ["normal", "estimated", "cut_off"]  # worst wins in a bucket; an unknown status ranks lowest
_STATE_VALUES = [c for c in STATE_COLUMNS if c not in ("element_id", "status")]
_RESIDUAL_VALUES = [c for c in RESIDUAL_COLUMNS if c != "sensor_id"]


@dataclass
class ReplayState:
    """What the twin said at a past time: ``source`` is ``run`` (a stored run) or ``history`` (a bucket's
    means); ``time`` the run's telemetry time or the bucket's start; empty frames when nothing is stored."""

    source: str | None
    time: datetime | None
    run_id: int | None = None
    runs: int = 0
    summary: dict = field(default_factory=dict)
    cycle_s: float | None = None
    states: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(STATE_COLUMNS)))
    residuals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(RESIDUAL_COLUMNS)))

    @property
    def key(self) -> tuple:
        """What identifies the frame: the same key, the same map."""
        return (self.source, self.run_id, None if self.time is None else self.time.isoformat())


# -- folding runs into the history --------------------------------------------------------------------

def _merged(column: str) -> sql.Composable:
    """``h.col`` and the batch's ``e.col`` weighted by their runs; either alone where the other is NULL."""
    c = sql.Identifier(column)
    return sql.SQL("{c} = CASE WHEN h.{c} IS NULL THEN EXCLUDED.{c} WHEN EXCLUDED.{c} IS NULL THEN h.{c}"
                   " ELSE (h.{c} * h.runs + EXCLUDED.{c} * EXCLUDED.runs) / (h.runs + EXCLUDED.runs) END").format(c=c)


def _fold_states() -> sql.Composed:
    values = sql.SQL(", ").join(sql.Identifier(c) for c in _STATE_VALUES)
    means = sql.SQL(", ").join(sql.SQL("avg(s.{})").format(sql.Identifier(c)) for c in _STATE_VALUES)
    return sql.SQL(
        "INSERT INTO twin_state_history AS h (bucket, element_id, status, {values}, runs)"
        " SELECT time_bucket(%(width)s::interval, r.at), s.element_id,"
        " (%(ranks)s::text[])[max(coalesce(array_position(%(ranks)s::text[], s.status), 1))], {means}, count(*)"
        " FROM twin_run r JOIN twin_state s ON s.run_id = r.id WHERE r.id = ANY(%(ids)s) GROUP BY 1, 2"
        " ON CONFLICT (element_id, bucket) DO UPDATE SET {merged},"
        " status = (%(ranks)s::text[])[greatest(coalesce(array_position(%(ranks)s::text[], h.status), 1),"
        " coalesce(array_position(%(ranks)s::text[], EXCLUDED.status), 1))], runs = h.runs + EXCLUDED.runs"
    ).format(values=values, means=means, merged=sql.SQL(", ").join(_merged(c) for c in _STATE_VALUES))


def _fold_residuals() -> sql.Composed:
    values = sql.SQL(", ").join(sql.Identifier(c) for c in _RESIDUAL_VALUES)
    means = sql.SQL(", ").join(sql.SQL("avg(x.{})").format(sql.Identifier(c)) for c in _RESIDUAL_VALUES)
    return sql.SQL(
        "INSERT INTO twin_residual_history AS h (bucket, sensor_id, {values}, runs)"
        " SELECT time_bucket(%(width)s::interval, r.at), x.sensor_id, {means}, count(*)"
        " FROM twin_run r JOIN twin_residual x ON x.run_id = r.id WHERE r.id = ANY(%(ids)s) GROUP BY 1, 2"
        " ON CONFLICT (sensor_id, bucket) DO UPDATE SET {merged}, runs = h.runs + EXCLUDED.runs"
    ).format(values=values, means=means, merged=sql.SQL(", ").join(_merged(c) for c in _RESIDUAL_VALUES))


_FOLD_RUNS = sql.SQL(
    "INSERT INTO twin_run_history AS h (bucket, runs, last_run_at, summary, cycle_s, solve_s)"
    " SELECT DISTINCT ON (1) time_bucket(%(width)s::interval, at), count(*) OVER w, max(at) OVER w,"
    " last_value(summary) OVER w, avg(cycle_s) OVER w, avg(solve_s) OVER w"
    " FROM twin_run WHERE id = ANY(%(ids)s)"
    " WINDOW w AS (PARTITION BY time_bucket(%(width)s::interval, at) ORDER BY at, id"
    "  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
    " ORDER BY 1"
    " ON CONFLICT (bucket) DO UPDATE SET {cycle}, {solve}, runs = h.runs + EXCLUDED.runs,"
    " summary = CASE WHEN EXCLUDED.last_run_at >= h.last_run_at THEN EXCLUDED.summary ELSE h.summary END,"
    " last_run_at = greatest(h.last_run_at, EXCLUDED.last_run_at)").format(
        cycle=_merged("cycle_s"), solve=_merged("solve_s"))


def roll_up_history(pool: ConnectionPool) -> dict[str, int]:
    """Fold every converged sync run not yet in the history into it; return how many runs were folded.

    Each batch is one transaction (its runs are marked ``rolled_at`` with it), so an interrupted roll-up
    folds nothing twice; two roll-ups at once skip each other's runs."""
    fold_states, fold_residuals = _fold_states(), _fold_residuals()
    folded = 0
    while True:
        with transaction(pool) as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM twin_run WHERE kind = 'sync' AND converged AND rolled_at IS NULL"
                " ORDER BY at LIMIT %s FOR UPDATE SKIP LOCKED", (_ROLL_BATCH,)).fetchall()]
            if not ids:
                return {"runs": folded}
            params = {"ids": ids, "ranks": _STATUS_RANK}
            conn.execute(fold_states, {**params, "width": STATE_BUCKET})
            conn.execute(fold_residuals, {**params, "width": RESIDUAL_BUCKET})
            conn.execute(_FOLD_RUNS, {"ids": ids, "width": STATE_BUCKET})
            conn.execute("UPDATE twin_run SET rolled_at = now() WHERE id = ANY(%s)", (ids,))
            folded += len(ids)


def apply_history_retention(pool: ConnectionPool, *, keep_days: int) -> dict:
    """Keep ``keep_days`` of twin history (the readings' retention, ``HEATTWIN_RETENTION_DAYS``).

    TimescaleDB: a retention policy per history table, and chunks past the horizon dropped now; plain
    PostgreSQL: older buckets deleted."""
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1 day, not {keep_days}")
    horizon = timedelta(days=keep_days)
    with transaction(pool) as conn:
        if has_timescaledb(conn):
            dropped = 0
            for table in HISTORY_TABLES:
                conn.execute("SELECT remove_retention_policy(%s::regclass, if_exists => true)", (table,))
                conn.execute("SELECT add_retention_policy(%s::regclass, %s::interval)", (table, horizon))
                dropped += conn.execute("SELECT count(*) FROM drop_chunks(%s::regclass, older_than => now() - %s)",
                                        (table, horizon)).fetchone()[0]
            return {"mode": "timescaledb_policy", "dropped_chunks": dropped}
        deleted = sum(conn.execute(sql.SQL("DELETE FROM {} WHERE bucket < now() - %s").format(sql.Identifier(t)),
                                   (horizon,)).rowcount for t in HISTORY_TABLES)
    return {"mode": "delete", "deleted": deleted}


# -- reading the past ---------------------------------------------------------------------------------

def history_span(pool: ConnectionPool) -> tuple[datetime | None, datetime | None]:
    """The oldest and newest time replay can show (raw runs or history)."""
    with pool.connection() as conn:
        return tuple(conn.execute(
            "SELECT least((SELECT min(bucket) FROM twin_run_history),"
            "             (SELECT min(at) FROM twin_run WHERE kind = 'sync' AND converged)),"
            " greatest((SELECT max(last_run_at) FROM twin_run_history),"
            "          (SELECT max(at) FROM twin_run WHERE kind = 'sync' AND converged))").fetchone())


def get_state_at(pool: ConnectionPool, at: datetime, *, with_residuals: bool = True) -> ReplayState:
    """The twin's state at ``at``: the converged sync run nearest before it when the raw runs still hold
    one in ``at``'s bucket (or later than the newest bucket before it), else that bucket's means."""
    with pool.connection() as conn:
        run = conn.execute(
            "SELECT id, at, summary, cycle_s FROM twin_run WHERE kind = 'sync' AND converged AND at <= %s"
            " ORDER BY at DESC, id DESC LIMIT 1", (at,)).fetchone()
        bucket = conn.execute(
            "SELECT bucket, summary, cycle_s, runs FROM twin_run_history WHERE bucket <= %s"
            " ORDER BY bucket DESC LIMIT 1", (at,)).fetchone()
    if run is not None and (bucket is None or run[1] >= bucket[0]):
        run_id = run[0]
        return ReplayState("run", run[1], run_id=run_id, runs=1, summary=run[2] or {}, cycle_s=run[3],
                           states=get_run_states(pool, run_id),
                           residuals=get_run_residuals(pool, run_id) if with_residuals else None)
    if bucket is None:
        return ReplayState(None, None)
    return ReplayState("history", bucket[0], runs=bucket[3], summary=bucket[1] or {}, cycle_s=bucket[2],
                       states=_bucket_states(pool, bucket[0]),
                       residuals=_bucket_residuals(pool, bucket[0]) if with_residuals else None)


def _bucket_states(pool: ConnectionPool, bucket: datetime) -> pd.DataFrame:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in STATE_COLUMNS)
    with pool.connection() as conn:
        rows = conn.execute(sql.SQL("SELECT {} FROM twin_state_history WHERE bucket = %s ORDER BY element_id")
                            .format(columns), (bucket,)).fetchall()
    return pd.DataFrame(rows, columns=list(STATE_COLUMNS))


def _bucket_residuals(pool: ConnectionPool, bucket: datetime) -> pd.DataFrame:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in RESIDUAL_COLUMNS)
    with pool.connection() as conn:
        rows = conn.execute(sql.SQL("SELECT {} FROM twin_residual_history WHERE bucket = time_bucket(%s::interval, %s)"
                                    " ORDER BY sensor_id").format(columns), (RESIDUAL_BUCKET, bucket)).fetchall()
    return pd.DataFrame(rows, columns=list(RESIDUAL_COLUMNS))


ALARM_AT_COLUMNS = ("id", "asset_id", "cause", "severity", "state", "message", "raised_at", "last_seen_at",
                    "raise_count", "kind", "name", "lon", "lat", "acknowledged_at", "acknowledged_by",
                    "acknowledged_by_name", "details", "cleared_at", "parent_id", "presented")

# The severity an alarm had at %(at)s: the last severity change before it, else the first one after it
# ("warning → alarm": its left side), else the severity it has now.
_ALARMS_AT = """
SELECT a.id, a.asset_id, a.cause, coalesce(
         (SELECT split_part(e.note, ' → ', 2) FROM alarm_event e WHERE e.alarm_id = a.id AND e.action = 'severity'
           AND e.at <= %(at)s ORDER BY e.at DESC, e.id DESC LIMIT 1),
         (SELECT split_part(e.note, ' → ', 1) FROM alarm_event e WHERE e.alarm_id = a.id AND e.action = 'severity'
           AND e.at > %(at)s ORDER BY e.at, e.id LIMIT 1),
         a.severity::text) AS severity,
       CASE WHEN a.acknowledged_at <= %(at)s THEN 'acknowledged' ELSE 'raised' END AS state,
       a.message, a.raised_at, least(a.last_seen_at, %(at)s), a.raise_count, e.kind::text, e.name, e.lon, e.lat,
       CASE WHEN a.acknowledged_at <= %(at)s THEN a.acknowledged_at END,
       CASE WHEN a.acknowledged_at <= %(at)s THEN a.acknowledged_by END,
       CASE WHEN a.acknowledged_at <= %(at)s THEN coalesce(nullif(u.display_name, ''), a.acknowledged_by) END,
       a.details, a.cleared_at, a.parent_id,
       CASE WHEN EXISTS (SELECT 1 FROM alarm_event e WHERE e.alarm_id = a.id AND e.action = ANY(%(shows)s))
            THEN coalesce((SELECT e.action FROM alarm_event e WHERE e.alarm_id = a.id AND e.action = ANY(%(shows)s)
                            AND e.at <= %(at)s ORDER BY e.at DESC, e.id DESC LIMIT 1), '') = ANY(%(shown)s)
            ELSE a.presented AND a.parent_id IS NULL END AS presented
FROM alarm a JOIN asset e ON e.id = a.asset_id LEFT JOIN app_user u ON u.username = a.acknowledged_by
WHERE a.raised_at <= %(at)s AND (a.cleared_at IS NULL OR a.cleared_at > %(at)s) AND a.cause <> ALL(%(left_out)s)
ORDER BY a.raised_at DESC, a.id DESC
"""


# The presentation pass's events (twin.alarm_presentation, store.alarms): the last one before a time says
# whether the wall showed the alarm then.
_SHOWS = ["presented", "suppressed", "shelved", "unshelved"]
_SHOWN = ["presented", "unshelved"]


def list_alarms_at(pool: ConnectionPool, at: datetime, *, presented_only: bool = True) -> pd.DataFrame:
    """The alarms open at ``at`` (raised by then, not cleared until after), newest first, with the state and
    severity they had then; the columns of ``store.alarms.list_open_alarms(with_details=True)`` and more.

    ``presented``: whether the wall showed it then — the last presentation event before ``at`` says so
    (presented, suppressed or shelved, unshelved); an alarm with no such event at all is as the store holds
    it now. ``presented_only`` keeps those, and never an evidence cause."""
    left_out = list(ALARM_EVIDENCE_CAUSES) if presented_only else []
    with pool.connection() as conn:
        rows = conn.execute(_ALARMS_AT, {"at": at, "left_out": left_out, "shows": _SHOWS,
                                         "shown": _SHOWN}).fetchall()
    frame = pd.DataFrame(rows, columns=list(ALARM_AT_COLUMNS))
    if presented_only and len(frame):
        frame = frame[frame["presented"].astype(bool)].reset_index(drop=True)
    return frame


def list_recent_alarms(pool: ConnectionPool, *, since: datetime, limit: int = 100) -> pd.DataFrame:
    """``id, asset_id, name, cause, severity, raised_at, cleared_at``: alarms raised since ``since`` that the
    wall presented (no evidence cause, never grouped under another), the most severe and newest first."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT a.id, a.asset_id, e.name, a.cause, a.severity::text, a.raised_at, a.cleared_at"
            " FROM alarm a JOIN asset e ON e.id = a.asset_id"
            " WHERE a.raised_at >= %s AND a.cause <> ALL(%s) AND a.parent_id IS NULL"
            " ORDER BY a.severity DESC, a.raised_at DESC, a.id DESC LIMIT %s",
            (since, list(ALARM_EVIDENCE_CAUSES), limit)).fetchall()
    return pd.DataFrame(rows, columns=["id", "asset_id", "name", "cause", "severity", "raised_at", "cleared_at"])


def count_alarms_at(alarms: pd.DataFrame) -> dict[str, int]:
    """Alarms per severity (every severity present) of a ``list_alarms_at`` frame."""
    counts = dict.fromkeys(alarm_severity_values, 0)
    counts.update({k: int(v) for k, v in alarms["severity"].value_counts().items() if k in counts})
    return counts


def count_orders_open_at(pool: ConnectionPool, at: datetime) -> dict[str, int]:
    """Work orders open at ``at`` (filed by then, their state then an open one) and how many were past
    their resolve-by time then."""
    with pool.connection() as conn:
        total, overdue = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE w.sla_due_at < %(at)s) FROM work_order w"
            " WHERE w.created_at <= %(at)s AND coalesce((SELECT e.to_state::text FROM work_order_event e"
            "  WHERE e.work_order_id = w.id AND e.at <= %(at)s ORDER BY e.at DESC, e.id DESC LIMIT 1), 'new')"
            " = ANY(%(open)s)", {"at": at, "open": list(WORK_ORDER_OPEN_STATES)}).fetchone()
    return {"open": total, "overdue": overdue}


def window_means_at(pool: ConnectionPool, at: datetime, *, window_s: float) -> pd.DataFrame:
    """``sensor_id, value, n, last_time``: each sensor's mean over the window ending at ``at``, from the raw
    readings while they are kept, else from the 5-minute rollup (which outlives them)."""
    from store.telemetry import get_window_means

    means = get_window_means(pool, end=at, window_s=window_s)
    if len(means):
        return means
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT sensor_id, sum(avg * n) / sum(n), sum(n), max(bucket) + INTERVAL '5 minutes'"
            " FROM measurement_5m WHERE bucket >= time_bucket(INTERVAL '5 minutes', %s::timestamptz - %s::interval)"
            " AND bucket < %s GROUP BY 1", (at, timedelta(seconds=window_s), at)).fetchall()
    return pd.DataFrame(rows, columns=["sensor_id", "value", "n", "last_time"])


# -- one alarm's story ----------------------------------------------------------------------------------

STORY_COLUMNS = ("at", "step", "actor", "detail", "ref", "data")
GROUPED_COLUMNS = ("id", "asset_id", "name", "cause", "severity", "raised_at", "cleared_at")
_STORY_SPAN_SLACK = timedelta(hours=1)  # an isolation recorded this long before the alarm still belongs to it


def get_incident_story(pool: ConnectionPool, alarm_id: int) -> dict | None:
    """One alarm's whole story, oldest first, from the stores: its own events (raised, presented, grouped or
    shelved, acknowledged, comments, work order, cleared), the alarms grouped under it, each move of its work
    orders (dispatched, accepted, crew on site, resolved …), the outage it opened and an isolation recorded on
    its element. ``{"alarm": dict, "steps": DataFrame[STORY_COLUMNS], "grouped": DataFrame[GROUPED_COLUMNS]}``;
    None when there is no such alarm."""
    with pool.connection() as conn:
        cur = conn.execute(
            "SELECT a.id, a.asset_id, e.name, e.kind::text AS kind, a.cause, a.severity::text AS severity,"
            " a.state::text AS state, a.message, a.details, a.raised_at, a.cleared_at, a.cleared_by, a.clear_note,"
            " a.acknowledged_at, a.acknowledged_by, a.parent_id, a.priority"
            " FROM alarm a JOIN asset e ON e.id = a.asset_id WHERE a.id = %s", (alarm_id,))
        row = cur.fetchone()
        if row is None:
            return None
        alarm = dict(zip([d.name for d in cur.description], row, strict=True))
        steps = [(at, action, actor, note, f"alarm:{alarm_id}", {}) for at, action, actor, note in conn.execute(
            # The first 'raised' is when the rule raised it (a writer may stamp its event later, when it wrote).
            "SELECT CASE WHEN e.action = 'raised' THEN least(e.at, a.raised_at) ELSE e.at END, e.action, e.actor,"
            " e.note FROM alarm_event e JOIN alarm a ON a.id = e.alarm_id WHERE e.alarm_id = %s ORDER BY 1, e.id",
            (alarm_id,))]
        grouped = conn.execute(
            "SELECT a.id, a.asset_id, e.name, a.cause, a.severity::text, a.raised_at, a.cleared_at FROM alarm a"
            " JOIN asset e ON e.id = a.asset_id WHERE a.parent_id = %s ORDER BY a.raised_at, a.id",
            (alarm_id,)).fetchall()
        steps += [(r[5], "grouped", "presentation", f"#{r[0]} {r[2] or r[1]}", f"alarm:{r[0]}",
                   {"alarm_id": r[0], "cause": r[3], "severity": r[4]}) for r in grouped]
        steps += _order_steps(conn, alarm_id)
        steps += _incident_steps(conn, alarm)
    frame = pd.DataFrame(steps, columns=list(STORY_COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame = frame.sort_values("at", kind="stable").reset_index(drop=True)
    return {"alarm": alarm, "steps": frame, "grouped": pd.DataFrame(grouped, columns=list(GROUPED_COLUMNS))}


def _order_steps(conn, alarm_id: int) -> list[tuple]:
    """Every move of the work orders opened from the alarm or for the outage it caused."""
    rows = conn.execute(
        "SELECT e.at, e.to_state::text, e.actor, e.note, w.id, coalesce(t.name, w.team_id, '') FROM work_order w"
        " JOIN work_order_event e ON e.work_order_id = w.id LEFT JOIN team t ON t.id = w.team_id"
        " WHERE w.alarm_id = %(id)s OR w.id IN (SELECT work_order_id FROM incident WHERE alarm_id = %(id)s)"
        " ORDER BY e.at, e.id", {"id": alarm_id}).fetchall()
    return [(at, f"wo.{state}", actor, note, f"work_order:{wo}", {"work_order_id": wo, "state": state, "team": team})
            for at, state, actor, note, wo, team in rows]


def _incident_steps(conn, alarm: dict) -> list[tuple]:
    """The outage the alarm opened (start and end), and an isolation recorded on its element (or its
    leak's pipe) while it was open."""
    element = (alarm["details"] or {}).get("pipe_id") or alarm["asset_id"]
    end = alarm["cleared_at"]
    rows = conn.execute(
        "SELECT id, kind::text, title, started_at, ended_at, expected_back_at, created_by, coalesce(cardinality(stations), 0),"
        " households, details FROM incident WHERE alarm_id = %(id)s OR (kind = 'isolation' AND cause_element = %(element)s"
        " AND started_at >= %(start)s AND (%(end)s::timestamptz IS NULL OR started_at <= %(end)s))"
        " ORDER BY started_at, id",
        {"id": alarm["id"], "element": element, "start": alarm["raised_at"] - _STORY_SPAN_SLACK, "end": end}).fetchall()
    steps = []
    for incident_id, kind, title, started, ended, back, by, stations, households, details in rows:
        ref, data = f"incident:{incident_id}", {"incident_id": incident_id, "stations": stations,
                                                "households": households, "valves": (details or {}).get("valves", [])}
        steps.append((started, "isolation" if kind == "isolation" else "incident_started", by, title, ref, data))
        if ended is not None:
            steps.append((ended, "incident_ended", by, title, ref, data))
        elif back is not None:
            steps.append((back, "expected_back", by, title, ref, data))
    return steps
