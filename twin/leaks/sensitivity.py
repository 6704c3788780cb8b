"""How a leak anywhere moves the pressure at every sensor: the twin linearized at its operating point.

At a solved state every pipe's pressure drop is ``dp = R·m·|m|``, so a small change of flow changes
it by ``2·R·|m|``: the pipe is a conductance ``g = |m| / (2·|dp|)``. Open valves are near-perfect
conductors, closed ones are absent. Heat consumers (fixed heat, fixed return temperature) and
fixed-flow pumps keep their flow to first order: they add no conductance. The pressure-holding plant
fixes its supply pressure (make-up point) and its return pressure (supply minus lift): both
junctions are ground. A fixed-head pump holds the difference between its return and supply
junctions, so to first order it joins them. What is left is a weighted Laplacian ``G`` over the
supply and return junctions, and a leak of ``q`` at junction ``j`` changes pressures by
``-G⁻¹ e_j q``.

``G`` is factorized once. Because it is symmetric, the change at the sensors of a leak at *any*
junction is a row of ``G⁻¹`` at the sensors' columns: solving ``G X = E`` for the sensors' unit
vectors gives every junction's signature (``X`` is junctions × sensors). For scoring a candidate only
``sᵀWr`` (one more solve: ``G⁻¹ E W r``) and ``sᵀWs`` (accumulated from ``X`` in chunks, never stored
whole on a city) are needed, so ``LeakSensitivity`` keeps those per pipe end and not ``X``.

The twin's own inputs are measured too, and their errors move the modelled pressures like a leak
would: a fixed-flow plant's flow meter off by 0.5 % pushes a wrong 10 t/h into the network, a supply
temperature off by 0.15 K scales every station's flow. Those errors are the bulk of the cycle-to-cycle
wander of the pressure residuals, so they are scored as *nuisance* directions: each a pattern of
nodal injections with a prior size; the fit explains with them what it can, and a leak has to explain
the rest (generalized least squares with ``Σ = W⁻¹ + V C Vᵀ``, applied by the Woodbury identity).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from heattwin import units

MIN_VELOCITY_M_PER_S = 0.05   # below it a pipe's friction is near laminar: its conductance stops growing
LAMBDA_AT_REST = 0.025        # Darcy friction factor used where a pipe barely flows
VALVE_CONDUCTANCE_FACTOR = 1e3
CHUNK = 512                   # sensors per block of right-hand sides
FIXED_FLOW_METER_SHARE = 0.01  # prior size of a fixed-flow plant's flow error (meter noise and drift)
DEMAND_SCALE_SHARE = 0.01      # prior size of an error common to every station's flow (supply temperature)
SUSPECT_SHARE = 0.1            # prior size of the flow error where an input sensor is suspect (flat-lined)


def _density_kg_per_m3(net) -> np.ndarray:
    """The water's density in every pipe at its solved mean temperature (pandapipes' own fluid), so the
    velocity floor below means what ``res_pipe.v_mean_m_per_s`` means; dry pipes take the mean."""
    res = net.res_pipe
    t_k = 0.5 * (res["t_from_k"].to_numpy(dtype=float) + res["t_to_k"].to_numpy(dtype=float))
    known = np.isfinite(t_k)
    t_k = np.where(known, t_k, t_k[known].mean() if known.any() else units.c_to_k(60.0))
    return np.asarray(net.fluid.get_density(t_k), dtype=float)


def _pipe_conductance(net) -> np.ndarray:
    """kg/s per bar of every pandapipes pipe at the solved state."""
    res, pipe = net.res_pipe, net.pipe
    m = np.abs(res["mdot_from_kg_per_s"].to_numpy(dtype=float))
    dp = np.abs(res["p_from_bar"].to_numpy(dtype=float) - res["p_to_bar"].to_numpy(dtype=float))
    d_m = units.mm_to_m(pipe["inner_diameter_mm"].to_numpy(dtype=float))
    area = np.pi * d_m ** 2 / 4.0
    rho = _density_kg_per_m3(net)
    length = units.km_to_m(pipe["length_km"].to_numpy(dtype=float))
    m_floor = rho * area * MIN_VELOCITY_M_PER_S
    r_rest = units.pa_to_bar(LAMBDA_AT_REST * length / d_m / (2.0 * rho * area ** 2))  # bar per (kg/s)²
    known = np.isfinite(m) & np.isfinite(dp) & (m > m_floor) & (dp > 0)
    r = np.where(known, dp / np.maximum(m, 1e-12) ** 2, r_rest)
    g = 1.0 / (2.0 * r * np.maximum(np.nan_to_num(m), m_floor))
    return np.where(np.isfinite(g), g, 0.0)


def _edges(net) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, conductance) of every branch that conducts a pressure change."""
    g_pipe = _pipe_conductance(net)
    big = VALVE_CONDUCTANCE_FACTOR * max(float(g_pipe.max(initial=1.0)), 1.0)
    a = [net.pipe["from_junction"].to_numpy()]
    b = [net.pipe["to_junction"].to_numpy()]
    g = [g_pipe]
    # pandapipes 0.16 valves join ``junction`` to ``element`` (a junction, et "ju").
    valves = net.valve[net.valve["opened"].astype(bool)]
    a.append(valves["junction"].to_numpy())
    b.append(valves["element"].to_numpy())
    g.append(np.full(len(valves), big))
    pumps = net.circ_pump_pressure
    head = pumps[pumps["in_service"].astype(bool) & (pumps["type"] == "t")]
    a.append(head["return_junction"].to_numpy())
    b.append(head["flow_junction"].to_numpy())
    g.append(np.full(len(head), big))
    return np.concatenate(a).astype(int), np.concatenate(b).astype(int), np.concatenate(g)


