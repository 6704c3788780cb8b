"""The forecast's p10–p90 band holds about 80 % of the hours it is scored on, not the share of its training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from synthetic_city import ORIGIN, city

from twin.forecast.load import fit_model, predict
from twin.forecast.model import LoadModel


def _coverage(model, data, issues) -> float:
    inside = []
    for at in issues:
        forecast = predict(model, data.as_of(at), at)
        lead = (forecast["valid_at"] - forecast["issued_at"]) / pd.Timedelta(hours=1)
        forecast = forecast[(lead >= 15) & (lead <= 38)]
        actual = np.array([data.loads.at[v, e] for v, e in zip(forecast["valid_at"], forecast["element_id"],
                                                                 strict=True)])
        inside.append((actual >= forecast["p10_mw"]) & (actual <= forecast["p90_mw"]))
    return float(np.concatenate(inside).mean())


def test_the_band_calibrated_on_the_latest_issues_holds_about_eighty_percent():
    data = city(days=28)
    until = ORIGIN + pd.Timedelta(days=20, hours=1)
    model = fit_model(data.as_of(until), until=until, days=18, rounds=60)
    scored = [until + pd.Timedelta(days=k) for k in range(6)]
    calibrated = _coverage(model, data, scored)
    raw = _coverage(LoadModel(model.boosters), data, scored)
    assert 0.65 <= calibrated <= 0.95, f"p10–p90 holds {calibrated:.0%} of the day-ahead hours"
    assert calibrated > raw, (calibrated, raw)


def test_the_margin_is_kept_with_the_stored_model():
    data = city(days=14)
    until = ORIGIN + pd.Timedelta(days=12, hours=1)
    model = fit_model(data.as_of(until), until=until, days=10, rounds=20)
    stored = LoadModel.from_text(model.to_text())
    assert stored.margin == model.margin != 0.0
    assert set(stored.boosters) == {"p10", "p50", "p90"}
