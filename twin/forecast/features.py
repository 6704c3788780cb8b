"""Features of a heat-load forecast issued at ``t``: one row per element and lead hour (1–48 h).

Every feature comes from the data as known at ``t`` (``ForecastData.as_of``): the weather forecast as
issued for the valid hour and the day before it (buildings answer the outdoor temperature of the last
hours, not only the present one), hour of week and working day in local time, and the element's own
recent load — its level over the last week (the scale the target is divided by, so one model serves
stations of any size), its last day, and the same hour on the last complete day (what persistence
would say), each with the temperature it went with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.forecast.data import HOUR, ForecastData, temperature_path

LEADS_H = np.arange(1, 49)
SCALE_DAYS = 7
BASE_C = 18.0        # degree-hour base, as the baseline's
MIN_DEGREE_K = 2.0   # floor of a degree-hour factor: a mild hour must not make the ratio blow up
FEATURES = ("lead_h", "t_fc_c", "t_fc_24h_c", "t_fc_72h_c", "t_change_k", "wind_m_s", "solar_w_m2", "hour",
            "dow", "hour_of_week", "workday", "t_week_c", "persist", "t_persist_c", "last_day", "t_last_day_c",
            "last_hour")


def _local(times: pd.DatetimeIndex, timezone: str) -> pd.DatetimeIndex:
    return times.tz_convert(timezone)


def calendar_features(valid: pd.DatetimeIndex, data: ForecastData) -> pd.DataFrame:
    local = _local(valid, data.timezone)
    days = pd.Index(local.date)
    workday = {d: data.workday(d) for d in set(days)}
    return pd.DataFrame({"hour": local.hour, "dow": local.dayofweek, "hour_of_week": local.dayofweek * 24 + local.hour,
                         "workday": [float(workday[d]) for d in days]}, index=valid)


def element_scale(known: ForecastData, at: pd.Timestamp) -> pd.Series:
    """Each element's mean load over the last week known at ``at``, MW, floored at a tenth of its
    high load of the last quarter (a heating season's first days must not make every ratio huge)."""
    loads = known.loads
    week = loads[loads.index >= at - pd.Timedelta(days=SCALE_DAYS)].mean()
    quarter = loads[loads.index >= at - pd.Timedelta(days=90)].quantile(0.95)
    return week.clip(lower=0.1 * quarter)


def issue_features(known: ForecastData, at, leads_h=LEADS_H, elements=None) -> pd.DataFrame:
    """Feature rows (``element_id, issued_at, valid_at, scale_mw, weather_issued_at`` + ``FEATURES``) of a
    forecast issued at ``at`` from ``known`` (which must hold nothing later than ``at``)."""
    at = pd.Timestamp(at)
    known.check_known(at)
    leads_h = np.asarray(leads_h, dtype=int)
    valid = pd.DatetimeIndex(at + leads_h * HOUR)
    path_hours = pd.date_range(at - pd.Timedelta(hours=96), at + int(leads_h.max()) * HOUR, freq="h")
    path = temperature_path(known, at, path_hours)
    t = path["t_outdoor_c"]
    per_hour = pd.DataFrame({
        "lead_h": leads_h.astype(float),
        "t_fc_c": t.reindex(valid).to_numpy(),
        "t_fc_24h_c": t.rolling(24, min_periods=12).mean().reindex(valid).to_numpy(),
        "t_fc_72h_c": t.rolling(72, min_periods=36).mean().reindex(valid).to_numpy(),
        "wind_m_s": path["wind_m_s"].reindex(valid).to_numpy(),
        "solar_w_m2": path["solar_w_m2"].reindex(valid).to_numpy(),
    }, index=valid)
    per_hour["t_change_k"] = per_hour["t_fc_c"] - t.reindex(valid - 24 * HOUR).to_numpy()
    per_hour = per_hour.join(calendar_features(valid, known))
    per_hour["weather_issued_at"] = path["weather_issued_at"].reindex(valid).to_numpy()
    measured_t = known.weather["t_outdoor_c"] if "t_outdoor_c" in known.weather.columns else pd.Series(dtype=float)
    per_hour["t_week_c"] = measured_t[measured_t.index >= at - pd.Timedelta(days=SCALE_DAYS)].mean()
    per_hour["t_last_day_c"] = measured_t[measured_t.index >= at - 24 * HOUR].mean()
    # The same hour on the last complete day: valid − 24·k h, the smallest k whose hour has ended by ``at``.
    back = np.ceil((leads_h + 1) / 24.0).astype(int) * 24
    persist_at = pd.DatetimeIndex(valid - back * HOUR)
    per_hour["t_persist_c"] = t.reindex(persist_at).to_numpy()

    loads = known.loads if elements is None else known.loads.reindex(columns=list(elements))
    scale = element_scale(known, at).reindex(loads.columns)
    scale = scale[np.isfinite(scale) & (scale > 0)]
    if scale.empty:
        return pd.DataFrame(columns=["element_id", "issued_at", "valid_at", "scale_mw", *FEATURES])
    loads = loads[scale.index]
    persist = loads.reindex(persist_at).to_numpy() / scale.to_numpy()
    last_day = (loads[loads.index >= at - 24 * HOUR].mean() / scale).to_numpy()
    last_hour = (loads.reindex([at - HOUR]).iloc[0] / scale).to_numpy()
    n_elements, n_leads = len(scale), len(valid)
    # The target is the load over the element's last week scaled by the degree-hours the forecast brings
    # against the last week's: a tree cannot extrapolate to a colder hour than it was trained on, a ratio can.
    week_dh = max(BASE_C - float(per_hour["t_week_c"].iloc[0]), MIN_DEGREE_K) \
        if np.isfinite(per_hour["t_week_c"].iloc[0]) else np.nan
    degree = np.maximum(BASE_C - per_hour["t_fc_c"].to_numpy(dtype=float), MIN_DEGREE_K) / week_dh
    degree = np.where(np.isfinite(degree), degree, 1.0)
    frame = pd.DataFrame({
        "element_id": np.repeat(scale.index.astype(str).to_numpy(), n_leads),
        "issued_at": at,
        "valid_at": np.tile(valid, n_elements),
        "scale_mw": np.repeat(scale.to_numpy(), n_leads) * np.tile(degree, n_elements),
        "persist": persist.T.reshape(-1),
        "last_day": np.repeat(last_day, n_leads),
        "last_hour": np.repeat(last_hour, n_leads),
    })
    hourly = per_hour.reset_index(drop=True)
    repeated = pd.concat([hourly] * n_elements, ignore_index=True)
    frame = pd.concat([frame, repeated], axis=1)
    return frame[["element_id", "issued_at", "valid_at", "scale_mw", "weather_issued_at", *FEATURES]]


def training_rows(data: ForecastData, issues, *, until: pd.Timestamp, leads_h=LEADS_H, elements=None,
                  max_rows: int = 300_000, seed: int = 7, cache: dict | None = None) -> pd.DataFrame:
    """Feature rows of past issues with their target ``y`` (load / scale) for every valid hour that ended
    by ``until``; each issue sees only ``data.as_of(issue)``. At most ``max_rows`` (a seeded sample).
    ``cache`` (issue → feature rows) spares a rolling backtest recomputing an issue it has seen: an issue's
    features depend on nothing after it."""
    until = pd.Timestamp(until)
    parts = []
    for at in issues:
        at = pd.Timestamp(at)
        if at >= until:
            continue
        rows = None if cache is None else cache.get(at)
        if rows is None:
            rows = issue_features(data.as_of(at), at, leads_h, elements)
            if cache is not None:
                cache[at] = rows
        if rows.empty:
            continue
        rows = rows[pd.DatetimeIndex(rows["valid_at"]) + HOUR <= until]
        if not rows.empty:
            parts.append(rows)
    if not parts:
        return pd.DataFrame(columns=["element_id", "issued_at", "valid_at", "scale_mw", *FEATURES, "y"])
    rows = pd.concat(parts, ignore_index=True)
    rows["y"] = target_of(data.loads, rows) / rows["scale_mw"].to_numpy()
    rows = rows[np.isfinite(rows["y"])]
    if len(rows) > max_rows:
        rows = rows.sample(max_rows, random_state=seed)
    return rows.reset_index(drop=True)


def target_of(loads: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The measured load (MW) at each row's element and valid hour; NaN where it is not known."""
    columns = {str(c): i for i, c in enumerate(loads.columns)}
    col = rows["element_id"].map(columns).to_numpy(dtype=float)
    pos = loads.index.get_indexer(pd.DatetimeIndex(rows["valid_at"]))
    values = loads.to_numpy(dtype=float)
    ok = (pos >= 0) & np.isfinite(col)
    out = np.full(len(rows), np.nan)
    out[ok] = values[pos[ok], col[ok].astype(int)]
    return out
