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

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import COMPLAINT_CATEGORIES, RESIDENT_ORIGINS
from store.binary import array_loader
from store.work_orders.revisits import SATISFIED_FROM

REPEAT_WINDOW_DAYS = 30  # also in work_order_fact_repeat_sql (migration 020): the facts test holds them equal
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

# One row per order filed in [start, end), read as at ``as_of``, all from ``work_order_fact`` (kept as orders,
# events and revisits are written: migrations 019 and 020). The state is the last event's; the moments are the
# first sign-off (dispatched, accepted, or resolved on the call), the first arrival, the last resolution. A first
# moment before ``as_of`` is the first before it; the state and the last resolution hold when the order's latest
# event is before ``as_of``, and ``late`` reads the other orders' from their events (one still moving after a past
# period's end). A repeat holds as at ``as_of`` while one of its earlier orders was not yet cancelled then.
_FACTS = """
SELECT f.work_order_id AS id, f.created_at, f.category::text AS category, f.origin, f.team_id, f.station_id,
       f.community_id, f.household_id, f.first_contact, f.reply_due_at, f.site_due_at, f.resolve_due_at,
       f.revisit_due_at,
       coalesce(CASE WHEN f.last_at < %(as_of)s THEN f.state::text ELSE late.state END, 'new') AS state,
       CASE WHEN f.signed_at < %(as_of)s THEN f.signed_at END AS signed_at,
       CASE WHEN f.on_site_at < %(as_of)s THEN f.on_site_at END AS on_site_at,
       CASE WHEN f.last_at < %(as_of)s THEN f.resolved_at ELSE late.resolved_at END AS resolved_at,
       coalesce(f.reopened_at < %(as_of)s, false) AS reopened,
       coalesce(f.reached_at < %(as_of)s, false) AS revisit_reached,
       CASE WHEN f.reached_at < %(as_of)s THEN f.first_satisfaction END AS first_satisfaction,
       coalesce(f.repeat_until >= %(as_of)s, false) AS repeat
FROM work_order_fact f
LEFT JOIN LATERAL (
    SELECT (array_agg(e.to_state::text ORDER BY e.at DESC, e.id DESC))[1] AS state,
           max(e.at) FILTER (WHERE e.to_state = 'resolved') AS resolved_at
    FROM work_order_event e WHERE f.last_at >= %(as_of)s AND e.work_order_id = f.work_order_id AND e.at < %(as_of)s
) late ON true
WHERE f.created_at >= %(start)s AND f.created_at < %(end)s AND f.created_at < %(as_of)s
"""

_TIMES = ("created_at", "reply_due_at", "site_due_at", "resolve_due_at", "revisit_due_at", "signed_at", "on_site_at",
          "resolved_at")
_FLAGS = ("first_contact", "reopened", "revisit_reached", "repeat")
_TEXTS = ("category", "origin", "team_id", "station_id", "community_id", "household_id", "state")
_SEPARATOR = "\x1f"  # the unit separator: in no id, category or state

# The rows come back as one row of columns (the aggregates of one query see its rows in the same order), each
# array in PostgreSQL's binary form read straight into numpy: times as timestamptz ('infinity' for none), flags as
# booleans, the verdict as a smallint (-1 for none); texts joined by a separator. 30,000 rows of 21 values made into
# Python objects and then into a frame took longer than the query, and so did converting the times on the server.
_COLUMNS = ("SELECT array_agg(id), "
            + ", ".join([f"array_agg(coalesce({c}, 'infinity'))" for c in _TIMES]
                        + [f"array_agg(coalesce({c}, false))" for c in _FLAGS]
                        + ["array_agg(coalesce(first_satisfaction, -1))"]
                        + [f"string_agg(coalesce({c}, ''), E'{_SEPARATOR}')" for c in _TEXTS])
            + f" FROM ({_FACTS}) facts")


