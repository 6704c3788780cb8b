"""Station balancing from room temperatures: each station's heat share that brings its rooms into 19 ± 1 °C.

A room's temperature moves with the share r of its building's weather-compensated heat the station passes
(the room model of ``twin.plant.rooms``, and any degree-hour building): ``Δt_room = Δr · (t_in − t_out)``
with ``t_in`` the design indoor temperature. From the rooms measured over the last day at the share the
station ran, each station gets the share (searched on a grid) that costs least: one per room outside
19 ± 1 °C, ``COLD_WEIGHT`` per room under 18 °C (a cold room weighs more than a warm one), and a little per
unit of share (of two equally good shares, the one that burns less). A station cannot fix one household's
cold room without overheating its neighbours: such rooms stay listed for a visit, not for more heat.
Near stations that overheat come down; far or weak ones open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BAND_LOW_C, BAND_HIGH_C = 18.0, 20.0   # 19 ± 1 °C
FLOOR_C = 18.0
COLD_WEIGHT = 2.0        # a room under 18 °C costs as much as two rooms just outside the band
SHARE_COST = 0.5         # per room and unit of share: 0.01 of share costs 0.005 of a room
RATIO_LIMITS = (0.80, 1.15)
MAX_CHANGE = 0.03          # per re-balance: rooms answer over ~10 h, so step gently


def station_ratios(rooms: pd.DataFrame, outdoor_c: float, current: pd.Series | None = None, *,
                   design_indoor_c: float = 20.0, cold_weight: float = COLD_WEIGHT,
                   max_change: float = MAX_CHANGE) -> pd.DataFrame:
    """Per station id: ratio_before, ratio (advised), median/min/in-band share of its rooms before and after.

    Parameters
    ----------
    rooms : household_id, station_id, t_c (each room's mean over the window, °C).
    outdoor_c : the window's mean outdoor temperature, °C.
    current : the share each station ran in the window (1 where absent: the curve's full heat).
    """
    span_k = max(design_indoor_c - float(outdoor_c), 5.0)
    rooms = rooms.dropna(subset=["t_c"])
    grouped = rooms.groupby("station_id")["t_c"]
    median, coldest = grouped.median(), grouped.min()
    before = (current if current is not None else pd.Series(dtype=float)).reindex(median.index).fillna(1.0)
    steps = np.arange(-max_change, max_change + 1e-9, 0.01)
    advised = {}
    for station, temps in grouped:
        r0 = float(before[station])
        shares = np.clip(r0 + steps, *RATIO_LIMITS)
        moved = temps.to_numpy()[None, :] + (shares - r0)[:, None] * span_k
        outside = ((moved < BAND_LOW_C) | (moved > BAND_HIGH_C)).sum(axis=1)
        cost = outside + (cold_weight - 1.0) * (moved < FLOOR_C).sum(axis=1) + SHARE_COST * len(temps) * shares
        advised[station] = float(shares[int(np.argmin(cost))])
    advised = pd.Series(advised, dtype=float).reindex(median.index)
    shift = pd.Series(rooms["station_id"].map(advised - before).to_numpy() * span_k, index=rooms.index)
    after = rooms.assign(t_c=rooms["t_c"] + shift)
    return pd.DataFrame({
        "ratio_before": before, "ratio": advised,
        "median_before_c": median, "median_after_c": after.groupby("station_id")["t_c"].median(),
        "min_before_c": coldest, "min_after_c": after.groupby("station_id")["t_c"].min(),
        "in_band_before": _in_band(rooms), "in_band_after": _in_band(after),
        "rooms": grouped.size()})


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
