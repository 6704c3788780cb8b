"""Hotline calls: the event a softphone sends when a resident rings, the caller's record for the agent's
pop-up, and what the agent did with the call (answered it, filed an order, linked it to a known incident).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pandas as pd
from psycopg_pool import ConnectionPool

from store.audit import Actor, audited
from store.incidents import INCIDENT_COLUMNS, link_call_order
from store.work_orders.core import insert_work_order
from store.work_orders.lifecycle import move_on

CALL_OUTCOMES = ("answered", "filed", "linked", "no_action")
_DIGITS = re.compile(r"\D+")
HOUSEHOLD_FIELDS = ("id", "name", "phone", "address", "community_id", "community", "station_id", "station",
                    "area_m2", "heating_status", "payment_status", "sensor_id", "building", "floor")
STATION_STATE_FIELDS = ("t_supply_c", "t_return_c", "p_supply_bar", "p_return_bar", "flow_t_h", "heat_mw", "status")


def normalize_phone(phone: str) -> str:
    """Digits only, without China's +86 / 0086: how the household table keeps numbers."""
    digits = _DIGITS.sub("", phone or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits


def add_call(pool: ConnectionPool, *, line: str, phone: str, seat: str = "", received_at: datetime | None = None,
             external_id: str | None = None) -> dict:
    """Record a ringing call; its household (by number) and the incident that covers it, if any. A call id
    the CTI already sent (``external_id``) is the same call: nothing is added twice."""
    number = normalize_phone(phone)
    if not 5 <= len(number) <= 20:
        raise ValueError(f"phone: {phone!r} is not a telephone number")
    with pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "WITH h AS (SELECT id, station_id FROM household WHERE phone = %(phone)s ORDER BY id LIMIT 1),"
            " i AS (SELECT i.id FROM incident i, h WHERE i.ended_at IS NULL AND h.station_id = ANY(i.stations)"
            "       ORDER BY i.started_at DESC LIMIT 1)"
            " INSERT INTO call_event (line, phone, seat, received_at, household_id, incident_id, external_id)"
            " SELECT %(line)s, %(phone)s, %(seat)s, coalesce(%(at)s, now()), (SELECT id FROM h), (SELECT id FROM i),"
            " %(ext)s ON CONFLICT (external_id) DO NOTHING RETURNING id, household_id, incident_id, received_at",
            {"phone": number, "line": line, "seat": seat or "", "at": received_at, "ext": external_id}).fetchone()
        if row is None:
            row = conn.execute("SELECT id, household_id, incident_id, received_at FROM call_event"
                               " WHERE external_id = %s", (external_id,)).fetchone()
    return {"id": row[0], "household_id": row[1], "incident_id": row[2], "received_at": row[3], "phone": number}


