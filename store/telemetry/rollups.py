"""Keeping the rollups ``measurement_5m`` / ``measurement_1h`` up to date (``refresh_rollups``).

Both paths refresh only what changed and never take away a bucket whose raw rows retention removed:

- TimescaleDB: ``refresh_continuous_aggregate`` over a bounded window, from the start of the oldest
  raw chunk still kept to the bucket holding the newest reading. A refresh over a range whose chunks
  were dropped would delete those buckets; inside the window only invalidated ranges are recomputed.
- plain PostgreSQL: the rollups are tables (migration 007). Triggers on ``measurement`` note the
  5-minute buckets that received rows in ``rollup_pending``; a refresh recomputes those buckets from
  the raw rows and their hours from the 5-minute buckets, upserting, then moves the watermark
  (``rollup_watermark``: later buckets are read from raw rows at query time, see ``queries``).

Neither changes a pooled connection's settings, so an interrupted refresh (a timeout, Ctrl-C) leaves
no connection behind in autocommit or a changed isolation level; the pool discards one left mid-query.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg_pool import ConnectionPool

from store.db import transaction
from store.migrate import has_timescaledb

log = logging.getLogger(__name__)
ROLLUP_WIDTHS = {"measurement_5m": "5 minutes", "measurement_1h": "1 hour"}
_REFRESH_LOCK = 724302  # one plain refresh at a time (the migrator holds 724301)

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
        if newest is not None:
            for name, width in ROLLUP_WIDTHS.items():
                conn.execute(_SET_WATERMARK, {"name": name, "width": width, "newest": newest})
    return {"buckets": len(buckets)}


def _refresh_continuous(pool: ConnectionPool) -> dict[str, int]:
    # refresh_continuous_aggregate refuses a transaction block: a connection of its own in autocommit.
    windows = 0
    with psycopg.connect(pool.conninfo, autocommit=True, **(pool.kwargs or {})) as conn:
        start = conn.execute(_OLDEST_CHUNK).fetchone()[0]
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
    return {"windows": windows}
