"""A leak alarm on the wall: a pulsing marker on the most likely segment, and a panel that lists the
candidate segments and the valves to close — from a real localization on the demo city."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.components import scenario_data
from scripts.wall_browser import open_wall, screenshot, set_viewport, wait_for, wait_panel
from store import alarms
from store.assets import get_asset_rows
from store.db import get_pool
from twin.isolation import IsolationGraph
from twin.leaks.detect import LeakDecision
from twin.leaks.localize import localize_relinearized
from twin.model import Twin
from twin.observe import SensorMap

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _leak_alarm(pool) -> dict:
    """Localize a 2 % supply leak on the city the wall shows and raise the alarm the sync loop would."""
    network = scenario_data.network(pool)
    twin, sensor_map = Twin(network), SensorMap(network.sensors, network.stations)
    before = sensor_map.predict(twin.solve())
    rate = 0.02 * twin.last_result.sources["flow_t_h"].sum()
    pipe = str(network.pipes["id"].iloc[len(network.pipes) // 3])
    twin.set_leaks(pd.DataFrame([{"pipe_id": pipe, "side": "supply", "rate_t_h": rate, "position": 0.5}]))
    change = sensor_map.predict(twin.solve()) - before
    twin.set_leaks(None)
    twin.solve()
    location = localize_relinearized(twin, sensor_map, change.dropna(), rate_t_h=rate, sigma_bar=0.005,
                                     isolation_graph=IsolationGraph(network))
    decision = LeakDecision(pd.Timestamp.now(tz="UTC"), "SRC-1", rate, {"SRC-1": {"cusum": 99.0}}, location)
    details = decision.alarm_details()
    alarms.add_alarm(pool, asset_id=details["pipe_id"], cause="leak", severity="alarm",
                     message=f"make-up at SRC-1: {rate:.0f} t/h more than the network should take", details=details,
                     actor="test")
    return details


def test_a_leak_alarm_pulses_on_its_segment_and_lists_candidates_and_valves(wall_url, city_db_url, browser):
    pool = get_pool(city_db_url)
    details = _leak_alarm(pool)
    top = details["pipe_id"]
    assert details["valves"], "the most likely segment can be isolated"
    set_viewport(browser, 1920, 1080)
    open_wall(browser, f"{wall_url}/?element={top}")
    text = wait_panel(browser, top)
    candidates = browser.execute_script(
        "return Array.from(document.querySelectorAll('#wall-panel [data-candidate]')).map(e => e.dataset.candidate)")
    assert candidates == [c["pipe_id"] for c in details["candidates"]]
    valves = browser.execute_script(
        "return Array.from(document.querySelectorAll('#wall-panel [data-valve]')).map(e => e.dataset.valve)")
    assert valves == details["valves"]
    assert "scenarios?pipe=" in browser.find_element("css selector", "#wall-panel .leak-details a.what-if") \
        .get_attribute("href")
    assert "SRC-1 补水量高出基线" in text and f"可能区段 {len(details['region'])} 段" in text   # in the wall's language
    # The pulsing marker sits on the segment: at the pipe's own map position.
    assets, _ = get_asset_rows(pool)
    where = assets.set_index("id").loc[top, ["lat", "lon"]].astype(float).to_numpy()
    marker = wait_for(browser, "var m = document.querySelector('.leak-pulse'); if (!m) { return null; }"
                               "var ht = window.heattwin, r = m.getBoundingClientRect(),"
                               " c = ht.map.getContainer().getBoundingClientRect();"
                               "var ll = ht.map.containerPointToLatLng([r.left + r.width / 2 - c.left,"
                               " r.top + r.height / 2 - c.top]); return [ll.lat, ll.lng];", what="leak marker")
    assert np.abs(np.array(marker) - where).max() < 2e-4   # a few metres at this zoom
    # The likely stretch is highlighted under it: one line per segment of the alarm's region.
    drawn = browser.execute_script("var n = 0; window.heattwin.map.eachLayer(function (l) {"
                                   " if (l instanceof L.Polyline && l.options.color === '#ff2d55') { n += 1; } });"
                                   " return n;")
    assert drawn == len(details["region"]) >= 1
    screenshot(browser, "wall-leak-1920")
    set_viewport(browser, 3840, 2160)
    wait_panel(browser, top)
    screenshot(browser, "wall-leak-3840")
