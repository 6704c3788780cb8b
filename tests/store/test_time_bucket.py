"""The plain-PostgreSQL time_bucket shim buckets exactly as TimescaleDB defines time_bucket."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from store.migrate import has_timescaledb

# TimescaleDB's documented default origin for timestamptz buckets: Monday 2000-01-03 00:00 UTC.
TIMESCALE_ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)
WIDTHS = {"5 minutes": timedelta(minutes=5), "15 minutes": timedelta(minutes=15),
          "1 hour": timedelta(hours=1), "1 day": timedelta(days=1), "7 days": timedelta(days=7)}
KNOWN_TIMES = [
    datetime(2026, 11, 22, 10, 47, 31, tzinfo=UTC),
    datetime(2026, 11, 22, 0, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 21, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 4, 59, tzinfo=UTC),
    datetime(1999, 12, 31, 13, 7, tzinfo=UTC),   # before the origin: buckets still floor
    datetime(2000, 1, 3, 0, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 30, tzinfo=UTC),
]


def timescale_definition(ts: datetime, width: timedelta) -> datetime:
    return TIMESCALE_ORIGIN + ((ts - TIMESCALE_ORIGIN) // width) * width


def _bucket_table(conn, expression: str):
    conn.execute("CREATE TEMP TABLE known (ts timestamptz)")
    with conn.cursor().copy("COPY known (ts) FROM STDIN") as copy:
        for ts in KNOWN_TIMES:
            copy.write_row((ts,))
    result = {}
    for label in WIDTHS:
        rows = conn.execute(f"SELECT ts, {expression} FROM known ORDER BY ts", (label,)).fetchall()
        result[label] = {ts: bucket for ts, bucket in rows}
    return result


def test_shim_matches_timescaledb_definition_on_known_rows(db_url):
    with psycopg.connect(db_url) as conn:
        buckets = _bucket_table(conn, "time_bucket(%s::interval, ts)")
    for label, width in WIDTHS.items():
        for ts in KNOWN_TIMES:
            assert buckets[label][ts] == timescale_definition(ts, width), (label, ts)


def test_weekly_buckets_start_on_monday(db_url):
    with psycopg.connect(db_url) as conn:
        buckets = _bucket_table(conn, "time_bucket(%s::interval, ts)")
    assert all(b.weekday() == 0 for b in buckets["7 days"].values())


@pytest.mark.timescaledb
def test_shim_matches_real_timescaledb():
    url = os.environ.get("TIMESCALEDB_URL")
    if not url:
        pytest.skip("TIMESCALEDB_URL is not set: no TimescaleDB server to compare against")
    with psycopg.connect(url) as conn:
        assert has_timescaledb(conn) or conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        real = _bucket_table(conn, "time_bucket(%s::interval, ts)")
        conn.execute("DROP TABLE known")
        shim = _bucket_table(conn, "date_bin(%s::interval, ts, TIMESTAMPTZ '2000-01-03 00:00:00+00')")
        conn.rollback()
    assert real == shim
