"""The hour of the day where the network is: households heat, cook and sleep by local time, in the zone
of ``HEATTWIN_TIMEZONE`` (daylight saving included), not by UTC."""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin.settings import load_settings


def local_hours(times, timezone: str | None = None) -> np.ndarray:
    """Fractional hour of the day (0–24) of each of ``times`` in ``timezone`` (default the configured one)."""
    local = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(times), utc=True)).tz_convert(
        timezone or load_settings().timezone)
    return (local.hour + local.minute / 60.0 + local.second / 3600.0).to_numpy(dtype=float)


def local_hour_of(at, timezone: str | None = None) -> float:
    """``local_hours`` of one moment."""
    return float(local_hours([at], timezone)[0])
