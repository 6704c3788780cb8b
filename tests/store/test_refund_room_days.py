"""The refund ledger read from the collectors' days (``room_day``) equals the ledger read from the hourly rollup
— households, hours by kind, spans, days and yuan to the fen — on the crafted series (cold spell, offline,
suspended, tampered) and on a random season, and stays equal when late readings change days already rolled
up (the refresh recomputes them), on either database path."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from store import refunds
from store.telemetry import ingest_rows, refresh_rollups
from tests.store.test_refunds import END, START, TZ, city  # noqa: F401  (the crafted city fixture)
from twin.refunds import _dense, compute_ledger, load_rule, season_hours


def _both_reads(pool, start: date, end: date):
    """The season's hourly means read both ways, and the ledgers they give."""
    hours = season_hours(start, end, TZ)
    homes = refunds.list_collector_households(pool)
    sensors = homes["sensor_id"].tolist()
    by_days = refunds.get_room_temperatures(pool, sensors, hours[0].to_pydatetime(), len(hours))
    by_hours = _dense(refunds.get_room_hours(pool, sensors, hours[0].to_pydatetime(), len(hours)), len(homes),
                      len(hours))
    suspensions = refunds.list_suspensions(pool)
    rule = load_rule()
    ledgers = [compute_ledger(homes, t_c, suspensions, rule, start, end, TZ) for t_c in (by_days, by_hours)]
    return by_days, by_hours, ledgers


def _assert_same_ledger(ledgers) -> None:
    days, hours = ledgers
    pd.testing.assert_frame_equal(days.entries, hours.entries)
    pd.testing.assert_frame_equal(days.spans, hours.spans)
    pd.testing.assert_frame_equal(days.days, hours.days)
    assert {k: v for k, v in days.summary.items() if k != "compute_s"} == \
        {k: v for k, v in hours.summary.items() if k != "compute_s"}


def _room_days(pool) -> tuple[int, int]:
    """How many collector-days and distinct days ``room_day`` holds."""
    with pool.connection() as conn:
        return conn.execute("SELECT count(*), count(DISTINCT day) FROM room_day").fetchone()


def test_the_collectors_days_give_the_hourly_rollups_ledger_on_the_crafted_series(city):  # noqa: F811
    refresh_rollups(city)
    by_days, by_hours, ledgers = _both_reads(city, START, END)
    # The UTC days 19–22 Nov are rolled up; the season's last 16 hours (23 Nov UTC) are still the hourly rollup's.
    assert _room_days(city) == (10 * 4, 4)
    np.testing.assert_array_equal(by_days, by_hours)
    _assert_same_ledger(ledgers)
    entries = ledgers[0].entries.set_index("household_id")
    assert entries.loc["H-1", "counted_hours"] == 22 and entries.loc["H-2", "offline_hours"] == 20
    assert entries.loc["H-4", "tamper_jumps"] == 1 and entries.loc["H-3", "suspended_hours"] > 0


def test_late_readings_for_days_already_rolled_up_reach_the_ledger(city):  # noqa: F811
    refresh_rollups(city)
    hours = season_hours(START, END, TZ)
    # H-5 turns cold for a day and a half that was already rolled up; H-2's offline hours arrive late.
    late = [(hours[k] + pd.Timedelta(minutes=45), "S-H-5-RT", 1.0) for k in range(8, 44)]
    late += [(hours[k] + pd.Timedelta(minutes=10), "S-H-2-RT", 15.0) for k in range(40, 60)]
    assert ingest_rows(city, pd.DataFrame(late, columns=["time", "sensor_id", "value"]), origin="test").rejected == 0
    refresh_rollups(city)
    by_days, by_hours, ledgers = _both_reads(city, START, END)
    np.testing.assert_array_equal(by_days, by_hours)
    _assert_same_ledger(ledgers)
    entries = ledgers[0].entries.set_index("household_id")
    assert entries.loc["H-2", "offline_hours"] == 0 and entries.loc["H-5", "cold_hours"] == 36


