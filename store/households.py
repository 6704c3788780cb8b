"""Households: who lives where, which station heats them, and which have a room-temperature collector."""

from __future__ import annotations

import pandas as pd
from psycopg_pool import ConnectionPool

HOUSEHOLD_COLUMNS = ("id", "community_id", "station_id", "name", "phone", "address", "building", "floor",
                     "area_m2", "heating_status", "sensor_id")


def list_households(pool: ConnectionPool, *, with_collector: bool | None = None) -> pd.DataFrame:
    """All households (optionally only those with, or without, a collector)."""
    where = {None: "", True: " WHERE sensor_id IS NOT NULL", False: " WHERE sensor_id IS NULL"}[with_collector]
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, community_id, station_id, name, phone, address, building, floor, area_m2,"
            " heating_status::text, sensor_id FROM household" + where + " ORDER BY id").fetchall()
    return pd.DataFrame(rows, columns=list(HOUSEHOLD_COLUMNS))
