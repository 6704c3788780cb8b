"""Topology of the pipe network: snap pipe ends onto nodes, derive from/to nodes and lengths, and
the node graph (adjacency, components, degree) that validation and the twin build on.

Distances are measured in a projected CRS: the file's own when it is projected, otherwise the UTM
zone of the data's centre, so a tolerance in metres means metres anywhere on Earth.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from layers.network import WGS84, Network
from layers.report import Report

SNAP_REPORT_M = 0.001  # moves smaller than a millimetre are rounding, not edits worth reporting


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """The WGS84 UTM zone containing ``(lon, lat)``: EPSG 326xx north, 327xx south."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs(frames: list[gpd.GeoDataFrame], source_crs=None) -> pyproj.CRS:
    """The CRS to measure in: ``source_crs`` when projected, else the UTM zone of the frames' centre."""
    if source_crs is not None and pyproj.CRS.from_user_input(source_crs).is_projected:
        return pyproj.CRS.from_user_input(source_crs)
    bounds = np.array([f.to_crs(WGS84).total_bounds for f in frames if len(f) and f.geometry.notna().any()])
    if not len(bounds) or np.isnan(bounds).all():
        return utm_crs(0.0, 0.0)
    minx, miny = np.nanmin(bounds[:, :2], axis=0)
    maxx, maxy = np.nanmax(bounds[:, 2:], axis=0)
    return utm_crs((minx + maxx) / 2, (miny + maxy) / 2)


def usable_lines(pipes: gpd.GeoDataFrame) -> pd.Series:
    """Pipes whose geometry snapping can work on (others were reported by validation)."""
    geoms = pipes.geometry.values
    return pd.Series((shapely.get_type_id(geoms) == 1) & ~shapely.is_empty(geoms)
                     & (shapely.get_num_coordinates(geoms) >= 2) & pipes["id"].notna().to_numpy(),
                     index=pipes.index)


