"""Click → panel on a live wall, in Chromium, against what a dispatcher does without the one-click panel.

``heattwin bench wall --url URL`` measures a running demo (the plant and the sync loop live); without
``--url`` the wall bench measures its own stack the same way. At each screen size a fresh browser logs in,
opens the wall and clicks ``per_kind`` features of every kind (source, station, pipe, valve, community,
alarm ring, ticker line) on a pixel where the canvas's own hit test finds the feature on top: real mouse
events, the wall live under the clock. Per kind and size: p50/p95/max from the mouse press to the whole
panel (identity, records, work orders) in the DOM, the trend's p95, and the clicks lost (no panel within
``TIMEOUT_S``) or with no pixel of their own. Each click's ``_dash-update-component`` POSTs are read from
the browser's resource timing: ``before_ms`` (press → first POST sent: clientside work), ``server_ms``
(the panel's POST, sent → first byte: the server's callback and its queue), ``after_ms`` (its last byte
→ panel in the DOM: the browser's render).

The baseline is the same browser opening ``/?element=ID`` (the address a dispatcher would type or a link
would carry) for the same elements: from navigation start to the same panel in the DOM. Cold against cold
(the first click of a fresh browser against the first load of a fresh profile) and warm against warm.
"""

from __future__ import annotations

import os
import time

import numpy as np

SIZES = ((1920, 1080), (3840, 2160))
TIMEOUT_S = 20.0

# What a dispatcher waits for after a click: the panel open on the element the click opens, with its
# records and its work orders in (the trend, drawn by plotly, is timed apart as ``trend``).
_DONE = """
function done(host) {
    var p = document.getElementById('wall-panel'), id = p && p.querySelector('.panel-id');
    return !!(p && p.className.indexOf('open') >= 0 && id && id.dataset.element === host
        && p.querySelector('#wall-panel-body [data-section="equipment"]')
        && p.querySelector('#wall-panel-orders [data-element="' + host + '"]'));
}
function trend(host) {
    var g = document.querySelector('#wall-panel-trend .js-plotly-plot');
    var h = document.querySelector('#wall-panel-trend [data-element]');
    return !!(g && (!h || h.dataset.element === host));
}
"""
_WATCH_CARD = _DONE + """
var ht = window.heattwin, host = arguments[0];
ht.card = {clickAt: null, panelAt: null, trendAt: null};
performance.clearResourceTimings();
document.addEventListener('mousedown', function () { ht.card.clickAt = performance.now(); },
                          {capture: true, once: true});
new MutationObserver(function (records, observer) {
    var now = performance.now();
    if (!ht.card.panelAt && done(host)) { ht.card.panelAt = now; }
    if (!ht.card.trendAt && trend(host)) { ht.card.trendAt = now; }
    if (ht.card.panelAt && ht.card.trendAt) { observer.disconnect(); }
}).observe(document.getElementById('wall-root'), {subtree: true, childList: true, attributes: true});
"""
# The baseline's watcher, installed before the page's own scripts run (times from navigation start).
_WATCH_LOAD = _DONE + """
window.__card = {panelAt: null};
new MutationObserver(function (records, observer) {
    if (done(%s)) { window.__card.panelAt = performance.now(); observer.disconnect(); }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""
_POSTS = """
return performance.getEntriesByType('resource').filter(function (e) {
    return e.name.indexOf('_dash-update-component') >= 0;
}).map(function (e) { return [e.startTime, e.requestStart, e.responseStart, e.responseEnd]; });
"""

# A sample of each kind's features as drawn: the layer, the id a click selects and the element it opens.
_SAMPLE = """
var ht = window.heattwin, n = arguments[0], out = {};
var layers = {source: 'wall-sources', station: 'wall-stations', pipe: 'wall-pipes', valve: 'wall-valves',
              community: 'wall-communities', alarm: 'wall-alarms'};
