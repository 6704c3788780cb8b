"""The leak monitor's inputs and cadence: the network's two mass balances from its flow meters (a leak
shows at full size on its own side, checked against the twin's solved physics), one sample per telemetry
window whatever the loop's interval, and a balance test that arms only after a day of its own history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_twin_physics import meshed  # tests/twin/test_twin_physics.py

from twin.leaks.detect import BalanceMeters, Cusum, ImbalanceTest, LeakMonitor, MakeupBaseline, mass_balances
from twin.model import Twin

STATIONS = ("ST-C", "ST-E", "ST-F", "ST-G")


def _meters(sources) -> BalanceMeters:
    return BalanceMeters(tuple(f"F-{s}" for s in sources), tuple(f"MU-{s}" for s in sources),
                         {st: f"F-{st}" for st in STATIONS})


def _readings(result) -> pd.Series:
    """What perfect meters on the sources' pumps and make-up points and on the stations would read."""
    src, st = result.sources, result.stations
    return pd.concat([src["flow_t_h"].rename(lambda s: f"F-{s}"), src["makeup_t_h"].rename(lambda s: f"MU-{s}"),
                      st["flow_t_h"].rename(lambda s: f"F-{s}")])


@pytest.mark.parametrize("second_role", [None, "fixed_flow"])
@pytest.mark.parametrize("side", ["supply", "return"])
def test_a_leak_shows_at_full_size_in_the_balance_of_its_side(side, second_role):
    network = meshed(second_role=second_role)
    twin = Twin(network)
    twin.set_leaks(pd.DataFrame([{"pipe_id": "P-CE", "side": side, "rate_t_h": 20.0, "position": 0.3}]))
    result = twin.solve()
    sources = result.sources.index.tolist()
    balances = mass_balances(_readings(result), result.stations["flow_t_h"], _meters(sources))
    other = "return" if side == "supply" else "supply"
    assert balances[side] == pytest.approx(20.0, abs=0.1)
    assert balances[other] == pytest.approx(0.0, abs=0.1)
    # Together they are the make-up: the make-up point tops up whatever either side loses.
    assert balances["supply"] + balances["return"] == pytest.approx(result.sources["makeup_t_h"].sum(), abs=0.05)


def test_the_balances_take_the_stations_meters_and_the_twin_only_where_a_meter_is_silent_or_stuck():
    network = meshed()
    result = Twin(network).solve()
    readings = _readings(result)
    meters = _meters(result.sources.index.tolist())
    twin_flows = result.stations["flow_t_h"] * 1.05       # the twin's heat balance off by 5 %: no matter
    assert mass_balances(readings, twin_flows, meters)["return"] == pytest.approx(0.0, abs=0.1)
    silent = readings.drop("F-ST-C")
    off = 0.05 * result.stations.loc["ST-C", "flow_t_h"]
    assert mass_balances(silent, twin_flows, meters)["return"] == pytest.approx(off, abs=0.1)
    assert mass_balances(readings, twin_flows, meters, flat={"F-ST-C"})["return"] == pytest.approx(off, abs=0.1)
    # A source meter that sent nothing, or is stuck, leaves its balance unknown rather than wrong.
    assert np.isnan(mass_balances(readings.drop("F-SRC-A"), twin_flows, meters)["return"])
    assert np.isnan(mass_balances(readings.drop("MU-SRC-A"), twin_flows, meters)["supply"])
    assert np.isfinite(mass_balances(readings.drop("MU-SRC-A"), twin_flows, meters)["return"])


def test_the_monitor_takes_one_sample_per_window_whatever_the_loop_cycles_at():
    """The demo's loop cycles every minute on 5-minute windows: consecutive means share four minutes of
    readings. Sampled every cycle, a CUSUM calibrated on independent 5-minute means adds up the same
    excess five times over."""
    times = pd.date_range("2026-12-10 00:00", periods=40, freq="5min", tz="UTC")
    baseline = MakeupBaseline.learn(pd.DataFrame({"time": times, "source_id": "SRC-1", "value": 30.0}))
    monitor = LeakMonitor(baseline, Cusum(k=5.0, h=1000.0), {"SRC-1": "MU"}, sample_s=300.0)
    start = pd.Timestamp("2026-12-11 00:00:01", tz="UTC")
    for minute in range(10):
        monitor.update(start + pd.Timedelta(minutes=minute), pd.Series({"MU": 50.0}))
    assert monitor.tests["SRC-1"].total == pytest.approx(2 * (20.0 - 5.0))       # two windows, two samples
    every_cycle = LeakMonitor(baseline, Cusum(k=5.0, h=1000.0), {"SRC-1": "MU"})
    for minute in range(10):
        every_cycle.update(start + pd.Timedelta(minutes=minute), pd.Series({"MU": 50.0}))
    assert every_cycle.tests["SRC-1"].total == pytest.approx(10 * (20.0 - 5.0))


