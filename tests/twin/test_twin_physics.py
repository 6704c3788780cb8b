"""The twin's physics on small hand-built networks: balances, signs, valves, leaks, sources,
hand-calculated pressure drop and heat loss, and re-solve == fresh solve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from network_factory import make_network  # tests/twin/network_factory.py

from twin.calibrate import parameter_names
from twin.model import Twin, TwinDidNotConverge
from twin.solve import PipeflowNotConverged

FLOW_TOL_T_H = 0.05  # solver tolerance 1e-3 kg/s per unknown, summed over a few branches


def meshed(extra_sources=(), second_role=None):
    """A source at A, a loop B-C-E-D, a branch E-G behind valve V-G, stations at C, E, F, G."""
    nodes = {"N-A": (0, 0), "N-B": (400, 0), "N-C": (800, 0), "N-D": (400, 400), "N-E": (800, 400),
             "N-F": (1200, 0), "N-G": (800, 800)}
    pipes = [("P-AB", "N-A", "N-B", 300, None), ("P-BC", "N-B", "N-C", 200, None),
             ("P-BD", "N-B", "N-D", 150, None), ("P-DE", "N-D", "N-E", 100, None),
             ("P-CE", "N-C", "N-E", 100, None), ("P-CF", "N-C", "N-F", 150, None),
             ("P-EG", "N-E", "N-G", 100, None)]
    sources = [("SRC-A", "N-A", "pressure")]
    if second_role == "fixed_flow":
        sources.append(("SRC-F", "N-F", "fixed_flow", {"flow_t_h": 40.0, "t_supply_c": 110.0}))
    elif second_role == "fixed_head":
        sources.append(("SRC-F", "N-F", "fixed_head", {"plift_bar": 5.9}))
    stations = [("ST-C", "N-C", 4.0), ("ST-E", "N-E", 2.0), ("ST-F", "N-F", 3.0), ("ST-G", "N-G", 1.5)]
    valves = [("V-G", "P-EG", "N-E"), ("V-CF", "P-CF", "N-C")]
    return make_network(nodes, pipes, sources, stations, valves)


def solved(network, **setters):
    twin = Twin(network)
    for name, value in setters.items():
        getattr(twin, f"set_{name}")(value)
    return twin, twin.solve()


def node_imbalance_t_h(network, result, leaks=None):
    """Supply and return mass imbalance per node, t/h (in − out), from the result frames only."""
    pipes = network.pipes.set_index("id")
    nodes = result.nodes.index
    supply = pd.Series(0.0, index=nodes)
    ret = pd.Series(0.0, index=nodes)
    for pid, row in result.pipes.iterrows():
        a, b = pipes.at[pid, "from_node"], pipes.at[pid, "to_node"]
        supply[a] -= row["flow_t_h"]
        supply[b] += row["flow_t_h"]
        ret[a] -= row["flow_return_t_h"]
        ret[b] += row["flow_return_t_h"]
    st_node = network.stations.set_index("id")["node_id"]
    for sid, row in result.stations.iterrows():
        supply[st_node[sid]] -= row["flow_t_h"]
        ret[st_node[sid]] += row["flow_t_h"]
    src_node = network.sources.set_index("id")["node_id"]
    for sid, row in result.sources.iterrows():
        supply[src_node[sid]] += row["flow_t_h"] + row["makeup_t_h"]
        ret[src_node[sid]] -= row["flow_t_h"]
    for leak in (leaks or []):
        side = supply if leak["side"] == "supply" else ret
        # The twin draws a leak x along a pipe as (1 - x) at its from end and x at its to end.
        side[pipes.at[leak["pipe_id"], "from_node"]] -= (1.0 - leak["position"]) * leak["rate_t_h"]
        side[pipes.at[leak["pipe_id"], "to_node"]] -= leak["position"] * leak["rate_t_h"]
    return supply, ret


@pytest.mark.parametrize("second", [None, "fixed_flow", "fixed_head"])
def test_mass_balance_at_every_node(second):
    network = meshed(second_role=second)
    _, result = solved(network)
    supply, ret = node_imbalance_t_h(network, result)
    assert supply.abs().max() < FLOW_TOL_T_H
    assert ret.abs().max() < FLOW_TOL_T_H
    assert (result.stations["status"] == "normal").all()


@pytest.mark.parametrize("second", [None, "fixed_flow", "fixed_head"])
def test_source_heat_equals_delivered_plus_losses(second):
    _, result = solved(meshed(second_role=second), outdoor=-5.0)
    s = result.summary
    assert s["heat_loss_mw"] > 0
    assert s["heat_delivered_mw"] == pytest.approx(10.5, rel=1e-3)
    assert s["heat_produced_mw"] == pytest.approx(s["heat_delivered_mw"] + s["heat_loss_mw"], rel=0.01)


def test_supply_temperature_falls_and_pressure_falls_along_the_flow():
    network = meshed(second_role="fixed_head")
    _, result = solved(network)
    flowing = result.pipes[result.pipes["flow_t_h"].abs() > 0.1]
    assert len(flowing) >= 5
    assert (flowing["t_supply_out_c"] < flowing["t_supply_in_c"]).all()
    assert (np.sign(flowing["flow_t_h"]) * flowing["dp_bar"] > 0).all()
    pipes = network.pipes.set_index("id").loc[flowing.index]
    p_ret = result.nodes["p_return_bar"]
    dp_return = p_ret[pipes["from_node"]].to_numpy() - p_ret[pipes["to_node"]].to_numpy()
    moving = flowing["flow_return_t_h"].abs() > 0.1
    assert (np.sign(flowing["flow_return_t_h"][moving]) * dp_return[moving.to_numpy()] > 0).all()
    stations = result.stations
    away = stations.drop(index="ST-F")   # ST-F sits at source F's node
    assert (away["t_supply_c"] < 110.0).all() and (stations["dp_bar"] > 0).all()
    assert (away["delay_h"] > 0).all() and np.isfinite(stations["delay_h"]).all()


def test_closing_the_only_valve_to_a_branch_cuts_off_exactly_the_stations_behind_it():
    network = meshed()
    twin, before = solved(network)
    twin.set_valves({"V-G"})
    result = twin.solve()
    assert set(result.stations.index[result.stations["status"] == "cut_off"]) == {"ST-G"}
    assert result.stations.at["ST-G", "heat_mw"] == 0.0
    assert result.summary["heat_delivered_mw"] == pytest.approx(before.summary["heat_delivered_mw"] - 1.5,
                                                                rel=1e-3)
    assert result.nodes.at["N-G", "status"] == "cut_off"
    s = result.summary
    assert s["heat_produced_mw"] == pytest.approx(s["heat_delivered_mw"] + s["heat_loss_mw"], rel=0.01)
    twin.set_valves(set())
    assert (twin.solve().stations["status"] == "normal").all()


def test_a_valve_at_a_looped_pipe_cuts_nobody_off():
    twin, base = solved(meshed(second_role="fixed_head"))
    twin.set_valves({"V-CF"})   # F keeps its own source
    result = twin.solve()
    assert (result.stations["status"] == "normal").all()
    assert abs(result.pipes.at["P-CF", "flow_t_h"]) < FLOW_TOL_T_H
    s = result.summary
    assert s["heat_produced_mw"] == pytest.approx(s["heat_delivered_mw"] + s["heat_loss_mw"], rel=0.01)
    twin.set_valves(set())   # reconnected: back to one pressure level held by SRC-A
    _frames_close(twin.solve(), base)


@pytest.mark.parametrize("side", ["supply", "return"])
def test_a_leak_shows_up_as_that_much_more_make_up(side):
    network = meshed()
    twin, before = solved(network)
    leak = {"pipe_id": "P-DE", "side": side, "rate_t_h": 7.2, "position": 0.3}
    twin.set_leaks(pd.DataFrame([leak]))
    result = twin.solve()
    assert before.summary["makeup_t_h"] == pytest.approx(0.0, abs=1e-3)
    assert result.summary["makeup_t_h"] - before.summary["makeup_t_h"] == pytest.approx(7.2, rel=1e-3)
    assert result.sources.at["SRC-A", "makeup_t_h"] == pytest.approx(7.2, rel=1e-3)
    supply, ret = node_imbalance_t_h(network, result, [leak])
    assert max(supply.abs().max(), ret.abs().max()) < FLOW_TOL_T_H
    s = result.summary
    assert s["heat_produced_mw"] == pytest.approx(
        s["heat_delivered_mw"] + s["heat_loss_mw"] + s["heat_leaked_mw"], rel=0.01)
    twin.set_leaks(pd.DataFrame(columns=["pipe_id", "side", "rate_t_h", "position"]))
    assert twin.solve().summary["makeup_t_h"] == pytest.approx(0.0, abs=1e-3)


def test_a_second_source_taking_load_reduces_the_first_by_the_same_flow():
    network = meshed(second_role="fixed_flow")
    twin, shared = solved(network)
    twin.set_source_out({"SRC-F"})
    alone = twin.solve()
    taken = shared.sources.at["SRC-F", "flow_t_h"]
    assert taken == pytest.approx(40.0, rel=1e-3)
    assert alone.sources.at["SRC-F", "flow_t_h"] == 0.0
    reduction = alone.sources.at["SRC-A", "flow_t_h"] - shared.sources.at["SRC-A", "flow_t_h"]
    assert reduction == pytest.approx(taken, rel=0.02)


# EN 253:2019 (pre-insulated bonded pipe systems), insulation series 1, DN 200: steel service pipe
# 219.1 × 4.5 mm (the standard's service-pipe table, sizes of EN 10217-2), PE casing 315 mm outside
# with a 4.9 mm minimum wall (its casing table). Typed here, not read from twin.pipes.
EN253_DN200_STEEL_OD_M, EN253_DN200_WALL_M = 0.2191, 0.0045
EN253_DN200_CASING_OD_M, EN253_DN200_CASING_WALL_M = 0.315, 0.0049
RUN_AT = pd.Timestamp("2026-12-12 06:00", tz="UTC")


def _single_pipe(length_m, dn, **pipe_columns):
    return make_network({"N-1": (0, 0), "N-2": (length_m, 0)},
                        [("P-1", "N-1", "N-2", dn, length_m, {"roughness_mm": 0.1, **pipe_columns})],
                        [("SRC-1", "N-1", "pressure")], [("ST-1", "N-2", 8.0)])


def test_single_pipe_matches_darcy_weisbach_by_hand():
    length_m = 2000.0
    twin, result = solved(_single_pipe(length_m, 200), outdoor=0.0)
    d = EN253_DN200_STEEL_OD_M - 2.0 * EN253_DN200_WALL_M   # 0.2101 m
    pipe = result.pipes.loc["P-1"]
    t_mean_k = 273.15 + 0.5 * (pipe["t_supply_in_c"] + pipe["t_supply_out_c"])
    rho = float(twin.net.fluid.get_density(t_mean_k))
    mu = float(twin.net.fluid.get_viscosity(t_mean_k))
    v = pipe["flow_t_h"] / 3.6 / rho / (np.pi * d * d / 4.0)
    reynolds = rho * v * d / mu
    friction = 0.25 / np.log10(0.1e-3 / (3.7 * d) + 5.74 / reynolds ** 0.9) ** 2   # Swamee–Jain
    dp_bar = friction * length_m / d * rho * v * v / 2.0 / 1e5
    assert pipe["v_m_per_s"] == pytest.approx(v, rel=0.01)
    assert pipe["dp_bar"] == pytest.approx(dp_bar, rel=0.03)


def test_single_pipe_heat_loss_matches_a_hand_worked_en253_pipe_in_soil():
    """Heat loss of a new DN 200 series-1 pipe pair buried 1.2 m deep, worked by hand.

    Resistances per metre of one pipe (EN 13941-1's single buried pipe; steel wall and water film
    negligible), from the EN 253 dimensions above:
      PUR foam, λ50 = 0.029 W/(m·K) (EN 253:2019's limit for unaged foam), 219.1 → 305.2 mm:
          ln(305.2 / 219.1) / (2π · 0.029) = 0.33143 / 0.18221 = 1.8189 m·K/W
      PE casing, λ = 0.43 W/(m·K), 305.2 → 315 mm: ln(315 / 305.2) / (2π · 0.43) = 0.0117 m·K/W
      soil, λ = 1.5 W/(m·K) (moist sand), axis H = 1.2 m deep: arcosh(2H / D) / (2π · 1.5)
          = arcosh(7.619) / 9.4248 = 2.7194 / 9.4248 = 0.2885 m·K/W
      total 2.1191 m·K/W → 0.4719 W per metre of pipe and kelvin above the soil.
    Soil at pipe depth on a 0 °C day: 6 °C (the twin's boundary rule, 6 + outdoor / 3).
    The twin's U for new PUR (0.5 W/(m²·K) of casing) gives 0.4948 W/(m·K), 4.9 % above this; it
    treats supply and return as two pipes on their own: the pair's mutual heating (EN 13941-1's
    two-pipe formula) would take a further ~8 % off, a simplification the calibration's heat-loss
    multipliers absorb.
    """
    length_m = 2000.0
    network = _single_pipe(length_m, 200, install_year=RUN_AT.year, insulation="PUR", depth_m=1.2)
    twin = Twin(network, at=RUN_AT)
    twin.set_outdoor(0.0)
    result = twin.solve()
    pipe = result.pipes.loc["P-1"]
    casing_id_m = EN253_DN200_CASING_OD_M - 2.0 * EN253_DN200_CASING_WALL_M
    r_foam = np.log(casing_id_m / EN253_DN200_STEEL_OD_M) / (2.0 * np.pi * 0.029)
    r_casing = np.log(EN253_DN200_CASING_OD_M / casing_id_m) / (2.0 * np.pi * 0.43)
    r_soil = np.arccosh(2.0 * 1.2 / EN253_DN200_CASING_OD_M) / (2.0 * np.pi * 1.5)
    w_per_mk = 1.0 / (r_foam + r_casing + r_soil)
    assert w_per_mk == pytest.approx(0.4719, abs=5e-4)   # the arithmetic in the docstring
    soil_c = 6.0
    supply_c = 0.5 * (pipe["t_supply_in_c"] + pipe["t_supply_out_c"])
    return_c = result.nodes["t_return_c"].mean()   # the return pipe's two ends
    loss_kw = w_per_mk * length_m * ((supply_c - soil_c) + (return_c - soil_c)) / 1e3
    assert 80.0 < supply_c < 125.0 and 30.0 < return_c < 70.0   # a heating-season operating point
    assert pipe["heat_loss_kw"] == pytest.approx(loss_kw, rel=0.06)


def test_heat_loss_grows_with_the_insulations_age_at_the_runs_date():
    """+1.5 % of the new pipe's U per year of age (``twin.pipes``), counted to the run's year."""
    network = _single_pipe(2000.0, 200, install_year=2016, insulation="PUR")
    twin = Twin(network, at=RUN_AT)                   # 10 years old: × 1.15
    twin.set_outdoor(0.0)
    ten = twin.solve().pipes.loc["P-1", "heat_loss_kw"]
    twin.set_date(pd.Timestamp("2036-06-01", tz="UTC"))   # 20 years old: × 1.30
    twenty = twin.solve().pipes.loc["P-1", "heat_loss_kw"]
    assert twenty / ten == pytest.approx(1.30 / 1.15, rel=0.01)
    fresh = Twin(network, at=pd.Timestamp("2036-06-01", tz="UTC"))   # built at that date: the same
    fresh.set_outdoor(0.0)
    assert fresh.solve().pipes.loc["P-1", "heat_loss_kw"] == pytest.approx(twenty, rel=1e-3)


def _frames_close(a, b, rel=1e-3, abs_=1e-3):
    for name in ("nodes", "pipes", "stations", "sources"):
        fa, fb = getattr(a, name), getattr(b, name)
        assert list(fa.index) == list(fb.index)
        num = fa.select_dtypes("number").columns
        np.testing.assert_allclose(fa[num].to_numpy(float), fb[num].to_numpy(float), rtol=rel, atol=abs_,
                                   err_msg=name)
        assert (fa["status"] == fb["status"]).all()


def test_resolve_after_a_boundary_change_equals_a_fresh_build_and_solve():
    network = meshed(second_role="fixed_head")
    demand = pd.DataFrame({"heat_mw": [3.0, 2.5, 2.0, 1.0], "t_return_c": [45.0, 48.0, 52.0, 50.0]},
                          index=["ST-C", "ST-E", "ST-F", "ST-G"])
    sources = pd.DataFrame({"t_supply_c": [95.0, 97.0], "p_supply_bar": [11.0, 11.0],
                            "p_return_bar": [5.5, 5.6]}, index=["SRC-A", "SRC-F"])
    twin, _ = solved(network)
    twin.set_outdoor(-10.0)
    twin.set_station_demand(demand)
    twin.set_sources(sources)
    twin.set_valves({"V-G"})
    twin.set_station_capacity(pd.Series({"ST-C": 0.5}))
    again = twin.solve()
    _, fresh = solved(network, outdoor=-10.0, station_demand=demand, sources=sources, valves={"V-G"},
                      station_capacity=pd.Series({"ST-C": 0.5}))
    _frames_close(again, fresh)
    assert again.stations.at["ST-C", "heat_mw"] == pytest.approx(2.0, rel=1e-3)   # 0.5 × 4 MW design
    assert again.sources.at["SRC-A", "t_supply_c"] == pytest.approx(95.0)
    assert again.sources.at["SRC-A", "p_return_bar"] == pytest.approx(5.5)


def test_calibration_multipliers_change_pressure_drop_and_heat_loss():
    network = meshed()
    _, base = solved(network)
    twin = Twin(network, calibration={"roughness": {"Z1": 3.0}, "heat_loss": {"2000s": 2.0}})
    rough = twin.solve()
    assert (rough.pipes["dp_bar"].abs() > base.pipes["dp_bar"].abs()).sum() >= 5
    assert rough.summary["heat_loss_mw"] == pytest.approx(2.0 * base.summary["heat_loss_mw"], rel=0.02)
    twin.set_calibration(None)
    _frames_close(twin.solve(), base)


def test_no_convergence_raises_and_keeps_the_last_good_result():
    network = meshed()
    twin, good = solved(network)
    stations = network.stations.set_index("id")
    # Stations asked to send their water back at 130 °C, hotter than the 110 °C the plant sends: no
    # flow takes heat out that way, and pandapipes' own Newton iteration does not converge.
    twin.set_station_demand(pd.DataFrame({"heat_mw": stations["design_heat_mw"], "t_return_c": 130.0}))
    with pytest.raises(TwinDidNotConverge) as failed:
        twin.solve()
    assert isinstance(failed.value.__cause__, PipeflowNotConverged)   # reached pandapipes and failed there
    assert twin.last_result is good
    # Back to a feasible boundary: the next solve starts clean and finds the same state.
    twin.set_station_demand(stations[["design_heat_mw", "t_return_c"]].rename(columns={"design_heat_mw": "heat_mw"}))
    _frames_close(twin.solve(), good)
    twin.set_source_out({"SRC-A"})   # no source at all: refused before any solve
    with pytest.raises(TwinDidNotConverge, match="every source is out of service"):
        twin.solve()


def test_states_have_the_twin_state_columns_for_every_element():
    network = meshed(second_role="fixed_head")
    _, result = solved(network)
    states = result.states()
    expected = set(network.nodes["id"]) | set(network.pipes["id"]) | set(network.stations["id"]) | set(
        network.sources["id"])
    assert set(states["element_id"]) == expected and len(states) == len(expected)
    assert list(states.columns[:2]) == ["element_id", "status"]
    assert {"heat_mw", "heat_loss_kw", "delay_h", "dp_bar", "v_m_per_s"} <= set(states.columns)


def test_a_heat_loss_multiplier_acts_on_exactly_the_pipes_of_its_age_class():
    """The calibration fits one multiplier per class it names; the twin applies it to those pipes only."""
    years = {"P-AB": 1995, "P-BC": 1999, "P-BD": 2000, "P-DE": 2009, "P-CE": 2010, "P-CF": None, "P-EG": "unknown"}
    by_hand = {"P-AB": "before_2000", "P-BC": "before_2000", "P-BD": "2000s", "P-DE": "2000s",
               "P-CE": "since_2010", "P-CF": "since_2010", "P-EG": "since_2010"}   # unknown years count as new
    network = meshed()
    network.pipes["install_year"] = network.pipes["id"].map(years).astype(object)
    _, ages = parameter_names(network)
    assert ages == sorted(set(by_hand.values()))
    base = Twin(network, at=RUN_AT).net.pipe["u_w_per_m2k"].to_numpy()
    for age in ages:
        twin = Twin(network, calibration={"heat_loss": {age: 2.0}}, at=RUN_AT)
        ix = twin.index
        ratio = twin.net.pipe["u_w_per_m2k"].to_numpy() / base
        for side in (ix.supply_pipe, ix.return_pipe):
            doubled = {pid for pid, r in zip(ix.pipe_ids, ratio[side], strict=True) if r == pytest.approx(2.0)}
            assert doubled == {p for p, a in by_hand.items() if a == age}, age


def test_a_fixed_flow_source_alone_in_an_island_holds_it_and_follows_its_demand():
    network = meshed(second_role="fixed_flow")
    twin, base = solved(network)
    twin.set_valves({"V-CF"})
    result = twin.solve()
    assert (result.stations["status"] == "normal").all()
    # Alone, SRC-F must supply exactly what ST-F draws, not its 40 t/h set-point.
    assert result.sources.at["SRC-F", "flow_t_h"] == pytest.approx(result.stations.at["ST-F", "flow_t_h"], rel=1e-3)
    s = result.summary
    assert s["heat_produced_mw"] == pytest.approx(s["heat_delivered_mw"] + s["heat_loss_mw"], rel=0.01)
    twin.set_valves(set())
    _frames_close(twin.solve(), base)
