"""Isolation analysis: valves to close, the dry region, and who is cut off.

Known answers on hand-built networks, a brute-force networkx reference on random grids, and a check
on the demo city against an independent connectivity computation.
"""

from __future__ import annotations

import json

import isolation_networks as nets  # tests/twin/isolation_networks.py
import numpy as np
import pytest
from isolation_reference import Reference  # tests/twin/isolation_reference.py

from layers.read import read_network
from twin.isolation import IsolationGraph, isolate

# -- known answers ---------------------------------------------------------------------------------


def test_branch_pipe_closes_its_two_valves_and_cuts_off_the_stations_behind_it():
    result = isolate(nets.tree(), "P-4")
    assert result.valves_to_close == ["V-4a", "V-4b"]
    assert result.isolated_pipes == ["P-4"] and result.isolated_nodes == []
    assert result.dry_pipes == ["P-4", "P-5", "P-6"]
    assert result.dry_nodes == ["N-4", "N-5", "N-6"]
    assert result.stations_cut_off == ["ST-B", "ST-C"]
    assert result.communities_cut_off == ["C-B1", "C-C1"]
    assert result.households_cut_off == 600
    assert result.heated_area_cut_off_m2 == pytest.approx(60_000.0)
    assert result.heat_cut_off_mw == pytest.approx(6.0)
    assert result.sources_lost == [] and result.inoperable_skipped == []


def test_leaf_pipe_with_one_valve_takes_its_end_node_and_station():
    result = isolate(nets.tree(), "P-3")
    assert result.valves_to_close == ["V-3"]
    assert result.isolated_nodes == ["N-3"]
    assert result.stations_cut_off == ["ST-A"]
    assert result.households_cut_off == 150  # both of ST-A's communities


def test_pipe_without_valve_at_one_end_grows_to_the_next_valves():
    result = isolate(nets.tree(), "P-2")
    assert result.valves_to_close == ["V-2", "V-3"]
    assert result.isolated_nodes == ["N-2"]
    assert result.dry_pipes == ["P-2", "P-3"]
    assert result.stations_cut_off == ["ST-A"]


def test_pipe_on_a_loop_cuts_off_no_station_fed_around_the_loop():
    result = isolate(nets.ring(), "P-3")
    assert result.valves_to_close == ["V-3a", "V-3b"]
    assert result.dry_pipes == ["P-3"] and result.dry_nodes == []
    assert result.stations_cut_off == [] and result.households_cut_off == 0
    assert result.heat_cut_off_mw == 0.0


def test_inoperable_valve_is_skipped_and_the_next_valve_closed():
    result = isolate(nets.ring({"V-3b": {"operable": False}}), "P-3")
    assert result.inoperable_skipped == ["V-3b"]
    assert "V-3b" not in result.valves_to_close
    assert result.valves_to_close == ["V-3a", "V-4a"]
    assert result.isolated_nodes == ["N-3"]
    assert result.stations_cut_off == ["ST-3"]


def test_inoperable_set_passed_by_the_caller_overrides_the_layer():
    graph = IsolationGraph(nets.ring())
    assert graph.isolate("P-3", inoperable={"V-3a"}).valves_to_close == ["V-2b", "V-3b"]
    assert graph.isolate("P-3", inoperable={"V-3a"}).inoperable_skipped == ["V-3a"]
    assert graph.isolate("P-3").valves_to_close == ["V-3a", "V-3b"]


def test_pipe_with_no_valve_towards_the_source_takes_the_source_off():
    result = isolate(nets.two_sources(), "P-1")
    assert result.sources_lost == ["SRC-1"]
    assert result.valves_to_close == ["V-2"]
    assert result.isolated_nodes == ["N-0", "N-1"]
    assert result.stations_cut_off == ["ST-1"]  # ST-3 is still fed by SRC-2


def test_isolating_a_node_closes_every_valve_around_it():
    result = isolate(nets.tree(), "N-4")
    assert result.valves_to_close == ["V-4b", "V-5", "V-6"]
    assert result.isolated_nodes == ["N-4"] and result.isolated_pipes == []
    assert result.dry_pipes == ["P-5", "P-6"]  # P-4 stays connected to N-1
    assert result.stations_cut_off == ["ST-B", "ST-C"]


def test_normally_closed_tie_valve_holds_and_does_not_feed_around():
    network = nets.ring(tie_closed=True)
    node = isolate(network, "N-3")
    assert node.valves_to_close == ["V-3b"] and node.already_closed == ["V-4a"]
    pipe = isolate(network, "P-2")
    assert pipe.valves_to_close == ["V-2a", "V-2b"]
    assert pipe.stations_cut_off == ["ST-2", "ST-3"]  # the open tie no longer closes the ring; ST-4 via P-5