_ARRAY_LOADERS = {1016: array_loader(">i8", what="facts"),   # int8[]
                  1185: array_loader(">i8", what="facts"),   # timestamptz[]: microseconds since 2000-01-01 UTC
                  1000: array_loader("u1", what="facts"),    # bool[]
                  1005: array_loader(">i2", what="facts"),   # int2[]
                  1007: array_loader(">i4", what="facts")}   # int4[]
_POSTGRES_EPOCH_US = 946_684_800 * 1_000_000
_INFINITY = np.iinfo(np.int64).max


_COMPLETED = ("resolved", "visited", "closed")


def _utc_times(micros: np.ndarray) -> pd.DatetimeIndex:
    """PostgreSQL's binary timestamptz (microseconds since 2000-01-01 UTC; 'infinity': none) as UTC times."""
    missing = micros == _INFINITY
    nanos = (np.where(missing, 0, micros) + _POSTGRES_EPOCH_US) * 1000
    nanos[missing] = np.iinfo(np.int64).min  # NaT
    return pd.DatetimeIndex(nanos.view("M8[ns]")).tz_localize("UTC")


def order_facts(pool: ConnectionPool, period: Period, *, as_of: datetime | None = None) -> pd.DataFrame:
    """One row per order filed in ``period`` (``FACT_COLUMNS``), as the tables stood at ``as_of`` (default
    ``period.as_of()``); ``frame.attrs['as_of']`` keeps that moment."""
    as_of = as_of or period.as_of()
    with pool.connection() as conn, conn.transaction():
        # The late orders' estimated cost would have PostgreSQL JIT-compile the query: seconds for milliseconds.
        conn.execute("SET LOCAL jit = off")
        cursor = conn.cursor(binary=True)
        for oid, loader in _ARRAY_LOADERS.items():
            cursor.adapters.register_loader(oid, loader)
        row = cursor.execute(_COLUMNS, {"start": period.start, "end": period.end, "as_of": as_of}).fetchone()
    ids, row = row[0], row[1:]
    count = 0 if ids is None else len(ids)
    columns: dict = {"id": np.empty(0, np.int64) if ids is None else ids}
    numbers, texts = row[:len(_TIMES) + len(_FLAGS) + 1], row[len(_TIMES) + len(_FLAGS) + 1:]
    numbers = [np.empty(0, np.int64) if n is None else n for n in numbers]
    for name, micros in zip(_TIMES, numbers[:len(_TIMES)], strict=True):
        columns[name] = _utc_times(micros)
    for name, flag in zip(_FLAGS, numbers[len(_TIMES):-1], strict=True):
        columns[name] = flag.astype(bool)
    columns["first_satisfaction"] = np.where(numbers[-1] < 0, np.nan, numbers[-1].astype(float))
    for name, joined in zip(_TEXTS, texts, strict=True):
        values = np.array(joined.split(_SEPARATOR) if count else [], dtype=object)
        columns[name] = np.where(values == "", None, values) if count else values
    # A handful of values over tens of thousands of rows: the definitions compare them a few dozen times.
    for column in ("state", "category", "origin"):
        columns[column] = pd.Categorical(columns[column])
    # Made in its columns' order from the arrays as they are: reordering and converting a made frame cost 25 ms.
    frame = pd.DataFrame({name: columns[name] for name in FACT_COLUMNS}, copy=False)
    frame.attrs["as_of"] = pd.Timestamp(as_of).tz_convert("UTC")
    return frame


