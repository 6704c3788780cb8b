"""Every desk fits a phone's width (390×844): no page-level sideways scroll, and nothing cut off by a box
that hides its overflow. Wide tables and grids may scroll inside their own box; the page itself may not.
The failure names the widest elements that stick out, so the page that broke says where. Every data grid
is drawn tall enough to show rows (a grid's inline 100 % height of a row no longer sized drew it 2 px tall)."""

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
