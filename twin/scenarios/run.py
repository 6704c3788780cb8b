"""Running what-if scenarios: the base state and the scenario solved by one twin, compared.

``ScenarioRunner(network)`` builds the twin once; ``run(scenario)`` resets it to the scenario's
base, solves (cached per base), applies the changes, solves again and returns a
``ScenarioResult`` of the differences. Only ``new_station`` changes the network itself; such a
scenario gets a twin of its own.

Modelling choices (documented, tested):

- design base: demand from the heating curve and degree-hour method at the base's outdoor
  temperature and hour (``twin.plant.control``), plants dispatched like the virtual plant;
- an ``outdoor`` change re-derives demand, supply temperature and dispatch at the new temperature
  (design base), or scales the live demand by the degree-hour ratio (live base);
- pandapipes' heat consumers draw their flow whatever the differential pressure; a station below
  its minimum dp is scored as delivering ``sqrt(dp / min_dp)`` of its heat (a control valve wide
  open passes flow ∝ √dp), nothing at dp ≤ 0 — so ``heat_not_delivered_mw`` counts starved
  stations, not only cut-off ones;
- a station is ``low_p`` when its return pressure is under ``MIN_RETURN_PRESSURE_BAR``, and the
  scenario is not ``feasible`` when any pressure is negative (pandapipes solves it; water can't);
- a station is ``low_t`` when its supply temperature is more than ``LOW_T_MARGIN_K`` under the
  heating curve's setpoint for the scenario's outdoor temperature.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from layers.network import Network
from twin.dispatch import PressureHoldingDispatch
from twin.isolation import IsolationGraph
from twin.model import Twin, TwinDidNotConverge
from twin.plant.control import DESIGN_OUTDOOR_C, fixed_flow_dispatch_t_h, station_heat_mw, supply_setpoint_c
from twin.scenarios.spec import Base, Change, Scenario, ScenarioError

log = logging.getLogger(__name__)
LOW_T_MARGIN_K = 10.0
MIN_RETURN_PRESSURE_BAR = 0.5  # under this, water at 50–70 °C draws air in or boils off at high points
UNMET_SHARE = 0.05    # a station is short when it passes 5 % of its demand less than it needs
MAX_FLOW_SHARE = 1.2  # a fixed-flow plant's pumps deliver at most this share of its design flow


@dataclass
class LiveBase:
    """The live state a scenario can start from: the latest converged sync run's boundary."""
    at: str
    outdoor_c: float
    sources: pd.DataFrame   # index source id: t_supply_c, p_supply_bar, p_return_bar, flow_t_h
    stations: pd.DataFrame  # index station id: heat_mw, t_return_c

    @classmethod
    def from_run(cls, run: dict, states: pd.DataFrame) -> LiveBase:
        inputs = run.get("inputs") or {}
        sources = pd.DataFrame.from_dict(inputs.get("sources") or {}, orient="index").astype(float)
        stations = states[states["element_id"].astype(str).str.startswith("ST-")].set_index("element_id")
        return cls(str(inputs.get("at", run.get("started_at"))), float(inputs.get("outdoor_c", DESIGN_OUTDOOR_C)),
                   sources, stations[["heat_mw", "t_return_c"]].astype(float))


@dataclass
class _Boundary:
    """Everything a run sets on the twin."""
    outdoor_c: float
    sources: pd.DataFrame
    demand_mw: pd.Series
    t_return_c: pd.Series
    closed: set = field(default_factory=set)
    opened: set = field(default_factory=set)
    sources_out: set = field(default_factory=set)
    capacity: dict = field(default_factory=dict)
    leaks: list = field(default_factory=list)
    max_flow: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))  # fixed-flow plants' limits


