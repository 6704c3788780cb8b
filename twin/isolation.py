"""Isolation analysis (关阀/解列): which section valves to close to take a pipe or a node out of
service, and what goes dry when they are closed.

Pure graph analysis of a ``layers.network.Network``; no hydraulics. Whether stations fed the long
way round a loop still get enough pressure is for the twin's re-solve to say.

Model
-----
The graph's vertices are the network's nodes and pipes; each pipe is joined to its two end nodes
by an *end edge*. A section valve sits on one end edge (pipe ``pipe_id`` at node ``node_id``);
closing it cuts that edge, supply and return together (one chamber closes the pair), so one graph
serves both. End edges without a valve can never be cut, so the network falls apart into
*segments*: the pieces left when every valved end edge is cut. All per-call work happens on the
much smaller *segment graph*, whose edges are the valved end edges.

Isolating a target grows a *region* from the target's segment across valved edges that cannot be
closed (every valve there inoperable); the region's boundary edges are then either already closed
or carry an operable valve, and closing one valve per such edge seals the region. Each of these
valves is necessary: leaving one open joins the region to the segment behind it. The set is the
smallest that keeps the dry region smallest; a set with fewer valves further out may exist, but it
drains more of the network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["Isolation", "IsolationGraph", "isolate"]


@dataclass
class Isolation:
    """What isolating one element takes and what it cuts off.

    Attributes
    ----------
    target : str
        The pipe or node id that was isolated.
    valves_to_close : list of str
        Operable valves to close, one per boundary edge of the isolated region (sorted).
    inoperable_skipped : list of str
        Inoperable valves the region had to grow through.
    isolated_pipes, isolated_nodes : list of str
        The region sealed off by ``valves_to_close`` (the target's own section).
    dry_pipes, dry_nodes : list of str
        The isolated region plus everything that loses its last path to a source.
    sources_lost : list of str
        Sources whose node lies in the isolated region.
    stations_cut_off, communities_cut_off : list of str
        Stations whose node goes dry, and the communities those stations serve.
    households_cut_off : int
        Households of ``communities_cut_off``.
    heated_area_cut_off_m2 : float
        Heated area of the cut-off stations, in m².
    heat_cut_off_mw : float
        Design heat load of the cut-off stations, in MW.
    already_closed : list of str
        Valves on the region's boundary that are closed already (normally closed, or closed by the
        caller); nothing to do there, listed so the crew knows they hold.
    """

    target: str
    valves_to_close: list[str]
    inoperable_skipped: list[str]
    isolated_pipes: list[str]
    isolated_nodes: list[str]
    dry_pipes: list[str]
    dry_nodes: list[str]
    sources_lost: list[str]
    stations_cut_off: list[str]
    communities_cut_off: list[str]
    households_cut_off: int
    heated_area_cut_off_m2: float
    heat_cut_off_mw: float
    already_closed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready dict: every field, plus ``counts`` of each list."""
        out = asdict(self)
        out["counts"] = {name: len(value) for name, value in out.items() if isinstance(value, list)}
        return out


@dataclass
class _Valving:
    """Per-valved-edge state for one choice of inoperable and closed valves."""

    closed: np.ndarray        # bool per valved edge: some valve on it is closed now
    closable: np.ndarray      # bool per valved edge: open now, and some valve on it is operable
    chosen: np.ndarray        # valve index to close per valved edge (-1 where not closable)
    region_label: np.ndarray  # region per segment: segments joined by edges that can be neither closed nor cut
    valve_closed: np.ndarray  # bool per valve
    valve_inoperable: np.ndarray
    tree: _RegionTree | None = None    # filled by the first isolation
    table: pd.DataFrame | None = None  # per-region figures, filled by the first sweep


@dataclass
class _RegionTree:
    """Depth-first tree of the region graph from a super-source joined to every source's region.

    Isolating region ``r`` deletes vertex ``r``; what loses supply is ``r`` plus the subtrees of the
    children listed for ``r`` in ``cuts`` (the articulation-point test). Subtrees are contiguous
    in preorder, so each is a slice of ``by_order``. Unreached regions are dry already.
    """

    n: int                  # regions; the super-source is vertex n
    order: np.ndarray       # preorder number per vertex, -1 where unreached
    size: np.ndarray        # subtree size per vertex
    by_order: np.ndarray    # vertex per preorder number
    cuts: np.ndarray        # (region, child) rows, sorted by region, super-source rows dropped
    cut_start: np.ndarray   # rows of region r are cuts[cut_start[r]:cut_start[r + 1]]