def _grounds(net) -> np.ndarray:
    """Junctions whose pressure a boundary fixes: make-up points, and both sides of "pt" pumps."""
    grids = net.ext_grid[net.ext_grid["in_service"].astype(bool)]
    pumps = net.circ_pump_pressure
    held = pumps[pumps["in_service"].astype(bool) & (pumps["type"] == "pt")]
    return np.unique(np.concatenate([grids["junction"].to_numpy(), held["flow_junction"].to_numpy(),
                                     held["return_junction"].to_numpy()]).astype(int))


@dataclass
class Linearization:
    """``G`` factorized over the free junctions of one operating point."""
    n_junctions: int
    free: np.ndarray          # junction -> row in G, -1 where grounded or not connected to a ground
    lu: object

    @classmethod
    def from_net(cls, net) -> Linearization:
        n = len(net.junction)
        a, b, g = _edges(net)
        keep = (g > 0) & (a != b)
        a, b, g = a[keep], b[keep], g[keep]
        grounds = _grounds(net)
        # Only junctions joined to a ground have a defined pressure change (the rest are dry).
        ground_node = n
        ga = np.concatenate([a, np.full(len(grounds), ground_node)])
        gb = np.concatenate([b, grounds])
        _, label = connected_components(coo_matrix((np.ones(len(ga)), (ga, gb)), shape=(n + 1, n + 1)),
                                        directed=False)
        live = label[:n] == label[ground_node]
        free_mask = live.copy()
        free_mask[grounds] = False
        free = np.full(n, -1)
        free[free_mask] = np.arange(int(free_mask.sum()))
        k = int(free_mask.sum())
        both = free_mask[a] & free_mask[b]
        rows = np.concatenate([free[a[both]], free[b[both]], free[a[both]], free[b[both]]])
        cols = np.concatenate([free[b[both]], free[a[both]], free[a[both]], free[b[both]]])
        vals = np.concatenate([-g[both], -g[both], g[both], g[both]])
        # Branches to a ground add only to the free end's diagonal.
        for end, other in ((a, b), (b, a)):
            to_ground = free_mask[end] & ~free_mask[other] & live[other]
            rows = np.concatenate([rows, free[end[to_ground]]])
            cols = np.concatenate([cols, free[end[to_ground]]])
            vals = np.concatenate([vals, g[to_ground]])
        matrix = coo_matrix((vals, (rows, cols)), shape=(k, k)).tocsc()
        return cls(n, free, splu(matrix))

    def solve(self, injections: np.ndarray) -> np.ndarray:
        """Pressure change (bar) at every junction for nodal injections (kg/s; a leak is negative).

        ``injections``: (junctions,) or (junctions, m)."""
        rows = self.free >= 0
        rhs = injections[rows]
        out = np.zeros(injections.shape)
        out[rows] = self.lu.solve(np.ascontiguousarray(rhs, dtype=float))
        return out


