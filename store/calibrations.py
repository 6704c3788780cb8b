"""Twin calibrations: multipliers fitted on a window of residuals; the sync loop uses the latest."""

from __future__ import annotations

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from store.db import transaction

_COLUMNS = ("id", "created_at", "window_start", "window_end", "params", "rms_before", "rms_after")


def add_calibration(pool: ConnectionPool, *, window_start, window_end, params: dict, rms_before: dict,
                    rms_after: dict) -> int:
    with transaction(pool) as conn:
        return conn.execute(
            "INSERT INTO calibration (window_start, window_end, params, rms_before, rms_after)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (window_start, window_end, Jsonb(params), Jsonb(rms_before), Jsonb(rms_after))).fetchone()[0]


def get_latest_calibration(pool: ConnectionPool) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM calibration ORDER BY created_at DESC, id DESC"
                           " LIMIT 1").fetchone()
    return None if row is None else dict(zip(_COLUMNS, row, strict=True))
