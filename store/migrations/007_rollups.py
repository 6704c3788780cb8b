"""Plain PostgreSQL: the rollups become tables kept up to date bucket by bucket.

``measurement_5m`` and ``measurement_1h`` were materialized views recomputed from every raw row on
each refresh: slow at a few million rows, and a bucket vanished with its raw rows at retention. Now
they are tables with the same columns (bucket, sensor_id, avg, min, max, n). Statement triggers on
``measurement`` note the 5-minute buckets that received rows in ``rollup_pending``; ``refresh_rollups``
recomputes only those buckets (and their hours) and never deletes one, so history outlives the raw rows.
Deleting raw rows (retention) marks nothing.

On TimescaleDB the rollups stay continuous aggregates: nothing to do.
"""

import psycopg
from psycopg import sql

from store.migrate import has_timescaledb

# Inserts and updates only: retention's DELETE must leave the rollups as they are. An UPDATE can move a
# reading to another bucket, so both its old and its new bucket are noted.
_PENDING = """
CREATE TABLE rollup_pending (bucket timestamptz NOT NULL);  -- start of a 5-minute bucket; repeats allowed

CREATE FUNCTION rollup_note_buckets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO rollup_pending (bucket)
        SELECT time_bucket(INTERVAL '5 minutes', time) FROM new_rows
        UNION SELECT time_bucket(INTERVAL '5 minutes', time) FROM old_rows;
    ELSE
        INSERT INTO rollup_pending (bucket)
        SELECT DISTINCT time_bucket(INTERVAL '5 minutes', time) FROM new_rows;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER measurement_rollup_insert AFTER INSERT ON measurement
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_note_buckets();
CREATE TRIGGER measurement_rollup_update AFTER UPDATE ON measurement
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollup_note_buckets();
"""

_TABLE = """
CREATE TABLE {table} (
    bucket    timestamptz NOT NULL,
    sensor_id text NOT NULL,
    avg       double precision NOT NULL,
    min       double precision NOT NULL,
    max       double precision NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (sensor_id, bucket)
)
"""

_FILL_5M = """
INSERT INTO measurement_5m (bucket, sensor_id, avg, min, max, n)
SELECT time_bucket(INTERVAL '5 minutes', time), sensor_id, avg(value), min(value), max(value), count(*)
FROM measurement GROUP BY 1, 2
ON CONFLICT (sensor_id, bucket) DO UPDATE
SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, n = EXCLUDED.n
"""

_FILL_1H = """
INSERT INTO measurement_1h (bucket, sensor_id, avg, min, max, n)
SELECT time_bucket(INTERVAL '1 hour', bucket), sensor_id, sum(avg * n) / sum(n)::float8, min(min), max(max), sum(n)
FROM measurement_5m GROUP BY 1, 2
ON CONFLICT (sensor_id, bucket) DO UPDATE
SET avg = EXCLUDED.avg, min = EXCLUDED.min, max = EXCLUDED.max, n = EXCLUDED.n
"""

_WATERMARK = """
INSERT INTO rollup_watermark (name, watermark)
SELECT %s, time_bucket(%s::interval, max(time)) FROM measurement HAVING max(time) IS NOT NULL
ON CONFLICT (name) DO UPDATE SET watermark = EXCLUDED.watermark, refreshed_at = now()
"""

_ROLLUPS = {"measurement_5m": "5 minutes", "measurement_1h": "1 hour"}


def _replace_view(conn: psycopg.Connection, name: str) -> None:
    """The view's buckets move into a table of the same name (what a refresh had already kept)."""
    view, table = sql.Identifier(name), sql.Identifier(f"{name}_table")
    conn.execute(sql.SQL(_TABLE).format(table=table))
    populated = conn.execute("SELECT ispopulated FROM pg_matviews WHERE matviewname = %s", (name,)).fetchone()[0]
    if populated:
        conn.execute(sql.SQL("INSERT INTO {} SELECT bucket, sensor_id, avg, min, max, n FROM {}").format(table, view))
    conn.execute(sql.SQL("DROP MATERIALIZED VIEW {}").format(view))
    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(table, view))
    conn.execute(sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
        view, sql.Identifier(f"{name}_table_pkey"), sql.Identifier(f"{name}_pkey")))


def apply(conn: psycopg.Connection) -> None:
    if has_timescaledb(conn):
        return
    for name in _ROLLUPS:
        _replace_view(conn, name)
    # The hourly refresh reads 5-minute buckets by time, across all sensors.
    conn.execute("CREATE INDEX measurement_5m_bucket_idx ON measurement_5m (bucket)")
    # Raw rows are the truth where they still exist: every bucket they reach is recomputed once here.
    conn.execute(_FILL_5M)
    conn.execute(_FILL_1H)
    for name, width in _ROLLUPS.items():
        conn.execute(_WATERMARK, (name, width))
    conn.execute(_PENDING)
