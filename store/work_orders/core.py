"""Work orders: 报修 → 派单 → 检修 → 回访. Every state change writes a ``work_order_event`` row in the same
transaction as the change itself."""

from __future__ import annotations

import math

import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import (
    WORK_ORDER_OPEN_STATES,
    work_order_category_values,
    work_order_origin_values,
    work_order_priority_values,
)
from store.audit import Actor, audited

_OPEN = list(WORK_ORDER_OPEN_STATES)
WORK_ORDER_COLUMNS = ("id", "asset_id", "household_id", "title", "origin", "priority", "state", "team_id",
                      "team_name", "lon", "lat", "created_at", "sla_due_at", "closed_at", "alarm_id")
_SELECT = (
    "SELECT w.id, w.asset_id, w.household_id, w.title, w.origin, w.priority::text, w.state::text, w.team_id,"
    " t.name, coalesce(w.lon, a.lon), coalesce(w.lat, a.lat), w.created_at, w.sla_due_at, w.closed_at,"
    " w.alarm_id FROM work_order w LEFT JOIN team t ON t.id = w.team_id LEFT JOIN asset a ON a.id = w.asset_id"
)
_M_PER_DEG_LAT = 111_320.0
MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 4000


def _check_text(field: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValueError(f"{field}: at most {limit} characters (got {len(value)})")
    return value


def _check_choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{field}: {value!r} is not one of {', '.join(allowed)}")
    return value


def insert_work_order(conn, *, title: str, actor: Actor, category: str = "other", origin: str = "dispatch",
                      priority: str = "normal", asset_id: str | None = None, household_id: str | None = None,
                      description: str = "", team_id: str | None = None, lon: float | None = None,
                      lat: float | None = None, sla_hours: float | None = None, alarm_id: int | None = None,
                      note: str = "", request_key: str | None = None, external_ref: str | None = None,
                      external_due_at=None) -> tuple[int, bool]:
    """The work order and its first event on ``conn``, inside the caller's (audited) transaction.

    Located at ``lon``/``lat``, else at the element, else at the household's community. A ``request_key``
    already used returns that order instead of filing a second one. Returns (id, whether it is new).
    """
    title = _check_text("title", title, MAX_TITLE_CHARS)
    if not title:
        raise ValueError("title: a work order needs a title")
    _check_choice("category", category, work_order_category_values)
    _check_choice("origin", origin, work_order_origin_values)
    _check_choice("priority", priority, work_order_priority_values)
    row = conn.execute(
        "INSERT INTO work_order (asset_id, household_id, title, description, category, origin, priority, team_id,"
        " lon, lat, sla_due_at, alarm_id, created_by, request_key, external_ref, external_due_at)"
        " SELECT %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, a.lon), coalesce(%s, a.lat),"
        " now() + make_interval(secs => %s), %s, %s, %s, %s, %s FROM (SELECT 1) one"
        " LEFT JOIN asset a ON a.id = coalesce(%s, (SELECT community_id FROM household WHERE id = %s))"
        " ON CONFLICT (request_key) DO NOTHING RETURNING id",
        (asset_id, household_id, title, _check_text("description", description, MAX_DESCRIPTION_CHARS), category,
         origin, priority, team_id, lon, lat, None if sla_hours is None else sla_hours * 3600.0, alarm_id,
         actor.username, request_key, external_ref, external_due_at, asset_id, household_id)).fetchone()
    if row is None:
        return conn.execute("SELECT id FROM work_order WHERE request_key = %s", (request_key,)).fetchone()[0], False
    conn.execute("INSERT INTO work_order_event (work_order_id, actor, from_state, to_state, note)"
                 " VALUES (%s, %s, NULL, 'new', %s)", (row[0], actor.username, _check_text("note", note, 1000)))
    return row[0], True


def add_work_order(pool: ConnectionPool, *, title: str, actor: Actor, **fields) -> int:
    """Open a work order (state ``new``) and its first event; return its id. Audited.

    ``sla_hours`` sets the resolve clock by hand; otherwise the SLA policy sets every clock.
    """
    with audited(pool, actor, "work_order.create", "work_order") as change:
        wo_id, new = insert_work_order(change.conn, title=title, actor=actor, **fields)
        change.object_id = str(wo_id)
        change.after = {"title": title, **{k: v for k, v in fields.items() if v is not None}}
        change.detail = "filed" if new else "the same form sent again: the order filed the first time is kept"
    return wo_id


def get_work_order(pool: ConnectionPool, wo_id: int) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute(_SELECT + " WHERE w.id = %s", (wo_id,)).fetchone()
    return None if row is None else dict(zip(WORK_ORDER_COLUMNS, row, strict=True))


def list_work_orders(pool: ConnectionPool, *, asset_id: str | None = None, near: tuple[float, float] | None = None,
                     radius_m: float = 500.0, open_only: bool = True, limit: int = 50) -> pd.DataFrame:
    """Work orders on ``asset_id`` or (with ``near=(lon, lat)``) within ``radius_m`` of a point, newest first."""
    clauses, params = [], []
    if open_only:
        clauses.append("w.state = ANY(%s::work_order_state[])")
        params.append(_OPEN)
    place = []
    if asset_id is not None:
        place.append("w.asset_id = %s")
        params.append(asset_id)
    if near is not None:
        lon, lat = near
        dlat = radius_m / _M_PER_DEG_LAT
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        place.append("(coalesce(w.lon, a.lon) BETWEEN %s AND %s AND coalesce(w.lat, a.lat) BETWEEN %s AND %s)")
        params += [lon - dlon, lon + dlon, lat - dlat, lat + dlat]
    if place:
        clauses.append("(" + " OR ".join(place) + ")")
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    with pool.connection() as conn:
        rows = conn.execute(_SELECT + where + " ORDER BY w.created_at DESC, w.id DESC LIMIT %s",
                            (*params, limit)).fetchall()
    return pd.DataFrame(rows, columns=list(WORK_ORDER_COLUMNS))


def list_open_locations(pool: ConnectionPool) -> pd.DataFrame:
    """Open work orders that have a place on the map: ``id, asset_id, state, priority, lon, lat``."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT w.id, w.asset_id, w.state::text, w.priority::text, coalesce(w.lon, a.lon), coalesce(w.lat, a.lat)"
            " FROM work_order w LEFT JOIN asset a ON a.id = w.asset_id"
            " WHERE w.state = ANY(%s::work_order_state[]) AND coalesce(w.lon, a.lon) IS NOT NULL"
            " ORDER BY w.id", (_OPEN,)).fetchall()
    return pd.DataFrame(rows, columns=["id", "asset_id", "state", "priority", "lon", "lat"])


def count_open(pool: ConnectionPool) -> dict[str, int]:
    """Open work orders, and how many of them are past their SLA due time."""
    with pool.connection() as conn:
        total, overdue = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE sla_due_at < now())"
            " FROM work_order WHERE state = ANY(%s::work_order_state[])", (_OPEN,)).fetchone()
    return {"open": total, "overdue": overdue}


def update_work_order_state(pool: ConnectionPool, wo_id: int, to_state: str, *, actor: Actor, note: str = "") -> None:
    """Move a work order along the declared lifecycle (``lifecycle.transition``)."""
    from store.work_orders.lifecycle import transition

    transition(pool, wo_id, to_state, actor=actor, note=note)
