"""Small validated ``Network`` objects for the twin's physics tests, from a compact description,
and a synthetic city of a given size (a meshed tree, for benches when no demo city exists).

Coordinates are metres on a local plane converted to lon/lat near 119.1 E, 36.7 N (Weifang).
Pipes carry ``from_node``, ``to_node`` and ``length_m`` as a validated network does; every other
column gets the default of ``layers.schema.LAYERS``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from layers.network import WGS84, Network
from layers.schema import LAYERS

ORIGIN_LON, ORIGIN_LAT = 119.1, 36.7
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = M_PER_DEG_LAT * np.cos(np.radians(ORIGIN_LAT))


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    return ORIGIN_LON + x_m / M_PER_DEG_LON, ORIGIN_LAT + y_m / M_PER_DEG_LAT


def _frame(layer: str, rows: list[dict], geometry: list) -> gpd.GeoDataFrame:
    spec = LAYERS[layer]
    columns = list(dict.fromkeys([*spec.required, *spec.optional, *(k for row in rows for k in row)]))
    data = pd.DataFrame([{c: row.get(c, spec.optional.get(c)) for c in columns} for row in rows],
                        columns=columns)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84)


def _as_dict(item, keys: tuple[str, ...]) -> dict:
    if isinstance(item, dict):
        return dict(item)
    extra = item[len(keys)] if len(item) > len(keys) else {}
    return {**dict(zip(keys, item[:len(keys)], strict=True)), **extra}


def make_network(nodes: dict, pipes: list, sources: list = (), stations: list = (),
                 valves: list = ()) -> Network:
    """A validated ``Network`` from plain lists.

    Parameters
    ----------
    nodes : ``node_id -> (x_m, y_m)``.
    pipes : ``(pipe_id, from_node, to_node, dn_mm, length_m[, {extra columns}])`` or dicts;
        ``length_m`` None means the straight distance.
    sources : ``(source_id, node_id, role[, {extra}])`` or dicts (``p_flow_bar``, ``plift_bar``,
        ``t_supply_c``, ``flow_t_h`` …).
    stations : ``(station_id, node_id, design_heat_mw[, {extra}])`` or dicts.
    valves : ``(valve_id, pipe_id, node_id[, {extra}])`` or dicts.
    """
    points = {n: Point(*lonlat(*xy)) for n, xy in nodes.items()}
    node_rows = [{"id": n} for n in nodes]
    pipe_rows = []
    for item in pipes:
        row = _as_dict(item, ("id", "from_node", "to_node", "dn_mm", "length_m"))
        if row.get("length_m") is None:
            row["length_m"] = float(np.hypot(*np.subtract(nodes[row["from_node"]], nodes[row["to_node"]])))
        pipe_rows.append(row)
    source_rows = [{"name": r["id"], **r} for r in (_as_dict(s, ("id", "node_id", "role")) for s in sources)]
    station_rows = [{"name": r["id"], **r}
                    for r in (_as_dict(s, ("id", "node_id", "design_heat_mw")) for s in stations)]
    valve_rows = [_as_dict(v, ("id", "pipe_id", "node_id")) for v in valves]
    return Network(
        nodes=_frame("nodes", node_rows, [points[r["id"]] for r in node_rows]),
        pipes=_frame("pipes", pipe_rows,
                     [LineString([points[r["from_node"]], points[r["to_node"]]]) for r in pipe_rows]),
        sources=_frame("sources", source_rows, [points[r["node_id"]] for r in source_rows]),
        stations=_frame("stations", station_rows, [points[r["node_id"]] for r in station_rows]),
        valves=_frame("valves", valve_rows, [points[r["node_id"]] for r in valve_rows]),
    )


def _dn_for_load(load_mw: np.ndarray) -> np.ndarray:
    """A DN that carries ``load_mw`` at ~60 K spread and ≲1.5 m/s (a designer's rule of thumb)."""
    sizes = np.array([65, 80, 100, 125, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900,
                      1000, 1200, 1400])
    flow_m3_s = load_mw * 1e6 / (4186.0 * 60.0) / 983.0
    needed_mm = np.sqrt(4.0 * flow_m3_s / (np.pi * 1.5)) * 1000.0
    return sizes[np.minimum(np.searchsorted(sizes, needed_mm), len(sizes) - 1)]


def synthetic_city(n_stations: int, *, seed: int = 1, loop_share: float = 0.15, n_sources: int = 2,
                   spacing_m: float = 150.0, station_mw: float = 3.0) -> Network:
    """A city-like network: a random spanning tree on a grid, ~15 % extra loop pipes, stations on
    about one node in four (so ~4 pipes per station), the pressure source in the middle and the
    other sources (fixed head) towards the edges. Pipes are sized for the load downstream in the
    tree, so the hydraulics are realistic enough to converge as a real network does.
    """
    rng = np.random.default_rng(seed)
    n_nodes = max(6 * n_stations, 9)  # after pruning stationless branches ~4 pipes per station
    side = int(np.ceil(np.sqrt(n_nodes)))
    xy = np.array([(i % side, i // side) for i in range(n_nodes)], dtype=float) * spacing_m
    ids = np.array([f"N-{i:06d}" for i in range(n_nodes)])
    root = int(np.argmin(np.hypot(*(xy - xy.mean(axis=0)).T)))
    # Randomised BFS tree over the grid from the root: parent of each node.
    parent = np.full(n_nodes, -1)
    seen = np.zeros(n_nodes, bool)
    seen[root] = True
    frontier, order = [root], [root]
    while frontier:
        k = frontier.pop(int(rng.integers(len(frontier))))
        i, j = k % side, k // side
        for di, dj in rng.permutation([(1, 0), (-1, 0), (0, 1), (0, -1)]):
            m = (j + dj) * side + (i + di)
            if 0 <= i + di < side and 0 <= j + dj < side and m < n_nodes and not seen[m]:
                seen[m], parent[m] = True, k
                frontier.append(m)
                order.append(m)
    station_nodes = rng.choice(np.setdiff1d(np.arange(n_nodes), [root]), n_stations, replace=False)
    load = np.zeros(n_nodes)
    load[station_nodes] = station_mw
    for k in reversed(order[1:]):  # leaves first: load carried by the pipe to each node
        load[parent[k]] += load[k]
    # Prune branches that lead to no station: a utility lays pipe only where there are consumers.
    keep = load > 0
    keep[root] = True
    order = [k for k in order if keep[k]]
    tree = [(int(parent[k]), int(k)) for k in order[1:]]
    tree_set = {frozenset(e) for e in tree}
    candidates = [(a, a + 1) for a in range(n_nodes - 1)
                  if (a + 1) % side and keep[a] and keep[a + 1] and frozenset((a, a + 1)) not in tree_set]
    candidates += [(a, a + side) for a in range(n_nodes - side)
                   if keep[a] and keep[a + side] and frozenset((a, a + side)) not in tree_set]
    extra = rng.choice(len(candidates), min(len(candidates), int(loop_share * len(tree))), replace=False)
    loops = [candidates[e] for e in extra]
    dn = np.concatenate([_dn_for_load(np.array([load[b] for _, b in tree])),
                         np.full(len(loops), 150)])
    zones = np.where(xy[:, 0] < xy[:, 0].mean(), "Z1", "Z2")
    pipes = [(f"P-{n:06d}", ids[a], ids[b], int(d), spacing_m,
              {"zone": zones[a], "install_year": int(rng.integers(1990, 2024))})
             for n, ((a, b), d) in enumerate(zip(tree + loops, dn, strict=True))]
    stations = [(f"ST-{n:05d}", ids[k], station_mw) for n, k in enumerate(station_nodes)]
    head = float(np.clip(3.0 + 0.004 * n_stations, 4.0, 10.0))
    sources = [("SRC-01", ids[root], "pressure", {"p_flow_bar": 8.0 + head, "plift_bar": head,
                                                    "t_supply_c": 110.0})]
    # The other sources on a ring around the centre, one node each.
    angles = 2 * np.pi * np.arange(n_sources - 1) / max(n_sources - 1, 1) + np.pi / 4
    ring = xy.mean(axis=0) + 0.35 * np.ptp(xy, axis=0) * np.column_stack([np.cos(angles), np.sin(angles)])
    for n, c in enumerate(ring, start=1):
        sources.append((f"SRC-{n + 1:02d}", ids[int(np.argmin(np.where(keep, np.hypot(*(xy - c).T), np.inf)))], "fixed_head",
                        {"plift_bar": head * 0.8, "p_flow_bar": 8.0 + head, "t_supply_c": 110.0}))
    return make_network({i: tuple(p) for i, p, k in zip(ids, xy, keep, strict=True) if k}, pipes, sources,
                        stations)
