"""``TwinResult``: the solved state in our ids and display units, read from pandapipes' res tables.

Frames are indexed by our string ids; no pandapipes index leaves here. Column names follow the
``twin_state`` table (``status``, ``p_supply_bar``, ``t_supply_c``, ``flow_t_h``, ``v_m_per_s``,
``dp_bar``, ``heat_mw``, ``heat_loss_kw``, ``delay_h`` …).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from heattwin import units

STATE_COLUMNS = ["element_id", "status", "p_supply_bar", "p_return_bar", "t_supply_c", "t_return_c",
                 "flow_t_h", "v_m_per_s", "dp_bar", "heat_mw", "heat_loss_kw", "delay_h"]
MAKEUP_WATER_C = 10.0  # treated make-up water enters cold; the plant heats it to supply temperature
MIN_VELOCITY_M_PER_S = 1e-6  # slower than this a pipe is stagnant: no transport through it


@dataclass
class TwinResult:
    """The solved network.

    nodes : index node id — p_supply_bar, p_return_bar, t_supply_c, t_return_c, status.
    pipes : index pipe id — flow_t_h (supply, + = from→to), v_m_per_s, dp_bar (supply, p_from − p_to),
        heat_loss_kw (supply + return), t_supply_in_c, t_supply_out_c (along the flow),
        flow_return_t_h (+ = from→to), status.
    stations : index station id — status ('normal'|'cut_off'), heat_mw delivered, demand_mw,
        flow_t_h, dp_bar (p_supply − p_return at the station), t_supply_c, t_return_c, delay_h,
        p_supply_bar, p_return_bar, dp_ok (dp_bar ≥ the station's min_dp_bar).
    sources : index source id — status, heat_mw, flow_t_h, t_supply_c, t_return_c, p_supply_bar,
        p_return_bar, makeup_t_h.
    summary : heat_produced_mw (= delivered + loss + leaked), heat_delivered_mw, heat_loss_mw,
        heat_leaked_mw, makeup_t_h, iterations, converged,
        stations_cut_off, stations_low_dp, p_min_bar.
    """
    nodes: pd.DataFrame
    pipes: pd.DataFrame
    stations: pd.DataFrame
    sources: pd.DataFrame
    summary: dict = field(default_factory=dict)

    def states(self) -> pd.DataFrame:
        """One row per node, pipe, station and source with the ``twin_state`` columns."""
        pipes = self.pipes.assign(t_supply_c=self.pipes["t_supply_out_c"])
        frames = [f.rename_axis("element_id").reset_index().reindex(columns=STATE_COLUMNS)
                  for f in (self.nodes, pipes, self.stations, self.sources)]
        return pd.concat(frames, ignore_index=True)


def _heat_w(net, mdot_kg_per_s, t_hot_k, t_cold_k) -> np.ndarray:
    """Heat carried by a flow between two temperatures, W, with the fluid's cp as pandapipes uses
    it (the mean of cp at both temperatures) so balances close to the solver's precision."""
    t_hot, t_cold = (np.asarray(t, dtype=float) for t in (t_hot_k, t_cold_k))
    ok = np.isfinite(t_hot) & np.isfinite(t_cold)
    cp = np.full(t_hot.shape, units.WATER_CP_J_PER_KGK)
    cp[ok] = 0.5 * (net.fluid.get_heat_capacity(t_hot[ok]) + net.fluid.get_heat_capacity(t_cold[ok]))
    return np.asarray(mdot_kg_per_s, dtype=float) * cp * (t_hot - t_cold)


def _c(t_k) -> np.ndarray:
    return units.k_to_c(np.asarray(t_k, dtype=float))


def _nodes(net, ix) -> pd.DataFrame:
    res = net.res_junction
    p_s = res["p_bar"].to_numpy()[ix.supply_junction]
    p_r = res["p_bar"].to_numpy()[ix.return_junction]
    dry_s, dry_r = ~np.isfinite(p_s), ~np.isfinite(p_r)
    # pandapipes leaves 293.15 K at dropped (isolated) junctions: hide it.
    t_s = np.where(dry_s, np.nan, _c(res["t_k"].to_numpy()[ix.supply_junction]))
    t_r = np.where(dry_r, np.nan, _c(res["t_k"].to_numpy()[ix.return_junction]))
    return pd.DataFrame({"status": np.where(dry_s & dry_r, "cut_off", "normal"), "p_supply_bar": p_s,
                         "p_return_bar": p_r, "t_supply_c": t_s, "t_return_c": t_r}, index=ix.node_ids)


def _pipe_side(net, res: pd.DataFrame, rows: np.ndarray):
    """Flow, inlet/outlet temperature and heat loss of one side's pipes (along the flow)."""
    mdot = res["mdot_from_kg_per_s"].to_numpy()[rows]
    t_from, t_to = res["t_from_k"].to_numpy()[rows], res["t_to_k"].to_numpy()[rows]
    t_out = res["t_outlet_k"].to_numpy()[rows]
    t_in = np.where(mdot >= 0, t_from, t_to)
    loss_w = _heat_w(net, np.abs(mdot), t_in, t_out)
    return mdot, t_in, t_out, np.where(np.isfinite(loss_w), loss_w, 0.0)


def _pipes(net, ix) -> pd.DataFrame:
    res = net.res_pipe
    mdot_s, t_in, t_out, loss_s = _pipe_side(net, res, ix.supply_pipe)
    mdot_r, _, _, loss_r = _pipe_side(net, res, ix.return_pipe)
    dp = res["p_from_bar"].to_numpy()[ix.supply_pipe] - res["p_to_bar"].to_numpy()[ix.supply_pipe]
    return pd.DataFrame({
        "status": np.where(np.isfinite(mdot_s), "normal", "cut_off"),
        "flow_t_h": units.kg_per_s_to_t_h(mdot_s),
        "v_m_per_s": res["v_mean_m_per_s"].to_numpy()[ix.supply_pipe],
        "dp_bar": dp,
        "heat_loss_kw": units.w_to_kw(loss_s + loss_r),
        "t_supply_in_c": _c(t_in), "t_supply_out_c": _c(t_out),
        "flow_return_t_h": units.kg_per_s_to_t_h(mdot_r),
    }, index=ix.pipe_ids)


def transport_delay_h(ix, pipes: pd.DataFrame, source_nodes: np.ndarray) -> np.ndarray:
    """Hours for water to travel from the nearest source to each node along the supply flow.

    Each supply pipe with flow is a directed edge upstream → downstream weighted length / |v|;
    the delay is the shortest path (Dijkstra) from any in-service source node. NaN if unreachable.
    """
    n = len(ix.node_ids)
    if not len(source_nodes):
        return np.full(n, np.nan)
    v = pipes["v_m_per_s"].to_numpy()
    flow = pipes["flow_t_h"].to_numpy()
    moving = np.isfinite(v) & (np.abs(v) > MIN_VELOCITY_M_PER_S) & np.isfinite(flow)
    forward = flow >= 0
    up = np.where(forward, ix.pipe_from, ix.pipe_to)[moving]
    down = np.where(forward, ix.pipe_to, ix.pipe_from)[moving]
    seconds = ix.pipe_length_m[moving] / np.abs(v[moving])
    # csgraph ignores explicit zeros as "no edge": keep a floor on the weight.
    graph = csr_matrix((np.maximum(seconds, 1e-9), (up, down)), shape=(n, n))
    dist = dijkstra(graph, directed=True, indices=np.unique(source_nodes), min_only=True)
    return np.where(np.isfinite(dist), units.s_to_h(dist), np.nan)


def _stations(net, ix, nodes: pd.DataFrame, delay_h: np.ndarray, demand_w: np.ndarray,
              min_dp_bar: np.ndarray) -> pd.DataFrame:
    res = net.res_heat_consumer
    rows = ix.heat_consumer
    mdot = res["mdot_from_kg_per_s"].to_numpy()[rows]
    cut = ~np.isfinite(mdot)
    # NaN flow = isolated: pandapipes still echoes the set-point in qext_w, so never sum it blindly.
    heat_w = np.where(cut, 0.0, res["qext_w"].to_numpy()[rows])
    node_rows = nodes.iloc[ix.station_node]
    p_s, p_r = node_rows["p_supply_bar"].to_numpy(), node_rows["p_return_bar"].to_numpy()
    return pd.DataFrame({
        "status": np.where(cut, "cut_off", "normal"),
        "heat_mw": units.w_to_mw(heat_w),
        "demand_mw": units.w_to_mw(demand_w),
        "flow_t_h": np.where(cut, 0.0, units.kg_per_s_to_t_h(mdot)),
        "dp_bar": p_s - p_r,
        "t_supply_c": np.where(cut, np.nan, _c(res["t_from_k"].to_numpy()[rows])),
        # The consumer's own outlet is its controlled return temperature; res t_to_k is the
        # return junction after mixing with whatever else flows through that node.
        "t_return_c": np.where(cut, np.nan, _c(net.heat_consumer["treturn_k"].to_numpy()[rows])),
        "delay_h": np.where(cut, np.nan, delay_h[ix.station_node]),
        "p_supply_bar": p_s, "p_return_bar": p_r,
        # pandapipes' heat consumers draw their flow even against a reversed differential
        # pressure: flag stations below their minimum instead of trusting the flow.
        "dp_ok": np.where(cut, True, (p_s - p_r) >= min_dp_bar),
    }, index=ix.station_ids)


def _sources(net, ix, sources_out: set, islanded: set) -> pd.DataFrame:
    mdot, t_sup, t_ret, p_sup, p_ret = (np.full(len(ix.source_ids), np.nan) for _ in range(5))
    for k in range(len(ix.source_ids)):
        if k in islanded and ix.standby_pump[k] >= 0:
            row = net.res_circ_pump_pressure.loc[ix.standby_pump[k]]
        else:
            row = net[f"res_{ix.pump_table[k]}"].loc[ix.pump[k]]
        mdot[k], t_ret[k], t_sup[k] = row["mdot_from_kg_per_s"], row["t_from_k"], row["t_to_k"]
        p_ret[k], p_sup[k] = row["p_from_bar"], row["p_to_bar"]
    out = np.isin(ix.source_ids, list(sources_out))
    mdot = np.where(out, 0.0, mdot)
    grids = np.where(ix.source_ids == ix.pressure_source, ix.ext_grid, ix.source_ext_grid)
    in_service = net.ext_grid["in_service"].to_numpy(dtype=bool)
    eg_mdot = np.nan_to_num(net.res_ext_grid["mdot_kg_per_s"].to_numpy(dtype=float))
    makeup_kg_s = np.where((grids >= 0) & in_service[np.maximum(grids, 0)], -eg_mdot[np.maximum(grids, 0)], 0.0)
    # pandapipes adds make-up water at the flow junction's temperature; in the plant it is heated
    # from cold, so that heat is part of what the source produces (and leaks carry it away).
    t_flow = np.where(np.isfinite(t_sup), t_sup, units.c_to_k(MAKEUP_WATER_C))
    makeup_w = _heat_w(net, makeup_kg_s, t_flow, np.full(len(t_flow), units.c_to_k(MAKEUP_WATER_C)))
    heat_w = np.where(out, 0.0, _heat_w(net, mdot, t_sup, t_ret)) + makeup_w
    makeup = units.kg_per_s_to_t_h(makeup_kg_s)
    return pd.DataFrame({
        "status": np.where(out, "cut_off", "normal"),
        "heat_mw": units.w_to_mw(heat_w), "flow_t_h": units.kg_per_s_to_t_h(mdot),
        "t_supply_c": np.where(out, np.nan, _c(t_sup)), "t_return_c": np.where(out, np.nan, _c(t_ret)),
        "p_supply_bar": np.where(out, np.nan, p_sup), "p_return_bar": np.where(out, np.nan, p_ret),
        "makeup_t_h": makeup,
    }, index=ix.source_ids)


def leaked_heat_mw(net, sinks) -> float:
    """Heat carried out by leaking water (relative to cold make-up water), MW."""
    if not sinks:
        return 0.0
    rows = list(sinks.values())
    mdot = net.sink.loc[rows, "mdot_kg_per_s"].to_numpy(dtype=float)
    t_k = net.res_junction["t_k"].to_numpy()[list(sinks.keys())]
    leaked_w = _heat_w(net, mdot, t_k, np.full(len(t_k), units.c_to_k(MAKEUP_WATER_C)))
    return float(units.w_to_mw(np.nansum(leaked_w)))


def make_result(twin, n_iterations: int) -> TwinResult:
    """The ``TwinResult`` of a twin whose net was just solved."""
    net, ix = twin.net, twin.index
    nodes = _nodes(net, ix)
    pipes = _pipes(net, ix)
    sources = _sources(net, ix, twin.sources_out, twin.islanded)
    live = ix.source_node[sources["status"].to_numpy() == "normal"]
    stations = _stations(net, ix, nodes, transport_delay_h(ix, pipes, live), twin.demand_w, twin.min_dp_bar)
    summary = {
        "heat_produced_mw": float(sources["heat_mw"].sum()),
        "heat_delivered_mw": float(stations["heat_mw"].sum()),
        "heat_loss_mw": float(pipes["heat_loss_kw"].sum() / 1e3),
        "heat_leaked_mw": leaked_heat_mw(net, twin.leak_sinks),
        "makeup_t_h": float(sources["makeup_t_h"].sum()),
        "iterations": int(n_iterations),
        "converged": True,
        "stations_cut_off": int((stations["status"] == "cut_off").sum()),
        "stations_low_dp": int((~stations["dp_ok"].astype(bool)).sum()),
        # Below ~0 bar the state is not physical (vapour): a sign of an infeasible boundary.
        "p_min_bar": float(np.nanmin(nodes[["p_supply_bar", "p_return_bar"]].to_numpy(), initial=np.inf)),
    }
    return TwinResult(nodes, pipes, stations, sources, summary)
