"""Where the wall's map opens: on the network, whatever city it is in; never on a made-up place."""

from __future__ import annotations

import pandas as pd

from app.components.map import WORLD_BOUNDS, _bounds, wall_map
from app.components.wall_data import Geometry
from layers.style import feature_collections


def _geometry(assets: list[tuple], streets: list[list] = ()) -> Geometry:
    rows = pd.DataFrame([{"id": i, "kind": k, "name": "", "lon": lon, "lat": lat, "attrs": {},
                          "geometry": {"type": "Point", "coordinates": [lon, lat]}} for i, k, lon, lat in assets],
                        columns=["id", "kind", "name", "lon", "lat", "attrs", "geometry"])
    basemap = pd.DataFrame([{"kind": "street", "name": "", "geometry": {"type": "LineString", "coordinates": c}}
                            for c in streets], columns=["kind", "name", "geometry"])
    collections, order = feature_collections(rows, basemap)
    return Geometry(("x", 1), collections, order, rows.drop(columns=["geometry"]).set_index("id"),
                    pd.DataFrame(columns=["sensor_id", "element_id", "kind", "unit"]), pd.Series(dtype=bool))


def test_the_map_opens_on_the_networks_own_bounds_anywhere():
    harbin = _geometry([("SRC-1", "source", 126.60, 45.70), ("ST-1", "station", 126.70, 45.80),
                        ("C-1", "community", 127.50, 46.50)])
    assert _bounds(harbin) == [[45.70, 126.60], [45.80, 126.70]]   # plants, stations and pipes frame it
    view = wall_map(harbin, tile_url=None, attribution="", focus=None)
    assert view.bounds == [[45.70, 126.60], [45.80, 126.70]] and view.center == [45.75, 126.65]


def test_without_plants_stations_or_pipes_the_other_elements_then_the_basemap_frame_it():
    assert _bounds(_geometry([("V-1", "valve", 8.50, 47.30), ("N-1", "node", 8.60, 47.40)])) == \
        [[47.30, 8.50], [47.40, 8.60]]
    streets = _geometry([], streets=[[[-3.70, 40.40], [-3.60, 40.45]]])
    assert _bounds(streets) == [[40.40, -3.70], [40.45, -3.60]]


def test_an_empty_network_opens_on_the_world_not_on_a_city_it_is_not_in():
    empty = _geometry([])
    assert _bounds(empty) == WORLD_BOUNDS
    view = wall_map(empty, tile_url=None, attribution="", focus=None)
    assert view.bounds == WORLD_BOUNDS
