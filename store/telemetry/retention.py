"""How long raw readings are kept.

The rollups outlive the raw rows on both paths:

- TimescaleDB: whole day chunks past the horizon are dropped now and by a retention policy in the
  background. Dropping chunks invalidates their range in the continuous aggregates, and a refresh over
  that range would delete the buckets; so the aggregates' refresh policies never reach back past the
  horizon, and ``refresh_rollups`` starts at the oldest chunk kept.
- plain PostgreSQL: older rows are deleted; the rollup tables are not touched (the triggers that note
  changed buckets ignore deletes). The cut is the start of the hour holding the horizon, so a late
  reading that ingest still accepts (``time_before_retention`` refuses older ones) always lands in a
  bucket whose raw rows are whole, and recomputing that bucket loses nothing.
"""

from __future__ import annotations

from datetime import timedelta

from psycopg_pool import ConnectionPool

from store.db import transaction
from store.migrate import has_timescaledb
from store.telemetry.rollups import ROLLUP_WIDTHS

# The aggregates' refresh policies reach back this far (migration 003), or to the horizon if shorter.
POLICY_START_OFFSET = timedelta(days=3)


def apply_retention(pool: ConnectionPool, *, keep_days: int) -> dict:
    """Keep ``keep_days`` of raw readings (and of quarantined ones); return what was done.

    Idempotent: on TimescaleDB the policies are replaced (so a changed ``keep_days`` takes effect) and
    chunks past the horizon dropped, on plain PostgreSQL older rows are deleted; call it daily (the
    sync loop does).
    """
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1 day, not {keep_days}")
    horizon = timedelta(days=keep_days)
    with transaction(pool) as conn:
        quarantined = conn.execute("DELETE FROM measurement_rejected WHERE received_at < now() - %s",
                                   (horizon,)).rowcount
        if has_timescaledb(conn):
            dropped = _timescaledb_retention(conn, horizon)
            return {"mode": "timescaledb_policy", "keep_days": keep_days, "deleted": None,
                    "dropped_chunks": dropped, "rejected_deleted": quarantined}
        deleted = conn.execute("DELETE FROM measurement WHERE time < time_bucket(INTERVAL '1 hour', now() - %s)",
                               (horizon,)).rowcount
    return {"mode": "delete", "keep_days": keep_days, "deleted": deleted, "rejected_deleted": quarantined}


def _timescaledb_retention(conn, horizon: timedelta) -> int:
    conn.execute("SELECT remove_retention_policy('measurement', if_exists => true)")
    conn.execute("SELECT add_retention_policy('measurement', %s::interval)", (horizon,))
    start_offset = min(POLICY_START_OFFSET, horizon)
    for name, width in ROLLUP_WIDTHS.items():
        conn.execute("SELECT remove_continuous_aggregate_policy(%s::regclass, if_exists => true)", (name,))
        conn.execute("SELECT add_continuous_aggregate_policy(%s::regclass, start_offset => %s::interval,"
                     " end_offset => %s::interval, schedule_interval => %s::interval)",
                     (name, start_offset, width, width))
    return conn.execute("SELECT count(*) FROM drop_chunks('measurement', older_than => now() - %s::interval)",
                        (horizon,)).fetchone()[0]
