"""Where the plants and stations go and which streets the primary network takes.

Sources sit at the district's edge; stations at street corners with their building inside the
block. The network is the union of the shortest street paths from each station back to the
nearest plant (a tree per plant), plus a few extra street links that close loops and tie the
plants' trees together, as real multi-source networks are interconnected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from data.democity.grid import Grid

LOOP_SHARE = 0.07          # extra edges closing loops, as a share of the tree's edges
INTERCONNECTIONS = 3       # links between different plants' trees


@dataclass
class Layout:
    source_nodes: np.ndarray    # grid node per source (the first is the pressure-holding plant)
    station_nodes: np.ndarray   # grid node per station
    tree_edges: np.ndarray      # (k, 2) parent, child grid nodes
    loop_edges: np.ndarray      # (l, 2)
    region: np.ndarray          # per grid node: index of the source feeding it (-1 if unused)
    depth_m: np.ndarray         # per grid node: street distance from its plant


STATIONS_PER_SOURCE = 150  # a city-scale network gets more plants, as real large cities have


def _source_nodes(grid: Grid, stations: int) -> np.ndarray:
    """The main plant on the west edge, two more on the east edge; larger cities get more plants
    spread over the town (farthest-point placement, so every district has one nearby)."""
    edge = grid.node(np.array([0, grid.nx - 1, grid.nx - 1]),
                     np.array([grid.ny // 3, (3 * grid.ny) // 4, grid.ny // 5]))
    chosen = list(edge)
    distance = np.min(np.linalg.norm(grid.xy[:, None, :] - grid.xy[edge][None, :, :], axis=2), axis=1)
    for _ in range(max(3, round(stations / STATIONS_PER_SOURCE)) - 3):
        far = int(np.argmax(distance))
        chosen.append(far)
        distance = np.minimum(distance, np.linalg.norm(grid.xy - grid.xy[far], axis=1))
    return np.array(chosen)


def _adjacency(grid: Grid, rng: np.random.Generator):
    length = np.linalg.norm(grid.xy[grid.edges[:, 0]] - grid.xy[grid.edges[:, 1]], axis=1)
    weight = length * rng.uniform(0.85, 1.15, len(length))  # some streets are easier to dig
    n = len(grid.xy)
    both = np.concatenate([grid.edges, grid.edges[:, ::-1]])
    return coo_matrix((np.concatenate([weight, weight]), (both[:, 0], both[:, 1])), shape=(n, n)).tocsr()


def _station_nodes(grid: Grid, sources: np.ndarray, stations: int, rng) -> np.ndarray:
    candidates = np.setdiff1d(np.arange(len(grid.xy)), sources)
    return np.sort(rng.choice(candidates, size=stations, replace=False))


def _tree(predecessors: np.ndarray, region: np.ndarray, stations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges on the paths from every station to its plant (pruned shortest-path forest)."""
    used = np.zeros(len(region), dtype=bool)
    frontier = stations.copy()
    while len(frontier):
        used[frontier] = True
        parents = predecessors[frontier]
        frontier = np.unique(parents[(parents >= 0) & ~used[np.maximum(parents, 0)]])
    children = np.flatnonzero(used & (predecessors >= 0))
    return np.column_stack([predecessors[children], children]), used


def _tie_regions(links: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Links between plant districts: enough to join them all into one network, then a few more."""
    parent = list(range(int(region.max()) + 1))

    def root(k):
        while parent[k] != k:
            k = parent[k]
        return k

    tying, spare = [], []
    for a, b in links.tolist():
        ra, rb = root(region[a]), root(region[b])
        if ra != rb:
            parent[ra] = rb
            tying.append((a, b))
        elif len(spare) < INTERCONNECTIONS:
            spare.append((a, b))
    return np.array(tying + spare, dtype=int).reshape(-1, 2)


def _loops(grid: Grid, used: np.ndarray, tree: np.ndarray, region: np.ndarray, rng) -> np.ndarray:
    in_tree = {tuple(sorted(e)) for e in tree.tolist()}
    candidates = np.array([e for e in grid.edges.tolist() if used[e[0]] and used[e[1]]
                           and tuple(sorted(e)) not in in_tree])
    if len(candidates) == 0:
        return np.empty((0, 2), dtype=int)
    between = region[candidates[:, 0]] != region[candidates[:, 1]]
    inter = _tie_regions(candidates[between][rng.permutation(between.sum())], region)
    within = candidates[~between]
    within = within[rng.permutation(len(within))[:int(LOOP_SHARE * len(tree))]]
    return np.vstack([inter, within])


def make_layout(grid: Grid, stations: int, rng: np.random.Generator) -> Layout:
    sources = _source_nodes(grid, stations)
    graph = _adjacency(grid, rng)
    depth, predecessors, nearest = dijkstra(graph, indices=sources, min_only=True, return_predecessors=True)
    position = np.full(len(grid.xy), -1)
    position[sources] = np.arange(len(sources))
    region = np.where(nearest >= 0, position[np.maximum(nearest, 0)], -1)
    station_nodes = _station_nodes(grid, sources, stations, rng)
    tree, used = _tree(predecessors, region, station_nodes)
    used[sources] = True
    loops = _loops(grid, used, tree, region, rng)
    return Layout(sources, station_nodes, tree, loops, np.where(used, region, -1), depth)
