"""What the wall's 48 h strip shows, as data: outdoor forecast, load and band, current and advised supply per
source, the next cold wave and when the advice starts pre-heating for it."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLD_WAVE_DROP_K = 5.0     # a forecast this far under the coming day's first hours' mean is a cold wave
PREHEAT_RISE_K = 2.0       # the advice starts pre-heating where its supply first rises this far above hour 0


def cold_wave_and_preheat(outdoor: pd.Series, supply: pd.DataFrame | None) -> dict:
    """``outdoor``: forecast °C by valid hour; ``supply``: advised °C by valid hour, one column per source.
    Returns cold_wave_at (first hour COLD_WAVE_DROP_K under the first 6 h's mean, or None), coldest_c, and
    preheat_at (first hour before the wave where any source's advised supply has risen PREHEAT_RISE_K)."""
    out = {"cold_wave_at": None, "coldest_c": None, "preheat_at": None}
    outdoor = outdoor.dropna()
    if len(outdoor) < 7:
        return out
    base = float(outdoor.iloc[:6].mean())
    cold = outdoor[outdoor <= base - COLD_WAVE_DROP_K]
    if not len(cold):
        return out
    out["cold_wave_at"], out["coldest_c"] = cold.index[0], float(outdoor.min())
    if supply is not None and len(supply):
        rise = supply.sub(supply.iloc[0], axis=1).max(axis=1)
        early = rise[(rise >= PREHEAT_RISE_K) & (rise.index <= cold.index[0])]
        out["preheat_at"] = early.index[0] if len(early) else None
    return out


def strip_data(summary: dict | None, weather: pd.DataFrame, *, curve_c: float | pd.Series | None = None) -> dict:
    """From a stored schedule's ``summary`` (``twin.control.runner.summary_of``) and the weather forecast as
    issued (valid_at, t_outdoor_c, issued_at): the strip's series, the cold wave, and two flags: ``no_weather``
    (no forecast at all) and ``fallback`` (an older issue stands in for a fresh one; the runner's flag, which
    also covers no forecast at all, counts only when there is a forecast to fall back to). ``curve_c``: the
    heating curve's supply, one value or one per valid hour."""
    hourly = (summary or {}).get("hourly") or {}
    hours = pd.DatetimeIndex(pd.to_datetime(hourly.get("valid_at", []), utc=True))
    supply = pd.DataFrame(hourly.get("supply_c", {}), index=hours) if len(hours) else None
    outdoor = pd.Series(dtype=float)
    if len(weather):
        outdoor = pd.Series(weather["t_outdoor_c"].to_numpy(dtype=float),
                            index=pd.DatetimeIndex(pd.to_datetime(weather["valid_at"], utc=True))).sort_index()
    wave = cold_wave_and_preheat(outdoor, supply)
    issued = pd.to_datetime(weather["issued_at"], utc=True) if len(weather) else pd.Series(dtype="datetime64[ns, UTC]")
    return {"hours": hours, "outdoor": outdoor, "supply": supply,
            "load": pd.Series(hourly.get("load_mw", []), index=hours, dtype=float),
            "p10": pd.Series(hourly.get("p10_mw", [np.nan] * len(hours)), index=hours, dtype=float),
            "p90": pd.Series(hourly.get("p90_mw", [np.nan] * len(hours)), index=hours, dtype=float),
            "curve_c": curve_c, **wave,
            "weather_issued_at": issued.max() if len(issued) else None,
            "no_weather": not len(weather),
            "fallback": bool(len(weather)) and bool((summary or {}).get("weather_fallback", False))}
