"""Build the pandapipes net of a ``Network``: supply and return side, sources, stations, valves.

Layout (pandapipes' table-per-element vocabulary):

- every node → a supply junction and a return junction;
- every pipe segment → a supply pipe and a return pipe, both oriented from_node → to_node;
- every section valve (``pipe_id`` at ``node_id``) → an extra junction pair at that pipe end and a
  pandapipes valve per side between the node's junction and the pipe's end junction, so closing
  it cuts the pipe from the node on supply AND return;
- every station → ``heat_consumer`` from its node's supply to its return junction (``qext_w`` +
  ``treturn_k``; solved in mode "bidirectional");
- the source with role "pressure" → ``circ_pump_const_pressure`` (type "pt": sets supply pressure,
  lift and temperature), plus the make-up point: an ``ext_grid`` (type "p") on its flow junction
  at the same pressure, a mass slack whose flow is the make-up water (leaks solve);
- every other source gets its own pressure holding (an ext_grid, out of service) that the twin
  switches on only while that source feeds an island without the pressure source; there the
  source holds pressure like the main plant: a fixed-head pump switches to "pt", a fixed-flow
  source swaps its mass-flow pump for a stand-by ``circ_pump_const_pressure`` ("pt") — alone in
  an island its flow must follow the island's demand (a mass pump + make-up did not converge);
- role "fixed_head" → ``circ_pump_const_pressure(p_flow_bar=None, plift_bar, type="t")``;
- role "fixed_flow" → ``circ_pump_const_mass_flow(type="t")`` (its outlet pressure floats).
  Several pumps with ``p_flow_bar`` set did not converge here (see the pandapipes notes).

``NetIndex`` is the one mapping between our string ids and pandapipes indices; no pandapipes
index leaves ``twin/``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandapipes as pp
import pandas as pd

from heattwin import units
from layers.network import Network
from twin.pipes import pipe_parameters

log = logging.getLogger(__name__)

T_RETURN_INIT_C = 50.0  # initial guess of the return side's temperature
MIN_VALVE_DIAMETER_MM = 20.0


class TwinBuildError(ValueError):
    """The network cannot be turned into a solvable net (e.g. no pressure source)."""


@dataclass
class NetIndex:
    """Our ids ↔ pandapipes indices (positional arrays aligned with the id arrays)."""
    node_ids: np.ndarray
    supply_junction: np.ndarray      # per node
    return_junction: np.ndarray      # per node
    pipe_ids: np.ndarray
    pipe_from: np.ndarray            # node position of each pipe's from_node
    pipe_to: np.ndarray
    pipe_length_m: np.ndarray
    supply_pipe: np.ndarray          # pandapipes pipe index per pipe
    return_pipe: np.ndarray
    supply_pipe_ends: np.ndarray     # (n_pipes, 2) supply junctions at the from and to end
    return_pipe_ends: np.ndarray
    station_ids: np.ndarray
    station_node: np.ndarray         # node position
    heat_consumer: np.ndarray
    source_ids: np.ndarray
    source_node: np.ndarray
    source_role: np.ndarray
    pump_table: np.ndarray           # "circ_pump_pressure" | "circ_pump_mass"
    pump: np.ndarray                 # index in that table
    pressure_source: str
    ext_grid: int
    source_ext_grid: np.ndarray      # per source: its island's pressure holding (-1: none / main)
    standby_pump: np.ndarray         # fixed_flow sources: circ_pump_pressure used while islanded (-1: none)
    valve_ids: np.ndarray
    valve_pipe: np.ndarray           # pipe position of each valve
    supply_valve: np.ndarray
    return_valve: np.ndarray
    problems: list[str] = field(default_factory=list)

    def node_pos(self, node_ids) -> np.ndarray:
        return pd.Index(self.node_ids).get_indexer(pd.Index(node_ids).astype(str))


def _ids(frame) -> np.ndarray:
    return frame["id"].astype(str).to_numpy()


def _positions(index: pd.Index, values, what: str) -> np.ndarray:
    pos = index.get_indexer(pd.Index(values).astype(str))
    if (pos < 0).any():
        missing = pd.Index(values).astype(str)[pos < 0][:5].tolist()
        raise TwinBuildError(f"{what} refers to unknown nodes: {missing}")
    return pos


def _source_design(sources: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({
        "node_id": sources["node_id"].astype(str).to_numpy(),
        "role": sources["role"].astype(str).to_numpy(),
        "p_flow_bar": pd.to_numeric(sources["p_flow_bar"], errors="coerce").fillna(12.0).to_numpy(),
        "plift_bar": pd.to_numeric(sources["plift_bar"], errors="coerce").fillna(6.0).to_numpy(),
        "t_supply_c": pd.to_numeric(sources["t_supply_c"], errors="coerce").fillna(110.0).to_numpy(),
        "flow_t_h": pd.to_numeric(sources["flow_t_h"], errors="coerce").to_numpy(),
    }, index=_ids(sources))
    if (frame["role"] == "pressure").sum() != 1:
        raise TwinBuildError(f"need exactly one source with role 'pressure', found "
                             f"{int((frame['role'] == 'pressure').sum())}")
    return frame


def _valve_ends(network: Network, pipe_index: pd.Index, node_index: pd.Index, from_pos, to_pos, problems):
    """Which pipe ends carry a valve: (valve ids, pipe position, end 0=from/1=to), one per end."""
    valves = network.valves
    if valves is None or len(valves) == 0:
        return np.array([], dtype=str), np.array([], int), np.array([], int)
    vid = _ids(valves)
    ppos = pipe_index.get_indexer(valves["pipe_id"].astype(str))
    npos = node_index.get_indexer(valves["node_id"].astype(str))
    end = np.full(len(vid), -1)
    ok = ppos >= 0
    end[ok] = np.where(from_pos[ppos[ok]] == npos[ok], 0, np.where(to_pos[ppos[ok]] == npos[ok], 1, -1))
    for v in vid[end < 0]:
        problems.append(f"valves {v}: node_id is not an end of pipe_id; valve ignored")
    keep = end >= 0
    return vid[keep], ppos[keep], end[keep]


def build_net(network: Network, calibration: dict | None = None, *, reference_year: int):
    """A pandapipes net of ``network`` and the ``NetIndex`` that maps our ids onto it.

    Parameters
    ----------
    network : a validated ``layers.network.Network``.
    calibration : roughness / heat-loss multipliers, see ``twin.pipes.pipe_parameters``.
    reference_year : the run's year (insulation ageing), see ``twin.pipes.pipe_parameters``.

    Returns
    -------
    (net, NetIndex)
    """
    problems: list[str] = []
    node_ids = _ids(network.nodes)
    node_index = pd.Index(node_ids)
    pipes = network.pipes
    pipe_ids = _ids(pipes)
    from_pos = _positions(node_index, pipes["from_node"], "pipes.from_node")
    to_pos = _positions(node_index, pipes["to_node"], "pipes.to_node")
    src = _source_design(network.sources)
    pressure = src[src["role"] == "pressure"].iloc[0]
    p_supply, p_return = float(pressure["p_flow_bar"]), float(pressure["p_flow_bar"] - pressure["plift_bar"])
    t_supply_k = units.c_to_k(float(pressure["t_supply_c"]))

    net = pp.create_empty_network(fluid="water")
    n = len(node_ids)
    sj = np.asarray(pp.create_junctions(net, n, pn_bar=p_supply, tfluid_k=t_supply_k, name=node_ids))
    rj = np.asarray(pp.create_junctions(net, n, pn_bar=p_return, tfluid_k=units.c_to_k(T_RETURN_INIT_C),
                                        name=node_ids))
    # Pipe-end junctions: the node's own, or a valve-end junction pair where a valve sits.
    s_ends = np.column_stack([sj[from_pos], sj[to_pos]])
    r_ends = np.column_stack([rj[from_pos], rj[to_pos]])
    valve_ids, v_pipe, v_end = _valve_ends(network, pd.Index(pipe_ids), node_index, from_pos, to_pos, problems)
    params = pipe_parameters(pipes, calibration, reference_year=reference_year)
    end_key = v_pipe * 2 + v_end
    unique_keys, first = np.unique(end_key, return_index=True)
    k = len(unique_keys)
    s_valve = r_valve = np.array([], dtype=int)
    if k:
        up, ue = unique_keys // 2, unique_keys % 2
        node_at = np.where(ue == 0, from_pos[up], to_pos[up])
        sv_j = np.asarray(pp.create_junctions(net, k, pn_bar=p_supply, tfluid_k=t_supply_k,
                                              name=[f"{pipe_ids[p]}@{node_ids[q]}" for p, q in zip(up, node_at, strict=True)]))
        rv_j = np.asarray(pp.create_junctions(net, k, pn_bar=p_return, tfluid_k=units.c_to_k(T_RETURN_INIT_C),
                                              name=[f"{pipe_ids[p]}@{node_ids[q]}" for p, q in zip(up, node_at, strict=True)]))
        s_ends[up, ue], r_ends[up, ue] = sv_j, rv_j
        diameter_mm = np.maximum(params["inner_diameter_mm"].to_numpy()[up], MIN_VALVE_DIAMETER_MM)
        sv = np.asarray(pp.create_valves(net, sj[node_at], sv_j, "ju", diameter_mm, opened=True,
                                         name=valve_ids[first]))
        rv = np.asarray(pp.create_valves(net, rj[node_at], rv_j, "ju", diameter_mm, opened=True,
                                         name=valve_ids[first]))
        # Two valve features on the same pipe end share one pandapipes valve pair.
        slot = np.searchsorted(unique_keys, end_key)
        s_valve, r_valve = sv[slot], rv[slot]
    common = dict(length_km=units.m_to_km(params["length_m"].to_numpy()),
                  inner_diameter_mm=params["inner_diameter_mm"].to_numpy(),
                  outer_diameter_mm=params["outer_diameter_mm"].to_numpy(),
                  k_mm=params["k_mm"].to_numpy(), u_w_per_m2k=params["u_w_per_m2k"].to_numpy(),
                  text_k=units.c_to_k(5.0), name=pipe_ids)
    sp = np.asarray(pp.create_pipes_from_parameters(net, s_ends[:, 0], s_ends[:, 1], **common))
    rp = np.asarray(pp.create_pipes_from_parameters(net, r_ends[:, 0], r_ends[:, 1], **common))

    stations = network.stations
    station_ids = _ids(stations)
    st_pos = _positions(node_index, stations["node_id"], "stations.node_id")
    design_w = units.mw_to_w(pd.to_numeric(stations["design_heat_mw"], errors="coerce").fillna(3.0).to_numpy())
    t_ret_k = units.c_to_k(pd.to_numeric(stations["t_return_c"], errors="coerce").fillna(50.0).to_numpy())
    hc = np.asarray(pp.create_heat_consumers(net, sj[st_pos], rj[st_pos], qext_w=design_w, treturn_k=t_ret_k,
                                             name=station_ids)) if len(station_ids) else np.array([], int)

    src_pos = _positions(node_index, src["node_id"], "sources.node_id")
    tables, pumps = [], []
    for (sid, row), pos in zip(src.iterrows(), src_pos, strict=True):
        table, idx = _create_source(net, row, sj[pos], rj[pos], sid)
        tables.append(table)
        pumps.append(idx)
    pressure_pos = node_index.get_loc(pressure["node_id"])
    eg = pp.create_ext_grid(net, sj[pressure_pos], p_bar=p_supply, type="p", name="make-up")
    # Each other plant's own pressure holding, used only when it feeds an island cut off from the
    # pressure source (解列): otherwise two pressure slacks would fight over one network.
    standby = np.array([int(pp.create_circ_pump_const_pressure(
        net, rj[pos], sj[pos], float(row["p_flow_bar"]), float(row["plift_bar"]),
        t_flow_k=units.c_to_k(float(row["t_supply_c"])), type="pt", in_service=False, name=f"{sid} islanded"))
        if row["role"] == "fixed_flow" else -1 for (sid, row), pos in zip(src.iterrows(), src_pos, strict=True)])
    island_eg = np.array([-1 if role == "pressure" else int(pp.create_ext_grid(
        net, sj[pos], p_bar=float(p_flow), type="p", in_service=False, name=f"make-up {sid}"))
        for sid, role, pos, p_flow in zip(src.index, src["role"], src_pos, src["p_flow_bar"], strict=True)])
    return net, NetIndex(
        node_ids=node_ids, supply_junction=sj, return_junction=rj, pipe_ids=pipe_ids, pipe_from=from_pos,
        pipe_to=to_pos, pipe_length_m=params["length_m"].to_numpy(), supply_pipe=sp, return_pipe=rp, supply_pipe_ends=s_ends, return_pipe_ends=r_ends,
        station_ids=station_ids, station_node=st_pos, heat_consumer=hc, source_ids=src.index.to_numpy(),
        source_node=src_pos, source_role=src["role"].to_numpy(), pump_table=np.array(tables),
        pump=np.array(pumps), pressure_source=str(pressure.name), ext_grid=int(eg), source_ext_grid=island_eg,
        standby_pump=standby,
        valve_ids=valve_ids, valve_pipe=v_pipe,
        supply_valve=s_valve, return_valve=r_valve, problems=problems)


def _create_source(net, row, flow_junction, return_junction, sid) -> tuple[str, int]:
    t_k = units.c_to_k(float(row["t_supply_c"]))
    if row["role"] == "pressure":
        idx = pp.create_circ_pump_const_pressure(net, return_junction, flow_junction, float(row["p_flow_bar"]),
                                                 float(row["plift_bar"]), t_flow_k=t_k, type="pt", name=sid)
        return "circ_pump_pressure", int(idx)
    if row["role"] == "fixed_flow":
        flow = row["flow_t_h"]
        if not np.isfinite(flow):
            raise TwinBuildError(f"sources {sid}: role fixed_flow needs flow_t_h")
        idx = pp.create_circ_pump_const_mass_flow(net, return_junction, flow_junction, None,
                                                  units.t_h_to_kg_per_s(float(flow)), t_flow_k=t_k, type="t",
                                                  name=sid)
        return "circ_pump_mass", int(idx)
    if row["role"] != "fixed_head":
        log.warning("sources %s: unknown role %r, modelled as fixed_head", sid, row["role"])
    idx = pp.create_circ_pump_const_pressure(net, return_junction, flow_junction, None, float(row["plift_bar"]),
                                             t_flow_k=t_k, type="t", name=sid)
    return "circ_pump_pressure", int(idx)
