"""Network <-> asset rows: the shape the store keeps, and a lossless way back."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from layer_files import read
from pandas.testing import assert_frame_equal
from shapely.geometry import Point, shape

from layers.records import asset_rows_to_network, network_to_asset_rows


@pytest.fixture
def network(tmp_path):
    network, report = read(tmp_path)
    assert report.ok, report.errors
    return network


def test_asset_rows(network):
    assets, basemap = network_to_asset_rows(network)
    assert list(assets.columns) == ["id", "kind", "name", "geometry", "lon", "lat", "attrs"]
    rows = assets.set_index("id")
    assert rows["kind"].value_counts().to_dict() == {
        "node": 4, "pipe": 3, "station": 2, "source": 1, "valve": 1, "sensor": 1, "community": 1}
    assert rows.loc["ST-1", "name"] == "East" and rows.loc["N-1", "name"] == ""
    assert rows.loc["P-3", "attrs"]["from_node"] == "N-2" and rows.loc["P-3", "attrs"]["length_m"] > 100
    assert "id" not in rows.loc["P-3", "attrs"] and "geometry" not in rows.loc["P-3", "attrs"]
    assert rows.loc["V-1", "attrs"]["dn_mm"] is None  # NaN/None become JSON null
    assert json.loads(json.dumps(rows["attrs"].tolist())) == rows["attrs"].tolist()  # plain Python values
    assert type(rows.loc["P-1", "attrs"]["dn_mm"]) is int
    assert rows.loc["P-1", "geometry"]["type"] == "LineString"
    # lon/lat: a line's midpoint, a polygon's inside point
    p3 = network.pipes.set_index("id").geometry["P-3"]
    assert (rows.loc["P-3", "lon"], rows.loc["P-3", "lat"]) == pytest.approx(p3.interpolate(0.5, normalized=True).coords[0])
    assert shape(rows.loc["C-1", "geometry"]).contains(Point(rows.loc["C-1", "lon"], rows.loc["C-1", "lat"]))
    assert basemap.to_dict("records")[0]["kind"] == "arterial" and "Main Rd" in basemap["name"].tolist()
    assert "arterial" not in set(assets["kind"])


def _assert_same_network(a, b):
    for name, frame in a.items():
        other = b.layer(name)
        key = "id" if "id" in frame else "kind"
        left = frame.sort_values(key).reset_index(drop=True)
        right = other.sort_values(key).reset_index(drop=True)[list(left.columns)]
        assert_frame_equal(left.drop(columns="geometry"), right.drop(columns="geometry"), check_dtype=False,
                           obj=name)
        assert left.geometry.geom_equals_exact(right.geometry, tolerance=0).all(), name


def test_round_trip_through_rows(network):
    _assert_same_network(network, asset_rows_to_network(*network_to_asset_rows(network)))


def test_round_trip_through_the_stores_json(network):
    # What get_asset_rows hands back: JSON-decoded dicts, rows ordered by id, and a retired_at column.
    assets, basemap = network_to_asset_rows(network)
    as_json = assets.assign(geometry=[json.loads(json.dumps(g)) for g in assets["geometry"]],
                            attrs=[json.loads(json.dumps(a)) for a in assets["attrs"]],
                            retired_at=pd.NaT).sort_values("id")
    back = asset_rows_to_network(as_json, basemap.assign(geometry=[json.dumps(g) for g in basemap["geometry"]]))
    _assert_same_network(network, back)
    assert back.pipes["length_m"].notna().all() and back.nodes["chamber"].dtype == bool


def test_empty_rows_give_an_empty_network():
    assets, basemap = network_to_asset_rows(asset_rows_to_network(
        pd.DataFrame(columns=["id", "kind", "name", "geometry", "lon", "lat", "attrs"])))
    assert assets.empty and basemap.empty
