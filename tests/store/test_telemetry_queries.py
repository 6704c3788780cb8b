"""Reading telemetry back: trends agree with hand-computed buckets at every resolution (before
and after a rollup refresh, and for readings newer than it), latest values, window means,
room-temperature compliance and retention."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest
from telemetry_net import add_households, build_network

from store.db import close_pools, get_pool
from store.migrate import migrate
from store.telemetry import (
    apply_retention,
    get_compliance,
    get_element_trend,
    get_latest,
    get_trend,
    get_window_means,
    ingest_rows,
    pick_resolution,
    refresh_rollups,
)

SENSORS = {"S-T1": ("t_supply", "ST-1"), "S-T2": ("t_return", "ST-1"), "S-X": ("p_node", "N-1"),
           "S-R1": ("room_t", "C-1"), "S-R2": ("room_t", "C-1"), "S-R3": ("room_t", "C-1"),
           "S-R4": ("room_t", "C-2")}


@pytest.fixture
def net(pool):
    build_network(pool, SENSORS)
    return pool


@pytest.fixture
def base() -> datetime:
    """Start of a whole hour three hours ago: two hours of minute readings fit before now."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


def _ramp(sensor_id: str, base: datetime, minutes: int, offset: float = 0.0) -> pd.DataFrame:
    """One reading a minute; the value is the minute number (+ offset): easy to average by hand."""
    return pd.DataFrame({"time": [base + timedelta(minutes=m) for m in range(minutes)],
                         "sensor_id": sensor_id, "value": [m + offset for m in range(minutes)]})


