"""``heattwin bench wall``: the video wall on the 3,400-station city, served as ``make demo`` serves it.

The city's twin is real: the virtual plant sends ten minutes of readings and the sync loop solves them
(states, residuals, the alarms its rules raise). ``heattwin serve`` runs in its own process (waitress);
every figure is taken over real HTTP with gzip, logged in as a dispatcher.

- One browser: ``refresh_bytes`` / ``refresh_gzip_bytes`` of the live refresh (uncompressed, on the
  wire), ``refresh_http_ms`` its latency (a browser with no signature yet, so the whole payload),
  ``refresh_new_run_ms`` right after a new sync run lands, ``auth_overhead_ms`` what the login and
  permission check add (the server's own ``Server-Timing: auth``, median).
- Concurrent: ``WALLS`` wall screens and ``SUPERVISORS`` supervisors' browsers, each posting the wall's
  clocked callbacks (live, alarms, orders every 5 s; KPI tiles every 10 s) with the signatures the
  server sent echoed back, for two minutes: ``refresh_p50_ms`` / ``refresh_p95_ms`` over every request,
  per callback p95s, ``requests_per_s`` and ``server_cpu_pct`` (the server process's CPU time over the
  window; 100 % is one core of ``server_cpu_cores``; clients and PostgreSQL share the machine).
- In Chromium: ``first_draw_cold_s`` (a fresh profile) and ``first_draw_s`` (a reload) from navigation
  to every feature drawn, ``click_to_panel_ms`` from the click on a station to its panel,
  ``refresh_apply_ms`` the browser's restyle time; ``page_bytes`` the wall page with its geometry.

Targets: < 200 KB and < 100 ms per refresh (p95 under load); first draw < 3 s; click to panel < 500 ms;
the check under 5 ms. The city is ``data.democity`` when present, else (or with
``HEATTWIN_BENCH_CITY=synthetic``) the synthetic grid city of ``scripts.wall_city``.
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from heattwin.settings import load_settings
from scripts import bench_server, wall_clicks, wall_load
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


def _real_twin(pool, minutes: int = 10):
    """The virtual plant sends ``minutes`` of readings up to now and the sync loop solves the twin on them
    twice, so the wall shows real runs: states, residuals and the alarms the rules raise."""
    from scripts.cmd_simulate import build_plant, run_plant
    from scripts.plant_senders import DirectSender
    from twin.sync import SyncLoop

    now = pd.Timestamp.now(tz="UTC").floor("min")
    start = now - pd.Timedelta(minutes=minutes)
    plant = build_plant(pool, start=start, faults=[])
    run_plant(plant, DirectSender(pool), start=start, end=now, step_s=60.0, speed=0.0)
    loop = SyncLoop(pool)
    for at in (now - pd.Timedelta(minutes=minutes // 2), now):
        loop.cycle(at)
    return loop


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


WALLS, SUPERVISORS = 4, 20


def _sequential(base_url: str, login: tuple[str, str], loop) -> dict:
    """One logged-in browser's refresh over HTTP (gzip), steady and right after a new sync run."""
    session = wall_load.log_in(base_url, *login)
    session.get(f"{base_url}/", timeout=60)
    browser = wall_load.WallBrowser(base_url, session, session.get(f"{base_url}/_dash-dependencies").json())
    full = []
    for _ in range(8):  # a browser that just opened the wall: no signature yet, the whole payload
        browser.store.pop("wall-live-sig", None)
        full.append(browser.post("live"))
    auth = []
    for _ in range(8):
        response = session.post(f"{base_url}/_dash-update-component", json=_refresh_request(), timeout=60)
        auth.append(_auth_ms(response))
    loop.cycle(pd.Timestamp.now(tz="UTC"))
    browser.store.pop("wall-live-sig", None)
    new_run = browser.post("live")
    raw = session.post(f"{base_url}/_dash-update-component", json=_refresh_request(),
                       headers={"Accept-Encoding": "identity"}, timeout=60)
    return {"refresh_bytes": len(raw.content), "refresh_gzip_bytes": full[-1].wire_bytes,
            "refresh_http_ms": statistics.median(s.ms for s in full[1:]), "refresh_new_run_ms": new_run.ms,
            "auth_overhead_ms": statistics.median(auth), "auth_overhead_max_ms": max(auth)}


