"""The virtual plant's readings reach the store through each real ingest path: direct, HTTP, MQTT."""

from __future__ import annotations

import socket
import threading
import time

import pandas as pd
import pytest
from real_parts import require
from waitress import create_server

from app.api import create_ingest_app
from scripts.cmd_simulate import build_plant
from scripts.mqtt_ingest import MqttIngest, find_mosquitto, local_broker
from scripts.plant_senders import DirectSender, HttpSender, MqttSender
from store import telemetry
from store.db import get_pool
from store.tokens import add_token

AT = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=3)


@pytest.fixture
def pool(demo_db_url):
    return get_pool(demo_db_url)


@pytest.fixture
def readings(pool):
    plant = build_plant(pool, start=AT, faults=[], noise=False)
    return plant.step(AT, 60.0).head(400)


def _stored(pool, readings) -> int:
    latest = telemetry.get_latest(pool, readings["sensor_id"].tolist())
    return int((pd.to_datetime(latest["time"], utc=True) == AT).sum())


def test_direct_sender_stores_every_reading(pool, readings):
    assert DirectSender(pool).send(readings)["accepted"] == len(readings)
    assert _stored(pool, readings) == len(readings)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_http_sender_stores_every_reading(pool, demo_db_url, readings):
    port = _free_port()
    server = create_server(create_ingest_app(demo_db_url), host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        totals = HttpSender(f"http://127.0.0.1:{port}", add_token(pool, "plant"), batch_size=150).send(readings)
    finally:
        server.close()
        thread.join(5)
    assert totals["accepted"] == len(readings)
    assert _stored(pool, readings) == len(readings)


def test_mqtt_sender_stores_every_reading(pool, demo_db_url, readings):
    require(find_mosquitto() is not None, "mosquitto is not installed")
    with local_broker() as broker:
        subscriber = MqttIngest(demo_db_url, host="127.0.0.1", port=broker.port, flush_every=100, flush_s=0.5,
                                username=broker.username, password=broker.password)
        subscriber.start()
        sender = MqttSender("127.0.0.1", broker.port, username=broker.username, password=broker.password)
        try:
            sender.send(readings)
            deadline = time.monotonic() + 30
            while _stored(pool, readings) < len(readings) and time.monotonic() < deadline:
                time.sleep(0.3)
        finally:
            sender.close()
            subscriber.stop()
    assert _stored(pool, readings) == len(readings)
