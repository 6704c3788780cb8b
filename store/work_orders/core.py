"""Work orders: 报修 → 派单 → 检修 → 回访. Every state change writes a ``work_order_event`` row in the same
transaction as the change itself."""

from __future__ import annotations

import math

import pandas as pd
from psycopg import sql
from psycopg_pool import ConnectionPool

from heattwin.choices import (
    WORK_ORDER_OPEN_STATES,
    work_order_category_values,
    work_order_origin_values,
    work_order_priority_values,
)
from store.audit import Actor, audited
from store.db import transaction
from store.work_orders.sla import set_due_times_on

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
    if sla_hours is None:
        set_due_times_on(conn, row[0])
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
        # Open, or resolved within the last day: the crew's result (and photos) stay in view until revisited.
        clauses.append("(w.state = ANY(%s::work_order_state[])"
                       " OR (w.state = 'resolved' AND w.resolved_at > now() - interval '24 hours'))")
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


BOARD_COLUMNS = ("id", "created_at", "title", "category", "origin", "priority", "state", "team_id", "team_name",
                 "asset_id", "household_id", "community", "reply_due_at", "site_due_at", "sla_due_at",
                 "replied_at", "on_site_at", "resolved_at", "external_ref", "reopen_count", "overdue", "station",
                 "due_warning")
_BOARD_SORTS = {"id", "created_at", "priority", "state", "category", "origin", "team_id", "sla_due_at", "site_due_at"}
_NULLABLE_SORTS = {"team_id", "sla_due_at", "site_due_at"}
_BOARD_SELECT = sql.SQL(
    "SELECT w.id, w.created_at, w.title, w.category::text, w.origin, w.priority::text, w.state::text, w.team_id,"
    " t.name, w.asset_id, w.household_id,"
    " coalesce(h.community_id, CASE WHEN w.asset_id LIKE 'C-%%' THEN w.asset_id END), w.reply_due_at, w.site_due_at, w.sla_due_at,"
    " w.replied_at, w.on_site_at, w.resolved_at, w.external_ref, w.reopen_count,"
    " (w.state = ANY(%(open)s::work_order_state[]) AND w.sla_due_at < now()) AS overdue,"
    " coalesce(h.station_id, CASE WHEN w.asset_id LIKE 'ST-%%' THEN w.asset_id END),"
    " (w.state = ANY(%(open)s::work_order_state[]) AND w.sla_due_at >= now()"
    "  AND now() >= w.created_at + (w.sla_due_at - w.created_at) * %(warn_share)s) AS due_warning"
    " FROM work_order w LEFT JOIN team t ON t.id = w.team_id LEFT JOIN household h ON h.id = w.household_id")
# An open order whose resolve clock has used this share of its allowance is about to breach (the SLA watch's 80 %).
BOARD_WARNING_SHARE = 0.8


_BOARD_FILTERS = {"state": sql.SQL("w.state::text = ANY(%(state)s)"),
                  "category": sql.SQL("w.category::text = ANY(%(category)s)"),
                  "team_id": sql.SQL("w.team_id = ANY(%(team_id)s)"), "origin": sql.SQL("w.origin = ANY(%(origin)s)"),
                  # An order on a household is where the household is; one on the element, where the element is.
                  "community": sql.SQL("(w.household_id IN (SELECT id FROM household WHERE community_id = ANY(%(community)s))"
                                       " OR w.asset_id = ANY(%(community)s))"),
                  "station": sql.SQL("(w.household_id IN (SELECT id FROM household WHERE station_id = ANY(%(station)s))"
                                     " OR w.asset_id = ANY(%(station)s) OR w.asset_id IN (SELECT id FROM asset"
                                     " WHERE kind = 'community' AND attrs->>'station_id' = ANY(%(station)s)))")}


def _board_where(filters: dict) -> tuple[sql.Composable, dict]:
    clauses, params = [], {"open": _OPEN, "warn_share": BOARD_WARNING_SHARE}
    for name, clause in _BOARD_FILTERS.items():
        if filters.get(name):
            clauses.append(clause)
            params[name] = list(filters[name]) if isinstance(filters[name], list | tuple) else [filters[name]]
    if filters.get("overdue"):
        clauses.append(sql.SQL("w.state = ANY(%(open)s::work_order_state[]) AND w.sla_due_at < now()"))
    if filters.get("search"):
        clauses.append(sql.SQL("(w.title ILIKE %(search)s OR w.asset_id ILIKE %(search)s"
                               " OR w.household_id ILIKE %(search)s OR w.id::text = %(exact)s)"))
        params.update(search=f"%{filters['search']}%", exact=str(filters["search"]).strip("#"))
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")
    return where, params


