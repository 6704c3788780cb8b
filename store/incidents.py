"""Incidents: what the dispatch center already knows that leaves households without heat — an isolation
(valves closed for a repair), a leak alarm's dry region, a failed station. One cause and one repair job;
every call from a household it covers is linked to it, so the crew sees one job and the supervisor counts
one cause.

The sync loop keeps the alarm-borne incidents in step with the alarms (``sync_alarm_incidents``); a
dispatcher records an isolation by hand (``add_isolation``), with the time heat is expected back.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from heattwin.choices import incident_kind_values
from store.audit import SYSTEM, Actor, audited
from store.db import transaction

INCIDENT_COLUMNS = ("id", "kind", "cause_element", "title", "alarm_id", "work_order_id", "stations", "households",
                    "started_at", "expected_back_at", "ended_at", "created_by", "details")
_SELECT = ("SELECT id, kind::text, cause_element, title, alarm_id, work_order_id, stations, households, started_at,"
           " expected_back_at, ended_at, created_by, details FROM incident")
# Station alarms that mean the station's households are without heat (the others are warnings about it).
STATION_FAULT_CAUSES = ("station_t_supply_low", "station_dp_low")


def _households_of(conn, stations: list[str]) -> int:
    return conn.execute("SELECT count(*) FROM household WHERE station_id = ANY(%s)", (stations,)).fetchone()[0]


def _insert(conn, *, kind: str, cause_element: str, title: str, stations: list[str], actor: Actor,
            alarm_id: int | None = None, expected_back_at: datetime | None = None, details: dict | None = None,
            started_at: datetime | None = None) -> int:
    if kind not in incident_kind_values:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(incident_kind_values)}")
    return conn.execute(
        "INSERT INTO incident (kind, cause_element, title, alarm_id, stations, households, expected_back_at,"
        " created_by, details, started_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()))"
        " RETURNING id",
        (kind, cause_element, title, alarm_id, stations, _households_of(conn, stations), expected_back_at,
         actor.username, Jsonb(details or {}), started_at)).fetchone()[0]


def add_isolation(pool: ConnectionPool, *, pipe_id: str, stations: list[str], valves: list[str], actor: Actor,
                  expected_back_at: datetime | None = None, work_order_id: int | None = None) -> int:
    """A dispatcher closed ``valves`` to isolate ``pipe_id``: the stations cut off are an incident until ended."""
    with audited(pool, actor, "incident.manage", "incident") as change:
        incident_id = _insert(change.conn, kind="isolation", cause_element=pipe_id, stations=list(stations),
                              title=f"{pipe_id} 关阀检修", actor=actor, expected_back_at=expected_back_at,
                              details={"valves": list(valves)})
        if work_order_id is not None:
            change.conn.execute("UPDATE incident SET work_order_id = %s WHERE id = %s", (work_order_id, incident_id))
        change.object_id = str(incident_id)
        change.after = {"pipe_id": pipe_id, "stations": list(stations), "valves": list(valves),
                        "expected_back_at": expected_back_at}
    return incident_id


def end_incident(pool: ConnectionPool, incident_id: int, *, actor: Actor) -> bool:
    """Heat is back: the incident ends (and stops collecting calls)."""
    with audited(pool, actor, "incident.manage", "incident", incident_id) as change:
        ended = change.conn.execute("UPDATE incident SET ended_at = now() WHERE id = %s AND ended_at IS NULL",
                                    (incident_id,)).rowcount
        change.detail = "ended" if ended else "was not active"
    return bool(ended)


def list_active_incidents(pool: ConnectionPool, *, station_id: str | None = None) -> pd.DataFrame:
    """Incidents not ended, newest first (those covering ``station_id`` when given)."""
    with pool.connection() as conn:
        rows = conn.execute(_SELECT + " WHERE ended_at IS NULL AND (%s::text IS NULL OR %s = ANY(stations))"
                            " ORDER BY started_at DESC", (station_id, station_id)).fetchall()
    return pd.DataFrame(rows, columns=list(INCIDENT_COLUMNS))


def _alarm_incidents(alarms: pd.DataFrame, isolate) -> list[dict]:
    """What each open leak or station-fault alarm leaves without heat."""
    found = []
    for a in alarms.itertuples(index=False):
        details = a.details or {}
        if a.cause == "leak" and details.get("pipe_id"):
            cut = isolate(details["pipe_id"]) if isolate else None
            stations = list(cut.stations_cut_off) if cut is not None else []
            found.append({"alarm_id": int(a.id), "kind": "leak", "cause_element": details["pipe_id"],
                          "title": f"{details['pipe_id']} 疑似泄漏", "stations": stations,
                          "details": {"valves": details.get("valves", []), "region": details.get("region", [])}})
        elif a.cause in STATION_FAULT_CAUSES and a.severity in ("alarm", "critical"):
            found.append({"alarm_id": int(a.id), "kind": "station_fault", "cause_element": a.asset_id,
                          "title": f"{a.name or a.asset_id} 供热异常", "stations": [a.asset_id], "details": {}})
    return found


def sync_alarm_incidents(pool: ConnectionPool, alarms: pd.DataFrame, isolate=None, *, at=None) -> dict:
    """Keep the alarm-borne incidents in step with the open ``alarms`` (as ``list_open_alarms(with_details=
    True)`` gives them): a new leak or station fault opens one, a cleared alarm ends its incident.
    ``isolate(pipe_id)`` returns the isolation of a pipe (the stations a repair would cut off)."""
    wanted = {i["alarm_id"]: i for i in _alarm_incidents(alarms, isolate)}
    counts = {"opened": 0, "ended": 0}
    with transaction(pool) as conn:
        have = {r[0] for r in conn.execute("SELECT alarm_id FROM incident WHERE ended_at IS NULL"
                                           " AND alarm_id IS NOT NULL").fetchall()}
        for alarm_id in set(wanted) - have:
            _insert(conn, actor=SYSTEM, started_at=at, **wanted[alarm_id])
            counts["opened"] += 1
        gone = list(have - set(wanted))
        if gone:
            counts["ended"] = conn.execute("UPDATE incident SET ended_at = coalesce(%s, now())"
                                           " WHERE alarm_id = ANY(%s) AND ended_at IS NULL", (at, gone)).rowcount
    return counts


def link_call_order(conn, incident_id: int, wo_id: int) -> None:
    """A resident's ticket about an incident: a child of its repair job, not a job of its own."""
    conn.execute("UPDATE work_order SET incident_id = %s WHERE id = %s", (incident_id, wo_id))