@dataclass
class LeakSensitivity:
    """Per pipe and side, what scoring a leak there needs at one operating point.

    sensor_ids : the pressure sensors used (in ``sensor_junction`` order).
    sensor_junction : pandapipes junction each sensor reads.
    ends : {side: (n_pipes, 2) junctions of the pipe's from / to end on that side}.
    gram : {side: (n_pipes, 3)} ``sᵀWs`` of the from end, ``sᵀWs`` of the to end and their cross term,
        per t/h of leak, with ``W`` = 1/σ² of ``weights``.
    nuisance : ``Nuisance`` (the twin's input errors), or None.
    """
    linear: Linearization
    sensor_ids: np.ndarray
    sensor_junction: np.ndarray
    weights: np.ndarray
    ends: dict
    gram: dict
    pipe_ids: np.ndarray | None = None
    nuisance: Nuisance | None = None

    @classmethod
    def from_result(cls, twin, result, sensor_map, sigma_bar: pd.Series | float = 0.01) -> LeakSensitivity:
        """Contract name: ``twin`` must hold ``result`` as its last solved state (its net is linearized)."""
        if result is not None and twin.last_result is not result:
            raise ValueError("LeakSensitivity.from_result: result is not the twin's last solved state")
        return cls.from_twin(twin, sensor_map, sigma_bar)

    @classmethod
    def from_twin(cls, twin, sensor_map, sigma_bar: pd.Series | float = 0.01, *,
                  nuisance: bool = True, suspects=()) -> LeakSensitivity:
        """At ``twin``'s last solved state, for the pressure sensors of ``sensor_map``; ``nuisance``: also
        the directions of the twin's input errors (see the module's note), larger at the stations and
        plants in ``suspects`` (ids whose input readings are not to be trusted)."""
        linear = Linearization.from_net(twin.net)
        ids, junctions = pressure_sensor_junctions(twin, sensor_map)
        sigma = pd.Series(sigma_bar, index=ids, dtype=float) if np.isscalar(sigma_bar) else \
            pd.Series(sigma_bar, dtype=float).reindex(ids).fillna(0.01)
        weights = 1.0 / sigma.to_numpy() ** 2
        ix = twin.index
        ends = {"supply": ix.supply_pipe_ends, "return": ix.return_pipe_ends}
        gram = _gram(linear, junctions, weights, ends)
        sens = cls(linear, ids, junctions, weights, ends, gram, np.asarray(ix.pipe_ids, dtype=str))
        if nuisance:
            patterns, sd, names = input_error_patterns(twin, suspects)
            if len(names):
                sens.nuisance = Nuisance.build(sens, linear.solve(patterns)[junctions], sd, names)
        return sens

    def node_signature(self, junctions) -> np.ndarray:
        """(sensors, len(junctions)) pressure change (bar) per t/h of leak at each junction; ``junctions``
        may be a side ("supply" | "return"): then every pipe-end junction of that side (small nets only)."""
        if isinstance(junctions, str):
            junctions = np.unique(self.ends[junctions])
        injections = np.zeros((self.linear.n_junctions, len(junctions)))
        injections[np.asarray(junctions), np.arange(len(junctions))] = -units.t_h_to_kg_per_s(1.0)
        return self.linear.solve(injections)[self.sensor_junction]

    def segment_signature(self, pipe_positions, x, side: str) -> np.ndarray:
        """(sensors, len(pipe_positions)) per t/h of leak at position ``x`` (scalar or per pipe) along each pipe."""
        ends = self.ends[side][np.asarray(pipe_positions, dtype=int)]
        both = self.node_signature(np.concatenate([ends[:, 0], ends[:, 1]]))
        n = len(ends)
        x = np.broadcast_to(np.asarray(x, dtype=float), n)
        return (1.0 - x) * both[:, :n] + x * both[:, n:]

    def correlation(self, change: np.ndarray) -> dict:
        """``sᵀWr`` per pipe end and side for a sensor change ``r`` (bar): one solve for all candidates.

        ``change`` may be (sensors, m): then each side's array is (n_pipes, 2, m)."""
        change = np.nan_to_num(np.asarray(change, dtype=float))
        rhs = np.zeros((self.linear.n_junctions, *change.shape[1:]))
        np.add.at(rhs, self.sensor_junction, (self.weights * change.T).T)
        # G symmetric: Σ_k W_k r_k X[j, k] = (G⁻¹ E W r)_j, scaled to a leak of 1 t/h.
        field = self.linear.solve(rhs) * -units.t_h_to_kg_per_s(1.0)
        return {side: field[ends] for side, ends in self.ends.items()}

    def explained(self, change: np.ndarray) -> tuple[float, np.ndarray]:
        """``rᵀΣ⁻¹r`` of a sensor change over the sensors that saw it (not NaN), and ``VᵀWr``."""
        r = np.asarray(change, dtype=float)
        weights = np.where(np.isfinite(r), self.weights, 0.0)
        r = np.nan_to_num(r)
        base = float(np.sum(weights * r * r))
        if self.nuisance is None:
            return base, np.zeros(0)
        nuisance = self.nuisance if np.array_equal(weights, self.weights) else self.nuisance.weighed(weights)
        z = nuisance.signature.T @ (weights * r)
        return base - float(z @ nuisance.solve(z)), z

    def seeing(self, seen: np.ndarray) -> LeakSensitivity:
        """The same operating point scored on the sensors in ``seen`` only.

        A sensor without a reading (or left out as stuck) must not count as one that saw no change: its
        weight goes to zero and its share of every candidate's ``sᵀWs`` is taken out (one solve per
        sensor left out)."""
        gone = np.flatnonzero(~np.asarray(seen, dtype=bool) & (self.weights > 0))
        if not len(gone):
            return self
        weights = self.weights.copy()
        weights[gone] = 0.0
        lost = _gram(self.linear, self.sensor_junction[gone], self.weights[gone], self.ends)
        gram = {side: g - lost[side] for side, g in self.gram.items()}
        out = replace(self, weights=weights, gram=gram, nuisance=None)
        if self.nuisance is not None:
            out.nuisance = Nuisance.build(out, self.nuisance.signature, self.nuisance.sd, self.nuisance.names)
        return out


