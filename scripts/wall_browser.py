"""Driving the wall in Debian's Chromium (never a downloaded browser): start it, wait for the map,
click canvas features by pixel, take screenshots at exact sizes. Used by the wall's browser tests
and by ``heattwin bench wall``."""

from __future__ import annotations

import base64
import re
import tempfile
import time
from pathlib import Path

from heattwin.settings import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = PROJECT_ROOT / "tests" / "screenshots"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1920,1080", "--hide-scrollbars")


def chrome_options():
    """Options for the system Chromium with a fresh profile (no network calls of its own)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='heattwin-chromium-')}"):
        options.add_argument(flag)
    return options


def start_chrome():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=chrome_options())
    driver.set_page_load_timeout(60)
    return driver


def wait_for(driver, script: str, *args, timeout: float = 60.0, what: str = ""):
    """Poll ``script`` (JS returning a value) until it is truthy; its value, or an error naming ``what``."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout:.0f} s for {what or script!r}; last value {value!r}")


def click_css(driver, selector: str, timeout: float = 30.0, what: str = "") -> None:
    """Click the element ``selector`` names once it exists; found again if a live refresh re-renders it
    between finding and clicking (a stale reference is the page moving on, not a failed click)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            driver.find_element("css selector", selector).click()
            return
        except (NoSuchElementException, StaleElementReferenceException):
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f} s to click {what or selector!r}") from None
            time.sleep(0.1)


def open_wall(driver, url: str):
    """Load the wall and wait until every network feature exists and the first live arrays are applied."""
    driver.get(url)
    wait_for(driver, "return window.heattwin && window.heattwin.drawnAt", what="all features drawn")
    wait_for(driver, "var e = document.getElementById('wall-applied'); return e && e.textContent",
             what="first live refresh applied")


def log_in(driver, base_url: str, username: str, password: str, next_path: str = "/") -> None:
    """Log Chromium in through the login page, as a person would."""
    driver.get(f"{base_url}/login?next={next_path}")
    driver.find_element("id", "username").send_keys(username)
    driver.find_element("id", "password").send_keys(password)
    driver.find_element("id", "login-submit").click()
    wait_for(driver, "return window.location.pathname.indexOf('/login') !== 0", what="logged in")


def client_log_in(client, username: str, password: str):
    """Log a Flask test client in through the login form; the response of the POST."""
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the login page has no CSRF token"
    return client.post("/login", data={"username": username, "password": password, "csrf_token": match.group(1)})


def set_viewport(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    driver.execute_script("if (window.heattwin && window.heattwin.fitNetwork) { window.heattwin.fitNetwork(); }")


_PROJECT = """
var ht = window.heattwin, layerId = arguments[0], elementId = arguments[1];
var layer = (ht.refs[layerId] || []).find(function (l) { return l && l.feature.properties.id === elementId; });
if (!layer) { return null; }
var ll;
if (layer.getLatLng) { ll = layer.getLatLng(); }
else if (layer.feature.geometry.type === 'LineString') {
    var pts = layer.getLatLngs(); ll = L.latLng((pts[0].lat + pts[1].lat) / 2, (pts[0].lng + pts[1].lng) / 2);
} else { ll = layer.getBounds().getCenter(); }
// Centre it in the part of the map an open panel leaves visible.
var panel = document.getElementById('wall-panel');
var covered = panel && panel.className.indexOf('open') >= 0 ? panel.offsetWidth : 0;
ht.map.setView(ht.map.unproject(ht.map.project(ll, 17).add([covered / 2, 0]), 17), 17, {animate: false});
return true;
"""

# Where on the screen a click lands on the feature itself: Leaflet's own canvas hit test (the last drawn
# interactive path containing the point wins, as in L.Canvas._handleClick), and no DOM marker above it.
_FIND_PIXEL = """
var ht = window.heattwin, layerId = arguments[0], elementId = arguments[1];
var layer = (ht.refs[layerId] || []).find(function (l) { return l && l.feature.properties.id === elementId; });
if (!layer || !layer._renderer) { return null; }
var host = layer.feature.properties.host || elementId;
var map = ht.map, rect = map.getContainer().getBoundingClientRect(), size = map.getSize();
var panel = document.getElementById('wall-panel');
var right = size.x - (panel && panel.className.indexOf('open') >= 0 ? panel.offsetWidth : 0);
// The page pixel a click lands on: mouse events report whole pixels, and Leaflet maps them to the canvas with
// ``mouseEventToLayerPoint`` (the container's fractional offset included). Where two symbols overlap, testing the
// unrounded container point picked a pixel whose click opened the neighbour (V-0042 and V-0051, 5 px apart).
function landing(cp) { return L.point(Math.round(rect.left + cp.x), Math.round(rect.top + cp.y)); }
function topAt(page) {
    var lp = map.mouseEventToLayerPoint({clientX: page.x, clientY: page.y}), hit = null;
    for (var o = layer._renderer._drawFirst; o; o = o.next) {
        var l = o.layer;
        if (l.options.interactive && l._containsPoint(lp)) { hit = l; }
    }
    return hit;
}
function ok(page) {
    var cp = page.subtract([rect.left, rect.top]);
    if (cp.x < 2 || cp.y < 2 || cp.x > right - 2 || cp.y > size.y - 2) { return false; }
    var e = document.elementFromPoint(page.x, page.y);
    if (!e || e.tagName !== 'CANVAS') { return false; }
    // An alarm ring drawn over the element opens the element too (its ``host``), as does another ring of it.
    var top = topAt(page), props = top && top.feature ? top.feature.properties : {};
    return top === layer || props.host === host || props.id === host;
}
var candidates = [];
if (layer.getLatLng) {
    var c = map.latLngToContainerPoint(layer.getLatLng()), r = layer.getRadius ? layer.getRadius() : 4;
    candidates.push(c);
    [0.4, 0.75].forEach(function (f) {
        for (var a = 0; a < 8; a++) {
            candidates.push(c.add([Math.cos(a * Math.PI / 4) * f * r, Math.sin(a * Math.PI / 4) * f * r]));
        }
    });
} else if (layer.feature.geometry.type === 'LineString') {
    var pts = layer.getLatLngs().map(function (p) { return map.latLngToContainerPoint(p); });
    [0.5, 0.3, 0.7, 0.15, 0.85].forEach(function (f) {
        for (var k = 0; k + 1 < pts.length; k++) {
            candidates.push(L.point(pts[k].x + f * (pts[k + 1].x - pts[k].x), pts[k].y + f * (pts[k + 1].y - pts[k].y)));
        }
    });
} else {
    var b = layer.getBounds(), nw = map.latLngToContainerPoint(b.getNorthWest()),
        se = map.latLngToContainerPoint(b.getSouthEast());
    for (var i = 1; i < 16; i++) { for (var j = 1; j < 16; j++) {
        candidates.push(L.point(nw.x + (se.x - nw.x) * i / 16, nw.y + (se.y - nw.y) * j / 16));
    } }
    var mid = L.point((nw.x + se.x) / 2, (nw.y + se.y) / 2);
    candidates.sort(function (p, q) { return p.distanceTo(mid) - q.distanceTo(mid); });
}
var found = candidates.map(landing).find(ok);
return found ? [found.x, found.y] : null;
"""


def find_pixel(driver, layer_id: str, element_id: str) -> tuple[float, float] | None:
    """Centre the map on a canvas feature; the page pixel where a click hits that feature (None: nowhere
    on its symbol is it on top)."""
    assert driver.execute_script(_PROJECT, layer_id, element_id), f"{element_id} is not drawn in {layer_id}"
    # Let the canvas repaint at the new view before the hit test.
    driver.execute_async_script("var done = arguments[0];"
                                "requestAnimationFrame(function () { requestAnimationFrame(done); });")
    point = driver.execute_script(_FIND_PIXEL, layer_id, element_id)
    return None if point is None else (float(point[0]), float(point[1]))


def mouse_click(driver, x: float, y: float) -> None:
    """A real left click (move, press, release) at page pixel ``(x, y)``."""
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                            "clickCount": 1})


def click_feature(driver, layer_id: str, element_id: str) -> None:
    """Centre the map on a canvas feature and click a pixel of its symbol where it is on top (real mouse
    events; the canvas's own hit test, so a ring or line drawn over it would be what the test clicks)."""
    point = find_pixel(driver, layer_id, element_id)
    assert point, f"{element_id} ({layer_id}) is covered everywhere on its symbol"
    mouse_click(driver, *point)


def wait_panel(driver, element_id: str, timeout: float = 30.0) -> str:
    """Wait until the panel is open on ``element_id`` and its work orders have rendered; its text."""
    wait_for(driver, "var p = document.getElementById('wall-panel');"
                     "var e = p && p.querySelector('.panel-id');"
                     "return p.className.indexOf('open') >= 0 && e && e.dataset.element === arguments[0];",
             element_id, timeout=timeout, what=f"panel on {element_id}")
    wait_for(driver, "return document.querySelector('#wall-panel-orders [data-element=\"' + arguments[0] + '\"]')",
             element_id, timeout=timeout, what="work orders in the panel")
    return driver.find_element("id", "wall-panel").text


def screenshot(driver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]
    path.write_bytes(base64.b64decode(data))
    return path
