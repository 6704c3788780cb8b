"""The refund rule (测温退费): which hours of a heating season a household's room was under the statutory
minimum through the utility's fault, and the refund those hours earn.

Every household with a room-temperature collector gets one row of hours (the season's hours, UTC, from
the first day's local midnight to the day after the last). An hour's temperature is its hourly mean
(``measurement_1h``). Each hour is one of:

- ``suspended`` / ``not_paying`` — the household did not take heat: inside a recorded suspension (报停)
  period, or the whole season when its status says so and no period is recorded;
- ``offline`` — the collector sent nothing that hour;
- ``tampered`` — the reading stepped down from its neighbours' and stayed there: in one hour its offset to
  the neighbours' median fell by ``jump_k`` or more (a room cools over many hours; a collector put on a
  window sill or in a fridge drops at once), and the hours after, while the offset stays at least
  ``jump_k / 2`` under where it was before the step. Only steps down: a reading pushed up earns no refund.
  Neighbours: the other collectors of its building, or of its community when the building has fewer than
  ``min_neighbours`` others;
- ``counted`` — none of the above, and the hourly mean under ``min_t_c``: the utility's;
- otherwise warm enough (not stored).

The exclusions go in that order (a suspended hour is suspended, even offline). A day (in the season's
zone) is *under the standard* when it has at least ``day_hours`` counted hours. The refund is pro rata:
``fee_yuan_per_m2 × area_m2 × days_under / season_days``, in fen, rounded half up, exact in integers
(fee to the fen, area to 0.01 m²).

All of it is whole-array numpy over households × hours, a block of communities at a time.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

RULE_ENV = "HEATTWIN_REFUND_RULE"
# Hour kinds, in the order of precedence the arrays use (0: warm enough, not stored).
KINDS = ("counted", "suspended", "not_paying", "offline", "tampered")
_WARM, _COUNTED, _SUSPENDED, _NOT_PAYING, _OFFLINE, _TAMPERED = range(6)
BLOCK_ROWS = 4000   # households per block (whole communities): bounds the arrays' memory


@dataclass(frozen=True)
class RefundRule:
    """The settings of the ledger; defaults overridable from the YAML file named by ``HEATTWIN_REFUND_RULE``."""

    min_t_c: float = 18.0              # statutory minimum room temperature (some provinces: 16)
    season_start: str = "11-15"        # MM-DD: first day of the heating season
    season_end: str = "03-15"          # MM-DD: last day (in the next year when before the first)
    day_hours: int = 12                # a day under the standard has at least this many counted hours
    fee_yuan_per_m2: float = 25.0      # a season's fee where the household has none of its own
    jump_k: float = 4.0                # tampering: a one-hour step this much beyond the neighbours'
    min_neighbours: int = 2            # other collectors needed in the building (else the community)

    def season(self, first_year: int) -> tuple[date, date]:
        """The season starting in ``first_year``: its first and last day."""
        start = date.fromisoformat(f"{first_year}-{self.season_start}")
        end = date.fromisoformat(f"{first_year}-{self.season_end}")
        return start, end if end >= start else end.replace(year=first_year + 1)

    def as_dict(self) -> dict:
        return asdict(self)


def load_rule(path: str | Path | None = None, **overrides) -> RefundRule:
    """The rule: defaults, then the YAML file (``HEATTWIN_REFUND_RULE``), then ``overrides``; an unknown
    setting is refused with the file and the name, a bad value with the setting."""
    path = path or os.environ.get(RULE_ENV)
    data = dict(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}) if path else {}
    data.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name: f for f in fields(RefundRule)}
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"{path or 'refund rule'}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    base = RefundRule()
    values = {}
    for name, value in data.items():
        try:
            values[name] = type(getattr(base, name))(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path or 'refund rule'}: {name}={value!r} is not a {type(getattr(base, name)).__name__}"
                             ) from exc
    rule = replace(base, **values)
    _check(rule, path)
    return rule


def _check(rule: RefundRule, path) -> None:
    where = path or "refund rule"
    if not 0 < rule.day_hours <= 24:
        raise ValueError(f"{where}: day_hours must be 1–24, not {rule.day_hours}")
    if rule.fee_yuan_per_m2 <= 0 or rule.jump_k <= 0 or rule.min_neighbours < 1:
        raise ValueError(f"{where}: fee_yuan_per_m2 and jump_k must be > 0, min_neighbours >= 1")
    for name in ("season_start", "season_end"):
        try:
            date.fromisoformat(f"2000-{getattr(rule, name)}")
        except ValueError as exc:
            raise ValueError(f"{where}: {name} must be MM-DD, not {getattr(rule, name)!r}") from exc


def season_hours(start: date, end: date, timezone: str) -> pd.DatetimeIndex:
    """The hours of the season ``[start, end]`` (local days), as UTC hour starts."""
    first = pd.Timestamp(start).tz_localize(timezone)
    after = pd.Timestamp(end + timedelta(days=1)).tz_localize(timezone)
    return pd.date_range(first.tz_convert("UTC"), after.tz_convert("UTC"), freq="h", inclusive="left")


@dataclass
class Ledger:
    """One season's ledger: ``entries`` (a row per household), ``spans`` (runs of hours of one kind),
    ``days`` (days with counted hours) and the ``summary``."""

    entries: pd.DataFrame
    spans: pd.DataFrame
    days: pd.DataFrame
    summary: dict


ENTRY_COLUMNS = ("household_id", "sensor_id", "community_id", "building", "area_m2", "fee_yuan_per_m2",
                 "season_hours", "cold_hours", "counted_hours", "suspended_hours", "not_paying_hours",
                 "offline_hours", "tampered_hours", "tamper_jumps", "days_under", "refund_yuan")
SPAN_COLUMNS = ("household_id", "kind", "start_at", "hours", "mean_t_c", "min_t_c")
DAY_COLUMNS = ("household_id", "day", "counted_hours", "under")


def compute_ledger(households: pd.DataFrame, readings: pd.DataFrame | np.ndarray, suspensions: pd.DataFrame,
                   rule: RefundRule, start: date, end: date, timezone: str) -> Ledger:
    """The ledger of the season ``[start, end]`` (local days in ``timezone``).

    Parameters
    ----------
    households : one row per household with a collector, in the order ``readings.row`` refers to:
        ``household_id, sensor_id, community_id, building, area_m2, heating_status, fee_yuan_per_m2``
        (NaN: the rule's fee).
    readings : ``row`` (into ``households``), ``hour`` (into ``season_hours``), ``t_c`` (hourly mean, °C);
        or the same as one array, households × season hours (°C, NaN: no reading).
    suspensions : ``household_id, start_at, end_at`` (UTC; NaT end: still suspended).
    """
    clock = time.perf_counter()
    hours = season_hours(start, end, timezone)
    households = households.reset_index(drop=True)
    day_of_hour = hours.tz_convert(timezone).normalize()
    day_starts = np.flatnonzero(np.r_[True, day_of_hour[1:] != day_of_hour[:-1]])
    days = day_of_hour[day_starts].date
    t_c = readings if isinstance(readings, np.ndarray) else _dense(readings, len(households), len(hours))
    parts = [_block(households.iloc[rows], t_c[rows], suspensions, hours, day_starts, days, rule)
             for rows in _blocks(households)]
    entries = pd.concat([p[0] for p in parts], ignore_index=True) if parts else pd.DataFrame(columns=ENTRY_COLUMNS)
    spans = pd.concat([p[1] for p in parts], ignore_index=True) if parts else pd.DataFrame(columns=SPAN_COLUMNS)
    day_rows = pd.concat([p[2] for p in parts], ignore_index=True) if parts else pd.DataFrame(columns=DAY_COLUMNS)
    entries = _refunds(entries, rule, len(days))
    summary = {"households": len(entries), "season_days": len(days), "season_hours": len(hours),
               "refund_households": int((entries["refund_yuan"] > 0).sum()),
               "refund_yuan": round(float(entries["refund_yuan"].sum()), 2),
               "counted_hours": int(entries["counted_hours"].sum()),
               "tampered_collectors": int((entries["tamper_jumps"] > 0).sum()),
               "readings": int(np.count_nonzero(~np.isnan(t_c))), "compute_s": round(time.perf_counter() - clock, 3)}
    return Ledger(entries[list(ENTRY_COLUMNS)], spans, day_rows, summary)


def _dense(readings: pd.DataFrame, n: int, h: int) -> np.ndarray:
    """Long readings (row, hour, t_c) as households × hours, NaN where there is none."""
    t_c = np.full((n, h), np.nan, dtype=np.float32)
    t_c[readings["row"].to_numpy(dtype=np.int64), readings["hour"].to_numpy(dtype=np.int64)] = readings["t_c"]
    return t_c


def _blocks(households: pd.DataFrame) -> list[np.ndarray]:
    """Row numbers in blocks of whole communities (neighbours never cross a block)."""
    order = households.groupby("community_id", sort=True).indices
    blocks, current = [], []
    for rows in order.values():
        current.append(rows)
        if sum(len(r) for r in current) >= BLOCK_ROWS:
            blocks.append(np.concatenate(current))
            current = []
    if current:
        blocks.append(np.concatenate(current))
    return blocks


def _block(homes: pd.DataFrame, t: np.ndarray, suspensions: pd.DataFrame, hours: pd.DatetimeIndex,
           day_starts: np.ndarray, days, rule: RefundRule):
    """The entries, spans and days of one block of households; ``t`` its hourly means (°C, NaN: none)."""
    n, h = len(homes), len(hours)

    kind = np.where(t < rule.min_t_c, _COUNTED, _WARM).astype(np.int8)
    tampered, jumps = _tampered(t, homes, rule)
    kind[tampered] = _TAMPERED
    kind[np.isnan(t)] = _OFFLINE
    status = homes["heating_status"].to_numpy()
    suspended = _suspended(homes, suspensions, hours)
    recorded = np.isin(homes["household_id"].to_numpy(), suspensions["household_id"].to_numpy())
    suspended[(status == "suspended") & ~recorded] = True
    kind[suspended] = _SUSPENDED
    kind[status == "not_paying"] = _NOT_PAYING

    counted = kind == _COUNTED
    per_day = np.add.reduceat(counted, day_starts, axis=1) if h else np.zeros((n, 0), int)
    ids = homes["household_id"].to_numpy()
    entries = pd.DataFrame({
        "household_id": ids, "sensor_id": homes["sensor_id"].to_numpy(),
        "community_id": homes["community_id"].to_numpy(), "building": homes["building"].to_numpy(),
        "area_m2": homes["area_m2"].to_numpy(dtype=float), "fee_yuan_per_m2": homes["fee_yuan_per_m2"].to_numpy(),
        "season_hours": h, "cold_hours": (t < rule.min_t_c).sum(axis=1), "counted_hours": counted.sum(axis=1),
        "suspended_hours": (kind == _SUSPENDED).sum(axis=1), "not_paying_hours": (kind == _NOT_PAYING).sum(axis=1),
        "offline_hours": (kind == _OFFLINE).sum(axis=1), "tampered_hours": (kind == _TAMPERED).sum(axis=1),
        "tamper_jumps": jumps, "days_under": (per_day >= rule.day_hours).sum(axis=1)})
    r, d = np.nonzero(per_day)
    day_rows = pd.DataFrame({"household_id": ids[r], "day": np.asarray(days)[d], "counted_hours": per_day[r, d],
                             "under": per_day[r, d] >= rule.day_hours})
    return entries, _spans(kind, t, ids, hours), day_rows


def _suspended(homes: pd.DataFrame, suspensions: pd.DataFrame, hours: pd.DatetimeIndex) -> np.ndarray:
    """Hours touched by a recorded suspension period (any part of the hour)."""
    n, h = len(homes), len(hours)
    mask = np.zeros((n, h + 1), dtype=np.int32)
    position = pd.Series(np.arange(n), index=homes["household_id"].to_numpy())
    periods = suspensions[suspensions["household_id"].isin(position.index)]
    if len(periods) and h:
        r = position.loc[periods["household_id"]].to_numpy()
        begin = pd.DatetimeIndex(pd.to_datetime(periods["start_at"], utc=True))
        finish = pd.DatetimeIndex(pd.to_datetime(periods["end_at"], utc=True)).fillna(hours[-1] + pd.Timedelta(hours=2))
        first = hours.searchsorted(begin - pd.Timedelta(hours=1), side="right")
        after = hours.searchsorted(finish, side="left")
        keep = after > first
        np.add.at(mask, (r[keep], first[keep]), 1)
        np.add.at(mask, (r[keep], after[keep]), -1)
    return np.cumsum(mask, axis=1)[:, :h] > 0


def _neighbour_groups(homes: pd.DataFrame, rule: RefundRule) -> np.ndarray:
    """Each household's neighbour group: its building when that has ``min_neighbours`` other collectors,
    else its community when that has; -1 for none."""
    community = homes["community_id"].astype(str).to_numpy()
    building = np.char.add(np.char.add(community, "/"), homes["building"].fillna(-1).astype(int).astype(str).to_numpy())
    b_codes, b_size = _codes(building)
    c_codes, c_size = _codes(community)
    enough = rule.min_neighbours + 1
    return np.where(b_size >= enough, b_codes, np.where(c_size >= enough, b_codes.max(initial=0) + 1 + c_codes, -1))


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values)
    return codes, np.bincount(codes, minlength=len(uniques))[codes]


def _tampered(t: np.ndarray, homes: pd.DataFrame, rule: RefundRule) -> tuple[np.ndarray, np.ndarray]:
    """Tampered hours (see the module's text) and each collector's count of tampering steps."""
    n, h = t.shape
    groups = _neighbour_groups(homes, rule)
    has = groups >= 0
    if not has.any() or h < 2:
        return np.zeros((n, h), dtype=bool), np.zeros(n, dtype=np.int64)
    reference = pd.DataFrame(t[has]).groupby(groups[has]).median()   # the neighbours' level, hour by hour
    offset = np.full((n, h), np.nan, dtype=np.float32)
    offset[has] = t[has] - reference.loc[groups[has]].to_numpy(dtype=np.float32)
    before = np.full_like(offset, np.nan)
    before[:, 1:] = offset[:, :-1]
    with np.errstate(invalid="ignore"):
        start = (offset - before) <= -rule.jump_k       # a step down its neighbours did not take
    columns = np.arange(h)
    last_start = np.maximum.accumulate(np.where(start, columns, -1), axis=1)
    begun = last_start >= 0
    at = np.maximum(last_start, 0)
    level = np.take_along_axis(before, at, axis=1)      # its offset just before the step
    with np.errstate(invalid="ignore"):
        off = np.isnan(offset) | (offset <= level - rule.jump_k / 2)
    # The episode lasts while the reading stays off: once back, it is over (until the next step).
    back = np.cumsum(~off, axis=1)
    flags = begun & ~np.isnan(offset) & (back == np.take_along_axis(back, at, axis=1))
    return flags, start.sum(axis=1)


def _spans(kind: np.ndarray, t: np.ndarray, ids: np.ndarray, hours: pd.DatetimeIndex) -> pd.DataFrame:
    """Runs of consecutive hours of one stored kind, with the mean and lowest hourly reading over each."""
    n, h = kind.shape
    if not n or not h:
        return pd.DataFrame(columns=SPAN_COLUMNS)
    change = np.ones((n, h), dtype=bool)
    change[:, 1:] = kind[:, 1:] != kind[:, :-1]
    flat_starts = np.flatnonzero(change.ravel())
    lengths = np.diff(np.r_[flat_starts, n * h])
    flat_kind = kind.ravel()[flat_starts]
    values = t.ravel()
    valid = ~np.isnan(values)
    sums = np.add.reduceat(np.where(valid, values, 0.0).astype(np.float64), flat_starts)
    counts = np.add.reduceat(valid.astype(np.int64), flat_starts)
    lows = np.minimum.reduceat(np.where(valid, values, np.inf), flat_starts)
    keep = flat_kind != _WARM
    with np.errstate(all="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    rows, cols = np.divmod(flat_starts[keep], h)
    return pd.DataFrame({"household_id": ids[rows], "kind": np.asarray(KINDS)[flat_kind[keep] - 1],
                         "start_at": hours[cols], "hours": lengths[keep],
                         "mean_t_c": np.round(mean[keep], 2),
                         "min_t_c": np.where(np.isfinite(lows[keep]), np.round(lows[keep], 2), np.nan)})


def _refunds(entries: pd.DataFrame, rule: RefundRule, season_days: int) -> pd.DataFrame:
    """fee × area × days_under / season_days in fen, rounded half up, in integers (fee to the fen, area to
    0.01 m²): the same input gives the same fen on every machine."""
    fee = pd.to_numeric(entries["fee_yuan_per_m2"], errors="coerce").fillna(rule.fee_yuan_per_m2).astype(float)
    fee_fen = np.round(fee.to_numpy() * 100).astype(np.int64)
    area_cm2 = np.round(pd.to_numeric(entries["area_m2"]).fillna(0).to_numpy() * 100).astype(np.int64)  # 0.01 m²
    numerator = fee_fen * area_cm2 * entries["days_under"].to_numpy(dtype=np.int64)
    denominator = 100 * max(season_days, 1)
    fen = (2 * numerator + denominator) // (2 * denominator)
    return entries.assign(fee_yuan_per_m2=fee_fen / 100.0, refund_yuan=fen / 100.0)


def run_season(pool, *, start: date, end: date, actor, rule: RefundRule | None = None, timezone: str = "Asia/Shanghai",
               name: str | None = None) -> dict:
    """Compute the season's ledger from the store's hourly room temperatures and store it (audited);
    returns the season's id, its summary and where the time went."""
    from store import refunds as store_refunds

    rule = rule or load_rule()
    clock = time.perf_counter()
    hours = season_hours(start, end, timezone)
    households = store_refunds.list_collector_households(pool)
    suspensions = store_refunds.list_suspensions(pool, start_at=hours[0].to_pydatetime(),
                                                 end_at=(hours[-1] + pd.Timedelta(hours=1)).to_pydatetime())
    readings = store_refunds.get_room_temperatures(pool, households["sensor_id"].tolist(),
                                                   hours[0].to_pydatetime(), len(hours))
    read_s = time.perf_counter() - clock
    ledger = compute_ledger(households, readings, suspensions, rule, start, end, timezone)
    compute_s = time.perf_counter() - clock - read_s
    summary = {**ledger.summary, "read_s": round(read_s, 3)}
    season_id = store_refunds.add_season(
        pool, name=name or f"{start:%Y}-{end:%Y}", start_date=start, end_date=end, timezone=timezone,
        rule=rule.as_dict(), summary=summary, entries=ledger.entries, spans=ledger.spans, days=ledger.days,
        actor=actor)
    total_s = time.perf_counter() - clock
    return {"season_id": season_id, "summary": summary, "read_s": read_s, "compute_s": compute_s,
            "write_s": total_s - read_s - compute_s, "total_s": total_s}


def latest_season(rule: RefundRule, today: date | datetime) -> tuple[date, date]:
    """The most recent season that has begun by ``today``."""
    today = today.date() if isinstance(today, datetime) else today
    start, end = rule.season(today.year)
    return (start, end) if start <= today else rule.season(today.year - 1)
