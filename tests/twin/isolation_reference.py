"""An isolation oracle independent of ``twin.isolation``: brute force with plain networkx on the graph of
nodes and pipes (no segments, no sweep), for the isolation tests and the scenario tests.

networkx is a declared test dependency (pyproject ``[test]``, environment.yml): the oracle never skips.
"""

from __future__ import annotations

import networkx as nx


class Reference:
    """Brute-force isolation on the graph of nodes and pipes, one edge per pipe end."""

    def __init__(self, network):
        self.network = network
        graph = nx.Graph()
        graph.add_nodes_from(network.nodes["id"])
        for pipe in network.pipes.itertuples():
            graph.add_edge(pipe.id, pipe.from_node, valves=[])
            graph.add_edge(pipe.id, pipe.to_node, valves=[])
        for valve in network.valves.itertuples():
            graph.edges[valve.pipe_id, valve.node_id]["valves"].append(valve)
        self.graph = graph
        edges = {frozenset((a, b)): d["valves"] for a, b, d in graph.edges(data=True)}
        self.valves_on = edges
        self.closed_now = {e for e, vs in edges.items() if any(not v.normally_open for v in vs)}
        self.closable = {e for e, vs in edges.items() if e not in self.closed_now and any(v.operable for v in vs)}
        self.stuck = {e for e in edges if e not in self.closed_now | self.closable}
        self.growth = self._keep(self.stuck)
        self.bare = self._keep({e for e, vs in edges.items() if not vs})
        self.sources = list(network.sources["node_id"])
        self.fed_before = self.fed(self.closed_now, set())

    def _keep(self, kept: set) -> nx.Graph:
        graph = nx.Graph()
        graph.add_nodes_from(self.graph.nodes)
        graph.add_edges_from(tuple(e) for e in kept)
        return graph

    def fed(self, cut: set, removed: set) -> set:
        rest = self._keep(set(self.valves_on) - cut)
        rest.remove_nodes_from(removed)
        return set().union(*(nx.node_connected_component(rest, n) for n in self.sources if n in rest))

    def isolate(self, target: str) -> dict:
        region = nx.node_connected_component(self.growth, target)
        boundary = {e for e in self.valves_on if len(e & region) == 1}
        to_close = boundary & self.closable
        valves = sorted(min(v.id for v in self.valves_on[e] if v.operable) for e in to_close)
        # An inoperable valve counts as skipped when the region had to cross it: without valved
        # edges its two sides would not be joined.
        skipped = sorted(v.id for e in self.stuck if e <= region and not nx.has_path(self.bare, *e)
                         for v in self.valves_on[e])
        dry = region | (self.fed_before - self.fed(self.closed_now | to_close, region))
        stations = self.network.stations
        sources = self.network.sources
        return {"valves_to_close": valves, "inoperable_skipped": skipped,
                "isolated_pipes": sorted(v for v in region if v.startswith("P-")),
                "isolated_nodes": sorted(v for v in region if v.startswith("N-")),
                "dry_pipes": sorted(v for v in dry if v.startswith("P-")),
                "dry_nodes": sorted(v for v in dry if v.startswith("N-")),
                "stations_cut_off": sorted(stations["id"][stations["node_id"].isin(dry)]),
                "sources_lost": sorted(sources["id"][sources["node_id"].isin(region)])}

    def reach(self, target: str, shut: set) -> set:
        """What ``target`` is joined to with the valves ``shut`` (and the normally closed ones) closed."""
        cut = self.closed_now | {e for e, vs in self.valves_on.items() if any(v.id in shut for v in vs)}
        return nx.node_connected_component(self._keep(set(self.valves_on) - cut), target)

    def assert_minimal_and_sealing(self, target: str, result) -> None:
        """All valves closed seal exactly the region; reopening any one joins it to the outside."""
        region = set(result.isolated_pipes) | set(result.isolated_nodes)
        shut = set(result.valves_to_close)
        assert self.reach(target, shut) == region
        for valve_id in shut:
            assert self.reach(target, shut - {valve_id}) - region, f"{valve_id} is not needed"
