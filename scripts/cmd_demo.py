"""``heattwin demo``: everything up on a laptop — store, demo city, virtual plant, twin sync loop, web app.

The plant and the sync loop run as child processes sharing state only through the database, as
they would on separate hosts; they stop when the demo stops.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from heattwin.settings import load_settings
from store import cluster

# Background processes of the demo: (command module that must exist, argv after `heattwin`).
_BACKGROUND = (
    ("scripts.cmd_simulate", ["simulate", "--speed", "0", "--backfill-hours", "3", "--via", "direct",
                              "--listen-setpoints"]),
    # Two weeks of hourly history before that (once; about two minutes): what the heat-load forecast trains on
    # and the control advice plans from — a utility's store holds seasons of it.
    ("scripts.cmd_simulate", ["simulate", "--speed", "0", "--backfill-hours", "3", "--history-days", "14",
                              "--step-s", "3600", "--via", "direct"]),
    ("scripts.cmd_sync", ["sync"]),
    ("scripts.cmd_orders", ["notify", "drain", "--forever"]),
    ("scripts.cmd_calls", ["calls", "simulate"]),
    # One scheduler per deployment (not one per web worker): the daily sheet, weekly analysis, monthly bulletin.
    ("scripts.cmd_reports", ["reports", "schedule"]),
)


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="bring up the whole demo (store, city, plant, twin, app)")
    parser.add_argument("--stations", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-serve", action="store_true", help="load everything, then exit")
    parser.set_defaults(func=_run)


def _ensure_city(settings, stations: int, seed: int):
    from data.democity import generate_city

    city_dir = settings.data_dir / f"demo-{stations}-{seed}"
    if not (city_dir / "network.gpkg").exists():
        print(f"generating the demo city ({stations} stations, seed {seed}) in {city_dir} …", flush=True)
        generate_city(city_dir, stations=stations, seed=seed, drawings_dir=settings.drawings_dir)
    return city_dir


def _start_background(url: str, call_token: str) -> list[subprocess.Popen]:
    children = []
    for module, argv in _BACKGROUND:
        if importlib.util.find_spec(module) is None:
            continue
        env_argv = [sys.executable, "-m", "scripts.cli", *argv]
        children.append(subprocess.Popen(env_argv, env={**os.environ, "DATABASE_URL": url,
                                                        "HEATTWIN_CALL_TOKEN": call_token}))
        print(f"started: heattwin {' '.join(argv)} (pid {children[-1].pid})", flush=True)
    threading.Thread(target=_watch_children, args=(children,), daemon=True, name="demo-children").start()
    return children


def _watch_children(children: list[subprocess.Popen], every_s: float = 5.0, rounds: int | None = None) -> None:
    """Reap each background process that ends (the one-off history run; a crashed loop) and say so: the
    operator learns the sync loop died from the console, not from a wall that stopped moving."""
    running = list(children)
    while running and (rounds is None or rounds > 0):
        for child in [c for c in running if c.poll() is not None]:
            running.remove(child)
            print(f"ended: {' '.join(map(str, child.args[3:]))} (pid {child.pid}, exit code {child.returncode})",
                  flush=True)
        rounds = None if rounds is None else rounds - 1
        time.sleep(every_s)


def _demo_accounts(url: str, settings) -> str:
    from scripts.demo_accounts import ensure_demo_accounts, login_banner, new_demo_kiosk
    from store.db import get_pool

    pool = get_pool(url)
    return login_banner(ensure_demo_accounts(pool), new_demo_kiosk(pool), f"http://{settings.host}:{settings.port}")


def _call_line_token(url: str) -> str:
    """The demo softphone's line: a fresh token each start (the old ones are revoked)."""
    from scripts.demo_accounts import DEMO_ACTOR
    from store.db import get_pool
    from store.tokens import add_token, revoke_tokens

    pool = get_pool(url)
    revoke_tokens(pool, "demo-cti", actor=DEMO_ACTOR)
    return add_token(pool, "demo-cti", actor=DEMO_ACTOR)


def _interrupt(*_signal) -> None:
    raise KeyboardInterrupt


@contextmanager
def _setpoint_broker() -> Iterator[None]:
    """A private Mosquitto carrying accepted control setpoints from the control page to the plant, unless
    ``HEATTWIN_MQTT_HOST`` names a broker already; without mosquitto the demo runs and says what is missing."""
    from scripts.mqtt_ingest import find_mosquitto, local_broker

    if os.environ.get("HEATTWIN_MQTT_HOST"):
        yield
        return
    if find_mosquitto() is None:
        print("mosquitto is not installed: an accepted control schedule cannot reach the plant"
              " (apt-get install mosquitto)", flush=True)
        yield
        return
    # Persistent, so a restarted demo's plant gets the schedule last accepted, as a plant's broker would keep it.
    with local_broker(persist_dir=load_settings().state_dir / "mqtt") as broker:
        env = {"HEATTWIN_MQTT_HOST": broker.host, "HEATTWIN_MQTT_PORT": str(broker.port),
               "HEATTWIN_MQTT_USERNAME": broker.username, "HEATTWIN_MQTT_PASSWORD": broker.password}
        os.environ.update(env)   # the web app's settings and every child's
        print(f"setpoint broker: mqtt://{broker.host}:{broker.port} (accepted schedules → the plant)", flush=True)
        try:
            yield
        finally:
            for name in env:
                os.environ.pop(name, None)


def _run(args) -> int:
    with _setpoint_broker():
        return _run_demo(args)


def _run_demo(args) -> int:
    settings = load_settings()
    url = cluster.database_url(settings)
    print(f"database: {url}", flush=True)
    city_dir = _ensure_city(settings, args.stations, args.seed)
    from scripts.loading import load_city

    summary = load_city(url, city_dir)
    print(f"demo city loaded: {summary.get('by_kind')}", flush=True)
    banner = _demo_accounts(url, settings)
    if args.no_serve:
        print(banner, flush=True)
        return 0
    children = _start_background(url, _call_line_token(url))
    # A service manager stops with SIGTERM: end the plant and the sync loop with the demo.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        from app.server import serve

        serve(url, settings, banner=banner)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=20)
    return 0
