"""A written GeoPackage reads back without errors and with the same network."""

from __future__ import annotations

import pyogrio
from layer_files import read
from test_records import _assert_same_network

from layers.export import write_geopackage
from layers.read import read_network
from layers.records import asset_rows_to_network, network_to_asset_rows


def test_geopackage_round_trip(tmp_path):
    network, report = read(tmp_path, sensors=None)
    assert report.ok
    path = write_geopackage(network, tmp_path / "out.gpkg")
    layers = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    spatial = {"sources", "stations", "nodes", "pipes", "valves", "communities", "streets"}  # no empty ones
    assert layers == spatial | {"design", "heating_curve"}
    assert all(pyogrio.read_info(path, layer=n)["crs"] == "EPSG:4326" for n in spatial)
    again, report = read_network(path)
    assert report.ok and not report.warnings and not report.snaps, report
    _assert_same_network(network, again)


def test_export_of_store_rows_overwrites(tmp_path):
    network, _ = read(tmp_path)
    path = tmp_path / "out.gpkg"
    write_geopackage(network, path)
    write_geopackage(asset_rows_to_network(*network_to_asset_rows(network)), path)
    again, report = read_network(path)
    assert report.ok, report.errors
    assert len(again.pipes) == 3 and len(again.streets) == 1
