"""A stored model carries its recent backtest: the last days' daily issues forecast as issued, with both baselines
on the same hours; a store too young to score says why instead of showing a figure."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from synthetic_city import city

from twin.forecast.backtest import DAY_AHEAD_H, recent_scores


def test_the_last_days_issues_are_scored_against_both_baselines_sources_and_stations_apart():
    data = city(days=24, design_mw=(3.0, 8.0, 60.0))
    data = replace(data, loads=data.loads.rename(columns={"ST-0003": "SRC-1"}))   # a plant's load, 20× a station's
    until = data.loads.index[-1] + pd.Timedelta(hours=1)
    scores = recent_scores(data, until, days=5.0, train_days=14.0)
    assert scores["issues"] == 5 and scores["days"] == 5.0 and scores["elements"] == 1
    for key in ("mape_15_38h", "persistence_mape", "degree_hour_mape", "skill_vs_best_baseline", "nmbe",
                "stations_mape_15_38h", "stations_skill_vs_best_baseline"):
        assert np.isfinite(scores[key]), key
    # Every issue's day ahead was measured by ``until``: nothing is scored against hours not yet come.
    day_ahead_h = DAY_AHEAD_H[1] - DAY_AHEAD_H[0] + 1
    assert scores["hours"] == 5 * day_ahead_h and scores["stations_hours"] == 2 * 5 * day_ahead_h


def test_a_young_store_has_no_scores_and_says_why():
    data = city(days=7)
    scores = recent_scores(data, data.loads.index[-1] + pd.Timedelta(hours=1), days=5.0)
    assert scores["hours"] == 0 and scores["why"]