def _swinging_day(samples_per_day: int, days: float, seed: int = 3) -> np.ndarray:
    """A balance that follows the day (seepage's evening peak, the meters' load-dependent error)."""
    rng = np.random.default_rng(seed)
    k = np.arange(int(samples_per_day * days))
    return 25.0 * np.sin(2 * np.pi * k / samples_per_day) + rng.normal(0.0, 8.0, len(k))


def test_the_balance_test_arms_after_a_day_not_after_an_hour_of_its_own_history():
    """Armed on its first hour, the test took that hour's spread for the noise and alarmed on the
    day's swing (what the demo showed half an hour after start-up); armed after a day it does not."""
    values = _swinging_day(288, 3.0)
    armed_late = ImbalanceTest(samples_per_day=288)
    assert not any(armed_late.update(v, learn=True)[0] for v in values)
    assert armed_late.cusum is not None and armed_late.sigma > 15.0
    armed_early = ImbalanceTest(samples_per_day=288, min_samples=12)
    assert any(armed_early.update(v, learn=True)[0] for v in values)


def test_a_return_side_leak_is_caught_by_its_balance_with_the_make_up_meter_dead():
    times = pd.date_range("2026-12-10 00:00", periods=40, freq="5min", tz="UTC")
    baseline = MakeupBaseline.learn(pd.DataFrame({"time": times, "source_id": "SRC-A", "value": 5.0}))
    meters = BalanceMeters(("F-SRC-A",), ("MU-SRC-A",), {st: f"F-{st}" for st in STATIONS})
    monitor = LeakMonitor(baseline, Cusum(k=20.0, h=100.0), {"SRC-A": "MU-SRC-A"}, meters=meters,
                          imbalance=ImbalanceTest(samples_per_day=288), sample_s=300.0)
    rng = np.random.default_rng(8)
    twin_flows = pd.Series(250.0, index=list(STATIONS))
    start = pd.Timestamp("2026-12-11 00:00:01", tz="UTC")
    decision = None
    for k in range(2 * 288 + 12):
        leak = 60.0 if k >= 2 * 288 else 0.0
        stations = {f"F-{st}": 250.0 + rng.normal(0, 1.0) for st in STATIONS}
        # The pumps lift what comes back: the stations' flow less what the return side loses.
        readings = pd.Series({**stations, "F-SRC-A": sum(stations.values()) - leak + rng.normal(0, 5.0)})
        decision = monitor.update(start + k * pd.Timedelta(minutes=5), readings, None, twin_flows) or decision
    assert decision is not None and decision.source_id == "imbalance"
    assert decision.statistic["imbalance"]["side"] == "return"
    assert decision.rate_t_h == pytest.approx(60.0, rel=0.3)
    assert decision.detected_at - (start + 2 * 288 * pd.Timedelta(minutes=5)) <= pd.Timedelta(minutes=15)


def _split_day_monitor() -> LeakMonitor:
    """A monitor whose make-up test never fires (h huge): only the balances' tests decide."""
    times = pd.date_range("2026-12-10 00:00", periods=40, freq="5min", tz="UTC")
    baseline = MakeupBaseline.learn(pd.DataFrame({"time": times, "source_id": "SRC-A", "value": 30.0}))
    meters = BalanceMeters(("F-SRC-A",), ("MU-SRC-A",), {st: f"F-{st}" for st in STATIONS})
    return LeakMonitor(baseline, Cusum(k=20.0, h=1e9), {"SRC-A": "MU-SRC-A"}, meters=meters,
                       imbalance=ImbalanceTest(samples_per_day=288), sample_s=300.0)


