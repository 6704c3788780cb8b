"""How long raw readings are kept.

On TimescaleDB a retention policy drops whole day chunks in the background; the continuous
aggregates keep their buckets (their refresh window only reaches back three days), so hourly and
5-minute trends outlive the raw rows. On plain PostgreSQL the rollups are materialized views
recomputed from raw rows, so there they survive exactly as long as the raw rows: ``keep_days``.
"""

from __future__ import annotations

from datetime import timedelta

from psycopg_pool import ConnectionPool

from store.db import transaction
from store.migrate import has_timescaledb


def apply_retention(pool: ConnectionPool, *, keep_days: int) -> dict:
    """Keep ``keep_days`` of raw readings (and of quarantined ones); return what was done.

    Idempotent: on TimescaleDB the policy is replaced (so a changed ``keep_days`` takes effect),
    on plain PostgreSQL older rows are deleted now; call it daily (the sync loop does).
    """
    if keep_days < 1:
        raise ValueError(f"keep_days must be at least 1 day, not {keep_days}")
    horizon = timedelta(days=keep_days)
    with transaction(pool) as conn:
        quarantined = conn.execute("DELETE FROM measurement_rejected WHERE received_at < now() - %s",
                                   (horizon,)).rowcount
        if has_timescaledb(conn):
            conn.execute("SELECT remove_retention_policy('measurement', if_exists => true)")
            conn.execute("SELECT add_retention_policy('measurement', %s::interval)", (horizon,))
            return {"mode": "timescaledb_policy", "keep_days": keep_days, "deleted": None,
                    "rejected_deleted": quarantined}
        deleted = conn.execute("DELETE FROM measurement WHERE time < now() - %s", (horizon,)).rowcount
    return {"mode": "delete", "keep_days": keep_days, "deleted": deleted, "rejected_deleted": quarantined}
