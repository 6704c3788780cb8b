"""Reading telemetry back: latest values, window means, trends and room-temperature compliance.

The same SQL runs on TimescaleDB and on plain PostgreSQL (``time_bucket`` is a shim there).
Trends longer than a few hours read the rollups ``measurement_5m`` / ``measurement_1h`` (kept up
to date by ``rollups.refresh_rollups``):

- on TimescaleDB they are real-time continuous aggregates, always current;
- on plain PostgreSQL they are tables. Each refresh records a watermark (the start of the bucket
  holding the newest reading it saw); buckets before it come from the table, buckets from it on are
  computed from raw rows at query time, so a trend is right even for readings newer than the last
  refresh. Late readings for buckets before the watermark appear at the next refresh, as with
  TimescaleDB's refresh policies.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from psycopg import sql
from psycopg_pool import ConnectionPool

from store.migrate import has_timescaledb

# Resolution name -> (rollup or None for raw, bucket width).
RESOLUTIONS = {
    "raw": (None, None),
    "5m": ("measurement_5m", timedelta(minutes=5)),
    "1h": ("measurement_1h", timedelta(hours=1)),
}
RAW_UP_TO = timedelta(hours=6)
FIVE_MINUTES_UP_TO = timedelta(days=3)
TREND_COLUMNS = ["bucket", "sensor_id", "avg", "min", "max", "n"]

_LATEST = """
SELECT s.id, m.time, m.value
FROM {sensors} s
CROSS JOIN LATERAL (
    SELECT time, value FROM measurement WHERE sensor_id = s.id ORDER BY time DESC LIMIT 1
) m
ORDER BY s.id
"""

_WINDOW_MEANS = """
SELECT sensor_id, avg(value), count(*), max(time)
FROM measurement
WHERE time > %(start)s AND time <= %(end)s
GROUP BY sensor_id ORDER BY sensor_id
"""

_RAW_TREND = """
SELECT time, sensor_id, value, value, value, 1
FROM measurement
WHERE sensor_id = ANY(%(ids)s) AND time >= %(start)s AND time < %(end)s
ORDER BY time, sensor_id
"""

# Buckets from the rollup up to the watermark, then the same aggregate over raw rows after it.
_VIEW_PART = """
SELECT bucket, sensor_id, avg, min, max, n FROM {view}
WHERE sensor_id = ANY(%(ids)s) AND bucket >= time_bucket(%(width)s, %(start)s) AND bucket < %(end)s
  AND bucket < %(watermark)s::timestamptz
UNION ALL
"""
_RAW_PART = """
SELECT time_bucket(%(width)s, time), sensor_id, avg(value), min(value), max(value), count(*)
FROM measurement
WHERE sensor_id = ANY(%(ids)s) AND time < %(end)s
  AND time >= greatest(time_bucket(%(width)s, %(start)s), %(watermark)s::timestamptz)
GROUP BY 1, 2
ORDER BY 1, 2
"""

_COMPLIANCE = """
WITH means AS (
    SELECT sensor_id, avg(value) AS t_c
    FROM measurement
    WHERE time > %(start)s AND time <= %(end)s
      AND sensor_id IN (SELECT id FROM sensor WHERE kind = 'room_t')
    GROUP BY sensor_id
)
SELECT coalesce(h.community_id, s.element_id), h.station_id,
       count(*), count(*) FILTER (WHERE m.t_c < %(threshold)s), min(m.t_c),
       coalesce(array_agg(coalesce(h.id, s.id) ORDER BY m.t_c) FILTER (WHERE m.t_c < %(threshold)s), '{}')
FROM means m
JOIN sensor s ON s.id = m.sensor_id
LEFT JOIN household h ON h.sensor_id = s.id
GROUP BY 1, 2 ORDER BY 1, 2
"""


def get_latest(pool: ConnectionPool, sensor_ids: list[str] | None = None) -> pd.DataFrame:
    """The newest reading of each sensor (sensors without any reading are left out).

    One primary-key index probe per sensor (a LATERAL ``LIMIT 1``): a few milliseconds per
    thousand sensors, whatever the table's size.
    """
    if sensor_ids is None:
        query, params = sql.SQL(_LATEST).format(sensors=sql.SQL("sensor")), {}
    else:
        query = sql.SQL(_LATEST).format(sensors=sql.SQL("(SELECT DISTINCT unnest(%(ids)s::text[]) AS id)"))
        params = {"ids": list(sensor_ids)}
    with pool.connection() as conn:
        rows = conn.execute(query, params).fetchall()
    return _frame(rows, ["sensor_id", "time", "value"])


def get_window_means(pool: ConnectionPool, *, end: datetime, window_s: float) -> pd.DataFrame:
    """Mean of each sensor's readings in ``(end - window_s, end]``, their count and the last time."""
    params = {"start": end - timedelta(seconds=window_s), "end": end}
    with pool.connection() as conn:
        rows = conn.execute(_WINDOW_MEANS, params).fetchall()
    return _frame(rows, ["sensor_id", "value", "n", "last_time"])


