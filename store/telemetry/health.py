"""What the alarm rules ask of the readings, for every sensor in one query each: the last reading,
how many and how spread over a window, and how the twin's residual of each sensor trends."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from psycopg_pool import ConnectionPool

WINDOW_COLUMNS = ("sensor_id", "last_time", "n", "min", "max", "stddev")
TREND_COLUMNS = ("sensor_id", "n", "slope_per_h", "r2", "first_residual", "last_residual")


def get_window_stats(pool: ConnectionPool, *, end: datetime, window_s: float) -> pd.DataFrame:
    """Per sensor with readings in ``(end − window_s, end]``: last time, count, min, max, spread."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT sensor_id, max(time), count(*), min(value), max(value), coalesce(stddev_samp(value), 0)"
            " FROM measurement WHERE time > %(end)s - make_interval(secs => %(w)s) AND time <= %(end)s"
            " GROUP BY sensor_id", {"end": end, "w": window_s}).fetchall()
    frame = pd.DataFrame(rows, columns=list(WINDOW_COLUMNS))
    frame[["min", "max", "stddev"]] = frame[["min", "max", "stddev"]].apply(pd.to_numeric, errors="coerce")
    return frame


def get_last_reading_times(pool: ConnectionPool, *, end: datetime, lookback_s: float) -> pd.Series:
    """The last reading time of every sensor that sent one within ``lookback_s`` before ``end``."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT sensor_id, max(time) FROM measurement WHERE time > %(end)s - make_interval(secs => %(w)s)"
            " AND time <= %(end)s GROUP BY sensor_id", {"end": end, "w": lookback_s}).fetchall()
    return pd.Series({r[0]: r[1] for r in rows}, dtype=object)


def get_first_reading_time(pool: ConnectionPool, *, since: datetime) -> datetime | None:
    """The oldest reading at or after ``since`` (None: the store holds none)."""
    with pool.connection() as conn:
        return conn.execute("SELECT min(time) FROM measurement WHERE time >= %(since)s",
                            {"since": since}).fetchone()[0]


def get_residual_trends(pool: ConnectionPool, *, end: datetime, window_s: float) -> pd.DataFrame:
    """Per sensor, the least-squares slope (unit per hour) and r² of the twin's residual over the
    converged sync runs in the window: a sensor that drifts shows a steady slope the twin does not."""
    with pool.connection() as conn:
        # A run's time is the telemetry time it solved for (summary.at), not when it ran.
        rows = conn.execute(
            "WITH runs AS (SELECT id, coalesce((summary->>'at')::timestamptz, started_at) AS at FROM twin_run"
            "  WHERE converged AND kind = 'sync')"
            " SELECT r.sensor_id, count(*),"
            " regr_slope(r.residual, extract(epoch FROM t.at) / 3600.0),"
            " regr_r2(r.residual, extract(epoch FROM t.at) / 3600.0),"
            " (array_agg(r.residual ORDER BY t.at))[1], (array_agg(r.residual ORDER BY t.at DESC))[1]"
            " FROM twin_residual r JOIN runs t ON t.id = r.run_id"
            " WHERE t.at > %(end)s - make_interval(secs => %(w)s) AND t.at <= %(end)s AND r.residual IS NOT NULL"
            " GROUP BY r.sensor_id", {"end": end, "w": window_s}).fetchall()
    frame = pd.DataFrame(rows, columns=list(TREND_COLUMNS))
    numbers = list(TREND_COLUMNS[2:])  # NULL where every run had the same time: no slope
    frame[numbers] = frame[numbers].apply(pd.to_numeric, errors="coerce")
    return frame
