"""The ``Twin``: a network's pandapipes net built once, boundary values set between solves.

Usage::

    twin = Twin(network)
    twin.set_outdoor(-5.0)
    twin.set_sources(frame)          # index source id: t_supply_c, p_supply_bar, p_return_bar, flow_t_h
    twin.set_station_demand(frame)   # index station id: heat_mw, t_return_c
    result = twin.solve()            # TwinResult; raises TwinDidNotConverge

Boundary conventions (all documented choices):

- soil temperature around the pipes follows the outdoor air damped (``twin.pipes.soil_temperature_c``);
- the pipes' insulation has aged to the run's year (``set_date``; the year of "now" until one is set);
- a station's heat set-point is ``min(demand, capacity share × design heat)``, floored at
  ``MIN_STATION_HEAT_W`` so a zero demand stays a well-posed consumer;
- a leak at ``position`` x along a pipe (0 = from node, 1 = to node) draws (1 − x) of its rate at
  the from end and x at the to end (on the pipe's side of a section valve there): to first order
  that is what a sink x along the pipe does to the pressures elsewhere, and it tells a leak on
  this pipe from one on its neighbours; sinks are created once per junction and set to zero when
  the leak stops, so only a leak at a new place changes the structure (a fresh pipeflow);
- ``set_valves(closed)`` closes the given valves plus the normally-closed ones; ``opened``
  overrides the latter;
- a source feeding an island without the pressure source (valves closed between them, 解列)
  holds that island's pressure with its own make-up point;
- a tripped source (``set_source_out``) has its pump out of service (a fresh pipeflow); the make-up
  point keeps holding pressure even when the pressure source trips.
"""

from __future__ import annotations

import logging

import numpy as np
import pandapipes as pp
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from heattwin import units
from layers.network import Network
from twin.build import build_net
from twin.pipes import pipe_parameters, soil_temperature_c
from twin.results import TwinResult, make_result
from twin.solve import PipeflowNotConverged, WarmStart, fresh_pipeflow, iterations, resolve

log = logging.getLogger(__name__)

MIN_STATION_HEAT_W = 1e3