def pick_resolution(start: datetime, end: datetime) -> str:
    """Raw readings up to 6 h, 5-minute buckets up to 3 days, hourly buckets beyond."""
    span = end - start
    if span <= RAW_UP_TO:
        return "raw"
    return "5m" if span <= FIVE_MINUTES_UP_TO else "1h"


def get_trend(pool: ConnectionPool, sensor_ids: list[str], start: datetime, end: datetime,
              resolution: str | None = None) -> pd.DataFrame:
    """``bucket, sensor_id, avg, min, max, n`` for ``[start, end)``, ordered by bucket and sensor.

    ``resolution`` is ``"raw"`` (one row per reading, ``n`` = 1), ``"5m"`` or ``"1h"``; by default
    it follows the window length (see ``pick_resolution``). Rollup buckets start at the bucket
    holding ``start`` so that the first bucket is whole.
    """
    resolution = resolution or pick_resolution(start, end)
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}, not {resolution!r}")
    view, width = RESOLUTIONS[resolution]
    params = {"ids": list(sensor_ids), "start": start, "end": end, "width": width}
    with pool.connection() as conn:
        if view is None:
            rows = conn.execute(_RAW_TREND, params).fetchall()
        else:
            params["watermark"] = _watermark(conn, view)
            # Never refreshed (plain PostgreSQL): all buckets from raw.
            query = _RAW_PART if params["watermark"] == "-infinity" else _VIEW_PART + _RAW_PART
            rows = conn.execute(sql.SQL(query).format(view=sql.Identifier(view)), params).fetchall()
    return _frame(rows, TREND_COLUMNS)


def get_element_trend(pool: ConnectionPool, element_id: str, start: datetime, end: datetime,
                      resolution: str | None = None) -> pd.DataFrame:
    """The trend of every sensor on one element, with each sensor's ``kind`` and ``unit``."""
    with pool.connection() as conn:
        sensors = conn.execute("SELECT id, kind, unit FROM sensor WHERE element_id = %s ORDER BY id",
                               (element_id,)).fetchall()
    meta = pd.DataFrame(sensors, columns=["sensor_id", "kind", "unit"])
    trend = get_trend(pool, meta["sensor_id"].tolist(), start, end, resolution)
    return trend.merge(meta, on="sensor_id", how="left")


def get_compliance(pool: ConnectionPool, *, end: datetime, window_s: float = 3600,
                   threshold_c: float = 18.0) -> pd.DataFrame:
    """Room-temperature compliance per community and station over ``(end - window_s, end]``.

    ``collectors`` counts room-temperature collectors that reported in the window, ``below``
    those whose mean was under ``threshold_c``; ``share_ok`` = 1 - below / collectors; ``worst_c`` the
    coldest room's mean; ``cold`` the households under the threshold, coldest first.
    """
    params = {"start": end - timedelta(seconds=window_s), "end": end, "threshold": threshold_c}
    with pool.connection() as conn:
        rows = conn.execute(_COMPLIANCE, params).fetchall()
    frame = _frame(rows, ["community_id", "station_id", "collectors", "below", "worst_c", "cold"])
    frame["share_ok"] = 1.0 - frame["below"] / frame["collectors"] if len(frame) else pd.Series(dtype=float)
    return frame


def _watermark(conn, view: str):
    """Where the view stops being trusted: never on TimescaleDB (real-time), else the last refresh."""
    if has_timescaledb(conn):
        return "infinity"
    row = conn.execute("SELECT watermark FROM rollup_watermark WHERE name = %s", (view,)).fetchone()
    return "-infinity" if row is None else row[0]


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)
