"""The video wall in a real headless Chromium against a real PostgreSQL holding a city."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from layers.style import PIPE_SCALES, colour_index, palette
from scripts.wall_browser import click_feature, open_wall, screenshot, set_viewport, wait_for, wait_panel
from store import alarms as store_alarms
from store import records as store_records
from store import twin_runs
from store import work_orders as store_orders
from store.assets import count_by_kind, get_asset_rows
from store.audit import Actor
from store.db import get_pool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LAYER_OF_KIND = {"station": "wall-stations", "pipe": "wall-pipes", "valve": "wall-valves",
                 "source": "wall-sources", "community": "wall-communities"}


# The element sits mid-height, in the middle of the part of the map the open panel leaves visible.
_CENTRED_BESIDE_PANEL = """
var ht = window.heattwin, layer = ht.findLayer(arguments[0]);
if (!layer) { return false; }
var size = ht.map.getSize(), p = ht.map.latLngToContainerPoint(layer.getLatLng());
var visible = size.x - document.getElementById('wall-panel').offsetWidth;
return Math.abs(p.x - visible / 2) < 40 && Math.abs(p.y - size.y / 2) < 40;
"""


def _element_with_records(pool, prefix: str) -> tuple[str, pd.DataFrame]:
    """An element of the given kind with an open work order on it (stations: with equipment and a drawing).

    The city's own open orders are used when there are some; otherwise the test opens one.
    """
    orders = store_orders.list_work_orders(pool, open_only=True, limit=5000)
    assets, _ = get_asset_rows(pool)
    candidates = [a for a in orders["asset_id"].dropna().unique() if a.startswith(prefix)]
    candidates += sorted(assets.loc[assets["id"].str.startswith(prefix), "id"])
    for asset_id in candidates:
        if prefix == "ST-" and not (store_records.get_equipment(pool, asset_id)
                                    and store_records.get_drawings(pool, asset_id)):
            continue
        if not (orders["asset_id"] == asset_id).any():
            store_orders.add_work_order(pool, title="测试工单", actor=Actor("test"), asset_id=asset_id)
            orders = store_orders.list_work_orders(pool, open_only=True, limit=5000)
        return asset_id, orders[orders["asset_id"] == asset_id]
    pytest.fail(f"the city has no {prefix} element with records")


def _add_readings(pool, station: str):
    """24 h of supply-temperature readings (rising 0.1 K per half hour) on the station's sensor."""
    from store import telemetry

    assets, _ = get_asset_rows(pool)
    sensors = assets[(assets["kind"] == "sensor") & assets["attrs"].map(
        lambda a: a.get("element_id") == station and a.get("kind") == "t_supply")]
    if sensors.empty:
        pytest.fail(f"{station} has no supply-temperature sensor: every demo station has one")
    sensor_id = sensors["id"].iloc[0]
    now = pd.Timestamp.now(tz="UTC").floor("min")
    times = pd.date_range(now - pd.Timedelta(hours=23), now, freq="30min")
    telemetry.ingest_rows(pool, pd.DataFrame({"time": times, "sensor_id": sensor_id,
                                              "value": 90.0 + 0.1 * np.arange(len(times))}), "test")
    return sensor_id, times


def _add_run(pool, t_supply_c: float) -> int:
    assets, _ = get_asset_rows(pool)
    ids = assets.loc[assets["kind"].isin(("pipe", "station", "source")), "id"]
    states = pd.DataFrame({"element_id": ids, "status": "normal", "t_supply_c": t_supply_c, "p_supply_bar": 8.0,
                           "v_m_per_s": 1.0, "heat_mw": 2.0})
    now = datetime.now(UTC)
    return twin_runs.add_run(pool, started_at=now, finished_at=now, converged=True, cycle_s=1.5, solve_s=1.2,
                             states=states)


