"""Station balancing from room temperatures: each station's heat share that brings its rooms into 19 ± 1 °C.

A room's temperature moves with the share r of its building's weather-compensated heat the station passes
(the room model of ``twin.plant.rooms``, and any degree-hour building): ``Δt_room = Δr · (t_in − t_out)``
with ``t_in`` the design indoor temperature. From the rooms measured over the last day at the share the
station ran, each station gets the share (searched on a grid) that costs least: one per room outside
19 ± 1 °C, ``COLD_WEIGHT`` per room under 18 °C (a cold room weighs more than a warm one), ``SHARE_COST`` per
unit of share (heat a warm room does not need is fuel burnt for nothing), and ``DISTANCE_WEIGHT`` per K outside
the band (so a station whose rooms are all far out still moves toward it). A station whose heat meter showed it
could not pass its share (``passing_short``) is not raised. Before all these, the utility's compliance rule:
at least ``COMPLIANT_SHARE`` of a station's rooms at or above 18 °C (``RESERVE_K`` over it), so a station is
not lowered below, and is raised toward, the least share that keeps it. A station cannot fix one household's
cold room without overheating its neighbours: such rooms stay listed for a visit, not for more heat.
Near stations that overheat come down; far or weak ones open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BAND_LOW_C, BAND_HIGH_C = 18.0, 20.0   # 19 ± 1 °C
FLOOR_C = 18.0
# Weights chosen on ``heattwin bench control --quick`` (docs/benchmarks.md, control): the most room-hours in
# 19 ± 1 °C without more under 18 °C than the heating curve. With 2.0 / 0.5 the stations ran warm (heat +1.4 %).
COLD_WEIGHT = 2.5        # a room under 18 °C costs as much as 2.5 rooms just outside the band
SHARE_COST = 5.0         # per room and unit of share: 0.01 of share (≈0.2 K) costs 0.05 of a room — warm is waste
DISTANCE_WEIGHT = 0.2    # per K outside the band (cold K × COLD_WEIGHT): 0.5 per cold K outweighs SHARE_COST/span (0.25)
RATIO_LIMITS = (0.80, 1.15)
MAX_CHANGE = 0.03          # per re-balance: rooms answer over ~10 h, so step gently
# The utility's compliance rule (室温达标率): at least this share of a station's rooms at or above 18 °C, the
# floor a household is refunded under. A station's rooms spread ~1.1 K (top floors, end walls), so a median
# near 19 °C leaves ~16 % of them cold; the rule aims the station's coldest 5 % at the floor instead (its
# median then ~20 °C). The 5 % left over are the rooms a share cannot fix without overheating the rest: a visit.
COMPLIANT_SHARE = 0.95
# Kept over 18 °C by the compliant rooms: the rooms judged are the window's means, and a room's hours swing
# ~0.3 K (one standard deviation) around its 12 h mean (``heattwin bench control``, 14 days).
RESERVE_K = 0.3
SHORT_TOLERANCE = 0.97     # a station passing under 97 % of its usual share of what it was asked is at a limit


def passing_short(passed: pd.DataFrame, usual: pd.Series, *, tolerance: float = SHORT_TOLERANCE) -> list[str]:
    """Stations whose heat meters showed, over the window, less than ``tolerance`` × their ``usual`` share of
    the heat they were asked (valve wide open at a cold inlet, exchanger at its capacity).

    ``passed``: hours × station ids, metered heat over asked heat; ``usual``: per station the same ratio on a
    day it was not short (meters and the demand law differ by a station's own bias, so the ratio is compared
    with the station's own, not with 1).
    """
    now = passed.mean(axis=0)
    return now.index[now < tolerance * usual.reindex(now.index)].tolist()


def meter_ratios(gain: pd.Series, current: pd.Series | None = None, *, max_change: float = MAX_CHANGE,
                 limited: tuple | list = ()) -> pd.Series:
    """Per station id, the share for a station without room readings, from its heat meter: the share at which
    it passes the heat its buildings' design load asks (the degree-hour law at the design indoor temperature).

    ``gain``: per station, over the window, metered heat / (design-law heat × the share it ran) — 1 for a station
    that passes what it is asked, more near the plants, less at the far end (hydraulic imbalance; a station's
    heat follows its share, so the share that passes the law's heat is 1 / gain). Moves at most ``max_change``
    per re-balance within ``RATIO_LIMITS``; a ``limited`` station (``passing_short``) is not raised. It is
    balancing by heat per heated area, as a utility does where it has no room readings, with each station's
    design load as its area's due. What it cannot see: a station whose buildings need more or less than their
    design load (its rooms would say; it has none).
    """
    gain = gain[np.isfinite(gain) & (gain > 0)]
    before = (current if current is not None else pd.Series(dtype=float)).reindex(gain.index).fillna(1.0)
    step = (1.0 / gain - before).clip(-max_change, max_change)
    step = step.where(~step.index.isin(list(limited)), step.clip(upper=0.0))
    return (before + step).clip(*RATIO_LIMITS).round(2)


def meter_balance(delivered_mw: pd.DataFrame, due_mw: pd.DataFrame, shares: pd.Series, *, recent_h: int = 12
                  ) -> tuple[pd.Series, list[str]]:
    """From hourly heat meters (hours × station ids, MW) against the design law's heat (same shape): each
    station's ``gain`` over the last ``recent_h`` hours (metered / (due × the share it ran), what
    ``meter_ratios`` takes) and the stations ``passing_short`` — their recent gain under their own usual one,
    the median over the whole window (a meter and the design law differ by a station's own bias, so a station
    is compared with itself, not with 1)."""
    ran = shares.reindex(delivered_mw.columns).fillna(1.0)
    gains = delivered_mw / due_mw.reindex_like(delivered_mw).mul(ran, axis=1)
    gains = gains.replace([np.inf, -np.inf], np.nan)
    recent = gains.tail(recent_h)
    return recent.mean(axis=0).dropna(), passing_short(recent, gains.median(axis=0))


def station_ratios(rooms: pd.DataFrame, outdoor_c: float, current: pd.Series | None = None, *,
                   design_indoor_c: float = 20.0, cold_weight: float = COLD_WEIGHT,
                   max_change: float = MAX_CHANGE, limited: tuple | list = ()) -> pd.DataFrame:
    """Per station id: ratio_before, ratio (advised), median/min/in-band share of its rooms before and after.

    Parameters
    ----------
    rooms : household_id, station_id, t_c (each room's mean over the window, °C).
    outdoor_c : the window's mean outdoor temperature, °C.
    current : the share each station ran in the window (1 where absent: the curve's full heat).
    limited : stations that passed less than their share asked in the window (``passing_short``: valve or
        exchanger at its limit, e.g. in a cold wave): their rooms say nothing about a larger share, which they
        could not pass either, so they are not raised (only lowered, if their rooms are warm). Raised, such a
        share would stay up after the wave and overheat the rooms.
    """
    span_k = max(design_indoor_c - float(outdoor_c), 5.0)
    rooms = rooms.dropna(subset=["t_c"])
    grouped = rooms.groupby("station_id")["t_c"]
    median, coldest = grouped.median(), grouped.min()
    before = (current if current is not None else pd.Series(dtype=float)).reindex(median.index).fillna(1.0)
    steps = np.round(np.arange(-max_change, max_change + 1e-9, 0.01), 6)   # an exact 0: "keep the share"
    advised, limited = {}, set(limited)
    for station, temps in grouped:
        r0 = float(before[station])
        short = station in limited
        # A limited station keeps its share unless its rooms say lower: what it saves is not the heat asked.
        shares = np.clip(r0 + (steps[steps <= 0][::-1] if short else steps), *RATIO_LIMITS)
        moved = temps.to_numpy()[None, :] + (shares - r0)[:, None] * span_k
        outside = ((moved < BAND_LOW_C) | (moved > BAND_HIGH_C)).sum(axis=1)
        # Kelvin outside the band, a little: a station whose rooms are all far out still moves toward it.
        far_k = cold_weight * np.maximum(BAND_LOW_C - moved, 0.0) + np.maximum(moved - BAND_HIGH_C, 0.0)
        cost = outside + (cold_weight - 1.0) * (moved < FLOOR_C).sum(axis=1) + DISTANCE_WEIGHT * far_k.sum(axis=1)
        if not short:
            cost = cost + SHARE_COST * len(temps) * shares
        advised[station] = float(shares[int(np.argmin(cost + _uncompliant(moved)))])
    advised = pd.Series(advised, dtype=float).reindex(median.index)
    shift = pd.Series(rooms["station_id"].map(advised - before).to_numpy() * span_k, index=rooms.index)
    after = rooms.assign(t_c=rooms["t_c"] + shift)
    return pd.DataFrame({
        "ratio_before": before, "ratio": advised,
        "median_before_c": median, "median_after_c": after.groupby("station_id")["t_c"].median(),
        "min_before_c": coldest, "min_after_c": after.groupby("station_id")["t_c"].min(),
        "in_band_before": _in_band(rooms), "in_band_after": _in_band(after),
        "rooms": grouped.size()})


def _uncompliant(moved: np.ndarray, *, compliant_share: float = COMPLIANT_SHARE) -> np.ndarray:
    """Per candidate share (rows of ``moved``, rooms in columns): 0 where at least ``compliant_share`` of the
    rooms sit at or above ``FLOOR_C + RESERVE_K``, else a cost above any the band can weigh (so the compliance
    rule comes first and the band and the heat choose among the shares that meet it) that falls with the
    rooms still short of it (a station that cannot comply this step moves toward it)."""
    cold = (moved < FLOOR_C + RESERVE_K).mean(axis=1)
    missing = np.maximum(cold - (1.0 - compliant_share), 0.0)
    return np.where(missing > 0, 1e6 * (1.0 + missing), 0.0)


def room_distribution(rooms: pd.DataFrame, ratios: pd.DataFrame, outdoor_c: float, *,
                      design_indoor_c: float = 20.0) -> pd.DataFrame:
    """Each room's expected temperature before and after the advised shares: household_id, station_id,
    before_c, after_c."""
    span_k = max(design_indoor_c - float(outdoor_c), 5.0)
    change = (ratios["ratio"] - ratios["ratio_before"]).reindex(rooms["station_id"]).fillna(0.0).to_numpy()
    return pd.DataFrame({"household_id": rooms["household_id"].to_numpy(), "station_id": rooms["station_id"].to_numpy(),
                         "before_c": rooms["t_c"].to_numpy(), "after_c": rooms["t_c"].to_numpy() + change * span_k})


def _in_band(rooms: pd.DataFrame) -> pd.Series:
    inside = rooms["t_c"].between(BAND_LOW_C, BAND_HIGH_C)
    return inside.groupby(rooms["station_id"]).mean()
