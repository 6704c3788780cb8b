"""/scenarios in a real headless Chromium against the demo city in PostgreSQL: pick a pipe on the
map, break it, run, read the affected stations, see the map coloured by the change, save it."""

from __future__ import annotations

import pytest

from app.components import scenario_data
from app.components.scenario_data import KINDS_BY_PREFIX
from scripts.wall_browser import click_feature, screenshot, set_viewport, wait_for
from store import scenarios as store
from store.db import get_pool
from twin.isolation import IsolationGraph
from twin.scenarios.spec import CHANGE_KINDS

_PIPE_COLOURS = "return window.heattwin.refs['scn-pipes'].map(function (l) { return l.options.color; })"


def test_every_change_kind_can_be_picked_on_the_page():
    offered = {k for kinds in KINDS_BY_PREFIX.values() for k in kinds} | {"outdoor"}
    assert offered == set(CHANGE_KINDS)


def _pipe_that_cuts_stations(url) -> tuple[str, list[str]]:
    network = scenario_data.network(get_pool(url))
    sweep = IsolationGraph(network).sweep()
    cutting = sweep[(sweep["n_stations_cut_off"] >= 2) & (sweep["n_sources_lost"] == 0)]
    pipe = str(cutting.sort_values(["n_stations_cut_off", "element_id"]).iloc[0]["element_id"])
    return pipe, IsolationGraph(network).isolate(pipe).stations_cut_off


def _open(browser, url: str) -> int:
    browser.get(url)
    n_pipes = wait_for(browser, "var r = window.heattwin && window.heattwin.refs['scn-pipes'];"
                                "return r && r.filter(Boolean).length", what="pipes drawn")
    wait_for(browser, "return document.getElementById('scn-title').textContent", what="labels")
    return n_pipes


def _fit(browser):
    browser.execute_script("var ht = window.heattwin;"
                           "ht.map.fitBounds(L.featureGroup(ht.refs['scn-pipes'].filter(Boolean)).getBounds(),"
                           " {animate: false});")


def _click(browser, element_id: str):
    browser.find_element("id", element_id).click()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.login_as("engineer")
def test_break_a_pipe_run_read_the_affected_stations_and_save(wall_url, city_db_url, browser):
    pipe, cut_off = _pipe_that_cuts_stations(city_db_url)
    set_viewport(browser, 1920, 1080)
    _open(browser, f"{wall_url}/scenarios")
    before = browser.execute_script(_PIPE_COLOURS)
    click_feature(browser, "scn-pipes", pipe)
    wait_for(browser, "return document.getElementById('scn-selected-id').textContent === arguments[0]", pipe,
             what="pipe selected")
    _click(browser, "scn-add")
    wait_for(browser, "return document.querySelector('#scn-changes li[data-kind=\"pipe_break\"]')",
             what="the break is listed")
    browser.find_element("id", "scn-name").send_keys(f"{pipe} 爆管")
    _click(browser, "scn-run")
    wait_for(browser, "return document.querySelectorAll('#scn-table tr[data-station]').length >= arguments[0]",
             len(cut_off), timeout=90, what="affected stations listed")
    listed = browser.execute_script("return Array.from(document.querySelectorAll('#scn-table tr[data-station]'))"
                                    ".map(function (r) { return r.dataset.station; })")
    assert set(cut_off) <= set(listed)
    assert "MW" in browser.find_element("id", "scn-kpis").text
    # The map is coloured by the change: the broken stretch dry (near black), others shaded by Δp.
    wait_for(browser, _PIPE_COLOURS + ".indexOf(arguments[0]) >= 0", scenario_data.CUT_OFF, what="map recoloured")
    after = browser.execute_script(_PIPE_COLOURS)
    assert after != before and len(set(after)) > 3
    _fit(browser)
    screenshot(browser, "scenarios-1920")
    _click(browser, "scn-save")
    wait_for(browser, "var name = arguments[0];"
                      "return Array.from(document.querySelectorAll('.scn-saved-name')).some(function (e) {"
                      " return e.textContent.indexOf(name) >= 0; })", f"{pipe} 爆管", what="saved listed")
    saved = store.list_scenarios(get_pool(city_db_url))
    assert saved["name"].iloc[0] == f"{pipe} 爆管"
    assert saved["summary"].iloc[0]["stations_cut_off"] == len(cut_off)
    set_viewport(browser, 3840, 2160)
    _fit(browser)
    screenshot(browser, "scenarios-3840")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.login_as("engineer")
def test_a_deep_link_prefills_the_break(wall_url, city_db_url, browser):
    pipe, cut_off = _pipe_that_cuts_stations(city_db_url)
    set_viewport(browser, 1920, 1080)
    _open(browser, f"{wall_url}/scenarios?pipe={pipe}&action=break&lang=en")
    assert browser.find_element("id", "scn-selected-id").text == pipe
    wait_for(browser, "return document.getElementById('scn-changes').textContent.indexOf('Pipe break') >= 0",
             what="the break is listed")
    # The wall's isolate link runs it at once: the valves and the stations cut off appear unasked.
    wait_for(browser, "return document.querySelectorAll('#scn-table tr[data-station]').length > 0", timeout=90,
             what="result")
    assert "V-" in browser.find_element("id", "scn-isolation").text
    rows = browser.execute_script("return Array.from(document.querySelectorAll('#scn-table tr[data-station]'))"
                                  ".map(function (r) { return r.dataset.station; })")
    assert set(cut_off) <= set(rows)
    screenshot(browser, "scenarios-en-1920")
