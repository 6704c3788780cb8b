"""The virtual plant's stations feel a supply-temperature step after the twin's transport delay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.control.setpoints import SetpointTable
from twin.plant.runner import VirtualPlant

START = pd.Timestamp("2026-12-10 16:00", tz="UTC")
STEP_H = 0.2
RAISE_K = 10.0


class _SteadyWeather:
    def temperature_c(self, times):
        return np.full(len(pd.DatetimeIndex(times)), -2.0)


@pytest.fixture(scope="module")
def city(demo_network_and_households):
    return demo_network_and_households


def test_station_inlet_follows_the_plant_after_the_twins_transport_delay(city):
    network, households = city
    plant = VirtualPlant(network, households, _SteadyWeather(), noise=False, seed=3, background_loss=False)
    readings, delays = [], []
    raised_at = START + pd.Timedelta(hours=1.0)
    sources = network.sources["id"].astype(str)
    for k in range(int(6.0 / STEP_H)):
        at = START + pd.Timedelta(hours=k * STEP_H)
        if at == raised_at:
            before = plant.last_result.sources["t_supply_c"]
            plant.apply_setpoints(SetpointTable(pd.DataFrame({
                "valid_from": at, "element_id": sources, "kind": "t_supply_c",
                "value": (before.reindex(sources) + RAISE_K).to_numpy()})))
        readings.append(plant.step(at, STEP_H * 3600).assign(at=at))
        delays.append(plant.last_result.stations["delay_h"].rename(at))
    readings = pd.concat(readings)
    delays = pd.concat(delays, axis=1)
    sensors = network.sensors
    station_t = sensors[(sensors["kind"] == "t_supply") & sensors["element_id"].str.startswith("ST-")]
    by_station = station_t.drop_duplicates("element_id").set_index("element_id")["id"]
    far, near = delays.iloc[:, -1].idxmax(), delays.iloc[:, -1].idxmin()
    assert delays.loc[far].iloc[-1] > 2.0, "the demo city's farthest station should be hours away"
    for station in (far, near):
        series = readings[readings["sensor_id"] == by_station[station]].set_index("at")["value"]
        low, high = series[series.index < raised_at].iloc[-1], series.iloc[-1]
        # The step arrives attenuated by the pipes' heat loss, but nearly whole.
        assert 0.8 * RAISE_K < high - low <= RAISE_K
        half = low + 0.5 * (high - low)
        crossed = series[series >= half].index[0]
        prev = series[series.index < crossed].index[-1]
        # Linear between the two readings around the crossing.
        frac = (half - series[prev]) / (series[crossed] - series[prev])
        felt_h = ((prev - raised_at) / pd.Timedelta(hours=1)) + frac * STEP_H
        # The step was recorded at ``raised_at``; the previous record is one step earlier.
        felt_h += STEP_H / 2
        twin_delay_h = float(delays.loc[station, crossed])
        if station == far:
            assert felt_h == pytest.approx(twin_delay_h, rel=0.10)
        else:
            assert abs(felt_h - twin_delay_h) <= STEP_H
