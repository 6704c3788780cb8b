"""``time_bucket`` buckets exactly as TimescaleDB defines it: on either path against hand-computed
buckets, and the plain-PostgreSQL shim (as migration 003 installs it) against TimescaleDB's own
function on the same rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from store.migrate import has_timescaledb, migrate

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


def _bucket_table(conn, expression: str, times=KNOWN_TIMES):
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS known (ts timestamptz)")
    conn.execute("TRUNCATE known")
    with conn.cursor().copy("COPY known (ts) FROM STDIN") as copy:
        for ts in times:
            copy.write_row((ts,))
    result = {}
    for label in WIDTHS:
        rows = conn.execute(f"SELECT ts, {expression} FROM known ORDER BY ts", (label,)).fetchall()
        result[label] = {ts: bucket for ts, bucket in rows}
    return result


def test_time_bucket_matches_the_hand_computed_definition_on_known_rows(db_url):
    with psycopg.connect(db_url) as conn:
        buckets = _bucket_table(conn, "time_bucket(%s::interval, ts)")
    for label, width in WIDTHS.items():
        for ts in KNOWN_TIMES:
            assert buckets[label][ts] == timescale_definition(ts, width), (label, ts)


def test_weekly_buckets_start_on_monday(db_url):
    with psycopg.connect(db_url) as conn:
        buckets = _bucket_table(conn, "time_bucket(%s::interval, ts)")
    assert all(b.weekday() == 0 for b in buckets["7 days"].values())


@pytest.fixture
def shim_beside_timescaledb(pg_server, monkeypatch):
    """A database of the TimescaleDB server migrated on the plain path (``public.time_bucket`` is the
    shim), with the extension then created in schema ``tsdb`` (``tsdb.time_bucket`` is the real one)."""
    from tests.conftest import _admin, _database_url, _drop

    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _database_url(pg_server, name)
    monkeypatch.setenv("HEATTWIN_TIMESCALEDB", "off")
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        assert not has_timescaledb(conn)
        conn.execute("CREATE SCHEMA tsdb")
        conn.execute("CREATE EXTENSION timescaledb SCHEMA tsdb")
    yield url
    _drop(pg_server, name)


def _spread_times(count: int) -> list[datetime]:
    """Times spread over 1990-2040 at odd offsets (microseconds included), none on a round minute."""
    start = datetime(1990, 1, 1, tzinfo=UTC)
    step = timedelta(days=50 * 365) / count
    return [start + k * step + timedelta(microseconds=7919 * k % 1_000_000) for k in range(count)]


@pytest.mark.timescaledb
def test_shim_matches_timescaledb_time_bucket(shim_beside_timescaledb):
    times = KNOWN_TIMES + _spread_times(5000)
    with psycopg.connect(shim_beside_timescaledb) as conn:
        shim = _bucket_table(conn, "public.time_bucket(%s::interval, ts)", times)
        real = _bucket_table(conn, "tsdb.time_bucket(%s::interval, ts)", times)
    for label in WIDTHS:
        assert len(shim[label]) == len(times)
        differing = [ts for ts in times if shim[label][ts] != real[label][ts]]
        assert not differing, (label, differing[:3])
    for label, width in WIDTHS.items():
        for ts in KNOWN_TIMES:
            assert real[label][ts] == timescale_definition(ts, width), (label, ts)
