"""Twin history for replay: states and residuals downsampled past the raw runs, not deleted with them.

- ``twin_run.at``: the telemetry time a run solved for (``summary.at``, else when it started), indexed so
  that "the run nearest before T" is one index probe; ``twin_run.rolled_at``: when its states went into
  the history (``prune_runs`` deletes only rolled sync runs, so nothing is lost between two housekeepings).
- ``twin_state_history`` (15-minute buckets per element: the mean of each state column over the bucket's
  converged sync runs, the worst status, how many runs), ``twin_residual_history`` (hourly per sensor), and
  ``twin_run_history`` (per 15-minute bucket: runs, the last run's summary, mean cycle time) for the tiles.
- TimescaleDB: the three are hypertables with compression (segmented by element / sensor) and a
  compression policy; retention drops their chunks (``store.replay.apply_history_retention``). Plain
  PostgreSQL: ordinary tables with the same columns and a time index; retention deletes rows.
"""

import psycopg

from store.migrate import has_timescaledb

_RUNS = """
ALTER TABLE twin_run ADD COLUMN at timestamptz, ADD COLUMN rolled_at timestamptz;
UPDATE twin_run SET at = coalesce((summary->>'at')::timestamptz, started_at);
ALTER TABLE twin_run ALTER COLUMN at SET NOT NULL, ALTER COLUMN at SET DEFAULT now();
CREATE INDEX twin_run_at_idx ON twin_run (at DESC) WHERE kind = 'sync' AND converged;
CREATE INDEX twin_run_unrolled_idx ON twin_run (at) WHERE kind = 'sync' AND converged AND rolled_at IS NULL;
"""

_STATE_HISTORY = """
CREATE TABLE twin_state_history (
    bucket       timestamptz NOT NULL,       -- start of a 15-minute bucket (time_bucket)
    element_id   text NOT NULL,
    status       text NOT NULL,              -- the worst of the bucket's runs: cut_off > estimated > normal
    p_supply_bar double precision,
    p_return_bar double precision,
    t_supply_c   double precision,
    t_return_c   double precision,
    flow_t_h     double precision,
    v_m_per_s    double precision,
    dp_bar       double precision,
    heat_mw      double precision,
    heat_loss_kw double precision,
    delay_h      double precision,
    runs         integer NOT NULL,           -- converged sync runs averaged
    PRIMARY KEY (element_id, bucket)
);
CREATE INDEX twin_state_history_bucket_idx ON twin_state_history (bucket DESC);

CREATE TABLE twin_residual_history (
    bucket    timestamptz NOT NULL,          -- start of an hour
    sensor_id text NOT NULL,
    measured  double precision,
    modelled  double precision,
    residual  double precision,
    runs      integer NOT NULL,
    PRIMARY KEY (sensor_id, bucket)
);
CREATE INDEX twin_residual_history_bucket_idx ON twin_residual_history (bucket DESC);

CREATE TABLE twin_run_history (
    bucket      timestamptz PRIMARY KEY,     -- start of a 15-minute bucket
    runs        integer NOT NULL,
    last_run_at timestamptz NOT NULL,        -- the telemetry time of the bucket's last run
    summary     jsonb NOT NULL DEFAULT '{}', -- that run's summary (network totals, outdoor temperature)
    cycle_s     double precision,            -- mean cycle time of the bucket's runs
    solve_s     double precision
);
"""

# (table, segment column): compressed per element / sensor, in time order.
_HYPERTABLES = {"twin_state_history": "element_id", "twin_residual_history": "sensor_id", "twin_run_history": None}


def _timescaledb(conn: psycopg.Connection) -> None:
    for table, segment in _HYPERTABLES.items():
        conn.execute("SELECT create_hypertable(%s::regclass, 'bucket', chunk_time_interval => INTERVAL '7 days')",
                     (table,))
        options = "timescaledb.compress, timescaledb.compress_orderby = 'bucket DESC'"
        if segment:
            options += f", timescaledb.compress_segmentby = '{segment}'"  # names from the constant above
        conn.execute(f"ALTER TABLE {table} SET ({options})")
        # Raw runs are kept two days: a late run rolls into an uncompressed chunk.
        conn.execute("SELECT add_compression_policy(%s::regclass, INTERVAL '3 days')", (table,))


def apply(conn: psycopg.Connection) -> None:
    conn.execute(_RUNS)
    conn.execute(_STATE_HISTORY)
    if has_timescaledb(conn):
        _timescaledb(conn)
