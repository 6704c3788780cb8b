"""A work order's SLA clocks: when reply, site and resolve are due for a new order, when its revisit is
due once resolved, and how a pause (waiting for the resident) moves them.

Clocks are counted by the policy (``sla_policy``) in calendar hours or on China's official working days
(``store.calendar``). A 12345 ticket's own deadline wins when it is earlier, and is never moved by a
pause: the platform's deadline is not ours to extend. A working-day clock that reaches a year without
calendar data raises ``CalendarMissing``; the ``*_with_notes`` variants leave that clock empty instead
and say why in ``sla_note``, so an order can be filed anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from psycopg import sql

from heattwin.choices import work_order_origin_values
from store.calendar import (
    CalendarMissing,
    WorkCalendar,
    add_working_days,
    read_work_calendar,
    working_seconds_between,
)
from store.work_orders.sla_policy import Clock, SlaPolicy, load_sla_policy

# Each clock's due column, and the column stamped when it stops (the lifecycle's moves).
DUE_COLUMN = {"reply": "reply_due_at", "site": "site_due_at", "resolve": "sla_due_at", "revisit": "revisit_due_at"}
STOP_COLUMN = {"reply": "replied_at", "site": "on_site_at", "resolve": "resolved_at", "revisit": "visited_at"}
FILING_CLOCKS = ("reply", "site", "resolve")
PLATFORM_ORIGIN = "platform_12345"
MAX_NOTE_CHARS = 1000


@dataclass(frozen=True)
class DueTimes:
    """A new order's due times (UTC; None: the clock does not run, or could not be counted).

    ``notes`` say why a clock the policy runs has no due time; ``platform`` names the clocks the
    12345 deadline set.
    """

    reply: datetime | None
    site: datetime | None
    resolve: datetime | None
    notes: tuple[str, ...] = ()
    platform: frozenset[str] = field(default_factory=frozenset)

    @property
    def sla_note(self) -> str:
        return "; ".join(self.notes)[:MAX_NOTE_CHARS]

    def columns(self) -> dict:
        """The ``work_order`` columns to insert: reply_due_at, site_due_at, sla_due_at, sla_note."""
        return {"reply_due_at": self.reply, "site_due_at": self.site, "sla_due_at": self.resolve,
                "sla_note": self.sla_note}


def clock_state(due: datetime | None, done: datetime | None, *, now: datetime) -> tuple[str | None, float]:
    """Where one clock stands (``heattwin.choices.SLA_CLOCK_STATE``) and the seconds that go with it.

    Still running: ``running`` and the seconds left, or ``breached`` and the seconds past due. Its target
    state reached (``done``): ``met``, or ``missed`` and the seconds it was late. No due time: (None, 0).
    The 80 % ``warning`` needs the clock's start and is the SLA watch's (``store.work_orders.sla_watch``).
    """
    if due is None:
        return None, 0.0
    if done is not None:
        late_s = (done - due).total_seconds()
        return ("missed", late_s) if late_s > 0 else ("met", 0.0)
    left_s = (due - now).total_seconds()
    return ("running", left_s) if left_s >= 0 else ("breached", -left_s)


def _utc(moment: datetime | None, name: str) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"{name}: {moment!r} needs its time zone")
    return moment.astimezone(UTC)


def due_at(clock: Clock, start: datetime, *, calendar: WorkCalendar, timezone: str | None = None) -> datetime:
    """When ``clock`` started at ``start`` is due (UTC); ``CalendarMissing`` for a year without data."""
    if clock.unit == "hours":
        return _utc(start, "start") + timedelta(hours=clock.amount)
    return add_working_days(calendar, start, clock.amount, timezone=timezone)


def _missing_note(name: str, clock: Clock, exc: CalendarMissing) -> str:
    return f"{name}: {clock} not counted, no working-day calendar for {exc.year} (heattwin calendar load)"


def _filing_due_times(category: str, priority: str, origin: str, created_at: datetime,
                      external_due_at: datetime | None, policy: SlaPolicy | None, calendar: WorkCalendar,
                      timezone: str | None, lenient: bool) -> DueTimes:
    if origin not in work_order_origin_values:
        raise ValueError(f"origin {origin!r} is not one of {', '.join(work_order_origin_values)}")
    created, external = _utc(created_at, "created_at"), _utc(external_due_at, "external_due_at")
    if external is not None and origin != PLATFORM_ORIGIN:
        raise ValueError(f"external_due_at: only 12345-platform orders carry the platform's deadline "
                         f"(origin is {origin!r})")
    if external is not None and external <= created:
        raise ValueError(f"external_due_at: the 12345 deadline {external:%Y-%m-%d %H:%M} UTC is not after "
                         f"the order's filing {created:%Y-%m-%d %H:%M} UTC")
    policy = policy or load_sla_policy()
    dues, notes, platform = {}, [], set()
    for name in FILING_CLOCKS:
        clock = policy.clock(category, priority, name)
        due = None
        if clock is not None:
            try:
                due = due_at(clock, created, calendar=calendar, timezone=timezone)
            except CalendarMissing as exc:
                if not lenient:
                    raise
                notes.append(_missing_note(name, clock, exc) + (", the 12345 deadline stands"
                                                                 if external and name == "resolve" else ""))
        if external is not None and (external < due if due is not None else name == "resolve"):
            due = external
            platform.add(name)
        dues[name] = due
    return DueTimes(dues["reply"], dues["site"], dues["resolve"], tuple(notes), frozenset(platform))


def compute_due_times(*, category: str, priority: str, origin: str, created_at: datetime,
                      external_due_at: datetime | None = None, calendar: WorkCalendar,
                      policy: SlaPolicy | None = None, timezone: str | None = None) -> DueTimes:
    """Reply, site and resolve due times of a new order; ``CalendarMissing`` when a working-day clock
    reaches a year without calendar data.

    Parameters
    ----------
    category, priority, origin : str
        ``heattwin.choices`` values; ``origin`` ``platform_12345`` may carry ``external_due_at``.
    created_at : datetime
        When the order was filed (time-zone aware); every filing clock starts then.
    external_due_at : datetime, optional
        The 12345 platform's deadline: the resolve clock's due time when earlier than the policy's (or
        when the policy runs no resolve clock); reply and site are never due after it.
    calendar : WorkCalendar
        ``store.calendar.get_work_calendar(pool)`` or ``read_work_calendar(conn)``.
    policy : SlaPolicy, optional
        Default ``load_sla_policy()`` (``HEATTWIN_SLA_FILE``).
    timezone : str, optional
        Zone working days are counted in (default ``HEATTWIN_TIMEZONE``).
    """
    return _filing_due_times(category, priority, origin, created_at, external_due_at, policy, calendar,
                             timezone, lenient=False)


def due_times_with_notes(*, category: str, priority: str, origin: str, created_at: datetime,
                         external_due_at: datetime | None = None, calendar: WorkCalendar,
                         policy: SlaPolicy | None = None, timezone: str | None = None) -> DueTimes:
    """As ``compute_due_times``, but a clock that cannot be counted for lack of calendar data is left
    empty and ``notes``/``sla_note`` say why and what to do: the order can be filed anyway."""
    return _filing_due_times(category, priority, origin, created_at, external_due_at, policy, calendar,
                             timezone, lenient=True)


def compute_revisit_due(*, category: str, priority: str, resolved_at: datetime, calendar: WorkCalendar,
                        policy: SlaPolicy | None = None, timezone: str | None = None) -> datetime | None:
    """When the revisit of an order resolved at ``resolved_at`` is due (None: no revisit clock);
    ``CalendarMissing`` for a year without data."""
    clock = (policy or load_sla_policy()).clock(category, priority, "revisit")
    return None if clock is None else due_at(clock, _utc(resolved_at, "resolved_at"), calendar=calendar,
                                             timezone=timezone)


def revisit_due_with_note(*, category: str, priority: str, resolved_at: datetime, calendar: WorkCalendar,
                          policy: SlaPolicy | None = None, timezone: str | None = None) -> tuple[datetime | None, str]:
    """``(due, note)``: as ``compute_revisit_due``; without calendar data the due is None and the note says why."""
    policy = policy or load_sla_policy()
    try:
        return compute_revisit_due(category=category, priority=priority, resolved_at=resolved_at,
                                   calendar=calendar, policy=policy, timezone=timezone), ""
    except CalendarMissing as exc:
        return None, _missing_note("revisit", policy.clock(category, priority, "revisit"), exc)


def shift_due_times(dues: Mapping[str, datetime | None], clocks: Mapping[str, Clock | None], *,
                    paused_at: datetime, resumed_at: datetime, calendar: WorkCalendar,
                    timezone: str | None = None) -> tuple[dict[str, datetime | None], list[str]]:
    """The open clocks' due times moved on by a pause from ``paused_at`` to ``resumed_at``.

    A clock in hours moves by the pause's length; a clock in working days by the working time the pause
    took (a pause over a weekend moves it by the Friday and Monday hours only). ``dues`` holds only the
    clocks to move (not stopped, not set by the 12345 platform); ``clocks`` their policy rules (None: moved
    by the pause's length). Returns the new due times and notes for clocks that could not be moved for lack
    of calendar data (left empty).
    """
    paused, resumed = _utc(paused_at, "paused_at"), _utc(resumed_at, "resumed_at")
    if resumed < paused:
        raise ValueError(f"resumed_at {resumed:%Y-%m-%d %H:%M} is before paused_at {paused:%Y-%m-%d %H:%M}")
    moved, notes = {}, []
    for name, due in dues.items():
        clock = clocks.get(name)
        if due is None or clock is None or clock.unit == "hours":
            moved[name] = None if due is None else due + (resumed - paused)
            continue
        try:
            worked_s = working_seconds_between(calendar, paused, resumed, timezone=timezone)
            moved[name] = add_working_days(calendar, due, worked_s / 86400.0, timezone=timezone)
        except CalendarMissing as exc:
            moved[name] = None
            notes.append(f"{name}: not moved after the pause, no working-day calendar for {exc.year} "
                         "(heattwin calendar load)")
    return moved, notes


# -- on the caller's connection (inside its audited transaction) ----------------------------------------

def _order_clocks(conn, wo_id: int) -> dict:
    columns = sql.SQL(", ").join(map(sql.Identifier, [*DUE_COLUMN.values(), *STOP_COLUMN.values()]))
    cur = conn.execute(sql.SQL("SELECT category::text, priority::text, origin, created_at, paused_at, paused_s,"
                               " external_due_at, sla_note, {} FROM work_order WHERE id = %s FOR UPDATE").format(columns),
                       (wo_id,))
    row = cur.fetchone()
    if row is None:
        raise ValueError(f"work order {wo_id} does not exist")
    return dict(zip([d.name for d in cur.description], row, strict=True))


def _join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)[:MAX_NOTE_CHARS]


def set_due_times_on(conn, wo_id: int, *, policy: SlaPolicy | None = None, timezone: str | None = None) -> DueTimes:
    """Set a new order's reply, site and resolve due times from its category, priority, origin, filing
    time and 12345 deadline (call it right after the insert, in the same transaction). A clock that
    cannot be counted for lack of calendar data is left empty and ``sla_note`` says why."""
    order = _order_clocks(conn, wo_id)
    due = due_times_with_notes(category=order["category"], priority=order["priority"], origin=order["origin"],
                               created_at=order["created_at"], external_due_at=order["external_due_at"],
                               calendar=read_work_calendar(conn), policy=policy, timezone=timezone)
    columns = due.columns()
    columns["sla_note"] = _join_notes(order["sla_note"], columns["sla_note"])
    _update(conn, wo_id, columns)
    return due


def _update(conn, wo_id: int, columns: dict) -> None:
    sets = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in columns)
    conn.execute(sql.SQL("UPDATE work_order SET {} WHERE id = %(id)s").format(sets), {**columns, "id": wo_id})


def set_revisit_due_on(conn, wo_id: int, resolved_at: datetime, *, policy: SlaPolicy | None = None,
                       timezone: str | None = None) -> datetime | None:
    """Set the revisit due time of an order resolved at ``resolved_at`` (call it with the resolve move);
    without calendar data it stays empty and ``sla_note`` says why. Returns the due time."""
    order = _order_clocks(conn, wo_id)
    due, note = revisit_due_with_note(category=order["category"], priority=order["priority"],
                                      resolved_at=resolved_at, calendar=read_work_calendar(conn), policy=policy,
                                      timezone=timezone)
    _update(conn, wo_id, {"revisit_due_at": due, "sla_note": _join_notes(order["sla_note"], note)})
    return due


def shift_clocks_on(conn, wo_id: int, *, resumed_at: datetime | None = None, policy: SlaPolicy | None = None,
                    timezone: str | None = None) -> dict:
    """Restart a paused order's clocks at ``resumed_at`` (default: the transaction's now): every open clock
    not set by the 12345 platform moves on by the pause (``shift_due_times``), ``paused_s`` grows by its
    length and ``paused_at`` is cleared. Returns the changed columns."""
    order = _order_clocks(conn, wo_id)
    if order["paused_at"] is None:
        raise ValueError(f"work order #{wo_id} is not paused")
    resumed = resumed_at or conn.execute("SELECT now()").fetchone()[0]
    policy = policy or load_sla_policy()
    external = order["external_due_at"]
    open_dues = {name: order[col] for name, col in DUE_COLUMN.items() if order[col] is not None
                 and order[STOP_COLUMN[name]] is None and order[col] != external}
    clocks = {name: policy.clock(order["category"], order["priority"], name) for name in open_dues}
    moved, notes = shift_due_times(open_dues, clocks, paused_at=order["paused_at"], resumed_at=resumed,
                                   calendar=read_work_calendar(conn), timezone=timezone)
    paused_s = (_utc(resumed, "resumed_at") - order["paused_at"]).total_seconds()
    changes = {DUE_COLUMN[name]: due for name, due in moved.items()}
    changes.update(paused_s=order["paused_s"] + paused_s, paused_at=None,
                   sla_note=_join_notes(order["sla_note"], *notes))
    _update(conn, wo_id, changes)
    return changes