@dataclass
class ScenarioResult:
    """A scenario against its base. Frames are indexed by element id; see ``ScenarioRunner``."""
    name: str
    summary: dict
    stations: pd.DataFrame
    pipes: pd.DataFrame
    sources: pd.DataFrame
    isolation: dict | None = None
    changes: list = field(default_factory=list)

    def affected_stations(self) -> pd.DataFrame:
        return self.stations[self.stations["affected"]].sort_values("heat_short_mw", ascending=False)

    def to_dict(self) -> dict:
        def records(frame):
            return frame.rename_axis("id").reset_index().replace({np.nan: None}).to_dict("records")
        return {"name": self.name, "summary": self.summary, "changes": self.changes, "isolation": self.isolation,
                "stations": records(self.stations), "sources": records(self.sources),
                "pipes": records(self.pipes)}

    def write_table(self, path) -> Path:
        """The result as CSV (affected stations first, every station) or Excel (one sheet each)."""
        path = Path(path)
        stations = self.stations.sort_values(["affected", "heat_short_mw"], ascending=False)
        if path.suffix.lower() == ".xlsx":
            with pd.ExcelWriter(path) as book:
                pd.Series(self.summary, name="value").rename_axis("figure").to_frame().to_excel(book, "summary")
                stations.rename_axis("station_id").to_excel(book, "stations")
                self.sources.rename_axis("source_id").to_excel(book, "sources")
                self.pipes.rename_axis("pipe_id").to_excel(book, "pipes")
        elif path.suffix.lower() == ".csv":
            stations.rename_axis("station_id").to_csv(path, encoding="utf-8-sig")  # BOM: Excel reads 中文
        else:
            raise ScenarioError(f"{path}: write .csv or .xlsx")
        return path


def _households_per_station(network: Network) -> pd.Series:
    communities = network.communities
    ids = network.stations["id"].astype(str)
    if communities is None or not len(communities):
        return pd.Series(0, index=ids)
    counts = pd.to_numeric(communities["households"], errors="coerce").fillna(0)
    return counts.groupby(communities["station_id"].astype(str).to_numpy()).sum().reindex(ids).fillna(0).astype(int)


def _source_design(network: Network) -> pd.DataFrame:
    sources = network.sources.set_index(network.sources["id"].astype(str))
    p_flow = pd.to_numeric(sources["p_flow_bar"], errors="coerce").fillna(12.0)
    lift = pd.to_numeric(sources["plift_bar"], errors="coerce").fillna(6.0)
    return pd.DataFrame({"role": sources["role"].astype(str), "p_supply_bar": p_flow, "p_return_bar": p_flow - lift,
                         "flow_t_h": pd.to_numeric(sources["flow_t_h"], errors="coerce")})


