"""The sync loop against a real PostgreSQL: readings in, a persisted run with residuals out."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from scripts.cmd_simulate import build_plant
from scripts.loading import load_city
from store import cluster, telemetry, twin_runs
from store.db import close_pools, get_pool
from twin.sync import SyncLoop

AT = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=2)


@pytest.fixture
def pool(demo_db_url):
    return get_pool(demo_db_url)


def _send_true_readings(pool, at=AT):
    """Readings from the virtual plant's model with noise off: the twin should reproduce them."""
    plant = build_plant(pool, start=at, faults=[], noise=False, background_loss=False)
    readings = plant.step(at, 60.0)
    telemetry.ingest_rows(pool, readings, origin="test")
    return readings


def _residuals(pool, run_id):
    return twin_runs.get_run_residuals(pool, run_id).set_index("sensor_id")


def test_residuals_are_near_zero_when_readings_come_from_the_model(pool):
    _send_true_readings(pool)
    outcome = SyncLoop(pool).cycle(AT)
    assert outcome.converged
    residuals = _residuals(pool, outcome.run_id)
    assert len(residuals) > 500
    relative = (residuals["residual"].abs() / residuals["measured"].abs().clip(lower=1.0))
    assert relative.max() < 0.01, residuals.loc[relative.idxmax()]
    run = twin_runs.get_latest_run(pool)
    assert run["id"] == outcome.run_id and run["solve_s"] > 0
    assert len(twin_runs.get_run_states(pool, run["id"])) > 700


def test_a_biased_sensor_shows_up_there_and_nowhere_else(pool):
    readings = _send_true_readings(pool)
    loop = SyncLoop(pool)
    node_sensors = loop.network.sensors[loop.network.sensors["kind"] == "p_node"]["id"]
    biased = next(s for s in node_sensors if s in set(readings["sensor_id"]))
    with psycopg.connect(pool.conninfo, autocommit=True) as conn:
        conn.execute("UPDATE measurement SET value = value + 0.5 WHERE sensor_id = %s", (biased,))
    residuals = _residuals(pool, loop.cycle(AT).run_id)
    assert residuals.loc[biased, "residual"] == pytest.approx(-0.5, abs=0.01)
    others = residuals.drop(index=biased)
    relative = others["residual"].abs() / others["measured"].abs().clip(lower=1.0)
    assert relative.max() < 0.01


def test_a_stale_sensor_is_listed_as_a_fallback_and_the_run_converges(pool):
    _send_true_readings(pool)
    loop = SyncLoop(pool)
    element = loop.network.stations["id"].iloc[0]
    with psycopg.connect(pool.conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM measurement WHERE sensor_id IN"
                     " (SELECT id FROM sensor WHERE element_id = %s)", (element,))
    outcome = loop.cycle(AT)
    assert outcome.converged
    run = twin_runs.get_latest_run(pool)
    fallen = {(f["element_id"], f["quantity"]) for f in run["fallbacks"]}
    assert (element, "heat_mw") in fallen
    states = twin_runs.get_run_states(pool, run["id"]).set_index("element_id")
    assert states.loc[element, "status"] == "estimated"


def test_a_cycle_does_not_start_while_another_holds_the_lock(pool):
    _send_true_readings(pool)
    loop = SyncLoop(pool)
    with twin_runs.cycle_lock(pool) as held:
        assert held
        assert loop.cycle(AT) is None
    assert loop.cycle(AT).converged


@pytest.fixture
def own_cluster(demo_city_dir):
    """A cluster of this test's own, so it can be killed without harming the session's."""
    base = Path(tempfile.mkdtemp(prefix="heattwin-restart-"))
    os.chmod(base, 0o755)
    url = cluster.up(base / "pg", fast=True)
    load_city(url, demo_city_dir)
    yield base / "pg", url
    close_pools()
    cluster.down(base / "pg")
    shutil.rmtree(base, ignore_errors=True)


