"""Wall parts without a browser: the drawings route, the tile-or-offline basemap choice, formatting."""

from __future__ import annotations

from pathlib import Path

import dash_leaflet as dl
import pandas as pd
from accounts import app_settings, client_login, role_users

from app.components import fmt
from app.components.wall_data import Geometry
from layers.style import feature_collections


def test_drawings_are_served_from_the_configured_folder_only(db_url, pool, tmp_path):
    from app import drawings
    from app.server import create_app

    (tmp_path / "stations").mkdir()
    (tmp_path / "stations" / "ST-1.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path.parent / "secret.svg").write_text("<svg/>")
    app = create_app(db_url, app_settings(Path(tmp_path)))
    client = app.server.test_client()
    assert client.get("/drawings/stations/ST-1.svg").status_code == 302  # to the login page
    client_login(client, *role_users(pool)["crew"])
    response = client.get("/drawings/stations/ST-1.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert client.get("/drawings/../secret.svg").status_code == 404
    assert client.get("/drawings/stations/ST-9.svg").status_code == 404
    assert drawings.drawing_src("stations/ST-1.svg", app.server) == "/drawings/stations/ST-1.svg"
    assert drawings.drawing_src("stations/ST-1.svg").startswith("data:image/svg+xml;base64,")
    assert drawings.drawing_src("../secret.svg") is None


def _geometry() -> Geometry:
    assets = pd.DataFrame([{"id": "ST-1", "kind": "station", "name": "s", "lon": 114.5, "lat": 38.0, "attrs": {},
                            "geometry": {"type": "Point", "coordinates": [114.5, 38.0]}}])
    basemap = pd.DataFrame([{"kind": "street", "name": "", "geometry": {
        "type": "LineString", "coordinates": [[114.4, 38.0], [114.6, 38.0]]}}])
    collections, order = feature_collections(assets, basemap)
    return Geometry(("x", 1), collections, order, assets.drop(columns=["geometry"]).set_index("id"),
                    pd.DataFrame(columns=["sensor_id", "element_id", "kind", "unit"]), pd.Series(dtype=bool))


def _types(component) -> list[str]:
    found = [type(component).__name__]
    for child in getattr(component, "children", None) or []:
        if hasattr(child, "to_plotly_json"):
            found += _types(child)
    return found


def test_offline_basemap_without_a_tile_url_and_tiles_with_one():
    from app.components.map import wall_map

    offline = _types(wall_map(_geometry(), tile_url=None, attribution="", focus=None))
    assert "TileLayer" not in offline and "Pane" in offline
    tiles = wall_map(_geometry(), tile_url="https://tiles.example/{z}/{x}/{y}.png", attribution="© x", focus=None)
    assert isinstance(tiles.children[0], dl.TileLayer) and tiles.children[0].attribution == "© x"


def test_numbers_carry_units_and_missing_values_show_a_dash():
    assert fmt.number(105.26, "°C") == "105.3 °C"
    assert fmt.number(None, "MW") == fmt.DASH and fmt.number(float("nan"), "MW") == fmt.DASH
    assert fmt.age(30, "en") == "30 s ago" and fmt.age(7200, "zh-CN") == "2小时前"
    assert fmt.age(600, "en", future=True) == "in 10 min"


def test_an_empty_store_gives_an_empty_map_no_data_tiles_and_empty_arrays(db_url):
    from app import context
    from app.components import kpi, wall_data
    from app.components.map import wall_map
    from heattwin.settings import load_settings
    from store.db import get_pool

    context.configure(db_url, load_settings())
    pool = get_pool(db_url)
    geo = wall_data.geometry(pool)
    assert geo.counts() == {"communities": 0, "pipes": 0, "valves": 0, "stations": 0, "sources": 0}
    wall_map(geo, tile_url=None, attribution="", focus=None)
    payload = wall_data.live_payload(pool, "t_supply")
    assert payload["run_id"] is None and payload["pipes"] == [] and payload["stations"] == []
    tiles = {tile.to_plotly_json()["props"]["data-kpi"]: tile.to_plotly_json()["props"]["data-state"]
             for tile in kpi.kpi_tiles(pool, "zh-CN")}
    assert tiles["heat"] == "nodata" and tiles["twin"] == "nodata" and tiles["compliance"] == "nodata"
    assert tiles["alarms"] == "ok" and tiles["orders"] == "ok"  # zero open alarms is a fact, not missing data


def test_a_communitys_many_room_sensors_are_one_spread_row_and_its_three_coldest_rooms():
    from types import SimpleNamespace

    from app.components.panel import _live_rows

    rooms = pd.DataFrame({"sensor_id": [f"S-H-{k:03d}-RT" for k in range(12)], "kind": "room_t", "unit": "°C",
                          "element_id": "C-001"})
    now = pd.Timestamp.now(tz="UTC")
    latest = pd.DataFrame({"sensor_id": rooms["sensor_id"], "value": [21.0 - 0.5 * k for k in range(12)],
                           "time": now})
    geo = SimpleNamespace(sensors=rooms, sensors_by_element={"C-001": rooms})
    table = _live_rows(geo, "C-001", None, {}, latest, "en")[0]
    header, spread, *coldest = table.children

    def cells(row):
        return [c.children for c in row.children]
    assert cells(spread)[:2] == ["Room temp. ×12", "median 18.2 °C (15.5 – 21.0 °C)"]
    assert [cells(r)[:2] for r in coldest] == [["Room temp. · S-H-011-RT", "15.5 °C"],
                                              ["Room temp. · S-H-010-RT", "16.0 °C"],
                                              ["Room temp. · S-H-009-RT", "16.5 °C"]]
    # A station's few sensors keep a row each.
    few = rooms.head(3)
    geo = SimpleNamespace(sensors=few, sensors_by_element={"C-001": few})
    assert len(_live_rows(geo, "C-001", None, {}, latest, "en")[0].children) == 4
