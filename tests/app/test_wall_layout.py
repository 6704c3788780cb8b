"""The wall fits every screen it runs on (issue #16): one 16:9 screen, a 4K screen, a 3x1 video wall and a
phone, in a real headless Chromium against a real PostgreSQL holding a city. One browser and one page load
per size: the layout is measured, not looked at."""

from __future__ import annotations

import pandas as pd
import pytest

from scripts.wall_browser import click_feature, open_wall, screenshot, set_viewport, wait_for, wait_panel
from store.assets import get_asset_rows
from store.db import get_pool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WALL_SIZES = ((1920, 1080), (3840, 2160), (5760, 1080))
PHONE = (390, 844)

# Everything the layout check needs, in page pixels, in one round trip.
_MEASURE = """
function box(e) {
    if (!e) { return null; }
    var r = e.getBoundingClientRect();
    return r.width && r.height ? [r.left, r.top, r.right, r.bottom] : null;
}
var ht = window.heattwin, map = ht.map, rect = map.getContainer().getBoundingClientRect(), bounds = null;
['wall-pipes', 'wall-stations', 'wall-sources'].forEach(function (id) {
    (ht.refs[id] || []).forEach(function (l) {
        if (!l) { return; }
        var b = l.getBounds ? l.getBounds() : L.latLngBounds([l.getLatLng()]);
        bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    });
});
var nw = map.latLngToContainerPoint(bounds.getNorthWest()), se = map.latLngToContainerPoint(bounds.getSouthEast());
var column = document.getElementById('wall-kpis');
return {
    scroll_width: document.scrollingElement.scrollWidth, inner_width: innerWidth, inner_height: innerHeight,
    network: [rect.left + nw.x, rect.top + nw.y, rect.left + se.x, rect.top + se.y],
    map: box(map.getContainer()), legend: box(document.getElementById('wall-legend')),
    layers: box(document.getElementById('wall-layers-box')), column: box(column),
    tiles: Array.from(column.querySelectorAll('.kpi-tile')).map(function (t) {
        var parts = [t].concat(Array.from(t.querySelectorAll('*')));
        var cut = parts.filter(function (e) {
            return getComputedStyle(e).display !== 'inline' && e.scrollWidth > e.clientWidth;
        });
        return {text: t.innerText.replace(/\\s+/g, ' ').slice(0, 40), box: box(t),
                cut: cut.map(function (e) { return e.className + ' ' + e.scrollWidth + '>' + e.clientWidth; })};
    })
};
"""

_TILES_DRAWN = "return document.querySelectorAll('#wall-kpis .kpi-tile').length >= 8"
_LEGEND_FILLED = "var e = document.querySelector('#wall-legend .legend-title'); return e && e.textContent"


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(inner, outer, slack: float = 0.5) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
            and inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack)


def _load(browser, wall_url: str, width: int, height: int) -> None:
    set_viewport(browser, width, height)
    open_wall(browser, wall_url + "/")
    wait_for(browser, _TILES_DRAWN, timeout=30, what="the KPI tiles")
    wait_for(browser, _LEGEND_FILLED, timeout=30, what="the legend")
    # The legend fills in after the first fit; the map fits again beside it (two frames).
    browser.execute_async_script("var done = arguments[0];"
                                 "requestAnimationFrame(function () { requestAnimationFrame(done); });")


def _assert_fits(m: dict, size: tuple[int, int], tiles_in: list[float]) -> None:
    """No sideways scrolling, every tile whole inside ``tiles_in`` with no text cut, the network drawn
    large and under neither the legend nor the layer box."""
    assert m["scroll_width"] <= m["inner_width"], f"{size}: the page scrolls sideways ({m['scroll_width']} px)"
    assert len(m["tiles"]) >= 8, f"{size}: {len(m['tiles'])} KPI tiles"
    for tile in m["tiles"]:
        assert tile["box"] and _inside(tile["box"], tiles_in), \
            f"{size}: tile {tile['text']!r} at {tile['box']} is not inside {tiles_in}"
        assert not tile["cut"], f"{size}: tile {tile['text']!r} has text cut off: {tile['cut']}"
    for name in ("legend", "layers"):
        assert m[name] and not _overlap(m[name], m["network"]), \
            f"{size}: the {name} box {m[name]} covers the network drawn at {m['network']}"
    network, map_box = m["network"], m["map"]
    assert _inside(network, map_box, slack=1), f"{size}: the network {network} is not all on the map {map_box}"
    share = max((network[2] - network[0]) / (map_box[2] - map_box[0]),
                (network[3] - network[1]) / (map_box[3] - map_box[1]))
    assert share >= 0.6, f"{size}: the network fills only {share:.0%} of the map {map_box}"


