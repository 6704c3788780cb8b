"""Reading a network: both file kinds, CRS handling, defaults, id coercion, missing layers/columns."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from layer_files import feature, make_network_dir, make_network_gpkg, point, read, valid_layers
from shapely.geometry import Point

from layers.read import read_network
from layers.schema import LAYERS


def test_folder_and_geopackage_read_the_same(tmp_path):
    from_dir, dir_report = read_network(make_network_dir(tmp_path / "a"))
    from_gpkg, gpkg_report = read_network(make_network_gpkg(tmp_path / "b"))
    assert dir_report.ok and gpkg_report.ok, (dir_report, gpkg_report)
    for name, frame in from_dir.items():
        other = from_gpkg.layer(name)
        assert list(frame["id"] if "id" in frame else frame["kind"]) == list(
            other["id"] if "id" in other else other["kind"]), name
        assert frame.crs == other.crs == "EPSG:4326"
    assert from_dir.pipes["length_m"].round(6).tolist() == from_gpkg.pipes["length_m"].round(6).tolist()


def test_defaults_fill_absent_columns_and_missing_values(tmp_path):
    stations = valid_layers()["stations"]
    stations[0]["properties"]["design_heat_mw"] = 7.5
    network, report = read(tmp_path, stations=stations)  # ST-2 has no design_heat_mw: null in the file
    assert report.ok, report.errors
    st = network.stations.set_index("id")
    assert st.loc["ST-1", "design_heat_mw"] == 7.5 and st.loc["ST-2", "design_heat_mw"] == 3.0
    assert st["install_year"].tolist() == [2010, 2010]
    assert list(network.stations.columns[:3]) == ["id", "name", "node_id"]
    assert network.pipes.set_index("id").loc["P-2", "material"] == "steel"
    assert set(LAYERS["pipes"].optional) <= set(network.pipes.columns)


def test_missing_optional_layers_are_empty(tmp_path):
    network, report = read(tmp_path, valves=None, sensors=None, communities=None, streets=None)
    assert report.ok, report.errors
    assert network.valves.empty and "pipe_id" in network.valves.columns
    assert network.streets.empty


def test_missing_required_layer_and_column(tmp_path):
    pipes = valid_layers()["pipes"]
    for f in pipes:
        del f["properties"]["dn_mm"]
    _, report = read(tmp_path, sources=None, pipes=pipes)
    assert not report.ok
    assert any(e.startswith("sources: required layer is missing; add a layer named 'sources'") for e in report.errors)
    assert "pipes: missing required column 'dn_mm'" in report.errors
    assert not any("P-1" in e for e in report.errors)  # the column is reported once, not per feature


def test_ids_become_strings(tmp_path):
    nodes = valid_layers()["nodes"]
    nodes.append(feature(point(5, 5), id=7))
    network, report = read(tmp_path, nodes=nodes)
    assert network.nodes["id"].map(type).eq(str).all()
    assert any(e.startswith("nodes 7: field id must start with 'N-'") for e in report.errors)


def test_geojson_without_crs_is_wgs84(tmp_path):
    folder = make_network_dir(tmp_path)
    text = (folder / "nodes.geojson").read_text()
    assert '"crs"' not in text
    network, report = read_network(folder)
    assert report.ok and network.nodes.crs == "EPSG:4326"


def test_projected_layer_is_reprojected(tmp_path):
    folder = make_network_dir(tmp_path)
    for name in ("nodes", "pipes"):
        gpd.read_file(folder / f"{name}.geojson").to_crs(32650).to_file(folder / f"{name}.geojson", driver="GeoJSON")
    assert "32650" in json.dumps(json.loads((folder / "pipes.geojson").read_text())["crs"])
    network, report = read_network(folder)
    assert report.ok, report.errors
    assert network.pipes.crs == "EPSG:4326"
    assert network.nodes.geometry.iloc[0].distance(Point(116.40, 39.90)) < 1e-7


def test_projected_coordinates_claimed_as_lonlat_are_refused(tmp_path):
    folder = make_network_dir(tmp_path)
    frame = gpd.read_file(folder / "nodes.geojson").to_crs(32650)
    frame = frame.set_crs(4326, allow_override=True)
    frame.to_file(folder / "nodes.geojson", driver="GeoJSON")
    _, report = read_network(folder)
    assert not report.ok
    assert any(e.startswith("nodes: coordinates outside lon/lat bounds") for e in report.errors)


def test_geopackage_layer_without_crs_is_refused(tmp_path):
    with pytest.warns(UserWarning, match="crs"):
        path = make_network_gpkg(tmp_path, no_crs=("stations",))
    _, report = read_network(path)
    assert not report.ok
    assert any(e.startswith("stations: unknown CRS") for e in report.errors)


def test_unknown_files_and_paths(tmp_path):
    folder = make_network_dir(tmp_path)
    (folder / "trees.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    _, report = read_network(folder)
    assert report.ok and any("'trees' ignored, it is not a network layer" in w for w in report.warnings)
    _, report = read_network(tmp_path / "nowhere.gpkg")
    assert not report.ok and "no such file or folder" in report.errors[0]


def test_supplied_length_is_ignored(tmp_path):
    pipes = valid_layers()["pipes"]
    pipes[0]["properties"].update(length_m=1.0, from_node="N-4")
    network, report = read(tmp_path, pipes=pipes)
    assert report.ok
    p1 = network.pipes.set_index("id").loc["P-1"]
    assert p1["from_node"] == "N-1" and 80 < p1["length_m"] < 90


def test_one_part_multilines_are_lines_and_empty_layers_lack_nothing(tmp_path):
    pipes = valid_layers()["pipes"]
    pipes[0]["geometry"] = {"type": "MultiLineString", "coordinates": [pipes[0]["geometry"]["coordinates"]]}
    network, report = read(tmp_path, pipes=pipes, valves=[], sensors=[])
    assert report.ok, report.errors
    assert set(network.pipes.geom_type) == {"LineString"} and network.valves.empty


def test_structural_errors_skip_topology(tmp_path):
    _, report = read(tmp_path, nodes=None)
    assert len(report.errors) == 1 and report.errors[0].startswith("nodes: required layer is missing; add a layer named 'nodes'")
    assert "topology and references not checked" in report.warnings[-1]
