"""A stored model carries its recent backtest: the last days' daily issues forecast as issued, with both baselines
on the same hours; a store too young to score says why instead of showing a figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from synthetic_city import city

from twin.forecast.backtest import DAY_AHEAD_H, recent_scores


def test_the_last_days_issues_are_scored_against_both_baselines():
    data = city(days=24)
    until = data.loads.index[-1] + pd.Timedelta(hours=1)
    scores = recent_scores(data, until, days=5.0, train_days=14.0)
    assert scores["issues"] == 5 and scores["days"] == 5.0 and scores["hours"] > 0
    for key in ("mape_15_38h", "persistence_mape", "degree_hour_mape", "skill_vs_best_baseline", "nmbe"):
        assert np.isfinite(scores[key]), key
    # Every issue's day ahead was measured by ``until``: nothing is scored against hours not yet come.
    assert scores["hours"] == scores["issues"] * (DAY_AHEAD_H[1] - DAY_AHEAD_H[0] + 1) * scores["elements"]


def test_a_young_store_has_no_scores_and_says_why():
    data = city(days=7)
    scores = recent_scores(data, data.loads.index[-1] + pd.Timedelta(hours=1), days=5.0)
    assert scores["hours"] == 0 and scores["why"]
