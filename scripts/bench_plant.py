"""A plant for the benches whose physics and demands differ from the twin's, as a real network
differs from its model.

The product's ``VirtualPlant`` runs the twin's own physics: the same roughness and heat-loss
coefficients, the same soil temperature, stations drawing exactly the demand curve the twin falls
back on. A twin that follows it can only be wrong by sensor noise, which flatters every detector
built on residuals. ``IndependentPlant`` keeps the plant's machinery (control, dispatch, rooms,
sensor realism) but gives it a network of its own, drawn from its own seeds (``PLANT_SEED_OFFSET``
away from the twin's):

- every pipe's roughness × 0.6–2.5 (log-uniform: new pipe to scaled and aged steel), and its
  heat-loss coefficient × 0.75–1.5 (insulation that aged or got wet unevenly);
- the soil at pipe depth follows the air by its own law (warmer and more damped than the twin's);
- every station draws its demand curve × (1 + bias + swing over the day), bias and swing of
  ±0–5 % each (a station off by up to ±10 %, more in the morning or the evening), and returns its
  water up to ±2.5 K off its design return temperature, with ±1 K over the day;
- background losses on both sides, at their own points, with their own evening peak;
- a few healthy-looking meters that drift (°C or t/h per day, either sign), to score the drift rule.

It is a bench fixture, not product physics: nothing in ``twin/`` uses it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin.clock import local_hour_of
from twin.model import Twin
from twin.plant.runner import VirtualPlant

PLANT_SEED_OFFSET = 90_000          # plant seeds never coincide with the twin's or the product plant's
ROUGHNESS_FACTOR = (0.6, 2.5)       # log-uniform
HEAT_LOSS_FACTOR = (0.75, 1.5)      # log-uniform
DEMAND_BIAS = 0.05                  # a station's demand off its curve by up to this, constantly …
DEMAND_SWING = 0.05                 # … plus up to this, swinging over the day
RETURN_OFFSET_K = 2.5
RETURN_SWING_K = 1.0
LOSS_SHARE = 0.0035                 # of the circulating flow
DRIFTING_SENSORS = 6
DRIFT_PER_DAY = (2.0, 4.0)          # in the sensor's unit (°C, t/h): 2–4× the drift rule's threshold


def soil_temperature_c(outdoor_c: float) -> float:
    """The plant's soil at pipe depth: warmer and more damped than the twin's assumption."""
    return max(7.0 + outdoor_c / 4.0, 2.0)


class _PlantTwin(Twin):
    """The twin's solver on the plant's own pipes: per-pipe roughness and heat-loss factors, its soil."""

    def __init__(self, network, roughness: np.ndarray, heat_loss: np.ndarray):
        self._factors = None
        super().__init__(network)
        self._factors = (roughness, heat_loss)
        self._perturb()

    def _perturb(self) -> None:
        roughness, heat_loss = self._factors
        for side in (self.index.supply_pipe, self.index.return_pipe):
            self.net.pipe.loc[side, "k_mm"] = self.net.pipe.loc[side, "k_mm"].to_numpy() * roughness
            self.net.pipe.loc[side, "u_w_per_m2k"] = self.net.pipe.loc[side, "u_w_per_m2k"].to_numpy() * heat_loss

    def set_calibration(self, calibration):
        super().set_calibration(calibration)     # back to the design values …
        if self._factors is not None:
            self._perturb()                       # … then the plant's own

    def set_outdoor(self, t_c: float) -> None:
        super().set_outdoor(t_c)
        self.net.pipe["text_k"] = soil_temperature_c(self.outdoor_c) + 273.15


class _Losses:
    """Seepage on both sides at the plant's own points, peaking at its own hour, with a slow walk."""

    def __init__(self, pipe_ids, rng: np.random.Generator, *, share: float = LOSS_SHARE, n_points: int = 16):
        self.pipes = rng.choice(np.asarray(pipe_ids, dtype=str), size=min(n_points, len(pipe_ids)), replace=False)
        self.sides = rng.choice(["supply", "return"], size=len(self.pipes))
        self.weights = rng.dirichlet(np.ones(len(self.pipes)))
        self.peak_h, self.share, self.rng, self.walk = float(rng.uniform(19.0, 22.0)), share, rng, 0.0

    def rows(self, at: pd.Timestamp, circulating_t_h: float) -> pd.DataFrame:
        hour = local_hour_of(at)
        evening = 0.5 * np.exp(-((hour - self.peak_h) ** 2) / 4.0)
        morning = 0.15 * np.exp(-((hour - 7.5) ** 2) / 2.0)
        self.walk = float(np.clip(0.98 * self.walk + self.rng.normal(0.0, 0.015), -0.2, 0.2))
        total = self.share * circulating_t_h * (1.0 + evening + morning + self.walk)
        return pd.DataFrame({"pipe_id": self.pipes, "side": self.sides, "rate_t_h": total * self.weights,
                             "position": 0.5})


