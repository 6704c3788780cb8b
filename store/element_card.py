"""An element's whole card for the wall's panel, in one statement (one round trip to the server).

A click on the wall used to walk through six or more store calls, each taking a pool connection (and its
health check): equipment, maintenance, drawings, open alarms, latest readings, work orders and their photos.
``get_element_card`` reads them all at once; each part comes back as JSON and is turned into the same shapes
the separate ``get_*`` / ``list_*`` functions give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import ALARM_EVIDENCE_CAUSES, WORK_ORDER_OPEN_STATES

_M_PER_DEG_LAT = 111_320.0
MAINTENANCE_LIMIT = 20
ORDERS_LIMIT = 50

# Each part is a json array; alarms carry their whole row (to_jsonb), so columns the alarm engine adds
# come along without this query knowing them.
_CARD = """
SELECT
 (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'kind', kind, 'maker', maker, 'model', model,
         'serial', serial, 'install_year', install_year, 'rated', rated) ORDER BY id), '[]')
    FROM equipment WHERE asset_id = %(id)s),
 (SELECT coalesce(jsonb_agg(m ORDER BY m.done_at DESC), '[]') FROM (
    SELECT l.done_at, l.kind, l.note, l.crew, l.equipment_id FROM maintenance_log l
      JOIN equipment e ON e.id = l.equipment_id WHERE e.asset_id = %(id)s
     ORDER BY l.done_at DESC LIMIT %(maintenance)s) m),
 (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'title', title, 'kind', kind, 'path', path)
         ORDER BY id), '[]') FROM drawing WHERE asset_id = %(id)s),
 (SELECT coalesce(jsonb_agg(to_jsonb(a) || jsonb_build_object('kind', e.kind, 'name', e.name, 'lon', e.lon,
         'lat', e.lat, 'acknowledged_by_name', coalesce(nullif(u.display_name, ''), a.acknowledged_by))
         ORDER BY a.raised_at DESC, a.id DESC), '[]')
    FROM alarm a JOIN asset e ON e.id = a.asset_id LEFT JOIN app_user u ON u.username = a.acknowledged_by
   WHERE a.state <> 'cleared' AND a.asset_id = ANY(%(alarm_ids)s)),
 (SELECT coalesce(jsonb_agg(jsonb_build_object('sensor_id', s.id, 'time', m.time, 'value', m.value)
         ORDER BY s.id), '[]')
    FROM (SELECT DISTINCT unnest(%(sensors)s::text[]) AS id) s
    CROSS JOIN LATERAL (SELECT time, value FROM measurement WHERE sensor_id = s.id
                         ORDER BY time DESC LIMIT 1) m),
 (SELECT coalesce(jsonb_agg(o ORDER BY o.created_at DESC, o.id DESC), '[]') FROM (
    SELECT w.id, w.asset_id, w.household_id, w.title, w.origin, w.priority::text AS priority,
           w.state::text AS state, w.team_id, t.name AS team_name, coalesce(w.lon, a.lon) AS lon,
           coalesce(w.lat, a.lat) AS lat, w.created_at, w.sla_due_at, w.closed_at, w.alarm_id,
           (SELECT coalesce(jsonb_agg(p.sha256 ORDER BY p.uploaded_at), '[]') FROM work_order_photo p
             WHERE p.work_order_id = w.id) AS photos
      FROM work_order w LEFT JOIN team t ON t.id = w.team_id LEFT JOIN asset a ON a.id = w.asset_id
     WHERE (w.state = ANY(%(open)s::work_order_state[])
            OR (w.state = 'resolved' AND w.resolved_at > now() - interval '24 hours'))
       AND (w.asset_id = %(id)s OR (coalesce(w.lon, a.lon) BETWEEN %(west)s AND %(east)s
                                    AND coalesce(w.lat, a.lat) BETWEEN %(south)s AND %(north)s))
     ORDER BY w.created_at DESC, w.id DESC LIMIT %(orders)s) o)