def heated_areas(pool: ConnectionPool) -> pd.DataFrame:
    """Every community's heated area (m², the GIS attribute ``heated_area_m2``), its station and where it is."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, name, attrs->>'station_id', coalesce((attrs->>'heated_area_m2')::double precision, 0), lon, lat"
            " FROM asset WHERE kind = 'community' AND retired_at IS NULL ORDER BY id").fetchall()
    return pd.DataFrame(rows, columns=["community_id", "name", "station_id", "area_m2", "lon", "lat"])


# -- the definitions -----------------------------------------------------------------------------------

def _served(facts: pd.DataFrame) -> pd.Series:
    return facts["state"] != "cancelled"


def _completed(facts: pd.DataFrame) -> pd.Series:
    return facts["state"].isin(_COMPLETED)


@dataclass(frozen=True)
class Counted:
    """Per order (aligned with the facts): whether it is counted (``hit``) and whether it is in the base (``of``)."""

    hit: pd.Series
    of: pd.Series

    def ratio(self) -> Ratio:
        return Ratio(int((self.hit & self.of).sum()), int(self.of.sum()))


def on_time_signoff(facts: pd.DataFrame) -> Counted:
    """及时签收率: of the orders whose reply clock is decided, the share signed off (dispatched, accepted by a
    team, or resolved on the call) by its due time. Undecided: not signed and not yet due at the end."""
    signed, due = facts["signed_at"], facts["reply_due_at"]
    decided = _served(facts) & due.notna() & (signed.notna() | (due < facts.attrs["as_of"]))
    return Counted(decided & signed.notna() & (signed <= due), decided)


def on_time_completion(facts: pd.DataFrame) -> Counted:
    """按时办结率: of the orders whose resolve clock is decided, the share completed (resolved, visited or
    closed at the end) with their last resolution by the due time. A reopened order is judged by the
    resolution that stands; one still open past its due time is late."""
    done, due = _completed(facts), facts["resolve_due_at"]
    decided = _served(facts) & due.notna() & (done | (due < facts.attrs["as_of"]))
    return Counted(decided & done & (facts["resolved_at"] <= due), decided)


def completion_rate(facts: pd.DataFrame) -> Counted:
    """办结率: the share of the period's orders that are completed (resolved, visited or closed) at the end."""
    served = _served(facts)
    return Counted(served & _completed(facts), served)


def first_contact_resolution(facts: pd.DataFrame) -> Counted:
    """首问解决率 (即时办): of the hotline's orders, the share resolved on the call itself (the agent's answer,
    no team sent) and still standing at the end (not reopened)."""
    of = _served(facts) & (facts["origin"] == "hotline")
    hit = facts["first_contact"] & facts["resolved_at"].notna() & ~facts["reopened"] & _completed(facts)
    return Counted(of & hit, of)


def satisfaction_rate(facts: pd.DataFrame) -> Counted:
    """回访满意率: of the orders whose resident was reached on a call back, the share whose *first* reached
    call said satisfied (基本满意 or better: ``SATISFIED_FROM``); a second round after a reopening does not
    wash out the first verdict."""
    of = _served(facts) & facts["revisit_reached"] & facts["first_satisfaction"].notna()
    return Counted(of & (facts["first_satisfaction"] >= SATISFIED_FROM), of)


def effective_revisit_rate(facts: pd.DataFrame) -> Counted:
    """有效回访率: of the completed orders owing a call back whose revisit clock is decided (reached, or due
    by the end: a revisit due after a holiday is not yet owed), the share where the resident was reached."""
    reached, due = facts["revisit_reached"], facts["revisit_due_at"]
    decided = _served(facts) & _completed(facts) & due.notna() & (reached | (due < facts.attrs["as_of"]))
    return Counted(decided & reached, decided)


def repeat_complaint_rate(facts: pd.DataFrame) -> Counted:
    """重复投诉率: of the residents' orders (hotline, 12345, app) on a household, the share whose household had
    filed one of the same category in the ``REPEAT_WINDOW_DAYS`` days before (in this period or the one
    before; a cancelled one does not count)."""
    of = _served(facts) & facts["household_id"].notna() & facts["origin"].isin(RESIDENT_ORIGINS)
    return Counted(of & facts["repeat"].astype(bool), of)


def complaints(facts: pd.DataFrame) -> pd.Series:
    """投诉: the residents' orders (hotline, 12345, app) about the heating itself (``COMPLAINT_CATEGORIES``)."""
    return _served(facts) & facts["origin"].isin(RESIDENT_ORIGINS) & facts["category"].isin(COMPLAINT_CATEGORIES)


def complaints_per_10k_m2(count, area_m2):
    """万平米投诉率: ``complaints`` per 10,000 m² of heated area (NaN without an area); numbers or arrays."""
    count, area_m2 = np.asarray(count, dtype=float), np.asarray(area_m2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area_m2 > 0, count / (area_m2 / 10_000.0), np.nan)


