"""A utility's GIS as it is: each shape the example mappings cover imports with its mapping, and the
twin solves it at its own design point; each new check names layer, feature and rule."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from foreign_networks import MAPPINGS, chinese_gpkg, csv_pair, german_geojson

from layers.design import DEFAULT_DESIGN
from layers.export import write_geopackage
from layers.mapping import load_mapping
from layers.read import read_network
from twin.scenarios import Base, Scenario, ScenarioRunner

SHAPES = {"german_supply_return": german_geojson, "nodes_pipes_csv": csv_pair, "chinese_gpkg": chinese_gpkg}


def _read(tmp_path, shape: str, **build):
    path = SHAPES[shape](tmp_path / shape, **build)
    return read_network(path, mapping=MAPPINGS / f"{shape}.yaml")


def _design_point(network):
    runner = ScenarioRunner(network)
    # Noon: occupancy under 1, so a station at its design outdoor temperature asks its design load or less.
    base = Base(outdoor_c=network.design.design_outdoor_c, hour=12.0)
    return runner, runner.run(Scenario("design point", base))


@pytest.mark.parametrize("shape", list(SHAPES))
def test_foreign_network_imports_and_solves_at_its_own_design_point(tmp_path, shape):
    network, report = _read(tmp_path, shape)
    assert report.ok, report.errors
    assert network.pipes["id"].str.startswith("P-").all() and network.pipes["source_id"].notna().all()
    assert network.stations["id"].str.startswith("ST-").all()
    runner, result = _design_point(network)
    summary = result.summary
    assert summary["converged"] and summary["feasible"], summary
    assert summary["stations_unmet"] == 0 and summary["stations_low_t"] == 0 and summary["stations_low_dp"] == 0
    supply_c = float(network.design.supply_c(network.design.design_outdoor_c))
    solved, _ = runner.solve(runner.base_boundary(Base(outdoor_c=network.design.design_outdoor_c, hour=12.0)))
    assert solved.sources["t_supply_c"].to_numpy() == pytest.approx(supply_c, abs=0.01)
    pipes = solved.pipes
    flowing = pipes["flow_t_h"].abs() > 1e-3
    assert flowing.all(), pipes[~flowing]
    assert (pipes["t_supply_out_c"] < pipes["t_supply_in_c"]).all()   # heat is lost along every pipe
    assert (solved.stations["t_supply_c"] < supply_c).all()


def test_the_networks_own_design_decides_unmet_stations(tmp_path):
    network, report = _read(tmp_path, "german_supply_return")
    assert report.ok
    weifang = replace(network, design=DEFAULT_DESIGN)   # −7 °C design: at −14 °C demand is 126 % of design
    runner = ScenarioRunner(weifang)
    cold = runner.run(Scenario("−14 °C on Weifang's curve", Base(outdoor_c=-14.0, hour=12.0)))
    assert cold.summary["stations_unmet"] == len(network.stations)


def test_german_mapping_pairs_sides_extracts_dn_and_turns_stubs_into_stations(tmp_path):
    network, report = _read(tmp_path, "german_supply_return")
    pipes = network.pipes.set_index("id")
    assert {"P-V1-1", "P-V1-2"} <= set(pipes.index)   # V1 split where HA1's stub meets it
    assert pipes.loc["P-V1-1", "dn_mm"] == 100 and pipes.loc["P-V1-1", "return_source_id"] == "R1"
    assert pipes.loc["P-HA3", "dn_mm"] == 40 and "dn_mm" in pipes.loc["P-HA3", "assumed"]  # sized from 120 kW
    assert len(pipes) == 6 + 5   # three mains split once each, five stubs; no return line left over
    st = network.stations.set_index("id")
    assert st.loc["ST-HA3", "design_heat_mw"] == pytest.approx(0.120)
    assert st.loc["ST-HA3", "node_id"] == pipes.loc["P-HA3", "to_node"]   # at the building end
    assert st.loc["ST-HA3", "t_return_c"] == 55.0 and "t_return_c" in st.loc["ST-HA3", "assumed"]
    assert network.design.design_supply_c == 85.0 and network.source_crs == "EPSG:25833"


def test_csv_pair_keeps_the_tables_lengths_and_places_consumers_on_their_nodes(tmp_path):
    network, report = _read(tmp_path, "nodes_pipes_csv")
    assert report.ok, report.errors
    pipes = network.pipes.set_index("id")
    assert pipes.loc["P-1", "length_m"] == pytest.approx(230.0) and not pipes.loc["P-1", "drawn"]
    st = network.stations.set_index("id")
    assert st.loc["ST-12", "node_id"] == "N-5" and st.loc["ST-12", "t_return_c"] == 60.0
    assert "t_return_c" in st.loc["ST-12", "assumed"] and "t_return_c" not in (st.loc["ST-11", "assumed"] or "")
    node5 = network.nodes.set_index("id").geometry["N-5"]
    assert st.geometry["ST-12"].distance(node5) < 1e-9


# -- the new checks -------------------------------------------------------------------------------

def test_supply_and_return_merged_into_one_layer_are_parallel_duplicates(tmp_path):
    path = german_geojson(tmp_path / "merged", merged_sides=True)
    mapping = load_mapping(MAPPINGS / "german_supply_return.yaml")
    mapping = replace(mapping, layers=tuple(r for r in mapping.layers if r.source != "Ruecklauf"))
    mapping = replace(mapping, layers=tuple(replace(r, side="both") if r.source == "Vorlauf" else r
                                            for r in mapping.layers),
                      topology=replace(mapping.topology, snap_tolerance_m=1.0))
    _, report = read_network(path, mapping=mapping)
    hits = [e for e in report.errors if "parallel duplicates" in e]
    assert hits and any("P-V2" in e and "P-R2" in e and "one pipe per trench" in e for e in hits), report.errors


def test_dn_given_as_text_is_refused(tmp_path):
    from layer_files import read, valid_layers

    pipes = valid_layers()["pipes"]
    for f in pipes:
        f["properties"]["dn_mm"] = str(float(f["properties"]["dn_mm"]) + 0.1)
    _, report = read(tmp_path, pipes=pipes)
    assert any(e.startswith("pipes field dn_mm: text, not a number ('300.1'") and "P-1" in e
               for e in report.errors), report.errors


def test_local_metres_without_crs_inside_lonlat_bounds_are_refused(tmp_path):
    from layer_files import make_network_dir

    folder = make_network_dir(tmp_path)
    for name in ("nodes", "pipes", "stations", "sources", "valves", "sensors", "communities", "streets"):
        frame = gpd.read_file(folder / f"{name}.geojson")
        # Local metres 0…170 m x 0…80 m: inside lon/lat bounds, but 170° wide.
        frame["geometry"] = frame.geometry.translate(-116.40, -39.90).scale(50_000, 50_000, origin=(0, 0))
        frame.set_crs(None, allow_override=True).to_file(folder / f"{name}.geojson", driver="GeoJSON")
    _, report = read_network(folder)
    assert any(e.startswith("pipes: no CRS, and its extent") and "not plausibly lon/lat" in e
               for e in report.errors), report.errors


def test_supplied_length_far_from_the_drawing_is_a_warning_with_both_values(tmp_path):
    network, report = _read(tmp_path, "german_supply_return", laenge_v1=600.0)
    assert report.ok
    warning = next(w for w in report.warnings if w.startswith("pipes P-V1 field length_m"))
    assert "600.0 m" in warning and "120.0 m" in warning and "length_tolerance" in warning


def test_a_missing_mapped_field_is_one_error_not_one_per_feature(tmp_path):
    mapping = load_mapping(MAPPINGS / "chinese_gpkg.yaml")
    rule = mapping.rules("pipes")[0]
    wrong = replace(rule, fields={**rule.fields, "dn_mm": replace(rule.fields["dn_mm"], field="口径")})
    mapping = replace(mapping, layers=tuple(wrong if r is rule else r for r in mapping.layers))
    _, report = read_network(chinese_gpkg(tmp_path), mapping=mapping)
    assert [e for e in report.errors if "口径" in e] == [e for e in report.errors if "dn_mm" in e]
    assert len([e for e in report.errors if "口径" in e]) == 1 and "管线" in report.errors[0]


def test_a_supply_line_without_return_partner_is_reported(tmp_path):
    folder = german_geojson(tmp_path / "de")
    ret = gpd.read_file(folder / "Ruecklauf.geojson")
    ret[ret["ID"] != "R3"].to_file(folder / "Ruecklauf.geojson", driver="GeoJSON")
    _, report = read_network(folder, mapping=MAPPINGS / "german_supply_return.yaml")
    assert any(w.startswith("pipes: 1 supply lines have no return line within 3 m") and "P-V3" in w
               for w in report.warnings), report.warnings


# -- export and back ------------------------------------------------------------------------------

@pytest.mark.parametrize(("shape", "crs"), [("german_supply_return", "EPSG:25833"), ("chinese_gpkg", "EPSG:4547")])
def test_round_trip_in_the_files_crs(tmp_path, shape, crs):
    network, report = _read(tmp_path, shape)
    assert report.ok
    path = write_geopackage(network, tmp_path / "out.gpkg")
    assert gpd.read_file(path, layer="pipes").crs == crs
    again, report = read_network(path)
    assert report.ok, report.errors
    assert again.source_crs == crs and again.design == network.design
    for name in ("sources", "stations", "nodes", "pipes"):
        a = network.layer(name).set_index("id").sort_index()
        b = again.layer(name).set_index("id").sort_index()
        assert list(a.index) == list(b.index), name
        moved = a.geometry.to_crs(crs).hausdorff_distance(b.geometry.to_crs(crs), align=False)
        assert (moved < 1e-3).all(), (name, moved.max())
        columns = [c for c in a.columns if c != "geometry" and c != "length_m"]
        left, right = a[columns].astype(object), b[columns].astype(object)
        for column in columns:
            equal = [(pd.isna(x) and pd.isna(y)) or (not pd.isna(x) and not pd.isna(y) and x == y) or
                     (isinstance(x, float | int) and isinstance(y, float | int) and np.isclose(x, y))
                     for x, y in zip(left[column], right[column], strict=True)]
            assert all(equal), (name, column, list(left[column]), list(right[column]))
    # Assumed values are written empty, not as the utility's data.
    stations = gpd.read_file(path, layer="stations")
    assert stations["install_year"].isna().all() and stations["assumed"].str.contains("install_year").all()
