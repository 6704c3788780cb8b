"""The strip names the next cold wave and the hour the advice starts pre-heating for it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.control.strip import cold_wave_and_preheat, strip_data

HOURS = pd.date_range("2026-12-10 00:00", periods=48, freq="h", tz="UTC")


def test_cold_wave_and_the_preheat_before_it():
    outdoor = pd.Series(np.where(np.arange(48) >= 30, -12.0, -2.0), index=HOURS)
    supply = pd.DataFrame({"SRC-1": np.where(np.arange(48) >= 24, 105.0, 95.0)}, index=HOURS)
    found = cold_wave_and_preheat(outdoor, supply)
    assert found["cold_wave_at"] == HOURS[30] and found["coldest_c"] == -12.0
    assert found["preheat_at"] == HOURS[24]


def test_mild_days_have_no_cold_wave_and_a_missing_forecast_is_a_fallback():
    outdoor = pd.Series(-2.0 + np.sin(np.arange(48) / 4.0), index=HOURS)
    assert cold_wave_and_preheat(outdoor, None)["cold_wave_at"] is None
    assert strip_data(None, pd.DataFrame(columns=["issued_at", "valid_at", "t_outdoor_c"]))["fallback"]
