"""``heattwin bench ingest``: telemetry ingest against a bare COPY, over each route.

Into fresh databases (1,000 sensors) — ``heattwin_bench_ingest`` with ``measurement`` a TimescaleDB
hypertable where the server preloads the extension, and ``heattwin_bench_ingest_plain`` migrated
with ``HEATTWIN_TIMESCALEDB=off`` (the plain table; the only one on a server without the
extension) — the same readings go in two ways, alternately, 5 times each (3 with ``--quick``),
into the emptied table:

- bare: what a competent user does by hand with psycopg 3 — the rows sorted into the primary
  key's order and written straight into ``measurement`` (its key and time index in place) with one
  binary ``COPY`` (``cursor.copy(... FORMAT BINARY)``, ``set_types``, ``write_row``);
- bulk: ``ingest_rows`` (parse, stage, validate against the sensors and ranges, quarantine, insert).

Both start from the same DataFrame and their timers include their own conversion and sort.
``bulk_over_copy`` is the ratio of the median rates, per database (and each run's ratio, for the
spread); the top-level one is the database the product uses by default (the hypertable where
TimescaleDB is there). Then, on that database, the HTTP API served by ``heattwin ingest-server``
in its own process with 8 concurrent senders posting batches of 500, and MQTT through a private
Mosquitto and ``heattwin mqtt-ingest`` in its own process. Targets (DESIGN.md): bulk >= 0.7 of COPY; HTTP >= 200,000 readings a minute.
"""

from __future__ import annotations

import contextlib
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
from store.migrate import has_timescaledb, migrate

BENCH_DB = "heattwin_bench_ingest"
BARE_COPY = "COPY measurement (time, sensor_id, value) FROM STDIN (FORMAT BINARY)"
SENSORS = 1000
HTTP_BATCH = 500
HTTP_CLIENTS = 8
MQTT_READINGS_PER_MESSAGE = 10


@contextlib.contextmanager
def _environment(name: str, value: str):
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _fresh_databases() -> dict[str, str]:
    """Fresh migrated databases by path: ``timescaledb`` (where the server offers it) and ``plain``."""
    server_url = cluster.database_url(load_settings())
    default_url = cluster.recreate_database(server_url, BENCH_DB)
    migrate(default_url)
    with psycopg.connect(default_url) as conn:
        if not has_timescaledb(conn):
            return {"plain": default_url}
    plain_url = cluster.recreate_database(server_url, BENCH_DB + "_plain")
    with _environment("HEATTWIN_TIMESCALEDB", "off"):
        migrate(plain_url)
    return {"timescaledb": default_url, "plain": plain_url}


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


def key_ordered_rows(rows: pd.DataFrame):
    """``(time, sensor_id, value)`` tuples in the primary key's order, times as aware datetimes."""
    ordered = rows.sort_values(["sensor_id", "time"], kind="stable")
    times = ordered["time"].dt.tz_convert("UTC").array.to_pydatetime()
    return zip(times, ordered["sensor_id"].tolist(), ordered["value"].tolist(), strict=True)


def bare_copy(conn, rows: pd.DataFrame) -> None:
    """The rows in primary-key order, written with one binary COPY straight into ``measurement``."""
    with conn.cursor().copy(BARE_COPY) as copy:
        copy.set_types(["timestamptz", "text", "float8"])
        for row in key_ordered_rows(rows):
            copy.write_row(row)


def _bare_copy(pool, rows: pd.DataFrame) -> float:
    _truncate(pool)
    start = time.perf_counter()
    with pool.connection() as conn, conn.transaction():
        bare_copy(conn, rows)
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


def _count(url: str, since: float | None = None) -> int:
    """Rows in ``measurement`` (from epoch second ``since`` on, when given)."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM measurement WHERE time >= to_timestamp(%s)",
                            (since if since is not None else 0.0,)).fetchone()[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(url: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    """A ``heattwin`` command in its own process (its own GIL), against the bench database."""
    env = {**os.environ, **(env or {}), "DATABASE_URL": url}
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
    with local_broker() as broker:
        account = {"HEATTWIN_MQTT_USERNAME": broker.username, "HEATTWIN_MQTT_PASSWORD": broker.password}
        subscriber = _spawn(url, "mqtt-ingest", "--port", str(broker.port), env=account)
        try:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-publisher")
            client.max_inflight_messages_set(1000)
            client.max_queued_messages_set(0)
            client.username_pw_set(broker.username, broker.password)
            client.connect("127.0.0.1", broker.port)
            client.loop_start()
            _wait_subscribed(url, pool, client, ids[0], subscriber)
            start = time.perf_counter()
            for m in range(messages):
                sensor = ids[m % len(ids)]
                t0 = base + (m // len(ids)) * MQTT_READINGS_PER_MESSAGE
                payload = json.dumps([{"t": t0 + k, "v": 60 + k} for k in range(MQTT_READINGS_PER_MESSAGE)])
                client.publish(f"heattwin/bench/{sensor}", payload, qos=1)
            stored = _wait_stored(url, expected, limit_s=300, since=base)
            elapsed = time.perf_counter() - start
            client.disconnect()
            client.loop_stop()
        finally:
            subscriber.terminate()
            subscriber.wait(10)
    return {"rows_per_s": stored / elapsed, "messages_per_s": messages / elapsed, "stored": stored,
            "expected": expected, "seconds": elapsed}


def _wait_subscribed(url: str, pool, client, sensor_id: str, subscriber, limit_s: float = 120.0) -> None:
    """Probe until the subscriber stores a reading (a message sent before it subscribed is lost, and
    it starts slowly on a busy machine), then empty the table for the timed run; probes are 4 hours
    old, so a late one is not counted with the run's readings (from 3 hours ago)."""
    deadline = time.monotonic() + limit_s
    probe = time.time() - 4 * 3600
    while _count(url) == 0:
        if subscriber.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"mqtt-ingest stored nothing within {limit_s:g} s (exit code {subscriber.poll()})")
        client.publish(f"heattwin/bench/{sensor_id}", json.dumps([{"t": probe, "v": 60}]), qos=1)
        time.sleep(0.5)
    time.sleep(1.0)  # let the probes in flight land before the table is emptied
    _truncate(pool)