class IndependentPlant(VirtualPlant):
    """``VirtualPlant`` on a network that differs from the twin's (see the module's note).

    ``seed`` is the bench's seed; the plant draws from ``seed + PLANT_SEED_OFFSET``. ``drifting``
    is a frame of the sensors made to drift (sensor_id, per_day)."""

    def __init__(self, network, households, weather, *, faults=(), seed: int = 7, noise: bool = True):
        own = seed + PLANT_SEED_OFFSET
        super().__init__(network, households, weather, faults=faults, seed=own, noise=noise, background_loss=False)
        rng = np.random.default_rng(own)
        n_pipes = len(network.pipes)
        roughness = np.exp(rng.uniform(*np.log(ROUGHNESS_FACTOR), n_pipes))
        heat_loss = np.exp(rng.uniform(*np.log(HEAT_LOSS_FACTOR), n_pipes))
        self.twin = _PlantTwin(network, roughness, heat_loss)
        self.pipe_factors = pd.DataFrame({"roughness": roughness, "heat_loss": heat_loss},
                                         index=network.pipes["id"].astype(str).to_numpy())
        n_st = len(self.stations)
        self.demand_bias = rng.uniform(-DEMAND_BIAS, DEMAND_BIAS, n_st)
        self.demand_swing = rng.uniform(-DEMAND_SWING, DEMAND_SWING, n_st)
        self.demand_phase_h = rng.uniform(0.0, 24.0, n_st)
        self.return_offset_k = rng.uniform(-RETURN_OFFSET_K, RETURN_OFFSET_K, n_st)
        self.return_swing_k = rng.uniform(-RETURN_SWING_K, RETURN_SWING_K, n_st)
        self.losses = _Losses(network.pipes["id"], rng) if noise else None
        self.drifting = self._make_drifting(rng) if noise else pd.DataFrame(columns=["sensor_id", "per_day"])

    def _make_drifting(self, rng) -> pd.DataFrame:
        """A few station supply-temperature and flow meters that drift (what the twin predicts, so their
        residual shows it; a return temperature or heat meter is the twin's input); none of them stuck."""
        realism = self.realism
        realism.drift_rate[:] = 0.0
        kinds = pd.Series(self.kinds)
        on_station = pd.Series(self.sensor_ids).str.startswith("S-ST-")
        pool = np.flatnonzero((kinds.isin(["t_supply", "flow"]) & on_station).to_numpy()
                              & ~realism.stuck)
        chosen = rng.choice(pool, size=min(DRIFTING_SENSORS, len(pool)), replace=False)
        per_day = rng.uniform(*DRIFT_PER_DAY, len(chosen)) * rng.choice([-1.0, 1.0], len(chosen))
        realism.drift_rate[chosen] = per_day / 86400.0
        return pd.DataFrame({"sensor_id": self.sensor_ids[chosen], "per_day": per_day})

    @property
    def stuck_sensors(self) -> list[str]:
        return self.sensor_ids[self.realism.stuck].tolist()

    def _control(self, at: pd.Timestamp, outdoor_c: float, dt_s: float) -> pd.Series:
        curve = super()._control(at, outdoor_c, dt_s)
        hour = local_hour_of(at)
        wave = np.sin(2.0 * np.pi * (hour - self.demand_phase_h) / 24.0)
        demand = curve * (1.0 + self.demand_bias + self.demand_swing * wave)
        t_return = self.stations["t_return_c"].astype(float) + self.return_offset_k + self.return_swing_k * wave
        self.twin.set_station_demand(pd.DataFrame({"heat_mw": demand, "t_return_c": t_return}))
        self.circulating_t_h *= float(demand.sum() / curve.sum())
        return demand
