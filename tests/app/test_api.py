"""HTTP ingest against a real waitress server: bearer tokens, both body forms, quarantine of
what cannot be read, and under ten concurrent senders every acknowledged reading is stored."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import requests
from telemetry_net import build_network
from waitress import create_server

from app.api import MAX_BODY_BYTES, create_ingest_app
from store.tokens import add_token, revoke_tokens

SENSORS = {f"S-{i}": ("t_supply", "ST-1") for i in range(20)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(pool, db_url):
    """(base url, token) of a real ingest server on a free loopback port."""
    build_network(pool, SENSORS)
    token = add_token(pool, "scada-north")
    port = _free_port()
    wsgi = create_server(create_ingest_app(db_url), host="127.0.0.1", port=port, threads=8)
    thread = threading.Thread(target=wsgi.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/api/v1/readings", token
    wsgi.close()
    thread.join(5)


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _count(db_url, table: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _iso(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def test_no_or_bad_token_is_401_and_stores_nothing(server, db_url):
    url, _token = server
    body = [{"s": "S-1", "t": _iso(1), "v": 70}]
    assert requests.post(url, json=body, timeout=10).status_code == 401
    answer = requests.post(url, json=body, headers=_auth("not-a-token"), timeout=10)
    assert answer.status_code == 401 and "token add" in answer.json()["error"]
    assert _count(db_url, "measurement") == 0


def test_revoked_token_is_refused(server, pool):
    url, _token = server
    fresh = add_token(pool, "old-gateway")
    revoke_tokens(pool, "old-gateway")
    assert requests.post(url, json=[], headers=_auth(fresh), timeout=10).status_code == 401


def test_json_array_with_short_and_long_keys_is_stored(server, db_url):
    url, token = server
    epoch = time.time() - 120
    body = [{"sensor_id": "S-1", "time": _iso(1), "value": 80.5}, {"s": "S-2", "t": epoch, "v": 81},
            {"s": "S-3", "t": _iso(1), "v": 900}, {"s": "S-1", "t": "never", "v": 1}, "junk"]
    answer = requests.post(url, json=body, headers=_auth(token), timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 2, "duplicates": 0, "rejected": 3,
                             "reasons": {"value_out_of_range": 1, "time_unparseable": 1, "reading_malformed": 1}}
    assert _count(db_url, "measurement") == 2
    with psycopg.connect(db_url) as conn:
        origins = {r[0] for r in conn.execute("SELECT origin FROM measurement_rejected")}
        raw = conn.execute("SELECT raw FROM measurement_rejected WHERE reason = 'value_out_of_range'").fetchone()[0]
    assert origins == {"http:scada-north"}
    assert json.loads(raw) == {"s": "S-3", "t": body[2]["t"], "v": 900}


def test_json_lines_keep_going_past_a_broken_line(server, db_url):
    url, token = server
    lines = [json.dumps({"s": "S-4", "t": _iso(2), "v": 60}), "{broken", json.dumps({"s": "S-5", "t": _iso(2), "v": 61})]
    answer = requests.post(url, data="\n".join(lines), timeout=10,
                           headers={**_auth(token), "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 2 and answer.json()["reasons"] == {"payload_unparseable": 1}


def test_unparseable_body_is_400_quarantined_and_not_acknowledged(server, db_url):
    url, token = server
    answer = requests.post(url, data='[{"s": "S-1", "t": 1, "v": ', timeout=10,
                           headers={**_auth(token), "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert "not JSON" in answer.json()["error"] and answer.json()["accepted"] == 0
    assert _count(db_url, "measurement") == 0 and _count(db_url, "measurement_rejected") == 1
    assert requests.post(url, data=b"", headers=_auth(token), timeout=10).status_code == 400


def test_a_body_over_the_limit_is_413_and_stores_nothing_while_one_at_the_limit_is_read(server, db_url):
    """``MAX_BODY_BYTES`` (32 MiB) is the most one request may carry: a sender splits bigger batches."""
    url, token = server
    headers = {**_auth(token), "Content-Type": "application/json"}
    reading = json.dumps([{"s": "S-1", "t": _iso(1), "v": 70}]).encode()
    at_limit = reading + b" " * (MAX_BODY_BYTES - len(reading))     # JSON allows the trailing blanks
    answer = requests.post(url, data=at_limit, headers=headers, timeout=60)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    other = json.dumps([{"s": "S-2", "t": _iso(1), "v": 71}]).encode()
    over = other + b" " * (MAX_BODY_BYTES + 1 - len(other))          # one byte more
    answer = requests.post(url, data=over, headers=headers, timeout=60)
    assert answer.status_code == 413
    assert _count(db_url, "measurement") == 1 and _count(db_url, "measurement_rejected") == 0


def _sender(url: str, token: str, index: int, stop: threading.Event, acked: list, errors: list) -> None:
    session = requests.Session()
    start = datetime.now(UTC) - timedelta(hours=1)
    seq = 0
    while not stop.is_set():
        batch = []
        for _ in range(50):
            # A distinct time per sender and reading: every reading is new.
            t = start + timedelta(microseconds=index * 100_000_000 + seq)
            batch.append({"s": f"S-{seq % 20}", "t": t.isoformat(), "v": 70 + seq % 7})
            seq += 1
        answer = session.post(url, json=batch, headers=_auth(token), timeout=60)
        if answer.status_code != 200:
            errors.append(answer.text)
            return
        acked.append(answer.json())


def test_ten_concurrent_senders_lose_nothing(server, db_url):
    url, token = server
    stop, acked, errors = threading.Event(), [], []
    threads = [threading.Thread(target=_sender, args=(url, token, i, stop, acked, errors)) for i in range(10)]
    for thread in threads:
        thread.start()
    time.sleep(5)
    stop.set()
    for thread in threads:
        thread.join(60)
    assert not errors
    accepted = sum(a["accepted"] for a in acked)
    assert accepted == len(acked) * 50 > 0
    assert sum(a["rejected"] + a["duplicates"] for a in acked) == 0
    assert _count(db_url, "measurement") == accepted