def test_a_random_season_gives_the_same_ledger_both_ways(pool, db_url):
    from scripts.actors import cli_actor
    from scripts.bench_refunds import _copy_season, _own_city, _series

    start, end = date(2025, 11, 15), date(2025, 11, 28)
    _own_city(pool, 180)
    homes = refunds.list_collector_households(pool)
    hours = season_hours(start, end, TZ)
    rng = np.random.default_rng(21)
    t_c, planted = _series(homes, len(hours), rng)
    _copy_season(pool, homes["sensor_id"].tolist(), t_c, hours[0])
    actor = cli_actor(pool, "household.suspend")
    for household in homes["household_id"].sample(n=6, random_state=2):
        at = hours[int(rng.integers(0, len(hours) - 100))]
        refunds.add_suspension(pool, household, start_at=at.to_pydatetime(),
                               end_at=(at + pd.Timedelta(hours=int(rng.integers(5, 90)))).to_pydatetime(), actor=actor)
    refresh_rollups(pool)
    days, distinct = _room_days(pool)    # a collector offline a whole UTC day has no row for it
    assert distinct == 14 and 180 * 13 < days <= 180 * 14
    by_days, by_hours, ledgers = _both_reads(pool, start, end)
    np.testing.assert_array_equal(by_days, by_hours)
    _assert_same_ledger(ledgers)
    summary = ledgers[0].summary
    assert summary["refund_households"] > 0 and summary["tampered_collectors"] >= 1
    assert summary["counted_hours"] > 0 and len(ledgers[0].spans) > 0


@pytest.mark.parametrize("start_hour", [0, 7])
def test_a_season_not_starting_at_a_utc_midnight_is_cut_from_its_days(pool, db_url, start_hour):
    from scripts.bench_refunds import _copy_season, _own_city, _series

    _own_city(pool, 60)
    homes = refunds.list_collector_households(pool)
    first = pd.Timestamp("2025-11-15", tz="UTC")
    t_c, _ = _series(homes, 24 * 12, np.random.default_rng(4))
    _copy_season(pool, homes["sensor_id"].tolist(), t_c, first)
    refresh_rollups(pool)
    sensors = homes["sensor_id"].tolist()
    at = first + pd.Timedelta(hours=24 + start_hour)
    by_days = refunds.get_room_temperatures(pool, sensors, at.to_pydatetime(), 24 * 4)
    by_hours = _dense(refunds.get_room_hours(pool, sensors, at.to_pydatetime(), 24 * 4), 60, 24 * 4)
    np.testing.assert_array_equal(by_days, by_hours)
    np.testing.assert_array_equal(by_days, np.round(t_c[:, 24 + start_hour:24 + start_hour + 96].astype(np.float64), 2).astype(np.float32))


def test_the_migration_backfills_the_days_the_hourly_rollup_already_has(city, db_url):  # noqa: F811
    from store.migrate import migrate

    refresh_rollups(city)
    query = "SELECT sensor_id, day, t_c::text FROM room_day ORDER BY 1, 2"
    with city.connection() as conn:
        kept = conn.execute(query).fetchall()
        watermark = conn.execute("SELECT watermark FROM rollup_watermark WHERE name = 'room_day'").fetchone()
        conn.execute("DROP TABLE room_day")
        conn.execute("DROP FUNCTION room_day_hours")
        conn.execute("DELETE FROM rollup_watermark WHERE name = 'room_day'")
        conn.execute("DELETE FROM schema_migration WHERE name = '021_refund_room_days.py'")
    assert migrate(db_url) == ["021_refund_room_days.py"]
    with city.connection() as conn:
        assert conn.execute(query).fetchall() == kept and len(kept) == 40
        assert conn.execute("SELECT watermark FROM rollup_watermark WHERE name = 'room_day'").fetchone() == watermark
    by_days, by_hours, ledgers = _both_reads(city, START, END)
    np.testing.assert_array_equal(by_days, by_hours)