class IsolationGraph:
    """The network's valve topology, built once and reused for every isolation.

    Parameters
    ----------
    network : layers.network.Network
        A validated network: pipes carry ``from_node`` and ``to_node``.

    Attributes
    ----------
    problems : list of str
        Valves, stations or sources that could not be placed on the graph (and are left out).
    recorded_inoperable, recorded_closed : set of str
        Valves recorded with ``operable`` false / ``normally_open`` false: the defaults of ``isolate``.
    """

    def __init__(self, network):
        self.problems: list[str] = []
        self._index_elements(network)
        self._index_valves(network.valves)
        self._index_consumers(network)
        self.recorded_inoperable = set(self.valve_ids[~_as_bool(network.valves, "operable", True)])
        self.recorded_closed = set(self.valve_ids[~_as_bool(network.valves, "normally_open", True)])
        self._valving_cache: dict = {}

    # -- building ---------------------------------------------------------------------------------

    def _index_elements(self, network) -> None:
        pipes = network.pipes
        missing = [c for c in ("from_node", "to_node") if c not in pipes.columns]
        if missing or pipes[["from_node", "to_node"]].isna().any().any():
            raise ValueError("pipes layer: from_node/to_node missing; isolation needs a validated network "
                             "(read it with layers.read.read_network)")
        self.pipe_ids = pipes["id"].astype(str).to_numpy()
        ends = pd.concat([pipes["from_node"], pipes["to_node"]]).astype(str)
        # Nodes named only by pipe ends still join pipes together, so they are vertices too.
        node_ids = pd.Index(network.nodes["id"].astype(str)).append(pd.Index(ends)).unique()
        self.node_ids = node_ids.to_numpy()
        self._node_index = pd.Index(self.node_ids)
        self._pipe_index = pd.Index(self.pipe_ids)
        self.n_nodes, self.n_pipes = len(self.node_ids), len(self.pipe_ids)
        self._pipe_position = {p: i for i, p in enumerate(self.pipe_ids)}
        self._node_position = {n: i for i, n in enumerate(self.node_ids)}
        self._from = self._node_index.get_indexer(pipes["from_node"].astype(str))
        self._to = self._node_index.get_indexer(pipes["to_node"].astype(str))
        # End edge 2k joins pipe k to its from-node, 2k+1 to its to-node. Pipe vertices follow node ones.
        self._edge_pipe_vertex = np.repeat(self.n_nodes + np.arange(self.n_pipes), 2)
        self._edge_node_vertex = np.column_stack([self._from, self._to]).ravel()

    def _index_valves(self, valves) -> None:
        """Place each valve on its end edge, cut the graph into segments, number the valved edges."""
        self.valve_ids = valves["id"].astype(str).to_numpy()
        pipe = self._pipe_index.get_indexer(valves["pipe_id"].astype(str))
        node = self._node_index.get_indexer(valves["node_id"].astype(str))
        safe = np.where(pipe >= 0, pipe, 0)
        at_from = (pipe >= 0) & (self._from[safe] == node)
        at_to = (pipe >= 0) & (self._to[safe] == node) & ~at_from
        edge = np.where(at_from, 2 * safe, np.where(at_to, 2 * safe + 1, -1))
        for valve_id in self.valve_ids[edge < 0]:
            self.problems.append(f"valves {valve_id}: node_id is not an end of pipe_id; left out")
        edge_valved = np.zeros(2 * self.n_pipes, dtype=bool)
        edge_valved[edge[edge >= 0]] = True
        self._segments(edge_valved)
        # Valved edges, numbered 0..n-1, each joining a pipe's segment to its end node's segment.
        valved = np.flatnonzero(edge_valved)
        self._ve_a = self.segment[self._edge_pipe_vertex[valved]]
        self._ve_b = self.segment[self._edge_node_vertex[valved]]
        self._valve_edge = np.where(edge >= 0, np.searchsorted(valved, np.maximum(edge, 0)), -1)
        self._valve_rank = np.argsort(np.argsort(self.valve_ids, kind="stable"), kind="stable")

    def _segments(self, cut: np.ndarray) -> None:
        keep = ~cut
        n = self.n_nodes + self.n_pipes
        self.n_segments, labels = _components(n, self._edge_pipe_vertex[keep], self._edge_node_vertex[keep])
        self.segment = labels
        self._node_segment = labels[: self.n_nodes]
        self._pipe_segment = labels[self.n_nodes:]

    def _index_consumers(self, network) -> None:
        stations, sources = network.stations, network.sources
        self.station_ids = stations["id"].astype(str).to_numpy()
        self.source_ids = sources["id"].astype(str).to_numpy()
        self._station_node = self._place(stations, "stations")
        source_node = self._place(sources, "sources")
        self._source_segment = np.where(source_node >= 0, self._node_segment[source_node], -1)
        self._station_heat_mw = np.nan_to_num(_numbers(stations, "design_heat_mw"))
        communities = network.communities
        served = pd.DataFrame({"station_id": communities["station_id"].astype(str),
                               "households": _numbers(communities, "households"),
                               "heated_area_m2": _numbers(communities, "heated_area_m2")})
        served = served.groupby("station_id").sum().reindex(self.station_ids).fillna(0)
        self._station_households = served["households"].to_numpy(dtype=np.int64)
        # The station's design heated area counts; its communities' areas stand in where it is unknown.
        own_area_m2 = _numbers(stations, "heated_area_m2")
        self._station_area_m2 = np.where(np.isnan(own_area_m2), served["heated_area_m2"], own_area_m2)
        self._community_ids = communities["id"].astype(str).to_numpy()
        self._community_station = pd.Index(self.station_ids).get_indexer(communities["station_id"].astype(str))

    def _place(self, frame, layer: str) -> np.ndarray:
        node = self._node_index.get_indexer(frame["node_id"].astype(str))
        for element_id in frame["id"].astype(str).to_numpy()[node < 0]:
            self.problems.append(f"{layer} {element_id}: node_id is on no pipe; left out")
        return node

    # -- valve states -----------------------------------------------------------------------------

    def _valving(self, inoperable: set[str] | None, closed: set[str] | None) -> _Valving:
        # The recorded states get a cheap key: the N-1 sweep and most callers use them.
        key = None if inoperable is None and closed is None else (
            frozenset(self.recorded_inoperable if inoperable is None else inoperable),
            frozenset(self.recorded_closed if closed is None else closed))
        inoperable = self.recorded_inoperable if inoperable is None else set(inoperable)
        closed = self.recorded_closed if closed is None else set(closed)
        if key not in self._valving_cache:
            self._valving_cache = {key: self._compute_valving(inoperable, closed)}  # keep the latest only
        return self._valving_cache[key]

    def _compute_valving(self, inoperable: set[str], closed: set[str]) -> _Valving:
        n_edges = len(self._ve_a)
        placed = self._valve_edge >= 0
        # Hash lookups: np.isin on object arrays sorts them, 100x slower at 10,000 valves.
        valve_closed = pd.Index(self.valve_ids).isin(closed)
        valve_inoperable = pd.Index(self.valve_ids).isin(inoperable)
        operable = placed & ~valve_closed & ~valve_inoperable
        edge_closed = np.bincount(self._valve_edge[placed & valve_closed], minlength=n_edges) > 0
        edge_closable = (np.bincount(self._valve_edge[operable], minlength=n_edges) > 0) & ~edge_closed
        chosen = np.full(n_edges, -1)
        # Lowest valve id per edge, so the answer does not depend on layer order.
        candidates = np.flatnonzero(operable)
        candidates = candidates[np.lexsort((self._valve_rank[candidates], self._valve_edge[candidates]))]
        edges, first = np.unique(self._valve_edge[candidates], return_index=True)
        chosen[edges] = candidates[first]
        stuck = ~edge_closed & ~edge_closable
        _, region_label = _components(self.n_segments, self._ve_a[stuck], self._ve_b[stuck])
        return _Valving(edge_closed, edge_closable, chosen, region_label, valve_closed, valve_inoperable)

    def _tree(self, valving: _Valving) -> _RegionTree:
        """The region graph's depth-first tree, built once per valve state.

        Each region becomes one vertex, so isolating a region is deleting one vertex from the graph
        of closable valved edges between regions (closed ones carry nothing).
        """
        if valving.tree is None:
            label = valving.region_label
            n = int(label.max()) + 1 if len(label) else 0
            ra, rb = label[self._ve_a], label[self._ve_b]
            link = valving.closable & (ra != rb)
            feeding = np.unique(label[self._source_segment[self._source_segment >= 0]])
            a = np.concatenate([ra[link], np.full(len(feeding), n)])
            b = np.concatenate([rb[link], feeding])
            order, size, cuts = _dfs_cut_vertices(n + 1, np.concatenate([a, b]), np.concatenate([b, a]), root=n)
            by_order = np.full(n + 1, -1)
            by_order[order[order >= 0]] = np.flatnonzero(order >= 0)
            cuts = cuts[cuts[:, 0] < n]  # the super-source is never isolated
            cuts = cuts[np.argsort(cuts[:, 0], kind="stable")]
            valving.tree = _RegionTree(n, order, size, by_order, cuts,
                                       np.searchsorted(cuts[:, 0], np.arange(n + 1)))
        return valving.tree

    # -- isolation --------------------------------------------------------------------------------

    def segment_of(self, element_id: str) -> int:
        """The segment holding pipe or node ``element_id``; raises ``KeyError`` naming what to pass."""
        if element_id in self._pipe_position:
            return int(self._pipe_segment[self._pipe_position[element_id]])
        if element_id in self._node_position:
            return int(self._node_segment[self._node_position[element_id]])
        raise KeyError(f"{element_id!r} is neither a pipe id (P-…) nor a node id (N-…) of this network; "
                       "to isolate a station or source, isolate its node or its branch pipe")

    def isolate(self, element_id: str, *, inoperable: set[str] | None = None,
                closed: set[str] | None = None) -> Isolation:
        """Valves to close to isolate pipe or node ``element_id``, and what that cuts off.

        Parameters
        ----------
        element_id : str
            A pipe id or a node id.
        inoperable : set of str, optional
            Valves that cannot be closed; default the valves recorded with ``operable`` false.
        closed : set of str, optional
            Valves closed right now; default the valves recorded with ``normally_open`` false.
        """
        valving = self._valving(inoperable, closed)
        cut = self._cut(self.segment_of(element_id), valving)
        return self._describe(element_id, cut, valving)

    def sweep(self, element_ids=None, *, inoperable: set[str] | None = None,
              closed: set[str] | None = None) -> pd.DataFrame:
        """Isolate every element in turn (default: every pipe): the N-1 table, one row per element.

        Counts agree with ``isolate`` element by element; they come from one pass of prefix sums
        over the region tree (``_RegionTree``), so the whole table costs about one isolation.

        Returns
        -------
        pandas.DataFrame
            ``element_id, valves_to_close`` (list), ``n_valves_to_close, n_inoperable_skipped,
            n_sources_lost, n_dry_pipes, n_stations_cut_off, households_cut_off,
            heated_area_cut_off_m2, heat_cut_off_mw``.
        """
        valving = self._valving(inoperable, closed)
        if valving.table is None:
            valving.table = self._region_table(valving)
        element_ids = self.pipe_ids if element_ids is None else np.asarray(element_ids, dtype=str)
        segments = np.array([self.segment_of(e) for e in element_ids], dtype=np.int64)
        table = valving.table.iloc[valving.region_label[segments]].reset_index(drop=True)
        table.insert(0, "element_id", element_ids)
        return table

    def _region_table(self, valving: _Valving) -> pd.DataFrame:
        """Every region's isolation figures at once: a region's own weights plus those of the
        subtrees it cuts off, summed with prefix sums over the preorder."""
        label, tree = valving.region_label, self._tree(valving)
        n, order, size = tree.n, tree.order, tree.size
        weights = self._region_weights(label, n)
        reached = order >= 0
        prefix = np.zeros((n + 2, weights.shape[1]))
        prefix[order[reached] + 1] = np.vstack([weights, np.zeros((1, weights.shape[1]))])[reached]
        prefix = np.cumsum(prefix, axis=0)
        below = prefix[np.where(reached, order + size, 0)] - prefix[np.maximum(order, 0)]
        cut_off = weights.copy()
        np.add.at(cut_off, tree.cuts[:, 0], below[tree.cuts[:, 1]])
        link = valving.closable & (label[self._ve_a] != label[self._ve_b])
        return self._table_columns(valving, label, n, link, cut_off)

    def _region_weights(self, label: np.ndarray, n: int) -> np.ndarray:
        """Per region: pipes, stations, households, heated area (m²), heat load (MW)."""
        on_graph = self._station_node >= 0
        region = label[self._node_segment[self._station_node[on_graph]]]
        columns = [np.bincount(label[self._pipe_segment], minlength=n)]
        for values in (np.ones(on_graph.sum()), self._station_households[on_graph],
                       self._station_area_m2[on_graph], self._station_heat_mw[on_graph]):
            columns.append(np.bincount(region, weights=values, minlength=n))
        return np.column_stack(columns).astype(float)

    def _table_columns(self, valving: _Valving, label: np.ndarray, n: int, link: np.ndarray,
                       cut_off: np.ndarray) -> pd.DataFrame:
        """The sweep's columns per region, from the cut-off sums and the closable links."""
        ra, rb = label[self._ve_a][link], label[self._ve_b][link]
        # Each closable link is a valve to close for the regions at both of its ends.
        region = np.concatenate([ra, rb])
        valve = np.tile(valving.chosen[link], 2)
        order = np.lexsort((self._valve_rank[valve], region))
        names = self.valve_ids[valve[order]].tolist()
        starts = np.searchsorted(region[order], np.arange(n + 1)).tolist()
        crossed = ~valving.closed & ~valving.closable & (self._ve_a != self._ve_b)
        skipped = self._valve_edge >= 0
        skipped[skipped] = crossed[self._valve_edge[skipped]]
        skipped &= valving.valve_inoperable
        sources = self._source_segment[self._source_segment >= 0]
        return pd.DataFrame({
            "valves_to_close": [names[starts[r]:starts[r + 1]] for r in range(n)],
            "n_valves_to_close": np.bincount(region, minlength=n),
            "n_inoperable_skipped": np.bincount(label[self._ve_a[self._valve_edge[skipped]]], minlength=n),
            "n_sources_lost": np.bincount(label[sources], minlength=n),
            "n_dry_pipes": cut_off[:, 0].round().astype(np.int64),
            "n_stations_cut_off": cut_off[:, 1].round().astype(np.int64),
            "households_cut_off": cut_off[:, 2].round().astype(np.int64),
            "heated_area_cut_off_m2": cut_off[:, 3],
            "heat_cut_off_mw": cut_off[:, 4],
        })

    def _cut(self, seed_segment: int, valving: _Valving) -> dict:
        """Region, boundary and dry masks for isolating the region that holds ``seed_segment``."""
        region = valving.region_label == valving.region_label[seed_segment]
        a_in, b_in = region[self._ve_a], region[self._ve_b]
        boundary = a_in ^ b_in
        to_close = boundary & valving.closable
        crossed = a_in & b_in & (self._ve_a != self._ve_b) & ~valving.closed & ~valving.closable
        newly_dry = self._cut_off(valving, valving.region_label[seed_segment])
        station_dry = np.zeros(len(self.station_ids), dtype=bool)
        on_graph = self._station_node >= 0
        station_dry[on_graph] = newly_dry[self._node_segment[self._station_node[on_graph]]]
        return {"region": region, "to_close": to_close, "already": boundary & valving.closed,
                "crossed": crossed, "dry": newly_dry, "station_dry": station_dry}

    def _cut_off(self, valving: _Valving, r: int) -> np.ndarray:
        """Segments that lose supply when region ``r`` is isolated (those dry already not counted)."""
        tree = self._tree(valving)
        dry = np.zeros(tree.n + 1, dtype=bool)
        dry[r] = True
        for child in tree.cuts[tree.cut_start[r]:tree.cut_start[r + 1], 1]:
            dry[tree.by_order[tree.order[child]:tree.order[child] + tree.size[child]]] = True
        return dry[valving.region_label]

    def _describe(self, element_id: str, cut: dict, valving: _Valving) -> Isolation:
        region, dry, stations = cut["region"], cut["dry"], cut["station_dry"]
        communities = np.zeros(len(self._community_ids), dtype=bool)
        known = self._community_station >= 0
        communities[known] = stations[self._community_station[known]]
        return Isolation(
            target=element_id,
            valves_to_close=_sorted(self.valve_ids[valving.chosen[cut["to_close"]]]),
            inoperable_skipped=_sorted(self._valves_on(cut["crossed"], valving.valve_inoperable)),
            isolated_pipes=_sorted(self.pipe_ids[region[self._pipe_segment]]),
            isolated_nodes=_sorted(self.node_ids[region[self._node_segment]]),
            dry_pipes=_sorted(self.pipe_ids[dry[self._pipe_segment]]),
            dry_nodes=_sorted(self.node_ids[dry[self._node_segment]]),
            sources_lost=_sorted(self._sources_in(region)),
            stations_cut_off=_sorted(self.station_ids[stations]),
            communities_cut_off=_sorted(self._community_ids[communities]),
            households_cut_off=int(self._station_households[stations].sum()),
            heated_area_cut_off_m2=float(self._station_area_m2[stations].sum()),
            heat_cut_off_mw=float(self._station_heat_mw[stations].sum()),
            already_closed=_sorted(self._valves_on(cut["already"], valving.valve_closed)),
        )

    def _valves_on(self, edges: np.ndarray, which: np.ndarray) -> np.ndarray:
        """Ids of the valves flagged in ``which`` that sit on the valved edges flagged in ``edges``."""
        placed = self._valve_edge >= 0
        on = np.zeros(len(self.valve_ids), dtype=bool)
        on[placed] = edges[self._valve_edge[placed]]
        return self.valve_ids[on & which]

    def _sources_in(self, region: np.ndarray) -> np.ndarray:
        placed = self._source_segment >= 0
        inside = np.zeros(len(self.source_ids), dtype=bool)
        inside[placed] = region[self._source_segment[placed]]
        return self.source_ids[inside]