def usable_points(frame: gpd.GeoDataFrame) -> pd.Series:
    geoms = frame.geometry.values
    return pd.Series((shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
                     & frame["id"].notna().to_numpy(), index=frame.index)


def pipe_ends(pipes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Both ends of every pipe: ``pipe_id, end ('start'|'end'), row`` (position in ``pipes``), Point."""
    geoms = pipes.geometry.values
    n = len(pipes)
    return gpd.GeoDataFrame(
        {"pipe_id": np.tile(pipes["id"].to_numpy(), 2), "end": np.repeat(["start", "end"], n),
         "row": np.tile(np.arange(n), 2)},
        geometry=np.concatenate([shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)]),
        crs=pipes.crs,
    )


def nearest_nodes(ends: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, crs,
                  max_distance: float | None = None) -> pd.DataFrame:
    """For each end (same index): the nearest node's ``node_id`` and ``distance_m`` (NaN beyond max)."""
    right = gpd.GeoDataFrame({"node_id": nodes["id"].to_numpy()}, geometry=nodes.geometry.values,
                             crs=nodes.crs).to_crs(crs)
    joined = gpd.sjoin_nearest(ends[["geometry"]].to_crs(crs), right, how="left",
                               max_distance=max_distance, distance_col="distance_m")
    # Equidistant nodes give several rows for one end; any of them is as near.
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined.reindex(ends.index)[["node_id", "distance_m"]]


def replace_ends(lines: np.ndarray, start_xy: np.ndarray, end_xy: np.ndarray) -> np.ndarray:
    """``lines`` with first/last coordinates set to ``start_xy``/``end_xy`` (NaN rows keep theirs)."""
    coords, index = shapely.get_coordinates(lines, return_index=True)
    counts = shapely.get_num_coordinates(lines)
    last = np.cumsum(counts) - 1
    first = last - counts + 1
    coords[first] = np.where(np.isnan(start_xy), coords[first], start_xy)
    coords[last] = np.where(np.isnan(end_xy), coords[last], end_xy)
    return shapely.linestrings(coords, indices=index)


def snap_pipes(pipes: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, tolerance_m: float, crs,
               report: Report) -> gpd.GeoDataFrame:
    """Pipes with ends moved onto nodes within ``tolerance_m`` and ``from_node``/``to_node`` set.

    Ends farther than the tolerance are errors (with the distance to the nearest node); snaps over
    a millimetre are listed in ``report.snaps``. Pipes whose geometry is unusable keep None nodes.
    """
    pipes = pipes.copy()
    pipes["from_node"], pipes["to_node"] = None, None
    good = usable_lines(pipes)
    nodes = nodes[usable_points(nodes)]
    lines = pipes[good]
    if lines.empty:
        return pipes
    if nodes.empty:
        report.errors.append("nodes: no usable node to connect pipes to; add a node at every pipe end")
        return pipes
    ends = pipe_ends(lines)
    near = nearest_nodes(ends, nodes, crs, max_distance=tolerance_m)
    _report_far_ends(ends[near["node_id"].isna()], nodes, crs, tolerance_m, report)
    node_xy = shapely.get_coordinates(nodes.geometry.values)
    xy_of = pd.DataFrame(node_xy, index=nodes["id"].to_numpy(), columns=["x", "y"])
    xy_of = xy_of[~xy_of.index.duplicated()]
    target = xy_of.reindex(near["node_id"]).to_numpy()  # NaN for ends left where they are
    n = len(lines)
    pipes.loc[good, "geometry"] = replace_ends(lines.geometry.values, target[:n], target[n:])
    pipes.loc[good, "from_node"] = near["node_id"].to_numpy()[:n]
    pipes.loc[good, "to_node"] = near["node_id"].to_numpy()[n:]
    moved = near["distance_m"] > SNAP_REPORT_M
    report.snaps.extend(
        f"pipes {p}: {e} snapped {d:.3f} m onto node {node}"
        for p, e, d, node in zip(ends["pipe_id"][moved], ends["end"][moved], near["distance_m"][moved],
                                 near["node_id"][moved], strict=True))
    return pipes


def _report_far_ends(far: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, crs, tolerance_m: float,
                     report: Report) -> None:
    if far.empty:
        return
    nearest = nearest_nodes(far, nodes, crs)
    report.errors.extend(
        f"pipes {p}: {e} is {d:.2f} m from the nearest node {node}, beyond the snap tolerance of "
        f"{tolerance_m:g} m; end the line on a node or add a node there"
        for p, e, d, node in zip(far["pipe_id"], far["end"], nearest["distance_m"], nearest["node_id"],
                                 strict=True))


def lengths_m(pipes: gpd.GeoDataFrame, crs) -> pd.Series:
    """Pipe lengths in metres, measured in the projected ``crs``."""
    return pipes.geometry.to_crs(crs).length


def graph(network: Network) -> tuple[sparse.csr_matrix, pd.Index]:
    """Undirected node adjacency from the pipes' ``from_node``/``to_node``, and the node ids by position."""
    ids = pd.Index(network.nodes["id"].dropna().drop_duplicates())
    pipes = network.pipes
    if "from_node" not in pipes:
        a = b = np.array([], dtype=int)
    else:
        a = ids.get_indexer(pipes["from_node"])
        b = ids.get_indexer(pipes["to_node"])
        keep = (a >= 0) & (b >= 0)
        a, b = a[keep], b[keep]
    n = len(ids)
    data = np.ones(2 * len(a))
    adjacency = sparse.coo_matrix((data, (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
    return adjacency.tocsr(), ids


def components(network: Network) -> pd.Series:
    """Connected-component label of every node (index: node id)."""
    adjacency, ids = graph(network)
    _, labels = connected_components(adjacency, directed=False)
    return pd.Series(labels, index=ids, name="component")


def node_degree(network: Network) -> pd.Series:
    """Number of pipe ends on every node (index: node id); 0 for unconnected nodes."""
    ids = pd.Index(network.nodes["id"].dropna().drop_duplicates())
    if "from_node" not in network.pipes:
        return pd.Series(0, index=ids, name="degree")
    ends = pd.concat([network.pipes["from_node"], network.pipes["to_node"]]).dropna()
    return ends.value_counts().reindex(ids, fill_value=0).rename("degree")


def build(network: Network, tolerance_m: float, crs, report: Report) -> Network:
    """Snap the pipes and derive ``from_node``, ``to_node``, ``length_m`` in place; returns ``network``."""
    pipes = snap_pipes(network.pipes, network.nodes, tolerance_m, crs, report)
    pipes["length_m"] = np.nan
    good = usable_lines(pipes)
    if good.any():
        pipes.loc[good, "length_m"] = lengths_m(pipes[good], crs).to_numpy()
    if "drawn" in pipes and "source_length_m" in pipes:
        # A line only drawn between its nodes (a schematic) is as long as the utility says.
        schematic = pipes["drawn"].map(lambda v: str(v).lower() in ("false", "0", "no"))
        given = pd.to_numeric(pipes["source_length_m"], errors="coerce")
        use = schematic & given.notna()
        pipes.loc[use, "length_m"] = given[use]
        report.warnings.extend(f"pipes {p}: drawn only between its nodes and no length given; the straight "
                               "line's length is used" for p in pipes["id"][schematic & given.isna()])
    same = pipes["from_node"].notna() & (pipes["from_node"] == pipes["to_node"])
    report.errors.extend(
        f"pipes {p}: both ends snap onto node {n}; a pipe must join two different nodes"
        for p, n in zip(pipes["id"][same], pipes["from_node"][same], strict=True))
    # Geometry last, as the reader and the records give it, so frames compare column by column.
    network.pipes = pipes[[*pipes.columns.drop(pipes.geometry.name), pipes.geometry.name]]
    return network