def list_board(pool: ConnectionPool, *, offset: int = 0, limit: int = 100, sort: str = "created_at",
               descending: bool = True, **filters) -> tuple[pd.DataFrame, int]:
    """One page of the work-order board (newest first by default) and how many orders match in all.

    ``filters``: state, category, team_id, origin, community, station (a value or a list), overdue (bool),
    search (text or #id). ``due_warning``: open, not yet late, 80 % of the resolve allowance used.
    """
    if sort not in _BOARD_SORTS:
        raise ValueError(f"sort: {sort!r} is not one of {', '.join(sorted(_BOARD_SORTS))}")
    where, params = _board_where(filters)
    # NULLS LAST only where a column has nulls: on created_at it would keep the board's index from serving the page.
    nulls = sql.SQL(" NULLS LAST" if sort in _NULLABLE_SORTS else "")
    order = sql.SQL(" ORDER BY w.{} {}{}, w.id DESC LIMIT %(limit)s OFFSET %(offset)s").format(
        sql.Identifier(sort), sql.SQL("DESC" if descending else "ASC"), nulls)
    with pool.connection() as conn:
        rows = conn.execute(_BOARD_SELECT + where + order, {**params, "limit": limit, "offset": offset}).fetchall()
        total = conn.execute(sql.SQL("SELECT count(*) FROM work_order w") + where, params).fetchone()[0]
    return pd.DataFrame(rows, columns=list(BOARD_COLUMNS)), total


def get_order_detail(pool: ConnectionPool, wo_id: int) -> dict | None:
    """Everything the order's page shows: its row, every event, its revisits and its photos' hashes."""
    with pool.connection() as conn:
        cur = conn.execute(
            "SELECT w.*, w.state::text AS state, w.category::text AS category, w.priority::text AS priority,"
            " t.name AS team_name, h.name AS resident, h.phone AS resident_phone, h.address AS address"
            " FROM work_order w LEFT JOIN team t ON t.id = w.team_id LEFT JOIN household h ON h.id = w.household_id"
            " WHERE w.id = %s", (wo_id,))
        row = cur.fetchone()
        if row is None:
            return None
        order = dict(zip([d.name for d in cur.description], row, strict=True))
        events = conn.execute(
            "SELECT e.at, e.actor, coalesce(nullif(u.display_name, ''), e.actor), e.from_state::text,"
            " e.to_state::text, e.note, e.details FROM work_order_event e LEFT JOIN app_user u ON u.username = e.actor"
            " WHERE e.work_order_id = %s ORDER BY e.at, e.id", (wo_id,)).fetchall()
        revisits = conn.execute(
            "SELECT r.at, r.agent, coalesce(nullif(u.display_name, ''), r.agent), r.reached, r.satisfaction, r.fixed,"
            " r.note FROM work_order_revisit r LEFT JOIN app_user u ON u.username = r.agent"
            " WHERE r.work_order_id = %s ORDER BY r.at", (wo_id,)).fetchall()
        photos = conn.execute("SELECT sha256, mime, uploaded_by, uploaded_at FROM work_order_photo"
                              " WHERE work_order_id = %s ORDER BY uploaded_at", (wo_id,)).fetchall()
    order["events"] = pd.DataFrame(events, columns=["at", "actor", "actor_name", "from_state", "to_state", "note",
                                                    "details"])
    order["revisits"] = pd.DataFrame(revisits, columns=["at", "agent", "agent_name", "reached", "satisfaction", "fixed",
                                                        "note"])
    order["photos"] = pd.DataFrame(photos, columns=["sha256", "mime", "uploaded_by", "uploaded_at"])
    return order


COPY_COLUMNS = ("asset_id", "household_id", "title", "category", "origin", "priority", "state", "team_id", "lon",
                "lat", "created_at", "reply_due_at", "site_due_at", "sla_due_at", "replied_at", "on_site_at",
                "resolved_at", "closed_at", "created_by")


def copy_work_orders(pool: ConnectionPool, frame: pd.DataFrame) -> int:
    """Load many historical or imported orders at once (``COPY``; columns of ``COPY_COLUMNS`` present in
    ``frame``), each with its filing event. Returns how many were loaded."""
    present = [c for c in COPY_COLUMNS if c in frame.columns]
    with transaction(pool) as conn:
        first = conn.execute("SELECT coalesce(max(id), 0) FROM work_order").fetchone()[0]
        statement = sql.SQL("COPY work_order ({}) FROM STDIN").format(sql.SQL(", ").join(map(sql.Identifier, present)))
        with conn.cursor().copy(statement) as copy:
            for row in frame[present].itertuples(index=False, name=None):
                copy.write_row([None if v is None or (isinstance(v, float) and v != v) else v for v in row])
        conn.execute("INSERT INTO work_order_event (work_order_id, actor, from_state, to_state, at, note)"
                     " SELECT id, created_by, NULL, 'new', created_at, 'imported' FROM work_order WHERE id > %s",
                     (first,))
    return len(frame)