def test_part_already_cut_off_is_not_counted_again():
    # The caller has closed the tie and P-3 at N-2, so ST-3 is dry already; isolating P-2 then cuts
    # off ST-2 only.
    graph = IsolationGraph(nets.ring(tie_closed=True))
    result = graph.isolate("P-2", closed={"V-4a", "V-3a"})
    assert result.stations_cut_off == ["ST-2"]


@pytest.mark.parametrize(("network", "targets"), [
    (nets.tree(), ["P-1", "P-2", "P-3", "P-4", "P-5", "N-1", "N-4"]),
    (nets.ring({"V-3b": {"operable": False}}), ["P-2", "P-3", "P-4", "N-3"]),
    (nets.two_sources(), ["P-1", "P-3", "N-2"]),
])
def test_valve_set_seals_the_region_and_every_valve_is_needed(network, targets):
    graph, reference = IsolationGraph(network), Reference(network)
    for target in targets:
        reference.assert_minimal_and_sealing(target, graph.isolate(target))


def test_unknown_element_names_what_to_pass():
    with pytest.raises(KeyError, match="isolate its node or its branch pipe"):
        isolate(nets.tree(), "ST-A")


def test_valve_off_its_pipe_is_reported_and_left_out():
    network = nets.tree()
    network.valves.loc[network.valves["id"] == "V-3", "node_id"] = "N-5"
    graph = IsolationGraph(network)
    assert any(p.startswith("valves V-3:") for p in graph.problems)
    # Without V-3, P-3 joins N-2 and P-2 up to V-2.
    result = graph.isolate("P-3")
    assert result.valves_to_close == ["V-2"]
    assert result.isolated_pipes == ["P-2", "P-3"]


def test_unvalidated_network_is_refused():
    network = nets.tree()
    network.pipes = network.pipes.drop(columns=["from_node"])
    with pytest.raises(ValueError, match="read_network"):
        IsolationGraph(network)


def test_result_is_json_ready():
    data = json.loads(json.dumps(isolate(nets.tree(), "P-4").to_dict()))
    assert data["counts"]["stations_cut_off"] == 2 and data["households_cut_off"] == 600


def test_sweep_matches_one_isolation_per_pipe():
    network = nets.tree()
    graph = IsolationGraph(network)
    table = graph.sweep()
    assert list(table["element_id"]) == list(network.pipes["id"])
    for row in table.itertuples():
        one = graph.isolate(row.element_id)
        assert row.valves_to_close == one.valves_to_close
        assert row.n_stations_cut_off == len(one.stations_cut_off)
        assert row.households_cut_off == one.households_cut_off


# -- random grids against the reference -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_random_grid_matches_networkx_reference(seed):
    network = nets.random_grid(np.random.default_rng(seed))
    graph, reference = IsolationGraph(network), Reference(network)
    targets = list(network.pipes["id"]) + list(network.nodes["id"][::5])
    for target in targets:
        got = graph.isolate(target)
        want = reference.isolate(target)
        assert {k: getattr(got, k) for k in want} == want, target
        reference.assert_minimal_and_sealing(target, got)


@pytest.mark.parametrize("seed", range(20))
def test_random_grid_sweep_agrees_with_isolate(seed):
    network = nets.random_grid(np.random.default_rng(seed))
    graph = IsolationGraph(network)
    targets = list(network.pipes["id"]) + list(network.nodes["id"])
    table = graph.sweep(targets)
    for row in table.itertuples():
        one = graph.isolate(row.element_id)
        assert row.valves_to_close == one.valves_to_close, row.element_id
        assert (row.n_inoperable_skipped, row.n_sources_lost, row.n_dry_pipes, row.n_stations_cut_off,
                row.households_cut_off) == (len(one.inoperable_skipped), len(one.sources_lost),
                                            len(one.dry_pipes), len(one.stations_cut_off),
                                            one.households_cut_off), row.element_id
        assert row.heated_area_cut_off_m2 == pytest.approx(one.heated_area_cut_off_m2)
        assert row.heat_cut_off_mw == pytest.approx(one.heat_cut_off_mw)


def test_network_without_valves_goes_dry_as_a_whole():
    network = nets.tree()
    network.valves = network.valves.iloc[0:0]
    result = isolate(network, "P-4")
    assert result.valves_to_close == []
    assert result.sources_lost == ["SRC-1"]
    assert len(result.isolated_pipes) == 6 and result.stations_cut_off == ["ST-A", "ST-B", "ST-C"]
    assert IsolationGraph(network).sweep()["n_stations_cut_off"].tolist() == [3] * 6


