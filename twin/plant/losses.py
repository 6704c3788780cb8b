"""Background water loss of a heating network without a burst: seepage at glands and joints and
households drawing heating water (偷水), more in the evening. Utilities see it as the make-up
water that flows every hour; a leak is what comes on top of it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin.clock import local_hour_of


class BackgroundLoss:
    """Seeded losses spread over ``n_points`` return-side pipe ends; ``rows(at, circulating_t_h)``
    gives them as leak rows for ``Twin.set_leaks``.

    The total is ``share`` of the circulating flow (0.3 % by default, within the 0.5–1 % make-up a
    Chinese utility counts as normal), +40 % in the evening, with a slow random walk of ±15 %.
    """

    def __init__(self, pipe_ids, *, share: float = 0.003, n_points: int = 12, seed: int = 7):
        rng = np.random.default_rng(seed)
        self.pipes = rng.choice(np.asarray(pipe_ids, dtype=str), size=min(n_points, len(pipe_ids)), replace=False)
        self.weights = rng.dirichlet(np.ones(len(self.pipes)))
        self.share = share
        self.rng = rng
        self.walk = 0.0

    def factor(self, at: pd.Timestamp) -> float:
        hour = local_hour_of(at)
        evening = 0.4 * np.exp(-((hour - 20.0) ** 2) / 6.0)
        night = -0.2 * ((hour >= 1) & (hour < 5))
        self.walk = float(np.clip(0.97 * self.walk + self.rng.normal(0.0, 0.02), -0.15, 0.15))
        return 1.0 + evening + night + self.walk

    def rows(self, at: pd.Timestamp, circulating_t_h: float) -> pd.DataFrame:
        total = self.share * circulating_t_h * self.factor(pd.Timestamp(at))
        return pd.DataFrame({"pipe_id": self.pipes, "side": "return", "rate_t_h": total * self.weights,
                             "position": 0.5})
