"""Time-series features: TimescaleDB when the extension can be created, plain PostgreSQL otherwise.

Either way callers see the same names: ``time_bucket(interval, timestamptz)``, and the rollups
``measurement_5m`` / ``measurement_1h`` (bucket, sensor_id, avg, min, max, n).
"""

import psycopg

from store.migrate import timescaledb_usable

# Continuous aggregates cannot be created inside a transaction block: this step manages its own.
TRANSACTIONAL = False

# TimescaleDB buckets timestamptz from this Monday (its default origin); the shim must agree.
_SHIM = """
CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT date_bin(bucket_width, ts, TIMESTAMPTZ '2000-01-03 00:00:00+00') $$;
"""

_ROLLUP = """
SELECT time_bucket(INTERVAL '{width}', time) AS bucket, sensor_id,
       avg(value) AS avg, min(value) AS min, max(value) AS max, count(*) AS n
FROM measurement GROUP BY 1, 2
"""

_ROLLUPS = {"measurement_5m": "5 minutes", "measurement_1h": "1 hour"}


def _try_timescaledb(conn: psycopg.Connection) -> bool:
    # Decide before trying: on a server where the library is installed but not preloaded,
    # CREATE EXTENSION raises FATAL and closes the connection, so catching it is too late.
    if not timescaledb_usable(conn):
        return False
    with conn.transaction():
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    return True


def _apply_timescaledb(conn: psycopg.Connection) -> None:
    with conn.transaction():
        _make_hypertable(conn)
    for name, width in _ROLLUPS.items():
        conn.execute(f"CREATE MATERIALIZED VIEW IF NOT EXISTS {name} WITH (timescaledb.continuous,"
                     f" timescaledb.materialized_only = false) AS {_ROLLUP.format(width=width)} WITH NO DATA")
        conn.execute(f"SELECT add_continuous_aggregate_policy('{name}', start_offset => INTERVAL '3 days',"
                     f" end_offset => INTERVAL '{width}', schedule_interval => INTERVAL '{width}',"
                     f" if_not_exists => true)")


def _make_hypertable(conn: psycopg.Connection) -> None:
    conn.execute("SELECT create_hypertable('measurement', 'time', chunk_time_interval => INTERVAL '1 day',"
                 " migrate_data => true)")
    conn.execute("ALTER TABLE measurement SET (timescaledb.compress,"
                 " timescaledb.compress_segmentby = 'sensor_id', timescaledb.compress_orderby = 'time')")
    conn.execute("SELECT add_compression_policy('measurement', INTERVAL '7 days')")


def _apply_plain(conn: psycopg.Connection) -> None:
    conn.execute(_SHIM)
    for name, width in _ROLLUPS.items():
        conn.execute(f"CREATE MATERIALIZED VIEW {name} AS {_ROLLUP.format(width=width)} WITH NO DATA")
        # A unique index lets the app refresh it CONCURRENTLY while the wall reads it.
        conn.execute(f"CREATE UNIQUE INDEX {name}_key ON {name} (sensor_id, bucket)")


def apply(conn: psycopg.Connection) -> None:
    if _try_timescaledb(conn):
        _apply_timescaledb(conn)
    else:
        with conn.transaction():
            _apply_plain(conn)
