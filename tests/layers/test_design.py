"""The network's design settings: read from a file's tables, checked, and used by the alarm rules and
the virtual plant instead of Weifang's constants."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from foreign_networks import MAPPINGS, german_geojson
from layer_files import CURVE, DESIGN, read

from layers.design import DEFAULT_DESIGN
from layers.read import read_network


@pytest.fixture
def german(tmp_path):
    network, report = read_network(german_geojson(tmp_path / "de"), mapping=MAPPINGS / "german_supply_return.yaml")
    assert report.ok, report.errors
    return network


def test_design_tables_of_the_file_are_the_networks(tmp_path):
    network, report = read(tmp_path)
    assert report.ok and not any(w.startswith("design") for w in report.warnings)
    assert network.design.design_outdoor_c == DESIGN["design_outdoor_c"] and network.design.assumed == ()
    assert network.design.supply_c(-20.0) == CURVE[0][1] and network.design.soil_c(0.0) == 6.0
    # Stations without a return temperature or dp minimum take the network's, marked assumed.
    assert (network.stations["min_dp_bar"] == DESIGN["min_station_dp_bar"]).all()


def test_bad_design_settings_are_refused_naming_the_setting(tmp_path):
    _, report = read(tmp_path, design=[{"type": "Feature", "geometry": None,
                                        "properties": {"design_outdoor_c": "kalt", "design_supply_c": 40.0}}])
    assert "design design field design_outdoor_c: 'kalt' is not a number" in report.errors
    _, report = read(tmp_path / "b", heating_curve=[{"type": "Feature", "geometry": None,
                                                     "properties": {"outdoor_c": t, "supply_c": s, "return_c": r}}
                                                    for t, s, r in ((-10, 70, 50), (10, 90, 40))])
    assert any(e.startswith("design heating_curve: needs two or more points whose supply falls") for e in report.errors)


def test_without_design_the_defaults_are_assumed_and_said_so(tmp_path):
    network, report = read(tmp_path, design=None, heating_curve=None)
    assert report.ok and network.design == DEFAULT_DESIGN
    assert any(w.startswith("design: design_outdoor_c") and "assumed" in w for w in report.warnings)


def _design_result(network, outdoor_c):
    from twin.model import Twin

    twin = Twin(network)
    twin.set_outdoor(outdoor_c)
    twin.set_sources(pd.DataFrame({"t_supply_c": float(network.design.supply_c(outdoor_c))},
                                  index=network.sources["id"].astype(str)))
    return twin.solve()


def test_alarm_rules_judge_supply_against_the_networks_own_curve(german):
    from twin.alarm_rules import AlarmEngine

    result = _design_result(german, -14.0)
    measured = pd.Series(dtype=float)
    engine = AlarmEngine(None, german)
    engine.outdoor_c = -14.0
    assert not [c for c in engine.stations_rules(result, measured) if c.cause == "station_t_supply_low"]
    weifang = AlarmEngine(None, replace(german, design=DEFAULT_DESIGN))
    weifang.outdoor_c = -14.0
    low = [c for c in weifang.stations_rules(result, measured) if c.cause == "station_t_supply_low"]
    assert len(low) == len(german.stations) and "K under the curve" in low[0].message


def test_the_virtual_plant_runs_the_networks_heating_curve(german):
    from twin.plant.runner import VirtualPlant

    class Frost:
        def temperature_c(self, times):
            return np.full(len(times), -14.0)

    households = pd.DataFrame(columns=["id", "community_id", "station_id", "building", "floor", "sensor_id"])
    plant = VirtualPlant(german, households, Frost(), noise=False, background_loss=False)
    plant.step(pd.Timestamp("2026-01-10T04:00Z"), 60.0)
    supply = plant.last_result.sources["t_supply_c"]
    assert supply.to_numpy() == pytest.approx(85.0, abs=0.01)
    assert plant.last_result.stations["heat_mw"].sum() == pytest.approx(
        german.stations["design_heat_mw"].sum() * 0.95, rel=0.1)