def _concurrent(base_url: str, login: tuple[str, str], server_pid: int, duration_s: float) -> dict:
    """``WALLS`` wall screens and ``SUPERVISORS`` supervisors' browsers (today they have the wall open too)
    on their real clocks at once: refresh latency percentiles and the server's CPU."""
    sessions = [wall_load.log_in(base_url, *login) for _ in range(WALLS + SUPERVISORS)]
    cpu_before, started = wall_load.process_cpu_s(server_pid), time.monotonic()
    result = wall_load.run_load(base_url, sessions, duration_s)
    elapsed = time.monotonic() - started
    cpu_share = (wall_load.process_cpu_s(server_pid) - cpu_before) / elapsed
    return {"clients": len(sessions), "load_s": round(elapsed, 1), "requests": len(result.samples),
            "requests_per_s": len(result.samples) / elapsed, "errors": len(result.errors),
            "refresh_p50_ms": result.percentile_ms(50), "refresh_p95_ms": result.percentile_ms(95),
            "live_p95_ms": result.percentile_ms(95, "live"), "alarms_p95_ms": result.percentile_ms(95, "alarms"),
            "kpis_p95_ms": result.percentile_ms(95, "kpis"),
            "server_cpu_pct": 100.0 * cpu_share, "server_cpu_cores": os.cpu_count()}


def _live_stack(url: str) -> list:
    """The virtual plant and the sync loop on ``url``'s database, as ``heattwin demo`` runs them."""
    env = {**os.environ, "DATABASE_URL": url}
    return [subprocess.Popen([sys.executable, "-m", "scripts.cli", *argv], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
            for argv in (["simulate", "--speed", "0", "--via", "direct"], ["sync"])]


def _clicks_on(base_url: str, login: tuple[str, str] | None, args) -> dict:
    """``wall_clicks.live_clicks`` on the wall at ``base_url``; with no ``login``, as a dispatcher of its own
    in the database ``heattwin`` uses (the running demo's), or ``HEATTWIN_BENCH_LOGIN=user:password``."""
    if login is None:
        given = os.environ.get("HEATTWIN_BENCH_LOGIN")
        login = tuple(given.split(":", 1)) if given else wall_clicks.bench_login(None)
    per_kind = args.clicks or (5 if args.quick else 20)
    return wall_clicks.live_clicks(base_url.rstrip("/"), login, per_kind, min(per_kind, 5))


def run(args) -> dict:
    from store.assets import count_by_kind
    from store.db import close_pools, get_pool

    if getattr(args, "url", None):
        return _clicks_on(args.url, None, args)
    settings = load_settings()
    stations = 600 if args.quick else 3400
    with tempfile.TemporaryDirectory(prefix="heattwin-bench-wall-") as tmp:
        url = _fresh_database(settings)
        city = _load_city(url, stations, Path(tmp))
        pool = get_pool(url)
        loop = _real_twin(pool)
        counts = count_by_kind(pool)
        login = bench_server.bench_user(pool, "dispatcher")
        port = bench_server.free_port()
        server = bench_server.serve(url, port, Path(tmp) / "drawings")
        base_url = f"http://127.0.0.1:{port}"
        try:
            sequential = _sequential(base_url, login, loop)
            concurrent = _concurrent(base_url, login, server.pid, 30.0 if args.quick else 120.0)
            browser = _browser_figures(base_url, _some_stations(pool), login)
            live = _live_stack(url)
            try:
                clicks = _clicks_on(base_url, login, args)
            finally:
                for child in live:
                    child.terminate()
                    child.wait(20)
        finally:
            server.terminate()
            server.wait(20)
        page = _wall_page_json(url, settings, Path(tmp) / "drawings")
        close_pools()
    return {"city": city, "stations": counts.get("station", 0), "pipes": counts.get("pipe", 0), **sequential,
            **concurrent, "page_bytes": len(page), "page_gzip_bytes": len(gzip.compress(page)), **browser,
            "live_clicks": clicks}


def _wall_page_json(url: str, settings, drawings: Path) -> bytes:
    """The wall page as sent on load (geometry included), serialized as Dash sends it."""
    import dash
    import plotly

    from app.server import create_app

    app = create_app(url, dataclasses.replace(settings, drawings_dir=drawings, tile_url=None))
    page = next(p for p in dash.page_registry.values() if p["path"] == "/")
    with app.server.test_request_context("/"):
        layout = page["layout"].__wrapped__()  # the page itself, past its login check
    return json.dumps(layout, cls=plotly.utils.PlotlyJSONEncoder).encode()


def _some_stations(pool, n: int = 6) -> list[str]:
    from store.assets import get_asset_rows

    assets, _ = get_asset_rows(pool)
    stations = assets.loc[assets["kind"] == "station", "id"]
    return stations.iloc[np.linspace(0, len(stations) - 1, n + 2).astype(int)[1:-1]].tolist()
