"""Every desk fits a phone's width (390×844): no page-level sideways scroll, and nothing cut off by a box
that hides its overflow. Wide tables and grids may scroll inside their own box; the page itself may not.
The failure names the widest elements that stick out, so the page that broke says where. Every data grid
is drawn tall enough to show rows (a grid's inline 100 % height of a row no longer sized drew it 2 px tall).
On /alarms, at 390 px and 1920 px, the alarm-rate chart's title clears plotly's toolbar and the legend, and
the rules' thresholds read whole: names on one line, thresholds the screen's width, no pair broken."""

from __future__ import annotations

import time

import pytest

from scripts.wall_browser import screenshot, set_viewport, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The widest elements that reach past the viewport, but for those inside a box that scrolls sideways itself
# (or a map's or a plot's own clipped panes): a box that only hides its overflow cuts the page off. And the
# height of every data grid.
_OVERFLOW = """
var width = innerWidth, out = [];
function scrollsItself(e) {
    for (var p = e.parentElement; p && p !== document.body; p = p.parentElement) {
        var o = getComputedStyle(p).overflowX;
        var own = o === 'auto' || o === 'scroll' || (o === 'hidden' && p.closest('.leaflet-container, .js-plotly-plot'));
        if (own && p.getBoundingClientRect().right <= width + 1) {
            return true;
        }
    }
    return false;
}
document.querySelectorAll('body *').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.width && r.right > width + 1 && !scrollsItself(e)) {
        out.push([Math.round(r.right), e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                  + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : '')]);
    }
});
out.sort(function (a, b) { return b[0] - a[0]; });
var grids = Array.from(document.querySelectorAll('.ag-root-wrapper')).map(function (g) {
    var host = g.closest('[id]');
    return [host ? host.id : '?', Math.round(g.getBoundingClientRect().height)];
});
return {scroll_width: document.scrollingElement.scrollWidth, inner_width: width, widest: out.slice(0, 5), grids: grids};
"""

PAGES = [pytest.param("/supervisor", marks=pytest.mark.login_as("supervisor"), id="supervisor"),
         pytest.param("/supervisor/refunds", marks=pytest.mark.login_as("supervisor"), id="refunds"),
         pytest.param("/alarms", marks=pytest.mark.login_as("supervisor"), id="alarms"),
         pytest.param("/orders", marks=pytest.mark.login_as("dispatcher"), id="orders"),
         pytest.param("/control", marks=pytest.mark.login_as("engineer"), id="control"),
         pytest.param("/hotline", marks=pytest.mark.login_as("agent"), id="hotline"),
         pytest.param("/revisits", marks=pytest.mark.login_as("agent"), id="revisits"),
         pytest.param("/admin/audit", marks=pytest.mark.login_as("supervisor"), id="audit"),
         pytest.param("/field", marks=pytest.mark.login_as("crew"), id="field"),
         pytest.param("/scenarios", marks=pytest.mark.login_as("engineer"), id="scenarios"),
         pytest.param("/overview", marks=pytest.mark.login_as("dispatcher"), id="overview")]
# A grid shorter than this shows its header and no row.
MIN_GRID_PX = 150


def _settled(browser, path: str) -> None:
    """The page's layout and its first callbacks have rendered (nothing is loading for half a second)."""
    wait_for(browser, "return document.querySelector('#_pages_content, #react-entry-point')", what=f"{path} rendered")
    quiet_since = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        loading = browser.execute_script("return document.querySelectorAll('[data-dash-is-loading]').length")
        if loading:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:
            return
        time.sleep(0.1)


@pytest.mark.parametrize("path", PAGES)
def test_a_desk_fits_a_phone_with_nothing_cut_off_and_its_grids_in_view(wall_url, browser, path):
    set_viewport(browser, 390, 844)
    browser.get(wall_url + path)
    _settled(browser, path)
    seen = browser.execute_script(_OVERFLOW)
    screenshot(browser, f"phone-{path.strip('/').replace('/', '-')}-390")
    assert seen["scroll_width"] <= seen["inner_width"], (
        f"{path} at 390 px scrolls sideways ({seen['scroll_width']} px wide); widest: {seen['widest']}")
    assert not seen["widest"], f"{path} at 390 px: these stick out past the screen, cut off: {seen['widest']}"
    flat = [(grid, px) for grid, px in seen["grids"] if px < MIN_GRID_PX]
    assert not flat, f"{path} at 390 px: grids too short to show a row (id, px): {flat}"


