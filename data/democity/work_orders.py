"""The demo city's work orders as the CSV rows of ``work_order``, ``work_order_event`` and
``work_order_revisit``: a full past heating season (every order closed or cancelled) for the supervisors'
figures, then today's few, most of them still open, for the live wall, the crews' phones and the
revisit list. Ids run in filing order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.democity.calls import live_calls, season_calls
from data.democity.clocks import due_s, filing_dues
from data.democity.lifecycle import simulate

LIVE_ORDERS = 28  # filed in the last day and a half before "now"; about 20 are still open


def _iso(seconds) -> np.ndarray:
    """UTC seconds → ``2025-11-15T08:00:00Z``; NaN → empty (NULL in the COPY)."""
    seconds = np.asarray(seconds, dtype=float)
    out = np.full(len(seconds), "", dtype=object)
    known = ~np.isnan(seconds)
    out[known] = np.char.add(np.datetime_as_string(seconds[known].astype(np.int64).astype("datetime64[s]")), "Z")
    return out


def _orders(calls: pd.DataFrame, state: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    created = calls["created_s"].to_numpy(dtype=float)
    revisit_due = due_s("revisit", calls["category"], calls["priority"], state["last_resolved_at"])
    external_due = calls["external_due_s"].to_numpy(dtype=float)
    return pd.DataFrame({
        "id": ids, "asset_id": calls["asset_id"].to_numpy(), "household_id": calls["household_id"].to_numpy(),
        "title": calls["title"].to_numpy(), "description": calls["description"].to_numpy(),
        "origin": calls["origin"].to_numpy(), "priority": calls["priority"].to_numpy(),
        "state": state["state"].to_numpy(), "team_id": state["team_id"].to_numpy(),
        "lon": calls["lon"].to_numpy(), "lat": calls["lat"].to_numpy(), "created_at": _iso(created),
        "sla_due_at": _iso(calls["resolve_due_s"]),
        "closed_at": _iso(state["closed_at"]), "alarm_id": "", "category": calls["category"].to_numpy(),
        "created_by": calls["created_by"].to_numpy(), "request_key": "",
        "external_ref": calls["external_ref"].to_numpy(),
        "external_due_at": _iso(np.where(external_due > 0, external_due, np.nan)),
        "reply_due_at": _iso(calls["reply_due_s"]), "site_due_at": _iso(calls["site_due_s"]),
        "revisit_due_at": _iso(revisit_due), "sla_note": "",
        "replied_at": _iso(state["replied_at"]), "on_site_at": _iso(state["on_site_at"]),
        "resolved_at": _iso(state["resolved_at"]), "visited_at": _iso(state["visited_at"]), "paused_at": "",
        "paused_s": 0.0, "reopen_count": state["reopen_count"].to_numpy(),
        "resolution": state["resolution"].to_numpy(), "site_lon": state["site_lon"].to_numpy(),
        "site_lat": state["site_lat"].to_numpy(), "incident_id": "",
        "first_contact": state["first_contact"].to_numpy()})


def make_work_orders(households, communities, places, teams, rng, now: pd.Timestamp):
    """``(work_order, work_order_event, work_order_revisit)`` rows; ``places``: lon/lat by element id
    (stations, pipes, communities)."""
    season = season_calls(households, communities, places, rng)
    live = live_calls(LIVE_ORDERS, now, households, communities, places, rng)
    orders, events, revisits = [], [], []
    first_id = 1
    for calls, cutoff_s in ((season, None), (live, int(now.timestamp()))):
        calls = pd.concat([calls, filing_dues(calls)], axis=1)
        state, log, calls_back = simulate(calls, teams, rng, cutoff_s)
        ids = np.arange(first_id, first_id + len(calls))
        first_id += len(calls)
        orders.append(_orders(calls, state, ids))
        events.append(pd.DataFrame({
            "work_order_id": ids[log["order"].to_numpy()], "at": _iso(log["at"]), "actor": log["actor"].to_numpy(),
            "from_state": log["from_state"].fillna("").to_numpy(), "to_state": log["to_state"].to_numpy(),
            "note": log["note"].to_numpy(), "details": log["details"].to_numpy()}))
        revisits.append(pd.DataFrame({
            "work_order_id": ids[calls_back["order"].to_numpy()], "at": _iso(calls_back["at"]),
            "agent": calls_back["agent"].to_numpy(), "reached": calls_back["reached"].to_numpy(),
            "satisfaction": calls_back["satisfaction"].array, "fixed": calls_back["fixed"].array,
            "note": calls_back["note"].to_numpy()}))
    return tuple(pd.concat(frames, ignore_index=True) for frames in (orders, events, revisits))
