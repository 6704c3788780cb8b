"""Keeping the rollups ``measurement_5m`` / ``measurement_1h`` up to date (``refresh_rollups``).

Both paths refresh only what changed and never take away a bucket whose raw rows retention removed:

- TimescaleDB: ``refresh_continuous_aggregate`` over a bounded window, from the start of the oldest
  raw chunk still kept to the bucket holding the newest reading. A refresh over a range whose chunks
  were dropped would delete those buckets; inside the window only invalidated ranges are recomputed.
- plain PostgreSQL: the rollups are tables (migration 007). Triggers on ``measurement`` note the
  5-minute buckets that received rows in ``rollup_pending``; a refresh recomputes those buckets from
  the raw rows and their hours from the 5-minute buckets, upserting, then moves the watermark
  (``rollup_watermark``: later buckets are read from raw rows at query time, see ``queries``).

Then the room collectors' days (``room_day``, migration 021: 24 hourly means per collector and UTC day, what
the refund ledger reads) are recomputed from ``measurement_1h`` for every day the refresh changed: on plain
PostgreSQL the days of the buckets it took; on TimescaleDB the days of the ranges the aggregate had noted as
invalid before the refresh (its invalidation logs), and the policy's window (``start_offset`` 3 days) when
TimescaleDB's own job has run since — that job consumes the ranges it refreshes. Either way also the days
the ``room_day`` watermark passes: the days before it are complete as of the refresh.

Neither changes a pooled connection's settings, so an interrupted refresh (a timeout, Ctrl-C) leaves
no connection behind in autocommit or a changed isolation level; the pool discards one left mid-query.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg_pool import ConnectionPool

from store.db import transaction
from store.migrate import has_timescaledb

log = logging.getLogger(__name__)
ROLLUP_WIDTHS = {"measurement_5m": "5 minutes", "measurement_1h": "1 hour"}
_REFRESH_LOCK = 724302  # one plain refresh at a time (the migrator holds 724301)
_POLICY_WINDOW = timedelta(days=3)   # measurement_1h's policy start_offset (migration 003)

_TAKE_PENDING = """
WITH taken AS (DELETE FROM rollup_pending RETURNING bucket)
SELECT DISTINCT bucket FROM taken ORDER BY 1
"""

_REFRESH_5M = """
INSERT INTO measurement_5m (bucket, sensor_id, avg, min, max, n)
SELECT p.bucket, m.sensor_id, avg(m.value), min(m.value), max(m.value), count(*)
FROM unnest(%(buckets)s::timestamptz[]) AS p (bucket)
JOIN measurement m ON m.time >= p.bucket AND m.time < p.bucket + INTERVAL '5 minutes'
GROUP BY 1, 2
ON CONFLICT (sensor_id, bucket) DO UPDATE
SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, n = EXCLUDED.n
"""

# From the 5-minute buckets, not raw rows: an hour keeps what its buckets kept after retention.
_REFRESH_1H = """
INSERT INTO measurement_1h (bucket, sensor_id, avg, min, max, n)
SELECT h.bucket, f.sensor_id, sum(f.avg * f.n) / sum(f.n)::float8, min(f.min), max(f.max), sum(f.n)
FROM (SELECT DISTINCT time_bucket(INTERVAL '1 hour', b) AS bucket
      FROM unnest(%(buckets)s::timestamptz[]) AS b) h
