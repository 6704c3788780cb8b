"""The degree-hour baseline is the regression a competent utility would fit: on the heating days of its history,
so a summer of zero load does not drag a winter hour's forecast down (the Niš seasons start after one)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.forecast.baselines import DegreeHourRegression, heating_days
from twin.forecast.data import ForecastData

A_MW, B_MW_PER_K = 0.05, 0.02   # the heating law: a + b · (18 − T)


def _summer_then_winter() -> ForecastData:
    """90 summer days (22 °C ± 4, heating off: a meter's few kW) then 60 winter days under the heating law."""
    hours = pd.date_range("2023-06-01", periods=150 * 24, freq="h", tz="UTC")
    rng = np.random.default_rng(3)
    day = np.arange(len(hours)) // 24
    winter = day >= 90
    t_c = np.where(winter, 2.0, 22.0) + 4.0 * np.sin(2 * np.pi * hours.hour / 24) + rng.normal(0, 1.0, len(hours))
    load = np.where(winter, A_MW + B_MW_PER_K * np.maximum(0.0, 18.0 - t_c), 0.002) + rng.normal(0, 0.002, len(hours))
    forecasts = pd.DataFrame(columns=["issued_at", "valid_at", "t_outdoor_c"])
    return ForecastData(loads=pd.DataFrame({"L": load}, index=hours), weather=pd.DataFrame({"t_outdoor_c": t_c},
                        index=hours), forecasts=forecasts, timezone="UTC")


def test_summer_days_are_left_out_of_the_fit():
    data = _summer_then_winter()
    kept = heating_days(data.loads)["L"]
    assert kept.iloc[: 90 * 24].isna().all() and kept.iloc[90 * 24:].notna().all()


def test_a_winter_hour_is_forecast_by_the_winter_law_after_a_summer():
    data = _summer_then_winter()
    regression = DegreeHourRegression.fit(data)
    valid = pd.date_range("2023-10-30", periods=48, freq="h", tz="UTC")
    t_fc = np.full(len(valid), -3.0)
    rows = pd.DataFrame({"element_id": "L", "valid_at": valid, "t_fc_c": t_fc})
    expected = A_MW + B_MW_PER_K * (18.0 - t_fc)
    np.testing.assert_allclose(regression.predict(rows), expected, rtol=0.05)
