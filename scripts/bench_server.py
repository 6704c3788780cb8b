"""The web app as ``make demo`` serves it, in its own process, for the benches that measure it over HTTP."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from store.audit import Actor

BENCH_ACTOR = Actor("bench", "cli", "cli")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(url: str, port: int, drawings: Path) -> subprocess.Popen:
    """``heattwin serve`` (waitress, the demo's threads) on ``url``'s database; returns once it answers."""
    env = {**os.environ, "DATABASE_URL": url, "HEATTWIN_PORT": str(port), "HEATTWIN_HOST": "127.0.0.1",
           "HEATTWIN_DRAWINGS_DIR": str(drawings), "HEATTWIN_LOGIN_RATE": "1000 per minute"}
    env.pop("HEATTWIN_TILE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "scripts.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                return server
        except requests.RequestException:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("heattwin serve did not come up within 120 s")


def bench_user(pool, role: str, team_id: str | None = None, username: str | None = None) -> tuple[str, str]:
    """A user of ``role`` to log in as (benches measure what a logged-in user waits for)."""
    from store.users import add_user

    username, password = username or f"bench-{role}", secrets.token_urlsafe(12)
    add_user(pool, username=username, password=password, roles=[role], actor=BENCH_ACTOR, team_id=team_id)
    return username, password
