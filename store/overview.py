"""Counts of what the store holds, for the overview page and `heattwin demo`'s closing line."""

from __future__ import annotations

from psycopg import sql
from psycopg_pool import ConnectionPool

COUNTED_TABLES = ("equipment", "maintenance_log", "drawing", "team", "household", "work_order", "measurement")


def count_records(pool: ConnectionPool) -> dict[str, int]:
    with pool.connection() as conn:
        return {
            table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
            for table in COUNTED_TABLES
        }