def test_a_killed_and_restarted_database_does_not_stop_the_loop(own_cluster):
    root, url = own_cluster
    pool = get_pool(url)
    loop = SyncLoop(pool)
    stop = threading.Event()
    thread = threading.Thread(target=loop.run_forever, args=(0.5, stop), daemon=True)
    thread.start()
    try:
        _wait_for(lambda: loop.cycles >= 1, 60)
        cluster.down(root)
        time.sleep(2.0)
        assert thread.is_alive()
        cluster.up(root, fast=True)
        before = loop.cycles
        _wait_for(lambda: loop.cycles >= before + 2, 90)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(twin_runs.list_runs(pool)) >= 3


def _wait_for(condition, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_the_loop_uses_the_latest_calibration(pool):
    from store.calibrations import add_calibration

    _send_true_readings(pool)
    calibration_id = add_calibration(pool, window_start=AT - pd.Timedelta(hours=6), window_end=AT,
                                     params={"roughness": {"Z1": 1.5}, "heat_loss": {}},
                                     rms_before={"p_node": 0.1}, rms_after={"p_node": 0.02})
    loop = SyncLoop(pool)
    outcome = loop.cycle(AT)
    assert twin_runs.get_latest_run(pool)["calibration_id"] == calibration_id
    # A rougher zone changes the predicted pressures: the readings (from the design network) now differ.
    residuals = _residuals(pool, outcome.run_id)
    assert residuals["residual"].abs().max() > 0.01


def test_a_failed_solve_is_recorded_with_its_reason_raises_an_alarm_and_keeps_the_last_good_state(pool):
    from store.alarms import list_open_alarms
    from twin.model import TwinDidNotConverge

    _send_true_readings(pool)
    loop = SyncLoop(pool)
    good = loop.cycle(AT)

    def diverge():
        raise TwinDidNotConverge("pipeflow did not converge after 40 iterations")

    loop.twin.solve = diverge
    failed = loop.cycle(AT)
    assert not failed.converged and "did not converge" in failed.error
    runs = twin_runs.list_runs(pool)
    assert bool(runs.loc[runs["id"] == failed.run_id, "converged"].iloc[0]) is False
    assert twin_runs.get_latest_run(pool)["id"] == good.run_id   # the wall keeps showing the good state
    alarms = list_open_alarms(pool)
    assert (alarms["cause"] == "twin_not_converged").sum() == 1
    loop.cycle(AT)                                               # a second failure re-raises, not duplicates
    assert (list_open_alarms(pool)["cause"] == "twin_not_converged").sum() == 1


def test_housekeeping_rolls_up_readings_before_retention_removes_them(pool):
    readings = _send_true_readings(pool)
    # The same readings four days earlier: past a one-day retention, and past the three days the
    # TimescaleDB refresh policies reach back, so only housekeeping's own refresh can roll them up.
    old_at = AT - pd.Timedelta(days=4)
    telemetry.ingest_rows(pool, readings.assign(time=readings["time"] - pd.Timedelta(days=4)), origin="test")
    loop = SyncLoop(pool, retention_days=1)
    loop.cycle(AT)
    loop.housekeeping()
    sensor = readings["sensor_id"].iloc[0]
    value = float(readings.loc[readings["sensor_id"] == sensor, "value"].iloc[0])
    old_window = (old_at - pd.Timedelta(minutes=10), old_at + pd.Timedelta(minutes=10))
    assert telemetry.get_trend(pool, [sensor], *old_window, resolution="raw").empty  # retention ran
    for resolution, width in (("5m", "5min"), ("1h", "h")):
        trend = telemetry.get_trend(pool, [sensor], old_at - pd.Timedelta(hours=1), AT + pd.Timedelta(minutes=1),
                                    resolution=resolution)
        assert list(trend["bucket"]) == [old_at.floor(width), AT.floor(width)], resolution
        assert trend["avg"].tolist() == [pytest.approx(value)] * 2 and trend["n"].tolist() == [1, 1]