class ScenarioRunner:
    """Runs scenarios on one network; the twin is built once and reused for every run.

    Parameters
    ----------
    network : the network (``layers.network.Network``).
    live : the ``LiveBase`` for scenarios whose base is ``live`` (None: such scenarios are refused).
    calibration : the twin's calibration multipliers.
    """

    def __init__(self, network: Network, *, live: LiveBase | None = None, calibration: dict | None = None):
        self.network = network
        self.live = live
        self.calibration = calibration
        self.twin = Twin(network, calibration)
        self.stations = network.stations.set_index(network.stations["id"].astype(str))
        self.design_mw = pd.to_numeric(self.stations["design_heat_mw"], errors="coerce").fillna(3.0)
        self.design = network.design   # the network's own curve and design conditions
        self.min_dp_bar = pd.to_numeric(self.stations["min_dp_bar"], errors="coerce").fillna(
            self.design.min_station_dp_bar)
        self.design_t_return = pd.to_numeric(self.stations["t_return_c"], errors="coerce").fillna(
            self.design.design_return_c)
        self.households = _households_per_station(network)
        self.source_design = _source_design(network)
        self._isolation: IsolationGraph | None = None
        self._base_cache: dict = {}
        self.dispatch = PressureHoldingDispatch()
        design_flow = self.source_design["flow_t_h"]
        self.fixed_flow_ids = list(design_flow.index[self.source_design["role"] == "fixed_flow"])
        self.max_flow_t_h = (MAX_FLOW_SHARE * design_flow[self.fixed_flow_ids]).astype(float)
        self.idle_in_base: set[str] = set()  # stations a scenario adds: no demand in the base

    @property
    def isolation_graph(self) -> IsolationGraph:
        if self._isolation is None:
            self._isolation = IsolationGraph(self.network)
        return self._isolation

    # -- boundaries ------------------------------------------------------------------------------
    def _design_boundary(self, outdoor_c: float, hour: float) -> _Boundary:
        demand = pd.Series(station_heat_mw(self.design_mw.to_numpy(), outdoor_c, hour, self.design),
                           index=self.design_mw.index)
        demand[list(self.idle_in_base)] = 0.0
        t_supply = float(supply_setpoint_c(outdoor_c, self.design))
        flows = fixed_flow_dispatch_t_h(self.source_design["flow_t_h"], float(demand.sum() / self.design_mw.sum()),
                                        t_supply, float(self.design_t_return.mean()))
        sources = self.source_design[["p_supply_bar", "p_return_bar"]].assign(t_supply_c=t_supply,
                                                                              flow_t_h=np.asarray(flows))
        return _Boundary(outdoor_c, sources, demand, self.design_t_return.copy(), max_flow=self.max_flow_t_h.copy())

    def _live_boundary(self) -> _Boundary:
        if self.live is None:
            raise ScenarioError("base live: no converged twin run yet (start the sync loop, or use a design base)")
        live = self.live
        sources = live.sources.reindex(self.source_design.index)
        for column in ("p_supply_bar", "p_return_bar"):
            sources[column] = sources.get(column, pd.Series(np.nan, index=sources.index)).fillna(
                self.source_design[column])
        demand = live.stations["heat_mw"].reindex(self.design_mw.index).fillna(self.design_mw * 0.0)
        t_return = live.stations["t_return_c"].reindex(self.design_mw.index).fillna(self.design_t_return)
        return _Boundary(live.outdoor_c, sources, demand, t_return, max_flow=self.max_flow_t_h.copy())

    def base_boundary(self, base: Base) -> _Boundary:
        if base.kind == "live":
            return self._live_boundary()
        return self._design_boundary(self.design.design_outdoor_c if base.outdoor_c is None else base.outdoor_c,
                                     base.hour)

    def _with_outdoor(self, boundary: _Boundary, base: Base, t_c: float) -> _Boundary:
        if base.kind == "design":
            fresh = self._design_boundary(t_c, base.hour)
            # The base's trimmed flows are a better first guess than the design dispatch.
            fresh.sources[["p_supply_bar", "p_return_bar", "flow_t_h"]] = boundary.sources[
                ["p_supply_bar", "p_return_bar", "flow_t_h"]]
            return replace(fresh, t_return_c=boundary.t_return_c)
        indoor_c = self.design.design_indoor_c
        ratio = np.clip((indoor_c - t_c) / max(indoor_c - boundary.outdoor_c, 1.0), 0.1, 3.0)
        sources = boundary.sources.assign(t_supply_c=float(supply_setpoint_c(t_c, self.design)))
        return replace(boundary, outdoor_c=t_c, demand_mw=boundary.demand_mw * ratio, sources=sources)

    # -- changes ---------------------------------------------------------------------------------
    def _check(self, change, ids, what: str) -> None:
        if change.element_id not in ids:
            raise ScenarioError(f"{change.describe()}: {change.element_id} is not a {what} of this network")

    def apply_changes(self, boundary: _Boundary, scenario: Scenario) -> tuple[_Boundary, dict | None]:
        """The scenario's boundary: the outdoor change first (it sets demand), then the others in order."""
        isolation = None
        for change in [c for c in scenario.changes if c.kind == "outdoor"]:
            boundary = self._with_outdoor(boundary, scenario.base, change.params["t_c"])
        boundary = replace(boundary, sources=boundary.sources.copy(), demand_mw=boundary.demand_mw.copy(),
                           closed=set(boundary.closed), opened=set(boundary.opened),
                           sources_out=set(boundary.sources_out), capacity=dict(boundary.capacity),
                           leaks=list(boundary.leaks), max_flow=boundary.max_flow.copy())
        for change in scenario.changes:
            isolation = self._apply(boundary, change) or isolation
        return boundary, isolation

    def _apply(self, b: _Boundary, change) -> dict | None:
        kind, eid, p = change.kind, change.element_id, change.params
        if kind in ("valve_close", "valve_open"):
            self._check(change, set(self.twin.index.valve_ids), "valve")
            (b.closed if kind == "valve_close" else b.opened).add(eid)
            (b.opened if kind == "valve_close" else b.closed).discard(eid)
        elif kind == "pipe_break":
            self._check(change, set(self.twin.index.pipe_ids), "pipe")
            isolation = self.isolation_graph.isolate(eid).to_dict()
            b.closed |= set(isolation["valves_to_close"])
            return isolation
        elif kind == "pipe_leak":
            self._check(change, set(self.twin.index.pipe_ids), "pipe")
            b.leaks.append({"pipe_id": eid, "side": p["side"], "rate_t_h": p["rate_t_h"], "position": p["position"]})
        elif kind.startswith("source_"):
            self._apply_source(b, change)
        elif kind == "station_demand":
            self._check(change, self.design_mw.index, "station")
            b.demand_mw[eid] = p["heat_mw"] if p["heat_mw"] == p["heat_mw"] else b.demand_mw[eid] * p["factor"]
        elif kind == "station_fouling":
            self._check(change, self.design_mw.index, "station")
            b.capacity[eid] = p["capacity_share"]
        return None

    def _apply_source(self, b: _Boundary, change) -> None:
        kind, eid, p = change.kind, change.element_id, change.params
        self._check(change, self.source_design.index, "source")
        role = self.source_design.at[eid, "role"]
        if kind == "source_out":
            b.sources_out.add(eid)
        elif kind == "source_t_supply":
            b.sources.at[eid, "t_supply_c"] = p["t_supply_c"]
        elif kind == "source_pressure":
            lift = b.sources.at[eid, "p_supply_bar"] - b.sources.at[eid, "p_return_bar"]
            b.sources.at[eid, "p_supply_bar"] = p["p_supply_bar"]
            b.sources.at[eid, "p_return_bar"] = p["p_supply_bar"] - lift
        elif role == "fixed_flow":  # source_derate: its pumps' limit; it holds pressure while it can
            b.max_flow[eid] = self.max_flow_t_h[eid] * p["share"]
            b.sources.at[eid, "flow_t_h"] = min(b.sources.at[eid, "flow_t_h"], b.max_flow[eid])
        elif role == "fixed_head":
            lift = b.sources.at[eid, "p_supply_bar"] - b.sources.at[eid, "p_return_bar"]
            b.sources.at[eid, "p_return_bar"] = b.sources.at[eid, "p_supply_bar"] - lift * p["share"]
        else:
            raise ScenarioError(f"{change.describe()}: {eid} holds the network's pressure; derate the other "
                                "plants, or take it out with source_out")

    # -- solving ---------------------------------------------------------------------------------
    def _set(self, b: _Boundary) -> None:
        twin = self.twin
        twin.set_outdoor(b.outdoor_c)
        twin.set_sources(b.sources)
        twin.set_station_demand(pd.DataFrame({"heat_mw": b.demand_mw, "t_return_c": b.t_return_c}))
        twin.set_station_capacity(pd.Series(b.capacity, dtype=float))
        twin.set_valves(b.closed, b.opened)
        twin.set_source_out(b.sources_out)
        twin.set_leaks(pd.DataFrame(b.leaks, columns=["pipe_id", "side", "rate_t_h", "position"]))

    def _held(self, b: _Boundary) -> pd.Series:
        """Outlet pressure each running, connected fixed-flow plant holds (see ``twin.dispatch``)."""
        islanded = set(self.twin.index.source_ids[list(self.twin.islanded)])
        ids = [s for s in self.fixed_flow_ids if s not in b.sources_out and s not in islanded]
        return b.sources.loc[ids, "p_supply_bar"].astype(float)

    def solve(self, b: _Boundary, jacobian=None):
        """The twin's result for boundary ``b``, its fixed-flow plants trimmed to hold their outlet
        pressure (``b.sources`` takes the trimmed flows); raises ``TwinDidNotConverge``."""
        self._set(b)

        def with_flows(flows):
            self.twin.set_sources(pd.DataFrame({"flow_t_h": flows}))
            return self.twin.solve()

        trim = self.dispatch.solve(with_flows, b.sources["flow_t_h"], self._held(b), max_flow_t_h=b.max_flow,
                                   jacobian=jacobian)
        b.sources["flow_t_h"] = trim.flows
        if not trim.held:
            log.info("plants could not hold their pressure within %d solves", trim.solves)
        return trim.result, trim.jacobian

    def _base(self, base: Base):
        """(boundary, result, plant Jacobian) of a base, solved once per base (live: every time)."""
        key = base.key()
        if key not in self._base_cache or base.kind == "live":
            boundary = self.base_boundary(base)
            result, jacobian = self.solve(boundary)
            self._base_cache[key] = (boundary, result, jacobian, self.twin.warm_state)
        return self._base_cache[key][:3]

    def run(self, scenario: Scenario) -> ScenarioResult:
        """Solve ``scenario`` and its base; a scenario the twin cannot solve gives ``converged`` False."""
        if any(c.kind == "new_station" for c in scenario.changes):
            return self._run_with_new_stations(scenario)
        try:
            base_boundary, base, jacobian = self._base(scenario.base)
        except TwinDidNotConverge as exc:
            raise ScenarioError(f"the base state does not solve: {exc.reason}") from exc
        boundary, isolation = self.apply_changes(base_boundary, scenario)
        self.twin.start_from(self._base_cache[scenario.base.key()][3])
        try:
            result, _ = self.solve(boundary, jacobian)
        except TwinDidNotConverge as exc:
            return self._failed(scenario, base, base_boundary, isolation, exc.reason)
        return compare(self, scenario, base, base_boundary, result, boundary, isolation)

    def _failed(self, scenario, base, base_boundary, isolation, reason: str) -> ScenarioResult:
        stations = pd.DataFrame(index=self.design_mw.index)
        summary = {"converged": False, "error": reason,
                   "heat_delivered_base_mw": delivered_mw(self, base, base_boundary.outdoor_c).sum()}
        return ScenarioResult(scenario.name, summary, stations, pd.DataFrame(), pd.DataFrame(), isolation,
                              [c.describe() for c in scenario.changes])

    def _run_with_new_stations(self, scenario: Scenario) -> ScenarioResult:
        """A scenario that connects new stations: a twin of the extended network, where the new
        stations draw nothing in the base and their load in the scenario."""
        from twin.scenarios.new_station import network_with_stations

        network, new_ids = network_with_stations(self.network, scenario.changes)
        runner = ScenarioRunner(network, live=self.live, calibration=self.calibration)
        runner.idle_in_base = set(new_ids)
        demands = [Change("station_demand", sid, {"heat_mw": c.params["heat_mw"], "factor": float("nan")})
                   for sid, c in zip(new_ids, [c for c in scenario.changes if c.kind == "new_station"], strict=True)]
        kept = [c for c in scenario.changes if c.kind != "new_station"]
        result = runner.run(replace(scenario, changes=kept + demands))
        result.changes = [c.describe() for c in scenario.changes]
        return result


