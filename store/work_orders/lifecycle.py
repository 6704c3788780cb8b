"""Moving a work order along ``heattwin.choices.WORK_ORDER_TRANSITIONS``.

Every move checks the declared table (an illegal one is refused naming the current state and the
allowed next ones), stamps the moment its clock stops, writes a ``work_order_event`` with the actor,
and runs inside the caller's audited transaction (``store.audit.audited``): the ``*_on`` functions take
that connection, the public ones open it.
"""

from __future__ import annotations

from datetime import datetime

from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from heattwin.choices import WORK_ORDER_TRANSITIONS, work_order_state_values
from heattwin.permissions import TRANSITION_ACTIONS
from store.audit import Actor, audited
from store.notifications import notify_team

# The moment a move stops a clock (kept from the first time: a re-dispatch does not restart "reply").
_STAMPS = {"dispatched": "replied_at", "accepted": "replied_at", "on_site": "on_site_at",
           "resolved": "resolved_at", "visited": "visited_at", "closed": "closed_at", "cancelled": "closed_at"}
MAX_NOTE_CHARS = 1000


class TransitionError(ValueError):
    """A move the lifecycle does not allow from the order's current state."""

    def __init__(self, wo_id: int, current: str, requested: str):
        allowed = WORK_ORDER_TRANSITIONS.get(current, ())
        nexts = ", ".join(allowed) if allowed else "nothing (it is final)"
        super().__init__(f"work order #{wo_id} is {current}: it can go to {nexts} next, not {requested}")
        self.wo_id, self.current, self.requested, self.allowed = wo_id, current, requested, allowed


class NotYourTeamError(PermissionError):
    def __init__(self, wo_id: int, team_id: str | None, crew_team: str | None):
        super().__init__(f"work order #{wo_id} is with team {team_id or '(none)'}, not with your team "
                         f"{crew_team or '(none)'}")


def check_transition(wo_id: int, current: str, to_state: str) -> None:
    if to_state not in work_order_state_values:
        raise ValueError(f"work-order state {to_state!r} is not one of {', '.join(work_order_state_values)}")
    if to_state not in WORK_ORDER_TRANSITIONS.get(current, ()):
        raise TransitionError(wo_id, current, to_state)


def action_for(to_state: str) -> str:
    """The permission a move to ``to_state`` needs (``heattwin.permissions.TRANSITION_ACTIONS``)."""
    return TRANSITION_ACTIONS[to_state]


def locked_order(conn, wo_id: int) -> dict:
    cur = conn.execute("SELECT id, state::text, team_id, category::text, priority::text, asset_id, household_id,"
                       " title, paused_at, reopen_count FROM work_order WHERE id = %s FOR UPDATE", (wo_id,))
    row = cur.fetchone()
    if row is None:
        raise ValueError(f"work order {wo_id} does not exist")
    return dict(zip([d.name for d in cur.description], row, strict=True))


def check_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"note: at most {MAX_NOTE_CHARS} characters (got {len(note)})")
    return note


def move_on(conn, wo_id: int, to_state: str, *, actor: Actor, note: str = "", details: dict | None = None,
            at: datetime | None = None, **columns) -> dict:
    """Move the order on ``conn`` (inside the caller's transaction); returns the order as it was.

    ``columns`` are further work_order columns set with the move (team_id, resolution …).
    """
    order = locked_order(conn, wo_id)
    check_transition(wo_id, order["state"], to_state)
    sets = [sql.SQL("state = %(state)s")]
    sets += [sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in columns]
    stamp = _STAMPS.get(to_state)
    if stamp:
        sets.append(sql.SQL("{0} = coalesce({0}, coalesce(%(at)s, now()))").format(sql.Identifier(stamp)))
    values = {"state": to_state, "at": at, "id": wo_id,
              **{k: Jsonb(v) if isinstance(v, dict) else v for k, v in columns.items()}}
    conn.execute(sql.SQL("UPDATE work_order SET {} WHERE id = %(id)s").format(sql.SQL(", ").join(sets)), values)
    conn.execute("INSERT INTO work_order_event (work_order_id, actor, from_state, to_state, note, details, at)"
                 " VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()))",
                 (wo_id, actor.username, order["state"], to_state, check_note(note), Jsonb(details or {}), at))
    return order


def transition(pool: ConnectionPool, wo_id: int, to_state: str, *, actor: Actor, note: str = "",
               details: dict | None = None) -> None:
    """A plain move (close, cancel …) with its audit row; the specific moves below set more."""
    with audited(pool, actor, action_for(to_state), "work_order", wo_id) as change:
        before = move_on(change.conn, wo_id, to_state, actor=actor, note=note, details=details)
        change.before, change.after = {"state": before["state"]}, {"state": to_state, "note": note}


def dispatch_on(conn, wo_id: int, team_id: str, *, actor: Actor, note: str = "") -> dict:
    """Send the order to ``team_id`` (again, or to another team) and tell the team's phones."""
    team = conn.execute("SELECT name FROM team WHERE id = %s", (team_id,)).fetchone()
    if team is None:
        raise ValueError(f"team: {team_id!r} is not a team in the store")
    before = move_on(conn, wo_id, "dispatched", actor=actor, note=note, details={"team_id": team_id},
                     team_id=team_id)
    notify_team(conn, team_id, wo_id, f"新工单 #{wo_id}：{before['title']}（{team[0]}）")
    return before


def dispatch(pool: ConnectionPool, wo_id: int, team_id: str, *, actor: Actor, note: str = "") -> None:
    with audited(pool, actor, "work_order.dispatch", "work_order", wo_id) as change:
        before = dispatch_on(change.conn, wo_id, team_id, actor=actor, note=note)
        change.before = {"state": before["state"], "team_id": before["team_id"]}
        change.after = {"state": "dispatched", "team_id": team_id}


def check_crew_team(order: dict, crew_team: str | None) -> None:
    """A crew member acts only on their own team's orders."""
    if order["team_id"] is None or order["team_id"] != crew_team:
        raise NotYourTeamError(order["id"], order["team_id"], crew_team)