def next_call(pool: ConnectionPool, seat: str, *, within_s: float = 600.0) -> dict | None:
    """The oldest call waiting for ``seat`` (put through to it, or to nobody) from the last ``within_s``."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT id, phone, household_id, incident_id, received_at, seat FROM call_event"
            " WHERE answered_at IS NULL AND (seat = %s OR seat = '') AND received_at > now() - make_interval(secs => %s)"
            " ORDER BY seat = '' , received_at LIMIT 1", (seat, within_s)).fetchone()
    return None if row is None else dict(zip(("id", "phone", "household_id", "incident_id", "received_at", "seat"),
                                             row, strict=True))


def get_call(pool: ConnectionPool, call_id: int) -> dict | None:
    with pool.connection() as conn:
        cur = conn.execute("SELECT * FROM call_event WHERE id = %s", (call_id,))
        row = cur.fetchone()
        return None if row is None else dict(zip([d.name for d in cur.description], row, strict=True))


def get_household(pool: ConnectionPool, household_id: str) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT h.id, h.name, h.phone, h.address, h.community_id, c.name, h.station_id, s.name, h.area_m2,"
            " h.heating_status::text, h.payment_status::text, h.sensor_id, h.building, h.floor FROM household h"
            " LEFT JOIN asset c ON c.id = h.community_id LEFT JOIN asset s ON s.id = h.station_id WHERE h.id = %s",
            (household_id,)).fetchone()
    return None if row is None else dict(zip(HOUSEHOLD_FIELDS, row, strict=True))


def search_households(pool: ConnectionPool, text: str, *, limit: int = 20) -> pd.DataFrame:
    """Households whose number, address or name holds ``text`` (an unknown number: the agent asks)."""
    text = (text or "").strip()
    if len(text) < 2:
        return pd.DataFrame(columns=["id", "name", "phone", "address", "station_id"])
    digits = normalize_phone(text)
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, name, phone, address, station_id FROM household"
            " WHERE address ILIKE %(like)s OR name ILIKE %(like)s OR (%(digits)s <> '' AND phone LIKE %(prefix)s)"
            " ORDER BY (name = %(text)s) DESC, similarity(address, %(text)s) DESC, id LIMIT %(limit)s",
            {"like": f"%{text}%", "digits": digits, "prefix": f"{digits}%" if len(digits) >= 4 else None,
             "text": text, "limit": limit}).fetchall()
    return pd.DataFrame(rows, columns=["id", "name", "phone", "address", "station_id"])


def _room_temperature(conn, sensor_id: str | None, hours: float = 24.0) -> pd.DataFrame:
    if not sensor_id:
        return pd.DataFrame(columns=["bucket", "avg"])
    end = datetime.now(UTC)
    rows = conn.execute("SELECT time_bucket(interval '1 hour', time) AS b, avg(value) FROM measurement"
                        " WHERE sensor_id = %s AND time >= %s AND time < %s GROUP BY 1 ORDER BY 1",
                        (sensor_id, end - timedelta(hours=hours), end)).fetchall()
    return pd.DataFrame(rows, columns=["bucket", "avg"])


def _station_state(conn, station_id: str) -> dict:
    row = conn.execute(
        "SELECT s.t_supply_c, s.t_return_c, s.p_supply_bar, s.p_return_bar, s.flow_t_h, s.heat_mw, s.status"
        " FROM twin_state s WHERE s.element_id = %s AND s.run_id = (SELECT id FROM twin_run WHERE kind = 'sync'"
        " AND converged ORDER BY started_at DESC LIMIT 1)", (station_id,)).fetchone()
    state = dict(zip(STATION_STATE_FIELDS, row, strict=True)) if row else {}
    state["alarms"] = [dict(zip(("id", "cause", "severity", "message", "raised_at"), a, strict=True)) for a in
                       conn.execute("SELECT id, cause, severity::text, message, raised_at FROM alarm"
                                    " WHERE asset_id = %s AND state <> 'cleared' ORDER BY raised_at DESC",
                                    (station_id,)).fetchall()]
    return state


def station_status(station: dict) -> str:
    """What the agent reads as the station's state: the twin's, or its worst open alarm where the twin sees
    nothing wrong (a cold-rooms alarm on a station the twin calls normal is not normal to the caller)."""
    status = station.get("status") or "normal"
    if status != "normal":
        return status
    severities = {a["severity"] for a in station.get("alarms", [])}
    if severities & {"alarm", "critical"}:
        return "alarm"
    return "warning" if "warning" in severities else "normal"


def get_popup(pool: ConnectionPool, household_id: str) -> dict | None:
    """Everything the agent sees when this household calls: who and where, the room temperature of the last
    24 h, the station's live state and alarms, known incidents covering it, and its past tickets."""
    household = get_household(pool, household_id)
    if household is None:
        return None
    with pool.connection() as conn:
        room = _room_temperature(conn, household["sensor_id"])
        station = _station_state(conn, household["station_id"])
        incidents = conn.execute("SELECT id, kind::text, cause_element, title, alarm_id, work_order_id, stations,"
                                 " households, started_at, expected_back_at, ended_at, created_by, details"
                                 " FROM incident WHERE ended_at IS NULL AND %s = ANY(stations)"
                                 " ORDER BY started_at DESC", (household["station_id"],)).fetchall()
        tickets = conn.execute("SELECT id, created_at, title, category::text, state::text, first_contact"
                               " FROM work_order WHERE household_id = %s ORDER BY created_at DESC LIMIT 20",
                               (household_id,)).fetchall()
    return {"household": household, "room": room, "station": station,
            "incidents": pd.DataFrame(incidents, columns=list(INCIDENT_COLUMNS)),
            "tickets": pd.DataFrame(tickets, columns=["id", "created_at", "title", "category", "state", "first_contact"])}


