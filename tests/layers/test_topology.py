"""Snapping helpers, projected lengths against geodesic ones, UTM zones and the node graph."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from layer_files import read
from shapely.geometry import LineString

from layers import topology


@pytest.mark.parametrize(("lon", "lat", "epsg"), [
    (116.4, 39.9, 32650),   # Beijing
    (126.6, 45.8, 32652),   # Harbin
    (151.2, -33.9, 32756),  # Sydney
    (-0.1, 51.5, 32630),    # London, west of Greenwich
    (-180.0, 10.0, 32601),
    (179.99, -10.0, 32760),
])
def test_utm_zone(lon, lat, epsg):
    assert topology.utm_crs(lon, lat).to_epsg() == epsg


def test_metric_crs_prefers_the_files_projected_crs():
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy([116.4], [39.9]), crs=4326)
    assert topology.metric_crs([frame], "EPSG:4547").to_epsg() == 4547
    assert topology.metric_crs([frame], "EPSG:4326").to_epsg() == 32650
    assert topology.metric_crs([frame]).to_epsg() == 32650


def test_lengths_within_one_percent_of_geodesic():
    # A few-km bent line near Harbin, far from the UTM central meridian's scale factor of 1.
    coords = [(126.50, 45.70), (126.53, 45.72), (126.55, 45.71), (126.58, 45.74)]
    pipes = gpd.GeoDataFrame({"id": ["P-1"]}, geometry=[LineString(coords)], crs=4326)
    geodesic = pyproj.Geod(ellps="WGS84").geometry_length(LineString(coords))
    measured = topology.lengths_m(pipes, topology.metric_crs([pipes])).iloc[0]
    assert geodesic > 5000
    assert measured == pytest.approx(geodesic, rel=0.01)


def test_replace_ends_moves_only_first_and_last_coordinates():
    lines = np.array([LineString([(0, 0), (1, 1), (2, 2)]), LineString([(5, 5), (6, 6)])])
    start = np.array([[-1.0, -1.0], [np.nan, np.nan]])
    end = np.array([[np.nan, np.nan], [7.0, 7.0]])
    out = topology.replace_ends(lines, start, end)
    assert list(out[0].coords) == [(-1, -1), (1, 1), (2, 2)]
    assert list(out[1].coords) == [(5, 5), (7, 7)]


def test_graph_components_and_degree(tmp_path):
    network, report = read(tmp_path)
    assert report.ok
    adjacency, ids = topology.graph(network)
    assert list(ids) == ["N-1", "N-2", "N-3", "N-4"]
    assert adjacency.shape == (4, 4) and adjacency.nnz == 6 and (adjacency != adjacency.T).nnz == 0
    assert topology.components(network).nunique() == 1
    assert topology.node_degree(network).to_dict() == {"N-1": 1, "N-2": 3, "N-3": 1, "N-4": 1}
    pipes = network.pipes.set_index("id")
    assert pipes[["from_node", "to_node"]].to_dict("index") == {
        "P-1": {"from_node": "N-1", "to_node": "N-2"}, "P-2": {"from_node": "N-2", "to_node": "N-3"},
        "P-3": {"from_node": "N-2", "to_node": "N-4"}}
