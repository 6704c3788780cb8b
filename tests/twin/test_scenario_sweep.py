"""The N-1 sweep: 20 segments on a 2-worker LocalCluster give what the same 20 give serially."""

from __future__ import annotations

import pandas as pd
import pytest

from layers.read import read_network
from twin.isolation import IsolationGraph
from twin.scenarios.sweep import n1_scenarios, run_sweep


@pytest.fixture(scope="module")
def network(demo_city_dir):
    network, _ = read_network(demo_city_dir / "network.gpkg")
    return network


def test_a_sweep_on_two_dask_workers_matches_the_serial_run(network):
    pipes = network.pipes["id"].astype(str).iloc[::31].head(20).tolist()
    scenarios = n1_scenarios(network, pipes)
    seen = []
    serial = run_sweep(network, scenarios, serial=True, progress=lambda done, total, rows: seen.append(done))
    dask = run_sweep(network, scenarios, workers=2)
    assert seen[-1] == 20 and seen == sorted(seen)
    assert sorted(serial["element_id"]) == sorted(pipes)
    columns = ["heat_not_delivered_mw", "households_affected", "stations_cut_off", "valves_to_close"]
    left, right = serial.set_index("element_id").sort_index(), dask.set_index("element_id").sort_index()
    pd.testing.assert_frame_equal(left[columns], right[columns], rtol=1e-6, atol=1e-6)
    # Ranked most critical first, and the cut-off counts are the isolation's.
    assert serial["heat_not_delivered_mw"].is_monotonic_decreasing
    expected = IsolationGraph(network).sweep(pipes).set_index("element_id")["n_stations_cut_off"]
    assert (left["stations_cut_off"] == expected.reindex(left.index)).all()
