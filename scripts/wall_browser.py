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
var p = ht.map.latLngToContainerPoint(ll), r = ht.map.getContainer().getBoundingClientRect();
return [r.left + p.x, r.top + p.y];
"""


def click_feature(driver, layer_id: str, element_id: str) -> None:
    """Centre the map on a canvas feature and click the pixel it is drawn at (real mouse events)."""
    point = driver.execute_script(_PROJECT, layer_id, element_id)
    assert point, f"{element_id} is not drawn in {layer_id}"
    # Let the canvas repaint at the new view before the hit test.
    driver.execute_async_script("var done = arguments[0];"
                                "requestAnimationFrame(function () { requestAnimationFrame(done); });")
    x, y = point
    # The pixel must belong to the map's canvas, not to a DOM marker drawn over the feature.
    top = driver.execute_script("var e = document.elementFromPoint(arguments[0], arguments[1]);"
                                "return e && e.tagName;", x, y)
    assert top == "CANVAS", f"{element_id} is covered by a {top} element at ({x:.0f}, {y:.0f})"
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                            "clickCount": 1})


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