def time_to(facts: pd.DataFrame, step: str) -> pd.Series:
    """Hours from filing to ``step`` (reply: the first sign-off; site: the crew's first arrival; resolve: the
    resolution that stands) for every order that got there by the end (NaN otherwise); the KPIs are its
    median and p90. Elapsed time, pauses for the resident included."""
    column = {"reply": "signed_at", "site": "on_site_at", "resolve": "resolved_at"}[step]
    hours = (facts[column] - facts["created_at"]).dt.total_seconds() / 3600.0
    return hours.where(_served(facts))


@dataclass(frozen=True)
class Kpi:
    """One figure on the dashboard: its key (``kpi.<key>`` labels it, ``kpi.<key>.doc`` defines it), its unit
    (``rate`` 0–1, ``per_10k_m2``, ``hours``), whether higher is better, and its definition (a function of
    the facts: ``Counted`` for a rate; hours per order with ``quantile`` for a time)."""

    key: str
    unit: str
    higher_is_better: bool
    definition: Callable
    quantile: float | None = None

    @property
    def doc(self) -> str:
        return (getattr(self.definition, "func", self.definition).__doc__ or "").strip()


KPIS: tuple[Kpi, ...] = (
    Kpi("on_time_signoff", "rate", True, on_time_signoff),
    Kpi("on_time_completion", "rate", True, on_time_completion),
    Kpi("completion", "rate", True, completion_rate),
    Kpi("first_contact", "rate", True, first_contact_resolution),
    Kpi("satisfaction", "rate", True, satisfaction_rate),
    Kpi("effective_revisit", "rate", True, effective_revisit_rate),
    Kpi("repeat_complaint", "rate", False, repeat_complaint_rate),
    Kpi("complaints_per_10k_m2", "per_10k_m2", False, complaints_per_10k_m2),
    Kpi("reply_median_h", "hours", False, functools.partial(time_to, step="reply"), 0.5),
    Kpi("reply_p90_h", "hours", False, functools.partial(time_to, step="reply"), 0.9),
    Kpi("site_median_h", "hours", False, functools.partial(time_to, step="site"), 0.5),
    Kpi("site_p90_h", "hours", False, functools.partial(time_to, step="site"), 0.9),
    Kpi("resolve_median_h", "hours", False, functools.partial(time_to, step="resolve"), 0.5),
    Kpi("resolve_p90_h", "hours", False, functools.partial(time_to, step="resolve"), 0.9),
)
KPI = {k.key: k for k in KPIS}
_RATES = tuple(k for k in KPIS if k.unit == "rate")
_STEPS = ("reply", "site", "resolve")


def _indicators(facts: pd.DataFrame) -> pd.DataFrame:
    """Per order: 0/1 for each rate's numerator and base, served, cancelled, complaint; hours to each step."""
    served = _served(facts)
    columns = {"orders": served.to_numpy(int), "cancelled": (~served).to_numpy(int),
               "complaints": complaints(facts).to_numpy(int)}
    for kpi in _RATES:
        counted = kpi.definition(facts)
        columns[f"{kpi.key}_n"] = (counted.hit & counted.of).to_numpy(int)
        columns[f"{kpi.key}_of"] = counted.of.to_numpy(int)
    for step in _STEPS:
        columns[f"h_{step}"] = time_to(facts, step).to_numpy(float)
    return pd.DataFrame(columns, index=facts.index)


