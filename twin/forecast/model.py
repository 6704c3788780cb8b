"""The heat-load model: LightGBM quantile regression (10 %, 50 %, 90 %) of load / scale on the features.

One model serves every element of a network (stations and sources alike: the target is each element's
load divided by its own last week's mean scaled by the forecast's degree-hours against the last week's,
so their sizes do not matter and a colder hour than any trained on is still forecast). The median is the forecast;
the 10 % and 90 % quantiles its band, trained on forecasts as issued, so the band widens with lead time
as the weather forecast's error does.
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


class NotEnoughHistory(ValueError):
    """Too little history to train on: says how much there is and how much is needed."""


class LoadModel:
    """Three LightGBM boosters, one per quantile; ``predict`` gives MW with ``p10 ≤ load ≤ p90``."""

    def __init__(self, boosters: dict[str, lgb.Booster], *, trained_until=None, rows: int = 0):
        self.boosters = boosters
        self.trained_until = trained_until
        self.rows = rows

    @classmethod
    def fit(cls, rows: pd.DataFrame, *, trained_until=None, rounds: int = ROUNDS, seed: int = 7) -> LoadModel:
        """Train on ``features.training_rows`` (``FEATURES`` and target ``y``)."""
        if len(rows) < MIN_ROWS:
            raise NotEnoughHistory(f"{len(rows)} training rows (issue × lead × element with a known load);"
                                   f" at least {MIN_ROWS} are needed — a few days of hourly history")
        x = rows[list(FEATURES)].to_numpy(dtype=float)
        y = rows["y"].to_numpy(dtype=float)
        boosters = {}
        for name, alpha in QUANTILES.items():
            params = {**PARAMS, "objective": "quantile", "alpha": alpha, "seed": seed}
            boosters[name] = lgb.train(params, lgb.Dataset(x, y, feature_name=list(FEATURES), free_raw_data=True),
                                       num_boost_round=rounds)
        return cls(boosters, trained_until=trained_until, rows=len(rows))

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """``load_mw, p10_mw, p90_mw`` per feature row (quantiles sorted, so the band never crosses)."""
        x = features[list(FEATURES)].to_numpy(dtype=float)
        scale = features["scale_mw"].to_numpy(dtype=float)
        q = np.column_stack([self.boosters[n].predict(x, num_threads=1) for n in ("p10", "p50", "p90")])
        q = np.sort(np.clip(q, 0.0, None), axis=1) * scale[:, None]
        return pd.DataFrame({"load_mw": q[:, 1], "p10_mw": q[:, 0], "p90_mw": q[:, 2]}, index=features.index)

    def to_text(self) -> dict[str, str]:
        return {name: booster.model_to_string() for name, booster in self.boosters.items()}

    @classmethod
    def from_text(cls, texts: dict[str, str], *, trained_until=None) -> LoadModel:
        return cls({name: lgb.Booster(model_str=text) for name, text in texts.items()}, trained_until=trained_until)