def test_wall_fits_every_screen(wall_url, browser):
    for width, height in WALL_SIZES:
        _load(browser, wall_url, width, height)
        m = browser.execute_script(_MEASURE)
        # On a wall the tiles are in view at once: inside the screen and inside the column's own box.
        left, top, right, bottom = m["column"]
        _assert_fits(m, (width, height), [max(left, 0), max(top, 0), min(right, width), min(bottom, height)])

    width, height = PHONE
    _load(browser, wall_url, width, height)
    # The phone's page scrolls down to the tiles below the map; there they are all in view at once.
    browser.execute_script("document.getElementById('wall-kpis').scrollIntoView();")
    _assert_fits(browser.execute_script(_MEASURE), PHONE, [0, 0, width, height])
    browser.execute_script("window.scrollTo(0, 0);")
    station = browser.execute_script(
        "return window.heattwin.refs['wall-stations'].find(Boolean).feature.properties.id")
    click_feature(browser, "wall-stations", station)
    wait_panel(browser, station)
    # The panel is a bottom sheet on the screen, and the station clicked stays in view above it.
    wait_for(browser, """
        var p = document.getElementById('wall-panel').getBoundingClientRect();
        return p.bottom <= innerHeight + 0.5 && Math.abs(p.top - (innerHeight - p.height)) < 1;""",
             timeout=5, what="the panel slid up onto the screen")
    sheet = browser.execute_script("var r = document.getElementById('wall-panel').getBoundingClientRect();"
                                   "return [r.left, r.top, r.right, r.bottom];")
    assert _inside(sheet, [0, 0, width, height]), f"the panel {sheet} is not on the phone's screen"
    assert sheet[2] - sheet[0] >= width - 1 and sheet[1] > 0.3 * height, f"the panel {sheet} is no bottom sheet"
    wait_for(browser, """
        var ht = window.heattwin, l = ht.findLayer(arguments[0]);
        var r = ht.map.getContainer().getBoundingClientRect(), p = ht.map.latLngToContainerPoint(l.getLatLng());
        var y = r.top + p.y, top = document.getElementById('wall-panel').getBoundingClientRect().top;
        return y > Math.max(r.top, 0) && y < top - 10 && r.left + p.x > 0 && r.left + p.x < innerWidth;""",
             station, timeout=5, what=f"{station} in view above the bottom sheet")


# The trend graphs' boxes: the legend, the plot (its drag area) and the section's title above the graph.
_TREND_BOXES = """
function box(e) {
    if (!e) { return null; }
    var r = e.getBoundingClientRect();
    return r.width && r.height ? [r.left, r.top, r.right, r.bottom] : null;
}
return ['#wall-panel-trend', '#wall-trend'].map(function (where) {
    var g = document.querySelector(where + ' .js-plotly-plot');
    return {where: where, graph: box(g), legend: box(g && g.querySelector('.legend')),
            plot: box(g && g.querySelector('.draglayer .xy .nsewdrag')),
            title: box(document.querySelector(where === '#wall-panel-trend' ? where + ' h3' : '#wall-trend-title'))};
});
"""


def _add_day_of_readings(pool, element_id: str) -> int:
    """24 h of readings on every sensor of ``element_id``; how many sensors."""
    from store import telemetry

    assets, _ = get_asset_rows(pool)
    hosted = assets["attrs"].map(lambda a: a.get("element_id") == element_id)
    sensors = assets.loc[(assets["kind"] == "sensor") & hosted, "id"]
    now = pd.Timestamp.now(tz="UTC").floor("min")
    times = pd.date_range(now - pd.Timedelta(hours=23), now, freq="30min")
    telemetry.ingest_rows(pool, pd.concat([pd.DataFrame({"time": times, "sensor_id": s, "value": 10.0 + k})
                                           for k, s in enumerate(sensors)]), "test")
    return len(sensors)


def test_trend_legend_sits_clear_of_the_plot_and_the_title(wall_url, browser, city_db_url):
    pool = get_pool(city_db_url)
    assets, _ = get_asset_rows(pool)
    sensors = pd.DataFrame(list(assets.loc[assets["kind"] == "sensor", "attrs"]))
    by_host = sensors.groupby("element_id")["kind"]
    # The element of most kinds (several units, a legend of several rows: what covered the lines) and the
    # one of most sensors (a community's room sensors: one band, three traces, one legend entry for all).
    elements = [by_host.nunique().idxmax(), by_host.size().idxmax()]
    for element_id in elements:
        assert _add_day_of_readings(pool, element_id) >= 5, f"{element_id} has few sensors"
    for width, height in (*WALL_SIZES[:2], PHONE):
        set_viewport(browser, width, height)
        for element_id in elements:
            _assert_legend_clear(browser, wall_url, element_id, (width, height))


def _assert_legend_clear(browser, wall_url: str, element_id: str, size: tuple[int, int]) -> None:
    open_wall(browser, f"{wall_url}/?element={element_id}")
    wait_panel(browser, element_id)
    wait_for(browser, "var g = document.querySelector('#wall-panel-trend .js-plotly-plot');"
                      "return g && g.data && g.data.length >= 3 && g.querySelector('.legend')",
             what=f"{element_id}'s trend with its legend")
    browser.execute_async_script("var done = arguments[0];"
                                 "requestAnimationFrame(function () { requestAnimationFrame(done); });")
    screenshot(browser, f"wall-trend-legend-{element_id}-{size[0]}x{size[1]}")
    for graph in browser.execute_script(_TREND_BOXES):
        where, legend, plot, title = f"{element_id} {graph['where']}", graph["legend"], graph["plot"], graph["title"]
        assert legend and plot, f"{size} {where}: no legend or plot drawn ({graph})"
        assert not _overlap(legend, plot), f"{size} {where}: the legend {legend} covers the plot {plot} (graph {graph['graph']})"
        assert _inside(legend, graph["graph"], slack=1), \
            f"{size} {where}: the legend {legend} is cut at the graph's edge {graph['graph']}"
        assert not title or not _overlap(legend, title), f"{size} {where}: the legend {legend} covers the title {title}"
