"""Which sensors drift against the twin: today's residual against yesterday's, hour by hour.

A drifting transmitter's error grows day after day; a twin that differs from the real network (its
heat losses, its roughness, a station's demand off its curve) leaves residuals too, but they follow
the day — the load, the outdoor temperature — and come back the next day. A straight line fitted over
a few hours cannot tell the two apart: half a day's swing of 0.3 K reads as 1 K a day. So the drift of
a sensor is measured over two days, as the mean of ``d_h = r̄(hour h, today) − r̄(hour h, yesterday)``
over the hours of the day both days have: what repeats daily cancels hour by hour, what grows stays.
Two more guards:

- the weather moves every sensor of a kind together (a colder day, a larger heat-loss error): the
  median drift of the sensor's kind is taken out where the kind has enough sensors;
- the day-to-day scatter of ``d_h`` is the noise the drift must stand out of (``z``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
MIN_KIND_SENSORS = 5     # fewer sensors of a kind say too little about their common change


def drift_per_day(hourly: pd.DataFrame, end, kinds: pd.Series, *, min_hours: int = 18) -> pd.DataFrame:
    """Per sensor with at least ``min_hours`` hours of the day seen both today and yesterday:
    ``drift`` (its own, unit per day), ``common`` (its kind's median), ``excess`` (drift − common),
    ``se`` (standard error of the drift), ``z`` (excess / se), ``hours`` and ``level`` (the sensor's mean
    reading, where ``hourly`` has a ``measured`` column).

    ``hourly``: sensor_id, hour (UTC bucket start), residual (mean over the hour's runs), as
    ``store.twin_runs.get_hourly_residuals`` gives it for the two days before ``end``; ``kinds``:
    sensor id → kind."""
    columns = ["sensor_id", "drift", "common", "excess", "se", "z", "hours", "level"]
    if hourly.empty:
        return pd.DataFrame(columns=columns)
    end = pd.Timestamp(end)
    frame = hourly.assign(age=(end - pd.to_datetime(hourly["hour"], utc=True)) / DAY)
    frame = frame[(frame["age"] > 0) & (frame["age"] <= 2.0)]
    frame = frame.assign(day=np.where(frame["age"] <= 1.0, "today", "yesterday"),
                         slot=np.floor((frame["age"] % 1.0) * 24.0 + 1e-9).astype(int))
    wide = frame.pivot_table(index=["sensor_id", "slot"], columns="day", values="residual", aggfunc="mean")
    if not {"today", "yesterday"} <= set(wide.columns):
        return pd.DataFrame(columns=columns)
    step = (wide["today"] - wide["yesterday"]).dropna()
    stats = step.groupby(level="sensor_id").agg(["mean", "std", "count"])
    stats = stats[stats["count"] >= min_hours]
    out = pd.DataFrame({"sensor_id": stats.index.astype(str), "drift": stats["mean"].to_numpy(),
                        "se": (stats["std"] / np.sqrt(stats["count"])).to_numpy(), "hours": stats["count"].to_numpy()})
    out["kind"] = out["sensor_id"].map(kinds).fillna("")
    sizes = out.groupby("kind")["drift"].transform("size")
    out["common"] = np.where(sizes >= MIN_KIND_SENSORS, out.groupby("kind")["drift"].transform("median"), 0.0)
    out["excess"] = out["drift"] - out["common"]
    out["z"] = out["excess"].abs() / out["se"].clip(lower=1e-9)
    level = frame.groupby("sensor_id")["measured"].mean() if "measured" in frame.columns else pd.Series(dtype=float)
    out["level"] = out["sensor_id"].map(level).astype(float)
    return out[columns].reset_index(drop=True)
