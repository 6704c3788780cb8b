"""Readers: shapefiles (folder or zip), CSV with WKT, DXF layers — all through pyogrio/GDAL — and a
foreign schema told once what is wrong, not once per feature."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
from foreign_networks import BERLIN, MAPPINGS, german_geojson
from layer_files import make_network_dir, read, valid_layers
from shapely.geometry import LineString, Point

from layers.mapping import parse_mapping
from layers.read import read_network
from layers.sources import list_layers


def _as_shapefiles(geojson_dir, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    for file in sorted(geojson_dir.glob("*.geojson")):
        frame = gpd.read_file(file)
        if frame.geometry.notna().any():
            frame.to_file(out_dir / f"{file.stem}.shp")
    return out_dir


def _same(a, b):
    for name in ("pipes", "stations", "nodes", "sources"):
        left, right = a.layer(name).set_index("id").sort_index(), b.layer(name).set_index("id").sort_index()
        assert list(left.index) == list(right.index), name
        assert (left.geometry.distance(right.geometry) < 1e-9).all(), name


def test_a_folder_of_our_shapefiles_imports_without_a_mapping(tmp_path):
    folder = _as_shapefiles(make_network_dir(tmp_path), tmp_path / "shp")
    assert (folder / "pipes.shp").exists()
    network, report = read_network(folder)
    assert report.ok, report.errors
    assert sorted(network.pipes["id"]) == ["P-1", "P-2", "P-3"]


def test_shapefiles_in_a_folder_and_a_zip_read_like_the_geojson(tmp_path):
    mapping = MAPPINGS / "german_supply_return.yaml"
    geojson = german_geojson(tmp_path / "geojson")
    from_geojson, report = read_network(geojson, mapping=mapping)
    assert report.ok, report.errors
    folder = _as_shapefiles(geojson, tmp_path / "shp")
    from_folder, report = read_network(folder, mapping=mapping)
    assert report.ok, report.errors
    archive = tmp_path / "netz.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for file in folder.iterdir():
            z.write(file, file.name)
    from_zip, report = read_network(archive, mapping=mapping)
    assert report.ok, report.errors
    _same(from_geojson, from_folder)
    _same(from_geojson, from_zip)
    assert from_zip.source_crs == "EPSG:25833"


def test_csv_with_wkt_geometry(tmp_path):
    folder = make_network_dir(tmp_path)
    pipes = gpd.read_file(folder / "pipes.geojson")
    (folder / "pipes.geojson").unlink()
    pd.DataFrame({"id": pipes["id"], "dn_mm": pipes["dn_mm"], "wkt": pipes.geometry.to_wkt()}).to_csv(
        folder / "pipes.csv", index=False)
    network, report = read_network(folder)
    assert report.ok, report.errors
    assert network.pipes.set_index("id").loc["P-1", "dn_mm"] == 300 and network.pipes["length_m"].gt(80).all()


def test_dxf_layers_are_layers(tmp_path):
    o = BERLIN
    def at(x, y):
        return (o[0] + x, o[1] + y)
    drawing = gpd.GeoDataFrame(
        {"Layer": ["FW_VL", "FW_VL", "FW_RL", "FW_RL", "HAST", "HAST", "HW"]},
        geometry=[LineString([at(0, 0), at(100, 0)]), LineString([at(100, 0), at(200, 0)]),
                  LineString([at(0, 1), at(100, 1)]), LineString([at(100, 1), at(200, 1)]),
                  Point(at(100, 2)), Point(at(200, 2)), Point(at(0, 0))], crs=None)
    path = tmp_path / "netz.dxf"
    drawing.to_file(path, driver="DXF")
    layers, _ = list_layers(path)
    assert set(layers) == {"FW_VL", "FW_RL", "HAST", "HW"}
    mapping = parse_mapping({
        "crs": "EPSG:25833", "topology": {"nodes": "line_ends", "pair_tolerance_m": 2.0},
        "layers": {"pipes": [{"source": "FW_VL", "side": "supply", "constants": {"dn_mm": 80}},
                             {"source": "FW_RL", "side": "return", "constants": {"dn_mm": 80}}],
                   "stations": {"source": "HAST", "constants": {"design_heat_mw": 0.2}},
                   "sources": {"source": "HW", "constants": {"role": "pressure"}}}}, "dxf mapping")
    network, report = read_network(path, mapping=mapping)
    assert report.ok, report.errors
    assert len(network.pipes) == 2 and len(network.stations) == 2 and len(network.nodes) == 3
    assert network.pipes["assumed"].str.contains("dn_mm").all()   # a constant, marked assumed
    assert set(network.stations["node_id"]) == set(network.pipes["to_node"])


def test_a_foreign_schema_is_told_once_per_rule(tmp_path):
    layers = valid_layers()
    pipes = [{**layers["pipes"][0], "properties": {"Nummer": 100 + i, "DN": 100}} for i in range(43)]
    _, report = read(tmp_path, pipes=pipes)
    about_pipes = [e for e in report.errors if e.startswith("pipes")]
    assert about_pipes == ["pipes: missing required column 'id'", "pipes: missing required column 'dn_mm'"]
    numbered = [{**f, "properties": {**f["properties"], "id": 7 + i}} for i, f in enumerate(layers["pipes"] * 15)]
    _, report = read(tmp_path / "b", pipes=numbered)
    prefix = [e for e in report.errors if "'P-'" in e]
    assert len(prefix) == 1 and prefix[0].startswith("pipes: 45 ids do not start with 'P-'")
