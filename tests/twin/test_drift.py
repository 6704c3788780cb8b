"""Sensor drift against the twin: a residual that grows day after day is drift; one that follows the day
(the twin's heat losses or a station's demand off the model, the weather moving a whole kind) is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twin.drift import drift_per_day

END = pd.Timestamp("2026-12-10 06:30", tz="UTC")


def _hourly(sensors: dict, hours: int = 48, seed: int = 1) -> pd.DataFrame:
    """Hourly mean residuals of the two days before END; ``sensors``: id → residual(t in days)."""
    rng = np.random.default_rng(seed)
    buckets = pd.date_range(END.floor("h") - pd.Timedelta(hours=hours - 1), END.floor("h"), freq="h")
    days = ((buckets - buckets[0]) / pd.Timedelta(days=1)).to_numpy()
    return pd.concat([pd.DataFrame({"sensor_id": sid, "hour": buckets,
                                    "residual": shape(days) + rng.normal(0.0, 0.05, len(days))})
                      for sid, shape in sensors.items()], ignore_index=True)


def test_a_residual_that_grows_is_drift_and_one_that_follows_the_day_is_not():
    sensors = {"S-GROWS": lambda d: 3.0 * d,
               "S-SWINGS": lambda d: 1.5 * np.sin(2 * np.pi * d),                 # ±1.5 over the day
               "S-STEADY": lambda d: 0.4 + 0.0 * d}
    table = drift_per_day(_hourly(sensors), END, pd.Series("t_supply", index=list(sensors))).set_index("sensor_id")
    assert table.loc["S-GROWS", "drift"] == pytest.approx(3.0, abs=0.1) and table.loc["S-GROWS", "z"] > 20
    # Over any six of those hours the swing is a straight line of up to 1.5·2π ≈ 9 per day.
    assert abs(table.loc["S-SWINGS", "drift"]) < 0.1 and abs(table.loc["S-STEADY", "drift"]) < 0.1
    assert table["hours"].min() >= 23


def test_what_a_whole_kind_does_together_is_taken_out():
    """A colder day moves every station's supply residual by about the same: the kind's median."""
    common = {f"S-ST-{k:04d}-TS": (lambda d, k=k: -1.2 * d + 0.01 * k) for k in range(8)}
    common["S-ST-0100-TS"] = lambda d: -1.2 * d + 2.5 * d                         # and one that drifts too
    table = drift_per_day(_hourly(common), END, pd.Series("t_supply", index=list(common))).set_index("sensor_id")
    assert table.loc["S-ST-0003-TS", "drift"] == pytest.approx(-1.2, abs=0.1)
    assert abs(table.loc["S-ST-0003-TS", "excess"]) < 0.1
    assert table.loc["S-ST-0100-TS", "excess"] == pytest.approx(2.5, abs=0.15)


def test_a_sensor_with_too_few_hours_on_both_days_is_not_judged():
    hourly = _hourly({"S-NEW": lambda d: 5.0 * d}, hours=30)      # heard for 30 hours: 6 hours of yesterday
    assert drift_per_day(hourly, END, pd.Series({"S-NEW": "flow"}), min_hours=18).empty
    assert len(drift_per_day(hourly, END, pd.Series({"S-NEW": "flow"}), min_hours=6)) == 1