@pytest.mark.parametrize("leak_t_h, split_t_h", [(0.0, 60.0), (60.0, 0.0)])
def test_water_counted_on_the_wrong_side_of_the_meters_is_no_leak(leak_t_h, split_t_h):
    """The stations' meters reading 60 t/h more than the pumps for hours at a time (what the bench's plant
    showed: its false alarms were all the return side up and the supply side down by as much) move water
    from one balance into the other and leave the make-up where it was: no leak. A return-side leak of
    the same size raises the make-up with it and is found on its side."""
    monitor = _split_day_monitor()
    rng = np.random.default_rng(5)
    twin_flows = pd.Series(250.0, index=list(STATIONS))
    start = pd.Timestamp("2026-12-11 00:00:01", tz="UTC")
    decision = None
    for k in range(3 * 288):
        later = k >= 2 * 288
        split = split_t_h if later and (k // 24) % 2 else 0.0      # two hours on, two hours off
        leak = leak_t_h if later else 0.0
        stations = {f"F-{st}": 250.0 + rng.normal(0, 3.0) for st in STATIONS}
        readings = pd.Series({**stations, "F-SRC-A": sum(stations.values()) - split - leak + rng.normal(0, 8.0),
                              "MU-SRC-A": 30.0 + leak + rng.normal(0, 2.0)})
        decision = monitor.update(start + k * pd.Timedelta(minutes=5), readings, None, twin_flows) or decision
    if leak_t_h:
        assert decision is not None and decision.statistic["imbalance"]["side"] == "return"
    else:
        assert decision is None


def test_the_onset_is_where_the_test_that_fired_last_stood_at_zero():
    """The make-up test detects; the supply balance's CUSUM has been wandering above zero all along.
    The change is measured from the make-up test's onset: the balance's wander says nothing about
    when this leak began (taken for every test, no sample was calm and the leak went unlocated)."""
    times = pd.date_range("2026-12-10 00:00", periods=20, freq="10min", tz="UTC")
    baseline = MakeupBaseline.learn(pd.DataFrame({"time": times, "source_id": "SRC-A", "value": 30.0}))
    seen = {}
    monitor = LeakMonitor(baseline, Cusum(k=5.0, h=40.0), {"SRC-A": "MU"}, meters=BalanceMeters(("P",), ("MU",), {"ST": "S"}),
                          imbalance=ImbalanceTest(samples_per_day=144, min_samples=10 ** 6),
                          locate=lambda change, rate, stuck: seen.update(change=change) or "located")
    for test in monitor.imbalance.values():
        test.median, test.sigma, test.cusum = 0.0, 1.0, Cusum(k=1.0, h=1e9)
    rng = np.random.default_rng(2)
    decision = None
    for k, at in enumerate(times):
        leaking = k >= 12
        measured = pd.Series({"MU": 30.0 + (100.0 if leaking else 0.0), "P": 1000.0 + rng.normal(0, 1.0),
                              "S": 1000.0 + rng.normal(0, 1.0)})
        residuals = pd.Series({"P1": rng.normal(0, 0.01) - (0.3 if leaking else 0.0)})
        decision = monitor.update(at, measured, residuals, pd.Series({"ST": 1000.0})) or decision
    assert monitor.imbalance["supply"].cusum.total > 0.0     # the supply balance never stood at zero
    assert decision is not None and decision.detected_at == times[12] and decision.location == "located"
    assert seen["change"]["P1"] == pytest.approx(-0.3, abs=0.03)


def test_a_leak_alarm_without_a_location_stands_on_a_plant_never_on_a_tests_name():
    from twin.sync import leak_alarm_element

    plants = {"SRC-1", "SRC-2"}
    assert leak_alarm_element({"pipe_id": "P-00042"}, "imbalance", plants, "SRC-1") == "P-00042"
    assert leak_alarm_element({}, "SRC-2", plants, "SRC-1") == "SRC-2"          # its make-up fired
    # The mass-balance tests are named "imbalance" (or by side): no asset of that name exists.
    assert leak_alarm_element({}, "imbalance", plants, "SRC-1") == "SRC-1"
    assert leak_alarm_element({"pipe_id": None}, "imbalance_supply", plants, "SRC-1") == "SRC-1"
