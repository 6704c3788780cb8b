"""The twin on the demo city (``data.democity``) and on a synthetic city: the same balances as the
small networks, at the size the product runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from network_factory import synthetic_city  # tests/twin/network_factory.py

from twin.model import Twin


def _check_balances(network, result):
    s = result.summary
    assert s["converged"]
    assert s["heat_produced_mw"] == pytest.approx(s["heat_delivered_mw"] + s["heat_loss_mw"], rel=0.01)
    stations = result.stations
    normal = stations[stations["status"] == "normal"]
    assert len(normal) == len(network.stations)
    assert normal["heat_mw"].sum() == pytest.approx(s["heat_delivered_mw"])
    assert s["stations_low_dp"] == int((normal["dp_bar"] < network.stations["min_dp_bar"].to_numpy()).sum())
    assert np.isfinite(normal["delay_h"]).all() and (normal["delay_h"] >= 0).all()
    flowing = result.pipes[result.pipes["flow_t_h"].abs() > 1.0]
    assert (flowing["t_supply_out_c"] <= flowing["t_supply_in_c"] + 1e-6).all()
    assert (np.sign(flowing["flow_t_h"]) * flowing["dp_bar"] >= -1e-6).all()
    # Mass: what the sources circulate is what the stations draw (no leaks here).
    assert result.sources["flow_t_h"].sum() == pytest.approx(stations["flow_t_h"].sum(), rel=1e-3)
    assert abs(s["makeup_t_h"]) < 0.05


def _resolve_matches_fresh(network, twin):
    demand = pd.DataFrame({"heat_mw": twin.design_heat_w / 1e6 * 0.7}, index=twin.index.station_ids)
    twin.set_outdoor(2.0)
    twin.set_station_demand(demand)
    again = twin.solve()
    fresh = Twin(network)
    fresh.set_outdoor(2.0)
    fresh.set_station_demand(demand)
    reference = fresh.solve()
    for name in ("nodes", "stations", "sources"):
        a, b = getattr(again, name), getattr(reference, name)
        cols = a.select_dtypes("number").columns
        np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=2e-3, atol=0.05,
                                   err_msg=name)


def test_synthetic_city_balances_and_resolve():
    network = synthetic_city(300, n_sources=2, station_mw=1.5)
    twin = Twin(network)
    _check_balances(network, twin.solve())
    _resolve_matches_fresh(network, twin)


def test_demo_city_balances_and_resolve(demo_city_dir):
    from layers.read import read_network

    network, report = read_network(demo_city_dir / "network.gpkg")
    assert report.ok, report.errors
    twin = Twin(network)
    _check_balances(network, twin.solve())
    _resolve_matches_fresh(network, twin)
