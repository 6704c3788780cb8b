"""Twin history for replay (migration 018, ``store.replay``): runs folded into buckets before they are pruned,
read back at a past time on both paths; alarms and work orders as they stood at a past time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest
from telemetry_net import STATION, build_network

from store import alarms as store_alarms
from store import replay, twin_runs
from store import work_orders as store_orders
from store.audit import Actor

PIPE = "P-1"


@pytest.fixture
def net(pool):
    build_network(pool, {"S-T1": ("t_supply", STATION), "S-F1": ("flow", STATION)})
    return pool


def _run(pool, at: datetime, t_supply_c: float, *, status: str = "normal", residual: float = 0.5,
         started_at: datetime | None = None) -> int:
    states = pd.DataFrame({"element_id": [STATION, PIPE], "status": [status, "normal"],
                           "t_supply_c": [t_supply_c, t_supply_c + 1.0], "flow_t_h": [50.0, None]})
    residuals = pd.DataFrame({"sensor_id": ["S-T1"], "measured": [t_supply_c], "modelled": [t_supply_c + residual],
                              "residual": [residual]})
    started = started_at or at
    return twin_runs.add_run(pool, started_at=started, finished_at=started, converged=True, cycle_s=2.0,
                             summary={"at": at.isoformat(), "heat_mw": t_supply_c / 10.0},
                             states=states, residuals=residuals)


def _station(state: replay.ReplayState) -> pd.Series:
    return state.states.set_index("element_id").loc[STATION]


def test_runs_past_their_raw_days_are_replayed_from_their_buckets_means(net):
    pool = net
    bucket = pd.Timestamp.now(tz="UTC").floor("15min").to_pydatetime() - timedelta(days=3)
    _run(pool, bucket + timedelta(minutes=1), 90.0, residual=0.4, started_at=bucket)
    _run(pool, bucket + timedelta(minutes=6), 94.0, status="cut_off", residual=0.8, started_at=bucket)  # 3 days ago: past 48 h
    # While the raw runs are kept, replay shows the run nearest before the time asked for.
    raw = replay.get_state_at(pool, bucket + timedelta(minutes=3))
    assert raw.source == "run" and _station(raw)["t_supply_c"] == 90.0
    assert replay.get_state_at(pool, bucket + timedelta(minutes=9)).summary["heat_mw"] == 9.4

    assert replay.roll_up_history(pool) == {"runs": 2}
    assert twin_runs.prune_runs(pool, keep_hours=48) == 1   # the latest converged run always stays
    with pool.connection() as conn:
        conn.execute("DELETE FROM twin_run")                   # as if the loop had moved on for days
    state = replay.get_state_at(pool, bucket + timedelta(minutes=10))
    assert state.source == "history" and state.time == bucket and state.runs == 2
    station = _station(state)
    assert station["t_supply_c"] == pytest.approx(92.0) and station["flow_t_h"] == pytest.approx(50.0)
    assert station["status"] == "cut_off"                      # the worst of the bucket
    assert pd.isna(state.states.set_index("element_id").at[PIPE, "flow_t_h"])
    assert state.summary["heat_mw"] == 9.4                     # the bucket's last run
    assert state.residuals.set_index("sensor_id").at["S-T1", "residual"] == pytest.approx(0.6)
    assert replay.get_state_at(pool, bucket - timedelta(minutes=1)).source is None


def test_a_run_not_yet_in_the_history_is_never_pruned(net):
    pool = net
    long_ago = datetime.now(UTC) - timedelta(days=3)
    first = _run(pool, long_ago, 90.0)
    _run(pool, long_ago + timedelta(minutes=1), 91.0)
    assert twin_runs.prune_runs(pool, keep_hours=48) == 0
    replay.roll_up_history(pool)
    assert twin_runs.prune_runs(pool, keep_hours=48) == 1
    assert twin_runs.get_run_states(pool, first).empty


def test_runs_folded_late_weigh_as_much_as_those_folded_at_once(net):
    pool = net
    bucket = pd.Timestamp("2026-11-20 08:00", tz="UTC").to_pydatetime()
    for minute, t_supply_c in ((1, 90.0), (14, 96.0), (7, 99.0)):   # the last one arrives late
        _run(pool, bucket + timedelta(minutes=minute), t_supply_c)
        replay.roll_up_history(pool)
    with pool.connection() as conn:
        row = conn.execute("SELECT t_supply_c, runs FROM twin_state_history WHERE element_id = %s AND bucket = %s",
                           (STATION, bucket)).fetchone()
        runs = conn.execute("SELECT runs, last_run_at, summary->>'heat_mw' FROM twin_run_history WHERE bucket = %s",
                            (bucket,)).fetchone()
    assert row[0] == pytest.approx(95.0) and row[1] == 3
    assert runs == (3, bucket + timedelta(minutes=14), "9.6")   # the summary of the bucket's last run
    assert replay.roll_up_history(pool) == {"runs": 0}          # each run folds once


def test_history_past_the_retention_is_gone(net):
    pool = net
    month_ago = datetime.now(UTC) - timedelta(days=30)
    _run(pool, month_ago, 90.0)
    _run(pool, datetime.now(UTC), 91.0)
    replay.roll_up_history(pool)
    with pool.connection() as conn:
        conn.execute("DELETE FROM twin_run")
    assert replay.get_state_at(pool, month_ago + timedelta(minutes=5)).source == "history"
    replay.apply_history_retention(pool, keep_days=7)
    assert replay.get_state_at(pool, month_ago + timedelta(minutes=5)).source is None
    assert replay.get_state_at(pool, datetime.now(UTC)).source == "history"
    with pytest.raises(ValueError, match="at least 1 day"):
        replay.apply_history_retention(pool, keep_days=0)


@pytest.mark.timescaledb
def test_history_is_compressed_on_timescaledb_and_still_replayed(net, db_url):
    pool = net
    week_ago = datetime.now(UTC) - timedelta(days=10)
    _run(pool, week_ago, 90.0)
    replay.roll_up_history(pool)
    with psycopg.connect(db_url, autocommit=True) as conn:
        tables = {r[0]: r[1] for r in conn.execute(
            "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables")}
        assert all(tables.get(t) for t in replay.HISTORY_TABLES), tables
        jobs = {r[0] for r in conn.execute("SELECT hypertable_name FROM timescaledb_information.jobs"
                                           " WHERE proc_name = 'policy_compression'")}
        assert set(replay.HISTORY_TABLES) <= jobs
        compressed = conn.execute("SELECT count(*) FROM (SELECT compress_chunk(c) FROM"
                                  " show_chunks('twin_state_history', older_than => now() - INTERVAL '3 days') c) x"
                                  ).fetchone()[0]
        assert compressed == 1
        conn.execute("DELETE FROM twin_run")
    state = replay.get_state_at(pool, week_ago + timedelta(minutes=1))
    assert state.source == "history" and _station(state)["t_supply_c"] == 90.0


@pytest.mark.plain_postgresql
def test_history_tables_are_plain_tables_on_plain_postgresql(net, db_url):
    with psycopg.connect(db_url) as conn:
        kinds = dict(conn.execute("SELECT relname, relkind::text FROM pg_class WHERE relname = ANY(%s)",
                                  (list(replay.HISTORY_TABLES),)).fetchall())
    assert kinds == dict.fromkeys(replay.HISTORY_TABLES, "r")


def test_alarms_at_a_past_time_are_those_open_then_as_they_stood(net):
    pool = net
    now = datetime.now(UTC)
    raised, escalated = now - timedelta(hours=3), now - timedelta(hours=2)
    a = store_alarms.add_alarm(pool, asset_id=STATION, cause="station_dp_low", severity="warning", raised_at=raised)
    store_alarms.upsert_alarms(pool, [{"asset_id": STATION, "cause": "station_dp_low", "severity": "alarm"}],
                               at=escalated, continuing_s=3 * 3600)
    b = store_alarms.add_alarm(pool, asset_id="S-T1", cause="sensor_offline", severity="warning", raised_at=raised)
    store_alarms.clear_gone(pool, "sensor_offline", set(), at=escalated + timedelta(minutes=30), hold_off_s=60)
    store_alarms.add_alarm(pool, asset_id=STATION, cause="room_t_low", severity="warning", raised_at=raised)
    store_alarms.update_alarm_state(pool, a, "acknowledged", actor=Actor("dispatcher1"))
    # Presented at first, then grouped under a root cause by the presentation pass.
    d = store_alarms.add_alarm(pool, asset_id="S-F1", cause="sensor_stuck", severity="warning", raised_at=raised)
    with pool.connection() as conn:
        conn.execute("INSERT INTO alarm_event (alarm_id, actor, action, note, at) VALUES"
                     " (%(d)s, 'presentation', 'presented', '', %(shown)s),"
                     " (%(d)s, 'presentation', 'suppressed', 'offline_sensor', %(hidden)s)",
                     {"d": d, "shown": raised + timedelta(minutes=1), "hidden": escalated})

    before = replay.list_alarms_at(pool, raised + timedelta(minutes=30)).set_index("id")
    assert sorted(before.index) == sorted([a, b, d])               # the evidence cause is not presented
    assert before.at[a, "severity"] == "warning" and before.at[a, "state"] == "raised"
    assert pd.isna(before.at[a, "acknowledged_by"])
    assert len(replay.list_alarms_at(pool, raised + timedelta(minutes=30), presented_only=False)) == 4
    later = replay.list_alarms_at(pool, escalated + timedelta(minutes=45)).set_index("id")
    assert list(later.index) == [a] and later.at[a, "severity"] == "alarm"      # b cleared, d suppressed
    assert replay.count_alarms_at(later.reset_index())["alarm"] == 1
    current = replay.list_alarms_at(pool, datetime.now(UTC)).set_index("id")
    assert current.at[a, "state"] == "acknowledged" and current.at[a, "acknowledged_by"] == "dispatcher1"
    assert replay.list_alarms_at(pool, raised - timedelta(seconds=1)).empty


def test_work_orders_open_at_a_past_time(net):
    pool = net
    wo = store_orders.add_work_order(pool, title="换热站压差低", actor=Actor("dispatcher1"), asset_id=STATION)
    store_orders.update_work_order_state(pool, wo, "cancelled", actor=Actor("dispatcher1"), note="误报")
    with pool.connection() as conn:
        created = conn.execute("SELECT created_at FROM work_order WHERE id = %s", (wo,)).fetchone()[0]
        cancelled = conn.execute("SELECT max(at) FROM work_order_event WHERE work_order_id = %s"
                                 " AND to_state = 'cancelled'", (wo,)).fetchone()[0]
    assert replay.count_orders_open_at(pool, created - timedelta(seconds=1))["open"] == 0
    assert replay.count_orders_open_at(pool, created + (cancelled - created) / 2)["open"] == 1
    assert replay.count_orders_open_at(pool, cancelled)["open"] == 0
