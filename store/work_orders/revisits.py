"""Revisits (回访): an agent calls the resident back after a repair. Reached and satisfied with the problem
fixed, the order is visited; dissatisfied or not fixed, it is reopened to the same team; not reached, the
attempt is recorded and the order waits for the next call."""

from __future__ import annotations

import pandas as pd
from psycopg_pool import ConnectionPool

from store.audit import Actor, audited
from store.notifications import notify_team
from store.work_orders.lifecycle import check_note, locked_order, move_on

SATISFIED_FROM = 3  # 1–2 dissatisfied; 3 基本满意 and up count as satisfied, as the assessment rates do


def record_revisit(pool: ConnectionPool, wo_id: int, *, actor: Actor, reached: bool, satisfaction: int | None = None,
                   fixed: bool | None = None, note: str = "") -> str:
    """Record a call back; returns the order's state after it (resolved, visited or reopened)."""
    note = check_note(note)
    if reached and (satisfaction is None or fixed is None):
        raise ValueError("satisfaction and fixed: a reached resident is asked both")
    if satisfaction is not None and not 1 <= int(satisfaction) <= 5:
        raise ValueError(f"satisfaction: 1 to 5, not {satisfaction}")
    with audited(pool, actor, "work_order.revisit", "work_order", wo_id) as change:
        conn = change.conn
        order = locked_order(conn, wo_id)
        if order["state"] != "resolved":
            raise ValueError(f"work order #{wo_id} is {order['state']}: only a resolved order is called back")
        conn.execute("INSERT INTO work_order_revisit (work_order_id, agent, reached, satisfaction, fixed, note)"
                     " VALUES (%s, %s, %s, %s, %s, %s)",
                     (wo_id, actor.username, reached, satisfaction if reached else None,
                      fixed if reached else None, note))
        state = _outcome(conn, order, actor, reached, satisfaction, fixed, note)
        change.after = {"reached": reached, "satisfaction": satisfaction, "fixed": fixed, "state": state}
    return state


def _outcome(conn, order: dict, actor: Actor, reached: bool, satisfaction, fixed, note: str) -> str:
    if not reached:
        return "resolved"
    details = {"satisfaction": satisfaction, "fixed": fixed}
    if fixed and satisfaction >= SATISFIED_FROM:
        move_on(conn, order["id"], "visited", actor=actor, note=note or "回访满意", details=details)
        return "visited"
    # The crew's second round stamps its own arrival and resolution; the first ones stay in the events.
    move_on(conn, order["id"], "reopened", actor=actor, note=note or "回访不满意，重开工单", details=details,
            reopen_count=order["reopen_count"] + 1, on_site_at=None, resolved_at=None)
    if order["team_id"]:
        notify_team(conn, order["team_id"], order["id"], f"工单 #{order['id']} 回访不满意，已重开：{order['title']}")
    return "reopened"


def list_revisit_queue(pool: ConnectionPool, *, limit: int = 200) -> pd.DataFrame:
    """Resolved orders waiting for their call back, the soonest due first, with the calls tried so far."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT w.id, w.title, w.category::text, w.team_id, t.name, w.resolved_at, w.revisit_due_at,"
            " h.name, h.phone, h.address, w.resolution, (SELECT count(*) FROM work_order_revisit r"
            " WHERE r.work_order_id = w.id AND r.at > w.resolved_at) AS attempts"
            " FROM work_order w LEFT JOIN team t ON t.id = w.team_id LEFT JOIN household h ON h.id = w.household_id"
            " WHERE w.state = 'resolved' ORDER BY w.revisit_due_at NULLS LAST, w.resolved_at LIMIT %s",
            (limit,)).fetchall()
    return pd.DataFrame(rows, columns=["id", "title", "category", "team_id", "team_name", "resolved_at",
                                       "revisit_due_at", "resident", "phone", "address", "resolution", "attempts"])
