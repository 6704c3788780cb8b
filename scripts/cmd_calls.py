"""``heattwin calls simulate``: residents who ring the hotline because of what the plant is doing — inside a
known incident (a leak's dry region, an isolation, a failed station), or with a cold room — each with a
seeded chance per minute, sent through the call API as a softphone would (``POST /api/v1/calls``)."""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import requests

log = logging.getLogger("heattwin.calls")
# Chance per minute that a household calls: without heat because of a known incident, or with a cold room.
INCIDENT_CALLS_PER_MIN = 0.004
COLD_ROOM_CALLS_PER_MIN = 0.0005


def register(subparsers) -> None:
    parser = subparsers.add_parser("calls", help="the hotline's calls: simulate residents ringing")
    sub = parser.add_subparsers(dest="calls_command", required=True)
    simulate = sub.add_parser("simulate", help="residents ring when the plant leaves them cold")
    simulate.add_argument("--url", default="http://127.0.0.1:8050")
    simulate.add_argument("--token", default=os.environ.get("HEATTWIN_CALL_TOKEN"),
                          help="the line's bearer token (heattwin token add LINE; default HEATTWIN_CALL_TOKEN)")
    simulate.add_argument("--every", type=float, default=60.0, help="seconds between rounds")
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--rounds", type=int, help="stop after this many rounds (default: forever)")
    simulate.set_defaults(func=_simulate)


def affected_households(pool):
    """``(household id, phone, why)`` of households in an active incident or with a room under 18 °C."""
    with pool.connection() as conn:
        return conn.execute(
            "SELECT h.id, h.phone, 'incident' FROM household h JOIN incident i ON h.station_id = ANY(i.stations)"
            " WHERE i.ended_at IS NULL AND h.phone <> ''"
            " UNION SELECT h.id, h.phone, 'cold' FROM household h JOIN LATERAL (SELECT value FROM measurement m"
            "   WHERE m.sensor_id = h.sensor_id ORDER BY time DESC LIMIT 1) r ON true"
            " WHERE h.sensor_id IS NOT NULL AND r.value < 18 AND h.phone <> ''").fetchall()


def ring_round(pool, session: requests.Session, url: str, token: str, rng, minutes: float) -> int:
    """One round: who rings now, each sent as a call event; returns how many rang."""
    rows = affected_households(pool)
    if not rows:
        return 0
    chance = np.array([INCIDENT_CALLS_PER_MIN if why == "incident" else COLD_ROOM_CALLS_PER_MIN
                       for _, _, why in rows]) * minutes
    ringing = [rows[k] for k in np.flatnonzero(rng.random(len(rows)) < chance)]
    for household_id, phone, why in ringing:
        response = session.post(f"{url}/api/v1/calls", json={"phone": phone},
                                headers={"Authorization": f"Bearer {token}"}, timeout=10)
        log.info("%s (%s, %s) rings: HTTP %s", phone, household_id, why, response.status_code)
    return len(ringing)


def _simulate(args) -> int:
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool

    if not args.token:
        raise SystemExit("--token (or HEATTWIN_CALL_TOKEN): the line's token from heattwin token add LINE")
    pool = get_pool(cluster.database_url(load_settings()))
    rng, session, rounds = np.random.default_rng(args.seed), requests.Session(), 0
    while args.rounds is None or rounds < args.rounds:
        try:
            ring_round(pool, session, args.url, args.token, rng, args.every / 60.0)
        except requests.RequestException as exc:  # the web app is restarting: try again next round
            log.warning("call API unreachable: %s", exc)
        rounds += 1
        time.sleep(args.every)
    return 0
