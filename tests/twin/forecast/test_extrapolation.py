"""The forecast follows a cold spell colder than anything it was trained on (a tree alone would not)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin.clock import local_hours
from twin.forecast.data import ForecastData
from twin.forecast.load import fit_model, predict
from twin.plant.control import station_heat_mw

ORIGIN = pd.Timestamp("2026-11-15", tz="UTC")
TZ = "Asia/Shanghai"
COLD_FROM_DAY = 10


def _mild_then_cold(days: int = 13) -> ForecastData:
    index = pd.date_range(ORIGIN, periods=days * 24, freq="h")
    hours = local_hours(index, TZ)
    t = 6.0 - 3.0 * np.cos(2 * np.pi * (hours - 3.0) / 24.0)
    t = pd.Series(np.where(index >= ORIGIN + pd.Timedelta(days=COLD_FROM_DAY), t - 12.0, t), index=index)
    rng = np.random.default_rng(3)
    loads = pd.DataFrame({"ST-0001": station_heat_mw(5.0, t.to_numpy(), hours) *
                          (1 + 0.02 * rng.standard_normal(len(index)))}, index=index)
    issues = pd.date_range(ORIGIN, index[-1], freq="6h")
    archive = pd.concat([pd.DataFrame({"issued_at": at, "valid_at": t.index[(t.index >= at) &
                                                                             (t.index <= at + pd.Timedelta(hours=48))],
                                       "t_outdoor_c": t[(t.index >= at) & (t.index <= at + pd.Timedelta(hours=48))]})
                         for at in issues], ignore_index=True)   # a perfect forecast: only the model is judged
    return ForecastData(loads=loads, weather=pd.DataFrame({"t_outdoor_c": t}), forecasts=archive, timezone=TZ), t


def test_a_cold_spell_beyond_the_training_range_is_not_forecast_as_the_mildest_known_day():
    data, t = _mild_then_cold()
    at = ORIGIN + pd.Timedelta(days=COLD_FROM_DAY, hours=1)   # 09:00 local on the spell's first day
    model = fit_model(data.as_of(at), until=at, days=COLD_FROM_DAY, rounds=60)
    forecast = predict(model, data.as_of(at), at)
    lead = (forecast["valid_at"] - forecast["issued_at"]) / pd.Timedelta(hours=1)
    day_ahead = forecast[(lead >= 15) & (lead <= 38)]
    actual = data.loads["ST-0001"].reindex(pd.DatetimeIndex(day_ahead["valid_at"])).to_numpy()
    trained_max = data.loads["ST-0001"][data.loads.index < ORIGIN + pd.Timedelta(days=COLD_FROM_DAY)].max()
    assert actual.mean() > 1.4 * trained_max   # the spell really is beyond the history
    bias = (actual - day_ahead["load_mw"].to_numpy()).mean() / actual.mean()
    assert abs(bias) < 0.08, f"day-ahead forecast runs {bias:+.0%} off in the cold spell"
