"""Leak detection: CUSUM on the make-up excess over a learned baseline, and the whole chain in the sync
loop — a leak injected by the virtual plant into the demo city raises a leak alarm on the right segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scripts.cmd_simulate import build_plant
from store import alarms, telemetry
from store.db import get_pool
from twin.leaks.detect import Cusum, ImbalanceTest, LeakMonitor, MakeupBaseline
from twin.plant.faults import make_fault
from twin.sync import SyncLoop


def test_cusum_catches_a_leak_of_the_size_it_is_tuned_for_and_stays_quiet_without_it():
    rng = np.random.default_rng(3)
    quiet = 30.0 * 0.15 * np.sin(np.arange(288 * 7) / 40.0) + rng.normal(0.0, 1.0, 288 * 7)  # wandering losses
    cusum = Cusum.calibrate(quiet, k=25.0, floor=25.0, samples_per_day=288)
    fresh = 30.0 * 0.15 * np.cos(np.arange(288 * 7) / 40.0) + rng.normal(0.0, 1.0, 288 * 7)
    assert sum(cusum.update(v) for v in fresh) <= 1     # a fresh no-leak week: at most one false alarm
    cusum.reset()
    first = next(k for k, v in enumerate(rng.normal(50.0, 1.0, 50)) if cusum.update(v))
    assert first <= 3                                   # a leak of the tuned size: within a few samples


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Urumqi", "Europe/Berlin"])
def test_the_baseline_learns_the_evening_peak_in_the_configured_time_zone(monkeypatch, zone):
    monkeypatch.setenv("HEATTWIN_TIMEZONE", zone)
    times = pd.date_range("2026-12-01", periods=24 * 12 * 3, freq="5min", tz="UTC")
    local = times.tz_convert(zone).hour    # households draw water in their own evening
    value = 30.0 + 10.0 * ((local >= 18) & (local <= 22)) + np.random.default_rng(1).normal(0, 1, len(times))
    baseline = MakeupBaseline.learn(pd.DataFrame({"time": times, "source_id": "SRC-1", "value": value}))
    evening = pd.Timestamp("2026-12-05 20:00", tz=zone)
    night = pd.Timestamp("2026-12-05 03:00", tz=zone)
    assert baseline.expected("SRC-1", evening)[0] == pytest.approx(40.0, abs=1.0)
    assert baseline.expected("SRC-1", night)[0] == pytest.approx(30.0, abs=1.0)
    assert baseline.excess("SRC-1", night, 50.0)[1] > 5
    # The table is kept by the hour on the network's clocks, as a dispatcher reads it.
    table = baseline.table
    assert sorted(table.loc[table["median"] > 35.0, "hour"]) == [18, 19, 20, 21, 22]


def test_the_baseline_keeps_local_hours_across_a_daylight_saving_change(monkeypatch):
    """Learned in March on winter time (UTC+1), used in April on summer time (UTC+2): 18:00 on the
    clocks is still the evening, though it is an hour earlier in UTC."""
    monkeypatch.setenv("HEATTWIN_TIMEZONE", "Europe/Berlin")
    times = pd.date_range("2026-03-20", "2026-03-28", freq="5min", tz="UTC", inclusive="left")
    local = times.tz_convert("Europe/Berlin").hour
    value = 30.0 + 10.0 * ((local >= 18) & (local <= 22)) + np.random.default_rng(4).normal(0, 1, len(times))
    baseline = MakeupBaseline.learn(pd.DataFrame({"time": times, "source_id": "SRC-1", "value": value}))
    assert baseline.expected("SRC-1", pd.Timestamp("2026-04-10 16:30Z"))[0] == pytest.approx(40.0, abs=1.0)
    assert baseline.expected("SRC-1", pd.Timestamp("2026-04-10 21:30Z"))[0] == pytest.approx(30.0, abs=1.0)


def test_the_imbalance_test_learns_its_noise_and_catches_a_step():
    rng = np.random.default_rng(5)
    test = ImbalanceTest(samples_per_day=144)
    quiet = 20.0 + rng.normal(0.0, 40.0, 300)
    assert not any(test.update(v, learn=True)[0] for v in quiet[:250])
    assert test.cusum is not None and test.sigma == pytest.approx(40.0, rel=0.25)
    fired = [test.update(v + 250.0, learn=True)[0] for v in quiet[250:256]]
    assert any(fired[:3])


def test_the_monitor_measures_the_change_from_before_the_onset_and_leaves_stuck_sensors_out():
    times = pd.date_range("2026-12-10 00:00", periods=40, freq="10min", tz="UTC")
    baseline = MakeupBaseline.learn(pd.DataFrame({"time": times, "source_id": "SRC-1", "value": 30.0}))
    seen = {}
    monitor = LeakMonitor(baseline, Cusum(k=5.0, h=40.0), {"SRC-1": "MU"},
                          locate=lambda change, rate, stuck: seen.update(change=change, rate=rate, stuck=stuck))
    rng = np.random.default_rng(2)
    decision = None
    for k, at in enumerate(times[:20]):
        leaking = k >= 12
        measured = pd.Series({"MU": 30.0 + (100.0 if leaking else 0.0), "P1": 5.0 + rng.normal(0, 0.01),
                              "P2": 4.0})  # P2 is stuck
        residuals = pd.Series({"P1": rng.normal(0, 0.01) - (0.3 if leaking else 0.0), "P2": 0.0})
        decision = monitor.update(at, measured, residuals) or decision
    assert decision is not None and decision.detected_at == times[12]
    assert seen["change"]["P1"] == pytest.approx(-0.3, abs=0.03) and "P2" not in seen["change"]
    assert seen["stuck"] == ["P2"] and seen["rate"] == pytest.approx(100.0)
    # The next three cycles localize again on the longer mean; then the ranking stands.
    assert decision.revision == 3 and decision.detected_at == times[12]


def test_a_leak_detected_while_the_twin_fails_is_located_with_the_next_solved_cycle():
    times = pd.date_range("2026-12-10 00:00", periods=16, freq="10min", tz="UTC")
    baseline = MakeupBaseline.learn(pd.DataFrame({"time": times, "source_id": "SRC-1", "value": 30.0}))
    calls = []
    monitor = LeakMonitor(baseline, Cusum(k=5.0, h=40.0), {"SRC-1": "MU"},
                          locate=lambda change, rate, stuck: calls.append(change) or "located")
    decisions = []
    for k, at in enumerate(times):
        leaking = k >= 10
        residuals = None if k == 10 else pd.Series({"P1": -0.3 if leaking else 0.0})   # cycle 10: no solve
        decisions.append(monitor.update(at, pd.Series({"MU": 130.0 if leaking else 30.0}), residuals))
    assert decisions[10].detected_at == times[10] and decisions[10].location is None
    assert decisions[11].location == "located" and decisions[11].detected_at == times[10]
    assert calls[0]["P1"] == pytest.approx(-0.3)


START = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=6)
STEP = pd.Timedelta(minutes=10)


def _run(pool, faults, hours: float, start=START, housekeeping_every: int = 3, step=STEP):
    """The plant and the sync loop in step, with the loop's housekeeping (rollups, leak baseline)."""
    plant = build_plant(pool, start=start, faults=faults, noise=True, seed=11)
    loop = SyncLoop(pool, window_s=step.total_seconds())
    at, cycles = start, 0
    while at <= start + pd.Timedelta(hours=hours):
        telemetry.ingest_rows(pool, plant.step(at, step.total_seconds()), origin="test")
        loop.cycle(at + pd.Timedelta(seconds=1))
        cycles += 1
        if cycles % housekeeping_every == 0:
            loop.housekeeping()
        at += step
    assert loop.leaks is not None, "leak detection never came on"
    return alarms.list_open_alarms(pool), loop


