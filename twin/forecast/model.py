"""The heat-load model: LightGBM quantile regression (10 %, 50 %, 90 %) of load / scale on the features.

One model serves every element of a network (stations and sources alike: the target is each element's
load divided by its own last week's mean scaled by the forecast's degree-hours against the last week's,
so their sizes do not matter and a colder hour than any trained on is still forecast). The median is the forecast;
the 10 % and 90 % quantiles its band, trained on forecasts as issued, so the band widens with lead time
as the weather forecast's error does. Quantile boosters fit their own training rows closer than they
forecast new ones (the plant's p10–p90 held 27–50 % of the hours it should hold 80 % of), so the band is
calibrated as conformalized quantile regression does it (Romano et al. 2019): trained again without the
latest quarter of the issues, the band's misses on those issues give the margin that makes it hold 80 %
there, and the model trained on every issue carries that margin.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from twin.forecast.features import FEATURES

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
PARAMS = {"learning_rate": 0.07, "num_leaves": 31, "min_data_in_leaf": 40, "feature_fraction": 0.9,
          "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "verbose": -1, "num_threads": 1, "max_bin": 63}
ROUNDS = 200
MIN_ROWS = 200
CALIBRATION_SHARE = 0.25   # the latest issues held out to calibrate the band on
BAND_COVERAGE = QUANTILES["p90"] - QUANTILES["p10"]
MARGIN_KEY = "band_margin"   # stored beside the boosters' texts


class NotEnoughHistory(ValueError):
    """Too little history to train on: says how much there is and how much is needed."""


class LoadModel:
    """Three LightGBM boosters, one per quantile; ``predict`` gives MW with ``p10 ≤ load ≤ p90``."""

    def __init__(self, boosters: dict[str, lgb.Booster], *, trained_until=None, rows: int = 0, margin: float = 0.0):
        self.boosters = boosters
        self.trained_until = trained_until
        self.rows = rows
        self.margin = margin       # widens (or narrows, < 0) the band, in units of load / scale

    @classmethod
    def fit(cls, rows: pd.DataFrame, *, trained_until=None, rounds: int = ROUNDS, seed: int = 7) -> LoadModel:
        """Train on ``features.training_rows`` (``FEATURES`` and target ``y``), the band calibrated on the
        latest issues (``band_margin``)."""
        if len(rows) < MIN_ROWS:
            raise NotEnoughHistory(f"{len(rows)} training rows (issue × lead × element with a known load);"
                                   f" at least {MIN_ROWS} are needed — a few days of hourly history")
        model = cls(_boosters(rows, rounds, seed), trained_until=trained_until, rows=len(rows))
        model.margin = band_margin(rows, rounds, seed)
        return model

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """``load_mw, p10_mw, p90_mw`` per feature row (quantiles sorted, so the band never crosses)."""
        scale = features["scale_mw"].to_numpy(dtype=float)
        q = self._quantiles(features)
        q[:, 0] -= self.margin
        q[:, 2] += self.margin
        q = np.clip(q, 0.0, None)
        q[:, 0], q[:, 2] = np.minimum(q[:, 0], q[:, 1]), np.maximum(q[:, 2], q[:, 1])
        q = q * scale[:, None]
        return pd.DataFrame({"load_mw": q[:, 1], "p10_mw": q[:, 0], "p90_mw": q[:, 2]}, index=features.index)

    def _quantiles(self, features: pd.DataFrame) -> np.ndarray:
        """p10, p50, p90 of load / scale, sorted per row."""
        x = features[list(FEATURES)].to_numpy(dtype=float)
        q = np.column_stack([self.boosters[n].predict(x, num_threads=1) for n in ("p10", "p50", "p90")])
        return np.sort(q, axis=1)

    def to_text(self) -> dict[str, str]:
        return {**{name: booster.model_to_string() for name, booster in self.boosters.items()},
                MARGIN_KEY: repr(float(self.margin))}

    @classmethod
    def from_text(cls, texts: dict[str, str], *, trained_until=None) -> LoadModel:
        """A stored model; one stored before the band was calibrated has no margin (0)."""
        boosters = {name: lgb.Booster(model_str=text) for name, text in texts.items() if name in QUANTILES}
        return cls(boosters, trained_until=trained_until, margin=float(texts.get(MARGIN_KEY, 0.0)))


def _boosters(rows: pd.DataFrame, rounds: int, seed: int) -> dict[str, lgb.Booster]:
    x = rows[list(FEATURES)].to_numpy(dtype=float)
    y = rows["y"].to_numpy(dtype=float)
    boosters = {}
    for name, alpha in QUANTILES.items():
        params = {**PARAMS, "objective": "quantile", "alpha": alpha, "seed": seed}
        boosters[name] = lgb.train(params, lgb.Dataset(x, y, feature_name=list(FEATURES), free_raw_data=True),
                                   num_boost_round=rounds)
    return boosters


def band_margin(rows: pd.DataFrame, rounds: int = ROUNDS, seed: int = 7) -> float:
    """The conformal margin of the p10–p90 band: trained without the latest ``CALIBRATION_SHARE`` of the
    issues, the ``BAND_COVERAGE`` quantile of how far each held-out row falls outside its band (negative
    inside). 0 when there are too few rows to hold out."""
    issued = pd.DatetimeIndex(rows["issued_at"])
    issues = issued.unique().sort_values()
    held = issued >= issues[min(int(len(issues) * (1 - CALIBRATION_SHARE)), len(issues) - 1)]
    if len(issues) < 4 or held.sum() < MIN_ROWS // 2 or (~held).sum() < MIN_ROWS:
        return 0.0
    early = LoadModel(_boosters(rows[~held], rounds, seed))
    q = early._quantiles(rows[held])
    y = rows["y"].to_numpy(dtype=float)[held]
    outside = np.maximum(q[:, 0] - y, y - q[:, 2])
    n = len(outside)
    level = min(np.ceil((n + 1) * BAND_COVERAGE) / n, 1.0)
    return float(np.quantile(outside, level, method="higher"))
