"""Ground truth of the virtual plant: the faults it injected, so detection can be scored later."""

from __future__ import annotations

import pandas as pd
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from store.db import transaction

FAULT_COLUMNS = ("id", "kind", "element_id", "start_at", "end_at", "params", "created_at")


def add_simulated_faults(pool: ConnectionPool, faults) -> list[int]:
    """Record injected faults (objects with kind, element_id, start_at, end_at, params)."""
    with transaction(pool) as conn:
        return [conn.execute(
            "INSERT INTO simulated_fault (kind, element_id, start_at, end_at, params)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (f.kind, f.element_id, f.start_at, f.end_at, Jsonb(f.params))).fetchone()[0] for f in faults]


def list_simulated_faults(pool: ConnectionPool, kind: str | None = None) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, kind, element_id, start_at, end_at, params, created_at FROM simulated_fault"
            " WHERE %s::text IS NULL OR kind = %s ORDER BY start_at, id", (kind, kind)).fetchall()
    return pd.DataFrame(rows, columns=list(FAULT_COLUMNS))
