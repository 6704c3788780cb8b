"""What-if scenarios on the demo city: files, and numbers that obey the physics and the isolation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from isolation_reference import Reference  # tests/twin/isolation_reference.py

from layers.read import read_network
from twin.isolation import IsolationGraph
from twin.plant.control import supply_setpoint_c
from twin.scenarios import ScenarioError, ScenarioRunner, load_scenario, scenario_from_dict


@pytest.fixture(scope="module")
def network(demo_city_dir):
    network, report = read_network(demo_city_dir / "network.gpkg")
    assert report.ok, report.errors
    return network


@pytest.fixture(scope="module")
def runner(network):
    return ScenarioRunner(network)


def _run(runner, *changes, base=None, name="t"):
    return runner.run(scenario_from_dict({"name": name, "base": base or {"kind": "design"}, "changes": list(changes)}))


def _main_near_source(network) -> str:
    """A pipe on a source's node whose isolation cuts stations off (the main out of a plant)."""
    graph = IsolationGraph(network)
    pipes = network.pipes
    at_source = pipes[pipes["from_node"].isin(network.sources["node_id"]) | pipes["to_node"].isin(
        network.sources["node_id"])]["id"]
    sweep = graph.sweep(at_source.astype(str).tolist())
    cutting = sweep[(sweep["n_stations_cut_off"] > 0) & (sweep["n_sources_lost"] == 0)]
    if cutting.empty:
        downstream = graph.sweep()
        cutting = downstream[(downstream["n_stations_cut_off"] > 2) & (downstream["n_sources_lost"] == 0)]
    return str(cutting.sort_values("n_stations_cut_off").iloc[-1]["element_id"])