class TwinDidNotConverge(RuntimeError):
    """The solver found no solution for the current boundary values; ``Twin.last_result`` stays."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _year(at) -> int:
    return (pd.Timestamp.now(tz="UTC") if at is None else pd.Timestamp(at)).year


def _series(frame, column: str, ids: np.ndarray) -> np.ndarray:
    """Values of ``column`` aligned to ``ids`` (NaN where absent)."""
    if frame is None or column not in getattr(frame, "columns", []):
        return np.full(len(ids), np.nan)
    values = pd.to_numeric(frame[column], errors="coerce")
    values.index = values.index.astype(str)
    return values.groupby(level=0).last().reindex(ids).to_numpy(dtype=float)


class Twin:
    """The hydraulic + thermal twin of one network.

    Parameters
    ----------
    network : a validated ``layers.network.Network``.
    calibration : ``{"roughness": {zone: factor}, "heat_loss": {age class: factor}}``.
    at : the run's date (the insulation's age is counted to its year); None: now.
    """

    def __init__(self, network: Network, calibration: dict | None = None, *, at=None):
        self.network = network
        self.calibration = calibration
        self.reference_year = _year(at)
        self.net, self.index = build_net(network, calibration, reference_year=self.reference_year)
        for problem in self.index.problems:
            log.warning(problem)
        ix = self.index
        stations = network.stations
        self.design_heat_w = units.mw_to_w(
            pd.to_numeric(stations["design_heat_mw"], errors="coerce").fillna(3.0).to_numpy(dtype=float))
        self.demand_w = self.design_heat_w.copy()
        self.min_dp_bar = pd.to_numeric(stations["min_dp_bar"], errors="coerce").fillna(0.5).to_numpy(dtype=float)
        self.capacity_share = np.ones(len(ix.station_ids))
        normally_open = network.valves["normally_open"] if len(network.valves) else pd.Series([], dtype=object)
        open_flags = pd.Series(normally_open.to_numpy(), index=network.valves["id"].astype(str).to_numpy()
                               if len(network.valves) else [])
        self.normally_closed = {v for v, flag in open_flags.items() if str(flag).lower() in ("false", "0", "no")}
        self.closed_valves: set[str] = set()
        self.sources_out: set[str] = set()
        self.islanded: set[int] = set()   # source positions holding an island's pressure
        self.source_p_supply_bar = pd.to_numeric(network.sources["p_flow_bar"], errors="coerce").fillna(
            12.0).to_numpy(dtype=float)
        self.outdoor_c = 0.0
        self.leak_sinks: dict[int, int] = {}   # junction -> sink index
        self.last_result: TwinResult | None = None
        self._warm: WarmStart | None = None
        self._solved_structure = None
        self.set_valves(set())
        self.set_outdoor(self.outdoor_c)
        self._write_station_heat()

    # -- boundary setters ----------------------------------------------------------------------
    def set_outdoor(self, t_c: float) -> None:
        """Outdoor air temperature, °C; the pipes see the soil temperature derived from it."""
        self.outdoor_c = float(t_c)
        self.net.pipe["text_k"] = units.c_to_k(soil_temperature_c(self.outdoor_c, self.network.design))

    def set_date(self, at) -> None:
        """The run's date: the pipes' heat loss is that of insulation aged to its year."""
        year = _year(at)
        if year != self.reference_year:
            self.reference_year = year
            self.set_calibration(self.calibration)

    def set_calibration(self, calibration: dict | None) -> None:
        """Roughness multipliers per zone and heat-loss multipliers per age class (1 where absent)."""
        self.calibration = calibration
        params = pipe_parameters(self.network.pipes, calibration, reference_year=self.reference_year)
        for side in (self.index.supply_pipe, self.index.return_pipe):
            self.net.pipe.loc[side, "k_mm"] = params["k_mm"].to_numpy()
            self.net.pipe.loc[side, "u_w_per_m2k"] = params["u_w_per_m2k"].to_numpy()

    def set_sources(self, frame: pd.DataFrame) -> None:
        """Per source id, any of t_supply_c, p_supply_bar, p_return_bar (→ lift), flow_t_h; NaN = keep."""
        ix = self.index
        t_c = _series(frame, "t_supply_c", ix.source_ids)
        p_sup = _series(frame, "p_supply_bar", ix.source_ids)
        p_ret = _series(frame, "p_return_bar", ix.source_ids)
        flow = _series(frame, "flow_t_h", ix.source_ids)
        for k in range(len(ix.source_ids)):
            table = self.net[ix.pump_table[k]]
            pump = ix.pump[k]
            if np.isfinite(t_c[k]):
                table.at[pump, "t_flow_k"] = units.c_to_k(t_c[k])
            if np.isfinite(p_sup[k]):
                self.source_p_supply_bar[k] = p_sup[k]
            if ix.pump_table[k] == "circ_pump_mass":
                if np.isfinite(flow[k]):
                    table.at[pump, "mdot_flow_kg_per_s"] = units.t_h_to_kg_per_s(flow[k])
                self._set_standby(k, t_c[k], p_sup[k], p_ret[k])
                continue
            if ix.source_role[k] == "pressure" and np.isfinite(p_sup[k]):
                table.at[pump, "p_flow_bar"] = p_sup[k]
                self.net.ext_grid.at[ix.ext_grid, "p_bar"] = p_sup[k]
            supply = table.at[pump, "p_flow_bar"] if ix.source_role[k] == "pressure" else p_sup[k]
            if np.isfinite(p_ret[k]) and supply is not None and np.isfinite(supply):
                table.at[pump, "plift_bar"] = max(float(supply - p_ret[k]), 0.05)

    def _set_standby(self, k: int, t_c: float, p_sup: float, p_ret: float) -> None:
        """Boundary values of a fixed-flow source's stand-by pressure pump (used while islanded)."""
        standby = self.index.standby_pump[k]
        pumps = self.net.circ_pump_pressure
        if np.isfinite(t_c):
            pumps.at[standby, "t_flow_k"] = units.c_to_k(t_c)
        if np.isfinite(p_ret) and np.isfinite(self.source_p_supply_bar[k]):
            pumps.at[standby, "plift_bar"] = max(float(self.source_p_supply_bar[k] - p_ret), 0.05)

    def set_station_demand(self, frame: pd.DataFrame) -> None:
        """Per station id: heat_mw (demand) and t_return_c (secondary-controlled return); NaN = keep."""
        ix = self.index
        heat = _series(frame, "heat_mw", ix.station_ids)
        t_ret = _series(frame, "t_return_c", ix.station_ids)
        known = np.isfinite(heat)
        self.demand_w[known] = units.mw_to_w(np.maximum(heat[known], 0.0))
        known_t = np.isfinite(t_ret)
        self.net.heat_consumer.loc[ix.heat_consumer[known_t], "treturn_k"] = units.c_to_k(t_ret[known_t])
        self._write_station_heat()

    def set_station_capacity(self, shares) -> None:
        """Heat-exchanger capacity share per station id (fouling); stations not given get 1."""
        ix = self.index
        if isinstance(shares, pd.DataFrame):
            shares = shares.iloc[:, 0] if "share" not in shares.columns else shares["share"]
        values = pd.Series(shares, dtype=float)
        values.index = values.index.astype(str)
        self.capacity_share = values.reindex(ix.station_ids).fillna(1.0).clip(0.0, 1.0).to_numpy()
        self._write_station_heat()

    def _write_station_heat(self) -> None:
        capped = np.minimum(self.demand_w, self.capacity_share * self.design_heat_w)
        self.net.heat_consumer.loc[self.index.heat_consumer, "qext_w"] = np.maximum(capped, MIN_STATION_HEAT_W)

    def set_valves(self, closed, opened=()) -> None:
        """Close ``closed`` valve ids (plus the normally-closed ones not in ``opened``); open the rest."""
        ix = self.index
        closed = {str(v) for v in closed}
        unknown = closed - set(ix.valve_ids)
        if unknown:
            log.warning("set_valves: unknown valve ids ignored: %s", sorted(unknown)[:5])
        self.closed_valves = (closed | self.normally_closed) - {str(v) for v in opened}
        is_open = ~np.isin(ix.valve_ids, list(self.closed_valves))
        if len(ix.valve_ids):
            # Two valve features on one pipe end share a pandapipes valve: closed if either is.
            state = pd.Series(is_open).groupby(ix.supply_valve).all()
            self.net.valve.loc[state.index, "opened"] = state.to_numpy()
            rstate = pd.Series(is_open).groupby(ix.return_valve).all()
            self.net.valve.loc[rstate.index, "opened"] = rstate.to_numpy()

    def set_source_out(self, ids) -> None:
        """Sources whose pumps tripped: they deliver nothing until cleared (call with the new set)."""
        ix = self.index
        self.sources_out = {str(s) for s in ids} & set(ix.source_ids)
        self._island_pressure_holding()

    def set_leaks(self, frame: pd.DataFrame | None) -> None:
        """Leaks: rows of pipe_id, side ('supply'|'return'), rate_t_h, position (0 from … 1 to)."""
        ix = self.index
        rates: dict[int, float] = {}
        if frame is not None and len(frame):
            pipe_pos = pd.Index(ix.pipe_ids).get_indexer(frame["pipe_id"].astype(str))
            position = pd.to_numeric(frame.get("position", 0.5), errors="coerce")
            position = np.broadcast_to(np.asarray(position, dtype=float), len(frame))
            for p, side, rate, pos in zip(pipe_pos, frame["side"].astype(str), frame["rate_t_h"], position,
                                          strict=True):
                if p < 0:
                    log.warning("set_leaks: unknown pipe ignored")
                    continue
                ends = ix.supply_pipe_ends if side == "supply" else ix.return_pipe_ends
                share = min(max(float(pos), 0.0), 1.0) if np.isfinite(pos) else 0.5
                for junction, part in ((int(ends[p, 0]), 1.0 - share), (int(ends[p, 1]), share)):
                    if part > 0:
                        rates[junction] = rates.get(junction, 0.0) + part * units.t_h_to_kg_per_s(float(rate))
        for junction in rates.keys() - self.leak_sinks.keys():
            self.leak_sinks[junction] = int(pp.create_sink(self.net, junction, mdot_kg_per_s=0.0, name="leak"))
        for junction, sink in self.leak_sinks.items():
            self.net.sink.at[sink, "mdot_kg_per_s"] = rates.get(junction, 0.0)

    # -- solving -------------------------------------------------------------------------------
    @property
    def warm_state(self) -> WarmStart | None:
        """The last converged solution the next solve starts from."""
        return self._warm

    def start_from(self, warm: WarmStart | None) -> None:
        """Start the next solve from ``warm`` (an earlier ``warm_state``): many variants of one state
        solve faster from that state than from whichever variant was solved last."""
        if warm is not None and self._warm is not None:
            self._warm = warm
    def _island_pressure_holding(self) -> tuple:
        """Switch on the pressure holding of one source per island cut off from the pressure source."""
        ix = self.index
        n = len(ix.node_ids)
        cut = np.zeros(len(ix.pipe_ids), dtype=bool)
        closed = np.isin(ix.valve_ids, list(self.closed_valves))
        cut[ix.valve_pipe[closed]] = True
        graph = csr_matrix((np.ones(int((~cut).sum())), (ix.pipe_from[~cut], ix.pipe_to[~cut])), shape=(n, n))
        _, label = connected_components(graph, directed=False)
        main = label[ix.source_node[ix.source_ids == ix.pressure_source][0]]
        chosen: dict[int, int] = {}
        for k in np.argsort(ix.source_ids):
            if ix.source_ext_grid[k] < 0 or ix.source_ids[k] in self.sources_out:
                continue
            island = label[ix.source_node[k]]
            if island != main and island not in chosen:
                chosen[island] = k
        active = set(chosen.values())
        self.islanded = active
        for k, eg in enumerate(ix.source_ext_grid):
            running = ix.source_ids[k] not in self.sources_out
            standby = ix.standby_pump[k]
            islanded = k in active
            self.net[ix.pump_table[k]].at[ix.pump[k], "in_service"] = running and not (islanded and standby >= 0)
            if standby >= 0:
                self.net.circ_pump_pressure.at[standby, "in_service"] = running and islanded
                self.net.circ_pump_pressure.at[standby, "p_flow_bar"] = self.source_p_supply_bar[k]
            if eg < 0:
                continue
            self.net.ext_grid.at[eg, "in_service"] = islanded
            self.net.ext_grid.at[eg, "p_bar"] = self.source_p_supply_bar[k]
            if ix.pump_table[k] == "circ_pump_pressure":
                # A fixed-head pump alone gives an island no pressure level: while islanded it
                # holds its supply pressure like the main plant ("pt"); that converged, a "t" pump
                # plus a make-up point alone did not.
                pumps = self.net.circ_pump_pressure
                pumps.at[ix.pump[k], "type"] = "pt" if islanded else "t"
                pumps.at[ix.pump[k], "p_flow_bar"] = self.source_p_supply_bar[k] if islanded else np.nan
        return tuple(sorted(active))

    def _structure(self) -> tuple:
        return (len(self.net.sink), tuple(sorted(self.sources_out)), self._island_pressure_holding())

    def solve(self) -> TwinResult:
        """Solve with the current boundary values; re-uses the last structure and solution."""
        if len(self.sources_out) == len(self.index.source_ids):
            raise TwinDidNotConverge("every source is out of service")
        structure = self._structure()
        try:
            if self._warm is None:
                fresh_pipeflow(self.net)
            else:
                resolve(self.net, self._warm, trusted=structure == self._solved_structure)
        except (PipeflowNotConverged, np.linalg.LinAlgError, ValueError, UserWarning) as exc:
            self._solved_structure, self._warm = None, None  # next time start clean
            raise TwinDidNotConverge(f"{type(exc).__name__}: {exc}") from exc
        self._solved_structure = structure
        self._warm = WarmStart.from_net(self.net)
        result = make_result(self, iterations(self.net))
        self.last_result = result
        return result
