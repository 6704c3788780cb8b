"""The primary network's tables: nodes, pipes (split at mid-block chambers), their design loads
and diameters, stations, sources and section valves — as plain frames in UTM metres."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, diags
from scipy.sparse.linalg import spsolve

from data.democity.grid import BLOCK_M, Grid, ground_elevation_m, river_block_row
from data.democity.layout import Layout
from twin.pipes import diameters_mm

# DN 1200/1400 only appear on the trunks leaving the largest plants (the velocity cap binds there).
DN_SERIES = np.array([150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000, 1200, 1400])
DESIGN_SUPPLY_C = 110.0
SUPPLY_COOLING_K = 2.0         # the supply water's cooling on its way to a far station at design
CP_J_PER_KGK = 4186.0
DENSITY_KG_PER_M3 = 983.0
SPLIT_SHARE = 0.75       # share of street edges with a chamber (a node) mid-block
SOURCE_MAIN_DN_MIN = 700
# Hydraulic design (水力计算) at the design outdoor temperature: specific pressure loss limits in the
# range design institutes use (CJJ 34: mains 30–80 Pa/m, branches up to ~300 Pa/m). Mains are held
# low because the pressure-holding plant's 9 bar lift has to cover the supply and return runs to
# the far end plus the stations' differential pressure, and a cold wave raises flows ~20 %.
R_MAIN_PA_PER_M = 70.0
R_BRANCH_PA_PER_M = 150.0
MAIN_DN_MIN = 300
V_MAX_M_PER_S = 2.0
DESIGN_ROUGHNESS_MM = 0.4      # the oldest pipes' roughness: sizing holds as the network ages
KINEMATIC_VISCOSITY_M2_PER_S = 0.3e-6   # water at ~80 °C
DESIGN_PASSES = 20
PLANT_LIFT_BAR = 9.0           # every plant's pump lift (supply minus return pressure)
TRANSFER_SHARE = 0.1          # fixed-flow plants' dispatch error the ties must carry at design
DP_MARGIN_BAR = 0.5            # design reserve over a station's minimum differential pressure


@dataclass
class NetworkTables:
    nodes: pd.DataFrame      # id, x, y
    pipes: pd.DataFrame      # id, from_node, to_node, x0, y0, x1, y1, load_mw, flow_kg_per_s, dn_mm, kind (tree|loop)
    stations: pd.DataFrame   # id, name, node_id, x, y, heated_area_m2, design_heat_mw, ...
    sources: pd.DataFrame
    valves: pd.DataFrame     # id, pipe_id, node_id, x, y, ...


def friction_factor(inner_m: np.ndarray, velocity_m_per_s: np.ndarray) -> np.ndarray:
    """Darcy friction factor (Swamee–Jain) of hot water in steel pipes of DESIGN_ROUGHNESS_MM."""
    reynolds = np.maximum(np.abs(velocity_m_per_s) * inner_m / KINEMATIC_VISCOSITY_M2_PER_S, 4000.0)
    return 0.25 / np.log10(DESIGN_ROUGHNESS_MM / 1000.0 / (3.7 * inner_m) + 5.74 / reynolds ** 0.9) ** 2


def specific_loss_pa_per_m(flow_kg_per_s, dn_mm) -> np.ndarray:
    """Specific pressure loss R (Pa/m) of a pipe of nominal size ``dn_mm`` carrying ``flow_kg_per_s``."""
    inner_m = diameters_mm(np.asarray(dn_mm, dtype=float))[0] / 1000.0
    velocity = np.asarray(flow_kg_per_s, dtype=float) / (DENSITY_KG_PER_M3 * np.pi * inner_m ** 2 / 4.0)
    return friction_factor(inner_m, velocity) * DENSITY_KG_PER_M3 * velocity ** 2 / (2.0 * inner_m)


def r_limit_pa_per_m(dn_mm) -> np.ndarray:
    """Design limit of the specific pressure loss: mains (DN ≥ MAIN_DN_MIN) and branches."""
    return np.where(np.asarray(dn_mm) >= MAIN_DN_MIN, R_MAIN_PA_PER_M, R_BRANCH_PA_PER_M)


def size_dn(flow_kg_per_s: np.ndarray) -> np.ndarray:
    """Smallest standard DN whose specific pressure loss at the design flow stays within its limit
    (``r_limit_pa_per_m``: 70 Pa/m on mains, 150 Pa/m on branches), as a 水力计算 sizes pipes, and whose
    velocity stays under V_MAX_M_PER_S (it binds only on the largest trunks)."""
    flow = np.abs(np.asarray(flow_kg_per_s, dtype=float))[:, None]
    loss = specific_loss_pa_per_m(flow, DN_SERIES[None, :])
    inner_m = diameters_mm(DN_SERIES)[0] / 1000.0
    velocity = flow / (DENSITY_KG_PER_M3 * np.pi * inner_m[None, :] ** 2 / 4.0)
    fits = (loss <= r_limit_pa_per_m(DN_SERIES)[None, :]) & (velocity <= V_MAX_M_PER_S)
    first = np.where(fits.any(axis=1), fits.argmax(axis=1), len(DN_SERIES) - 1)
    return DN_SERIES[first]


def station_design_flow_kg_per_s(stations: pd.DataFrame) -> np.ndarray:
    """Primary flow a station draws at design: its design heat over the drop from the design supply
    temperature (less the supply line's cooling) to its own return temperature."""
    drop_k = DESIGN_SUPPLY_C - SUPPLY_COOLING_K - stations["t_return_c"].to_numpy(dtype=float)
    return stations["design_heat_mw"].to_numpy(dtype=float) * 1e6 / (CP_J_PER_KGK * drop_k)


def _downstream_load(layout: Layout, heat_by_node: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Design load each tree edge carries (per column of ``heat_by_node``, e.g. MW and kg/s): the sum of
    the stations in the child's subtree."""
    load = heat_by_node.copy()
    parent_of = dict(zip(layout.tree_edges[:, 1].tolist(), layout.tree_edges[:, 0].tolist(), strict=True))
    for child in layout.tree_edges[np.argsort(-depth[layout.tree_edges[:, 1]]), 1].tolist():
        load[parent_of[child]] += load[child]
    return load[layout.tree_edges[:, 1]]


def _stations(grid: Grid, layout: Layout, rng) -> pd.DataFrame:
    n = len(layout.station_nodes)
    area = rng.uniform(40_000, 150_000, n).round(-2)
    w_per_m2 = rng.uniform(45, 60, n)
    # The building stands a few tens of metres into the block north-east of its street corner,
    # or south-east where that block holds the river.
    offset = rng.uniform(25, 50, (n, 2))
    xy = grid.xy[layout.station_nodes] + offset
    wet = shapely.dwithin(shapely.points(xy), grid.river, 15.0)
    xy[wet, 1] -= 2 * offset[wet, 1]
    return pd.DataFrame({
        "id": [f"ST-{k + 1:04d}" for k in range(n)], "grid_node": layout.station_nodes,
        "name": [f"{k + 1}号换热站" for k in range(n)], "x": xy[:, 0], "y": xy[:, 1],
        "heated_area_m2": area, "design_heat_mw": (area * w_per_m2 / 1e6).round(3),
        "t_return_c": rng.uniform(45, 55, n).round(1), "min_dp_bar": rng.uniform(0.5, 1.0, n).round(2),
        "elevation_m": (ground_elevation_m(xy[:, 1]) + rng.uniform(-1.5, 1.5, n)).round(1),
        "install_year": rng.integers(1998, 2024, n),
    })


def _split(edges: np.ndarray, load: np.ndarray, kind: str, grid: Grid, rng, next_node: int):
    """Pipes for street edges, some split by a mid-block chamber node; returns pipes and new nodes."""
    # No chamber on a bridge: a river crossing stays one pipe from bank to bank.
    on_bridge = shapely.intersects(shapely.linestrings(np.stack([grid.xy[edges[:, 0]], grid.xy[edges[:, 1]]],
                                                                axis=1)), grid.river)
    split = (rng.random(len(edges)) < SPLIT_SHARE) & ~on_bridge
    mid_ids = next_node + np.arange(split.sum())
    mid_xy = (grid.xy[edges[split, 0]] + grid.xy[edges[split, 1]]) / 2.0
    first = np.where(split, -1, edges[:, 1])
    first[split] = mid_ids
    pipes = [pd.DataFrame({"from_node": edges[:, 0], "to_node": first, "load_mw": load[:, 0],
                           "flow_kg_per_s": load[:, 1], "kind": kind}),
             pd.DataFrame({"from_node": mid_ids, "to_node": edges[split, 1], "load_mw": load[split, 0],
                           "flow_kg_per_s": load[split, 1], "kind": kind})]
    return pd.concat(pipes, ignore_index=True), mid_xy


def make_network(grid: Grid, layout: Layout, rng) -> NetworkTables:
    depth = layout.depth_m
    stations = _stations(grid, layout, rng)
    heat_by_node = np.zeros((len(grid.xy), 2))
    np.add.at(heat_by_node, stations["grid_node"].to_numpy(),
              np.column_stack([stations["design_heat_mw"].to_numpy(), station_design_flow_kg_per_s(stations)]))
    load = _downstream_load(layout, heat_by_node, depth)   # (edges, 2): MW and kg/s
    order = np.argsort(depth[layout.tree_edges[:, 1]], kind="stable")
    tree, tree_mid = _split(layout.tree_edges[order], load[order], "tree", grid, rng, len(grid.xy))
    loop_load = np.zeros((len(layout.loop_edges), 2))
    loops, loop_mid = _split(layout.loop_edges, loop_load, "loop", grid, rng, len(grid.xy) + len(tree_mid))
    xy = np.vstack([grid.xy, tree_mid, loop_mid])
    pipes = pd.concat([tree, loops], ignore_index=True)
    pipes = _size(pipes, layout)
    pipes = hydraulic_design(pipes, xy, stations, layout)
    return _with_ids(xy, pipes, stations, layout, grid, rng)


def _size(pipes: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    dn = size_dn(pipes["flow_kg_per_s"].to_numpy())
    at_source = np.isin(pipes["from_node"], layout.source_nodes)
    dn[at_source] = np.maximum(dn[at_source], SOURCE_MAIN_DN_MIN)
    is_loop = (pipes["kind"] == "loop").to_numpy()
    # A loop link is sized like the smaller of the mains it ties together.
    node_dn = pd.concat([pd.Series(dn[~is_loop], index=pipes.loc[~is_loop, "from_node"]),
                         pd.Series(dn[~is_loop], index=pipes.loc[~is_loop, "to_node"])]).groupby(level=0).max()
    ends = np.column_stack([pipes["from_node"].map(node_dn), pipes["to_node"].map(node_dn)])
    dn[is_loop] = np.nan_to_num(np.nanmin(ends[is_loop], axis=1), nan=200).astype(int)
    return pipes.assign(dn_mm=dn)


def _pipe_constant(dn_mm: np.ndarray, length_m: np.ndarray, flow_kg_per_s: np.ndarray) -> np.ndarray:
    """K in dp = K·q·|q| (Pa, q in kg/s) at the current flow (the friction factor depends on it)."""
    inner_m = diameters_mm(dn_mm)[0] / 1000.0
    area = np.pi * inner_m ** 2 / 4.0
    lam = friction_factor(inner_m, flow_kg_per_s / (DENSITY_KG_PER_M3 * area))
    return lam * length_m / (2.0 * inner_m * DENSITY_KG_PER_M3 * area ** 2)


def design_flows_kg_per_s(ends: np.ndarray, length_m: np.ndarray, dn_mm: np.ndarray, balance_kg_per_s: np.ndarray,
                          slack: np.ndarray, start_kg_per_s: np.ndarray, iterations: int = 60):
    """Steady flows (kg/s, from → to) in the meshed supply network (the return mirrors it) and each
    node's pressure relative to the plants' (Pa, ≤ 0 where water is drawn; NaN off the network).

    ``balance_kg_per_s`` per node is feed-in minus draw-off; ``slack`` nodes hold a common pressure
    (the pressure-holding or fixed-head plants) and take the rest. Nodal method with the pipes'
    quadratic law linearised around the last flows (damped successive substitution).
    """
    n = len(balance_kg_per_s)
    m = len(ends)
    incidence = coo_matrix((np.r_[np.ones(m), -np.ones(m)], (np.r_[np.arange(m), np.arange(m)],
                                                            np.r_[ends[:, 0], ends[:, 1]])), shape=(m, n)).tocsr()
    free = np.setdiff1d(np.unique(ends), slack)   # street corners off the network are no nodes
    a_free = incidence[:, free]
    flow = start_kg_per_s.astype(float).copy()
    pressure = np.zeros(len(free))
    for _ in range(iterations):
        conductance = 1.0 / (_pipe_constant(dn_mm, length_m, flow) * np.maximum(np.abs(flow), 0.05))
        laplacian = (a_free.T @ diags(conductance) @ a_free).tocsc()
        pressure = spsolve(laplacian, balance_kg_per_s[free])
        new = conductance * (a_free @ pressure)
        change = np.max(np.abs(new - flow)) / max(np.max(np.abs(new)), 1e-9)
        flow = 0.5 * (flow + new)
        if change < 1e-4:
            break
    node_pressure = np.full(n, np.nan)
    node_pressure[slack] = 0.0
    node_pressure[free] = pressure
    return flow, node_pressure


def _paths_to_plants(ends: np.ndarray, is_tree: np.ndarray, nodes: np.ndarray, n: int) -> np.ndarray:
    """Mask of the tree pipes on the way from ``nodes`` back to their plant."""
    pipe_into = np.full(n, -1)
    pipe_into[ends[is_tree, 1]] = np.flatnonzero(is_tree)
    on_path = np.zeros(len(ends), dtype=bool)
    frontier = pipe_into[nodes]
    frontier = frontier[frontier >= 0]
    while len(frontier):
        on_path[frontier] = True
        frontier = pipe_into[ends[frontier, 0]]
        frontier = np.unique(frontier[(frontier >= 0) & ~on_path[np.maximum(frontier, 0)]])
    return on_path


def _step_up(dn: np.ndarray) -> np.ndarray:
    return DN_SERIES[np.minimum(np.searchsorted(DN_SERIES, dn) + 1, len(DN_SERIES) - 1)]


def hydraulic_design(pipes: pd.DataFrame, xy: np.ndarray, stations: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """水力计算 of the tree-sized network as a mesh at design load, repeated until it holds:

    - every pipe (loop ties included: they carry transfer flow between plant districts) whose
      specific pressure loss exceeds its limit is upsized to the DN that meets it;
    - where a station's differential pressure (the plants' lift less the supply and return runs)
      falls below its minimum plus DP_MARGIN_BAR, the steepest pipes on its way back to the plant
      are upsized one step.

    Design load: every station's design flow (``station_design_flow_kg_per_s``); plants on fixed flow
    feed their district's design flow (± TRANSFER_SHARE), the pressure-holding (or fixed-head) plants hold the
    pressure.
    """
    ends = pipes[["from_node", "to_node"]].to_numpy()
    is_tree = (pipes["kind"] == "tree").to_numpy()
    length = np.linalg.norm(xy[ends[:, 0]] - xy[ends[:, 1]], axis=1)
    station_node = stations["grid_node"].to_numpy()
    station_flow = station_design_flow_kg_per_s(stations)
    draw = -np.bincount(station_node, weights=station_flow, minlength=len(xy))
    k = len(layout.source_nodes)
    slack = layout.source_nodes[:1] if k <= 3 else layout.source_nodes
    cases = [draw]
    if k <= 3:
        # Plants on fixed flow feed their district's design flow, and (dispatch is never exact)
        # TRANSFER_SHARE more or less: the difference crosses the ties to the pressure-holding plant.
        feed = np.bincount(layout.region[station_node], weights=station_flow, minlength=k)
        cases = []
        for share in (1.0, 1.0 + TRANSFER_SHARE, 1.0 - TRANSFER_SHARE):
            balance = draw.copy()
            balance[layout.source_nodes[1:]] += share * feed[1:]
            cases.append(balance)
    need_bar = stations["min_dp_bar"].to_numpy() + DP_MARGIN_BAR
    dn = pipes["dn_mm"].to_numpy().copy()
    start = np.where(is_tree, pipes["flow_kg_per_s"].to_numpy(), 1.0)
    flows = [start] * len(cases)
    for _ in range(DESIGN_PASSES):
        needed = dn.copy()
        for c, balance in enumerate(cases):
            flows[c], pressure = design_flows_kg_per_s(ends, length, dn, balance, slack, flows[c])
            needed = np.maximum(needed, size_dn(flows[c]))
            dp_bar = PLANT_LIFT_BAR + 2.0 * np.nan_to_num(pressure[station_node]) / 1e5
            short = station_node[dp_bar < need_bar]
            if len(short) and c == 0:   # the pressure budget holds for the dispatch as planned
                on_path = _paths_to_plants(ends, is_tree, short, len(xy))
                loss = specific_loss_pa_per_m(flows[c], dn)
                steep = on_path & (loss >= np.median(loss[on_path]))
                needed[steep] = np.maximum(needed[steep], _step_up(dn[steep]))
        if np.all(needed == dn):
            break
        dn = needed
    return pipes.assign(dn_mm=dn)


def _with_ids(xy, pipes, stations, layout, grid, rng) -> NetworkTables:
    used = np.unique(pipes[["from_node", "to_node"]].to_numpy())
    node_id = pd.Series([f"N-{k + 1:05d}" for k in range(len(used))], index=used)
    nodes = pd.DataFrame({"id": node_id.to_numpy(), "x": xy[used, 0], "y": xy[used, 1]})
    pipes = pipes.assign(
        id=[f"P-{k + 1:05d}" for k in range(len(pipes))],
        x0=xy[pipes["from_node"], 0], y0=xy[pipes["from_node"], 1],
        x1=xy[pipes["to_node"], 0], y1=xy[pipes["to_node"], 1],
        from_node=pipes["from_node"].map(node_id), to_node=pipes["to_node"].map(node_id))
    stations = stations.assign(node_id=stations["grid_node"].map(node_id))
    sources = _sources(grid, layout, node_id, stations, pipes)
    return NetworkTables(nodes, pipes, stations, sources, _valves(pipes, nodes, rng))


def _role(source_count: int) -> str:
    """A district's second and third plants feed fixed flow; in a city of many plants, where no
    single dispatcher sets every flow, each plant feeds at a fixed head instead."""
    return "fixed_flow" if source_count <= 3 else "fixed_head"


def _sources(grid, layout, node_id, stations, pipes) -> pd.DataFrame:
    k = len(layout.source_nodes)
    region_of_station = layout.region[stations["grid_node"].to_numpy()]
    load_mw = np.bincount(region_of_station, weights=stations["design_heat_mw"], minlength=k)
    outward = np.zeros((k, 2))
    outward[:3, 0] = [-180.0, 180.0, 180.0]   # edge plants stand outside town
    outward[3:] = [60.0, -60.0]
    xy = grid.xy[layout.source_nodes] + outward
    # A district's design flow is what its stations draw at the design supply temperature.
    flow_t_h = np.bincount(region_of_station, weights=station_design_flow_kg_per_s(stations), minlength=k) * 3.6
    names = ["潍坊第一热电厂", "北海热电厂", "寒亭热电厂", *[f"第{n}热源厂" for n in range(4, k + 1)]]
    # The other plants feed their district's design flow; the main plant holds pressure and balances.
    return pd.DataFrame({
        "id": [f"SRC-{n}" for n in range(1, k + 1)], "name": names,
        "node_id": node_id[layout.source_nodes].to_numpy(), "role": ["pressure"] + [_role(k)] * (k - 1),
        "x": xy[:, 0], "y": xy[:, 1], "capacity_mw": (1.2 * load_mw).round(0), "p_flow_bar": 14.0,
        "plift_bar": PLANT_LIFT_BAR, "t_supply_c": 110.0, "flow_t_h": [np.nan, *flow_t_h[1:].round(0)],
        "p_static_bar": 4.0})


def _valves(pipes: pd.DataFrame, nodes: pd.DataFrame, rng) -> pd.DataFrame:
    """Section valves at the start of every branch and at both ends of loop links and big mains."""
    degree = pd.concat([pipes["from_node"], pipes["to_node"]]).value_counts()
    branch = pipes["from_node"].map(degree).to_numpy() >= 3
    loop = (pipes["kind"] == "loop").to_numpy()
    main = (pipes["dn_mm"].to_numpy() >= 500) & (rng.random(len(pipes)) < 0.6)
    at_from = pipes[branch | loop | main]
    at_to = pipes[loop]
    placed = pd.concat([pd.DataFrame({"pipe_id": at_from["id"], "node_id": at_from["from_node"], "end": 0}),
                        pd.DataFrame({"pipe_id": at_to["id"], "node_id": at_to["to_node"], "end": 1})],
                       ignore_index=True)
    geometry = pipes.set_index("id").loc[placed["pipe_id"]]
    start = np.where(placed["end"] == 0, geometry["x0"], geometry["x1"]), np.where(placed["end"] == 0,
                                                                                     geometry["y0"], geometry["y1"])
    other = np.where(placed["end"] == 0, geometry["x1"], geometry["x0"]), np.where(placed["end"] == 0,
                                                                                     geometry["y1"], geometry["y0"])
    lines = shapely.linestrings(np.stack([np.column_stack(start), np.column_stack(other)], axis=1))
    point = shapely.line_interpolate_point(lines, 3.0)
    n = len(placed)
    return placed.assign(
        id=[f"V-{k + 1:04d}" for k in range(n)], x=shapely.get_x(point), y=shapely.get_y(point),
        normally_open=True, operable=rng.random(n) >= 0.03, dn_mm=geometry["dn_mm"].to_numpy(),
        chamber_id=[f"阀门井-{k + 1:03d}" for k in range(n)]).drop(columns="end")


def block_of(grid: Grid, node: np.ndarray) -> np.ndarray:
    """Lower-left corner of the block diagonal to a grid node (the block left of it on the east edge).

    The river's row of blocks holds no buildings, and a block holds one community: a block in the
    river's row, or already given to an earlier node (on the district's edges), moves to a free
    block across the street beside it.
    """
    i = np.minimum(node % grid.nx, grid.nx - 2)
    j = np.minimum(node // grid.nx, grid.ny - 2)
    wet = j == river_block_row(grid.ny)
    clash = pd.Series(list(zip(i.tolist(), j.tolist(), strict=True))).duplicated().to_numpy()
    taken = set(zip(i[~wet].tolist(), j[~wet].tolist(), strict=True))
    for k in np.flatnonzero(wet | clash).tolist():   # a handful of blocks
        free = [(i[k] + di, j[k] + dj) for dj in (-1, 1, 0) for di in (0, -1, 1)
                if 0 <= i[k] + di <= grid.nx - 2 and 0 <= j[k] + dj <= grid.ny - 2
                and j[k] + dj != river_block_row(grid.ny) and (i[k] + di, j[k] + dj) not in taken]
        if free:
            taken.add(free[0])
            i[k], j[k] = free[0]
    return np.column_stack([i * BLOCK_M, j * BLOCK_M])
