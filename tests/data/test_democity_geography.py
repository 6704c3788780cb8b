"""The demo city's geography: pipes lie on the streets, buildings stay out of the river, the
river is crossed on bridges only, lengths and levels agree with the geometry."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

UTM = 32650
LAYERS = ("stations", "nodes", "pipes", "valves", "communities", "streets")


@pytest.fixture(scope="module")
def utm(demo_city_dir):
    return {name: gpd.read_file(demo_city_dir / "network.gpkg", layer=name).to_crs(UTM) for name in LAYERS}


def _kind(streets, *kinds):
    return streets[streets["kind"].isin(kinds)].union_all()


def test_every_pipe_is_laid_along_a_street(utm):
    streets = _kind(utm["streets"], "arterial", "street")
    pipes = utm["pipes"]
    for share in (0.1, 0.5, 0.9):
        assert pipes.interpolate(share, normalized=True).distance(streets).max() < 0.5


def test_nothing_is_built_in_the_river_and_pipes_cross_it_on_bridges(utm):
    river = _kind(utm["streets"], "river")
    for name in ("stations", "nodes", "valves", "communities"):
        assert not utm[name].intersects(river).any(), name
    streets = utm["streets"][utm["streets"]["kind"].isin(["arterial", "street"])]
    bridges = streets[streets.intersects(river)].union_all()
    crossing = utm["pipes"][utm["pipes"].intersects(river)]
    assert 1 <= len(crossing) <= 6
    assert crossing.within(bridges.buffer(0.5)).all()


def test_railway_keeps_clear_of_buildings(utm):
    railway = _kind(utm["streets"], "railway")
    assert utm["stations"].distance(railway).min() > 20
    assert not utm["communities"].intersects(railway).any()


def test_communities_do_not_overlap(utm):
    communities = utm["communities"]
    pairs = gpd.sjoin(communities, communities, predicate="overlaps")
    assert pairs.empty


def test_written_lengths_match_the_geometry(utm):
    pipes = utm["pipes"]
    assert (pipes["length_m"] - pipes.length).abs().div(pipes.length).max() < 0.01
    assert pipes.length.min() >= 5.0


def test_stations_stand_near_their_node_at_its_ground_level(utm):
    nodes = utm["nodes"].set_index("id")
    stations = utm["stations"]
    at = nodes.loc[stations["node_id"]]
    assert stations.geometry.distance(at.geometry, align=False).max() < 80
    assert np.abs(stations["elevation_m"].to_numpy() - at["elevation_m"].to_numpy()).max() < 3.0


def test_valve_nodes_are_chambers(utm):
    nodes = utm["nodes"]
    assert nodes["chamber"].astype(bool).eq(nodes["id"].isin(utm["valves"]["node_id"])).all()
