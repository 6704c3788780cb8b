"""Small hand-built networks for the isolation tests, and a random grid generator.

Frames are built directly (no reader): nodes as Points, pipes as LineStrings carrying the
``from_node``, ``to_node`` and ``length_m`` a validated network has; every other column gets the
default of ``layers.schema.LAYERS``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, box

from layers.network import WGS84, Network
from layers.schema import LAYERS

DEG_M = 111_000.0  # metres per degree of latitude, near enough for test lengths
ORIGIN = (116.40, 39.90)


def _frame(layer: str, rows: list[dict], geometry: list) -> gpd.GeoDataFrame:
    spec = LAYERS[layer]
    columns = list(dict.fromkeys([*spec.required, *spec.optional, *(k for row in rows for k in row)]))
    data = pd.DataFrame([{c: row.get(c, spec.optional.get(c)) for c in columns} for row in rows], columns=columns)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84)


def make_network(nodes: dict, pipes: list, valves: list = (), sources: dict | None = None,
                 stations: list = (), communities: list = ()) -> Network:
    """A validated ``Network`` from plain lists.

    Parameters
    ----------
    nodes : dict
        ``node_id -> (x, y)`` grid position; one unit is 100 m.
    pipes : list of tuple
        ``(pipe_id, from_node, to_node)``.
    valves : list of tuple
        ``(valve_id, pipe_id, node_id)`` or ``(valve_id, pipe_id, node_id, {"operable": False, ...})``.
    sources : dict
        ``source_id -> node_id``.
    stations : list of tuple
        ``(station_id, node_id, heated_area_m2, design_heat_mw)``.
    communities : list of tuple
        ``(community_id, station_id, households, heated_area_m2)``.
    """
    def lonlat(node_id):
        x, y = nodes[node_id]
        return ORIGIN[0] + x * 100 / DEG_M, ORIGIN[1] + y * 100 / DEG_M

    node_rows = [{"id": n} for n in nodes]
    pipe_rows = [{"id": p, "dn_mm": 200, "from_node": a, "to_node": b,
                  "length_m": 100.0 * float(np.hypot(*np.subtract(nodes[a], nodes[b])))} for p, a, b in pipes]
    valve_rows = [{"id": v[0], "pipe_id": v[1], "node_id": v[2], **(v[3] if len(v) > 3 else {})} for v in valves]
    source_rows = [{"id": s, "name": s, "node_id": n, "role": "pressure"} for s, n in (sources or {}).items()]
    station_rows = [{"id": s, "name": s, "node_id": n, "heated_area_m2": a, "design_heat_mw": q}
                    for s, n, a, q in stations]
    community_rows = [{"id": c, "name": c, "station_id": s, "households": h, "heated_area_m2": a}
                      for c, s, h, a in communities]
    station_node = {s: n for s, n, _, _ in stations}
    return Network(
        nodes=_frame("nodes", node_rows, [Point(lonlat(n)) for n in nodes]),
        pipes=_frame("pipes", pipe_rows, [LineString([lonlat(a), lonlat(b)]) for _, a, b in pipes]),
        valves=_frame("valves", valve_rows, [Point(lonlat(v[2])) for v in valves]),
        sources=_frame("sources", source_rows, [Point(lonlat(n)) for n in (sources or {}).values()]),
        stations=_frame("stations", station_rows, [Point(lonlat(n)) for _, n, _, _ in stations]),
        communities=_frame("communities", community_rows,
                           [box(*lonlat(station_node[s]), *np.add(lonlat(station_node[s]), 0.0005))
                            for _, s, _, _ in communities]),
    )


def tree() -> Network:
    """One source, a trunk and two branches; 3 stations.

    ::

        SRC-1 N-0 -P-1- N-1 -P-2- N-2 -P-3- N-3 (ST-A)
                         |
                        P-4
                         |
                        N-4 -P-5- N-5 (ST-B)
                         |
                        P-6
                         |
                        N-6 (ST-C)
    """
    nodes = {"N-0": (0, 0), "N-1": (1, 0), "N-2": (2, 0), "N-3": (3, 0), "N-4": (1, -1), "N-5": (2, -1),
             "N-6": (1, -2)}
    pipes = [("P-1", "N-0", "N-1"), ("P-2", "N-1", "N-2"), ("P-3", "N-2", "N-3"), ("P-4", "N-1", "N-4"),
             ("P-5", "N-4", "N-5"), ("P-6", "N-4", "N-6")]
    valves = [("V-1a", "P-1", "N-0"), ("V-1b", "P-1", "N-1"), ("V-2", "P-2", "N-1"), ("V-3", "P-3", "N-2"),
              ("V-4a", "P-4", "N-1"), ("V-4b", "P-4", "N-4"), ("V-5", "P-5", "N-4"), ("V-6", "P-6", "N-4")]
    stations = [("ST-A", "N-3", 10_000.0, 1.0), ("ST-B", "N-5", 20_000.0, 2.0), ("ST-C", "N-6", 40_000.0, 4.0)]
    communities = [("C-A1", "ST-A", 100, 6_000.0), ("C-A2", "ST-A", 50, 4_000.0), ("C-B1", "ST-B", 200, 20_000.0),
                   ("C-C1", "ST-C", 400, 40_000.0)]
    return make_network(nodes, pipes, valves, {"SRC-1": "N-0"}, stations, communities)


def ring(extra_valves: dict | None = None, tie_closed: bool = False) -> Network:
    """One source feeding a ring of four pipes, valves at both ends of every ring pipe.

    ::

        SRC-1 N-0 -P-1- N-1 -P-2- N-2 (ST-2)
                         |          |
                        P-5        P-3
                         |          |
                (ST-4) N-4 -P-4- N-3 (ST-3)

    ``tie_closed`` makes V-4a (P-4 at N-3) a normally closed tie valve, which opens the ring.
    ``extra_valves`` maps a valve id to extra attributes (``{"V-3b": {"operable": False}}``).
    """
    extra = dict(extra_valves or {})
    if tie_closed:
        extra.setdefault("V-4a", {})["normally_open"] = False
    nodes = {"N-0": (0, 0), "N-1": (1, 0), "N-2": (2, 0), "N-3": (2, -1), "N-4": (1, -1)}
    pipes = [("P-1", "N-0", "N-1"), ("P-2", "N-1", "N-2"), ("P-3", "N-2", "N-3"), ("P-4", "N-3", "N-4"),
             ("P-5", "N-4", "N-1")]
    valves = [("V-1", "P-1", "N-1")]
    for k, (_, a, b) in enumerate(pipes[1:], start=2):
        valves += [(f"V-{k}a", f"P-{k}", a), (f"V-{k}b", f"P-{k}", b)]
    valves = [(v, p, n, extra.get(v, {})) for v, p, n in valves]
    stations = [(f"ST-{k}", f"N-{k}", 10_000.0 * k, float(k)) for k in (2, 3, 4)]
    communities = [(f"C-{k}", f"ST-{k}", 100 * k, 10_000.0 * k) for k in (2, 3, 4)]
    return make_network(nodes, pipes, valves, {"SRC-1": "N-0"}, stations, communities)


def two_sources() -> Network:
    """A main with no valve between SRC-1 and P-2; SRC-2 feeds ST-3 from the other side.

    ::

        SRC-1 N-0 -P-1- N-1 -P-2- N-2 -P-3- N-3 (ST-3) -P-4- N-4 SRC-2
                              V-2 at N-2 ┘  └ V-3a, V-3b  └ V-4 at N-3
    """
    nodes = {f"N-{k}": (k, 0) for k in range(5)}
    pipes = [(f"P-{k}", f"N-{k - 1}", f"N-{k}") for k in range(1, 5)]
    valves = [("V-2", "P-2", "N-2"), ("V-3a", "P-3", "N-2"), ("V-3b", "P-3", "N-3"), ("V-4", "P-4", "N-3")]
    stations = [("ST-1", "N-1", 5_000.0, 0.5), ("ST-3", "N-3", 30_000.0, 3.0)]
    communities = [("C-1", "ST-1", 40, 5_000.0), ("C-3", "ST-3", 300, 30_000.0)]
    return make_network(nodes, pipes, valves, {"SRC-1": "N-0", "SRC-2": "N-4"}, stations, communities)


def random_grid(rng: np.random.Generator, width: int = 7, height: int = 6) -> Network:
    """A random meshed grid: missing links, 1–2 sources, valves on random pipe ends (some inoperable,
    some normally closed, a few doubled on one end), stations on a third of the nodes."""
    nodes = {f"N-{x}-{y}": (x, y) for x in range(width) for y in range(height)}
    pipes = []
    for x in range(width):
        for y in range(height):
            for dx, dy in ((1, 0), (0, 1)):
                if x + dx < width and y + dy < height and rng.random() < 0.75:
                    pipes.append((f"P-{len(pipes):03d}", f"N-{x}-{y}", f"N-{x + dx}-{y + dy}"))
    valves = []
    for pipe_id, a, b in pipes:
        for node_id in (a, b):
            for _ in range(1 + (rng.random() < 0.05)):
                if rng.random() < 0.45:
                    attrs = {"operable": bool(rng.random() > 0.15), "normally_open": bool(rng.random() > 0.05)}
                    valves.append((f"V-{len(valves):03d}", pipe_id, node_id, attrs))
    names = list(nodes)
    picked = rng.choice(len(names), size=len(names) // 3 + 2, replace=False)
    sources = {f"SRC-{k + 1}": names[i] for k, i in enumerate(picked[: 1 + (rng.random() < 0.5)])}
    stations = [(f"ST-{k:02d}", names[i], float(rng.integers(1, 9)) * 1e4, float(rng.integers(1, 6)))
                for k, i in enumerate(picked[2:])]
    communities = [(f"C-{s[3:]}", s, int(rng.integers(10, 500)), 1e4) for s, *_ in stations]
    return make_network(nodes, pipes, valves, sources, stations, communities)