def _close_call(conn, call_id: int, actor: Actor, outcome: str, *, work_order_id=None, kb_entry_id=None) -> dict:
    if outcome not in CALL_OUTCOMES:
        raise ValueError(f"outcome: {outcome!r} is not one of {', '.join(CALL_OUTCOMES)}")
    row = conn.execute("UPDATE call_event SET answered_by = %s, answered_at = now(), outcome = %s, work_order_id = %s,"
                       " kb_entry_id = %s WHERE id = %s AND answered_at IS NULL RETURNING household_id, incident_id",
                       (actor.username, outcome, work_order_id, kb_entry_id, call_id)).fetchone()
    if row is None:
        raise ValueError(f"call {call_id} does not exist or was answered already")
    return {"household_id": row[0], "incident_id": row[1]}


def _call(conn, call_id: int) -> dict:
    row = conn.execute("SELECT household_id, incident_id, answered_at FROM call_event WHERE id = %s FOR UPDATE",
                       (call_id,)).fetchone()
    if row is None:
        raise ValueError(f"call {call_id} does not exist")
    if row[2] is not None:
        raise ValueError(f"call {call_id} was answered already")
    return {"household_id": row[0], "incident_id": row[1]}


def file_from_call(pool: ConnectionPool, call_id: int, *, actor: Actor, category: str, title: str, note: str = "",
                   priority: str = "normal", household_id: str | None = None) -> dict:
    """File the caller's order. Inside a known incident it becomes a child ticket of that incident's job
    (``linked``: nobody is sent twice); otherwise a new order with its SLA clocks (``filed``)."""
    with audited(pool, actor, "call.answer", "call", call_id) as change:
        call = _call(change.conn, call_id)
        household = household_id or call["household_id"]
        if household is None:
            raise ValueError("household: find the caller's household first (search by address or name)")
        wo_id, _ = insert_work_order(change.conn, title=title, actor=actor, category=category, origin="hotline",
                                     priority=priority, household_id=household, description=note,
                                     request_key=f"call:{call_id}")
        incident_id = call["incident_id"]
        if incident_id is not None:
            link_call_order(change.conn, incident_id, wo_id)
        outcome = "linked" if incident_id is not None else "filed"
        change.conn.execute("UPDATE call_event SET household_id = %s WHERE id = %s", (household, call_id))
        _close_call(change.conn, call_id, actor, outcome, work_order_id=wo_id)
        change.after = {"work_order_id": wo_id, "incident_id": incident_id, "outcome": outcome}
    return {"work_order_id": wo_id, "incident_id": incident_id, "outcome": outcome}


def answer_call(pool: ConnectionPool, call_id: int, *, actor: Actor, category: str, note: str,
                kb_entry_id: int | None = None, household_id: str | None = None) -> int:
    """The agent answered the question on the call (即时办): an order resolved on first contact, so the
    revisit and the assessment rates count it; returns its id."""
    with audited(pool, actor, "call.answer", "call", call_id) as change:
        call = _call(change.conn, call_id)
        household = household_id or call["household_id"]
        if household is None:
            raise ValueError("household: find the caller's household first (search by address or name)")
        wo_id, _ = insert_work_order(change.conn, title=note[:60] or "热线即时答复", actor=actor, category=category,
                                     origin="hotline", household_id=household, description=note,
                                     request_key=f"call:{call_id}")
        change.conn.execute("UPDATE work_order SET first_contact = true WHERE id = %s", (wo_id,))
        move_on(change.conn, wo_id, "resolved", actor=actor, note="热线即时办结", details={"kb_entry_id": kb_entry_id})
        change.conn.execute("UPDATE call_event SET household_id = %s WHERE id = %s", (household, call_id))
        _close_call(change.conn, call_id, actor, "answered", work_order_id=wo_id, kb_entry_id=kb_entry_id)
        change.after = {"work_order_id": wo_id, "kb_entry_id": kb_entry_id}
    return wo_id