JOIN measurement_5m f ON f.bucket >= h.bucket AND f.bucket < h.bucket + INTERVAL '1 hour'
GROUP BY 1, 2
ON CONFLICT (sensor_id, bucket) DO UPDATE
SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, n = EXCLUDED.n
"""

_SET_WATERMARK = """
INSERT INTO rollup_watermark (name, watermark) VALUES (%(name)s, time_bucket(%(width)s::interval, %(newest)s))
ON CONFLICT (name) DO UPDATE SET watermark = EXCLUDED.watermark, refreshed_at = now()
"""

_OLDEST_CHUNK = """
SELECT min(range_start) FROM timescaledb_information.chunks
WHERE hypertable_schema = current_schema() AND hypertable_name = 'measurement'
"""


def refresh_rollups(pool: ConnectionPool) -> dict[str, int]:
    """Bring the rollups up to date; return how many 5-minute buckets were recomputed (plain
    PostgreSQL) or refresh windows run (TimescaleDB), as ``{"buckets": …}`` / ``{"windows": …}``."""
    with pool.connection() as conn:
        timescale = has_timescaledb(conn)
    return _refresh_continuous(pool) if timescale else _refresh_tables(pool)


def _refresh_tables(pool: ConnectionPool) -> dict[str, int]:
    with transaction(pool) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_REFRESH_LOCK,))
        # Read first: rows committed after this are either in a bucket taken below or still pending.
        newest = conn.execute("SELECT max(time) FROM measurement").fetchone()[0]
        buckets = [row[0] for row in conn.execute(_TAKE_PENDING)]
        if buckets:
            conn.execute(_REFRESH_5M, {"buckets": buckets})
            conn.execute(_REFRESH_1H, {"buckets": buckets})
        if newest is None:
            return {"buckets": len(buckets), "room_days": 0}
        for name, width in ROLLUP_WIDTHS.items():
            conn.execute(_SET_WATERMARK, {"name": name, "width": width, "newest": newest})
        room_days = _refresh_room_days(conn, {b.astimezone(UTC).date() for b in buckets}, newest)
    return {"buckets": len(buckets), "room_days": room_days}


def _refresh_continuous(pool: ConnectionPool) -> dict[str, int]:
    # refresh_continuous_aggregate refuses a transaction block: a connection of its own in autocommit.
    windows = 0
    with psycopg.connect(pool.conninfo, autocommit=True, **(pool.kwargs or {})) as conn:
        start = conn.execute(_OLDEST_CHUNK).fetchone()[0]
        changed = _invalidated_days(conn, start)
        for name, width in ROLLUP_WIDTHS.items():
            # Up to the bucket of the newest reading: that bucket is still filling (real-time part).
            end = conn.execute("SELECT time_bucket(%s::interval, max(time)) FROM measurement", (width,)).fetchone()[0]
            if start is None or end is None or end <= start:
                continue
            try:
                conn.execute("CALL refresh_continuous_aggregate(%s::regclass, %s::timestamptz, %s::timestamptz)",
                             (name, start, end))
            except psycopg.errors.LockNotAvailable:
                # TimescaleDB's own policy (or another loop) is refreshing it: that refresh does this work,
                # and the next housekeeping catches up on what it leaves.
                log.info("%s is being refreshed elsewhere; left to that refresh", name)
                continue
            windows += 1
    with transaction(pool) as conn:
        newest = conn.execute("SELECT max(time) FROM measurement").fetchone()[0]
        room_days = 0 if newest is None else _refresh_room_days(conn, changed, newest)
    return {"windows": windows, "room_days": room_days}


# Ranges of measurement's time (TimescaleDB's internal µs since 1970) the hourly aggregate will recompute:
# noted on the hypertable and not yet moved, or moved to the aggregate and not yet refreshed.
_INVALIDATED = """
SELECT l.lowest_modified_value, l.greatest_modified_value
FROM _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log l
JOIN _timescaledb_catalog.hypertable h ON h.id = l.hypertable_id
WHERE h.schema_name = current_schema() AND h.table_name = 'measurement'
UNION ALL
SELECT l.lowest_modified_value, l.greatest_modified_value
FROM _timescaledb_catalog.continuous_aggs_materialization_invalidation_log l
JOIN _timescaledb_catalog.continuous_agg c ON c.mat_hypertable_id = l.materialization_id
WHERE c.user_view_schema = current_schema() AND c.user_view_name = 'measurement_1h'
"""

# When TimescaleDB's own refresh of measurement_1h last started (NULL: never).
_POLICY_RUN = """
SELECT max(s.last_run_started_at)
FROM timescaledb_information.jobs j JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
JOIN timescaledb_information.continuous_aggregates c
  ON c.materialization_hypertable_schema = j.hypertable_schema AND c.materialization_hypertable_name = j.hypertable_name
