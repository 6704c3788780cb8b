"""Calibration: a roughness multiplier per network zone and a heat-loss multiplier per pipe age
class, fitted by least squares so the twin matches the readings of a window.

Pressures inform roughness, temperatures inform heat loss; each residual is divided by its
sensor kind's noise so the two weigh alike. The window is sampled at a few instants, each with
its own boundary conditions, so one odd moment does not decide the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from layers.network import Network
from twin.boundary import LastGood, boundary_from_readings
from twin.model import Twin, TwinDidNotConverge
from twin.observe import SensorMap
from twin.pipes import age_class
from twin.plant.sensors import NOISE_ABS, NOISE_REL
from twin.sync import apply_boundary

FITTED_KINDS = ("p_node", "p_supply", "p_return", "t_supply", "t_return")
_BOUNDS = (np.log(0.2), np.log(5.0))   # each multiplier between 0.2 and 5
JACOBIAN_STEP = 0.05                    # 5 % on a multiplier


@dataclass
class Snapshot:
    """One instant of the window: window means per sensor id."""
    at: pd.Timestamp
    measured: pd.Series


@dataclass
class CalibrationResult:
    params: dict
    rms_before: dict
    rms_after: dict


def parameter_names(network: Network) -> tuple[list[str], list[str]]:
    zones = sorted(network.pipes["zone"].astype(str).unique())
    ages = sorted(set(age_class(network.pipes["install_year"])))
    return zones, ages


def _calibration(zones, ages, x: np.ndarray) -> dict:
    factors = np.exp(x)
    return {"roughness": dict(zip(zones, factors[:len(zones)].round(6).tolist(), strict=True)),
            "heat_loss": dict(zip(ages, factors[len(zones):].round(6).tolist(), strict=True))}


def _scale(sensors: pd.DataFrame, measured: pd.Series) -> pd.Series:
    kinds = sensors.set_index("id")["kind"].reindex(measured.index)
    absolute = kinds.map(NOISE_ABS).fillna(0.0)
    relative = kinds.map(NOISE_REL).fillna(0.0) * measured.abs()
    return (absolute + relative).clip(lower=1e-3)


class Calibrator:
    def __init__(self, network: Network, snapshots: list[Snapshot]):
        self.network = network
        self.snapshots = snapshots
        self.zones, self.ages = parameter_names(network)
        fitted = network.sensors[network.sensors["kind"].isin(FITTED_KINDS)]
        self.sensor_map = SensorMap(fitted, network.stations)
        self.kinds = fitted.set_index("id")["kind"]
        self.twin = Twin(network)
        self._last: tuple[np.ndarray, np.ndarray] | None = None
        self.boundaries = [boundary_from_readings(network, s.measured, at=s.at, last_good=LastGood())
                           for s in snapshots]

    def residuals(self, calibration: dict) -> pd.Series:
        """Scaled residuals (model − reading) / noise of every fitted sensor at every snapshot."""
        self.twin.set_calibration(calibration)
        parts = []
        for snapshot, boundary in zip(self.snapshots, self.boundaries, strict=True):
            apply_boundary(self.twin, boundary)
            frame = self.sensor_map.residuals(self.twin.solve(), snapshot.measured)
            scaled = frame.set_index("sensor_id")["residual"] / _scale(self.network.sensors, frame.set_index(
                "sensor_id")["measured"])
            parts.append(scaled.rename(lambda sid, at=snapshot.at: f"{sid}@{at.isoformat()}"))
        return pd.concat(parts)

    def rms_by_kind(self, calibration: dict) -> dict:
        self.twin.set_calibration(calibration)
        frames = []
        for snapshot, boundary in zip(self.snapshots, self.boundaries, strict=True):
            apply_boundary(self.twin, boundary)
            frames.append(self.sensor_map.residuals(self.twin.solve(), snapshot.measured))
        residuals = pd.concat(frames)
        residuals["kind"] = residuals["sensor_id"].map(self.kinds)
        return {k: round(float(np.sqrt(np.mean(g["residual"] ** 2))), 5) for k, g in residuals.groupby("kind")}

    def _objective(self, x: np.ndarray) -> np.ndarray:
        if self._last is not None and np.array_equal(self._last[0], x):
            return self._last[1]   # the Jacobian starts where the optimizer just evaluated
        try:
            r = self.residuals(_calibration(self.zones, self.ages, x)).to_numpy()
        except TwinDidNotConverge:
            r = np.full(self._size, 1e3)
        self._last = (x.copy(), r)
        return r

    def _jacobian(self, x: np.ndarray, step: float = JACOBIAN_STEP) -> np.ndarray:
        """Forward differences of a fixed step in log space (a relative step at x = 0 would be ~1e-8,
        below what the solver's tolerances resolve), taken backwards at an upper bound."""
        r = self._objective(x)
        columns = []
        for k in range(len(x)):
            h = step if x[k] + step <= _BOUNDS[1] else -step
            moved = x.copy()
            moved[k] += h
            columns.append((self._objective(moved) - r) / h)
        return np.column_stack(columns)

    def fit(self, max_iterations: int = 4) -> CalibrationResult:
        """Bounded least squares on the log-multipliers (scipy's trust-region reflective method: the
        bounds are part of the problem, not a clip after each step), with forward-difference
        sensitivities; at most ``max_iterations`` trial steps."""
        x = np.zeros(len(self.zones) + len(self.ages))
        neutral = _calibration(self.zones, self.ages, x)
        self._size = len(self.residuals(neutral))
        rms_before = self.rms_by_kind(neutral)
        low, high = (np.full(len(x), bound) for bound in _BOUNDS)
        fitted = least_squares(self._objective, x, bounds=(low, high), method="trf", jac=self._jacobian,
                               x_scale=1.0, max_nfev=max_iterations + 1)
        params = _calibration(self.zones, self.ages, fitted.x)
        return CalibrationResult(params, rms_before, self.rms_by_kind(params))
