"""Twin runs and their results: ``twin_run`` (one row per solve), ``twin_state`` (per element) and
``twin_residual`` (per sensor). App workers read the latest converged run from here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from store.db import transaction

STATE_COLUMNS = ("element_id", "status", "p_supply_bar", "p_return_bar", "t_supply_c", "t_return_c",
                 "flow_t_h", "v_m_per_s", "dp_bar", "heat_mw", "heat_loss_kw", "delay_h")
RESIDUAL_COLUMNS = ("sensor_id", "measured", "modelled", "residual")
_RUN_COLUMNS = ("id", "kind", "started_at", "finished_at", "converged", "iterations", "solve_s", "cycle_s",
                "error", "inputs", "fallbacks", "summary", "calibration_id")


def _copy_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """The whole frame as COPY takes it, at once: Python scalars, NaN and infinities as NULL."""
    numeric = frame.select_dtypes("number").columns
    frame = frame.replace({c: {np.inf: np.nan, -np.inf: np.nan} for c in numeric}) if len(numeric) else frame
    return frame.astype(object).where(frame.notna(), None)


def _copy_frame(conn, table: str, columns: tuple[str, ...], run_id: int, frame: pd.DataFrame) -> None:
    present = [c for c in columns if c in frame.columns]
    statement = f"COPY {table} (run_id, {', '.join(present)}) FROM STDIN"  # names from our constants
    with conn.cursor().copy(statement) as copy:
        for row in _copy_ready(frame[present]).itertuples(index=False, name=None):
            copy.write_row((run_id, *row))


def add_run(pool: ConnectionPool, *, kind: str = "sync", started_at, finished_at=None, converged: bool,
            iterations: int | None = None, solve_s: float | None = None, cycle_s: float | None = None,
            error: str | None = None, inputs: dict | None = None, fallbacks: list | None = None,
            summary: dict | None = None, calibration_id: int | None = None,
            states: pd.DataFrame | None = None, residuals: pd.DataFrame | None = None) -> int:
    """Store one run with its per-element states and per-sensor residuals; return the run id."""
    with transaction(pool) as conn:
        run_id = conn.execute(
            "INSERT INTO twin_run (kind, started_at, at, finished_at, converged, iterations, solve_s, cycle_s,"
            " error, inputs, fallbacks, summary, calibration_id)"
            " VALUES (%s, %s, coalesce(%s::timestamptz, %s), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (kind, started_at, (summary or {}).get("at"), started_at, finished_at, converged, iterations, solve_s,
             cycle_s, error, Jsonb(inputs or {}), Jsonb(fallbacks or []), Jsonb(summary or {}), calibration_id),
        ).fetchone()[0]
        if states is not None and len(states):
            _copy_frame(conn, "twin_state", STATE_COLUMNS, run_id, states)
        if residuals is not None and len(residuals):
            _copy_frame(conn, "twin_residual", RESIDUAL_COLUMNS, run_id, residuals)
    return run_id


def get_latest_run(pool: ConnectionPool, kind: str = "sync", converged_only: bool = True) -> dict | None:
    where = "kind = %s" + (" AND converged" if converged_only else "")
    with pool.connection() as conn:
        row = conn.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM twin_run WHERE {where} ORDER BY started_at DESC, id DESC"
            " LIMIT 1", (kind,)).fetchone()
    return None if row is None else dict(zip(_RUN_COLUMNS, row, strict=True))


def list_runs(pool: ConnectionPool, kind: str = "sync", limit: int = 50) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM twin_run WHERE kind = %s"
            " ORDER BY started_at DESC, id DESC LIMIT %s", (kind, limit)).fetchall()
    return pd.DataFrame(rows, columns=list(_RUN_COLUMNS))


def get_run_states(pool: ConnectionPool, run_id: int) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {', '.join(STATE_COLUMNS)} FROM twin_state WHERE run_id = %s ORDER BY element_id",
            (run_id,)).fetchall()
    return pd.DataFrame(rows, columns=list(STATE_COLUMNS))


def get_run_residuals(pool: ConnectionPool, run_id: int) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {', '.join(RESIDUAL_COLUMNS)} FROM twin_residual WHERE run_id = %s ORDER BY sensor_id",
            (run_id,)).fetchall()
    return pd.DataFrame(rows, columns=list(RESIDUAL_COLUMNS))


HOURLY_RESIDUAL_COLUMNS = ("sensor_id", "hour", "residual", "measured", "runs")


def get_hourly_residuals(pool: ConnectionPool, *, end, window_s: float, sample_s: float = 600.0) -> pd.DataFrame:
    """Per sensor and hour in ``(end − window_s, end]``: the mean of the twin's residual and of the reading
    over the converged sync runs of that hour, and how many runs they average.

    A run's time is the telemetry time it solved for (``summary.at``), not when it ran. At most one run
    per ``sample_s`` is read (the first of each such slot): a loop cycling every minute would otherwise
    make this read sixty runs an hour for what a handful of them tell."""
    with pool.connection() as conn:
        rows = conn.execute(
            "WITH runs AS (SELECT id, coalesce((summary->>'at')::timestamptz, started_at) AS at FROM twin_run"
            "  WHERE converged AND kind = 'sync'),"
            " picked AS (SELECT DISTINCT ON (date_bin(make_interval(secs => %(s)s), at, %(origin)s)) id, at"
            "  FROM runs WHERE at > %(end)s - make_interval(secs => %(w)s) AND at <= %(end)s"
            "  ORDER BY date_bin(make_interval(secs => %(s)s), at, %(origin)s), at)"
            " SELECT r.sensor_id, date_bin('1 hour', t.at, %(origin)s) AS hour, avg(r.residual), avg(r.measured), count(*)"
            " FROM twin_residual r JOIN picked t ON t.id = r.run_id WHERE r.residual IS NOT NULL"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            {"end": end, "w": window_s, "s": sample_s, "origin": _EPOCH}).fetchall()
    frame = pd.DataFrame(rows, columns=list(HOURLY_RESIDUAL_COLUMNS))
    frame[["residual", "measured"]] = frame[["residual", "measured"]].apply(pd.to_numeric, errors="coerce")
    frame["hour"] = pd.to_datetime(frame["hour"], utc=True)
    return frame


_EPOCH = pd.Timestamp("2000-01-01", tz="UTC").to_pydatetime()


def prune_runs(pool: ConnectionPool, *, keep_hours: float, kind: str = "sync") -> int:
    """Delete runs (and their states) older than ``keep_hours``, always keeping the latest converged one.

    A converged sync run stays until its states are in the history (``store.replay.roll_up_history``)."""
    with transaction(pool) as conn:
        return conn.execute(
            "DELETE FROM twin_run WHERE kind = %s AND started_at < now() - make_interval(secs => %s)"
            " AND (rolled_at IS NOT NULL OR NOT converged OR kind <> 'sync')"
            " AND id <> coalesce((SELECT id FROM twin_run WHERE kind = %s AND converged"
            " ORDER BY started_at DESC, id DESC LIMIT 1), -1)",
            (kind, keep_hours * 3600.0, kind)).rowcount


_SYNC_LOCK_KEY = 724302


@contextmanager
def cycle_lock(pool: ConnectionPool) -> Iterator[bool]:
    """Hold the sync-cycle lock for the block; yields False when another process holds it.

    A session advisory lock: it is released when the block ends, or by the server if this
    process dies, so a crashed loop never blocks the next one.
    """
    with pool.connection() as conn:
        acquired = conn.execute("SELECT pg_try_advisory_lock(%s)", (_SYNC_LOCK_KEY,)).fetchone()[0]
        conn.commit()
        try:
            yield acquired
        finally:
            if acquired:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_SYNC_LOCK_KEY,))
                conn.commit()
