"""A tiny network for the telemetry tests: a station, two communities, sensors of chosen kinds.

Imported by tests/store/test_telemetry*.py, tests/app/test_api.py and tests/scripts/test_mqtt_ingest.py
(``tests/`` is on sys.path because tests/conftest.py lives there).
"""

from __future__ import annotations

import pandas as pd

from heattwin.choices import SENSOR_KIND
from store.assets import replace_network

STATION = "ST-1"
COMMUNITIES = ("C-1", "C-2")


def _point(i: int) -> dict:
    return {"type": "Point", "coordinates": [116.3 + i * 0.001, 39.9]}


def build_network(pool, sensors: dict[str, tuple[str, str]]) -> None:
    """``sensors``: sensor id -> (kind, element id). Elements named there are created as needed."""
    elements = {STATION, *COMMUNITIES, *(element for _, element in sensors.values())}
    rows = []
    for i, element in enumerate(sorted(elements)):
        kind = "station" if element.startswith("ST-") else "community"
        rows.append({"id": element, "kind": kind, "name": element, "geometry": _point(i),
                     "lon": 116.3 + i * 0.001, "lat": 39.9, "attrs": {}})
    for i, (sensor_id, (kind, element)) in enumerate(sorted(sensors.items())):
        rows.append({"id": sensor_id, "kind": "sensor", "name": sensor_id, "geometry": _point(i),
                     "lon": 116.3 + i * 0.001, "lat": 39.9,
                     "attrs": {"element_id": element, "kind": kind, "unit": SENSOR_KIND[kind].unit}})
    basemap = pd.DataFrame(columns=["kind", "name", "geometry"])
    replace_network(pool, pd.DataFrame(rows), basemap, "test")


def add_households(pool, links: list[tuple[str, str, str]]) -> None:
    """``links``: (household id, community id, room_t sensor id), all on station ST-1."""
    with pool.connection() as conn:
        for household, community, sensor in links:
            conn.execute("INSERT INTO household (id, community_id, station_id, sensor_id) VALUES (%s, %s, %s, %s)",
                         (household, community, STATION, sensor))