def _wait_stored(url: str, expected: int, limit_s: float, since: float) -> int:
    deadline = time.monotonic() + limit_s
    stored = 0
    while time.monotonic() < deadline:
        stored = _count(url, since)
        if stored >= expected:
            break
        time.sleep(0.2)
    return stored


def _queries(pool, ids: list[str]) -> dict:
    """What the wall and the twin ask every cycle, on the table the last bulk run filled."""
    from scripts.benchmarks import time_call
    from store.telemetry import get_latest, get_window_means

    latest_s, latest = time_call(lambda: get_latest(pool), repeat=5)
    end = datetime.now(UTC)
    means_s, _ = time_call(lambda: get_window_means(pool, end=end, window_s=300), repeat=5)
    assert len(latest) == len(ids)
    return {"latest_ms": 1000 * latest_s, "window_means_ms": 1000 * means_s}


def measure_bulk(pool, rows: pd.DataFrame, repeat: int = 3) -> dict:
    """The bare binary COPY and ``ingest_rows`` of the same rows, alternately, into the emptied table."""
    copy_s, bulk_s = [], []
    for _ in range(repeat):
        copy_s.append(_bare_copy(pool, rows))
        if _count_pool(pool) != len(rows):
            raise RuntimeError("the bare COPY did not store every row")
        bulk_s.append(_bulk(pool, rows))
    copy_rate, bulk_rate = len(rows) / statistics.median(copy_s), len(rows) / statistics.median(bulk_s)
    return {"copy_rows_per_s": copy_rate, "bulk_rows_per_s": bulk_rate, "bulk_over_copy": bulk_rate / copy_rate,
            "copy_s": copy_s, "bulk_s": bulk_s,
            # Each bulk run against the COPY just before it (the same load on the machine).
            "bulk_over_copy_runs": [c / b for c, b in zip(copy_s, bulk_s, strict=True)]}


def _count_pool(pool) -> int:
    with pool.connection() as conn:
        return conn.execute("SELECT count(*) FROM measurement").fetchone()[0]


def run(args) -> dict:
    from store.db import close_pools, get_pool

    quick = getattr(args, "quick", False)
    timestamps = 100 if quick else 400
    urls = _fresh_databases()
    paths, rows = {}, None
    for path, path_url in urls.items():
        path_pool = get_pool(path_url)
        ids = _network(path_pool)
        rows = _readings(ids, timestamps) if rows is None else rows
        paths[path] = measure_bulk(path_pool, rows, repeat=3 if quick else 5)
    default = "timescaledb" if "timescaledb" in urls else "plain"
    url = urls[default]
    pool = get_pool(url)
    queries = _queries(pool, ids)
    http = _http(url, pool, ids, duration_s=10 if quick else 60)
    mqtt = _mqtt(url, pool, ids, messages=5_000 if quick else 30_000)
    close_pools()
    bulk = paths[default]
    return {
        "rows": len(rows), "sensors": SENSORS, "database": default,
        "copy_rows_per_s": bulk["copy_rows_per_s"], "bulk_rows_per_s": bulk["bulk_rows_per_s"],
        "bulk_over_copy": bulk["bulk_over_copy"],
        **{f"{path}_bulk_over_copy": figures["bulk_over_copy"] for path, figures in paths.items()},
        "http_rows_per_s": http["rows_per_s"], "http_readings_per_min": 60 * http["rows_per_s"],
        "mqtt_rows_per_s": mqtt["rows_per_s"],
        "latest_ms": queries["latest_ms"], "window_means_ms": queries["window_means_ms"],
        "paths": paths, "http": http, "mqtt": mqtt,
        "targets_met": {**{f"{path}_bulk_over_copy>=0.7": figures["bulk_over_copy"] >= 0.7
                           for path, figures in paths.items()},
                        "http>=200k/min": 60 * http["rows_per_s"] >= 200_000,
                        "http_stored==acknowledged": http["stored"] == http["acknowledged"],
                        "mqtt_all_stored": mqtt["stored"] == mqtt["expected"]},
    }