def test_a_scenario_file_round_trips_through_yaml_and_json(tmp_path):
    spec = {"name": "北环爆管", "author": "张工", "base": {"kind": "design", "outdoor_c": -12.0},
            "changes": [{"kind": "pipe_break", "element_id": "P-00010"}, {"kind": "outdoor", "t_c": -20},
                        {"kind": "source_derate", "element_id": "SRC-2", "share": 0.7}]}
    (tmp_path / "a.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    import yaml
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    from_json, from_yaml = load_scenario(tmp_path / "a.json"), load_scenario(tmp_path / "a.yaml")
    assert from_json == from_yaml
    assert scenario_from_dict(from_json.to_dict()) == from_json
    assert from_json.changes[2].params == {"share": 0.7}


@pytest.mark.parametrize("change, expected", [
    ({"kind": "pipe_burst", "element_id": "P-1"}, "kind 'pipe_burst' is not one of"),
    ({"kind": "pipe_break", "element_id": "V-1"}, "element_id of a pipe_break starts with P-"),
    ({"kind": "pipe_leak", "element_id": "P-1"}, "needs rate_t_h"),
    ({"kind": "outdoor", "t_c": -80}, "t_c=-80 is outside"),
    ({"kind": "source_derate", "element_id": "SRC-2", "share": "half"}, "share must be a number"),
    ({"kind": "valve_close", "element_id": "V-1", "when": "now"}, "unknown field(s) ['when']"),
])
def test_a_bad_scenario_file_names_the_file_change_and_field(tmp_path, change, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps({"name": "x", "changes": [{"kind": "outdoor", "t_c": -5}, change]}))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(path) in str(err.value) and "changes[1]" in str(err.value) and expected in str(err.value)


def test_an_unknown_element_is_refused_by_the_runner(runner):
    with pytest.raises(ScenarioError, match="P-99999 is not a pipe"):
        _run(runner, {"kind": "pipe_break", "element_id": "P-99999"})


def test_the_design_base_holds_every_plant_at_its_set_pressure(runner, network):
    base = _run(runner)
    held = network.sources.set_index("id")["p_flow_bar"].astype(float)
    assert base.summary["feasible"] and base.summary["p_min_bar"] > 0.5
    assert base.sources["heat_mw"].sum() == pytest.approx(base.summary["heat_produced_mw"])
    sources = runner.twin.last_result.sources
    assert sources["p_supply_bar"].to_numpy() == pytest.approx(held.reindex(sources.index).to_numpy(), abs=0.25)
    assert base.summary["heat_not_delivered_mw"] == 0.0 and base.summary["stations_affected"] == 0


def test_breaking_a_main_cuts_off_what_isolation_says_and_nothing_else(runner, network):
    pipe = _main_near_source(network)
    # The runner isolates with twin.isolation; the expectation comes from the networkx oracle, which
    # shares no code with it: the valves it closes, the region it empties, the stations that go dry.
    want = Reference(network).isolate(pipe)
    assert want["stations_cut_off"], f"{pipe}: the oracle cuts nobody off, so the test would prove nothing"
    result = _run(runner, {"kind": "pipe_break", "element_id": pipe})
    stations = result.stations
    # Who the twin's solve leaves without flow (pandapipes drops the junctions the closed valves cut off).
    assert sorted(stations.index[stations["cut_off"]]) == want["stations_cut_off"]
    assert (stations.loc[stations["cut_off"], "heat_mw"] == 0).all()
    assert result.isolation["valves_to_close"] == want["valves_to_close"]
    communities = network.communities
    households_cut_off = int(pd.to_numeric(communities.loc[communities["station_id"].isin(
        want["stations_cut_off"]), "households"]).sum())
    # Heat not delivered is the base's delivery minus the scenario's, station by station.
    s = result.summary
    assert s["heat_not_delivered_mw"] == pytest.approx(s["heat_delivered_base_mw"] - s["heat_delivered_mw"])
    assert s["heat_not_delivered_mw"] == pytest.approx(stations["heat_short_mw"].sum(), abs=1e-6)
    assert s["heat_not_delivered_mw"] >= stations.loc[stations["cut_off"], "heat_base_mw"].sum() - 1e-6
    assert households_cut_off > 0 and s["households_affected"] >= households_cut_off
    assert result.pipes.loc[want["dry_pipes"], "status"].eq("cut_off").all()
    # The plants deliver less: what the stations no longer take (the losses of the dry pipes go too).
    produced_drop = s["heat_produced_base_mw"] - s["heat_produced_mw"]
    assert produced_drop == pytest.approx(stations.loc[stations["cut_off"], "heat_base_mw"].sum(), rel=0.05)


def test_closing_a_loop_valve_reroutes_flow_and_cuts_nobody_off(runner, network):
    graph = IsolationGraph(network)
    valves = network.valves.assign(pipe_id=network.valves["pipe_id"].astype(str))
    sweep = graph.sweep(valves["pipe_id"].unique().tolist()).set_index("element_id")
    looped = valves[valves["pipe_id"].map(sweep["n_stations_cut_off"]).eq(0)
                    & valves["pipe_id"].map(sweep["n_sources_lost"]).eq(0)]
    base = _run(runner)
    flows = runner.twin.last_result.pipes["flow_t_h"].abs()
    valve = looped.assign(flow=looped["pipe_id"].map(flows)).sort_values("flow").iloc[-1]
    result = _run(runner, {"kind": "valve_close", "element_id": str(valve["id"])})
    assert result.summary["stations_cut_off"] == 0
    assert result.pipes.at[valve["pipe_id"], "flow_t_h"] == pytest.approx(0.0, abs=1e-3)
    assert abs(result.pipes.at[valve["pipe_id"], "d_flow_t_h"]) == pytest.approx(valve["flow"], rel=1e-3)
    rerouted = result.pipes.drop(index=valve["pipe_id"])["d_flow_t_h"].abs()
    assert (rerouted > 1.0).sum() >= 3
    assert base.summary["heat_delivered_mw"] == pytest.approx(result.summary["heat_delivered_base_mw"])


def test_a_cold_wave_raises_demand_beyond_what_the_exchangers_pass(runner):
    mild = _run(runner, {"kind": "outdoor", "t_c": 0.0})
    cold = _run(runner, {"kind": "outdoor", "t_c": -20.0})
    assert cold.summary["heat_demand_mw"] > 1.3 * mild.summary["heat_demand_mw"]
    assert cold.summary["heat_unmet_mw"] > 0.2 * cold.summary["heat_demand_mw"]
    assert cold.summary["stations_affected"] > 0 and cold.summary["feasible"]
    stations = runner.twin.last_result.stations
    assert stations["t_supply_c"].max() <= float(supply_setpoint_c(-20.0)) + 1e-6
    assert (cold.stations["heat_mw"] <= cold.stations["demand_mw"] + 1e-9).all()


def test_a_leak_is_made_up_by_the_pressure_plant(runner, network):
    pipe = str(network.pipes["id"].iloc[40])
    result = _run(runner, {"kind": "pipe_leak", "element_id": pipe, "rate_t_h": 60, "side": "return"})
    assert result.summary["makeup_t_h"] == pytest.approx(60.0, rel=1e-3)
    assert result.summary["stations_cut_off"] == 0


def test_a_derated_plant_runs_at_its_limit_and_the_pressure_plant_takes_the_rest(runner):
    base = _run(runner)
    derated = _run(runner, {"kind": "source_derate", "element_id": "SRC-2", "share": 0.8})
    limit = 0.8 * runner.max_flow_t_h["SRC-2"]
    assert derated.sources.at["SRC-2", "flow_t_h"] == pytest.approx(min(limit, base.sources.at["SRC-2", "flow_t_h"]),
                                                                    rel=1e-6)
    assert derated.sources.at["SRC-1", "flow_t_h"] > base.sources.at["SRC-1", "flow_t_h"]
    with pytest.raises(ScenarioError, match="holds the network's pressure"):
        _run(runner, {"kind": "source_derate", "element_id": "SRC-1", "share": 0.5})


def test_a_new_station_adds_its_load_to_what_the_plants_produce(runner, network):
    node = str(network.stations["node_id"].iloc[10])
    result = _run(runner, {"kind": "new_station", "element_id": node, "heat_mw": 6.0})
    assert "ST-NEW-1" in result.stations.index
    assert result.stations.at["ST-NEW-1", "heat_base_mw"] == pytest.approx(0.0, abs=2e-3)
    assert result.stations.at["ST-NEW-1", "heat_mw"] == pytest.approx(6.0, rel=1e-6)
    grown = result.summary["heat_produced_mw"] - result.summary["heat_produced_base_mw"]
    assert grown == pytest.approx(6.0, rel=0.05)
    assert result.summary["heat_not_delivered_mw"] == pytest.approx(-6.0, abs=0.01)


def test_a_station_demand_and_fouling_change_only_that_station(runner, network):
    station = str(network.stations["id"].iloc[3])
    result = _run(runner, {"kind": "station_fouling", "element_id": station, "capacity_share": 0.5})
    design = float(network.stations.set_index("id").at[station, "design_heat_mw"])
    assert result.stations.at[station, "heat_mw"] == pytest.approx(0.5 * design, rel=1e-6)
    others = result.stations.drop(index=station)
    assert (others["heat_short_mw"] < 1e-6).all()


def test_the_table_exports_to_csv_and_excel(runner, network, tmp_path):
    result = _run(runner, {"kind": "pipe_break", "element_id": _main_near_source(network)})
    csv = pd.read_csv(result.write_table(tmp_path / "r.csv"), encoding="utf-8-sig", index_col="station_id")
    assert len(csv) == len(network.stations) and csv["affected"].iloc[0]
    book = pd.read_excel(result.write_table(tmp_path / "r.xlsx"), sheet_name=None, index_col=0)
    assert set(book) == {"summary", "stations", "sources", "pipes"}
    assert book["summary"].loc["heat_not_delivered_mw", "value"] == pytest.approx(
        result.summary["heat_not_delivered_mw"])
    assert np.isfinite(book["pipes"]["d_p_supply_bar"].dropna()).all()
