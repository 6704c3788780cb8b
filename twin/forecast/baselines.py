"""The two baselines a competent utility would use without us, computed in the same backtest.

- persistence: the same hour on the last complete day before the issue (for a day-ahead issue at 09:00,
  yesterday's hour where it has ended, the day before where it has not);
- degree-hour regression per hour of week (the TERMIS demand-analysis form):
  ``load = a[how] + b[how] · max(0, base − T)``, fitted by ordinary least squares (statsmodels) on the
  heating days of the history known at the issue (the last season's too) with the measured temperature, and
  predicted with the forecast as issued. Summer days would pull every hour's intercept towards zero and a
  season's first weeks would have only summer behind them: nobody fits a demand regression on them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from threadpoolctl import threadpool_limits

from twin.forecast.data import ForecastData

BASE_C = 18.0
MIN_HOURS = 24 * 7
HISTORY_DAYS = 540    # reaches back into the last heating season at the start of a new one
HEATING_DAY_SHARE = 0.15   # a heating day: its mean load above this share of the element's high (p95) day


def persistence(known: ForecastData, rows: pd.DataFrame) -> np.ndarray:
    """Persistence forecast (MW) for feature rows (``element_id, valid_at, lead_h``) of one issue."""
    back_h = np.ceil((rows["lead_h"].to_numpy(dtype=float) + 1) / 24.0) * 24
    source = pd.DatetimeIndex(rows["valid_at"]) - pd.to_timedelta(back_h, unit="h")
    stacked = known.loads.stack(future_stack=True)
    return stacked.reindex(pd.MultiIndex.from_arrays([source, rows["element_id"]])).to_numpy(dtype=float)


def _design(how: np.ndarray, degree_h: np.ndarray) -> np.ndarray:
    onehot = np.zeros((len(how), 168))
    onehot[np.arange(len(how)), how] = 1.0
    return np.hstack([onehot, onehot * degree_h[:, None]])


class DegreeHourRegression:
    """Per element, ``a[how] + b[how]·max(0, 18 − T)`` by OLS on the known history."""

    def __init__(self, fits: dict[str, np.ndarray], timezone: str):
        self.fits = fits
        self.timezone = timezone

    @classmethod
    def fit(cls, known: ForecastData, *, history_days: int = HISTORY_DAYS) -> DegreeHourRegression:
        start = known.known_until - pd.Timedelta(days=history_days) if known.known_until is not None else None
        loads = heating_days(known.loads if start is None else known.loads[known.loads.index >= start])
        t = known.weather["t_outdoor_c"].reindex(loads.index).interpolate(limit=3)
        how = _how(loads.index, known.timezone)
        fits = {}
        for element in loads.columns:
            y = loads[element].to_numpy(dtype=float)
            ok = np.isfinite(y) & np.isfinite(t.to_numpy())
            if ok.sum() < MIN_HOURS:
                continue
            x = _design(how[ok], np.maximum(0.0, BASE_C - t.to_numpy()[ok]))
            # One BLAS thread: on a busy 2-core machine threads fighting for cores make it 30× slower.
            with threadpool_limits(1), warnings.catch_warnings():
                warnings.simplefilter("ignore")   # an hour of week never above 18 °C has no slope: pinv copes
                fits[str(element)] = sm.OLS(y[ok], x, hasconst=True).fit().params   # pinv: a sparse hour of week stays solvable
        return cls(fits, known.timezone)

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        """MW for feature rows (``element_id, valid_at, t_fc_c``): the forecast temperature as issued."""
        how = _how(pd.DatetimeIndex(rows["valid_at"]), self.timezone)
        x = _design(how, np.maximum(0.0, BASE_C - rows["t_fc_c"].to_numpy(dtype=float)))
        out = np.full(len(rows), np.nan)
        for element, idx in rows.groupby("element_id").indices.items():
            params = self.fits.get(str(element))
            if params is not None:
                out[idx] = x[idx] @ params
        return np.clip(out, 0.0, None)


def heating_days(loads: pd.DataFrame) -> pd.DataFrame:
    """``loads`` with every hour of an element's non-heating days (UTC) emptied."""
    daily = loads.resample("D").mean()
    heating = daily.gt(HEATING_DAY_SHARE * daily.quantile(0.95))
    return loads.where(heating.reindex(loads.index.floor("D")).set_axis(loads.index).fillna(False).astype(bool))


def _how(times: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    local = pd.DatetimeIndex(times).tz_convert(timezone)
    return (local.dayofweek * 24 + local.hour).to_numpy(dtype=int)

