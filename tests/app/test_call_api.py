"""The call API over real HTTP (a softphone's line token) and the demo's ringing residents."""

from __future__ import annotations

import numpy as np
import requests

from scripts.cmd_calls import ring_round
from store import calls, incidents
from store.audit import Actor
from store.db import get_pool
from store.households import list_households
from store.tokens import add_token, revoke_tokens

LINE = Actor("test-setup", "cli")


def test_a_call_event_needs_its_lines_token_and_a_resend_is_the_same_call(wall_url, city_db_url):
    pool = get_pool(city_db_url)
    household = list_households(pool).iloc[0]
    token = add_token(pool, "cti-north", actor=LINE)
    body = {"phone": household["phone"], "seat": "t-agent", "call_id": "cti-0001"}
    assert requests.post(f"{wall_url}/api/v1/calls", json=body, timeout=10).status_code == 401
    first = requests.post(f"{wall_url}/api/v1/calls", json=body, headers={"Authorization": f"Bearer {token}"},
                          timeout=10)
    again = requests.post(f"{wall_url}/api/v1/calls", json=body, headers={"Authorization": f"Bearer {token}"},
                          timeout=10)
    assert first.status_code == 200 and first.json()["household_id"] == household["id"]
    assert again.json()["call_id"] == first.json()["call_id"]
    assert calls.get_call(pool, first.json()["call_id"])["line"] == "cti-north"
    bad = requests.post(f"{wall_url}/api/v1/calls", json={"phone": "x"}, headers={"Authorization": f"Bearer {token}"},
                        timeout=10)
    assert bad.status_code == 400 and "not a telephone number" in bad.json()["error"]
    revoke_tokens(pool, "cti-north", actor=LINE)
    assert requests.post(f"{wall_url}/api/v1/calls", json=body, headers={"Authorization": f"Bearer {token}"},
                         timeout=10).status_code == 401


def test_households_left_without_heat_ring_the_hotline(wall_url, city_db_url):
    pool = get_pool(city_db_url)
    station = list_households(pool).iloc[0]["station_id"]
    incidents.add_isolation(pool, pipe_id="P-00001", stations=[station], valves=[], actor=Actor("wang", "dispatcher"))
    token = add_token(pool, "demo-cti", actor=LINE)
    rang = sum(ring_round(pool, requests.Session(), wall_url, token, np.random.default_rng(k), minutes=60.0)
               for k in range(3))
    assert rang > 0
    with pool.connection() as conn:
        stored = conn.execute("SELECT count(*), count(*) FILTER (WHERE incident_id IS NOT NULL) FROM call_event"
                              ).fetchone()
    assert stored[0] == rang and stored[1] >= 1