def _finish(counts: pd.DataFrame, hours: dict[str, np.ndarray], area: pd.Series) -> pd.DataFrame:
    """Rates, complaints per area and time quantiles from the summed indicators (one row per group; NaN where
    nothing was counted)."""
    columns = {c: counts[c].to_numpy() for c in counts.columns}
    area_m2 = area.reindex(counts.index).fillna(0.0).to_numpy(float)
    columns["area_m2"] = area_m2
    with np.errstate(divide="ignore", invalid="ignore"):
        for kpi in KPIS:
            if kpi.unit == "rate":
                n, of = columns[f"{kpi.key}_n"].astype(float), columns[f"{kpi.key}_of"].astype(float)
                columns[kpi.key] = np.where(of > 0, n / of, np.nan)
            elif kpi.unit == "per_10k_m2":
                columns[kpi.key] = complaints_per_10k_m2(columns["complaints"], area_m2)
            else:
                step = kpi.key.split("_")[0]
                columns[kpi.key] = hours[f"{step}_{kpi.quantile}"]
    return pd.DataFrame(columns, index=counts.index)


def _group_quantiles(codes: np.ndarray, groups: int, values: np.ndarray, quantiles: tuple[float, ...]
                     ) -> dict[float, np.ndarray]:
    """Each group's quantiles of ``values`` (NaN left out; NaN for a group with none), interpolated linearly
    between the order statistics exactly as pandas' ``groupby(...).quantile`` does: one sort for all groups
    (pandas' per-group quantile was most of the tables' time)."""
    known = ~np.isnan(values)
    codes, values = codes[known], values[known]
    # By value, then stably by group: a radix sort of small integers, twice as fast as np.lexsort.
    order = np.argsort(values)
    order = order[np.argsort(codes[order].astype(np.min_scalar_type(max(groups - 1, 0))), kind="stable")]
    codes, values = codes[order], values[order]
    sizes = np.bincount(codes, minlength=groups)
    firsts = np.cumsum(sizes) - sizes
    result = {}
    for q in quantiles:
        at = q * (sizes - 1).astype(float)
        below = at.astype(np.int64)
        fraction = at % 1
        has = sizes > 0
        low = np.where(has, firsts + below, 0)
        high = np.where(has & (fraction > 0), low + 1, low)
        value_low = values[low] if len(values) else np.zeros(groups)
        value_high = values[high] if len(values) else np.zeros(groups)
        interpolated = np.where(fraction > 0, value_low + (value_high - value_low) * fraction, value_low)
        result[q] = np.where(has, interpolated, np.nan)
    return result