def _expected(base: datetime, width_min: int, minutes: int, offset: float = 0.0) -> list[tuple]:
    """(bucket, avg, min, max, n) of a ramp: bucket k holds minutes k*w .. k*w + w - 1."""
    out = []
    for k in range(minutes // width_min):
        lo, hi = k * width_min, k * width_min + width_min - 1
        out.append((base + timedelta(minutes=lo), (lo + hi) / 2 + offset, lo + offset, hi + offset, width_min))
    return out


def _buckets(trend: pd.DataFrame, sensor_id: str) -> list[tuple]:
    part = trend[trend.sensor_id == sensor_id]
    return [(b.to_pydatetime(), round(a, 9), lo, hi, int(n))
            for b, a, lo, hi, n in zip(part.bucket, part["avg"], part["min"], part["max"], part.n, strict=True)]


@pytest.mark.parametrize(("resolution", "width_min"), [("5m", 5), ("1h", 60)])
def test_trend_buckets_match_hand_computed_before_and_after_refresh(net, base, resolution, width_min):
    ingest_rows(net, pd.concat([_ramp("S-T1", base, 120), _ramp("S-T2", base, 120, offset=10)]), "test")
    end = base + timedelta(hours=2)
    before = get_trend(net, ["S-T1", "S-T2"], base, end, resolution)
    refresh_rollups(net)
    after = get_trend(net, ["S-T1", "S-T2"], base, end, resolution)
    for trend in (before, after):
        assert _buckets(trend, "S-T1") == _expected(base, width_min, 120)
        assert _buckets(trend, "S-T2") == _expected(base, width_min, 120, offset=10)


def test_trend_includes_readings_newer_than_the_last_refresh(net, base):
    ingest_rows(net, _ramp("S-T1", base, 60), "test")
    refresh_rollups(net)
    ingest_rows(net, _ramp("S-T1", base + timedelta(hours=1), 60, offset=60), "test")  # minutes 60..119
    end = base + timedelta(hours=2)
    for resolution, width in (("5m", 5), ("1h", 60)):
        trend = get_trend(net, ["S-T1"], base, end, resolution)
        assert _buckets(trend, "S-T1") == _expected(base, width, 120), resolution


def test_raw_trend_returns_every_reading(net, base):
    ingest_rows(net, _ramp("S-T1", base, 30), "test")
    trend = get_trend(net, ["S-T1"], base, base + timedelta(minutes=30), "raw")
    assert len(trend) == 30 and (trend.n == 1).all()
    assert list(trend["avg"]) == list(range(30)) and list(trend["min"]) == list(trend["max"])


def test_resolution_follows_the_window_length():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert pick_resolution(start, start + timedelta(hours=6)) == "raw"
    assert pick_resolution(start, start + timedelta(hours=7)) == "5m"
    assert pick_resolution(start, start + timedelta(days=3)) == "5m"
    assert pick_resolution(start, start + timedelta(days=4)) == "1h"


def test_element_trend_covers_all_sensors_of_the_element(net, base):
    ingest_rows(net, pd.concat([_ramp("S-T1", base, 10), _ramp("S-T2", base, 10), _ramp("S-X", base, 10)]), "t")
    trend = get_element_trend(net, "ST-1", base, base + timedelta(minutes=10))
    assert set(trend.sensor_id) == {"S-T1", "S-T2"}
    assert set(trend.kind) == {"t_supply", "t_return"} and set(trend.unit) == {"°C"}


def test_latest_is_the_newest_reading_per_sensor(net, base):
    ingest_rows(net, pd.concat([_ramp("S-T1", base, 10), _ramp("S-T2", base, 5, offset=100)]), "test")
    latest = get_latest(net)
    assert list(latest.itertuples(index=False, name=None)) == [
        ("S-T1", base + timedelta(minutes=9), 9.0), ("S-T2", base + timedelta(minutes=4), 104.0)]
    only = get_latest(net, ["S-T2", "S-R1"])
    assert list(only.sensor_id) == ["S-T2"]


def test_window_means_cover_the_half_open_window(net, base):
    ingest_rows(net, _ramp("S-T1", base, 10), "test")
    means = get_window_means(net, end=base + timedelta(minutes=9), window_s=300)  # minutes 5..9
    assert list(means.itertuples(index=False, name=None)) == [("S-T1", 7.0, 5, base + timedelta(minutes=9))]


def test_compliance_counts_collectors_below_threshold(net, base):
    add_households(net, [("H-1", "C-1", "S-R1"), ("H-2", "C-1", "S-R2"), ("H-3", "C-1", "S-R3"),
                         ("H-4", "C-2", "S-R4")])
    means = {"S-R1": 20.0, "S-R2": 17.0, "S-R3": 19.0, "S-R4": 16.0}
    rows = pd.concat([_ramp(s, base, 3).assign(value=lambda f, m=m: [m - 1, m, m + 1]) for s, m in means.items()])
    ingest_rows(net, rows, "test")
    compliance = get_compliance(net, end=base + timedelta(minutes=10), window_s=3600, threshold_c=18.0)
    got = {r.community_id: (r.station_id, r.collectors, r.below, r.share_ok) for r in compliance.itertuples()}
    assert got == {"C-1": ("ST-1", 3, 1, pytest.approx(2 / 3)), "C-2": ("ST-1", 1, 1, 0.0)}


def test_retention_deletes_raw_rows_past_the_horizon(net, db_url):
    now = datetime.now(UTC)
    old = pd.DataFrame({"time": [now - timedelta(days=10), now - timedelta(days=2)],
                        "sensor_id": "S-T1", "value": [70.0, 71.0]})
    assert ingest_rows(net, old, "test").accepted == 2
    with psycopg.connect(db_url) as conn:
        timescale = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if timescale:
        pytest.skip("on TimescaleDB retention is a background policy, checked in the timescaledb tests")
    done = apply_retention(net, keep_days=7)
    assert done["mode"] == "delete" and done["deleted"] == 1
    assert list(get_latest(net).value) == [71.0]
    assert apply_retention(net, keep_days=7)["deleted"] == 0  # idempotent
    with pytest.raises(ValueError, match="at least 1 day"):
        apply_retention(net, keep_days=0)


@pytest.fixture
def timescale_pool():
    """A fresh migrated database on the TimescaleDB server named by TIMESCALEDB_URL."""
    url = os.environ.get("TIMESCALEDB_URL")
    if not url:
        pytest.skip("TIMESCALEDB_URL is not set: no TimescaleDB server to run against")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = url.rsplit("/", 1)[0] + "/" + name
    migrate(db)
    yield get_pool(db)
    close_pools()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.timescaledb
def test_trends_and_retention_on_timescaledb(timescale_pool, base):
    build_network(timescale_pool, SENSORS)
    ingest_rows(timescale_pool, _ramp("S-T1", base, 120), "test")
    end = base + timedelta(hours=2)
    for _refreshed in (False, True):
        for resolution, width in (("5m", 5), ("1h", 60)):
            trend = get_trend(timescale_pool, ["S-T1"], base, end, resolution)
            assert _buckets(trend, "S-T1") == _expected(base, width, 120), resolution
        refresh_rollups(timescale_pool)
    for _ in range(2):  # idempotent: the policy is replaced, not duplicated
        assert apply_retention(timescale_pool, keep_days=30)["mode"] == "timescaledb_policy"
