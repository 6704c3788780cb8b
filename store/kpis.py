"""The assessment figures (考核指标) of the work orders, defined once: the supervisor's dashboard, the daily,
weekly and monthly reports and their exports all call this module.

Every figure is a function of the ``work_order``, ``work_order_event`` and ``work_order_revisit`` tables for a
period ``[start, end)`` (local days), read **as at the period's end** (or now, for a period still running):
an event, a revisit or a state after that moment is not seen. A past period's figures therefore never
change, and the dashboard and a report made a week later show the same numbers.

The orders of a period are those *filed* in it. An order whose state at the period's end is ``cancelled``
is left out of every figure (it needed no service: a duplicate, a mistaken call). A reopened order counts
by where it stands at the end: resolved again, it is completed at its last resolution; still in its second
round, it is not completed. A clock counts only once it is decided: met or missed by the end, or past due
by then; a clock still running at the end (due later) is in neither the numerator nor the denominator.
Due times are the order's clocks as the SLA policy set them (working days skip official holidays; a pause
for the resident moved them).

``order_facts`` reads one row per order; each KPI is a function of those rows (a ``Ratio`` or hours), and
``kpi_table`` applies them company-wide or per team, station or community.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import COMPLAINT_CATEGORIES, RESIDENT_ORIGINS
from store.work_orders.revisits import SATISFIED_FROM

REPEAT_WINDOW_DAYS = 30
GROUPS = ("team", "station", "community")
PERIOD_KINDS = ("day", "week", "month")


@dataclass(frozen=True)
class Period:
    """``[start, end)``, both time-zone aware (local midnight), and what kind of period it is."""

    kind: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, kind: str, day: date, timezone: str = "Asia/Shanghai") -> Period:
        """The day, the week (Monday to Sunday) or the calendar month holding ``day``."""
        if kind not in PERIOD_KINDS:
            raise ValueError(f"period: {kind!r} is not one of {', '.join(PERIOD_KINDS)}")
        zone = ZoneInfo(timezone)
        if kind == "day":
            first, last = day, day + timedelta(days=1)
        elif kind == "week":
            first = day - timedelta(days=day.weekday())
            last = first + timedelta(days=7)
        else:
            first = day.replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1)
        return cls(kind, datetime.combine(first, datetime.min.time(), zone),
                   datetime.combine(last, datetime.min.time(), zone))

    def previous(self) -> Period:
        """The period of the same kind just before this one (for the trend)."""
        return Period.of(self.kind, (self.start - timedelta(days=1)).date(), str(self.start.tzinfo))

    @property
    def label(self) -> str:
        if self.kind == "day":
            return f"{self.start:%Y-%m-%d}"
        if self.kind == "week":
            return f"{self.start:%Y-%m-%d} – {self.end - timedelta(days=1):%Y-%m-%d}"
        return f"{self.start:%Y-%m}"

    def as_of(self, now: datetime | None = None) -> datetime:
        """The moment the figures are read at: the period's end, or now while it runs."""
        now = now or datetime.now(self.start.tzinfo)
        return min(self.end, now)


@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator``; None when nothing was counted."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


FACT_COLUMNS = ("id", "created_at", "category", "origin", "team_id", "station_id", "community_id",
                "household_id", "first_contact", "reply_due_at", "site_due_at", "resolve_due_at",
                "revisit_due_at", "state", "signed_at", "on_site_at", "resolved_at", "reopened",
                "revisit_reached", "first_satisfaction", "repeat")

