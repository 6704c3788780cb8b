"""Sensor realism: noise per kind, dropouts, stuck values and a few drifting sensors, all seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd

# One standard deviation of measurement noise, in the reading's unit (°C, bar, t/h share, MW share).
NOISE_ABS = {"t_supply": 0.15, "t_return": 0.15, "p_supply": 0.01, "p_return": 0.01, "p_node": 0.01,
             "room_t": 0.15, "outdoor_t": 0.2}
NOISE_REL = {"flow": 0.005, "makeup_flow": 0.01, "heat": 0.01}


class SensorRealism:
    """Turns true values into what the field sends. ``sensors`` has id and kind."""

    def __init__(self, sensors: pd.DataFrame, *, seed: int = 7, noise: bool = True,
                 dropout_p: float = 0.005, stuck_share: float = 0.01, drift_share: float = 0.005,
                 drift_k_per_day: float = 0.5):
        self.rng = np.random.default_rng(seed)
        self.ids = sensors["id"].to_numpy()
        kinds = sensors["kind"].to_numpy()
        self.abs_sigma = np.array([NOISE_ABS.get(k, 0.0) for k in kinds]) * noise
        self.rel_sigma = np.array([NOISE_REL.get(k, 0.0) for k in kinds]) * noise
        n = len(self.ids)
        self.dropout_p = dropout_p if noise else 0.0
        self.stuck = (self.rng.random(n) < stuck_share) if noise else np.zeros(n, bool)
        self.drift_rate = np.where((self.rng.random(n) < drift_share) & noise, drift_k_per_day / 86400.0, 0.0)
        self.stuck_value = np.full(n, np.nan)
        self.offline = np.zeros(n, dtype=bool)
        self.never_negative = kinds == "makeup_flow"  # a make-up meter does not read backwards

    def set_offline(self, sensor_ids, offline: bool = True) -> None:
        self.offline[np.isin(self.ids, list(sensor_ids))] = offline

    def observe(self, true_values: np.ndarray, elapsed_s: float) -> np.ndarray:
        """Readings for ``true_values`` (aligned with the sensors); NaN where nothing is sent."""
        values = true_values + self.rng.normal(0.0, 1.0, len(true_values)) * (
            self.abs_sigma + self.rel_sigma * np.abs(true_values))
        values = values + self.drift_rate * elapsed_s
        first_stuck = self.stuck & np.isnan(self.stuck_value)
        self.stuck_value[first_stuck] = values[first_stuck]
        values = np.where(self.stuck, self.stuck_value, values)
        values = np.where(self.never_negative, np.maximum(values, 0.0), values)
        missing = self.offline | (self.rng.random(len(values)) < self.dropout_p) | ~np.isfinite(true_values)
        return np.where(missing, np.nan, values)
