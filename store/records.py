"""Records that hang off the network: equipment, maintenance, drawings, teams, households, work orders.

Bulk loading streams CSV files (columns = the table's columns) through ``COPY``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from psycopg import sql
from psycopg_pool import ConnectionPool

from store.db import transaction

# Foreign keys decide the order: teams and equipment before what refers to them.
RECORD_TABLES = ("team", "equipment", "maintenance_log", "drawing", "household", "work_order",
                 "work_order_event")


class RecordsError(ValueError):
    pass


def _copy_csv(conn, table: str, path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
        handle.seek(0)
        statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, header)))
        with conn.cursor().copy(statement) as copy:
            while chunk := handle.read(1 << 16):
                copy.write(chunk)
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


def load_records(pool: ConnectionPool, records_dir: Path) -> dict[str, int]:
    """Load every ``<table>.csv`` present in ``records_dir``, all in one transaction."""
    records_dir = Path(records_dir)
    counts = {}
    with transaction(pool) as conn:
        for table in RECORD_TABLES:
            path = records_dir / f"{table}.csv"
            if not path.exists():
                continue
            try:
                counts[table] = _copy_csv(conn, table, path)
            except Exception as exc:
                raise RecordsError(f"{path}: {exc}") from exc
        # Work orders come with their ids; new ones must continue after them.
        conn.execute("SELECT setval(pg_get_serial_sequence('work_order', 'id'),"
                     " greatest((SELECT max(id) FROM work_order), 1))")
    return counts


def has_records(pool: ConnectionPool) -> bool:
    with pool.connection() as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM equipment)").fetchone()[0]