# One row per order filed in [start, end), read as at ``as_of``. The state is the last event's; the moments are
# the first sign-off (dispatched, accepted, or resolved on the call), the first arrival, the last resolution.
_FACTS = f"""
WITH o AS (
    SELECT w.id, w.created_at, w.category::text AS category, w.origin, w.team_id, w.household_id, w.asset_id,
           w.first_contact, w.reply_due_at, w.site_due_at, w.sla_due_at, w.revisit_due_at
    FROM work_order w WHERE w.created_at >= %(start)s AND w.created_at < %(end)s AND w.created_at < %(as_of)s
), ev AS (
    SELECT e.work_order_id AS id,
           (array_agg(e.to_state::text ORDER BY e.at DESC, e.id DESC))[1] AS state,
           min(e.at) FILTER (WHERE e.to_state IN ('dispatched', 'accepted', 'resolved')) AS signed_at,
           min(e.at) FILTER (WHERE e.to_state = 'on_site') AS on_site_at,
           max(e.at) FILTER (WHERE e.to_state = 'resolved') AS resolved_at,
           bool_or(e.to_state = 'reopened') AS reopened
    FROM work_order_event e JOIN o ON o.id = e.work_order_id WHERE e.at < %(as_of)s GROUP BY e.work_order_id
), rv AS (
    SELECT r.work_order_id AS id, bool_or(r.reached) AS reached,
           (array_agg(r.satisfaction ORDER BY r.at, r.id) FILTER (WHERE r.reached))[1] AS first_satisfaction
    FROM work_order_revisit r JOIN o ON o.id = r.work_order_id WHERE r.at < %(as_of)s GROUP BY r.work_order_id
)
SELECT o.id, o.created_at, o.category, o.origin, o.team_id,
       coalesce(h.station_id, CASE WHEN a.kind = 'station' THEN a.id
                                   WHEN a.kind = 'community' THEN a.attrs->>'station_id' END) AS station_id,
       coalesce(h.community_id, CASE WHEN a.kind = 'community' THEN a.id END) AS community_id,
       o.household_id, o.first_contact, o.reply_due_at, o.site_due_at, o.sla_due_at, o.revisit_due_at,
       coalesce(ev.state, 'new'), ev.signed_at, ev.on_site_at, ev.resolved_at, coalesce(ev.reopened, false),
       coalesce(rv.reached, false), rv.first_satisfaction,
       (o.household_id IS NOT NULL AND o.origin = ANY(%(resident)s) AND EXISTS (
            SELECT 1 FROM work_order p WHERE p.household_id = o.household_id AND p.id <> o.id
              AND p.category::text = o.category AND p.origin = ANY(%(resident)s)
              AND p.created_at < o.created_at
              AND p.created_at >= o.created_at - make_interval(days => {REPEAT_WINDOW_DAYS})
              AND NOT EXISTS (SELECT 1 FROM work_order_event pe WHERE pe.work_order_id = p.id
                                AND pe.to_state = 'cancelled' AND pe.at < %(as_of)s))) AS repeat
FROM o LEFT JOIN ev ON ev.id = o.id LEFT JOIN rv ON rv.id = o.id
LEFT JOIN household h ON h.id = o.household_id LEFT JOIN asset a ON a.id = o.asset_id
"""

_COMPLETED = ("resolved", "visited", "closed")


