"""``heattwin bench wall``: the video wall on the 3,400-station city.

Figures: ``refresh_bytes`` and ``refresh_server_ms`` of one live refresh through Dash's HTTP callback
endpoint (steady state: same twin run; ``refresh_new_run_ms`` right after a new run lands),
``first_draw_s`` from navigation start to every network feature drawn in headless Chromium,
``click_to_panel_ms`` from the mouse click on a station to its panel on screen, and
``refresh_apply_ms``, the browser's restyle time for one refresh, and ``page_bytes`` the wall page
as loaded once (geometry inline). ``first_draw_s`` is a reload of the wall
(browser cache warm); ``first_draw_cold_s`` the very first load in a fresh browser profile.
``auth_overhead_ms`` is what the login and permission check add to each request (the server's
``Server-Timing: auth`` figure, median over the refreshes). Every figure is taken logged in as a
dispatcher. Targets: < 200 KB and < 100 ms per refresh; first draw < 3 s; click to panel < 500 ms;
the check under 5 ms.
The city is ``data.democity`` when present, else (or with ``HEATTWIN_BENCH_CITY=synthetic``) the
synthetic grid city of ``scripts.wall_city``;
twin states for the bench are random but plausible, written through ``store.twin_runs.add_run``.
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from heattwin.settings import load_settings
from store import cluster

BENCH_DB = "heattwin_bench_wall"


def _fresh_database(settings) -> str:
    return cluster.recreate_database(cluster.database_url(settings), BENCH_DB)


def _load_city(url: str, stations: int, workdir: Path) -> str:
    from store.db import get_pool
    from store.migrate import migrate

    drawings = workdir / "drawings"
    wanted = os.environ.get("HEATTWIN_BENCH_CITY", "democity")  # "synthetic" forces the grid city
    available = all(importlib.util.find_spec(m) for m in ("data.democity", "layers.read", "layers.records"))
    if wanted == "democity" and available:
        from data.democity import generate_city
        from scripts.loading import load_city

        generate_city(workdir / "city", stations=stations, seed=7, drawings_dir=drawings)
        load_city(url, workdir / "city")
        return "democity"
    from scripts.wall_city import load_synthetic_city

    migrate(url)
    load_synthetic_city(get_pool(url), stations, drawings, workdir / "records")
    return "synthetic"


def _add_run(pool, rng) -> int:
    from store import twin_runs
    from store.assets import get_asset_rows

    assets, _ = get_asset_rows(pool)
    ids = assets.loc[assets["kind"].isin(("pipe", "station", "source", "valve")), "id"].to_numpy()
    n = len(ids)
    states = pd.DataFrame({"element_id": ids, "status": "normal", "t_supply_c": rng.uniform(70, 120, n),
                           "p_supply_bar": rng.uniform(4, 12, n), "v_m_per_s": rng.uniform(0.2, 2.5, n),
                           "heat_mw": rng.uniform(1, 4, n), "flow_t_h": rng.uniform(10, 300, n)})
    now = datetime.now(UTC)
    return twin_runs.add_run(pool, started_at=now, finished_at=now, converged=True, cycle_s=2.0, states=states)


def _refresh_request() -> dict:
    return {"output": "..wall-live.data...wall-live-sig.data..",
            "outputs": [{"id": "wall-live", "property": "data"}, {"id": "wall-live-sig", "property": "data"}],
            "inputs": [{"id": "wall-interval", "property": "n_intervals", "value": 1},
                       {"id": "wall-quantity", "property": "value", "value": "t_supply"}],
            "changedPropIds": ["wall-interval.n_intervals"],
            "state": [{"id": "wall-live-sig", "property": "data", "value": None}]}


def _auth_ms(response) -> float:
    """The server's own account of its permission check (``Server-Timing: auth;dur=…``)."""
    timing = response.headers.get("Server-Timing", "")
    return float(timing.split("dur=")[1]) if "auth;dur=" in timing else float("nan")


def _time_refresh(client, repeat: int, auth_ms: list | None = None) -> tuple[list[float], bytes]:
    times, body = [], b""
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.post("/_dash-update-component", json=_refresh_request())
        times.append(1000 * (time.perf_counter() - start))
        assert response.status_code == 200, response.data[:500]
        if auth_ms is not None:
            auth_ms.append(_auth_ms(response))
        body = response.data
    return times, body


def _bench_user(pool) -> tuple[str, str]:
    """A dispatcher to log in as: the wall is measured as a logged-in user sees it."""
    import secrets

    from store.audit import Actor
    from store.users import add_user

    password = secrets.token_urlsafe(12)
    add_user(pool, username="bench-dispatcher", password=password, roles=["dispatcher"],
             actor=Actor("bench", "cli", "cli"))
    return "bench-dispatcher", password


