"""The virtual plant's weather, control, room and sensor models behave like the real things."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.plant.control import occupancy_factor, station_heat_mw, supply_setpoint_c
from twin.plant.rooms import RoomModel
from twin.plant.sensors import SensorRealism
from twin.plant.weather import ColdWave, CsvWeather, SyntheticWeather

ORIGIN = pd.Timestamp("2026-12-01 00:00", tz="UTC")


def _hours(n_hours, step_min=10):
    return pd.date_range(ORIGIN, periods=int(n_hours * 60 / step_min), freq=f"{step_min}min")


def test_daily_cycle_is_coldest_before_dawn_and_warmest_mid_afternoon():
    weather = SyntheticWeather(ORIGIN, cold_waves=[], daily_amplitude_k=4.0)
    times = _hours(24)
    t_c = weather.temperature_c(times)
    local_hour = (times + pd.Timedelta(hours=8)).hour
    assert local_hour[np.argmin(t_c)] in range(1, 7)
    assert local_hour[np.argmax(t_c)] in range(13, 18)
    assert 6.0 < t_c.max() - t_c.min() < 12.0


def test_cold_wave_lowers_the_daily_mean_then_recovers():
    wave = ColdWave(start_h=48, depth_k=10, duration_h=72)
    calm = SyntheticWeather(ORIGIN, cold_waves=[]).temperature_c(_hours(24 * 8))
    cold = SyntheticWeather(ORIGIN, cold_waves=[wave]).temperature_c(_hours(24 * 8))
    per_day = 144
    diff = (calm - cold).reshape(8, per_day).mean(axis=1)
    assert diff[0] == pytest.approx(0, abs=1e-9)
    assert (calm - cold).max() == pytest.approx(10.0, abs=0.05)
    assert diff[2] > 5.0 and diff[3] > 5.0 and diff[6] == pytest.approx(0, abs=1e-9)


def test_seeded_weather_repeats_and_seeds_differ():
    times = _hours(24 * 30)
    a = SyntheticWeather(ORIGIN, seed=1).temperature_c(times)
    assert np.array_equal(a, SyntheticWeather(ORIGIN, seed=1).temperature_c(times))
    assert not np.array_equal(a, SyntheticWeather(ORIGIN, seed=2).temperature_c(times))


def test_csv_weather_interpolates(tmp_path):
    path = tmp_path / "weather.csv"
    path.write_text("time,t_c\n2026-12-01T00:00Z,-2\n2026-12-01T02:00Z,-6\n")
    assert CsvWeather(path).temperature_c([ORIGIN + pd.Timedelta(hours=1)])[0] == pytest.approx(-4.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("when,t\n")
    with pytest.raises(ValueError, match="bad.csv.*t_c"):
        CsvWeather(bad)


def test_heating_curve_rises_as_it_gets_colder_and_holds_at_the_ends():
    curve = supply_setpoint_c(np.array([20.0, 12.0, 0.0, -7.0, -14.0, -20.0, -30.0]))
    assert curve[0] == curve[1] == 70.0 and curve[3] == 110.0 and curve[5] == curve[6] == 130.0
    assert np.all(np.diff(curve[1:6]) > 0)
    # Below the design point the curve rises more gently: the wider drop carries the extra heat.
    assert (curve[5] - curve[3]) / 13.0 < (curve[3] - curve[1]) / 19.0


def test_station_demand_follows_degree_hours_and_daily_profile():
    design = np.array([4.0])
    assert station_heat_mw(design, -7.0, 12)[0] == pytest.approx(4.0 * occupancy_factor(12), rel=1e-9)
    assert station_heat_mw(design, 6.5, 12)[0] == pytest.approx(2.0 * occupancy_factor(12), rel=1e-9)
    assert occupancy_factor(7) > occupancy_factor(14) and occupancy_factor(19.5) > occupancy_factor(3)


def _households(n=200):
    return pd.DataFrame({"id": [f"H-{i:06d}" for i in range(n)], "station_id": "ST-0001",
                         "floor": np.arange(n) % 6 + 1, "floors": 6})


def test_rooms_follow_a_cold_wave_with_the_rc_lag():
    rooms = RoomModel(_households(), tau_h=10.0)
    start = rooms.t_c.copy()
    ratio = pd.Series({"ST-0001": 0.6})  # the station delivers 60 % of what the buildings need
    target = rooms.steady_c(-15.0, np.full(len(start), 0.6))
    rooms.step(10 * 3600, -15.0, ratio)  # one time constant
    moved = (start - rooms.t_c) / (start - target)
    assert moved == pytest.approx(1 - np.exp(-1), rel=1e-6)


def test_top_floors_are_colder_than_middle_floors():
    rooms = RoomModel(_households(600), seed=3)
    steady = rooms.steady_c(-5.0, np.ones(600))
    floor = np.arange(600) % 6 + 1
    assert steady[floor == 6].mean() < steady[floor == 3].mean() - 1.0


def test_sensor_realism_adds_noise_dropouts_stuck_and_drift():
    sensors = pd.DataFrame({"id": [f"S-{i}" for i in range(4000)], "kind": "t_supply"})
    real = SensorRealism(sensors, seed=5, dropout_p=0.02, stuck_share=0.05, drift_share=0.05)
    truth = np.full(4000, 90.0)
    first = real.observe(truth, 0.0)
    later = real.observe(truth, 86400.0)
    sent = np.isfinite(first)
    assert 0.01 < 1 - sent.mean() < 0.03
    assert np.nanstd(first[~real.stuck]) == pytest.approx(0.15, rel=0.1)
    both = np.isfinite(first) & np.isfinite(later)
    assert np.all(first[real.stuck & both] == later[real.stuck & both])
    drifting = (real.drift_rate > 0) & ~real.stuck & both
    assert np.mean(later[drifting] - first[drifting]) == pytest.approx(0.5, abs=0.1)


def test_noise_off_gives_the_truth():
    sensors = pd.DataFrame({"id": ["S-1", "S-2"], "kind": ["flow", "p_node"]})
    real = SensorRealism(sensors, noise=False)
    assert np.array_equal(real.observe(np.array([100.0, 5.0]), 3600.0), [100.0, 5.0])
