"""The backtest never sees data after an issue time: a leak of future data is planted and caught."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from synthetic_city import ORIGIN, city

from twin.forecast.backtest import leak_check, rolling_origin, score
from twin.forecast.data import LeakError
from twin.forecast.load import fit_model, predict

START = ORIGIN + pd.Timedelta(days=12)
END = ORIGIN + pd.Timedelta(days=14, hours=2)
CUT = ORIGIN + pd.Timedelta(days=13, hours=2)   # after the issue of day 13 (09:00 local = 01:00 UTC)


@pytest.fixture(scope="module")
def data():
    return city(days=16)


@pytest.fixture(scope="module")
def honest(data):
    return _run()(data)


def _fast_fit(known, **kwargs):
    return fit_model(known, **{**kwargs, "rounds": 40})


def _run(view=None, fit=_fast_fit):
    def run(data):
        extra = {} if view is None else {"view": view}
        return rolling_origin(data, start=START, end=END, retrain_every_days=1.0, train_days=10, fit=fit, **extra)
    return run


def test_forecasts_issued_before_the_cut_do_not_change_when_the_future_does(data, honest):
    compared = leak_check(data, CUT, _run(), honest=honest)
    assert compared == 2 * 2 * 48   # two issues by the cut, two stations, 48 hours each


def test_a_view_that_hands_on_the_whole_history_is_refused(data):
    with pytest.raises(LeakError, match="not known then"):
        _run(view=lambda d, at: d)(data)


def test_a_model_trained_past_its_issue_is_caught(data):
    def peeking_fit(known, *, until, **kwargs):  # noqa: ARG001
        # The planted leak: train as if two more days were known (on the full data, not on ``known``).
        return _fast_fit(data_under_test[0], until=until + pd.Timedelta(days=2), **kwargs)

    data_under_test = [data]

    def run(d):
        data_under_test[0] = d
        return _run(fit=peeking_fit)(d)

    with pytest.raises(LeakError, match="saw the future"):
        leak_check(data, CUT, run)


def test_the_band_widens_with_lead_time_and_scores_have_the_bench_keys(data, honest):
    at = ORIGIN + pd.Timedelta(days=14, hours=1)
    model = _fast_fit(data.as_of(at), until=at, days=10)
    forecast = predict(model, data.as_of(at), at)
    lead = (forecast["valid_at"] - forecast["issued_at"]) / pd.Timedelta(hours=1)
    width = forecast["p90_mw"] - forecast["p10_mw"]
    assert (forecast["p10_mw"] <= forecast["load_mw"]).all() and (forecast["load_mw"] <= forecast["p90_mw"]).all()
    assert width[lead >= 36].mean() > width[lead <= 6].mean()
    assert set(forecast["element_id"]) == {"ST-0001", "ST-0002"} and lead.min() == 1 and lead.max() == 48
    scores = score(honest)
    for key in ("mape_15_38h", "cvrmse_day_ahead", "nmbe", "persistence_mape", "degree_hour_mape",
                "skill_vs_best_baseline"):
        assert np.isfinite(scores[key])
    assert scores["mape_15_38h"] < 0.2 and scores["issues"] == 3
