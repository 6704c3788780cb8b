"""Rolling-origin backtest: every day an issue at a local hour (09:00 by default, so the next day's 24 hours
are 15–38 h ahead), scored against what happened, with the two baselines in the same run.

At each issue ``t`` everything — the model (retrained every ``retrain_every_days`` on data up to its own
training time), the features, the baselines' fit and the persistence value — comes from ``data.as_of(t)``:
the weather forecasts as issued by then, loads of hours ended by then. ``leak_check`` proves it: it
re-runs the backtest with everything after a cut replaced by nonsense and finds the forecasts issued
up to the cut unchanged.

Scores on the day-ahead hours (15–38 h): MAPE (on hours whose load is at least ``min_load_mw``), WAPE
(Σ|error| / Σ load, all hours), CV-RMSE (RMSE / mean load) and NMBE (Σ(load − forecast) / (n · mean
load): positive when the forecast runs low), each for ours, persistence and the degree-hour regression;
``skill_vs_best_baseline = 1 − ours / best baseline`` on MAPE.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from twin.forecast.baselines import DegreeHourRegression, persistence
from twin.forecast.data import ForecastData, LeakError
from twin.forecast.features import LEADS_H, issue_features, target_of
from twin.forecast.load import fit_model

DAY_AHEAD_H = (15, 38)
MODELS = ("ours", "persistence", "degree_hour")
RECENT_SCORE_DAYS = 5.0   # what a stored model's scores cover: a working week of daily issues
STATION_KEYS = ("mape_15_38h", "skill_vs_best_baseline", "hours")


def as_of(data: ForecastData, at: pd.Timestamp) -> ForecastData:
    return data.as_of(at)


def daily_issues(start, end, *, hour_local: int = 9, timezone: str) -> pd.DatetimeIndex:
    """One issue a day at ``hour_local`` local time, in ``[start, end)``, as UTC."""
    days = pd.date_range(pd.Timestamp(start).tz_convert(timezone).normalize(),
                         pd.Timestamp(end).tz_convert(timezone).normalize(), freq="D")
    issues = pd.DatetimeIndex([d + pd.Timedelta(hours=hour_local) for d in days]).tz_convert("UTC")
    return issues[(issues >= pd.Timestamp(start)) & (issues < pd.Timestamp(end))]


def rolling_origin(data: ForecastData, *, start, end, hour_local: int = 9, retrain_every_days: float = 7.0,
                   train_days: float = 60.0, elements=None, leads_h=LEADS_H,
                   view: Callable[[ForecastData, pd.Timestamp], ForecastData] = as_of,
                   fit: Callable = fit_model, max_rows: int = 200_000) -> pd.DataFrame:
    """Forecasts of every daily issue in ``[start, end)`` with the baselines and the measured load:
    ``issued_at, valid_at, element_id, lead_h, actual_mw, ours_mw, p10_mw, p90_mw, persistence_mw,
    degree_hour_mw``. ``view`` is how an issue sees the data (``as_of``; a test swaps it to plant a leak)."""
    model, regression, parts, cache = None, None, [], {}
    for at in daily_issues(start, end, hour_local=hour_local, timezone=data.timezone):
        known = view(data, at)
        if model is None or at - model.trained_until >= pd.Timedelta(days=retrain_every_days):
            # Both retrained on the same days: the baseline is as up to date as ours.
            model = fit(known, until=at, days=train_days, elements=elements, max_rows=max_rows, cache=cache)
            regression = DegreeHourRegression.fit(known)
        rows = issue_features(known, at, leads_h, elements)
        if rows.empty:
            continue
        ours = model.predict(rows)
        parts.append(pd.DataFrame({
            "issued_at": rows["issued_at"].to_numpy(), "valid_at": rows["valid_at"].to_numpy(),
            "element_id": rows["element_id"].to_numpy(), "lead_h": rows["lead_h"].to_numpy(),
            "actual_mw": target_of(data.loads, rows),
            "ours_mw": ours["load_mw"].to_numpy(), "p10_mw": ours["p10_mw"].to_numpy(),
            "p90_mw": ours["p90_mw"].to_numpy(),
            "persistence_mw": persistence(known, rows), "degree_hour_mw": regression.predict(rows)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _scores(actual: np.ndarray, predicted: np.ndarray, min_load: float) -> dict:
    error = actual - predicted
    big = actual >= max(min_load, 1e-9)
    mean = actual.mean()
    return {"mape": float(np.mean(np.abs(error[big]) / actual[big])) if big.any() else float("nan"),
            "wape": float(np.abs(error).sum() / actual.sum()),
            "cvrmse": float(np.sqrt(np.mean(error ** 2)) / mean),
            "nmbe": float(error.sum() / (len(actual) * mean))}


def score(predictions: pd.DataFrame, *, min_load_mw: float = 0.0, leads_h=DAY_AHEAD_H) -> dict:
    """The figures of the bench on the hours ``leads_h`` ahead (every model on the same hours: those
    where the load is measured and every model has a value)."""
    frame = predictions[(predictions["lead_h"] >= leads_h[0]) & (predictions["lead_h"] <= leads_h[1])]
    columns = ["actual_mw", *(f"{m}_mw" for m in MODELS)]
    frame = frame.dropna(subset=columns)
    if frame.empty:
        return {"hours": 0}
    actual = frame["actual_mw"].to_numpy(dtype=float)
    by_model = {m: _scores(actual, frame[f"{m}_mw"].to_numpy(dtype=float), min_load_mw) for m in MODELS}
    best = min(by_model["persistence"]["mape"], by_model["degree_hour"]["mape"])
    inside = ((frame["p10_mw"] <= frame["actual_mw"]) & (frame["actual_mw"] <= frame["p90_mw"])).mean()
    return {
        "mape_15_38h": by_model["ours"]["mape"], "wape": by_model["ours"]["wape"],
        "cvrmse_day_ahead": by_model["ours"]["cvrmse"], "nmbe": by_model["ours"]["nmbe"],
        "persistence_mape": by_model["persistence"]["mape"], "degree_hour_mape": by_model["degree_hour"]["mape"],
        "persistence_wape": by_model["persistence"]["wape"], "degree_hour_wape": by_model["degree_hour"]["wape"],
        "skill_vs_best_baseline": float(1.0 - by_model["ours"]["mape"] / best),
        "band_p10_p90_coverage": float(inside), "hours": int(len(frame)),
        "issues": int(frame["issued_at"].nunique()), "elements": int(frame["element_id"].nunique()),
    }


def recent_scores(data: ForecastData, until, *, days: float = RECENT_SCORE_DAYS, train_days: float = 60.0) -> dict:
    """``score`` of the daily issues of the last ``days`` whose day ahead ``data`` (known up to ``until``) has
    measured: the model and the regression fitted at the first of them on what was known then, so a stored
    model carries how it would have done lately, as issued. ``{"hours": 0, "why": …}`` when the store is too
    young for it (a model can be trained on fewer days than it can be scored on)."""
    end = pd.Timestamp(until) - pd.Timedelta(hours=DAY_AHEAD_H[1])
    try:
        predictions = rolling_origin(data, start=end - pd.Timedelta(days=days), end=end,
                                     retrain_every_days=days + 1.0, train_days=train_days)
    except ValueError as exc:   # NotEnoughHistory, or a regression with too few heating hours
        return {"hours": 0, "why": str(exc)}
    if predictions.empty:
        return {"hours": 0, "why": f"no issue between {end - pd.Timedelta(days=days)} and {end}"}
    # The sources' loads (what the supply schedule plans on) and the stations' apart, as the bench scores them:
    # pooled, the plants' MW would swamp the stations' in every figure.
    on_source = predictions["element_id"].astype(str).str.startswith("SRC-")
    stations = score(predictions[~on_source])
    return score(predictions[on_source]) | {"days": days} | {f"stations_{key}": value for key, value in stations.items()
                                                            if key in STATION_KEYS}


def tampered_after(data: ForecastData, cut: pd.Timestamp) -> ForecastData:
    """``data`` with everything not known at ``cut`` replaced by nonsense: loads ×3 + 5 MW, measured and
    forecast temperatures −25 K. A forecast issued by ``cut`` that changes on it has seen the future."""
    loads = data.loads.copy()
    late = loads.index + pd.Timedelta(hours=1) > cut
    loads.loc[late] = loads.loc[late] * 3.0 + 5.0
    weather = data.weather.copy()
    weather.loc[weather.index >= cut, "t_outdoor_c"] -= 25.0
    forecasts = data.forecasts.copy()
    forecasts.loc[forecasts["issued_at"] > cut, "t_outdoor_c"] -= 25.0
    return ForecastData(loads=loads, weather=weather, forecasts=forecasts, timezone=data.timezone,
                        workday=data.workday)


def leak_check(data: ForecastData, cut, run: Callable[[ForecastData], pd.DataFrame],
               honest: pd.DataFrame | None = None) -> int:
    """Run ``run`` (a backtest) on ``data`` and on ``tampered_after(data, cut)``; the forecasts issued at or
    before ``cut`` must be identical. Returns how many were compared; ``LeakError`` naming the first that
    differs."""
    cut = pd.Timestamp(cut)
    honest, tampered = run(data), run(tampered_after(data, cut))
    keys = ["issued_at", "valid_at", "element_id"]
    compared = honest[honest["issued_at"] <= cut].merge(tampered[tampered["issued_at"] <= cut], on=keys,
                                                        suffixes=("", "_t"))
    if compared.empty:
        raise LeakError(f"no forecast issued by {cut} to compare: move the cut into the backtest")
    for column in ("ours_mw", "p10_mw", "p90_mw", "persistence_mw", "degree_hour_mw"):
        differs = ~np.isclose(compared[column], compared[f"{column}_t"], equal_nan=True)
        if differs.any():
            first = compared[differs].iloc[0]
            raise LeakError(f"{column} of {first['element_id']} issued at {first['issued_at']} for "
                            f"{first['valid_at']} changed when data after {cut} changed: it saw the future")
    return len(compared)
