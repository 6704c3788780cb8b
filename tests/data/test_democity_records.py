"""The demo city's records and small parts: byte-identical output, exact table columns, histories
that hang together, valves that sit on their pipes, diameters within the velocity limit, the CLI."""

from __future__ import annotations

import filecmp

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pytest

from data.democity import generate_city
from data.democity.network import DENSITY_KG_PER_M3, DN_SERIES, size_dn
from scripts.cli import main
from twin.pipes import diameters_mm

# bigserial ids the database assigns itself; the CSVs leave them out.
SERIAL_ID_TABLES = ("maintenance_log", "work_order_event", "work_order_revisit")


def _records(folder, name) -> pd.DataFrame:
    return pd.read_csv(folder / "records" / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def layer(demo_city_dir):
    return lambda name: gpd.read_file(demo_city_dir / "network.gpkg", layer=name)


def test_same_seed_gives_byte_identical_records_and_drawings(demo_city_dir, tmp_path):
    generate_city(tmp_path / "city", stations=150, seed=7, drawings_dir=tmp_path / "drawings")
    names = sorted(p.name for p in (demo_city_dir / "records").glob("*.csv"))
    assert len(names) == 8
    match, mismatch, errors = filecmp.cmpfiles(demo_city_dir / "records", tmp_path / "city" / "records", names,
                                               shallow=False)
    assert match == names, (mismatch, errors)
    drawings = _records(demo_city_dir, "drawing")["path"].unique()
    again = _records(tmp_path / "city", "drawing")["path"].unique()
    assert list(drawings) == list(again)
    assert filecmp.cmp(tmp_path / "drawings" / drawings[0], tmp_path / "drawings" / again[0], shallow=False)


def test_csv_columns_are_exactly_the_table_columns(demo_city_dir, db_url):
    with psycopg.connect(db_url) as conn:
        for path in sorted((demo_city_dir / "records").glob("*.csv")):
            rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                                "ORDER BY ordinal_position", (path.stem,)).fetchall()
            columns = [r[0] for r in rows if not (path.stem in SERIAL_ID_TABLES and r[0] == "id")]
            assert list(pd.read_csv(path, nrows=0).columns) == columns, path.name


def test_records_refer_to_existing_rows(demo_city_dir, layer):
    equipment = _records(demo_city_dir, "equipment")
    assert equipment["id"].is_unique
    assert set(_records(demo_city_dir, "maintenance_log")["equipment_id"]) <= set(equipment["id"])
    communities = layer("communities").set_index("id")
    households = _records(demo_city_dir, "household")
    assert (households["station_id"] == households["community_id"].map(communities["station_id"])).all()
    cut_off = households["heating_status"] == "not_paying"
    assert (cut_off == (households["payment_status"] == "arrears")).all()
    assert 0.005 < (households["payment_status"] == "exempt").mean() < 0.02
    assert set(communities["station_id"]) <= set(layer("stations")["id"])
    orders = _records(demo_city_dir, "work_order")
    assert set(orders["team_id"]) - {""} <= set(_records(demo_city_dir, "team")["id"])
    assert set(orders["household_id"]) - {""} <= set(households["id"])
    assert set(_records(demo_city_dir, "work_order_event")["work_order_id"]) <= set(orders["id"])


def test_every_work_order_history_ends_in_its_state(demo_city_dir):
    orders = _records(demo_city_dir, "work_order").set_index("id")
    events = _records(demo_city_dir, "work_order_event")
    assert {"new", "on_site", "resolved", "closed", "cancelled"} <= set(orders["state"])
    first = events["work_order_id"] != events["work_order_id"].shift()
    assert (events.loc[first, "from_state"] == "").all() and (events.loc[first, "to_state"] == "new").all()
    assert (events["from_state"][~first] == events["to_state"].shift()[~first]).all()
    assert (events["at"][~first] >= events["at"].shift()[~first]).all()
    last = events.drop_duplicates("work_order_id", keep="last").set_index("work_order_id")["to_state"]
    assert last.sort_index().equals(orders["state"].rename("to_state").sort_index())
    assert ((orders["closed_at"] != "") == orders["state"].isin(["closed", "cancelled"])).all()


def test_valves_sit_on_their_pipe_next_to_their_node(layer):
    valves = layer("valves").to_crs(32650)
    pipes = layer("pipes").to_crs(32650).set_index("id").loc[valves["pipe_id"]]
    nodes = layer("nodes").to_crs(32650).set_index("id").loc[valves["node_id"]]
    assert (valves["dn_mm"].to_numpy() == pipes["dn_mm"].to_numpy()).all()
    assert (pipes.geometry.distance(valves.geometry, align=False) < 0.01).all()
    assert (nodes.geometry.distance(valves.geometry, align=False) < 10).all()
    assert 0.9 <= valves["operable"].mean() < 1.0 and valves["normally_open"].all()


def test_size_dn_keeps_velocity_under_two_metres_per_second():
    flow_kg_per_s = np.linspace(1.0, 2500.0, 400)  # up to what DN1400 carries at 2 m/s
    dn = size_dn(flow_kg_per_s)
    bore_m = diameters_mm(dn)[0] / 1000.0  # the real inner bore: a DN150 is 160 mm inside, not 150
    velocity_m_per_s = flow_kg_per_s / DENSITY_KG_PER_M3 / (np.pi * bore_m ** 2 / 4)
    assert (velocity_m_per_s <= 2.0).all() and np.isin(dn, DN_SERIES).all()
    assert (np.diff(dn) >= 0).all()


def test_cli_writes_a_small_city(tmp_path):
    assert main(["demo-city", "--stations", "20", "--seed", "3", "--out", str(tmp_path / "c"),
                 "--drawings-dir", str(tmp_path / "d")]) == 0
    assert len(gpd.read_file(tmp_path / "c" / "network.gpkg", layer="stations")) == 20
    assert (tmp_path / "c" / "summary.json").exists() and any((tmp_path / "d" / "demo").glob("*.svg"))
