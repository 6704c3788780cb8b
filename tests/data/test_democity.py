"""The demo city: deterministic, in proportion, connected, hydraulically sized, with records that
refer to real elements and drawings that are real SVG."""

from __future__ import annotations

import filecmp
import json
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from data.democity import generate_city

LAYERS = ("sources", "stations", "nodes", "pipes", "valves", "sensors", "communities", "streets")


@pytest.fixture(scope="module")
def city(demo_city_dir):
    return {name: gpd.read_file(demo_city_dir / "network.gpkg", layer=name) for name in LAYERS}


def test_same_seed_same_city_other_seed_other_city(demo_city_dir, tmp_path):
    again = tmp_path / "again"
    generate_city(again, stations=150, seed=7, drawings_dir=tmp_path / "d")
    for name in ("household.csv", "equipment.csv", "work_order.csv", "drawing.csv"):
        assert filecmp.cmp(demo_city_dir / "records" / name, again / "records" / name, shallow=False), name
    first = gpd.read_file(demo_city_dir / "network.gpkg", layer="pipes")
    second = gpd.read_file(again / "network.gpkg", layer="pipes")
    assert first.geometry.geom_equals_exact(second.geometry, 1e-9).all()
    other = tmp_path / "other"
    generate_city(other, stations=150, seed=8, drawings_dir=tmp_path / "d")
    third = gpd.read_file(other / "network.gpkg", layer="pipes")
    assert len(third) != len(first) or not first.geometry.geom_equals_exact(third.geometry, 1e-9).all()


def test_proportions_of_a_district(city, demo_city_dir):
    summary = json.loads((demo_city_dir / "summary.json").read_text())
    assert len(city["stations"]) == 150 and len(city["sources"]) == 3
    assert 550 <= len(city["pipes"]) <= 650
    assert 100 <= city["pipes"].to_crs(32650).length.sum() / 1000 <= 140
    assert 250 <= len(city["valves"]) <= 350
    assert 40 <= len(city["communities"]) <= 60
    assert 23_000 <= summary["households"] <= 27_000
    sensors = city["sensors"]
    kinds = sensors["kind"].value_counts()
    assert kinds["room_t"] / summary["households"] == pytest.approx(0.10, abs=0.02)
    assert 25 <= kinds["p_node"] <= 35 and kinds["outdoor_t"] == 1
    per_station = sensors[sensors["element_id"].str.startswith("ST-")].groupby("element_id")["kind"].apply(set)
    assert (per_station == {"t_supply", "t_return", "p_supply", "p_return", "flow", "heat"}).all()
    assert len(per_station) == 150
    per_source = sensors[sensors["element_id"].str.startswith("SRC-") & (sensors["kind"] != "outdoor_t")]
    assert per_source.groupby("element_id")["kind"].apply(set).map(len).eq(6).all()
    assert city["sources"]["role"].tolist() == ["pressure", "fixed_flow", "fixed_flow"]


def _graph(city):
    nodes = city["nodes"]["id"].tolist()
    index = {n: k for k, n in enumerate(nodes)}
    ends = city["pipes"].geometry.apply(lambda g: (g.coords[0], g.coords[-1]))
    xy = {tuple(np.round(p.coords[0], 9)): n for n, p in zip(nodes, city["nodes"].geometry, strict=True)}
    pairs = [(index[xy[tuple(np.round(a, 9))]], index[xy[tuple(np.round(b, 9))]]) for a, b in ends]
    rows, cols = zip(*pairs, strict=True)
    matrix = coo_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(nodes), len(nodes)))
    return (matrix + matrix.T).tocsr(), index, pairs


def test_pipe_ends_lie_on_nodes(city):
    pipes = city["pipes"].to_crs(32650)
    nodes = city["nodes"].to_crs(32650)
    for end in (pipes.geometry.apply(lambda g: g.coords[0]), pipes.geometry.apply(lambda g: g.coords[-1])):
        points = gpd.GeoSeries(gpd.points_from_xy(*zip(*end, strict=True)), crs=32650)
        nearest = gpd.sjoin_nearest(gpd.GeoDataFrame(geometry=points), nodes, distance_col="d")
        assert nearest["d"].max() < 0.01


def test_network_is_connected_and_reaches_every_station(city):
    matrix, index, _ = _graph(city)
    count, labels = connected_components(matrix, directed=False)
    assert count == 1
    assert set(city["stations"]["node_id"]) <= set(index) and set(city["sources"]["node_id"]) <= set(index)


def test_river_is_crossed_only_at_a_few_bridges(city):
    river = city["streets"][city["streets"]["kind"] == "river"].to_crs(32650).geometry.iloc[0]
    assert 1 <= city["pipes"].to_crs(32650).intersects(river).sum() <= 6


def test_diameters_telescope_from_the_plants_to_the_ends(city):
    pipes = city["pipes"]
    _, index, pairs = _graph(city)
    node_of = {v: k for k, v in index.items()}
    frame = pd.DataFrame({"from": [node_of[a] for a, _ in pairs], "to": [node_of[b] for _, b in pairs],
                          "dn": pipes["dn_mm"].to_numpy()})
    at_sources = frame[frame["from"].isin(city["sources"]["node_id"])]
    assert (at_sources["dn"] >= 700).all()
    degree = pd.concat([frame["from"], frame["to"]]).value_counts()
    leaves = frame[frame["to"].map(degree) == 1]
    assert (leaves["dn"] <= 250).all()
    # Downstream along the plant trees (breadth-first from the main plant), DN never grows
    # except on the few loop links and interconnections.
    matrix, _, _ = _graph(city)
    order, parent = breadth_first_order(matrix, index[city["sources"]["node_id"].iloc[0]], directed=False)
    dn_into = {}
    for (a, b), dn in zip(pairs, frame["dn"], strict=True):
        dn_into[(a, b)] = dn_into[(b, a)] = dn
    growing = sum(1 for node in order[1:] if parent[node] >= 0 and parent[parent[node]] >= 0
                  and dn_into[(parent[node], node)] > dn_into[(parent[parent[node]], parent[node])])
    assert growing <= 0.08 * len(pipes)


def _columns(db_url, table):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                            (table,)).fetchall()
    return {r[0] for r in rows}


def test_records_match_the_tables_and_refer_to_real_elements(city, demo_city_dir, db_url):
    records = demo_city_dir / "records"
    ids = set().union(*(set(city[name]["id"]) for name in LAYERS if name != "streets"))
    for path in records.glob("*.csv"):
        header = set(pd.read_csv(path, nrows=0).columns)
        table_columns = _columns(db_url, path.stem)
        assert header <= table_columns, (path.name, header - table_columns)
    equipment = pd.read_csv(records / "equipment.csv")
    assert set(equipment["asset_id"]) <= ids
    assert set(pd.read_csv(records / "drawing.csv")["asset_id"]) <= ids
    households = pd.read_csv(records / "household.csv", dtype=str)
    assert set(households["community_id"]) <= ids and set(households["sensor_id"].dropna()) <= ids
    assert set(city["sensors"]["element_id"]) <= ids


def test_every_drawing_is_an_svg_file(demo_city_dir, drawings_dir):
    drawing = pd.read_csv(demo_city_dir / "records" / "drawing.csv")
    for path in drawing["path"].unique():
        root = ET.parse(drawings_dir / path).getroot()
        assert root.tag.endswith("svg"), path