def test_wall_draws_every_layer_the_store_holds(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    pipe = get_asset_rows(pool)[0].query("kind == 'pipe'")["id"].iloc[0]
    store_alarms.add_alarm(pool, asset_id=pipe, cause="leak", severity="critical", message="疑似泄漏")
    open_wall(browser, wall_url + "/")
    counts = browser.execute_script("return window.heattwin.counts()")
    stored = count_by_kind(pool)
    for kind, layer in LAYER_OF_KIND.items():
        assert counts.get(layer, 0) == stored.get(kind, 0), f"{layer}: drawn {counts.get(layer)} vs stored"
    open_alarms = store_alarms.list_open_alarms(pool)
    wait_for(browser, "return document.querySelectorAll('.leak-pulse').length === arguments[0]",
             int((open_alarms["cause"] == "leak").sum()), what="one pulsing marker per open leak alarm")
    orders = store_orders.list_open_locations(pool)
    wait_for(browser, "return (window.heattwin.counts()['wall-orders'] || 0) === arguments[0]", len(orders),
             what="one marker per open work order")
    # Offline: the basemap comes from basemap_feature, no tile is requested.
    assert browser.execute_script("return document.querySelectorAll('.leaflet-tile').length") == 0
    assert browser.execute_script("return !!document.querySelector('.leaflet-basemap-pane canvas')")


def test_clicking_a_station_opens_its_records_drawing_and_work_orders(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    station, orders = _element_with_records(pool, "ST-")
    open_wall(browser, wall_url + "/")
    click_feature(browser, "wall-stations", station)
    text = wait_panel(browser, station)
    equipment = store_records.get_equipment(pool, station)[0]
    assert equipment["serial"] in text and equipment["maker"] in text
    drawing = store_records.get_drawings(pool, station)[0]
    wait_for(browser, "var i = document.querySelector('[data-drawing=\"' + arguments[0] + '\"] img');"
                      "return i && i.complete && i.naturalWidth > 0", drawing["id"], what="the drawing shown")
    for wo_id in orders["id"]:
        assert browser.execute_script("return !!document.querySelector('#wall-panel-orders [data-wo=\"' +"
                                      " arguments[0] + '\"]')", str(wo_id))
    # Full screen drawing, then close it again.
    browser.find_element("css selector", ".open-full").click()
    wait_for(browser, "return document.getElementById('wall-drawing-overlay').className.indexOf('open') >= 0",
             what="drawing overlay")
    screenshot(browser, "wall-drawing-fullscreen-1920")


def test_the_same_click_again_after_closing_the_panel_reopens_it(wall_url, browser, city_db_url):
    """Close a station's panel and click the very same pixel of it again: the panel opens again (the map's
    click data would be unchanged, and a selection that listened to it lost the second click)."""
    from scripts.wall_browser import find_pixel, mouse_click

    station, _ = _element_with_records(get_pool(city_db_url), "ST-")
    open_wall(browser, wall_url + "/")
    point = find_pixel(browser, "wall-stations", station)
    assert point, f"{station} is covered everywhere on its symbol"
    for _ in range(2):
        mouse_click(browser, *point)
        wait_panel(browser, station)
        browser.find_element("id", "wall-panel-close").click()
        wait_for(browser, "return document.getElementById('wall-panel').className.indexOf('closed') >= 0",
                 what="panel closed")


def test_clicking_a_pipe_shows_dn_length_and_its_valves(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    assets, _ = get_asset_rows(pool)
    on_pipes = {a.get("pipe_id") for a in assets.loc[assets["kind"] == "valve", "attrs"]}
    # A pipe with a valve of its own (the valve list is what this test clicks), with a work order.
    pipe = sorted(p for p in assets.loc[assets["kind"] == "pipe", "id"] if p in on_pipes)[0]
    store_orders.add_work_order(pool, title="测试工单", actor=Actor("test"), asset_id=pipe)
    orders = store_orders.list_work_orders(pool, asset_id=pipe, open_only=True)
    attrs = assets.set_index("id").at[pipe, "attrs"]
    open_wall(browser, wall_url + "/")
    click_feature(browser, "wall-pipes", pipe)
    text = wait_panel(browser, pipe)
    assert f"DN{attrs['dn_mm']}" in text
    assert f"{float(attrs['length_m']) / 1000.0:.3f} km" in text      # the GIS length, in km
    valves = assets[(assets["kind"] == "valve") & assets["attrs"].map(
        lambda a: a.get("pipe_id") == pipe or a.get("node_id") in (attrs.get("from_node"), attrs.get("to_node")))]
    listed = [b.text for b in browser.find_elements("css selector", "#wall-panel .valves button")]
    assert sorted(listed) == sorted(valves["id"]) and len(listed) >= 1
    for wo_id in orders["id"]:
        assert browser.execute_script("return !!document.querySelector('[data-wo=\"' + arguments[0] + '\"]')",
                                      str(wo_id))
    # A valve in the list opens that valve.
    own = sorted(v for v, a in zip(valves["id"], valves["attrs"], strict=True) if a.get("pipe_id") == pipe)[0]
    next(b for b in browser.find_elements("css selector", "#wall-panel .valves button") if b.text == own).click()
    wait_panel(browser, own)
    assert browser.find_element("css selector", "#wall-panel .panel-kind").text == "阀门"


def test_clicking_a_leak_alarm_opens_its_pipe_and_the_ticker_lists_it(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    pipe, _ = _element_with_records(pool, "P-")
    alarm_id = store_alarms.add_alarm(pool, asset_id=pipe, cause="leak", severity="critical",
                                      message="压力骤降，疑似泄漏")
    open_wall(browser, wall_url + "/")
    wait_for(browser, "return document.querySelector('.leak-pulse')", what="the pulsing leak marker")
    first = browser.find_element("css selector", ".ticker-item")
    assert "压力骤降" in first.text  # newest first
    browser.find_element("css selector", ".leak-pulse").click()
    text = wait_panel(browser, pipe)
    assert "压力骤降，疑似泄漏" in text
    assert store_alarms.get_alarm(pool, alarm_id)["state"] == "raised"


def test_ticker_click_flies_to_the_element(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    station, _ = _element_with_records(pool, "ST-")
    store_alarms.add_alarm(pool, asset_id=station, cause="station_dp_low", severity="warning", message="资用压差偏低")
    open_wall(browser, wall_url + "/")
    wait_for(browser, "return document.querySelector('.ticker-item')", what="ticker item").click()
    wait_panel(browser, station)
    wait_for(browser, _CENTRED_BESIDE_PANEL, station, what="map centred on the element, beside the panel")


def test_a_sensors_alarm_opens_the_station_it_sits_on_with_the_sensor_marked(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    station, _ = _element_with_records(pool, "ST-")
    sensor, _ = _add_readings(pool, station)
    alarm_id = store_alarms.add_alarm(pool, asset_id=sensor, cause="sensor_stuck", severity="warning",
                                      message="reading 13.499434246959709 unchanged",
                                      details={"value": 13.499434246959709, "readings": 40})
    name = get_asset_rows(pool)[0].set_index("id").at[station, "name"]
    open_wall(browser, wall_url + "/")
    item = wait_for(browser, "return document.querySelector('.ticker-row[data-alarm=\"' + arguments[0] + '\"]"
                             " .ticker-item')", str(alarm_id), what="the sensor's alarm in the ticker")
    assert name in item.text and sensor in item.text and "13.5" in item.text and "13.4994" not in item.text
    item.click()
    wait_panel(browser, station)
    marked = browser.find_element("css selector", "#wall-panel li.picked")
    assert marked.get_attribute("data-asset") == sensor and marked.get_attribute("data-alarm") == str(alarm_id)
    browser.find_element("id", "wall-panel-close").click()
    # Its ring on the map opens the station too, not "element not found".
    click_feature(browser, "wall-alarms", sensor)
    wait_panel(browser, station)


# Every callback request the page sends from now on, by its outputs.
_LOG_POSTS = """
var log = window.__posts = [];
if (!window.__fetch) {
    window.__fetch = window.fetch;
    window.fetch = function (url, opts) {
        if (String(url).indexOf('_dash-update-component') >= 0) {
            try { window.__posts.push(JSON.parse(opts.body).output); } catch (e) { window.__posts.push('?'); }
        }
        return window.__fetch.apply(this, arguments);
    };
}
"""


def test_a_panel_with_alarm_buttons_opens_and_closes_without_requests_of_the_buttons(wall_url, browser,
                                                                                    city_db_url):
    """Opening and closing a station's panel that offers alarm actions and a drawing sends the panel's and
    the trend's requests only: the buttons appearing or going must not fire their actions' callbacks (as
    pattern Inputs they did, 4-5 requests a panel); a click on one still acts, once."""
    pool = get_pool(city_db_url)
    station, _ = _element_with_records(pool, "ST-")
    alarm_id = store_alarms.add_alarm(pool, asset_id=station, cause="station_dp_low", severity="alarm",
                                      message="资用压差偏低")
    open_wall(browser, wall_url + "/")
    browser.execute_script(_LOG_POSTS)
    click_feature(browser, "wall-stations", station)
    wait_panel(browser, station)
    wait_for(browser, "return document.querySelector('#wall-panel [data-alarm=\"' + arguments[0] + '\"] .alarm-act')"
                      " && document.querySelector('#wall-panel .open-full')"
                      " && document.querySelector('#wall-panel-trend .js-plotly-plot')", str(alarm_id),
             what="alarm actions, the drawing's button and the trend in the panel")
    browser.find_element("id", "wall-panel-close").click()
    wait_for(browser, "return document.getElementById('wall-panel').className.indexOf('closed') >= 0"
                      " && !document.querySelector('#wall-panel-head .alarm-act')", what="panel closed")
    browser.execute_async_script("var done = arguments[0]; requestIdleCallback(function () {"
                                 " requestAnimationFrame(function () { setTimeout(done, 0); }); });")
    posts = browser.execute_script("return window.__posts")
    acting = [p for p in posts if "wall-alarm-changed" in p or "wall-drawing-full" in p]
    assert any("wall-panel-head" in p for p in posts) and acting == []
    # The ticker's acknowledge button: one request of its action, and the alarm is acknowledged.
    browser.execute_script("window.__posts.length = 0")
    button = wait_for(browser, "return document.querySelector('.ticker-row[data-alarm=\"' + arguments[0] + '\"]"
                               " .ticker-ack')", str(alarm_id), what="the ticker's acknowledge button")
    button.click()
    wait_for(browser, "return document.querySelector('.ticker-row[data-alarm=\"' + arguments[0] + '\"]"
                      " .ticker-acked')", str(alarm_id), what="acknowledged in the ticker")
    assert store_alarms.get_alarm(pool, alarm_id)["state"] == "acknowledged"
    assert len([p for p in browser.execute_script("return window.__posts") if "wall-alarm-changed" in p]) == 1


def test_refresh_recolours_pipes_without_resending_geometry(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    _add_run(pool, 60.0)
    open_wall(browser, wall_url + "/")
    created = browser.execute_script("return window.heattwin.created")
    run_id = _add_run(pool, 120.0)
    wait_for(browser, "return document.getElementById('wall-applied').textContent.indexOf('run:' + arguments[0])"
                      " === 0", run_id, what="the new run applied")
    colours = browser.execute_script(
        "return window.heattwin.refs['wall-pipes'].map(function (l) { return l.options.color; })")
    expected = palette(PIPE_SCALES["t_supply"])[int(colour_index([120.0], PIPE_SCALES["t_supply"])[0])]
    assert set(colours) == {expected}
    assert browser.execute_script("return window.heattwin.created") == created, "a layer was rebuilt"
    live = json.loads(browser.execute_script("return JSON.stringify(window.heattwin.live)"))
    assert "coordinates" not in json.dumps(live) and "geometry" not in json.dumps(live)
    assert len(live["pipes"]) == count_by_kind(pool)["pipe"]


def test_layer_toggle_and_quantity_choice(wall_url, browser, city_db_url):
    _add_run(get_pool(city_db_url), 100.0)
    open_wall(browser, wall_url + "/")
    on_map = ("var l = window.heattwin.refs['wall-pipes'][0];"
              "return window.heattwin.map.hasLayer(Object.values(l._eventParents)[0]);")
    assert browser.execute_script(on_map)
    browser.find_element("css selector", "#wall-layers input[value='pipes']").click()
    wait_for(browser, "return !(function () {" + on_map + "})()", what="pipes hidden")
    browser.find_element("css selector", "#wall-layers input[value='pipes']").click()
    wait_for(browser, "return (function () {" + on_map + "})()", what="pipes shown again")
    browser.find_element("css selector", "#wall-quantity input[value='p_supply']").click()
    wait_for(browser, "return document.getElementById('wall-applied').textContent.indexOf('q:p_supply') > 0",
             what="pipes coloured by pressure")
    expected = palette(PIPE_SCALES["p_supply"])[int(colour_index([8.0], PIPE_SCALES["p_supply"])[0])]
    colours = browser.execute_script(
        "return window.heattwin.refs['wall-pipes'].map(function (l) { return l.options.color; })")
    assert set(colours) == {expected}
    assert "bar" in browser.find_element("id", "wall-legend").text


def test_language_toggle_changes_labels(wall_url, browser):
    open_wall(browser, wall_url + "/")
    assert browser.find_element("id", "wall-title").text == "智慧供热调度中心"
    browser.find_element("id", "wall-lang-toggle").click()
    wait_for(browser, "return document.getElementById('wall-title').textContent === 'HeatTwin Dispatch Center'",
             what="English title")
    assert "Layers" in browser.find_element("css selector", ".wall-layers").text
    assert "Supply temperature" in browser.find_element("id", "wall-legend").text


def test_deep_link_opens_the_wall_on_the_element(wall_url, browser, city_db_url):
    station, _ = _element_with_records(get_pool(city_db_url), "ST-")
    open_wall(browser, f"{wall_url}/?element={station}")
    wait_panel(browser, station)
    wait_for(browser, _CENTRED_BESIDE_PANEL, station, what="map centred on the element, beside the panel")
    open_wall(browser, f"{wall_url}/wall?element={station}&lang=en")
    assert "Equipment records" in wait_panel(browser, station)


def test_new_work_order_button_opens_one_on_the_element(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    station, orders = _element_with_records(pool, "ST-")
    open_wall(browser, f"{wall_url}/?element={station}")
    wait_panel(browser, station)
    browser.find_element("id", "wall-new-order").click()
    title = wait_for(browser, "var e = document.getElementById('wall-order-title'); return e && e.value",
                     what="the form opens with the element's name as its title")
    assert "换热站" in title
    file_button = browser.find_element("id", "wall-order-file")
    browser.execute_script("arguments[0].click(); arguments[0].click();", file_button)  # a double click
    wait_for(browser, "return document.getElementById('wall-order-msg').textContent", what="order created")
    now = store_orders.list_work_orders(pool, asset_id=station)
    new = now[~now["id"].isin(orders["id"])]
    assert len(new) == 1 and new["lon"].notna().all()  # filed once
    wait_for(browser, "return !!document.querySelector('[data-wo=\"' + arguments[0] + '\"]')",
             str(int(new["id"].iloc[0])), what="the new order in the panel")


def test_panel_shows_measured_twin_residual_and_the_24h_trend(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    station, _ = _element_with_records(pool, "ST-")
    sensor_id, times = _add_readings(pool, station)
    # The newest run by its start: the clock's now, not the last reading's minute (the city's own runs may
    # have started within that minute).
    now = datetime.now(UTC)
    measured = 90.0 + 0.1 * (len(times) - 1)
    twin_runs.add_run(pool, started_at=now, finished_at=now, converged=True, cycle_s=1.0,
                      states=pd.DataFrame({"element_id": [station], "status": ["normal"], "t_supply_c": [95.0]}),
                      residuals=pd.DataFrame({"sensor_id": [sensor_id], "measured": [measured],
                                              "modelled": [95.0], "residual": [95.0 - measured]}))
    open_wall(browser, f"{wall_url}/?element={station}")
    wait_panel(browser, station)
    # The live rows are re-read on the panel's clock too: within a tick of a run the panel shows it.
    wanted = [f"{measured:.1f} °C", "95.0 °C", f"{95.0 - measured:.2f} °C"]
    row = wait_for(browser, "var r = document.querySelector('#wall-panel [data-sensor=\"' + arguments[0] + '\"]');"
                            "var t = r ? r.textContent : '';"
                            "return arguments[1].every(function (w) { return t.indexOf(w) >= 0; }) && t;",
                   sensor_id, wanted, timeout=30, what=f"{sensor_id}'s measured, twin and residual in the panel")
    assert all(w in row for w in wanted)
    wait_for(browser, "var g = document.querySelector('#wall-panel-trend .js-plotly-plot');"
                      "return g && g.data && g.data.length > 0 && g.data[0].x.length > 10",
             what="the 24 h trend drawn from telemetry")


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_screenshots_of_wall_and_panel(wall_url, browser, city_db_url, width, height):
    pool = get_pool(city_db_url)
    _add_run(pool, 95.0)
    station, _ = _element_with_records(pool, "ST-")
    pipe, _ = _element_with_records(pool, "P-")
    store_alarms.add_alarm(pool, asset_id=pipe, cause="leak", severity="critical", message="压力骤降，疑似泄漏")
    _add_readings(pool, station)
    set_viewport(browser, width, height)  # before loading: the wall sizes its markers at load
    open_wall(browser, wall_url + "/")
    wait_for(browser, "return document.querySelector('.leak-pulse') && document.querySelector('.kpi-tile')",
             what="alarms and KPI tiles")
    pipe_rgb = _rgb(palette(PIPE_SCALES["t_supply"])[int(colour_index([95.0], PIPE_SCALES["t_supply"])[0])])
    wall = _pixels(screenshot(browser, f"wall-{width}"))
    assert wall.shape == (height, width, 3)                       # the whole screen, at its own size
    assert wall.mean() < 60                                        # dark, for a dark control room
    # The network is drawn in the run's colour (95 °C on the supply scale, lines at 95 % opacity).
    assert _near(wall, pipe_rgb).mean() > 0.0005
    # The leak alarm's marker: a red ring around a white core, where the page placed it.
    pulse = _rect(browser, ".leak-pulse")
    cx, cy = int(pulse["x"] + pulse["w"] / 2), int(pulse["y"] + pulse["h"] / 2)
    assert _near(wall[cy - 1:cy + 2, cx - 1:cx + 2], (255, 255, 255), 40).all()
    ring = int(0.32 * pulse["w"])
    assert _near(wall[cy - 1:cy + 2, cx + ring - 1:cx + ring + 2], (255, 45, 85), 40).any()
    click_feature(browser, "wall-stations", station)
    wait_panel(browser, station)
    panel = _pixels(screenshot(browser, f"wall-panel-{width}"))
    box, view = _rect(browser, "#wall-panel"), _rect(browser, "#wall-map")
    left, right = int(box["x"]), int(box["x"] + box["w"])
    # The panel takes the right part of the map …
    assert abs(right - (view["x"] + view["w"])) <= 2 and 0.2 * view["w"] < box["w"] < 0.5 * view["w"]
    inside, beside = panel[:, left + 4:right - 4], panel[:, int(view["x"]) + 4:left - 4]
    colours, counts = np.unique(inside.reshape(-1, 3), axis=0, return_counts=True)
    assert _near(colours[counts.argmax()][None, None, :], (10, 17, 30), 6).all()   # … in its own background
    assert _near(beside, pipe_rgb).mean() > 0.0005                 # and the network beside it stays visible
    assert _near(inside, pipe_rgb).mean() < 0.1 * _near(beside, pipe_rgb).mean()
    browser.execute_script("var p = document.getElementById('wall-panel'); p.scrollTop = p.scrollHeight;")
    records = _pixels(screenshot(browser, f"wall-panel-records-{width}"))
    assert (records[:, left + 4:right - 4] != inside).any(axis=2).mean() > 0.05   # scrolled on to the records
    browser.find_element("id", "wall-lang-toggle").click()
    wait_for(browser, "return document.querySelector('.panel-kind').textContent === 'Station'", what="English")
    english = _pixels(screenshot(browser, f"wall-panel-en-{width}"))
    assert (english[:, left + 4:right - 4] != records[:, left + 4:right - 4]).any(axis=2).mean() > 0.01   # reworded


def _pixels(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour.lstrip("#")[k:k + 2], 16) for k in (0, 2, 4))


def _near(pixels: np.ndarray, rgb, tolerance: int = 16) -> np.ndarray:
    """Pixels within ``tolerance`` of ``rgb`` in every channel."""
    return (np.abs(pixels - np.asarray(rgb, dtype=np.int16)) <= tolerance).all(axis=-1)


def _rect(browser, selector: str) -> dict:
    return browser.execute_script("var r = document.querySelector(arguments[0]).getBoundingClientRect();"
                                  "return {x: r.left, y: r.top, w: r.width, h: r.height};", selector)
