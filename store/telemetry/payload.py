"""JSON payloads of the HTTP and MQTT routes -> rows for ``ingest_rows`` (no SQL here).

A reading is ``{"sensor_id"|"s": ..., "time"|"t": ISO 8601 or epoch seconds, "value"|"v": number}``
(over MQTT the sensor comes from the topic ``heattwin/<source>/<sensor_id>``). A reading that is
not such an object still becomes a row, labelled ``reading_malformed`` with its raw text, so
the database quarantines it: nothing that arrived is dropped.
"""

from __future__ import annotations

import json

import pandas as pd

ROW_COLUMNS = ["sensor_id", "time", "value", "raw", "origin", "reason"]
_KEYS = {"sensor_id": ("sensor_id", "s"), "time": ("time", "t"), "value": ("value", "v")}


class PayloadError(ValueError):
    """The body is not JSON (or JSON lines) at all: there are no readings to split out."""


def _dumps(item) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _pick(item: dict, field: str):
    for key in _KEYS[field]:
        if key in item:
            return item[key]
    return None


def _row(item, origin: str | None, sensor_id: str | None = None) -> tuple:
    """One staging row; a reading that is not a JSON object is labelled for quarantine."""
    if not isinstance(item, dict):
        return (sensor_id, None, None, _dumps(item), origin, "reading_malformed")
    sensor = sensor_id if sensor_id is not None else _pick(item, "sensor_id")
    return (sensor, _pick(item, "time"), _pick(item, "value"), _dumps(item), origin, None)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def parse_http_body(body: bytes, content_type: str) -> pd.DataFrame:
    """Rows from a JSON array (or one object) or JSON lines; a JSON line that does not parse
    becomes a ``payload_unparseable`` row, so it is quarantined beside the others.

    Raises ``PayloadError`` when a JSON body does not parse, or is neither an array nor an object.
    """
    text = body.decode("utf-8", errors="replace")
    if "ndjson" in content_type or "jsonlines" in content_type or "json-seq" in content_type:
        return _parse_lines(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                           "send a JSON array of readings or JSON lines (application/x-ndjson)") from exc
    if isinstance(data, dict):
        data = data.get("readings", [data]) if "readings" in data else [data]
    if not isinstance(data, list):
        raise PayloadError("body must be a JSON array of readings {\"sensor_id\", \"time\", \"value\"}")
    return _frame([_row(item, None) for item in data])


def _parse_lines(text: str) -> pd.DataFrame:
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(_row(json.loads(line), None))
        except json.JSONDecodeError:
            rows.append((None, None, None, line, None, "payload_unparseable"))
    return _frame(rows)


def parse_mqtt_messages(messages: list[tuple[str, bytes]]) -> pd.DataFrame:
    """Rows from MQTT messages ``(topic, payload)``; the origin of each row is ``mqtt:<topic>``.

    A payload is ``{"t", "v"}``, a list of them, or ``{"readings": [...]}``; one that is not JSON
    becomes a ``payload_unparseable`` row carrying the payload as its raw text.
    """
    rows = []
    for topic, payload in messages:
        origin = f"mqtt:{topic}"
        sensor_id = topic.rsplit("/", 1)[-1]
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            rows.append((sensor_id, None, None, text, origin, "payload_unparseable"))
            continue
        if isinstance(data, dict) and isinstance(data.get("readings"), list):
            data = data["readings"]
        items = data if isinstance(data, list) else [data]
        rows.extend(_row(item, origin, sensor_id) for item in items)
    return _frame(rows)