def isolate(network, element_id: str, *, inoperable: set[str] | None = None,
            closed: set[str] | None = None) -> Isolation:
    """Isolate one pipe or node of ``network``; see ``IsolationGraph.isolate``.

    Builds the graph each call: for many isolations on one network build an ``IsolationGraph``
    once and call its ``isolate`` (or ``sweep``).
    """
    return IsolationGraph(network).isolate(element_id, inoperable=inoperable, closed=closed)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of an undirected graph on ``n`` vertices with edges ``a[i]–b[i]``."""
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)


def _dfs_cut_vertices(n: int, a: np.ndarray, b: np.ndarray, root: int):
    """Depth-first search from ``root`` over directed arcs ``a[i] -> b[i]`` (give both directions).

    Returns
    -------
    order : numpy.ndarray
        Preorder number per vertex, -1 where unreachable; a subtree is ``order[v] .. order[v] + size[v]``.
    size : numpy.ndarray
        Subtree size per vertex.
    cuts : numpy.ndarray
        ``(vertex, child)`` rows where deleting ``vertex`` cuts ``child``'s subtree off the root
        (the articulation test ``low[child] >= order[vertex]``).
    """
    arcs = np.argsort(a, kind="stable")
    ptr = np.searchsorted(a[arcs], np.arange(n + 1)).tolist()
    nbr = b[arcs].tolist()
    nxt = ptr[:-1]
    order, low, size = [-1] * n, [0] * n, [1] * n
    order[root] = low[root] = 0
    count, stack, cuts = 1, [root], []
    # Iterative: recursion would overflow on a long trunk of thousands of regions.
    while stack:
        v = stack[-1]
        if nxt[v] < ptr[v + 1]:
            u = nbr[nxt[v]]
            nxt[v] += 1
            if order[u] < 0:
                order[u] = low[u] = count
                count += 1
                stack.append(u)
            elif order[u] < low[v]:
                low[v] = order[u]
            continue
        stack.pop()
        if stack:
            p = stack[-1]
            size[p] += size[v]
            low[p] = min(low[p], low[v])
            if low[v] >= order[p]:
                cuts.append((p, v))
    return np.array(order), np.array(size), np.array(cuts, dtype=np.int64).reshape(-1, 2)


def _as_bool(frame, column: str, default: bool) -> np.ndarray:
    """A yes/no column as bools; GeoPackage and JSON give bools, 0/1 or 'true'/'false' strings."""
    if column not in frame.columns:
        return np.full(len(frame), default)
    text = frame[column].astype(str).str.strip().str.lower()
    return np.where(frame[column].isna(), default, ~text.isin(["false", "0", "0.0", "no", "f", "n"]))


def _numbers(frame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _sorted(ids) -> list[str]:
    return sorted(str(i) for i in ids)