Object.keys(layers).forEach(function (kind) {
    var all = (ht.refs[layers[kind]] || []).filter(Boolean), step = Math.max(1, all.length / n), picked = [];
    for (var k = 0; k < all.length && picked.length < n; k += step) {
        var p = all[Math.floor(k)].feature.properties;
        picked.push([layers[kind], p.id, p.host || p.id]);
    }
    out[kind] = picked;
});
return out;
"""
# Ticker lines: the button, the alarm's element (what the click selects) and the element the line opens.
# Only the presented lines: a root cause's grouped consequences sit folded (0×0) until it is expanded.
_TICKER_ROWS = """
var rings = (window.heattwin.refs['wall-alarms'] || []).filter(Boolean);
var lines = document.querySelectorAll('#wall-ticker .ticker-row > .ticker-item');
return Array.from(lines).slice(0, arguments[0]).map(function (b) {
    var id = JSON.parse(b.id);
    var ring = rings.find(function (l) { return l.feature.properties.alarm_id === id.alarm; });
    return [b.id, id.element, ring ? ring.feature.properties.host || id.element : id.element];
});
"""


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _close_panel(driver) -> None:
    from scripts.wall_browser import wait_for

    driver.execute_script("var b = document.getElementById('wall-panel-close');"
                          "if (document.getElementById('wall-panel').className.indexOf('open') >= 0) { b.click(); }")
    wait_for(driver, "return document.getElementById('wall-panel').className.indexOf('closed') >= 0"
                     " && !document.querySelector('#wall-panel-body [data-section]')", what="panel closed")


def _split(card: dict, posts: list) -> dict:
    """Where a click's time went: before the first POST, the panel's POST (the last to end before the
    panel appeared) sent → first byte, and its last byte → panel in the DOM."""
    click, panel = card["clickAt"], card["panelAt"]
    mine = [p for p in posts if p[0] >= click - 1 and p[3] <= panel + 1]
    if not mine:
        return {}
    last = max(mine, key=lambda p: p[3])
    return {"before_ms": min(p[0] for p in mine) - click, "server_ms": last[2] - last[1],
            "after_ms": panel - last[3]}


def _one_click(driver, point, host: str) -> dict | None:
    """One real click at ``point``: press → panel and press → trend in ms, and the request split;
    None if no panel came within ``TIMEOUT_S``."""
    from scripts.wall_browser import mouse_click

    driver.execute_script(_WATCH_CARD, host)
    mouse_click(driver, *point)
    deadline, card = time.monotonic() + TIMEOUT_S, {}
    while time.monotonic() < deadline:
        card = driver.execute_script("return window.heattwin.card")
        if card["panelAt"] and card["trendAt"]:
            break
        time.sleep(0.05)
    if not card.get("clickAt") or not card.get("panelAt"):
        return None
    trend = card["trendAt"] - card["clickAt"] if card.get("trendAt") else None
    return {"panel_ms": card["panelAt"] - card["clickAt"], "trend_ms": trend,
            **_split(card, driver.execute_script(_POSTS))}


def _point(driver, kind: str, target) -> tuple[float, float] | None:
    from scripts.wall_browser import find_pixel

    if kind == "ticker":
        return tuple(driver.execute_script(  # the ticker scrolls: bring the line into view, as a user would
            "var b = document.getElementById(arguments[0]); b.scrollIntoView({block: 'nearest'});"
            "var r = b.getBoundingClientRect();"
            "return [r.left + r.width / 2, r.top + r.height / 2];", target[0]))
    return find_pixel(driver, target[0], target[1])


def _summary(samples: list[dict], key: str) -> dict:
    values = [s[key] for s in samples if s.get(key) is not None]
    return {"p50_ms": _pct(values, 50), "p95_ms": _pct(values, 95), "max_ms": max(values) if values else None}


def click_figures(driver, per_kind: int) -> tuple[dict, dict]:
    """Real clicks on ``per_kind`` features of every kind and on ticker lines, the wall open and live.
    Per kind the panel's p50/p95/max, the trend's p95, the request split's p95s, the lost clicks (no panel
    within ``TIMEOUT_S``) and those with no pixel of their own; and the ids each kind selected."""
    from scripts.wall_browser import wait_for

    sample = driver.execute_script(_SAMPLE, per_kind)
    figures, selected = {}, {}
    for kind, items in [*sample.items(), ("ticker", None)]:
        targets = items if items is not None else driver.execute_script(_TICKER_ROWS, per_kind)
        samples, lost, covered = [], [], []
        for target in targets:
            _close_panel(driver)
            wait_for(driver, "return document.querySelector('#wall-trend .js-plotly-plot')", what="trend strip")
            driver.execute_async_script("requestIdleCallback(arguments[0], {timeout: 2000});")
            point = _point(driver, kind, target)
            if point is None:
                covered.append(target[1])
                continue
            one = _one_click(driver, point, target[2])
            if one is None:
                lost.append(target[1])
            else:
                samples.append(one)
        if not targets:
            continue
        selected[kind] = [t[1:] for t in targets if t[1] not in covered]
        figures[kind] = {"clicks": len(targets), **_summary(samples, "panel_ms"),
                         "first_ms": samples[0]["panel_ms"] if samples else None,
                         "trend_p95_ms": _summary(samples, "trend_ms")["p95_ms"],
                         **{f"{part}_p95_ms": _summary(samples, f"{part}_ms")["p95_ms"]
                            for part in ("before", "server", "after")},
                         "lost": len(lost), "lost_ids": lost[:5], "no_pixel": len(covered)}
    return figures, selected


def _reload_ms(driver, base_url: str, element: str, host: str) -> float | None:
    """Navigation start → the panel on ``host`` in the DOM, opening ``/?element=element``."""
    import json

    script = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                    {"source": _WATCH_LOAD % json.dumps(host)})["identifier"]
    try:
        driver.get(f"{base_url}/?element={element}")
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            at = driver.execute_script("return window.__card && window.__card.panelAt")
            if at:
                return float(at)
            time.sleep(0.05)
        return None
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script})


def reload_figures(driver, base_url: str, selected: dict, per_kind: int) -> dict:
    """The baseline: ``/?element=ID`` opened for the first ``per_kind`` elements each kind's clicks selected,
    in a browser whose first load (``cold_ms``, the first station) finds nothing cached; the rest are warm."""
    first = next((targets[0] for targets in selected.values() if targets), None)
    figures = {"cold_ms": None if first is None else _reload_ms(driver, base_url, *first)}
    for kind, targets in selected.items():
        times, lost = [], []
        for element, host in targets[:per_kind]:
            ms = _reload_ms(driver, base_url, element, host)
            (lost if ms is None else times).append(element if ms is None else ms)
        figures[kind] = {"loads": len(times) + len(lost), "p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95),
                         "max_ms": max(times) if times else None, "lost": len(lost)}
    return figures


def _browser(base_url: str, login: tuple[str, str], size: tuple[int, int]):
    """A fresh Chromium profile at ``size``, logged in on a page without Dash (its cache stays cold)."""
    from scripts.wall_browser import log_in, set_viewport, start_chrome

    driver = start_chrome()
    set_viewport(driver, *size)
    log_in(driver, base_url, *login, next_path="/healthz")
    return driver


def _first_click(kinds: dict) -> float | None:
    """The first click of a fresh browser (its first kind's first click): the cold figure."""
    return next((f["first_ms"] for f in kinds.values() if f.get("first_ms") is not None), None)


def live_clicks(base_url: str, login: tuple[str, str], per_kind: int, baseline_per_kind: int,
                sizes=SIZES) -> dict:
    """Clicks and the reload baseline at each size, each in its own fresh browser; the load average
    before and after, and the figures the issue asks for (``click_p95_ms``, ``lost_clicks``, ``baseline``)."""
    from scripts.wall_browser import open_wall

    load_before = os.getloadavg()
    clicks, baseline, started = {}, {}, time.monotonic()
    for size in sizes:
        name = f"{size[0]}x{size[1]}"
        driver = _browser(base_url, login, size)
        try:
            open_wall(driver, base_url + "/")  # at its size: the wall sizes its markers at load
            clicks[name], selected = click_figures(driver, per_kind)
        finally:
            driver.quit()
        driver = _browser(base_url, login, size)
        try:
            baseline[name] = reload_figures(driver, base_url, selected, baseline_per_kind)
        finally:
            driver.quit()
    return {"url": base_url, "per_kind": per_kind, "baseline_per_kind": baseline_per_kind,
            "load_avg_before": [round(v, 2) for v in load_before],
            "load_avg_after": [round(v, 2) for v in os.getloadavg()], "run_s": round(time.monotonic() - started),
            "click_p95_ms": {s: {k: f["p95_ms"] for k, f in kinds.items()} for s, kinds in clicks.items()},
            "lost_clicks": sum(f["lost"] for kinds in clicks.values() for f in kinds.values()),
            "baseline": {s: {"cold_ms": kinds["cold_ms"], "click_cold_ms": _first_click(clicks[s]),
                             **{k: f["p95_ms"] for k, f in kinds.items() if k != "cold_ms"}}
                         for s, kinds in baseline.items()},
            "clicks": clicks, "reloads": baseline}


def bench_login(database_url: str | None) -> tuple[str, str]:
    """A dispatcher of its own in the wall's database (``database_url``, else the one ``heattwin`` uses)."""
    import secrets

    from heattwin.settings import load_settings
    from scripts.bench_server import bench_user
    from store import cluster
    from store.db import get_pool

    url = database_url or cluster.database_url(load_settings())
    return bench_user(get_pool(url), "dispatcher", username=f"bench-dispatcher-{secrets.token_hex(3)}")