@pytest.mark.slow
def test_a_five_percent_leak_is_detected_and_placed_on_its_segment(demo_db_url):
    pool = get_pool(demo_db_url)
    pipe = "P-00150"  # a DN 250 distribution pipe: it can carry a leak of 5 % of the circulating flow
    rate = 0.05 * 11200.0
    leak = make_fault({"kind": "leak", "element_id": pipe, "start": "+3h", "rate_t_h": rate, "side": "supply",
                       "position": 0.42}, START)
    open_alarms, _ = _run(pool, [leak], hours=3.6)
    leaks = open_alarms[open_alarms["cause"] == "leak"]
    assert len(leaks) == 1
    alarm = alarms.get_alarm(pool, int(leaks["id"].iloc[0]))
    details = alarm["details"]
    assert pd.Timestamp(details["detected_at"]) - leak.start_at <= pd.Timedelta(minutes=30)
    assert details["rate_t_h"] == pytest.approx(rate, rel=0.25)
    pipes = list(dict.fromkeys(c["pipe_id"] for c in details["candidates"]))
    assert pipe in pipes[:3] and details["valves"]
    assert details["revision"] >= 1       # localized again as the leak went on
    assert "revised" in alarms.list_alarm_events(pool, alarm["id"])["action"].tolist()


@pytest.mark.slow
def test_a_day_without_a_leak_raises_no_leak_alarm(demo_db_url):
    """A whole no-leak day — the evening peak of the background losses, noisy and drifting meters —
    through the plant, ingest, the sync loop and both leak tests, in hourly cycles (each reads its
    hour's window, the baseline is relearned every hour). The mass-imbalance test arms once its history
    holds a day (after its lag of 6 samples), so 36 cycles leave it half a day armed, through the evening
    peak. The day at the loop's real interval, and many of them, is the bench's (``scripts/bench_leaks.py``)."""
    pool = get_pool(demo_db_url)
    start = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=37)
    open_alarms, loop = _run(pool, [], hours=36.0, start=start, housekeeping_every=1, step=pd.Timedelta(hours=1))
    # Both balances armed (a test that never armed could not have raised anything).
    assert all(test.cusum is not None for test in loop.leaks.imbalance.values())
    assert (open_alarms["cause"] != "leak").all()
    assert alarms.count_raised(pool, "leak") == 0      # not even one raised and cleared again