# -- the demo city and the command ------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_network(demo_city_dir):
    network, report = read_network(demo_city_dir / "network.gpkg")
    assert report.ok, report.errors
    return network


def _main_pipe_at_first_source(network) -> str:
    node = network.sources.set_index("id").loc["SRC-1", "node_id"]
    pipes = network.pipes[(network.pipes["from_node"] == node) | (network.pipes["to_node"] == node)]
    return str(pipes.sort_values("dn_mm", ascending=False)["id"].iloc[0])


def test_demo_city_main_pipe_cuts_off_only_stations_without_another_path(demo_network):
    target = _main_pipe_at_first_source(demo_network)
    result = IsolationGraph(demo_network).isolate(target)
    reference = Reference(demo_network)
    want = reference.isolate(target)
    assert {k: getattr(result, k) for k in want} == want
    reference.assert_minimal_and_sealing(target, result)
    # Every station left out still reaches a source once the region is gone; every one listed does not.
    region = set(result.isolated_pipes) | set(result.isolated_nodes)
    fed = reference.fed(reference.closed_now | {frozenset(e) for e in reference.valves_on
                                                  if any(v.id in result.valves_to_close
                                                         for v in reference.valves_on[e])}, region)
    station_node = dict(zip(demo_network.stations["id"], demo_network.stations["node_id"], strict=True))
    assert all(station_node[s] not in fed for s in result.stations_cut_off)
    supplied_before = {s for s, n in station_node.items() if n in reference.fed_before}
    assert all(station_node[s] in fed for s in supplied_before - set(result.stations_cut_off))


def test_demo_city_sweep_agrees_with_isolate(demo_network):
    graph = IsolationGraph(demo_network)
    table = graph.sweep()
    assert len(table) == len(demo_network.pipes)
    for row in table.sample(60, random_state=0).itertuples():
        one = graph.isolate(row.element_id)
        assert (row.valves_to_close, row.n_stations_cut_off, row.households_cut_off) == (
            one.valves_to_close, len(one.stations_cut_off), one.households_cut_off)


def _cli(argv: list[str]) -> int:
    import argparse

    from scripts import cmd_isolate

    parser = argparse.ArgumentParser(prog="heattwin")
    cmd_isolate.register(parser.add_subparsers())
    args = parser.parse_args(["isolate", *argv])
    return args.func(args)


def test_network_read_back_from_a_geopackage_isolates_the_same(tmp_path):
    from layers.export import write_geopackage

    network = nets.ring({"V-3b": {"operable": False}}, tie_closed=True)
    read_back, report = read_network(write_geopackage(network, tmp_path / "ring.gpkg"))
    assert report.ok, report.errors
    for target in ("P-2", "P-3", "N-3"):
        assert isolate(read_back, target) == isolate(network, target)


def test_isolate_command_reads_the_store(pool, db_url, capsys, monkeypatch):
    from layers.records import network_to_asset_rows
    from store.assets import replace_network

    network = nets.ring({"V-3b": {"operable": False}}, tie_closed=True)
    replace_network(pool, *network_to_asset_rows(network), "test ring")
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert _cli(["P-3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["valves_to_close"] == ["V-3a"] and printed["inoperable_skipped"] == ["V-3b"]
    assert printed["already_closed"] == ["V-4a"] and printed["stations_cut_off"] == ["ST-3"]
    assert printed["counts"]["dry_pipes"] == 1 and printed["households_cut_off"] == 300
    assert _cli(["P-3", "--json", "--inoperable", "V-3a"]) == 0
    assert json.loads(capsys.readouterr().out)["valves_to_close"] == ["V-2b"]
    assert _cli(["ST-3"]) == 2
    assert "neither a pipe id" in capsys.readouterr().out


def test_isolate_command_reads_a_network_file(tmp_path, capsys):
    from layers.export import write_geopackage

    path = write_geopackage(nets.tree(), tmp_path / "tree.gpkg")
    assert _cli(["P-4", "--network", str(path)]) == 0
    out = capsys.readouterr().out
    assert "valves to close (2): V-4a, V-4b" in out
    assert "stations cut off (2): ST-B, ST-C" in out
    assert "households cut off: 600" in out
    assert "heated area cut off: 60,000 m²" in out


def test_isolate_report_names_valves_sources_and_households():
    from scripts.cmd_isolate import _text

    text = _text(isolate(nets.two_sources(), "P-1"), ["valves V-9: node_id is not an end of pipe_id; left out"])
    assert "valves to close (1): V-2" in text
    assert "SOURCES TAKEN OFF" in text and "SRC-1" in text
    assert "stations cut off (1): ST-1" in text
    assert "households cut off: 40" in text
    assert "warning: valves V-9" in text
