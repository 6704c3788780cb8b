"""MQTT end to end with a real Mosquitto: readings published on heattwin/<source>/<sensor_id>
land in ``measurement``; a payload that does not parse is quarantined with its topic."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as mqtt
import psycopg
import pytest
from real_parts import require
from telemetry_net import build_network

from scripts.mqtt_ingest import MqttIngest, find_mosquitto, local_broker
from twin.control.adapter import COMMAND_TOPIC

SENSORS = {"S-T1": ("t_supply", "ST-1"), "S-R1": ("room_t", "C-1")}


@pytest.fixture
def broker():
    binary = find_mosquitto()
    require(binary is not None, "mosquitto is not installed (Debian: apt-get install mosquitto)")
    with local_broker(binary) as running:
        yield running


def _publish(broker, messages: list[tuple[str, bytes | str]], retain: bool = False) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-publisher")
    client.username_pw_set(broker.username, broker.password)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def _wait_for(subscriber: MqttIngest, received: int, limit_s: float = 20.0) -> None:
    """Wait until the broker has delivered ``received`` messages (bounded, so a loss fails)."""
    deadline = time.monotonic() + limit_s
    while subscriber.received < received and time.monotonic() < deadline:
        time.sleep(0.05)


def _connect_result(broker, username: str | None, password: str | None) -> mqtt.ReasonCode:
    """What the broker answers a client with these credentials (None: anonymous)."""
    answered = threading.Event()
    result = {}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{username}")
    if username is not None:
        client.username_pw_set(username, password)

    def on_connect(_client, _userdata, _flags, reason_code, _properties):
        result["code"] = reason_code
        answered.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        assert answered.wait(10), "the broker did not answer the CONNECT"
    finally:
        client.loop_stop()
        client.disconnect()
    return result["code"]


def test_the_broker_refuses_anonymous_and_wrong_passwords(broker):
    assert _connect_result(broker, None, None).is_failure
    assert _connect_result(broker, broker.username, "not-the-password").is_failure
    assert not _connect_result(broker, broker.username, broker.password).is_failure


def test_published_readings_land_in_measurement(pool, db_url, broker):
    build_network(pool, SENSORS)
    subscriber = MqttIngest(db_url, port=broker.port, flush_every=100, flush_s=0.2, username=broker.username,
                            password=broker.password)
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
    _publish(broker, messages)
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


def _retained(broker, topic: str, limit_s: float = 5.0) -> bytes | None:
    """The message the broker keeps retained on ``topic``, or None when it holds none."""
    got = threading.Event()
    message = {}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-retained")
    client.username_pw_set(broker.username, broker.password)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)

    def on_message(_client, _userdata, msg):
        message["payload"] = msg.payload
        got.set()

    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        got.wait(limit_s)
    finally:
        client.loop_stop()
        client.disconnect()
    return message.get("payload")


@pytest.mark.parametrize("persistent", [True, False])
def test_a_persistent_broker_keeps_retained_commands_across_a_restart(tmp_path, persistent):
    binary = find_mosquitto()
    require(binary is not None, "mosquitto is not installed (Debian: apt-get install mosquitto)")
    persist_dir = tmp_path / "mqtt" if persistent else None
    with local_broker(binary, persist_dir=persist_dir) as first:
        _publish(first, [(COMMAND_TOPIC, b'{"schedule_id": 7}')], retain=True)
        assert _retained(first, COMMAND_TOPIC) == b'{"schedule_id": 7}'
    with local_broker(binary, persist_dir=persist_dir) as second:
        kept = _retained(second, COMMAND_TOPIC, limit_s=2.0 if not persistent else 5.0)
    assert kept == (b'{"schedule_id": 7}' if persistent else None)
