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
- a few healthy-looking meters that drift (°C or t/h per day, either sign), to score the drift rule;
- a hydraulic imbalance (``hydraulic_factor``): every station's valve was set at commissioning for one
  differential pressure, but sees the one of its place in the network, so it passes
  ``sqrt(dp / dp_set)`` × the flow it was set for (× a hand-setting scatter of its own, ``VALVE_SCATTER``):
  near the plants more than its rooms need, at the far end less. Its heat is that flow × its temperature
  drop (the station's return is its own), and its valve wide open passes that share of its full flow too;
  a balancing share (``heat_ratio``) re-sets the valve. The stations' dp are the plant's own solve at
  design conditions, the valve settings are then fixed (a lower lift does not re-balance the network);
- the utility's answer to the far end's complaints: its heating curve shifted ``curve_shift_k`` colder
  (supply temperature and the stations' heat schedule both as if the air were that much colder), tuned so
  that the coldest stations' rooms (the tenth of the heat with the smallest factor) sit near
  ``COLD_END_ROOM_C`` at 0 °C outside; the near ones run warm.

It is a bench fixture, not product physics: nothing in ``twin/`` uses it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin.clock import local_hour_of
from twin.control.transport import deliverable_mw, station_paths
from twin.model import Twin
from twin.plant.control import station_heat_mw
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
VALVE_SCATTER = 0.03                # a station valve's hand setting off by this (log-normal σ)
COLD_END_ROOM_C = 18.3              # where the utility's curve leaves the coldest stations' rooms (complaints)
COLD_END_SHARE = 0.10               # … the tenth of the heat with the smallest hydraulic factor


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
    is a frame of the sensors made to drift (sensor_id, per_day). ``imbalance``: the hydraulic imbalance
    and the utility's shifted curve (the control bench; off, the plant the leaks bench was measured on)."""

    def __init__(self, network, households, weather, *, faults=(), seed: int = 7, noise: bool = True,
                 imbalance: bool = False):
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
        self.curve_shift_k = 0.0
        self.hydraulic_factor = pd.Series(1.0, index=self.stations.index)
        if imbalance:
            # A generator of its own: the plant's other draws stay those the leaks bench was measured on.
            scatter = np.random.default_rng([own, 1]).normal(0.0, VALVE_SCATTER, n_st)
            self._commission(pd.Series(np.exp(scatter), index=self.stations.index))

    def _commission(self, scatter: pd.Series) -> None:
        """The stations' valves set at design conditions (each off by its ``scatter``), then the utility's
        curve shifted for the far end."""
        design = self.network.design
        at = pd.Timestamp("2026-01-15 04:00", tz="UTC")        # noon, local
        self._control(at, float(design.design_outdoor_c), 3600.0)
        self.twin.set_leaks(None)
        dp_bar = self._solve().stations["dp_bar"].reindex(self.stations.index).clip(lower=0.01)
        self.lagged_outdoor_c, self._trim = None, None
        heat = self.stations["design_heat_mw"].astype(float)
        # The one dp all valves were set for: the one at which the stations pass their heat in all.
        dp_set = float((heat * np.sqrt(dp_bar)).sum() / heat.sum()) ** 2
        self.hydraulic_factor = np.sqrt(dp_bar / dp_set) * scatter
        self.curve_shift_k = self._shift_for_cold_end()

    def _shift_for_cold_end(self, outdoor_c: float = 0.0) -> float:
        """K colder the curve runs so the coldest stations' median room is ``COLD_END_ROOM_C`` at ``outdoor_c``:
        a room at delivered/needed ratio r sits at t_out + r (t_in − t_out) + its offset (``RoomModel``), and a
        curve Δ colder asks (t_in − t_out + Δ)/(t_in − t_out) of the heat."""
        factor = self.hydraulic_factor.sort_values()
        heat = self.stations["design_heat_mw"].astype(float).reindex(factor.index)
        cold = factor.index[(heat.cumsum() / heat.sum()) <= COLD_END_SHARE]
        cold = cold if len(cold) else factor.index[:1]
        offset_k = float(np.median(self.rooms.offset_k[np.isin(self.rooms.station_ids, cold)])) \
            if np.isin(self.rooms.station_ids, cold).any() else 0.0
        span_k = self.network.design.design_indoor_c - outdoor_c
        h_cold = float(factor[cold].median())
        return max((COLD_END_ROOM_C - offset_k - outdoor_c) / h_cold - span_k, 0.0)

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

    def curve_heat_mw(self, outdoor_c: float, local_hour: float) -> np.ndarray:
        """Per station the heat the utility's (shifted) curve schedules at ``outdoor_c``, before its own bias, MW."""
        return station_heat_mw(self.stations["design_heat_mw"].astype(float).to_numpy(),
                               outdoor_c - self.curve_shift_k, local_hour, self.network.design)

    def _control(self, at: pd.Timestamp, outdoor_c: float, dt_s: float) -> pd.Series:
        """The utility's curve, ``curve_shift_k`` colder than the air (supply and station schedules); returns
        what the stations' buildings need (the unshifted degree-hour law with the station's own bias)."""
        scheduled = super()._control(at, outdoor_c - self.curve_shift_k, dt_s)
        self.twin.set_outdoor(outdoor_c)    # the pipes lie in the real weather
        hour = local_hour_of(at)
        wave = np.sin(2.0 * np.pi * (hour - self.demand_phase_h) / 24.0)
        own = 1.0 + self.demand_bias + self.demand_swing * wave
        need = pd.Series(station_heat_mw(self.stations["design_heat_mw"].astype(float).to_numpy(), outdoor_c,
                                         hour, self.network.design), index=self.stations.index) * own
        t_return = self.stations["t_return_c"].astype(float) + self.return_offset_k + self.return_swing_k * wave
        self.twin.set_station_demand(pd.DataFrame({"heat_mw": scheduled * own, "t_return_c": t_return}))
        self.circulating_t_h *= float((scheduled * own).sum() / scheduled.sum())
        return need

    def _delayed_delivery(self, at: pd.Timestamp) -> None:
        """Each station passes its scheduled heat × its share × its hydraulic factor (the flow its valve
        passes at its dp, at the temperature drop it was set for), at most what that valve wide open passes
        at the inlet it feels (the sources' of τ hours ago, less the pipes' loss)."""
        self.delay_line.record(at, self.t_supply_set_c)
        ids = self.twin.index.station_ids
        scheduled_mw = pd.Series(self.twin.demand_w / 1e6, index=ids)
        factor = self.hydraulic_factor.reindex(ids).fillna(1.0)
        ratio = self.setpoints.at(at).heat_ratio.reindex(ids).fillna(1.0)
        wanted_mw = scheduled_mw * ratio * factor
        if self.last_result is not None:
            paths = station_paths(self.twin, self.last_result)
            self.station_inlet_c = self.delay_line.inlet_c(at, paths)
            open_t_h = self.station_max_flow_t_h.reindex(ids).to_numpy() * factor.to_numpy()
            can_mw = deliverable_mw(self.station_inlet_c.to_numpy(), paths["t_return_c"].to_numpy(), open_t_h)
            wanted_mw = wanted_mw.where(~np.isfinite(can_mw), np.minimum(wanted_mw, can_mw))
        self.twin.set_station_demand(pd.DataFrame({"heat_mw": wanted_mw}))
