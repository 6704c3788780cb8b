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
                 "work_order_event", "work_order_revisit")


class RecordsError(ValueError):
    pass


def _empty_is_text(conn, table: str, header: list[str]) -> list[str]:
    """The columns where an empty CSV field means '' rather than NULL: text, NOT NULL, with a default."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = %s AND data_type = 'text' AND is_nullable = 'NO' AND column_default IS NOT NULL",
        (table,)).fetchall()
    names = {r[0] for r in rows}
    return [c for c in header if c in names]


def _copy_csv(conn, table: str, path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
        handle.seek(0)
        text = _empty_is_text(conn, table, header)
        options = (sql.SQL(", FORCE_NOT_NULL ({})").format(sql.SQL(", ").join(map(sql.Identifier, text)))
                   if text else sql.SQL(""))
        statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true{})").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, header)), options)
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


# Read side for the wall's detail panel: one element's records, newest first where time matters.

def _dicts(cur) -> list[dict]:
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def get_equipment(pool: ConnectionPool, asset_id: str) -> list[dict]:
    """Nameplates of the equipment installed at an element (maker, model, serial, install year, rated)."""
    with pool.connection() as conn:
        return _dicts(conn.execute(
            "SELECT id, kind, maker, model, serial, install_year, rated FROM equipment"
            " WHERE asset_id = %s ORDER BY id", (asset_id,)))


def get_maintenance(pool: ConnectionPool, asset_id: str, limit: int = 20) -> list[dict]:
    """Maintenance history of the element's equipment, newest first."""
    with pool.connection() as conn:
        return _dicts(conn.execute(
            "SELECT m.done_at, m.kind, m.note, m.crew, m.equipment_id FROM maintenance_log m"
            " JOIN equipment e ON e.id = m.equipment_id WHERE e.asset_id = %s"
            " ORDER BY m.done_at DESC LIMIT %s", (asset_id, limit)))


def get_drawings(pool: ConnectionPool, asset_id: str) -> list[dict]:
    """Repair drawings of an element; ``path`` is relative to ``settings.drawings_dir``."""
    with pool.connection() as conn:
        return _dicts(conn.execute(
            "SELECT id, title, kind, path FROM drawing WHERE asset_id = %s ORDER BY id", (asset_id,)))