def delivered_mw(runner: ScenarioRunner, result, outdoor_c: float) -> pd.Series:
    """Heat each station can deliver: the twin's, cut by √(dp/min dp) below the minimum dp."""
    st = result.stations
    dp = st["dp_bar"].to_numpy(dtype=float)
    min_dp = runner.min_dp_bar.reindex(st.index).to_numpy(dtype=float)
    share = np.where(np.isfinite(dp), np.sqrt(np.clip(dp / min_dp, 0.0, 1.0)), 0.0)
    return pd.Series(st["heat_mw"].to_numpy(dtype=float) * share, index=st.index)


def _flags(runner, result, outdoor_c: float) -> pd.DataFrame:
    """Per station: cut off, dp under its minimum, supply temperature under the curve, return pressure low."""
    st = result.stations
    cut = (st["status"] == "cut_off").to_numpy()
    setpoint = float(supply_setpoint_c(outdoor_c, runner.design))
    return pd.DataFrame({
        "cut_off": cut,
        "low_dp": ~cut & (st["dp_bar"].to_numpy() < runner.min_dp_bar.reindex(st.index).to_numpy()),
        "low_t": ~cut & (st["t_supply_c"].to_numpy() < setpoint - LOW_T_MARGIN_K),
        "low_p": ~cut & (st["p_return_bar"].to_numpy() < MIN_RETURN_PRESSURE_BAR),
    }, index=st.index)


