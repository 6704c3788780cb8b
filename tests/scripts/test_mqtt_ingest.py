"""MQTT end to end with a real Mosquitto: readings published on heattwin/<source>/<sensor_id>
land in ``measurement``; a payload that does not parse is quarantined with its topic."""

from __future__ import annotations

import json
import time

import paho.mqtt.client as mqtt
import psycopg
import pytest
from real_parts import require
from telemetry_net import build_network

from scripts.mqtt_ingest import MqttIngest, find_mosquitto, local_broker

SENSORS = {"S-T1": ("t_supply", "ST-1"), "S-R1": ("room_t", "C-1")}


@pytest.fixture
def broker_port():
    binary = find_mosquitto()
    require(binary is not None, "mosquitto is not installed (Debian: apt-get install mosquitto)")
    with local_broker(binary) as port:
        yield port


def _publish(port: int, messages: list[tuple[str, bytes | str]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-publisher")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def _wait_for(subscriber: MqttIngest, received: int, limit_s: float = 20.0) -> None:
    """Wait until the broker has delivered ``received`` messages (bounded, so a loss fails)."""
    deadline = time.monotonic() + limit_s
    while subscriber.received < received and time.monotonic() < deadline:
        time.sleep(0.05)


def test_published_readings_land_in_measurement(pool, db_url, broker_port):
    build_network(pool, SENSORS)
    subscriber = MqttIngest(db_url, port=broker_port, flush_every=100, flush_s=0.2)
    subscriber.start()
    now = time.time()
    messages = [
        ("heattwin/plant/S-T1", json.dumps({"t": now - 60, "v": 95.0})),
        ("heattwin/plant/S-T1", json.dumps([{"t": now - 30, "v": 96.0}, {"t": now - 20, "v": 97.0}])),
        ("heattwin/rooms/S-R1", json.dumps({"readings": [{"t": now - 10, "v": 21.5}]})),
        ("heattwin/rooms/S-R1", b"\x00garbage"),
        ("heattwin/rooms/S-GHOST", json.dumps({"t": now, "v": 20.0})),
        ("heattwin/plant/S-T1", json.dumps({"t": now - 60, "v": 95.0})),  # a resend: duplicate
    ]
    _publish(broker_port, messages)
    _wait_for(subscriber, len(messages))
    totals = subscriber.stop()
    assert (totals.accepted, totals.duplicates, totals.rejected) == (4, 1, 2)
    assert totals.reasons == {"payload_unparseable": 1, "sensor_unknown": 1}
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT sensor_id, value FROM measurement ORDER BY time").fetchall()
        rejected = conn.execute("SELECT origin, reason, raw FROM measurement_rejected ORDER BY reason").fetchall()
    assert stored == [("S-T1", 95.0), ("S-T1", 96.0), ("S-T1", 97.0), ("S-R1", 21.5)]
    assert rejected[0][:2] == ("mqtt:heattwin/rooms/S-R1", "payload_unparseable")
    assert "garbage" in rejected[0][2]
    assert rejected[1][:2] == ("mqtt:heattwin/rooms/S-GHOST", "sensor_unknown")


def test_subscriber_without_broker_fails_to_start(db_url):
    subscriber = MqttIngest(db_url, port=1)  # nothing listens on port 1
    with pytest.raises((ConnectionRefusedError, OSError)):
        subscriber.start(timeout_s=1)
