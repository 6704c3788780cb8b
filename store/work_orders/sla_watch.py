"""Where each SLA clock stands, for the supervisors' board, and the wall's SLA alarms.

A running clock is *running* until 80 % of its allowance is used, then *warning*, and *breached* once
past due; a stopped clock was *met* (stopped by its due time) or *missed*. The share used is counted in
the clock's own time: calendar time for hour clocks and the 12345 deadline, working-day time for
working-day clocks (a holiday does not use up a clock of working days). While the order is paused its
clocks stand still, except a 12345 deadline.

``watch_sla`` (once per sync cycle) raises one alarm per element and cause — ``sla_warning`` (severity
warning) and ``sla_breach`` (alarm) — on the order's element (its asset, else its household's
community), carrying the orders in ``details``, and clears them when the orders move on.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from psycopg import sql
from psycopg_pool import ConnectionPool

from heattwin.choices import SLA_CLOCKS, WORK_ORDER_FINAL_STATES
from store.alarms import clear_gone, upsert_alarms
from store.calendar import CalendarMissing, WorkCalendar, read_work_calendar, working_seconds_between
from store.work_orders.sla import DUE_COLUMN, STOP_COLUMN
from store.work_orders.sla_policy import SlaPolicy, load_sla_policy

WARNING_SHARE = 0.8          # share of a clock's allowance used when its warning goes up
CAUSES = {"warning": "sla_warning", "breached": "sla_breach"}
SEVERITY = {"warning": "warning", "breached": "alarm"}
CONTINUING_S = 900.0         # a watch this soon after the last keeps the alarm going (not a re-raise)
MESSAGE_ORDERS = 5           # orders named in an alarm's message (details list them all)
_STATE_RANK = ("breached", "missed", "warning", "running", "met")   # worst first
_FINAL = list(WORK_ORDER_FINAL_STATES)
# Due times of the clocks still running: the board's order, and the watch's filter.
_OPEN_DUES = sql.SQL("least({})").format(sql.SQL(", ").join(
    sql.SQL("CASE WHEN w.{} IS NULL THEN w.{} END").format(sql.Identifier(STOP_COLUMN[c]), sql.Identifier(DUE_COLUMN[c]))
    for c in SLA_CLOCKS))
ORDER_COLUMNS = ("id", "title", "state", "category", "priority", "origin", "team_id", "asset_id", "household_id",
                 "element_id", "created_at", "paused_at", "paused_s", "external_due_at", "sla_note", "closed_at",
                 *DUE_COLUMN.values(), *STOP_COLUMN.values(), "next_due_at")
_SELECT = sql.SQL(
    "SELECT w.id, w.title, w.state::text, w.category::text, w.priority::text, w.origin, w.team_id, w.asset_id,"
    " w.household_id, coalesce(w.asset_id, h.community_id), w.created_at, w.paused_at, w.paused_s,"
    " w.external_due_at, w.sla_note, w.closed_at, {}, {} AS next_due_at FROM work_order w"
    " LEFT JOIN household h ON h.id = w.household_id").format(
        sql.SQL(", ").join(sql.SQL("w.") + sql.Identifier(c) for c in (*DUE_COLUMN.values(), *STOP_COLUMN.values())),
        _OPEN_DUES)


def _remaining_s(now: datetime, due: datetime, working: bool, calendar: WorkCalendar, timezone: str | None) -> float:
    """Time left to ``due`` (negative: overdue), in working-day seconds for a working-day clock."""
    if not working:
        return (due - now).total_seconds()
    if now <= due:
        return working_seconds_between(calendar, now, due, timezone=timezone)
    return -working_seconds_between(calendar, due, now, timezone=timezone)


def clock_state(order: dict, name: str, *, at: datetime, policy: SlaPolicy, calendar: WorkCalendar,
                timezone: str | None = None) -> tuple[str | None, float | None]:
    """``(state, share used)`` of clock ``name`` of ``order`` (a row of ``ORDER_COLUMNS``) at ``at``.

    ``state`` is None for a clock without a due time or on a cancelled order; ``share`` is None for a
    stopped clock. A closed order's clock that never stopped was missed.
    """
    due, stopped = order[DUE_COLUMN[name]], order[STOP_COLUMN[name]]
    if due is None:
        return None, None
    if stopped is not None:
        return ("met" if stopped <= due else "missed"), None
    if order["state"] == "cancelled":
        return None, None
    if order["state"] == "closed":
        return "missed", None
    platform = order["external_due_at"] is not None and due == order["external_due_at"]
    paused = order["paused_at"] if order["paused_at"] is not None and not platform else None
    now = at if paused is None else min(at, paused)
    start = order["resolved_at"] if name == "revisit" else order["created_at"]
    # Calendar time by default: a 12345 deadline, a clock the policy no longer runs, a calendar gap.
    allowance_s = (due - start).total_seconds() - (0.0 if platform or name == "revisit" else order["paused_s"])
    remaining_s = (due - now).total_seconds()
    clock = None if platform else policy.clock(order["category"], order["priority"], name)
    if clock is not None:
        try:
            remaining_s = _remaining_s(now, due, clock.unit == "working_days", calendar, timezone)
            allowance_s = clock.seconds
        except CalendarMissing:
            pass
    share = 1.0 - remaining_s / allowance_s if allowance_s > 0 else 1.0
    state = "breached" if now >= due else "warning" if share >= WARNING_SHARE else "running"
    return state, share


def sla_states(orders: pd.DataFrame, *, at: datetime, policy: SlaPolicy, calendar: WorkCalendar,
               timezone: str | None = None) -> pd.DataFrame:
    """``orders`` with ``<clock>_state`` and ``<clock>_share`` for every clock, and ``sla_state`` (the worst)."""
    out = orders.copy()
    rows = orders.to_dict("records")
    for name in SLA_CLOCKS:
        states = [clock_state(r, name, at=at, policy=policy, calendar=calendar, timezone=timezone) for r in rows]
        out[f"{name}_state"] = [s for s, _ in states]
        out[f"{name}_share"] = [f for _, f in states]
    columns = [f"{name}_state" for name in SLA_CLOCKS]
    out["sla_state"] = [next((s for s in _STATE_RANK if s in set(r)), None) for r in out[columns].itertuples(False)]
    return out


def _frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(ORDER_COLUMNS))
    return frame.astype(object).where(frame.notna(), None)


def list_sla_states(pool: ConnectionPool, *, at: datetime | None = None, open_only: bool = True,
                    team_id: str | None = None, category: str | None = None, limit: int = 100, offset: int = 0,
                    policy: SlaPolicy | None = None, timezone: str | None = None) -> pd.DataFrame:
    """Work orders with each clock's state, the most pressing first (the earliest due time of a clock
    still running), for the supervisors' board.

    Returns ``ORDER_COLUMNS`` (``element_id``: the order's asset, else its household's community;
    ``next_due_at``: the earliest due time of a running clock) plus ``<clock>_state`` (running / warning /
    breached / met / missed, None without a due time) and ``<clock>_share`` (share of the allowance used,
    for the running ones) for reply, site, resolve and revisit, and ``sla_state`` (the worst of them).
    """
    at = (at or datetime.now(UTC)).astimezone(UTC)
    clauses, params = [sql.SQL("TRUE")], []
    if open_only:
        clauses.append(sql.SQL("w.state <> ALL(%s::work_order_state[])"))
        params.append(_FINAL)
    for column, value in (("team_id", team_id), ("category", category)):
        if value is not None:
            clauses.append(sql.SQL("w.{}::text = %s").format(sql.Identifier(column)))
            params.append(value)
    query = sql.SQL("{} WHERE {} ORDER BY next_due_at ASC NULLS LAST, w.id DESC LIMIT %s OFFSET %s").format(
        _SELECT, sql.SQL(" AND ").join(clauses))
    with pool.connection() as conn:
        rows = conn.execute(query, (*params, limit, offset)).fetchall()
        calendar = read_work_calendar(conn)
    frame = _frame(rows)
    return sla_states(frame, at=at, policy=policy or load_sla_policy(), calendar=calendar, timezone=timezone)


def _running_orders(pool: ConnectionPool) -> tuple[pd.DataFrame, WorkCalendar]:
    """Orders not closed or cancelled with at least one clock still running."""
    query = sql.SQL("{} WHERE w.state <> ALL(%s::work_order_state[]) AND {} IS NOT NULL").format(
        _SELECT, _OPEN_DUES)
    with pool.connection() as conn:
        rows = conn.execute(query, (_FINAL,)).fetchall()
        calendar = read_work_calendar(conn)
    return _frame(rows), calendar


def sla_alarm_conditions(states: pd.DataFrame) -> list[dict]:
    """One condition per element and cause: an order counts under its worst running clock (breached
    before warning) and lists the clocks in that state."""
    by_key: dict[tuple[str, str], list[dict]] = {}
    for order in states.to_dict("records"):
        clocks = {name: order[f"{name}_state"] for name in SLA_CLOCKS}
        worst = "breached" if "breached" in clocks.values() else "warning" if "warning" in clocks.values() else None
        if worst is None:
            continue
        names = [name for name, state in clocks.items() if state == worst]
        due = min(order[DUE_COLUMN[name]] for name in names)
        by_key.setdefault((order["element_id"], worst), []).append(
            {"id": int(order["id"]), "clocks": names, "due_at": due.isoformat(), "category": order["category"],
             "priority": order["priority"], "share": round(max(order[f"{n}_share"] for n in names), 3)})
    return [_condition(element, worst, orders) for (element, worst), orders in sorted(by_key.items())]


def _condition(element_id: str, worst: str, orders: list[dict]) -> dict:
    orders = sorted(orders, key=lambda o: (o["due_at"], o["id"]))
    named = ", ".join(f"#{o['id']} {'/'.join(o['clocks'])} (due {o['due_at'][:16]} UTC)"
                      for o in orders[:MESSAGE_ORDERS])
    more = f" and {len(orders) - MESSAGE_ORDERS} more" if len(orders) > MESSAGE_ORDERS else ""
    what = "past due" if worst == "breached" else f"at {WARNING_SHARE:.0%} of their time"
    return {"asset_id": element_id, "cause": CAUSES[worst], "severity": SEVERITY[worst],
            "message": f"{len(orders)} work order{'s' if len(orders) != 1 else ''} {what}: {named}{more}",
            "details": {"count": len(orders), "work_order_ids": [o["id"] for o in orders], "orders": orders}}


def watch_sla(pool: ConnectionPool, *, at: datetime | None = None, policy: SlaPolicy | None = None,
              timezone: str | None = None, actor: str = "sla") -> dict[str, int]:
    """Raise, refresh and clear the SLA alarms for ``at`` (default now); returns what it did.

    Keys: ``warning`` / ``breached`` (orders in each), ``raised``, ``re_raised``, ``continued`` and
    ``cleared`` (alarms).
    """
    at = (at or datetime.now(UTC)).astimezone(UTC)
    orders, calendar = _running_orders(pool)
    states = sla_states(orders, at=at, policy=policy or load_sla_policy(), calendar=calendar, timezone=timezone)
    conditions = sla_alarm_conditions(states)
    counts = upsert_alarms(pool, conditions, at=at, continuing_s=CONTINUING_S, actor=actor)
    cleared = 0
    for cause in CAUSES.values():
        active = {c["asset_id"] for c in conditions if c["cause"] == cause}
        cleared += len(clear_gone(pool, cause, active, at=at, hold_off_s=0.0, actor=actor))
    per_state = {state: sum(c["details"]["count"] for c in conditions if c["cause"] == cause)
                 for state, cause in CAUSES.items()}
    return {**per_state, **counts, "cleared": cleared}
