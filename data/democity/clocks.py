"""The demo's due times, as the app would have set them: the SLA policy HeatTwin ships
(``store/work_orders/sla_default.yaml``) counted in calendar hours or on China's official working days
(``store.calendar``, 调休 included), for whole arrays of orders at once.

Working-day time runs only on working local dates, 24 h each (``store.calendar.add_working_days``): with
W(t) the working seconds since the first day of the range, a clock of ``d`` working days started at ``t``
is due at the earliest moment where W reaches W(t) + d × 86 400 s. The shipped file, not
``HEATTWIN_SLA_FILE``, and the Weifang zone, not ``HEATTWIN_TIMEZONE``: the demo is the same everywhere.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from store.calendar import WorkCalendar
from store.work_orders.sla_policy import DEFAULT_FILE, load_sla_policy

DAY_S = 86400
LOCAL_OFFSET_S = 8 * 3600  # Asia/Shanghai, no daylight saving
PLATFORM_ORIGIN = "platform_12345"


class _WorkingTime:
    """W(t) and its inverse over the local dates from ``first_s`` to ``last_s`` (plus a margin)."""

    def __init__(self, first_s: float, last_s: float, margin_days: int = 21):
        day0 = int((first_s + LOCAL_OFFSET_S) // DAY_S)
        days = int((last_s + LOCAL_OFFSET_S) // DAY_S) - day0 + margin_days
        calendar = WorkCalendar()
        epoch = date(1970, 1, 1)
        work = np.array([calendar.is_workday(epoch + timedelta(days=day0 + k)) for k in range(days)])
        self.day0, self.start_s = day0, (day0 + np.arange(days)) * DAY_S - LOCAL_OFFSET_S
        self.work = work
        self.before = np.concatenate([[0], np.cumsum(work * DAY_S)[:-1]]).astype(float)
        self.after = self.before + work * DAY_S

    def at(self, t_s: np.ndarray) -> np.ndarray:
        k = ((t_s + LOCAL_OFFSET_S) // DAY_S).astype(np.int64) - self.day0
        return self.before[k] + self.work[k] * (t_s - self.start_s[k])

    def until(self, worked_s: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.after, worked_s, side="left")
        if (k >= len(self.after)).any():
            raise ValueError("a working-day clock runs past the calendar range: widen the margin")
        return self.start_s[k] + (worked_s - self.before[k])


def due_s(name: str, category, priority, start_s, *, working: _WorkingTime | None = None) -> np.ndarray:
    """When clock ``name`` (reply, site, resolve, revisit) started at ``start_s`` (UTC seconds; NaN: not
    started) is due, for each order; NaN where the policy runs no such clock."""
    policy = load_sla_policy(DEFAULT_FILE)
    category, priority = np.asarray(category), np.asarray(priority)
    start_s = np.asarray(start_s, dtype=float)
    due = np.full(len(start_s), np.nan)
    started = ~np.isnan(start_s)
    if working is None and started.any():
        working = _WorkingTime(np.nanmin(start_s), np.nanmax(start_s))
    for (c, p), clocks in policy.table.items():
        rows = np.flatnonzero((category == c) & (priority == p) & started)
        clock = clocks[name]
        if clock is None or not len(rows):
            continue
        if clock.unit == "hours":
            due[rows] = start_s[rows] + clock.seconds
        else:
            due[rows] = working.until(working.at(start_s[rows]) + clock.seconds)
    return np.round(due)


def filing_dues(calls: pd.DataFrame) -> pd.DataFrame:
    """``reply_due_s, site_due_s, resolve_due_s`` of new orders; a 12345 ticket's own deadline wins when
    it is earlier (and is the resolve due when the policy runs no resolve clock), as ``store.work_orders.sla``."""
    created = calls["created_s"].to_numpy(dtype=float)
    working = _WorkingTime(created.min(), created.max())
    external = calls["external_due_s"].to_numpy(dtype=float)
    ticket = (calls["origin"].to_numpy() == PLATFORM_ORIGIN) & (external > 0)
    out = {}
    for name in ("reply", "site", "resolve"):
        due = due_s(name, calls["category"], calls["priority"], created, working=working)
        earlier = ticket & ((external < due) | (np.isnan(due) & (name == "resolve")))
        out[f"{name}_due_s"] = np.where(earlier, external, due)
    return pd.DataFrame(out, index=calls.index)
