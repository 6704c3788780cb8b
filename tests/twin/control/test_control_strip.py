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


def test_mild_days_have_no_cold_wave():
    outdoor = pd.Series(-2.0 + np.sin(np.arange(48) / 4.0), index=HOURS)
    assert cold_wave_and_preheat(outdoor, None)["cold_wave_at"] is None


def test_no_forecast_at_all_is_no_weather_not_a_fallback_to_an_older_one():
    # The runner flags a fallback when it had no weather at all too; with nothing to fall back to, the strip
    # says there is no forecast rather than "using the one issued —".
    summary = {"hourly": {"valid_at": [h.isoformat() for h in HOURS], "supply_c": {"SRC-1": [95.0] * 48},
                          "load_mw": [500.0] * 48}, "weather_fallback": True}
    none = strip_data(summary, pd.DataFrame(columns=["issued_at", "valid_at", "t_outdoor_c"]))
    assert none["no_weather"] and not none["fallback"]
    older = pd.DataFrame({"issued_at": HOURS[0] - pd.Timedelta(hours=30), "valid_at": HOURS, "t_outdoor_c": -5.0})
    fell_back = strip_data(summary, older)
    assert fell_back["fallback"] and not fell_back["no_weather"]
    assert fell_back["weather_issued_at"] == HOURS[0] - pd.Timedelta(hours=30)
    fresh = strip_data({**summary, "weather_fallback": False}, older.assign(issued_at=HOURS[0]))
    assert not fresh["fallback"] and not fresh["no_weather"]
