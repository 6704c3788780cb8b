"""``heattwin bench ingest``: telemetry ingest against a bare COPY, over each route.

Into a fresh database ``heattwin_bench_ingest`` (1,000 sensors): a bare ``COPY`` of the rows into
``measurement`` (serialised by the same Arrow CSV writer), then ``ingest_rows`` on the same rows
(``bulk_over_copy`` is the ratio of the two rates, median of 3 alternating runs), then the HTTP
API served by ``heattwin ingest-server`` in its own process with 8 concurrent senders posting
batches of 500, then MQTT through a private Mosquitto and ``heattwin mqtt-ingest`` in its own
process. Targets (DESIGN.md): bulk >= 0.7 of COPY; HTTP >= 200,000 readings a minute.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg

from heattwin.settings import PROJECT_ROOT, load_settings
from store import cluster
from store.migrate import migrate

BENCH_DB = "heattwin_bench_ingest"
SENSORS = 1000
HTTP_BATCH = 500
HTTP_CLIENTS = 8
MQTT_READINGS_PER_MESSAGE = 10


def _fresh_database() -> str:
    bench_url = cluster.recreate_database(cluster.database_url(load_settings()), BENCH_DB)
    migrate(bench_url)
    return bench_url


def _network(pool) -> list[str]:
    from store.assets import replace_network

    point = {"type": "Point", "coordinates": [116.3, 39.9]}
    ids = [f"S-{i:05d}" for i in range(SENSORS)]
    rows = [{"id": "ST-1", "kind": "station", "name": "ST-1", "geometry": point, "lon": 116.3, "lat": 39.9,
             "attrs": {}}]
    rows += [{"id": sid, "kind": "sensor", "name": sid, "geometry": point, "lon": 116.3, "lat": 39.9,
              "attrs": {"element_id": "ST-1", "kind": "t_supply", "unit": "°C"}} for sid in ids]
    replace_network(pool, pd.DataFrame(rows), pd.DataFrame(columns=["kind", "name", "geometry"]), "bench")
    return ids


def _readings(ids: list[str], timestamps: int) -> pd.DataFrame:
    """Every sensor at each minute, newest a minute ago: the shape a SCADA poll produces."""
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=1)
    times = pd.date_range(end=end, periods=timestamps, freq="1min")
    rng = np.random.default_rng(7)
    return pd.DataFrame({"time": np.repeat(times, len(ids)), "sensor_id": np.tile(ids, timestamps),
                         "value": rng.uniform(40.0, 120.0, len(ids) * timestamps)})


def _truncate(pool) -> None:
    with pool.connection() as conn:
        conn.execute("TRUNCATE measurement, measurement_rejected")
        conn.commit()


def _bare_copy(pool, rows: pd.DataFrame) -> float:
    from store.telemetry.ingest import copy_csv, to_csv_bytes

    _truncate(pool)
    start = time.perf_counter()
    with pool.connection() as conn, conn.transaction():
        copy_csv(conn, "COPY measurement (time, sensor_id, value) FROM STDIN (FORMAT csv)",
                 to_csv_bytes(rows, ("time", "sensor_id", "value")))
    return time.perf_counter() - start


def _bulk(pool, rows: pd.DataFrame) -> float:
    from store.telemetry import ingest_rows

    _truncate(pool)
    start = time.perf_counter()
    result = ingest_rows(pool, rows, "bench")
    elapsed = time.perf_counter() - start
    if result.accepted != len(rows):
        raise RuntimeError(f"bench rows were refused: {result}")
    return elapsed


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM measurement").fetchone()[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(url: str, *args: str) -> subprocess.Popen:
    """A ``heattwin`` command in its own process (its own GIL), against the bench database."""
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "scripts.cmd_telemetry", *args], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_port(port: int, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {limit_s:g} s")


def _http_sender(url: str, token: str, ids: list[str], index: int, stop: threading.Event, acked: list) -> None:
    import requests

    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    base = datetime.now(UTC) - timedelta(hours=2)
    seq = 0
    while not stop.is_set():
        batch = []
        for _ in range(HTTP_BATCH):
            # Distinct microseconds per sender: every reading is new, as in real traffic.
            t = (base + timedelta(microseconds=index * 1_000_000_000 + seq)).isoformat()
            batch.append(f'{{"s":"{ids[seq % len(ids)]}","t":"{t}","v":{70 + seq % 13}}}')
            seq += 1
        answer = session.post(url, data="[" + ",".join(batch) + "]", headers=headers, timeout=120)
        answer.raise_for_status()
        acked.append(answer.json()["accepted"])


def _http(url: str, pool, ids: list[str], duration_s: float) -> dict:
    from store.tokens import add_token

    _truncate(pool)
    token = add_token(pool, "bench")
    port = _free_port()
    server = _spawn(url, "ingest-server", "--port", str(port))
    try:
        _wait_port(port)
        endpoint = f"http://127.0.0.1:{port}/api/v1/readings"
        stop, acked = threading.Event(), []
        senders = [threading.Thread(target=_http_sender, args=(endpoint, token, ids, i, stop, acked))
                   for i in range(HTTP_CLIENTS)]
        start = time.perf_counter()
        for sender in senders:
            sender.start()
        time.sleep(duration_s)
        stop.set()
        for sender in senders:
            sender.join()
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(10)
    stored = _count(url)
    return {"rows_per_s": sum(acked) / elapsed, "acknowledged": sum(acked), "stored": stored,
            "requests": len(acked), "seconds": elapsed}


def _mqtt(url: str, pool, ids: list[str], messages: int) -> dict:
    import paho.mqtt.client as mqtt

    from scripts.mqtt_ingest import local_broker

    _truncate(pool)
    expected = messages * MQTT_READINGS_PER_MESSAGE
    base = time.time() - 3 * 3600
    with local_broker() as port:
        subscriber = _spawn(url, "mqtt-ingest", "--port", str(port))
        try:
            time.sleep(3)  # the subscriber connects and subscribes
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-publisher")
            client.max_inflight_messages_set(1000)
            client.max_queued_messages_set(0)
            client.connect("127.0.0.1", port)
            client.loop_start()
            start = time.perf_counter()
            for m in range(messages):
                sensor = ids[m % len(ids)]
                t0 = base + (m // len(ids)) * MQTT_READINGS_PER_MESSAGE
                payload = json.dumps([{"t": t0 + k, "v": 60 + k} for k in range(MQTT_READINGS_PER_MESSAGE)])
                client.publish(f"heattwin/bench/{sensor}", payload, qos=1)
            stored = _wait_stored(url, expected, limit_s=300)
            elapsed = time.perf_counter() - start
            client.disconnect()
            client.loop_stop()
        finally:
            subscriber.terminate()
            subscriber.wait(10)
    return {"rows_per_s": stored / elapsed, "messages_per_s": messages / elapsed, "stored": stored,
            "expected": expected, "seconds": elapsed}


def _wait_stored(url: str, expected: int, limit_s: float) -> int:
    deadline = time.monotonic() + limit_s
    stored = 0
    while time.monotonic() < deadline:
        stored = _count(url)
        if stored >= expected:
            break
        time.sleep(0.2)
    return stored


def _queries(pool, ids: list[str]) -> dict:
    """What the wall and the twin ask every cycle, on the table the bulk run just filled."""
    from scripts.benchmarks import time_call
    from store.telemetry import get_latest, get_window_means

    latest_s, latest = time_call(lambda: get_latest(pool), repeat=5)
    end = datetime.now(UTC)
    means_s, _ = time_call(lambda: get_window_means(pool, end=end, window_s=300), repeat=5)
    assert len(latest) == len(ids)
    return {"latest_ms": 1000 * latest_s, "window_means_ms": 1000 * means_s}


def run(args) -> dict:
    from store.db import close_pools, get_pool

    quick = getattr(args, "quick", False)
    timestamps = 100 if quick else 400
    url = _fresh_database()
    pool = get_pool(url)
    ids = _network(pool)
    rows = _readings(ids, timestamps)
    copy_s, bulk_s = [], []
    for _ in range(3):
        copy_s.append(_bare_copy(pool, rows))
        bulk_s.append(_bulk(pool, rows))
    copy_rate, bulk_rate = len(rows) / statistics.median(copy_s), len(rows) / statistics.median(bulk_s)
    queries = _queries(pool, ids)
    http = _http(url, pool, ids, duration_s=10 if quick else 60)
    mqtt = _mqtt(url, pool, ids, messages=5_000 if quick else 30_000)
    close_pools()
    return {
        "rows": len(rows), "sensors": SENSORS,
        "copy_rows_per_s": copy_rate, "bulk_rows_per_s": bulk_rate, "bulk_over_copy": bulk_rate / copy_rate,
        "http_rows_per_s": http["rows_per_s"], "http_readings_per_min": 60 * http["rows_per_s"],
        "mqtt_rows_per_s": mqtt["rows_per_s"],
        "latest_ms": queries["latest_ms"], "window_means_ms": queries["window_means_ms"],
        "copy_s": copy_s, "bulk_s": bulk_s, "http": http, "mqtt": mqtt,
        "targets_met": {"bulk_over_copy>=0.7": bulk_rate / copy_rate >= 0.7,
                        "http>=200k/min": 60 * http["rows_per_s"] >= 200_000,
                        "http_stored==acknowledged": http["stored"] == http["acknowledged"],
                        "mqtt_all_stored": mqtt["stored"] == mqtt["expected"]},
    }
