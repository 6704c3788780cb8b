"""How the virtual plant's readings reach HeatTwin: the same ingest paths a real estate uses.

``direct`` writes through ``store.telemetry.ingest_rows``; ``http`` posts JSON batches to
``/api/v1/readings`` with a bearer token; ``mqtt`` publishes to ``heattwin/<source>/<sensor_id>``.
Each sender's ``send(readings)`` takes a frame of time, sensor_id, value and returns the counts.
"""

from __future__ import annotations

import json
import urllib.request

import pandas as pd


def _payload_rows(readings: pd.DataFrame) -> list[dict]:
    times = pd.to_datetime(readings["time"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [{"sensor_id": s, "time": t, "value": float(v)}
            for s, t, v in zip(readings["sensor_id"], times, readings["value"], strict=True)]


class DirectSender:
    def __init__(self, pool, origin: str = "plant:direct"):
        self.pool = pool
        self.origin = origin

    def send(self, readings: pd.DataFrame) -> dict:
        from store.telemetry import ingest_rows

        result = ingest_rows(self.pool, readings[["time", "sensor_id", "value"]], origin=self.origin)
        return {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": result.rejected}


class HttpSender:
    def __init__(self, base_url: str, token: str, batch_size: int = 5000, timeout_s: float = 30.0):
        self.url = base_url.rstrip("/") + "/api/v1/readings"
        self.token = token
        self.batch_size = batch_size
        self.timeout_s = timeout_s

    def _post(self, rows: list[dict]) -> dict:
        request = urllib.request.Request(
            self.url, data=json.dumps(rows).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            return json.loads(response.read())

    def send(self, readings: pd.DataFrame) -> dict:
        rows = _payload_rows(readings)
        totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
        for start in range(0, len(rows), self.batch_size):
            answer = self._post(rows[start:start + self.batch_size])
            for key in totals:
                totals[key] += int(answer.get(key, 0))
        return totals


class MqttSender:
    """Publishes one batch message per sensor (``[{"t", "v"}, …]``) with QoS 1."""

    def __init__(self, host: str, port: int, source: str = "plant", username: str | None = None,
                 password: str | None = None):
        import paho.mqtt.client as mqtt

        self.source = source
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"heattwin-plant-{source}")
        if username:
            self.client.username_pw_set(username, password)
        self.client.connect(host, port)
        self.client.loop_start()

    def send(self, readings: pd.DataFrame) -> dict:
        times = pd.to_datetime(readings["time"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        frame = pd.DataFrame({"sensor_id": readings["sensor_id"].to_numpy(), "t": times.to_numpy(),
                              "v": readings["value"].astype(float).to_numpy()})
        published = 0
        for sensor_id, group in frame.groupby("sensor_id", sort=False):
            payload = json.dumps(group[["t", "v"]].to_dict(orient="records"))
            self.client.publish(f"heattwin/{self.source}/{sensor_id}", payload, qos=1).wait_for_publish(10)
            published += len(group)
        return {"published": published}

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
