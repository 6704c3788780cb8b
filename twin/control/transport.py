"""Transport delay and heat loss between a source and each station, and what a station can pass.

The twin is a steady solve: it says where each station's water comes from, how long it travels
(``delay_h``, supply-side plug flow along the Dijkstra path) and how much of the source's excess over
the soil temperature survives the trip. A station at time t therefore sees

    t_in(t) = t_soil + a · (t_source(t − τ) − t_soil),   a = (t_station − t_soil) / (t_source − t_soil)

with τ and a taken from the latest solve (so both change with the flow). ``DelayLine`` keeps each
source's supply-temperature history to look that up.

A station's primary control valve opens at most to ``VALVE_MARGIN`` × the flow that carries its design
heat at the network's design supply temperature: with a colder inlet it can pass only
``max_flow × cp × (t_in − t_return)`` — so a supply temperature lowered too far, or raised too late
for the station's delay, leaves its rooms short.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from heattwin import units
from layers.design import DEFAULT_DESIGN
from twin.results import MIN_VELOCITY_M_PER_S

VALVE_MARGIN = 1.3        # a station's valve passes at most 1.3 × its design flow (stations are sized generously)
MIN_LIFT_K = 5.0          # below this inlet-over-return difference a station passes next to nothing


def feeding_sources(ix, result) -> pd.Series:
    """Per station id, the source whose water reaches it first along the supply flow (NaN if none)."""
    pipes = result.pipes
    n = len(ix.node_ids)
    v, flow = pipes["v_m_per_s"].to_numpy(), pipes["flow_t_h"].to_numpy()
    moving = np.isfinite(v) & (np.abs(v) > MIN_VELOCITY_M_PER_S) & np.isfinite(flow)
    forward = flow >= 0
    up = np.where(forward, ix.pipe_from, ix.pipe_to)[moving]
    down = np.where(forward, ix.pipe_to, ix.pipe_from)[moving]
    seconds = ix.pipe_length_m[moving] / np.abs(v[moving])
    graph = csr_matrix((np.maximum(seconds, 1e-9), (up, down)), shape=(n, n))
    live = result.sources["status"].reindex(ix.source_ids).to_numpy() == "normal"
    nodes = ix.source_node[live]
    if not len(nodes):
        return pd.Series(np.nan, index=ix.station_ids, dtype=object)
    _, _, origin = dijkstra(graph, directed=True, indices=np.unique(nodes), min_only=True,
                            return_predecessors=True)
    by_node = dict(zip(ix.source_node[live], ix.source_ids[live], strict=True))
    origin_node = origin[ix.station_node]
    return pd.Series([by_node.get(int(o)) if o >= 0 else None for o in origin_node], index=ix.station_ids,
                     dtype=object)


def station_paths(twin, result) -> pd.DataFrame:
    """Per station id: source_id (which feeds it), delay_h, attenuation (share of the source's excess over
    the soil that arrives), t_soil_c, t_return_c — the linearisation of the transport around ``result``."""
    ix = twin.index
    t_soil_c = float(units.k_to_c(twin.net.pipe["text_k"].to_numpy(dtype=float)).mean())
    source = feeding_sources(ix, result)
    st = result.stations.reindex(ix.station_ids)
    t_src = result.sources["t_supply_c"].reindex(source.to_numpy()).to_numpy(dtype=float)
    excess = t_src - t_soil_c
    attenuation = np.where(excess > 1.0, (st["t_supply_c"].to_numpy(dtype=float) - t_soil_c) / excess, np.nan)
    return pd.DataFrame({"source_id": source.to_numpy(), "delay_h": st["delay_h"].to_numpy(dtype=float),
                         "attenuation": np.clip(attenuation, 0.0, 1.0), "t_soil_c": t_soil_c,
                         "t_return_c": st["t_return_c"].to_numpy(dtype=float)}, index=ix.station_ids)


def max_flow_t_h(design_heat_mw, t_return_c, *, t_design_c: float = DEFAULT_DESIGN.design_supply_c,
                 margin: float = VALVE_MARGIN) -> np.ndarray:
    """The most a station's valve passes, t/h: ``margin`` × the flow of its design heat at the network's
    design supply temperature ``t_design_c``."""
    lift_k = np.maximum(t_design_c - np.asarray(t_return_c, dtype=float), MIN_LIFT_K)
    mdot = units.mdot_for_heat_kg_per_s(units.mw_to_w(np.asarray(design_heat_mw, dtype=float)), lift_k)
    return margin * units.kg_per_s_to_t_h(mdot)


def deliverable_mw(t_inlet_c, t_return_c, max_flow) -> np.ndarray:
    """Heat a station can pass with its valve wide open at inlet temperature ``t_inlet_c``, MW."""
    lift_k = np.maximum(np.asarray(t_inlet_c, dtype=float) - np.asarray(t_return_c, dtype=float), 0.0)
    return units.w_to_mw(units.heat_w(units.t_h_to_kg_per_s(np.asarray(max_flow, dtype=float)), lift_k))


def required_inlet_c(heat_mw, t_return_c, max_flow) -> np.ndarray:
    """The lowest inlet temperature at which a station passes ``heat_mw`` with its valve wide open, °C."""
    mdot = units.t_h_to_kg_per_s(np.asarray(max_flow, dtype=float))
    return np.asarray(t_return_c, dtype=float) + units.mw_to_w(np.asarray(heat_mw, dtype=float)) / (
        units.WATER_CP_J_PER_KGK * mdot)


class DelayLine:
    """Each source's supply temperature over time; ``inlet_c`` looks up what each station feels now."""

    def __init__(self, source_ids, *, keep_h: float = 72.0):
        self.source_ids = [str(s) for s in source_ids]
        self.keep_h = keep_h
        self._hours: list[float] = []
        self._t_c: list[np.ndarray] = []

    @staticmethod
    def _h(at) -> float:
        return pd.Timestamp(at).timestamp() / 3600.0

    def record(self, at, t_supply_c: pd.Series) -> None:
        """The sources' supply temperatures set at ``at`` (°C, indexed by source id)."""
        h = self._h(at)
        values = t_supply_c.reindex(self.source_ids).to_numpy(dtype=float)
        if self._hours and h <= self._hours[-1]:
            self._t_c[-1] = values
            return
        self._hours.append(h)
        self._t_c.append(values)
        while len(self._hours) > 2 and self._hours[1] < h - self.keep_h:
            self._hours.pop(0)
            self._t_c.pop(0)

    def source_c(self, source_ids, at_h: np.ndarray) -> np.ndarray:
        """Supply temperature of ``source_ids`` at the hours ``at_h`` (linear between records, held
        before the first), °C."""
        hours = np.asarray(self._hours)
        table = np.vstack(self._t_c)
        out = np.full(len(at_h), np.nan)
        col = pd.Index(self.source_ids).get_indexer(pd.Index(source_ids).astype(str))
        for k in np.unique(col[col >= 0]):
            rows = col == k
            out[rows] = np.interp(at_h[rows], hours, table[:, k])
        return out

    def inlet_c(self, at, paths: pd.DataFrame) -> pd.Series:
        """Per station (``paths`` from ``station_paths``), the inlet temperature at ``at``, °C."""
        lag_h = np.nan_to_num(paths["delay_h"].to_numpy(dtype=float), nan=0.0)
        sources = paths["source_id"].fillna("").astype(str).to_numpy()
        t_src = self.source_c(sources, self._h(at) - lag_h)
        soil = paths["t_soil_c"].to_numpy(dtype=float)
        return pd.Series(soil + paths["attenuation"].to_numpy(dtype=float) * (t_src - soil), index=paths.index)
