"""The twin bench compares like with like: cold with cold, warm with warm on the same changed boundary."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from scripts import bench_twin
from twin.model import Twin
from twin.solve import WarmStart, iterations


@pytest.fixture(scope="module")
def twin_pair(demo_city_dir):
    """A twin solved at one boundary, then at a changed one, with a copy of its net after each."""
    from layers.read import read_network

    network, _ = read_network(demo_city_dir / "network.gpkg")
    twin = Twin(network)
    design_mw = pd.Series(twin.design_heat_w / 1e6, index=twin.index.station_ids)
    fixed_flow_t_h = network.sources.set_index("id")["flow_t_h"].astype(float).dropna()
    twin.set_outdoor(-5.0)
    twin.solve()
    before = copy.deepcopy(twin.net)
    # Load and the fixed-flow plants' dispatch fall together, as they do over an hour.
    twin.set_outdoor(-4.0)
    twin.set_station_demand(pd.DataFrame({"heat_mw": 0.95 * design_mw}))
    twin.set_sources(pd.DataFrame({"flow_t_h": 0.95 * fixed_flow_t_h}))
    result = twin.solve()
    assert twin.net.res_junction["p_bar"].min() > 0
    return before, copy.deepcopy(twin.net), result.summary["iterations"]


def test_changed_boundary_holds_the_new_inputs_and_the_old_solution(twin_pair):
    before, now, _ = twin_pair
    net = bench_twin.changed_boundary(before, now)
    pd.testing.assert_frame_equal(net.pipe, now.pipe)
    pd.testing.assert_frame_equal(net.heat_consumer, now.heat_consumer)
    pd.testing.assert_frame_equal(net.res_junction, before.res_junction)
    assert not net.pipe["text_k"].equals(before.pipe["text_k"])


def test_warm_bare_pipeflows_reach_the_twins_solution_from_the_same_start(twin_pair):
    before, now, twin_iterations = twin_pair
    pit = bench_twin.changed_boundary(before, now)
    bench_twin.bare_warm_pit(pit, WarmStart.from_net(before))
    # The same start and the same Newton solver: the same iterations and the same answer; only the
    # set-up differs (pandapipes' conflict check).
    assert iterations(pit) == twin_iterations
    assert (pit.res_junction["p_bar"] - now.res_junction["p_bar"]).abs().max() < 1e-9
    tables = bench_twin.changed_boundary(before, now)
    bench_twin.bare_warm_tables(tables)
    assert (tables.res_junction["p_bar"] - now.res_junction["p_bar"]).abs().max() < 1e-3
    cold = copy.deepcopy(now)
    bench_twin.bare_cold(cold)
    assert iterations(cold) > twin_iterations  # a cold start is not a warm one


def test_the_bench_drives_the_cycles_with_changing_windows(demo_db_url):
    figures = bench_twin.measure_cycles(demo_db_url, cycles=2, repeat=1, warm_up=False)
    for key in ("cold_cycle_over_cold_bare", "warm_cycle_over_warm_bare"):
        assert figures[key] > 0
    # Each window is a minute later than the last: the warm start is not already the answer.
    assert figures["warm_change_p_bar"] > 1e-4
    assert figures["warm_iterations"] >= 2
    assert figures["warm_bare_pit_gap"]["p_bar"] < 1e-6
    assert figures["cold_gap"]["p_bar"] < 1e-6
    assert figures["readings_per_window"] > 5 * 1000
