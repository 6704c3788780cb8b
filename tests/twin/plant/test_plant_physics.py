"""A simulated day of the virtual plant on the demo city: the readings obey the physics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from heattwin import units
from twin.plant.faults import make_fault
from twin.plant.runner import VirtualPlant
from twin.plant.sensors import NOISE_ABS, NOISE_REL
from twin.plant.weather import ColdWave, SyntheticWeather

START = pd.Timestamp("2026-12-10 16:00", tz="UTC")  # midnight in Weifang


@pytest.fixture(scope="module")
def city(demo_network_and_households):
    return demo_network_and_households


def _plant(city, *, faults=(), waves=(), noise=False, background_loss=True):
    network, households = city
    weather = SyntheticWeather(START.floor("D"), seed=3, cold_waves=list(waves))
    return VirtualPlant(network, households, weather, faults=list(faults), noise=noise, seed=3,
                        background_loss=background_loss)


def _run(plant, hours, step_h=0.5):
    frames, results = [], []
    for k in range(int(hours / step_h)):
        frames.append(plant.step(START + pd.Timedelta(hours=k * step_h), step_h * 3600).assign(step=k))
        results.append(plant.last_result)
    return pd.concat(frames), results


def _by(readings, network, kind, element_kind):
    sensors = network.sensors[(network.sensors["kind"] == kind)
                              & network.sensors["element_id"].str.startswith(element_kind)]
    picked = readings[readings["sensor_id"].isin(sensors["id"])]
    return picked.merge(sensors[["id", "element_id"]], left_on="sensor_id", right_on="id")


def test_a_day_of_readings_keeps_energy_balance_and_temperature_order(city):
    network, _ = city
    plant = _plant(city)
    readings, results = _run(plant, 24, step_h=2)
    for result in results:
        s = result.summary
        assert s["heat_produced_mw"] == pytest.approx(s["heat_delivered_mw"] + s["heat_loss_mw"], rel=0.01)
    last = readings[readings["step"] == readings["step"].max()]
    flow = _by(last, network, "flow", "SRC-").set_index("element_id")["value"]
    t_in = _by(last, network, "t_supply", "SRC-").set_index("element_id")["value"]
    t_out = _by(last, network, "t_return", "SRC-").set_index("element_id")["value"]
    source_heat_mw = units.w_to_mw(units.heat_w(units.t_h_to_kg_per_s(flow), t_in - t_out)).sum()
    station_heat_mw = _by(last, network, "heat", "ST-")["value"].sum()
    losses_mw = results[-1].summary["heat_loss_mw"]
    assert source_heat_mw == pytest.approx(station_heat_mw + losses_mw, rel=0.02)
    station_supply = _by(last, network, "t_supply", "ST-")
    source_supply = _by(last, network, "t_supply", "SRC-")
    assert station_supply["value"].max() < source_supply["value"].max()
    assert (station_supply["value"] > 40).all()


def test_rooms_cool_after_a_cold_wave_with_the_rc_lag(city):
    network, _ = city
    wave = ColdWave(start_h=12.0, depth_k=14.0, duration_h=60.0)
    plant = _plant(city, waves=[wave])
    readings, _ = _run(plant, 48, step_h=1)
    rooms = readings[readings["sensor_id"].isin(network.sensors.loc[network.sensors["kind"] == "room_t", "id"])]
    mean_by_step = rooms.groupby("step")["value"].mean()
    outdoor = readings[readings["sensor_id"].isin(
        network.sensors.loc[network.sensors["kind"] == "outdoor_t", "id"])].set_index("step")["value"]
    coldest_outdoor = int(outdoor.idxmin())
    coldest_room = int(mean_by_step.idxmin())
    assert mean_by_step.loc[:10].mean() > mean_by_step.min() + 0.3   # the rooms do cool …
    assert coldest_room >= coldest_outdoor                          # … and later than the air


def test_an_injected_leak_raises_make_up_flow_by_its_rate(city):
    network, _ = city
    pipe = network.pipes["id"].iloc[len(network.pipes) // 2]
    fault = make_fault({"kind": "leak", "element_id": pipe, "start": "+1h", "rate_t_h": 30.0}, START)
    plant = _plant(city, faults=[fault], background_loss=False)
    readings, _ = _run(plant, 2, step_h=1)
    makeup = _by(readings, network, "makeup_flow", "SRC-").groupby("step")["value"].sum()
    assert makeup.loc[1] - makeup.loc[0] == pytest.approx(30.0, rel=0.02)


def test_noise_dropouts_stuck_and_drifting_sensors_are_what_the_field_sends(city):
    """The same plant with and without sensor realism over a day: the difference is the noise model and
    nothing else — seeded noise of each kind's size, dropouts, stuck meters that repeat their first
    reading, and drifting ones whose error grows by ``drift_k_per_day``."""
    noisy, clean = _plant(city, noise=True), _plant(city, noise=False)
    sent, _ = _run(noisy, 30, step_h=6)    # readings at 0, 6, 12, 18 and 24 h
    true, _ = _run(clean, 30, step_h=6)
    ids = pd.Index(noisy.sensor_ids)
    sent = sent.pivot(index="sensor_id", columns="step", values="value").reindex(ids)
    true = true.pivot(index="sensor_id", columns="step", values="value").reindex(ids)
    assert true.notna().all().all()        # without realism every sensor sends every time
    realism = noisy.realism
    stuck, drifting = pd.Series(realism.stuck, index=ids), pd.Series(realism.drift_rate > 0, index=ids) & ~realism.stuck
    healthy = ~stuck & ~drifting
    kinds = pd.Series(noisy.kinds, index=ids)
    sigma = pd.DataFrame(np.add.outer(kinds.map(NOISE_ABS).fillna(0.0).to_numpy(),
                                      np.zeros(true.shape[1])), index=ids, columns=true.columns)
    sigma += kinds.map(NOISE_REL).fillna(0.0).to_numpy()[:, None] * true.abs()
    error = sent - true
    elapsed_days = pd.Series(true.columns * 6.0 / 24.0, index=true.columns)

    # Dropouts: about 0.5 % of the readings are missing, the rest are finite.
    missing = sent.isna().to_numpy().mean()
    assert 0.001 < missing < 0.015, missing
    assert np.isfinite(sent.to_numpy()[sent.notna().to_numpy()]).all()
    # Healthy sensors: zero-mean noise of their kind's size, no trend.
    z = (error / sigma)[healthy & (kinds.map(NOISE_ABS).notna() | kinds.map(NOISE_REL).notna())]
    assert np.nanmax(np.abs(z.to_numpy())) < 5.5
    assert abs(np.nanmean(z.to_numpy())) < 0.05 and 0.9 < np.nanstd(z.to_numpy()) < 1.1
    assert abs(np.nanmean(z[4] - z[0])) < 0.1
    # Stuck sensors (about 1 %): the first reading over and over, though the truth moves under them.
    assert 10 <= stuck.sum() <= 70
    spread = sent.max(axis=1) - sent.min(axis=1)
    twice = sent.notna().sum(axis=1) >= 2
    assert (spread[stuck & twice] == 0.0).all()
    truth_moves = (true.max(axis=1) - true.min(axis=1)) > 5 * sigma.max(axis=1)
    assert (stuck & twice & truth_moves).sum() >= 5
    noisy_kind = sigma.max(axis=1) > 0.0     # not the idle plants' make-up meters (0 t/h, relative noise)
    assert (spread[healthy & twice & noisy_kind] > 0.0).all()    # a live sensor never repeats itself exactly
    # Drifting sensors (about 0.5 %): the error grows by 0.5 a day in the sensor's own unit.
    assert drifting.sum() >= 5
    drift = error[drifting] - np.outer(realism.drift_rate[drifting.to_numpy()] * 86400.0, elapsed_days)
    assert np.nanmax(np.abs((drift / sigma[drifting]).to_numpy())) < 5.0
    precise = drifting & (sigma.max(axis=1) <= 0.02)     # pressure sensors: the slope is plain to see
    assert precise.sum() >= 1
    for sensor_id in ids[precise]:
        seen = error.loc[sensor_id].dropna()
        slope = np.polyfit(elapsed_days[seen.index], seen.to_numpy(), 1)[0]
        assert slope == pytest.approx(0.5, abs=0.05), sensor_id


def test_fixed_flow_plants_hold_their_outlet_pressure_through_a_cold_wave(city):
    """The plants on fixed flow are trimmed to their set pressure: no 50 bar outlets, no vacuum."""
    network, _ = city
    plant = _plant(city, waves=[ColdWave(start_h=2.0, depth_k=14.0, duration_h=30.0)])
    _, results = _run(plant, 8, step_h=2)
    held = network.sources.set_index("id").query("role == 'fixed_flow'")["p_flow_bar"].astype(float)
    for result in results:
        assert result.sources.loc[held.index, "p_supply_bar"].to_numpy() == pytest.approx(held.to_numpy(), abs=0.25)
        assert result.summary["p_min_bar"] > 0.5
        flows = result.sources["flow_t_h"]
        # Mass balance: the stations draw what the plants pump plus the make-up of the return-side losses.
        assert flows.sum() + result.summary["makeup_t_h"] == pytest.approx(result.stations["flow_t_h"].sum(),
                                                                           rel=1e-3)


def test_without_a_leak_the_make_up_water_is_a_small_background_that_peaks_in_the_evening(city):
    network, _ = city
    plant = _plant(city)
    readings, results = _run(plant, 24, step_h=2)
    makeup = pd.Series([r.summary["makeup_t_h"] for r in results])
    circulating = pd.Series([r.sources["flow_t_h"].sum() for r in results])
    share = makeup / circulating
    assert ((share > 0.001) & (share < 0.01)).all()
    local_hour = [(START + pd.Timedelta(hours=2 * k)).tz_convert("Asia/Shanghai").hour for k in range(12)]
    by_hour = pd.Series(share.to_numpy(), index=local_hour)
    assert by_hour.loc[[18, 20, 22]].mean() > by_hour.loc[[2, 4]].mean() * 1.2