def _station_frame(runner, base, base_boundary, result, boundary) -> pd.DataFrame:
    b, s = base.stations, result.stations
    flags = _flags(runner, result, boundary.outdoor_c)
    was = _flags(runner, base, base_boundary.outdoor_c).reindex(flags.index, fill_value=False)
    frame = pd.DataFrame({
        "name": runner.stations["name"].reindex(s.index).astype(str) if "name" in runner.stations else s.index,
        "heat_base_mw": delivered_mw(runner, base, base_boundary.outdoor_c),
        "heat_mw": delivered_mw(runner, result, boundary.outdoor_c), "demand_mw": s["demand_mw"],
        "dp_base_bar": b["dp_bar"], "dp_bar": s["dp_bar"],
        "t_supply_base_c": b["t_supply_c"], "t_supply_c": s["t_supply_c"], "p_return_bar": s["p_return_bar"],
        **{column: flags[column] for column in flags.columns},
        "households": runner.households.reindex(s.index).fillna(0).astype(int),
    }, index=s.index)
    frame["heat_short_mw"] = (frame["heat_base_mw"] - frame["heat_mw"]).clip(lower=0.0)
    frame["heat_unmet_mw"] = (frame["demand_mw"] - frame["heat_mw"]).clip(lower=0.0)
    # Exchangers are sized for the design load: a cold wave's extra demand is heat they cannot pass.
    frame["unmet"] = frame["heat_unmet_mw"] > UNMET_SHARE * frame["demand_mw"]
    unmet_before = (b["demand_mw"] - frame["heat_base_mw"]).clip(lower=0.0)
    newly_unmet = frame["heat_unmet_mw"] - unmet_before > UNMET_SHARE * frame["demand_mw"]
    # Affected by the scenario: a flag the base did not have, or heat it no longer gets.
    frame["affected"] = ((flags & ~was).any(axis=1) | (frame["heat_short_mw"] > 1e-3)
                         | newly_unmet)
    return frame


