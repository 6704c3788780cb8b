"""Room temperatures of households with collectors: a first-order building heat balance (RC).

Each room relaxes toward the temperature its heat supply can hold against the outdoor air,
``t_ss = t_out + r · (t_design_in − t_out) + offset``, with time constant ``tau_h``: ``r`` is the
share of the heat the building needs that its station delivers. Top floors and end walls lose more
heat (negative offsets); a per-household spread makes no two rooms alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.plant.control import DESIGN_INDOOR_C


class RoomModel:
    """Room temperatures of ``households`` (frame with id, station_id, floor, floors, end_wall)."""

    def __init__(self, households: pd.DataFrame, *, seed: int = 7, tau_h: float = 10.0):
        rng = np.random.default_rng(seed)
        n = len(households)
        floor = households.get("floor", pd.Series(np.ones(n))).fillna(1).to_numpy(dtype=float)
        floors = households.get("floors", pd.Series(np.full(n, 6.0))).fillna(6).to_numpy(dtype=float)
        end_wall = households.get("end_wall", pd.Series(rng.random(n) < 0.2)).to_numpy(dtype=bool)
        self.ids = households["id"].to_numpy()
        self.station_ids = households["station_id"].to_numpy()
        self.offset_k = (-1.5 * (floor >= floors) - 1.0 * end_wall + 0.5 * (floor == 1)
                         + rng.normal(0.0, 0.6, n))
        self.tau_h = tau_h
        self.t_c = np.full(n, DESIGN_INDOOR_C) + self.offset_k

    def steady_c(self, outdoor_c: float, delivery_ratio: np.ndarray) -> np.ndarray:
        ratio = np.clip(np.nan_to_num(delivery_ratio, nan=0.0), 0.0, 1.3)
        return outdoor_c + ratio * (DESIGN_INDOOR_C - outdoor_c) + self.offset_k

    def step(self, dt_s: float, outdoor_c: float, delivery_ratio_by_station: pd.Series) -> np.ndarray:
        """Advance by ``dt_s`` seconds; ``delivery_ratio_by_station`` maps station id → delivered/needed."""
        ratio = pd.Series(self.station_ids).map(delivery_ratio_by_station).to_numpy(dtype=float)
        target = self.steady_c(outdoor_c, ratio)
        decay = np.exp(-dt_s / (self.tau_h * 3600.0))
        self.t_c = target + (self.t_c - target) * decay
        return self.t_c