def order_facts(pool: ConnectionPool, period: Period, *, as_of: datetime | None = None) -> pd.DataFrame:
    """One row per order filed in ``period`` (``FACT_COLUMNS``), as the tables stood at ``as_of`` (default
    ``period.as_of()``); ``frame.attrs['as_of']`` keeps that moment."""
    as_of = as_of or period.as_of()
    with pool.connection() as conn:
        rows = conn.execute(_FACTS, {"start": period.start, "end": period.end, "as_of": as_of,
                                     "resident": list(RESIDENT_ORIGINS)}).fetchall()
    frame = pd.DataFrame(rows, columns=list(FACT_COLUMNS))
    for column in ("created_at", "reply_due_at", "site_due_at", "resolve_due_at", "revisit_due_at", "signed_at",
                   "on_site_at", "resolved_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["first_satisfaction"] = pd.to_numeric(frame["first_satisfaction"])
    frame.attrs["as_of"] = pd.Timestamp(as_of).tz_convert("UTC")
    return frame


def heated_areas(pool: ConnectionPool) -> pd.DataFrame:
    """Every community's heated area (m², the GIS attribute ``heated_area_m2``) and its station."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, name, attrs->>'station_id', coalesce((attrs->>'heated_area_m2')::double precision, 0)"
            " FROM asset WHERE kind = 'community' AND retired_at IS NULL ORDER BY id").fetchall()
    return pd.DataFrame(rows, columns=["community_id", "name", "station_id", "area_m2"])


# -- the definitions -----------------------------------------------------------------------------------

def _served(facts: pd.DataFrame) -> pd.DataFrame:
    return facts[facts["state"] != "cancelled"]


def _completed(facts: pd.DataFrame) -> pd.Series:
    return facts["state"].isin(_COMPLETED)


def on_time_signoff(facts: pd.DataFrame) -> Ratio:
    """及时签收率: of the orders whose reply clock is decided, the share signed off (dispatched, accepted by a
    team, or resolved on the call) by its due time. Undecided: not signed and not yet due at the end."""
    f = _served(facts)
    f = f[f["reply_due_at"].notna()]
    as_of = facts.attrs["as_of"]
    decided = f["signed_at"].notna() | (f["reply_due_at"] < as_of)
    met = f["signed_at"].notna() & (f["signed_at"] <= f["reply_due_at"])
    return Ratio(int((met & decided).sum()), int(decided.sum()))


def on_time_completion(facts: pd.DataFrame) -> Ratio:
    """按时办结率: of the orders whose resolve clock is decided, the share completed (resolved, visited or
    closed at the end) with their last resolution by the due time. A reopened order is judged by the
    resolution that stands; one still open past its due time is late."""
    f = _served(facts)
    f = f[f["resolve_due_at"].notna()]
    done = _completed(f)
    decided = done | (f["resolve_due_at"] < facts.attrs["as_of"])
    met = done & (f["resolved_at"] <= f["resolve_due_at"])
    return Ratio(int(met.sum()), int(decided.sum()))


def completion_rate(facts: pd.DataFrame) -> Ratio:
    """办结率: the share of the period's orders that are completed (resolved, visited or closed) at the end."""
    f = _served(facts)
    return Ratio(int(_completed(f).sum()), len(f))


def first_contact_resolution(facts: pd.DataFrame) -> Ratio:
    """首问解决率 (即时办): of the hotline's orders, the share resolved on the call itself (the agent's answer,
    no team sent) and still standing at the end (not reopened)."""
    f = _served(facts)
    f = f[f["origin"] == "hotline"]
    hit = f["first_contact"] & f["resolved_at"].notna() & ~f["reopened"] & _completed(f)
    return Ratio(int(hit.sum()), len(f))


def satisfaction_rate(facts: pd.DataFrame) -> Ratio:
    """回访满意率: of the orders whose resident was reached on a call back, the share whose *first* reached
    call said satisfied (基本满意 or better: ``SATISFIED_FROM``); a second round after a reopening does not
    wash out the first verdict."""
    f = _served(facts)
    f = f[f["revisit_reached"] & f["first_satisfaction"].notna()]
    return Ratio(int((f["first_satisfaction"] >= SATISFIED_FROM).sum()), len(f))


def effective_revisit_rate(facts: pd.DataFrame) -> Ratio:
    """有效回访率: of the completed orders owing a call back whose revisit clock is decided (reached, or due
    by the end: a revisit due after a holiday is not yet owed), the share where the resident was reached."""
    f = _served(facts)
    f = f[_completed(f) & f["revisit_due_at"].notna()]
    decided = f["revisit_reached"] | (f["revisit_due_at"] < facts.attrs["as_of"])
    return Ratio(int((f["revisit_reached"] & decided).sum()), int(decided.sum()))


def repeat_complaint_rate(facts: pd.DataFrame) -> Ratio:
    """重复投诉率: of the residents' orders (hotline, 12345, app) on a household, the share whose household had
    filed one of the same category in the ``REPEAT_WINDOW_DAYS`` days before (in this period or the one
    before; a cancelled one does not count)."""
    f = _served(facts)
    f = f[f["household_id"].notna() & f["origin"].isin(RESIDENT_ORIGINS)]
    return Ratio(int(f["repeat"].sum()), len(f))


def complaints(facts: pd.DataFrame) -> int:
    """投诉量: the residents' orders (hotline, 12345, app) about the heating itself (``COMPLAINT_CATEGORIES``)."""
    f = _served(facts)
    return int((f["origin"].isin(RESIDENT_ORIGINS) & f["category"].isin(COMPLAINT_CATEGORIES)).sum())


def complaints_per_10k_m2(facts: pd.DataFrame, area_m2: float) -> float | None:
    """万平米投诉率: ``complaints`` per 10,000 m² of heated area (None without an area)."""
    return complaints(facts) / (area_m2 / 10_000.0) if area_m2 and area_m2 > 0 else None


def _hours(facts: pd.DataFrame, moment: str) -> pd.Series:
    f = _served(facts)
    return ((f[moment] - f["created_at"]).dt.total_seconds() / 3600.0).dropna()


def _quantile(hours: pd.Series, q: float) -> float | None:
    return float(np.quantile(hours.to_numpy(), q)) if len(hours) else None


def time_to(facts: pd.DataFrame, step: str, q: float) -> float | None:
    """Hours from filing to ``step`` (reply: the first sign-off; site: the crew's first arrival; resolve: the
    resolution that stands), quantile ``q`` (0.5 the median, 0.9 the p90) over the orders that got there by
    the end; elapsed time, pauses for the resident included."""
    column = {"reply": "signed_at", "site": "on_site_at", "resolve": "resolved_at"}[step]
    return _quantile(_hours(facts, column), q)


@dataclass(frozen=True)
class Kpi:
    """One figure on the dashboard: its key (``kpi.<key>`` labels it, ``kpi.<key>.doc`` defines it), its unit
    (``rate`` 0–1, ``per_10k_m2``, ``hours``), whether higher is better, and how it is computed."""

    key: str
    unit: str
    higher_is_better: bool
    compute: Callable[[pd.DataFrame, float], object]

    @property
    def doc(self) -> str:
        return (getattr(self.compute, "__doc__", None) or "").strip()


def _time(step: str, q: float):
    def compute(facts: pd.DataFrame, _area: float) -> float | None:
        return time_to(facts, step, q)

    compute.__doc__ = time_to.__doc__
    return compute


def _ratio(function):
    def compute(facts: pd.DataFrame, _area: float) -> Ratio:
        return function(facts)

    compute.__doc__ = function.__doc__
    return compute


KPIS: tuple[Kpi, ...] = (
    Kpi("on_time_signoff", "rate", True, _ratio(on_time_signoff)),
    Kpi("on_time_completion", "rate", True, _ratio(on_time_completion)),
    Kpi("completion", "rate", True, _ratio(completion_rate)),
    Kpi("first_contact", "rate", True, _ratio(first_contact_resolution)),
    Kpi("satisfaction", "rate", True, _ratio(satisfaction_rate)),
    Kpi("effective_revisit", "rate", True, _ratio(effective_revisit_rate)),
    Kpi("repeat_complaint", "rate", False, _ratio(repeat_complaint_rate)),
    Kpi("complaints_per_10k_m2", "per_10k_m2", False, complaints_per_10k_m2),
    Kpi("reply_median_h", "hours", False, _time("reply", 0.5)),
    Kpi("reply_p90_h", "hours", False, _time("reply", 0.9)),
    Kpi("site_median_h", "hours", False, _time("site", 0.5)),
    Kpi("site_p90_h", "hours", False, _time("site", 0.9)),
    Kpi("resolve_median_h", "hours", False, _time("resolve", 0.5)),
    Kpi("resolve_p90_h", "hours", False, _time("resolve", 0.9)),
)
KPI = {k.key: k for k in KPIS}


def _values(facts: pd.DataFrame, area_m2: float) -> dict:
    row = {"orders": int(len(_served(facts))), "cancelled": int((facts["state"] == "cancelled").sum()),
           "complaints": complaints(facts), "area_m2": float(area_m2 or 0.0)}
    for kpi in KPIS:
        result = kpi.compute(facts, area_m2)
        if isinstance(result, Ratio):
            row[kpi.key], row[f"{kpi.key}_n"], row[f"{kpi.key}_of"] = result.value, result.numerator, \
                result.denominator
        else:
            row[kpi.key] = result
    return row


def _group_areas(areas: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series({"all": float(areas["area_m2"].sum())})
    if by == "community":
        return areas.set_index("community_id")["area_m2"]
    if by == "station":
        return areas.groupby("station_id")["area_m2"].sum()
    return pd.Series(dtype=float)  # a team heats no area of its own


def kpi_table(facts: pd.DataFrame, areas: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Every KPI company-wide (one row, ``group`` 'all') or per ``by`` (team, station, community): one row per
    group with orders in the period, the ratios' numerators (``<key>_n``) and denominators (``<key>_of``)."""
    if by is not None and by not in GROUPS:
        raise ValueError(f"by: {by!r} is not one of {', '.join(GROUPS)}")
    group_area = _group_areas(areas, by)
    if by is None:
        rows = [{"group": "all", **_values(facts, group_area["all"])}]
    else:
        rows = []
        for key, part in facts.groupby(f"{by}_id", sort=True):
            part = part.copy()
            part.attrs["as_of"] = facts.attrs["as_of"]
            rows.append({"group": key, **_values(part, float(group_area.get(key, 0.0)))})
    return pd.DataFrame(rows)


@dataclass
class KpiReport:
    """What the dashboard's tiles and the reports show for one period: the company-wide row now and for the
    previous period, and the tables per team, station and community."""

    period: Period
    as_of: datetime
    company: dict
    previous: dict
    groups: dict[str, pd.DataFrame]
    facts: pd.DataFrame

    def trend(self, key: str) -> float | None:
        """Now minus the previous period (None when either is unknown)."""
        now, before = self.company.get(key), self.previous.get(key)
        return None if now is None or before is None or pd.isna(now) or pd.isna(before) else now - before


def compute_kpis(pool: ConnectionPool, period: Period, *, as_of: datetime | None = None,
                 groups: tuple[str, ...] = GROUPS) -> KpiReport:
    """Every KPI for ``period`` company-wide and per ``groups``, and company-wide for the previous period."""
    as_of = as_of or period.as_of()
    areas = heated_areas(pool)
    facts = order_facts(pool, period, as_of=as_of)
    before = order_facts(pool, period.previous(), as_of=period.previous().as_of(as_of))
    return KpiReport(period, as_of, kpi_table(facts, areas).iloc[0].to_dict(),
                     kpi_table(before, areas).iloc[0].to_dict(),
                     {by: kpi_table(facts, areas, by=by) for by in groups}, facts)


def categories_by_day(facts: pd.DataFrame, timezone: str = "Asia/Shanghai") -> pd.DataFrame:
    """The residents' orders (hotline, 12345, app) of the period per local day and category: ``day, category,
    orders`` (cancelled ones left out, as in every figure)."""
    f = _served(facts)
    f = f[f["origin"].isin(RESIDENT_ORIGINS)]
    if f.empty:
        return pd.DataFrame(columns=["day", "category", "orders"])
    days = f["created_at"].dt.tz_convert(timezone).dt.strftime("%Y-%m-%d")
    return (f.assign(day=days).groupby(["day", "category"]).size().rename("orders").reset_index()
            .sort_values(["day", "category"], ignore_index=True))