def _group_areas(areas: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series({"all": float(areas["area_m2"].sum())})
    if by == "community":
        return areas.set_index("community_id")["area_m2"]
    if by == "station":
        return areas.groupby("station_id")["area_m2"].sum()
    return pd.Series(dtype=float)  # a team heats no area of its own


def kpi_table(facts: pd.DataFrame, areas: pd.DataFrame, *, by: str | None = None,
              indicators: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every KPI company-wide (one row, ``group`` 'all') or per ``by`` (team, station, community): one row per
    group with orders in the period, the rates' numerators (``<key>_n``) and bases (``<key>_of``).
    ``indicators``: the facts' ``_indicators``, when already computed."""
    if by is not None and by not in GROUPS:
        raise ValueError(f"by: {by!r} is not one of {', '.join(GROUPS)}")
    indicators = _indicators(facts) if indicators is None else indicators
    hour_columns = [f"h_{s}" for s in _STEPS]
    if by is None:  # one group, even with no orders
        codes, names = np.zeros(len(indicators), np.int64), pd.Index(["all"])
    else:  # the groups with orders, sorted; an order without one (no team yet) is in none
        codes, names = pd.factorize(facts[f"{by}_id"].to_numpy(), sort=True)
        codes, names = codes.astype(np.int64), pd.Index(names)
    inside = codes >= 0
    codes = codes[inside]
    counts = pd.DataFrame({c: np.bincount(codes, weights=indicators[c].to_numpy()[inside],
                                          minlength=len(names)).astype(np.int64)
                           for c in indicators.columns if c not in hour_columns}, index=names)
    hours = {}
    for step in _STEPS:
        quantiles = _group_quantiles(codes, len(names), indicators[f"h_{step}"].to_numpy(float)[inside], (0.5, 0.9))
        hours.update({f"{step}_{q}": value for q, value in quantiles.items()})
    table = _finish(counts, hours, _group_areas(areas, by))
    return table.rename_axis("group").reset_index()


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


# The changes to the facts of the orders filed on some UTC days (migration 022): how many transactions changed
# them, and the latest. Read before the facts, it never stamps facts older than itself.
_STAMP = ("SELECT count(*), coalesce(max(xid::text::bigint), 0) FROM work_order_fact_change"
          " WHERE filed_on >= %(first)s AND filed_on <= %(last)s")


def facts_stamp(pool: ConnectionPool, period: Period) -> tuple[int, int]:
    """A stamp of the facts of the orders filed in ``period``: it grows with every committed change to them (an
    order written or changed, a late event, a revisit, a repeat refresh), so figures read after it are those of
    the stamp or newer."""
    first = period.start.astimezone(UTC).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(UTC).date()
    with pool.connection() as conn:
        count, latest = conn.execute(_STAMP, {"first": first, "last": last}).fetchone()
    return int(count), int(latest)


# The previous period's company row, by database, period, moment and stamp of its facts: a closed period changes
# only when a late event or revisit lands or one of its orders changes, and that changes the stamp.
_KEPT: OrderedDict = OrderedDict()
_KEPT_SIZE = 64
_KEPT_LOCK = threading.Lock()


def _company_row(pool: ConnectionPool, period: Period, as_of: datetime, areas: pd.DataFrame) -> dict:
    """``period``'s company-wide row as at ``as_of``, from what was kept when its facts have not changed since."""
    key = (pool.conninfo, period.kind, period.start, period.end, as_of, facts_stamp(pool, period),
           float(areas["area_m2"].sum()))
    with _KEPT_LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return dict(_KEPT[key])
    row = kpi_table(order_facts(pool, period, as_of=as_of), areas).iloc[0].to_dict()
    with _KEPT_LOCK:
        _KEPT[key] = dict(row)
        while len(_KEPT) > _KEPT_SIZE:
            _KEPT.popitem(last=False)
    return row


def compute_kpis(pool: ConnectionPool, period: Period, *, as_of: datetime | None = None,
                 groups: tuple[str, ...] = GROUPS) -> KpiReport:
    """Every KPI for ``period`` company-wide and per ``groups``, and company-wide for the previous period (kept
    while its facts do not change: ``facts_stamp``)."""
    as_of = as_of or period.as_of()
    previous = period.previous()
    areas = heated_areas(pool)
    # The previous period's row (kept, or read) beside this period's facts, on two connections: a query is one
    # server core.
    with ThreadPoolExecutor(1) as side:
        before_read = side.submit(_company_row, pool, previous, previous.as_of(as_of), areas)
        facts = order_facts(pool, period, as_of=as_of)
        indicators = _indicators(facts)
        company = kpi_table(facts, areas, indicators=indicators).iloc[0].to_dict()
        tables = {by: kpi_table(facts, areas, by=by, indicators=indicators) for by in groups}
        before = before_read.result()
    return KpiReport(period, as_of, company, before, tables, facts)


def categories_by_day(facts: pd.DataFrame, timezone: str = "Asia/Shanghai") -> pd.DataFrame:
    """The residents' orders (hotline, 12345, app) of the period per local day and category: ``day, category,
    orders`` (cancelled ones left out, as in every figure)."""
    counted = (_served(facts) & facts["origin"].isin(RESIDENT_ORIGINS)).to_numpy()
    if not counted.any():
        return pd.DataFrame(columns=["day", "category", "orders"])
    # Midnights, not strings: formatting every order's day costs more than the rest of the figure. Only the two
    # columns grouped: a copy of the whole frame's rows cost as much as the counting.
    days = facts["created_at"][counted].dt.tz_convert(timezone).dt.normalize()
    pairs = pd.DataFrame({"day": days.array, "category": facts["category"][counted].astype(str).to_numpy()})
    counts = (pairs.groupby(["day", "category"]).size()
              .rename("orders").reset_index().sort_values(["day", "category"], ignore_index=True))
    counts["day"] = counts["day"].dt.strftime("%Y-%m-%d")
    return counts
