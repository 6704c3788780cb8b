"""Calibration recovers a roughness the readings imply, and the residuals shrink."""

from __future__ import annotations

import pandas as pd
import pytest

from layers.read import read_network
from twin.calibrate import Calibrator, Snapshot, parameter_names
from twin.plant.runner import VirtualPlant
from twin.plant.weather import SyntheticWeather

START = pd.Timestamp("2026-12-12 00:00", tz="UTC")


@pytest.fixture(scope="module")
def city(demo_city_dir):
    network, _ = read_network(demo_city_dir / "network.gpkg")
    households = pd.read_csv(demo_city_dir / "records" / "household.csv", dtype={"sensor_id": str})
    return network, households


def test_calibration_recovers_a_rougher_zone_and_shrinks_pressure_residuals(city):
    network, households = city
    zones, ages = parameter_names(network)
    truth = {"roughness": {zone: 1.0 for zone in zones}, "heat_loss": {age: 1.0 for age in ages}}
    truth["roughness"][zones[0]] = 2.5
    plant = VirtualPlant(network, households, SyntheticWeather(START, seed=1), noise=False, calibration=truth)
    snapshots = []
    for hours in (0, 12):
        at = START + pd.Timedelta(hours=hours)
        readings = plant.step(at, 3600.0)
        snapshots.append(Snapshot(at, readings.set_index("sensor_id")["value"]))
    result = Calibrator(network, snapshots).fit(max_iterations=3)
    assert result.params["roughness"][zones[0]] == pytest.approx(2.5, rel=0.2)
    factors = [f for group in result.params.values() for f in group.values()]
    assert all(0.2 <= f <= 5.0 for f in factors)      # the fit's bounds on every multiplier
    assert result.rms_after["p_node"] < 0.5 * result.rms_before["p_node"]