@dataclass
class Nuisance:
    """Directions the twin's input errors move the pressure sensors in, with their prior sizes.

    signature : (sensors, m) bar per unit of each pattern; sd : (m,) each unit's prior σ.
    precision : ``C⁻¹ + VᵀWV`` (m, m).
    cross : {side: (n_pipes, 2, m)} ``sᵀWV`` per pipe end, for a 1 t/h leak there.
    """
    names: list
    signature: np.ndarray
    sd: np.ndarray
    precision: np.ndarray
    cross: dict | None = None

    @classmethod
    def build(cls, sens: LeakSensitivity, signature: np.ndarray, sd: np.ndarray, names: list) -> Nuisance:
        nuisance = cls(list(names), signature, np.asarray(sd, dtype=float), np.zeros((0, 0))).weighed(sens.weights)
        nuisance.cross = sens.correlation(signature)
        return nuisance

    def weighed(self, weights: np.ndarray) -> Nuisance:
        """The same directions with ``precision`` for other sensor weights (``cross`` is not carried)."""
        precision = np.diag(1.0 / self.sd ** 2) + self.signature.T @ (weights[:, None] * self.signature)
        return Nuisance(self.names, self.signature, self.sd, precision)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return np.linalg.solve(self.precision, rhs)


def _through(n: int, supply_junction: int, return_junction: int, t_h: float = 1.0) -> np.ndarray:
    """Injections of ``t_h`` more flow passed from the return to the supply side at one node."""
    column = np.zeros(n)
    column[supply_junction] += units.t_h_to_kg_per_s(t_h)
    column[return_junction] -= units.t_h_to_kg_per_s(t_h)
    return column


