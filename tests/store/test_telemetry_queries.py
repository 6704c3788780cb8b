"""Reading telemetry back: trends agree with hand-computed buckets at every resolution (before
and after a rollup refresh, and for readings newer than it), latest values, window means,
room-temperature compliance and retention."""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest
from telemetry_net import add_households, build_network

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


def _retention_jobs(db_url) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT count(*) FROM timescaledb_information.jobs"
                            " WHERE proc_name = 'policy_retention' AND hypertable_name = 'measurement'").fetchone()[0]


def test_retention_deletes_raw_rows_past_the_horizon(net, db_url):
    now = datetime.now(UTC)
    old = pd.DataFrame({"time": [now - timedelta(days=10), now - timedelta(days=2)],
                        "sensor_id": "S-T1", "value": [70.0, 71.0]})
    assert ingest_rows(net, old, "test").accepted == 2
    done = apply_retention(net, keep_days=7)
    assert list(get_latest(net).value) == [71.0]
    assert get_trend(net, ["S-T1"], now - timedelta(days=11), now, "raw")["avg"].tolist() == [71.0]
    again = apply_retention(net, keep_days=7)  # idempotent
    if done["mode"] == "timescaledb_policy":
        assert done["dropped_chunks"] == 1 and again["dropped_chunks"] == 0
        assert _retention_jobs(db_url) == 1  # the policy is replaced, not duplicated
    else:
        assert done["mode"] == "delete" and done["deleted"] == 1 and again["deleted"] == 0
    with pytest.raises(ValueError, match="at least 1 day"):
        apply_retention(net, keep_days=0)


@pytest.mark.parametrize(("resolution", "width_min"), [("5m", 5), ("1h", 60)])
def test_rollups_outlive_the_raw_rows_retention_removes(net, resolution, width_min):
    old = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=10)
    recent = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    ingest_rows(net, pd.concat([_ramp("S-T1", old, 120), _ramp("S-T1", recent, 120)]), "test")
    refresh_rollups(net)
    apply_retention(net, keep_days=7)
    assert get_trend(net, ["S-T1"], old, old + timedelta(hours=2), "raw").empty
    refresh_rollups(net)  # a refresh after retention must not take the old buckets away
    ingest_rows(net, _ramp("S-T2", recent, 60), "test")
    refresh_rollups(net)
    assert _buckets(get_trend(net, ["S-T1"], old, old + timedelta(hours=2), resolution), "S-T1") == \
        _expected(old, width_min, 120)
    assert _buckets(get_trend(net, ["S-T1"], recent, recent + timedelta(hours=2), resolution), "S-T1") == \
        _expected(recent, width_min, 120)


@pytest.mark.timescaledb
def test_refresh_policies_never_reach_back_past_the_retention_horizon(net, db_url):
    two_days_ago = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    # And a recent reading, as a network always has: the bucket of the newest reading is still filling,
    # so a refresh leaves it to the real-time part and only materializes it once newer readings came.
    recent = datetime.now(UTC) - timedelta(minutes=5)
    ingest_rows(net, pd.concat([_ramp("S-T1", two_days_ago, 120), _ramp("S-T2", recent, 1)]), "test")
    refresh_rollups(net)
    apply_retention(net, keep_days=1)  # drops the chunk, which lies inside the policies' default 3 days
    with psycopg.connect(db_url, autocommit=True) as conn:
        jobs = conn.execute("SELECT job_id FROM timescaledb_information.jobs"
                            " WHERE proc_name = 'policy_refresh_continuous_aggregate'").fetchall()
        assert len(jobs) == 2
        for (job_id,) in jobs:
            conn.execute("CALL run_job(%s)", (job_id,))  # what the background worker runs
    for resolution, width in (("5m", 5), ("1h", 60)):
        trend = get_trend(net, ["S-T1"], two_days_ago, two_days_ago + timedelta(hours=2), resolution)
        assert _buckets(trend, "S-T1") == _expected(two_days_ago, width, 120), resolution


class _Interrupted(BaseException):
    """Like pytest-timeout's failure: a BaseException that psycopg does not answer with a cancel."""


@contextmanager
def _interrupt_after(seconds: float):
    """Raise ``_Interrupted`` in this thread after ``seconds`` (as pytest-timeout does), then put back
    the SIGALRM handler and what was left of pytest-timeout's own alarm."""

    def interrupt(signum, frame):
        raise _Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    left_s, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if left_s:
            signal.setitimer(signal.ITIMER_REAL, max(left_s - (time.monotonic() - started), 0.01))


def test_an_interrupted_refresh_raises_its_interruption_and_the_next_refresh_works(net, db_url, base):
    ingest_rows(net, _ramp("S-T1", base, 120), "test")
    with psycopg.connect(db_url) as blocker:
        # The refresh blocks reading measurement: the interruption comes while a query is in flight.
        blocker.execute("LOCK TABLE measurement IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(_Interrupted), _interrupt_after(0.5):
            refresh_rollups(net)
    refresh_rollups(net)
    for resolution, width in (("5m", 5), ("1h", 60)):
        trend = get_trend(net, ["S-T1"], base, base + timedelta(hours=2), resolution)
        assert _buckets(trend, "S-T1") == _expected(base, width, 120), resolution


def _rollup_row(db_url, bucket: datetime) -> tuple:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT avg, n FROM measurement_5m WHERE sensor_id = 'S-T1' AND bucket = %s",
                            (bucket,)).fetchone()


@pytest.mark.plain_postgresql
def test_a_plain_refresh_recomputes_only_the_buckets_that_received_rows(net, db_url, base):
    ingest_rows(net, _ramp("S-T1", base, 60), "test")
    assert refresh_rollups(net)["buckets"] == 12
    # Mark a stored bucket: a refresh that recomputed everything would overwrite the mark.
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE measurement_5m SET n = -1 WHERE sensor_id = 'S-T1' AND bucket = %s", (base,))
    ingest_rows(net, _ramp("S-T1", base + timedelta(hours=1), 10, offset=60), "test")
    assert refresh_rollups(net)["buckets"] == 2
    assert _rollup_row(db_url, base) == (2.0, -1)
    assert _rollup_row(db_url, base + timedelta(hours=1)) == (62.0, 5)
    # A late reading in the marked bucket makes it pending again: recomputed from its raw rows.
    late = pd.DataFrame({"time": [base + timedelta(seconds=30)], "sensor_id": "S-T1", "value": [0.5]})
    ingest_rows(net, late, "test")
    assert refresh_rollups(net)["buckets"] == 1
    assert _rollup_row(db_url, base) == (pytest.approx(10.5 / 6), 6)
    assert refresh_rollups(net)["buckets"] == 0
    # Its hour is recomputed from the 5-minute buckets: minutes 0..59 and the late 0.5.
    hourly = get_trend(net, ["S-T1"], base, base + timedelta(hours=2), "1h")
    assert _buckets(hourly, "S-T1")[0] == (base, round(1770.5 / 61, 9), 0.0, 59.0, 61)