# The alarm-rate chart's title, toolbar (modebar) and legend, and the rules' thresholds table: each rule's name
# on how many lines, its thresholds' box, the name = value pairs broken over two lines.
_ALARMS_PARTS = """
function box(e) {
    if (!e) { return null; }
    var r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
}
var chart = document.getElementById('alarms-rate');
var rows = Array.from(document.querySelectorAll('.alarms-page table.rules.thresholds tbody tr')).map(function (tr) {
    var name = tr.cells[0], range = document.createRange();
    range.selectNodeContents(name);
    var values = tr.cells[2].getBoundingClientRect();
    var split = Array.from(tr.cells[2].querySelectorAll('.threshold')).filter(function (pair) {
        return pair.getClientRects().length > 1; }).map(function (pair) { return pair.innerText; });
    return {rule: name.innerText, name_lines: range.getClientRects().length, values_px: Math.round(values.width),
            values_right: Math.round(values.right), split: split};
});
return {chart: box(chart), title: box(chart.querySelector('.gtitle')), modebar: box(chart.querySelector('.modebar')),
        legend: box(chart.querySelector('.legend')), rows: rows, inner_width: innerWidth};
"""
# At 390 px the thresholds get the screen's width (370 px in the page's padding); in a 228 px column they ran
# out of their box.
MIN_THRESHOLDS_PX = 300


def _apart(a: dict, b: dict) -> bool:
    return a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]


def _busy_hours() -> str:
    """The page's own figure for a day of three consoles' alarms (the test city raised none): it has a legend.
    The page module as Dash loaded it (importing ``app.pages.alarms`` registers its path twice)."""
    import sys

    import numpy as np
    import pandas as pd
    import plotly.io

    _rate_figure = sys.modules["pages.alarms"]._rate_figure
    hours = pd.date_range("2026-12-03 00:00", periods=24, freq="h", tz="UTC")
    counts = np.arange(24) % 5
    hourly = pd.DataFrame({"north": counts, "south": counts[::-1], "": 1}, index=hours)
    return plotly.io.to_json(_rate_figure(hourly, "zh-CN", "Asia/Shanghai"))


@pytest.mark.login_as("supervisor")
@pytest.mark.parametrize("width,height", [(390, 844), (1920, 1080)])
def test_the_alarm_rate_title_clears_the_toolbar_and_the_thresholds_read_whole(wall_url, browser, width, height):
    set_viewport(browser, width, height)
    browser.get(wall_url + "/alarms")
    _settled(browser, "/alarms")
    wait_for(browser, "return document.querySelector('#alarms-rate .gtitle')", what="the alarm-rate chart's title")
    browser.execute_script("var f = JSON.parse(arguments[0]), gd = document.querySelector('#alarms-rate .js-plotly-plot');"
                           "Plotly.react(gd, f.data, f.layout);", _busy_hours())
    wait_for(browser, "return document.querySelector('#alarms-rate .legend')", what="the consoles' legend")
    seen = browser.execute_script(_ALARMS_PARTS)
    screenshot(browser, f"alarms-rate-{width}")
    browser.execute_script("document.querySelector('.alarms-page table.rules.thresholds').scrollIntoView()")
    screenshot(browser, f"alarms-rules-{width}")
    title, modebar, legend = seen["title"], seen["modebar"], seen["legend"]
    assert _apart(title, modebar), f"at {width} px the chart's title {title} runs under its toolbar {modebar}"
    assert _apart(legend, title) and _apart(legend, modebar), (
        f"at {width} px the legend {legend} sits on the title {title} or the toolbar {modebar}")
    assert seen["chart"]["top"] <= title["top"], f"at {width} px the title is cut off by the chart's top"
    broken = [r["rule"] for r in seen["rows"] if r["name_lines"] > 1]
    assert not broken, f"at {width} px these rules' names break over lines in a narrow column: {broken}"
    narrow = [(r["rule"], r["values_px"], r["values_right"]) for r in seen["rows"]
              if r["values_px"] < MIN_THRESHOLDS_PX or r["values_right"] > seen["inner_width"]]
    assert not narrow, f"at {width} px thresholds too narrow or past the screen (rule, px, right edge): {narrow}"
    split = [pair for r in seen["rows"] for pair in r["split"]]
    assert not split, f"at {width} px these thresholds break between their name and value: {split}"
