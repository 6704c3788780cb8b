"""The control bench's plant (``scripts.bench_plant.IndependentPlant``): its hydraulic imbalance and the
utility's curve that answers it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from heattwin.clock import local_hour_of
from scripts.bench_plant import COLD_END_ROOM_C, IndependentPlant
from twin.control.setpoints import SetpointTable
from twin.plant.control import station_heat_mw
from twin.plant.weather import SyntheticWeather

START = pd.Timestamp("2026-12-14 16:00", tz="UTC")   # midnight in Weifang


@pytest.fixture(scope="module")
def city(demo_network_and_households):
    return demo_network_and_households


def _plant(city, **kwargs):
    network, households = city
    weather = SyntheticWeather(START, seed=5, mean_c=0.0, days=2)
    return IndependentPlant(network, households, weather, seed=5, noise=False, **kwargs)


def _delivered_over_need(plant, at) -> pd.Series:
    """One step at ``at``; per station the heat it passed over the heat its buildings need."""
    plant.step(at, 3600.0)
    outdoor_c = float(plant.weather.temperature_c([at])[0])
    need = station_heat_mw(plant.stations["design_heat_mw"].astype(float).to_numpy(), outdoor_c,
                           local_hour_of(at), plant.network.design)
    need = pd.Series(need, index=plant.stations.index) * (1.0 + plant.demand_bias + plant.demand_swing * np.sin(
        2.0 * np.pi * (local_hour_of(at) - plant.demand_phase_h) / 24.0))
    return plant.last_result.stations["heat_mw"].reindex(need.index) / need


def test_near_stations_get_more_than_they_need_far_ones_less(city):
    plant = _plant(city, imbalance=True)
    factor = plant.hydraulic_factor
    assert 0.70 < factor.min() < 0.85 and 1.10 < factor.max() < 1.30, factor.describe()
    ratio = None
    for k in range(3):
        ratio = _delivered_over_need(plant, START + pd.Timedelta(hours=k))
    # The stations' place in the network decides it: the differential pressure they see in the plant's solve.
    dp = plant.last_result.stations["dp_bar"].reindex(ratio.index)
    assert spearmanr(dp, ratio).statistic > 0.8
    near, far = factor.nlargest(15).index, factor.nsmallest(15).index
    assert (ratio[near] > 1.10).all(), ratio[near]
    assert (ratio[far] < 0.97).all(), ratio[far]
    # The heat follows from the flow and the temperature drop: a near station's flow is over what its need
    # carries at the same drop by its hydraulic factor and the curve's shift.
    st = plant.last_result.stations
    drop_k = st["t_supply_c"] - st["t_return_c"]
    assert np.allclose(st["flow_t_h"] * drop_k / st["heat_mw"], (st["flow_t_h"] * drop_k / st["heat_mw"]).median(),
                       rtol=0.01)


def test_without_imbalance_every_station_passes_its_need(city):
    plant = _plant(city)
    ratio = _delivered_over_need(plant, START)
    assert plant.curve_shift_k == 0.0
    assert np.allclose(ratio, 1.0, atol=0.01)


def test_a_far_stations_share_raises_its_heat(city):
    plant = _plant(city, imbalance=True)
    far = plant.hydraulic_factor.idxmin()
    at = START + pd.Timedelta(hours=1)
    plant.step(START, 3600.0)
    before = _delivered_over_need(plant, at)
    plant.apply_setpoints(SetpointTable(pd.DataFrame(
        {"valid_from": [at], "element_id": [far], "kind": ["heat_ratio"], "value": [1.15]})))
    after = _delivered_over_need(plant, at)   # the same hour again: only the share differs
    assert after[far] == pytest.approx(1.15 * before[far], rel=0.02)
    others = after.index != far
    assert np.allclose(after[others], before[others], rtol=0.01)


def test_the_curve_leaves_the_coldest_stations_rooms_near_the_complaint_line(city):
    plant = _plant(city, imbalance=True)
    assert 1.0 < plant.curve_shift_k < 6.0
    # Steady rooms at 0 °C outside under the curve (equal shares): the coldest stations' near 18.3 °C.
    design = plant.network.design
    asked = design.load_ratio(0.0 - plant.curve_shift_k) / design.load_ratio(0.0)
    ratio = plant.hydraulic_factor * asked
    rooms = pd.Series(plant.rooms.steady_c(0.0, ratio.reindex(plant.rooms.station_ids).to_numpy()),
                      index=plant.rooms.station_ids)
    by_station = rooms.groupby(level=0).median()
    coldest = by_station.reindex(plant.hydraulic_factor.nsmallest(20).index).dropna()
    assert abs(coldest.median() - COLD_END_ROOM_C) < 0.8, coldest
    nearest = by_station.reindex(plant.hydraulic_factor.nlargest(20).index).dropna()
    assert 21.0 < nearest.median() < 24.5, nearest
