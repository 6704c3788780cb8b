"""未诉先办: buildings and communities whose room-temperature collectors say cold while nobody has a ticket
open there yet, and the inspection order a supervisor opens for one with a click (filed through the work-order
store, audited).

A household counts when it is heating (a suspended or non-paying one is cold by its own doing) and its
collector reported in the window; a place is cold when at least ``COLD_SHARE`` of those rooms averaged under the
threshold. "No open ticket": no order in an open state (``WORK_ORDER_OPEN_STATES``) on any household of the
place, nor on the community itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import WORK_ORDER_OPEN_STATES
from store.audit import Actor
from store.work_orders.core import add_work_order

COLD_SHARE = 0.5
PLACES = ("building", "community")
COLD_COLUMNS = ("community_id", "community", "station_id", "building", "collectors", "cold", "mean_c", "worst_c",
                "households")

_COLD = """
WITH rooms AS (
    SELECT h.id, h.community_id, h.station_id, h.building, avg(m.value) AS t_c
    FROM household h JOIN measurement m ON m.sensor_id = h.sensor_id
    WHERE m.time > %(start)s AND m.time <= %(end)s AND h.heating_status = 'heating'
    GROUP BY h.id
), places AS (
    SELECT community_id, station_id, CASE WHEN %(by_building)s THEN building END AS building, count(*) AS collectors,
           count(*) FILTER (WHERE t_c < %(threshold)s) AS cold, avg(t_c) AS mean_c, min(t_c) AS worst_c,
           array_agg(id ORDER BY t_c) FILTER (WHERE t_c < %(threshold)s) AS households
    FROM rooms GROUP BY 1, 2, 3
)
SELECT p.community_id, coalesce(nullif(a.name, ''), p.community_id), p.station_id, p.building, p.collectors, p.cold,
       p.mean_c, p.worst_c, p.households
FROM places p LEFT JOIN asset a ON a.id = p.community_id
WHERE p.cold >= %(share)s * p.collectors
  AND NOT EXISTS (SELECT 1 FROM work_order w WHERE w.state = ANY(%(open)s::work_order_state[])
                    AND (w.asset_id = p.community_id OR w.household_id IN (
                        SELECT x.id FROM household x WHERE x.community_id = p.community_id
                          AND (p.building IS NULL OR x.building = p.building))))
ORDER BY p.cold::float / p.collectors DESC, p.worst_c, p.community_id, p.building
"""


def list_cold_without_ticket(pool: ConnectionPool, *, end: datetime, window_s: float = 3600.0,
                             threshold_c: float = 18.0, by: str = "building") -> pd.DataFrame:
    """Cold places with no open ticket over ``(end - window_s, end]`` (``COLD_COLUMNS``), coldest share first.

    ``by``: ``building`` (a community's building) or ``community``; ``households`` lists the cold rooms,
    coldest first."""
    if by not in PLACES:
        raise ValueError(f"by: {by!r} is not one of {', '.join(PLACES)}")
    params = {"start": end - timedelta(seconds=window_s), "end": end, "threshold": threshold_c,
              "by_building": by == "building", "share": COLD_SHARE, "open": list(WORK_ORDER_OPEN_STATES)}
    with pool.connection() as conn:
        rows = conn.execute(_COLD, params).fetchall()
    return pd.DataFrame(rows, columns=list(COLD_COLUMNS))


def open_inspection(pool: ConnectionPool, *, community_id: str, building: int | None, actor: Actor,
                    threshold_c: float, collectors: int, cold: int, worst_c: float, day: str) -> int:
    """File the proactive inspection order (origin inspection, category room_cold) on the community; a second
    click the same day files nothing new (the form's key). Returns the order's id."""
    place = f"{community_id} {building}号楼" if building is not None else community_id
    return add_work_order(
        pool, title=f"未诉先办：{place} 室温偏低", actor=actor, category="room_cold", origin="inspection",
        asset_id=community_id,
        description=(f"采集器显示 {cold}/{collectors} 户低于 {threshold_c:g} ℃，最低 {worst_c:.1f} ℃；"
                     "尚无用户报修，主动入户排查。"),
        request_key=f"proactive:{community_id}:{building if building is not None else '-'}:{day}")
