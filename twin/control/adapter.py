"""The one way accepted setpoints reach a plant: a command adapter (MQTT by default), and the plant's listener.

``store.control.accept_schedule`` calls an adapter's ``send(setpoints, schedule)`` inside the acceptance's
transaction: a send that fails leaves the schedule unaccepted. The MQTT adapter publishes one retained JSON
command on ``COMMAND_TOPIC`` (QoS 1) and waits for the broker's acknowledgement, so a plant (re)connecting
later still gets the command in force; an empty setpoint list means "back to your heating curve". The topic
has four levels, so the telemetry subscriber (``heattwin/+/+``) never takes a command for a reading.

Another transport (OPC UA to a plant's DCS) is another class with the same ``send``; ``adapter_for`` is the
one place that chooses.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Protocol

import paho.mqtt.client as mqtt
import pandas as pd

from twin.control.setpoints import COLUMNS, SetpointTable, check_setpoints

log = logging.getLogger(__name__)
COMMAND_TOPIC = "heattwin/command/plant/setpoints"
ADAPTERS = ("mqtt",)


class SetpointAdapter(Protocol):
    def send(self, setpoints: pd.DataFrame, schedule: dict) -> str:
        """Deliver ``setpoints`` (valid_from, element_id, kind, value); returns what they went through."""


def encode_command(setpoints: pd.DataFrame, schedule: dict) -> bytes:
    rows = check_setpoints(setpoints) if len(setpoints) else pd.DataFrame(columns=COLUMNS)
    return json.dumps({
        "schedule_id": schedule.get("id"),
        "expires_at": str(pd.Timestamp(schedule["expires_at"])) if schedule.get("expires_at") is not None else None,
        "setpoints": [{"valid_from": pd.Timestamp(r.valid_from).isoformat(), "element_id": r.element_id,
                       "kind": r.kind, "value": float(r.value)} for r in rows.itertuples(index=False)],
    }).encode()


def decode_command(payload: bytes) -> SetpointTable:
    """A command as the plant takes it; a malformed one raises ValueError naming the field."""
    try:
        body = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise ValueError(f"setpoint command is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("setpoints"), list):
        raise ValueError("setpoint command: field 'setpoints' must be a list")
    frame = pd.DataFrame(body["setpoints"], columns=COLUMNS)
    return SetpointTable(frame if len(frame) else None, expires_at=body.get("expires_at"),
                         schedule_id=body.get("schedule_id"))


def _client(client_id: str, username: str | None, password: str | None) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    if username:
        client.username_pw_set(username, password)
    return client


class MqttCommandAdapter:
    """Publishes accepted setpoints to ``topic`` on an MQTT broker."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, *, username: str | None = None,
                 password: str | None = None, topic: str = COMMAND_TOPIC, timeout_s: float = 10.0):
        self.host, self.port, self.topic, self.timeout_s = host, port, topic, timeout_s
        self.username, self.password = username, password

    def send(self, setpoints: pd.DataFrame, schedule: dict) -> str:
        client = _client(f"heattwin-control-{threading.get_ident()}", self.username, self.password)
        try:
            client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise ConnectionError(f"setpoints not sent: no MQTT broker at {self.host}:{self.port} ({exc}); "
                                  "nothing was accepted") from exc
        client.loop_start()
        try:
            info = client.publish(self.topic, encode_command(setpoints, schedule), qos=1, retain=True)
            info.wait_for_publish(self.timeout_s)
            if not info.is_published():
                raise ConnectionError(f"setpoints not acknowledged by the MQTT broker at {self.host}:{self.port} "
                                      f"within {self.timeout_s:g} s; nothing was accepted")
        finally:
            client.disconnect()
            client.loop_stop()
        return f"mqtt://{self.host}:{self.port}/{self.topic}"


def adapter_for(settings, kind: str = "mqtt") -> SetpointAdapter:
    """The configured adapter (``ADAPTERS``) on the settings' broker."""
    if kind != "mqtt":
        raise ValueError(f"setpoint adapter {kind!r} is not one of {ADAPTERS}")
    return MqttCommandAdapter(settings.mqtt_host, settings.mqtt_port, username=settings.mqtt_username,
                              password=settings.mqtt_password)


class SetpointListener:
    """The plant's side: subscribes to the command topic and hands each command to ``plant.apply_setpoints``.
    A malformed command is kept in ``rejected`` (with its reason) and changes nothing."""

    def __init__(self, plant, host: str = "127.0.0.1", port: int = 1883, *, username: str | None = None,
                 password: str | None = None, topic: str = COMMAND_TOPIC):
        self.plant, self.host, self.port, self.topic = plant, host, port, topic
        self.received = 0
        self.rejected: list[str] = []
        self._subscribed = threading.Event()
        self.applied = threading.Event()
        self.client = _client(f"heattwin-plant-{id(self)}", username, password)
        self.client.on_connect = lambda c, *_: c.subscribe(self.topic, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message

    def _on_message(self, client, userdata, message):
        self.received += 1
        try:
            table = decode_command(message.payload)
        except ValueError as exc:
            self.rejected.append(str(exc))
            log.warning("setpoint command refused, the plant keeps what it follows: %s", exc)
            return
        self.plant.apply_setpoints(table)
        self.applied.set()
        # What the plant's operator reads to know which schedule (or the curve) it runs, and since when.
        log.info("setpoint command applied: %s, %d setpoints, until %s",
                 f"schedule #{table.schedule_id}" if table.schedule_id is not None else "no schedule",
                 len(table.frame), table.expires_at if table.expires_at is not None else "further notice")

    def start(self, timeout_s: float = 10.0) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise RuntimeError(f"no subscription to {self.topic!r} on MQTT broker {self.host}:{self.port}")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