def _browser_figures(base_url: str, stations: list[str], login: tuple[str, str]) -> dict:
    from scripts.wall_browser import log_in, open_wall, set_viewport, start_chrome

    driver = start_chrome()
    try:
        set_viewport(driver, 1920, 1080)
        log_in(driver, base_url, *login, next_path="/healthz")  # no Dash page yet: the cache stays cold
        open_wall(driver, base_url + "/")  # a fresh browser: nothing cached yet
        first_draw_cold_s = driver.execute_script("return window.heattwin.drawnAt") / 1000.0
        open_wall(driver, base_url + "/?lang=zh-CN")  # the wall reloaded, as on the control-room screen
        first_draw_s = driver.execute_script("return window.heattwin.drawnAt") / 1000.0
        apply_ms = driver.execute_script("return window.heattwin.applyMs")
        clicks = [_click_to_panel_ms(driver, station) for station in stations]
    finally:
        driver.quit()
    # The first click also pays for first-time rendering of the panel; the rest is the wall in use.
    return {"first_draw_s": first_draw_s, "first_draw_cold_s": first_draw_cold_s,
            "click_to_panel_ms": statistics.median(clicks[1:]), "click_to_panel_first_ms": clicks[0],
            "refresh_apply_ms": apply_ms}


_WATCH_PANEL = """
var ht = window.heattwin, map = ht.map.getContainer();
ht.clickAt = null; ht.panelAt = null;
map.addEventListener('click', function () { ht.clickAt = ht.clickAt || performance.now(); },
                    {capture: true, once: true});
new MutationObserver(function (station, records, observer) {
    var e = document.querySelector('#wall-panel.open .panel-id');
    if (e && e.dataset.element === station) { ht.panelAt = performance.now(); observer.disconnect(); }
}.bind(null, arguments[0])).observe(document.getElementById('wall-panel'),
                                     {subtree: true, childList: true, attributes: true});
"""


def _click_to_panel_ms(driver, station: str) -> float:
    """From the click event (mouse up) on the station's pixel to its panel in the DOM, the wall at rest."""
    from scripts.wall_browser import click_feature, wait_for

    # Click a wall at rest: the trend strip (plotly) has loaded and the previous panel has rendered.
    wait_for(driver, "return document.querySelector('#wall-trend .js-plotly-plot')", what="trend strip drawn")
    driver.execute_async_script("requestIdleCallback(arguments[0], {timeout: 5000});")
    driver.execute_script(_WATCH_PANEL, station)
    click_feature(driver, "wall-stations", station)
    wait_for(driver, "return window.heattwin.panelAt", what=f"panel on {station}")
    return driver.execute_script("return window.heattwin.panelAt - window.heattwin.clickAt")


def run(args) -> dict:
    from waitress.server import create_server

    from app.server import create_app
    from scripts.wall_browser import client_log_in
    from store.assets import count_by_kind
    from store.db import close_pools, get_pool

    settings = load_settings()
    stations = 600 if args.quick else 3400
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="heattwin-bench-wall-") as tmp:
        url = _fresh_database(settings)
        city = _load_city(url, stations, Path(tmp))
        pool = get_pool(url)
        _add_run(pool, rng)
        counts = count_by_kind(pool)
        login = _bench_user(pool)
        app = create_app(url, dataclasses.replace(settings, drawings_dir=Path(tmp) / "drawings", tile_url=None,
                                                  login_rate="1000 per minute"))
        client = app.server.test_client()
        client_log_in(client, *login)
        client.get("/")  # builds the geometry cache, as the first page load does
        _time_refresh(client, 1)
        _add_run(pool, rng)
        new_run_ms, _ = _time_refresh(client, 1)
        auth_ms: list[float] = []
        steady_ms, body = _time_refresh(client, 7, auth_ms)
        page = _wall_page_json(app)
        server = create_server(app.server, host="127.0.0.1", port=0, threads=6)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            browser = _browser_figures(f"http://127.0.0.1:{server.effective_port}", _some_stations(pool), login)
        finally:
            server.close()
        close_pools()
    return {
        "city": city, "stations": counts.get("station", 0), "pipes": counts.get("pipe", 0),
        "refresh_bytes": len(body), "refresh_gzip_bytes": len(gzip.compress(body)),
        "refresh_server_ms": statistics.median(steady_ms), "refresh_new_run_ms": new_run_ms[0],
        "auth_overhead_ms": statistics.median(auth_ms), "auth_overhead_max_ms": max(auth_ms),
        "page_bytes": len(page), "page_gzip_bytes": len(gzip.compress(page)), **browser,
    }


def _wall_page_json(app) -> bytes:
    """The wall page as sent on load (geometry included), serialized as Dash sends it."""
    import dash
    import plotly

    page = next(p for p in dash.page_registry.values() if p["path"] == "/")
    with app.server.test_request_context("/"):
        layout = page["layout"].__wrapped__()  # the page itself, past its login check
    return json.dumps(layout, cls=plotly.utils.PlotlyJSONEncoder).encode()


def _some_stations(pool, n: int = 6) -> list[str]:
    from store.assets import get_asset_rows

    assets, _ = get_asset_rows(pool)
    stations = assets.loc[assets["kind"] == "station", "id"]
    return stations.iloc[np.linspace(0, len(stations) - 1, n + 2).astype(int)[1:-1]].tolist()