"""

ALARM_TIMES = ("raised_at", "last_seen_at", "acknowledged_at", "cleared_at", "presented_at", "shelved_until")
ORDER_TIMES = ("created_at", "sla_due_at", "closed_at")


@dataclass(frozen=True)
class ElementCard:
    """What the panel shows of one element (besides the twin's state, which the wall caches per run).

    ``alarms``: the open alarms of the element and of its sensors that the wall presents, newest first
    (every column of ``alarm`` plus the element's ``kind, name, lon, lat`` and ``acknowledged_by_name``);
    ``latest``: ``sensor_id, time, value`` of each sensor's newest reading; ``orders``: open work orders
    (and those resolved in the last day) on the element or within the radius, with their photos' hashes.
    """
    element_id: str
    equipment: list[dict] = field(default_factory=list)
    maintenance: list[dict] = field(default_factory=list)
    drawings: list[dict] = field(default_factory=list)
    alarms: pd.DataFrame = field(default_factory=pd.DataFrame)
    latest: pd.DataFrame = field(default_factory=pd.DataFrame)
    orders: pd.DataFrame = field(default_factory=pd.DataFrame)


def _box(near: tuple[float, float] | None, radius_m: float) -> dict:
    if near is None or any(v is None or (isinstance(v, float) and math.isnan(v)) for v in near):
        return {"west": None, "east": None, "south": None, "north": None}
    lon, lat = near
    dlat = radius_m / _M_PER_DEG_LAT
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    return {"west": lon - dlon, "east": lon + dlon, "south": lat - dlat, "north": lat + dlat}


def _time(text: str | None):
    """A JSON timestamp (PostgreSQL's ISO 8601, with its offset) as a UTC ``pd.Timestamp``; None stays None."""
    return None if text is None else pd.Timestamp(datetime.fromisoformat(text)).tz_convert("UTC")


def _times(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """``columns`` of JSON timestamps parsed as UTC, each column at once (one at a time was a click's
    largest share of parsing)."""
    for column in columns:
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    return frame


def _presented(alarms: pd.DataFrame) -> pd.DataFrame:
    """What the wall presents: the alarm engine's ``presented`` flag where the store has it, else every
    alarm that is not evidence (``ALARM_EVIDENCE_CAUSES``)."""
    if alarms.empty:
        return alarms
    keep = ~alarms["cause"].isin(ALARM_EVIDENCE_CAUSES)
    if "presented" in alarms.columns:
        keep = alarms["presented"].fillna(True).astype(bool)
    return alarms[keep].reset_index(drop=True)


def get_element_card(pool: ConnectionPool, element_id: str, *, sensor_ids: list[str] = (),
                     near: tuple[float, float] | None = None, radius_m: float = 500.0,
                     presented_only: bool = True) -> ElementCard:
    """The element's equipment, maintenance (newest ``MAINTENANCE_LIMIT``), drawings, open alarms (its own
    and its sensors'), the newest reading of each of ``sensor_ids`` and its work orders (on it, or within
    ``radius_m`` of ``near=(lon, lat)``), in one statement."""
    sensors = list(dict.fromkeys(sensor_ids))
    params = {"id": element_id, "alarm_ids": [element_id, *sensors], "sensors": sensors,
              "maintenance": MAINTENANCE_LIMIT, "orders": ORDERS_LIMIT, "open": list(WORK_ORDER_OPEN_STATES),
              **_box(near, radius_m)}
    with pool.connection() as conn:
        equipment, maintenance, drawings, alarms, latest, orders = conn.execute(_CARD, params).fetchone()
    for m in maintenance:
        m["done_at"] = _time(m.get("done_at"))
    alarms = _times(pd.DataFrame(alarms), ALARM_TIMES)
    if presented_only:
        alarms = _presented(alarms)
    latest = _times(pd.DataFrame(latest, columns=["sensor_id", "time", "value"]), ["time"])
    return ElementCard(element_id, equipment, maintenance, drawings, alarms, latest,
                       _times(pd.DataFrame(orders), ORDER_TIMES))
