"""The virtual plant's clock: each step sets weather, control and faults on its own twin, solves,
and turns the true state into readings the way field sensors would send them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin import units
from heattwin.clock import local_hour_of
from layers.network import Network
from twin.dispatch import PressureHoldingDispatch
from twin.model import Twin, TwinDidNotConverge
from twin.observe import SensorMap
from twin.plant.control import fixed_flow_dispatch_t_h, lagged_outdoor_c, station_heat_mw, supply_setpoint_c
from twin.plant.faults import Fault
from twin.plant.losses import BackgroundLoss
from twin.plant.rooms import RoomModel
from twin.plant.sensors import SensorRealism


def _with_building_height(households: pd.DataFrame) -> pd.DataFrame:
    """Floors of each household's building (its highest recorded floor), for the top-floor penalty."""
    floors = households.groupby(["community_id", "building"])["floor"].transform("max")
    return households.assign(floors=floors.fillna(6))


class VirtualPlant:
    """A stand-in for SCADA and IoT: ``step(at, dt_s)`` returns the readings sent at ``at``.

    Parameters
    ----------
    network : the network the plant runs (its own twin is built from it).
    households : households with collectors (id, community_id, station_id, building, floor, sensor_id).
    weather : an object with ``temperature_c(times)``.
    faults : injected faults; each acts while ``fault.active(at)``.
    calibration : multipliers that make the plant's pipes differ from their design values.
    """

    def __init__(self, network: Network, households: pd.DataFrame, weather, *, faults: list[Fault] = (),
                 seed: int = 7, noise: bool = True, calibration: dict | None = None,
                 background_loss: bool = True):
        self.network = network
        self.weather = weather
        self.faults = list(faults)
        self.twin = Twin(network)
        if calibration:
            # The plant's "true" network may differ from the twin's design values (aged pipes).
            self.twin.set_calibration(calibration)
        sensors = network.sensors.reset_index(drop=True)
        self.sensor_ids = sensors["id"].astype(str).to_numpy()
        self.kinds = sensors["kind"].astype(str).to_numpy()
        self.sensor_map = SensorMap(sensors, network.stations)
        self.realism = SensorRealism(sensors, seed=seed, noise=noise)
        collectors = households[households["sensor_id"].notna()].reset_index(drop=True)
        self.rooms = RoomModel(_with_building_height(collectors), seed=seed)
        self.room_sensor_ids = collectors["sensor_id"].astype(str).to_numpy()
        self.stations = network.stations.set_index(network.stations["id"].astype(str))
        self.started_at: pd.Timestamp | None = None
        self.lagged_outdoor_c: float | None = None
        self.last_result = None
        sources = network.sources.set_index(network.sources["id"].astype(str))
        fixed_flow = sources["role"].astype(str) == "fixed_flow"
        self.held_pressure_bar = pd.to_numeric(sources.loc[fixed_flow, "p_flow_bar"], errors="coerce").fillna(12.0)
        self.max_flow_t_h = 1.2 * pd.to_numeric(sources.loc[fixed_flow, "flow_t_h"], errors="coerce")
        self.dispatch = PressureHoldingDispatch()
        self._trim = None   # (dispatched flows, trimmed flows, Jacobian) of the last step
        self.losses = BackgroundLoss(network.pipes["id"], seed=seed) if background_loss else None

    def _control(self, at: pd.Timestamp, outdoor_c: float, dt_s: float) -> pd.Series:
        self.lagged_outdoor_c = outdoor_c if self.lagged_outdoor_c is None else \
            lagged_outdoor_c(self.lagged_outdoor_c, outdoor_c, dt_s)
        local_hour = local_hour_of(at)  # occupancy follows local time
        design_mw = self.stations["design_heat_mw"].astype(float)
        demand = pd.Series(station_heat_mw(design_mw.to_numpy(), outdoor_c, local_hour), index=self.stations.index)
        t_supply_c = float(supply_setpoint_c(self.lagged_outdoor_c))
        sources = pd.DataFrame({"t_supply_c": t_supply_c,
                                "flow_t_h": self._fixed_flows_t_h(demand.sum() / design_mw.sum(), t_supply_c)},
                               index=self.network.sources["id"].astype(str))
        self.dispatched_t_h = sources["flow_t_h"]
        delta_t_k = max(t_supply_c - float(self.stations["t_return_c"].astype(float).mean()), 10.0)
        self.circulating_t_h = units.kg_per_s_to_t_h(units.mdot_for_heat_kg_per_s(units.mw_to_w(demand.sum()),
                                                                                  delta_t_k))
        self.twin.set_outdoor(outdoor_c)
        self.twin.set_sources(sources)
        self.twin.set_station_demand(pd.DataFrame({"heat_mw": demand,
                                                   "t_return_c": self.stations["t_return_c"].astype(float)}))
        return demand

    def _fixed_flows_t_h(self, load_ratio: float, t_supply_c: float) -> np.ndarray:
        """Dispatch: plants on fixed flow follow the load, the pressure-holding plant takes the rest."""
        return fixed_flow_dispatch_t_h(pd.to_numeric(self.network.sources["flow_t_h"], errors="coerce"),
                                       load_ratio, t_supply_c, self.stations["t_return_c"].astype(float).mean())

    def _apply_faults(self, at: pd.Timestamp) -> None:
        active = [f for f in self.faults if f.active(at)]
        by_kind = {kind: [f for f in active if f.kind == kind] for kind in
                   ("leak", "pump_trip", "valve_closed", "fouling", "collector_offline")}
        leaks = pd.DataFrame(
            [{"pipe_id": f.element_id, "side": f.params["side"], "rate_t_h": float(f.params["rate_t_h"]),
              "position": float(f.params["position"])} for f in by_kind["leak"]],
            columns=["pipe_id", "side", "rate_t_h", "position"])
        if self.losses is not None:
            losses = self.losses.rows(at, self.circulating_t_h)
            leaks = pd.concat([leaks, losses], ignore_index=True) if len(leaks) else losses
        self.twin.set_leaks(leaks)
        self.twin.set_source_out({f.element_id for f in by_kind["pump_trip"]})
        self.twin.set_valves({f.element_id for f in by_kind["valve_closed"]})
        self.twin.set_station_capacity(pd.Series(
            {f.element_id: float(f.params["capacity_share"]) for f in by_kind["fouling"]}, dtype=float))
        self.realism.offline[:] = False
        self.realism.set_offline({f.element_id for f in by_kind["collector_offline"]})

    def _solve(self):
        """Solve with the fixed-flow plants trimmed to hold their outlet pressure (``twin.dispatch``),
        starting from the last step's trim scaled by the change in dispatched flow."""
        twin = self.twin
        islanded = set(twin.index.source_ids[list(twin.islanded)])
        held = self.held_pressure_bar[[s for s in self.held_pressure_bar.index
                                       if s not in twin.sources_out and s not in islanded]]
        flows, jacobian = self.dispatched_t_h.copy(), None
        if self._trim is not None:
            dispatched, trimmed, jacobian = self._trim
            flows = (trimmed * (self.dispatched_t_h / dispatched)).where(np.isfinite(trimmed), flows)

        def with_flows(f):
            twin.set_sources(pd.DataFrame({"flow_t_h": f}))
            return twin.solve()

        try:
            trim = self.dispatch.solve(with_flows, flows, held, max_flow_t_h=self.max_flow_t_h, jacobian=jacobian)
        except TwinDidNotConverge:
            if self._trim is None:
                raise
            # The last step's trim led nowhere here: start over from the dispatched flows.
            self._trim = None
            trim = self.dispatch.solve(with_flows, self.dispatched_t_h.copy(), held, max_flow_t_h=self.max_flow_t_h)
        self._trim = (self.dispatched_t_h, trim.flows, trim.jacobian)
        return trim.result

    def _truth(self, result, outdoor_c: float, demand: pd.Series, dt_s: float) -> np.ndarray:
        truth = self.sensor_map.predict(result).reindex(self.sensor_ids).to_numpy(dtype=float)
        truth[self.kinds == "outdoor_t"] = outdoor_c
        delivered = result.stations["heat_mw"].reindex(demand.index).fillna(0.0)
        rooms_c = self.rooms.step(dt_s, outdoor_c, delivered / demand)
        room_truth = pd.Series(rooms_c, index=self.room_sensor_ids)
        is_room = self.kinds == "room_t"
        truth[is_room] = room_truth.reindex(self.sensor_ids[is_room]).to_numpy(dtype=float)
        return truth

    def step(self, at, dt_s: float) -> pd.DataFrame:
        """Readings (time, sensor_id, value) the estate sends at ``at`` after ``dt_s`` seconds."""
        at = pd.Timestamp(at)
        self.started_at = self.started_at or at
        outdoor_c = float(self.weather.temperature_c([at])[0])
        self.twin.set_date(at)   # the plant's pipes age like the twin's: to the step's year
        demand = self._control(at, outdoor_c, dt_s)
        self._apply_faults(at)
        result = self._solve()
        self.last_result = result
        truth = self._truth(result, outdoor_c, demand, dt_s)
        values = self.realism.observe(truth, (at - self.started_at).total_seconds())
        sent = np.isfinite(values)
        return pd.DataFrame({"time": at, "sensor_id": self.sensor_ids[sent], "value": values[sent]})
