"""Leak localization from the twin's linearization: sensitivities match full solves, and leaks on the
demo city are placed on the right segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_twin_physics import meshed

from heattwin import units
from layers.read import read_network
from scripts.bench_leaks import _able_to_carry  # the pipes the leak bench lets burst
from twin.leaks.localize import localize, localize_relinearized, refine
from twin.leaks.sensitivity import LeakSensitivity, Linearization
from twin.model import Twin
from twin.observe import SensorMap

NOISE_BAR = 0.01 / np.sqrt(5)   # SensorRealism's pressure noise, averaged over a 5-minute window of 1-min readings


@pytest.mark.parametrize("second_role", [None, "fixed_flow", "fixed_head"])
@pytest.mark.parametrize("side", ["supply", "return"])
def test_linearized_pressure_changes_agree_with_finite_differences(second_role, side):
    twin = Twin(meshed(second_role=second_role))
    base = twin.solve()
    rate_t_h = 0.5
    ix = twin.index
    pipe = int(np.flatnonzero(ix.pipe_ids == "P-DE")[0])
    ends = ix.supply_pipe_ends if side == "supply" else ix.return_pipe_ends
    linear = Linearization.from_net(twin.net)
    injection = np.zeros(linear.n_junctions)
    injection[ends[pipe, 1]] = -units.t_h_to_kg_per_s(rate_t_h)
    predicted = linear.solve(injection)
    twin.set_leaks(pd.DataFrame([{"pipe_id": "P-DE", "side": side, "rate_t_h": rate_t_h, "position": 1.0}]))
    leaky = twin.solve()
    junctions = np.concatenate([ix.supply_junction, ix.return_junction])
    full = np.concatenate([leaky.nodes["p_supply_bar"] - base.nodes["p_supply_bar"],
                           leaky.nodes["p_return_bar"] - base.nodes["p_return_bar"]])
    assert np.abs(full).max() > 1e-4  # the leak moves pressures measurably …
    assert predicted[junctions] == pytest.approx(full, abs=0.05 * np.abs(full).max() + 2e-5)  # … as linearized


def test_a_leak_splits_between_the_pipe_ends_by_its_position():
    twin = Twin(meshed())
    twin.set_leaks(pd.DataFrame([{"pipe_id": "P-DE", "side": "supply", "rate_t_h": 36.0, "position": 0.25}]))
    ix = twin.index
    pipe = int(np.flatnonzero(ix.pipe_ids == "P-DE")[0])
    sinks = twin.net.sink.set_index("junction")["mdot_kg_per_s"]
    assert sinks[ix.supply_pipe_ends[pipe, 0]] == pytest.approx(0.75 * 10.0)
    assert sinks[ix.supply_pipe_ends[pipe, 1]] == pytest.approx(0.25 * 10.0)
    assert twin.solve().summary["makeup_t_h"] == pytest.approx(36.0, rel=1e-3)


@pytest.fixture(scope="module")
def demo(demo_city_dir):
    network, _ = read_network(demo_city_dir / "network.gpkg")
    twin = Twin(network)
    base = twin.solve()
    sensor_map = SensorMap(network.sensors, network.stations)
    return network, twin, sensor_map, sensor_map.predict(base), LeakSensitivity.from_twin(twin, sensor_map, NOISE_BAR)


def _observed(demo, pipe, side, share, position, rng):
    network, twin, sensor_map, before, sens = demo
    rate = share * twin.last_result.sources["flow_t_h"].sum()
    twin.set_leaks(pd.DataFrame([{"pipe_id": pipe, "side": side, "rate_t_h": rate, "position": position}]))
    leaky = twin.solve()
    twin.set_leaks(None)
    twin.solve()
    change = (sensor_map.predict(leaky) - before).reindex(sens.sensor_ids)
    return change + rng.normal(0.0, NOISE_BAR, len(change)), rate


def _rank(location, pipe) -> int:
    order = location.candidates.drop_duplicates("pipe_id")["pipe_id"].tolist()
    return order.index(pipe) + 1


def test_every_candidate_is_scored_and_the_probabilities_sum_to_one(demo):
    network, twin, _, _, sens = demo
    change, rate = _observed(demo, str(network.pipes["id"].iloc[77]), "return", 0.01, 0.5, np.random.default_rng(1))
    location = localize(sens, change, pipe_ids=twin.index.pipe_ids, rate_t_h=rate)
    assert len(location.candidates) == 2 * len(network.pipes)
    assert location.candidates["score"].sum() == pytest.approx(1.0)
    assert location.candidates["score"].is_monotonic_decreasing
    assert 1 <= len(location.region) < len(network.pipes) / 10


def test_a_five_percent_leak_with_noise_lands_in_the_top_three(demo):
    network, twin, sensor_map, _, sens = demo
    rng = np.random.default_rng(7)
    pipes = network.pipes["id"].astype(str).to_numpy()
    n = 20
    ranks = []
    for pipe, side in zip(rng.choice(pipes, n, replace=False), rng.choice(["supply", "return"], n), strict=True):
        change, rate = _observed(demo, pipe, side, 0.05, float(rng.uniform(0.1, 0.9)), rng)
        location = localize_relinearized(twin, sensor_map, change, rate_t_h=rate, sigma_bar=NOISE_BAR, sens=sens)
        ranks.append(_rank(location, pipe))
    # The targets on the demo city, asserted as they are: top 3 in ≥ 80 %, top 10 in ≥ 95 %.
    # 20 leaks is the smallest sample in which "≥ 95 %" still allows one miss (19 of 20); with 8, as
    # this test had, it would demand all 8, and 80 % would demand 7 of 8.
    assert np.mean(np.array(ranks) <= 3) >= 0.80, ranks
    assert np.mean(np.array(ranks) <= 10) >= 0.95, ranks


def test_refine_with_full_solves_keeps_the_truth_and_the_probability(demo):
    network, twin, sensor_map, _, sens = demo
    pipe = str(network.pipes["id"].iloc[123])
    change, rate = _observed(demo, pipe, "supply", 0.05, 0.3, np.random.default_rng(5))
    location = localize(sens, change, NOISE_BAR, network=network, rate_t_h=rate, top=5)
    assert pipe in location.region
    assert location.valves  # the top candidate can be isolated
    assert len(location.to_dict()["candidates"]) == 5
    refined = refine(twin, location, change, sensor_map=sensor_map, sigma_bar=NOISE_BAR, k=5, rate_t_h=rate)
    assert refined.candidates["score"].sum() == pytest.approx(1.0)
    assert _rank(refined, pipe) <= 3


def test_a_sensor_left_out_counts_as_unseen_not_as_no_change(demo):
    _, _, _, _, sens = demo
    seen = np.ones(len(sens.sensor_ids), bool)
    seen[0] = False
    fewer = sens.seeing(seen)
    # The gram over the sensors still seen, from the signatures directly.
    for side in ("supply", "return"):
        ends = sens.ends[side]
        s_from, s_to = sens.node_signature(ends[:, 0]), sens.node_signature(ends[:, 1])
        w = sens.weights * seen
        expected = np.column_stack([(s_from ** 2).T @ w, (s_to ** 2).T @ w, (s_from * s_to).T @ w])
        assert fewer.gram[side] == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert fewer.weights[0] == 0.0 and sens.weights[0] > 0.0      # the original is left as it was


def test_an_input_error_is_explained_by_its_nuisance_direction_and_not_by_a_leak(demo):
    _, twin, sensor_map, _, sens = demo
    assert "station demand scale" in sens.nuisance.names and "flow SRC-2" in sens.nuisance.names
    # Every station drawing 1 % more than the twin thinks: the pressures move along that direction.
    k = sens.nuisance.names.index("station demand scale")
    change = 0.01 * sens.nuisance.signature[:, k]
    plain = float(np.sum(sens.weights * change ** 2))
    left, _ = sens.explained(change)
    assert plain > 10.0 and left < 0.1 * plain
    bare = LeakSensitivity.from_twin(twin, sensor_map, NOISE_BAR, nuisance=False)
    assert bare.nuisance is None and bare.explained(change)[0] == pytest.approx(plain)


def test_a_big_leak_is_followed_until_the_best_candidate_repeats(demo):
    """A burst of 10 % of the circulating flow moves the operating point far from where the signatures were
    taken: the search re-linearizes at the placed leak until the best candidate repeats. Two fixed steps, as
    the search used to take, left 4 of these 12 leaks out of the top 3 (ranks 17, 17, 31, 9); now 2 (23, 51)."""
    network, twin, sensor_map, _, sens = demo
    rng = np.random.default_rng(8)
    rate = 0.10 * twin.last_result.sources["flow_t_h"].sum()
    pipes = _able_to_carry(network, rate)
    ranks = []
    for pipe, side in zip(rng.choice(pipes, 12, replace=False), rng.choice(["supply", "return"], 12), strict=True):
        change, rate = _observed(demo, pipe, side, 0.10, float(rng.uniform(0.1, 0.9)), rng)
        location = localize_relinearized(twin, sensor_map, change, rate_t_h=rate, sigma_bar=NOISE_BAR, sens=sens)
        ranks.append(_rank(location, pipe))
    assert np.mean(np.array(ranks) <= 3) >= 0.80, ranks