def _pipe_frame(runner, base, result) -> pd.DataFrame:
    ix = runner.twin.index

    def mean_p(nodes):
        p = nodes["p_supply_bar"].to_numpy(dtype=float)
        return 0.5 * (p[ix.pipe_from] + p[ix.pipe_to])

    b, s = base.pipes, result.pipes
    return pd.DataFrame({"d_p_supply_bar": mean_p(result.nodes) - mean_p(base.nodes),
                         "d_t_supply_c": s["t_supply_out_c"].to_numpy() - b["t_supply_out_c"].to_numpy(),
                         "d_flow_t_h": s["flow_t_h"].abs().to_numpy() - b["flow_t_h"].abs().to_numpy(),
                         "flow_t_h": s["flow_t_h"].to_numpy(), "status": s["status"].to_numpy()}, index=s.index)


def compare(runner, scenario, base, base_boundary, result, boundary, isolation) -> ScenarioResult:
    stations = _station_frame(runner, base, base_boundary, result, boundary)
    sources = pd.DataFrame({"heat_base_mw": base.sources["heat_mw"], "heat_mw": result.sources["heat_mw"],
                            "flow_base_t_h": base.sources["flow_t_h"], "flow_t_h": result.sources["flow_t_h"],
                            "makeup_t_h": result.sources["makeup_t_h"], "status": result.sources["status"]})
    delivered_base, delivered = float(stations["heat_base_mw"].sum()), float(stations["heat_mw"].sum())
    summary = {
        "converged": True, "base": scenario.base.kind, "outdoor_c": boundary.outdoor_c,
        "heat_delivered_base_mw": delivered_base, "heat_delivered_mw": delivered,
        "heat_not_delivered_mw": delivered_base - delivered,
        "heat_demand_mw": float(stations["demand_mw"].sum()),
        "heat_unmet_mw": float(stations["heat_unmet_mw"].sum()), "stations_unmet": int(stations["unmet"].sum()),
        "stations_affected": int(stations["affected"].sum()),
        "stations_cut_off": int(stations["cut_off"].sum()), "stations_low_dp": int(stations["low_dp"].sum()),
        "stations_low_t": int(stations["low_t"].sum()), "stations_low_p": int(stations["low_p"].sum()),
        # Negative pressures are not a state the network can be in: the twin's answer is "infeasible".
        "feasible": bool(result.summary["p_min_bar"] > 0.0),
        "households_affected": int(stations.loc[stations["affected"], "households"].sum()),
        "heat_produced_mw": float(result.summary["heat_produced_mw"]),
        "heat_produced_base_mw": float(base.summary["heat_produced_mw"]),
        "p_min_bar": float(result.summary["p_min_bar"]),
        "makeup_t_h": float(result.summary["makeup_t_h"]),
    }
    return ScenarioResult(scenario.name, summary, stations, _pipe_frame(runner, base, result), sources, isolation,
                          [c.describe() for c in scenario.changes])
