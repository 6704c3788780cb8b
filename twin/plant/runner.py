"""The virtual plant's clock: each step sets weather, control and faults on its own twin, solves,
and turns the true state into readings the way field sensors would send them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin import units
from heattwin.clock import local_hour_of
from layers.network import Network
from twin.control.setpoints import SetpointTable
from twin.control.transport import DelayLine, deliverable_mw, max_flow_t_h, station_paths
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
        self.sensor_elements = sensors["element_id"].astype(str).to_numpy()
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
        # Transport delay: stations feel the sources' supply temperature of τ hours ago (twin.control.transport).
        self.delay_line = DelayLine(self.network.sources["id"].astype(str))
        self.station_max_flow_t_h = pd.Series(
            max_flow_t_h(self.stations["design_heat_mw"].astype(float), self.stations["t_return_c"].astype(float),
                         t_design_c=network.design.design_supply_c), index=self.stations.index)
        self.station_inlet_c: pd.Series | None = None
        self.setpoints = SetpointTable()   # accepted setpoints (twin.control.adapter); empty: the heating curve
        self._base_p_supply_bar = pd.to_numeric(sources["p_flow_bar"], errors="coerce").fillna(12.0)
        self._base_lift_bar = pd.to_numeric(sources["plift_bar"], errors="coerce").fillna(6.0)

    def apply_setpoints(self, table: SetpointTable) -> None:
        """Follow ``table`` from now on (what the setpoint adapter delivers once a person accepted it)."""
        self.setpoints = table

    def _control(self, at: pd.Timestamp, outdoor_c: float, dt_s: float) -> pd.Series:
        self.lagged_outdoor_c = outdoor_c if self.lagged_outdoor_c is None else \
            lagged_outdoor_c(self.lagged_outdoor_c, outdoor_c, dt_s)
        local_hour = local_hour_of(at)  # occupancy follows local time
        design_mw = self.stations["design_heat_mw"].astype(float)
        design = self.network.design
        demand = pd.Series(station_heat_mw(design_mw.to_numpy(), outdoor_c, local_hour, design),
                           index=self.stations.index)
        t_supply_c = float(supply_setpoint_c(self.lagged_outdoor_c, design))
        held = self.setpoints.at(at)
        source_ids = self.network.sources["id"].astype(str)
        self.t_supply_set_c = held.t_supply_c.reindex(source_ids).fillna(t_supply_c).set_axis(source_ids)
        t_supply_c = float(self.t_supply_set_c.mean())
        sources = pd.DataFrame({"t_supply_c": self.t_supply_set_c.to_numpy(),
                                "flow_t_h": self._fixed_flows_t_h(demand.sum() / design_mw.sum(), t_supply_c)},
                               index=source_ids)
        self._set_lift(sources, held.lift_bar)
        self.dispatched_t_h = sources["flow_t_h"]
        delta_t_k = max(t_supply_c - float(self.stations["t_return_c"].astype(float).mean()), 10.0)
        self.circulating_t_h = units.kg_per_s_to_t_h(units.mdot_for_heat_kg_per_s(units.mw_to_w(demand.sum()),
                                                                                  delta_t_k))
        self.twin.set_outdoor(outdoor_c)
        self.twin.set_sources(sources)
        self.twin.set_station_demand(pd.DataFrame({"heat_mw": demand,
                                                   "t_return_c": self.stations["t_return_c"].astype(float)}))
        return demand

    def _set_lift(self, sources: pd.DataFrame, lift_bar: float | None) -> None:
        """The pressure-holding plant's lift (its return pressure kept): every supply pressure moves with it."""
        roles = self.network.sources["role"].astype(str).to_numpy()
        base_lift = self._base_lift_bar.to_numpy()[roles == "pressure"]
        shift = 0.0 if lift_bar is None or not len(base_lift) else float(lift_bar) - float(base_lift[0])
        sources["p_supply_bar"] = (self._base_p_supply_bar + shift).to_numpy()
        sources["p_return_bar"] = (self._base_p_supply_bar - self._base_lift_bar).to_numpy()
        self.held_pressure_bar = self._base_p_supply_bar[roles == "fixed_flow"] + shift

    def _delayed_delivery(self, at: pd.Timestamp) -> None:
        """Each station's heat as it can pass it now: its balancing share of the demand, at most what its
        valve passes at the inlet temperature it feels (the sources' of τ hours ago, less the pipes' loss)."""
        self.delay_line.record(at, self.t_supply_set_c)
        demand_mw = pd.Series(self.twin.demand_w / 1e6, index=self.twin.index.station_ids)
        ratio = self.setpoints.at(at).heat_ratio.reindex(demand_mw.index).fillna(1.0)
        wanted_mw = demand_mw * ratio
        if self.last_result is not None:
            paths = station_paths(self.twin, self.last_result)
            self.station_inlet_c = self.delay_line.inlet_c(at, paths)
            can_mw = deliverable_mw(self.station_inlet_c.to_numpy(), paths["t_return_c"].to_numpy(),
                                    self.station_max_flow_t_h.reindex(demand_mw.index).to_numpy())
            wanted_mw = wanted_mw.where(~np.isfinite(can_mw), np.minimum(wanted_mw, can_mw))
        self.twin.set_station_demand(pd.DataFrame({"heat_mw": wanted_mw}))

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
        if self.station_inlet_c is not None:
            # Station supply thermometers read the delayed inlet, not the steady solve's.
            on_station = (self.kinds == "t_supply") & np.isin(self.sensor_elements, self.station_inlet_c.index)
            inlet = self.station_inlet_c.reindex(self.sensor_elements[on_station]).to_numpy(dtype=float)
            truth[on_station] = np.where(np.isfinite(inlet), inlet, truth[on_station])
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
        self._delayed_delivery(at)
        self._apply_faults(at)
        result = self._solve()
        self.last_result = result
        truth = self._truth(result, outdoor_c, demand, dt_s)
        values = self.realism.observe(truth, (at - self.started_at).total_seconds())
        sent = np.isfinite(values)
        return pd.DataFrame({"time": at, "sensor_id": self.sensor_ids[sent], "value": values[sent]})