WHERE c.view_schema = current_schema() AND c.view_name = 'measurement_1h'
"""

_REFRESH_ROOM_DAYS = """
INSERT INTO room_day (sensor_id, day, t_c)
SELECT sensor_id, day, room_day_hours(array_agg(hour), array_agg(avg))
FROM (SELECT m.sensor_id, d.day, extract(hour FROM m.bucket AT TIME ZONE 'UTC')::int AS hour, m.avg
      FROM unnest(%(days)s::date[]) AS d (day)
      JOIN measurement_1h m ON m.bucket >= (d.day::timestamp AT TIME ZONE 'UTC')
                           AND m.bucket < ((d.day + 1)::timestamp AT TIME ZONE 'UTC')
      JOIN sensor s ON s.id = m.sensor_id AND s.kind = 'room_t') h
GROUP BY 1, 2
ON CONFLICT (sensor_id, day) DO UPDATE SET t_c = EXCLUDED.t_c
"""


def _invalidated_days(conn: psycopg.Connection, oldest: datetime | None) -> set[date]:
    """The UTC days the coming refresh of measurement_1h will change (before it clears its logs), from the
    oldest raw chunk on (the refresh window's start)."""
    if oldest is None:
        return set()
    days: set[date] = set()
    floor = int(oldest.timestamp() * 1_000_000)
    ceiling = int(datetime.now(UTC).timestamp() * 1_000_000) + 366 * 86_400_000_000
    for low, high in conn.execute(_INVALIDATED):
        low, high = max(low, floor), min(high, ceiling)   # the logs use ±infinity for "everything"
        if low <= high:
            days |= _days(datetime.fromtimestamp(low / 1e6, UTC), datetime.fromtimestamp(high / 1e6, UTC))
    policy = conn.execute(_POLICY_RUN).fetchone()[0]
    last = conn.execute("SELECT refreshed_at FROM rollup_watermark WHERE name = 'room_day'").fetchone()
    if policy is not None and (last is None or policy >= last[0]):
        now = datetime.now(UTC)
        days |= _days(now - _POLICY_WINDOW - timedelta(hours=1), now)
    return days


def _days(first: datetime, last: datetime) -> set[date]:
    """The UTC days from the one holding ``first`` to the one holding ``last``."""
    start, end = first.astimezone(UTC).date(), last.astimezone(UTC).date()
    return {start + timedelta(days=k) for k in range((end - start).days + 1)}


def _refresh_room_days(conn: psycopg.Connection, changed: set[date], newest: datetime) -> int:
    """Recompute ``room_day`` for the ``changed`` days and those its watermark passes (the day of
    ``newest``'s hour and later stay with the hourly rollup); move the watermark. How many days it took."""
    watermark = conn.execute("SELECT date_trunc('day', time_bucket(INTERVAL '1 hour', %s::timestamptz), 'UTC')",
                             (newest,)).fetchone()[0]
    before = conn.execute("SELECT watermark FROM rollup_watermark WHERE name = 'room_day'").fetchone()
    days = set(changed)
    if before is not None and before[0] < watermark:
        days |= _days(before[0], watermark - timedelta(days=1))
    elif before is None:
        first = conn.execute("SELECT min(bucket) FROM measurement_1h").fetchone()[0]
        days |= _days(first, watermark - timedelta(days=1)) if first is not None and first < watermark else set()
    limit = watermark.astimezone(UTC).date()
    days = sorted(d for d in days if d < limit)
    if days:
        conn.execute(_REFRESH_ROOM_DAYS, {"days": days})
    conn.execute("INSERT INTO rollup_watermark (name, watermark) VALUES ('room_day', %s) ON CONFLICT (name)"
                 " DO UPDATE SET watermark = greatest(rollup_watermark.watermark, EXCLUDED.watermark),"
                 " refreshed_at = now()", (watermark,))
    return len(days)
