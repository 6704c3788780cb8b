"""A small city's hourly heat loads from the virtual plant's own demand law and weather, with its forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin.clock import local_hours
from twin.forecast.data import ForecastData
from twin.plant.control import station_heat_mw
from twin.plant.weather import SyntheticWeather

ORIGIN = pd.Timestamp("2026-11-15", tz="UTC")
TZ = "Asia/Shanghai"


def city(days: int = 24, design_mw=(3.0, 8.0), seed: int = 7) -> ForecastData:
    weather = SyntheticWeather(ORIGIN, seed=seed, timezone=TZ)
    index = pd.date_range(ORIGIN, periods=days * 24, freq="h")
    t = pd.Series(weather.temperature_c(index), index=index)
    hours = local_hours(index, TZ)
    rng = np.random.default_rng(seed)
    loads = pd.DataFrame({f"ST-{i:04d}": station_heat_mw(d, t.to_numpy(), hours) *
                          (1 + 0.02 * rng.standard_normal(len(index))) for i, d in enumerate(design_mw, start=1)},
                         index=index)
    issues = pd.date_range(ORIGIN, index[-1], freq="6h")
    archive = pd.concat([weather.issue_forecast(at) for at in issues], ignore_index=True)
    return ForecastData(loads=loads, weather=pd.DataFrame({"t_outdoor_c": t}), forecasts=archive, timezone=TZ)