def input_error_patterns(twin, suspects=()) -> tuple[np.ndarray, np.ndarray, list]:
    """Nodal injections (kg/s) of the twin's main input errors at its solved state: one per fixed-flow
    plant (its flow, per t/h, σ a share of its flow), one common scale of every station's flow (per
    unit share, σ ``DEMAND_SCALE_SHARE``), and one per suspect station (its own flow, per t/h).
    A suspect plant's or station's σ is ``SUSPECT_SHARE`` of its flow."""
    ix, result = twin.index, twin.last_result
    n = len(twin.net.junction)
    suspects = set(map(str, suspects))
    columns, sd, names = [], [], []
    flows = result.sources["flow_t_h"].reindex(ix.source_ids).to_numpy(dtype=float)
    for k in np.flatnonzero(ix.source_role == "fixed_flow"):
        if not np.isfinite(flows[k]) or flows[k] <= 0:
            continue
        node = ix.source_node[k]
        columns.append(_through(n, ix.supply_junction[node], ix.return_junction[node]))
        share = SUSPECT_SHARE if str(ix.source_ids[k]) in suspects else FIXED_FLOW_METER_SHARE
        sd.append(share * flows[k])
        names.append(f"flow {ix.source_ids[k]}")
    station_t_h = result.stations["flow_t_h"].reindex(ix.station_ids).fillna(0.0).to_numpy(dtype=float)
    for k in np.flatnonzero(np.isin(ix.station_ids.astype(str), list(suspects))):
        node = ix.station_node[k]
        columns.append(-_through(n, ix.supply_junction[node], ix.return_junction[node]))
        sd.append(max(SUSPECT_SHARE * station_t_h[k], 1.0))
        names.append(f"demand {ix.station_ids[k]}")
    station_flow = units.t_h_to_kg_per_s(station_t_h)
    if station_flow.any():
        column = np.zeros(n)
        np.add.at(column, ix.supply_junction[ix.station_node], -station_flow)
        np.add.at(column, ix.return_junction[ix.station_node], station_flow)
        columns.append(column)
        sd.append(DEMAND_SCALE_SHARE)
        names.append("station demand scale")
    patterns = np.column_stack(columns) if columns else np.zeros((n, 0))
    return patterns, np.asarray(sd, dtype=float), names


def _gram(linear: Linearization, junctions: np.ndarray, weights: np.ndarray, ends: dict) -> dict:
    gram = {side: np.zeros((len(e), 3)) for side, e in ends.items()}
    unit = -units.t_h_to_kg_per_s(1.0)
    for start in range(0, len(junctions), CHUNK):
        block = np.arange(start, min(start + CHUNK, len(junctions)))
        rhs = np.zeros((linear.n_junctions, len(block)))
        rhs[junctions[block], np.arange(len(block))] = 1.0
        x = linear.solve(rhs) * unit    # row j: change at these sensors of a 1 t/h leak at j
        w = weights[block]
        for side, e in ends.items():
            xf, xt = x[e[:, 0]], x[e[:, 1]]
            gram[side] += np.column_stack([(xf * xf) @ w, (xt * xt) @ w, (xf * xt) @ w])
    return gram


def pressure_sensor_junctions(twin, sensor_map) -> tuple[np.ndarray, np.ndarray]:
    """The sensors that read a pressure the twin models, and the junction each reads."""
    ix = twin.index
    table = sensor_map.predicted
    pressure = table["column"].isin(["p_supply_bar", "p_return_bar"])
    table = table[pressure]
    node_pos = pd.Index(ix.node_ids).get_indexer(table["row"].astype(str))
    source_pos = pd.Index(ix.source_ids).get_indexer(table["row"].astype(str))
    on_source = (table["frame"] == "sources").to_numpy()
    node_pos = np.where(on_source, ix.source_node[np.maximum(source_pos, 0)], node_pos)
    supply = (table["column"] == "p_supply_bar").to_numpy()
    junction = np.where(supply, ix.supply_junction[np.maximum(node_pos, 0)],
                        ix.return_junction[np.maximum(node_pos, 0)])
    ok = node_pos >= 0
    return table["sensor_id"].to_numpy()[ok], junction[ok].astype(int)
