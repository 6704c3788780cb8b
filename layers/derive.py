"""Building our network's shape out of a utility's: supply and return lines paired into trenches,
house-connection stubs turned into stations, nodes derived from line ends and junctions, stations
and sources attached to their nearest node, pipes drawn between their nodes.

Each function takes WGS84 frames and the projected CRS to measure in, returns WGS84 frames, and
reports what it did or could not do in the ``Report`` (naming layer, feature and rule).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import ops

from layers.network import WGS84
from layers.report import Report, listing

# Standard DNs (mm) and the velocity a house connection is sized for, to size a stub without a DN.
STUB_DNS_MM = (20, 25, 32, 40, 50, 65, 80, 100, 125, 150, 200)
STUB_DESIGN_V_M_PER_S = 1.0
STUB_DESIGN_DT_K = 30.0


def _metric(frame: gpd.GeoDataFrame, crs) -> np.ndarray:
    return frame.geometry.to_crs(crs).values


def _wgs84(values, crs) -> np.ndarray:
    return gpd.GeoSeries(values, crs=crs).to_crs(WGS84).values


# -- pipes drawn between their nodes ---------------------------------------------------------------

def lines_between_nodes(pipes: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, report: Report) -> gpd.GeoDataFrame:
    """Pipes whose geometry is missing get a straight line from their from_node to their to_node
    (``drawn`` False: their length is the supplied one)."""
    todo = pipes.geometry.isna() | pipes.geometry.is_empty
    if not todo.any():
        return pipes
    pipes = pipes.copy()
    at = gpd.GeoSeries(nodes.geometry.values, index=nodes["id"].to_numpy())
    at = at[~at.index.duplicated()]
    start, end = at.reindex(pipes["from_node"]).values, at.reindex(pipes["to_node"]).values
    for column, values in (("from_node", start), ("to_node", end)):
        bad = todo.to_numpy() & shapely.is_missing(values)
        if bad.any():
            report.errors.append(f"pipes field {column}: {bad.sum()} pipes name a node that is not in nodes, so "
                                 f"their line cannot be drawn: {listing(pipes['id'][bad])}")
    ok = todo.to_numpy() & ~shapely.is_missing(start) & ~shapely.is_missing(end)
    coords = np.stack([shapely.get_coordinates(start[ok]), shapely.get_coordinates(end[ok])], axis=1)
    pipes.loc[ok, "geometry"] = shapely.linestrings(coords)
    pipes.loc[ok, "drawn"] = False
    return pipes.set_crs(WGS84, allow_override=True)


def place_at_nodes(frame: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Features without geometry (a table of consumers at node numbers) placed on their node."""
    if not len(frame) or "node_id" not in frame or not len(nodes):
        return frame
    todo = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    if not todo.any():
        return frame
    frame = frame.copy()
    at = gpd.GeoSeries(nodes.geometry.values, index=nodes["id"].astype(str).to_numpy())
    at = at[~at.index.duplicated()]
    frame.loc[todo, "geometry"] = at.reindex(frame["node_id"].astype(str)[todo]).values
    return frame.set_crs(WGS84, allow_override=True)


# -- supply and return lines into trenches ---------------------------------------------------------

def pair_sides(pipes: gpd.GeoDataFrame, crs, tolerance_m: float, report: Report) -> gpd.GeoDataFrame:
    """One pipe (a trench) per supply line and its return partner: the return line whose every point
    is within ``tolerance_m`` of it (Hausdorff distance), nearest first, one partner each. Lines left
    without a partner are reported and kept, each as a trench of its own."""
    if "side" not in pipes or not pipes["side"].isin(["supply", "return"]).any():
        return pipes.drop(columns=["side"], errors="ignore")
    supply = pipes[pipes["side"] == "supply"]
    ret = pipes[pipes["side"] == "return"]
    s_geom, r_geom = _metric(supply, crs), _metric(ret, crs)
    left = gpd.GeoDataFrame({"s": np.arange(len(supply))}, geometry=shapely.buffer(s_geom, tolerance_m), crs=crs)
    right = gpd.GeoDataFrame({"r": np.arange(len(ret))}, geometry=r_geom, crs=crs)
    pairs = gpd.sjoin(left, right, predicate="intersects")[["s", "r"]].reset_index(drop=True)
    pairs["d"] = shapely.hausdorff_distance(s_geom[pairs["s"].to_numpy()], r_geom[pairs["r"].to_numpy()])
    pairs = pairs[pairs["d"] <= tolerance_m].sort_values("d")
    taken_s, taken_r, matched = set(), set(), []
    for s, r, _ in pairs.itertuples(index=False):
        if s not in taken_s and r not in taken_r:
            taken_s.add(s)
            taken_r.add(r)
            matched.append((s, r))
    matched = np.array(matched, dtype=int).reshape(-1, 2)
    trench = supply.copy()
    partner = pd.Series([None] * len(supply), index=supply.index, dtype=object)
    r_ids = ret["source_id"] if "source_id" in ret else ret["id"]
    partner.iloc[matched[:, 0]] = r_ids.iloc[matched[:, 1]].to_numpy()
    trench["return_source_id"] = partner
    if "dn_mm" in pipes:
        dn_s = pd.to_numeric(supply["dn_mm"].iloc[matched[:, 0]], errors="coerce").to_numpy()
        dn_r = pd.to_numeric(ret["dn_mm"].iloc[matched[:, 1]], errors="coerce").to_numpy()
        differ = np.isfinite(dn_s) & np.isfinite(dn_r) & (dn_s != dn_r)
        report.warnings.extend(
            f"pipes {i}: supply DN {a:g} and its return line {r} DN {b:g} differ; the trench takes the supply's"
            for i, r, a, b in zip(supply["id"].iloc[matched[differ, 0]], r_ids.iloc[matched[differ, 1]],
                                  dn_s[differ], dn_r[differ], strict=True))
    lone_s = supply["id"][~np.isin(np.arange(len(supply)), matched[:, 0])]
    lone_r = ret[~np.isin(np.arange(len(ret)), matched[:, 1])]
    if len(lone_s):
        report.warnings.append(f"pipes: {len(lone_s)} supply lines have no return line within {tolerance_m:g} m "
                               f"(rule: pair_tolerance_m): {listing(lone_s)}; each is modelled as a trench with "
                               "both sides")
    if len(lone_r):
        report.warnings.append(f"pipes: {len(lone_r)} return lines have no supply line within {tolerance_m:g} m "
                               f"(rule: pair_tolerance_m): {listing(lone_r['id'])}; each is modelled as a "
                               "trench with both sides")
    both = pipes[pipes["side"] == "both"]
    out = pd.concat([both, trench, lone_r], ignore_index=True)
    return gpd.GeoDataFrame(out.drop(columns=["side"]), geometry="geometry", crs=WGS84)


# -- house-connection stubs into stations ----------------------------------------------------------

def stub_dn_mm(heat_mw: np.ndarray) -> np.ndarray:
    """The smallest standard DN that carries ``heat_mw`` at the stub design velocity and ΔT."""
    mdot = np.asarray(heat_mw, dtype=float) * 1e6 / (4186.0 * STUB_DESIGN_DT_K)
    need_m = np.sqrt(4 * mdot / (1000.0 * np.pi * STUB_DESIGN_V_M_PER_S))
    dns = np.array(STUB_DNS_MM, dtype=float)
    pos = np.searchsorted(dns, need_m * 1000.0)
    return dns[np.minimum(pos, len(dns) - 1)]


def stub_stations(stubs: gpd.GeoDataFrame, pipes: gpd.GeoDataFrame, crs, keep_pipes: bool,
                  report: Report) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Stations at the far end of their stub lines (the end away from the other pipes) and, with
    ``keep_pipes``, the stubs as pipes ``P-<station id without ST->``, DN as mapped or sized from the
    station's heat (marked assumed)."""
    lines = stubs.geometry.values
    usable = (shapely.get_type_id(lines) == 1) & ~shapely.is_empty(lines)
    for sid in stubs["id"][~usable]:
        report.errors.append(f"stations {sid}: geometry stub_far_end needs a line (the house connection)")
    stubs = stubs[usable]
    metric = _metric(stubs, crs)
    first, last = shapely.get_point(metric, 0), shapely.get_point(metric, -1)
    mains = pipes[pipes.geometry.notna()]
    if len(mains):
        tree = shapely.STRtree(_metric(mains, crs))
        d_first = tree.query_nearest(first, return_distance=True, all_matches=False)[1]
        d_last = tree.query_nearest(last, return_distance=True, all_matches=False)[1]
    else:
        d_first = d_last = np.zeros(len(stubs))
    far = np.where(d_first > d_last, first, last)
    near = np.where(d_first > d_last, last, first)
    stations = stubs.drop(columns=["dn_mm"], errors="ignore").copy()
    stations["geometry"] = _wgs84(far, crs)
    stations = gpd.GeoDataFrame(stations, geometry="geometry", crs=WGS84)
    if not keep_pipes:
        stations["attach_at"] = _wgs84(near, crs)
        return stations, pipes.iloc[:0]
    ids = stations["id"].astype(str).str.replace(r"^ST-", "", regex=True).radd("P-")
    stub_pipes = gpd.GeoDataFrame({"id": ids.to_numpy()}, geometry=stubs.geometry.values, crs=WGS84)
    dn = pd.to_numeric(stubs["dn_mm"], errors="coerce") if "dn_mm" in stubs else pd.Series(np.nan, index=stubs.index)
    sized = dn.isna().to_numpy()
    heat = pd.to_numeric(stubs.get("design_heat_mw", pd.Series(np.nan, index=stubs.index)), errors="coerce")
    dn = np.where(sized, stub_dn_mm(heat.fillna(0.05).to_numpy()), dn.to_numpy())
    stub_pipes["dn_mm"] = dn
    stub_pipes["assumed"] = np.where(sized, "dn_mm", None)
    if "source_id" in stubs:
        stub_pipes["source_id"] = stubs["source_id"].to_numpy()
    return stations, stub_pipes


# -- nodes from line ends and junctions ------------------------------------------------------------

def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _node_ids(xy: np.ndarray, taken: set) -> list[str]:
    """Ids from the node's position in metres, so the same drawing gives the same ids every import."""
    ids = []
    for x, y in xy:
        base = f"N-{x:.0f}-{y:.0f}"
        nid, k = base, 1
        while nid in taken:
            k += 1
            nid = f"{base}-{k}"
        taken.add(nid)
        ids.append(nid)
    return ids


def derive_nodes(pipes: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, crs, tolerance_m: float,
                 report: Report) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes at every pipe end not within ``tolerance_m`` of a given node (ends that close join one
    node); a line whose interior an end lies on (within the tolerance) is split there into
    ``<id>-1``, ``<id>-2`` … (the original id kept as ``source_id``). Returns (pipes, nodes)."""
    good = (shapely.get_type_id(pipes.geometry.values) == 1) & ~shapely.is_empty(pipes.geometry.values)
    lines = pipes[good]
    geoms = _metric(lines, crs)
    ends = np.concatenate([shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)])
    end_row = np.tile(np.arange(len(lines)), 2)
    given = _metric(nodes, crs) if len(nodes) else np.array([], dtype=object)
    near_given = np.zeros(len(ends), dtype=bool)
    if len(given):
        d = shapely.STRtree(given).query_nearest(ends, return_distance=True, all_matches=False)
        near_given[d[0][0]] = d[1] <= tolerance_m
    loose = np.flatnonzero(~near_given)
    # Junctions: a loose end on another line's interior, not near that line's own ends.
    tree = shapely.STRtree(geoms)
    hit_end, hit_line = tree.query(ends[loose], predicate="dwithin", distance=tolerance_m)
    hit_end = loose[hit_end]
    other = end_row[hit_end] != hit_line
    hit_end, hit_line = hit_end[other], hit_line[other]
    along = shapely.line_locate_point(geoms[hit_line], ends[hit_end])
    length = shapely.length(geoms[hit_line])
    interior = (along > tolerance_m) & (along < length - tolerance_m)
    hit_end, hit_line, along = hit_end[interior], hit_line[interior], along[interior]
    # Loose ends within the tolerance of each other are one node.
    a, b = shapely.STRtree(ends[loose]).query(ends[loose], predicate="dwithin", distance=tolerance_m)
    label = _components(len(loose), a, b)
    xy = shapely.get_coordinates(ends[loose])
    centre = pd.DataFrame(xy, columns=["x", "y"]).groupby(label).mean()
    # A junction's node sits on the line it splits (the first such line of its cluster).
    on_line = pd.Series(dict(zip(label[np.searchsorted(loose, hit_end)], range(len(hit_end)), strict=False)))
    if len(on_line):
        points = shapely.line_interpolate_point(geoms[hit_line[on_line.to_numpy()]], along[on_line.to_numpy()])
        centre.loc[on_line.index, ["x", "y"]] = shapely.get_coordinates(points)
    new_xy = centre.to_numpy()
    new_ids = _node_ids(new_xy, set(nodes["id"].dropna()) if len(nodes) else set())
    new_nodes = gpd.GeoDataFrame({"id": new_ids}, geometry=_wgs84(shapely.points(new_xy), crs), crs=WGS84)
    new_nodes["assumed"] = "elevation_m"
    cut_points = shapely.points(new_xy[label[np.searchsorted(loose, hit_end)]]) if len(hit_end) else []
    pipes = _split_lines(pipes, lines.index, geoms, hit_line, cut_points, crs, report)
    if len(new_nodes):
        report.snaps.append(f"nodes: {len(new_nodes)} nodes derived from line ends and junctions "
                            f"(snap tolerance {tolerance_m:g} m)")
    all_nodes = pd.concat([nodes, new_nodes], ignore_index=True) if len(nodes) else new_nodes
    return pipes, gpd.GeoDataFrame(all_nodes, geometry="geometry", crs=WGS84)


def _split_lines(pipes, line_index, geoms, hit_line, cut_points, crs, report: Report) -> gpd.GeoDataFrame:
    if not len(hit_line):
        return pipes
    parts_rows, replaced = [], set()
    for row in np.unique(hit_line):
        line = geoms[row]
        points = [cut_points[i] for i in np.flatnonzero(hit_line == row)]
        at = sorted({round(float(line.project(p)), 6) for p in points})
        bounds = [0.0, *at, float(line.length)]
        pieces = [ops.substring(line, s, e) for s, e in zip(bounds[:-1], bounds[1:], strict=True) if e - s > 1e-6]
        # Each piece ends exactly on the junction's node.
        coords = []
        for k, piece in enumerate(pieces):
            c = np.array(piece.coords)
            if k > 0:
                c[0] = shapely.get_coordinates(_nearest(points, c[0]))[0]
            if k < len(pieces) - 1:
                c[-1] = shapely.get_coordinates(_nearest(points, c[-1]))[0]
            coords.append(shapely.linestrings(c))
        original = pipes.loc[line_index[row]]
        replaced.add(line_index[row])
        for k, piece in enumerate(coords, start=1):
            new = original.copy()
            new["id"] = f"{original['id']}-{k}"
            if "source_id" in pipes:
                new["source_id"] = original.get("source_id") or original["id"]
            if "source_length_m" in pipes:
                new["source_length_m"] = None  # the utility's length was of the whole line
            new["geometry"] = _wgs84([piece], crs)[0]
            parts_rows.append(new)
        report.snaps.append(f"pipes {original['id']}: split at {len(pieces) - 1} junction(s) into "
                            f"{original['id']}-1 … {original['id']}-{len(pieces)}")
    kept = pipes.drop(index=list(replaced))
    out = pd.concat([kept, pd.DataFrame(parts_rows)], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def _nearest(points, xy):
    d = [p.distance(shapely.points(xy)) for p in points]
    return points[int(np.argmin(d))]


# -- stations, sources and valves onto their nodes -------------------------------------------------

def attach_to_nodes(name: str, frame: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, crs, tolerance_m: float,
                    report: Report) -> gpd.GeoDataFrame:
    """``node_id`` of the features lacking one: the nearest node within ``tolerance_m`` (of the
    feature, or of its ``attach_at`` point where it has one)."""
    if not len(frame) or "node_id" not in frame:
        return frame
    todo = frame["node_id"].isna() & frame.geometry.notna()
    if not todo.any() or not len(nodes):
        return frame
    frame = frame.copy()
    where = frame.geometry
    if "attach_at" in frame:
        where = gpd.GeoSeries(np.where(frame["attach_at"].isna(), frame.geometry.values, frame["attach_at"].values),
                              index=frame.index, crs=WGS84)
    points = where[todo].to_crs(crs).values
    tree = shapely.STRtree(_metric(nodes, crs))
    (_, idx), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    ids = nodes["id"].to_numpy()[idx]
    close = dist <= tolerance_m
    rows = frame.index[todo.to_numpy()]
    frame.loc[rows[close], "node_id"] = ids[close]
    report.errors.extend(
        f"{name} {i}: no node within {tolerance_m:g} m to attach to (nearest {n} at {d:.1f} m; rule: "
        "attach_tolerance_m); map its node_id or draw it at a pipe end"
        for i, n, d in zip(frame.loc[rows[~close], "id"], ids[~close], dist[~close], strict=True))
    return frame.drop(columns=["attach_at"], errors="ignore")


def attach_valves(valves: gpd.GeoDataFrame, pipes: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, crs,
                  tolerance_m: float, report: Report) -> gpd.GeoDataFrame:
    """Valves without ``node_id``/``pipe_id``: the nearest node, and the nearest pipe ending there."""
    if not len(valves) or not ({"node_id", "pipe_id"} <= set(valves)):
        return valves
    valves = attach_to_nodes("valves", valves, nodes, crs, tolerance_m, report)
    todo = valves["pipe_id"].isna() & valves["node_id"].notna()
    if not todo.any():
        return valves
    valves = valves.copy()
    ends = pd.concat([pipes[["id", "from_node"]].rename(columns={"from_node": "node"}),
                      pipes[["id", "to_node"]].rename(columns={"to_node": "node"})])
    geoms = gpd.GeoSeries(pipes.geometry.values, index=pipes["id"].to_numpy(), crs=WGS84).to_crs(crs)
    for row in valves.index[todo]:
        candidates = ends["id"][ends["node"] == valves.at[row, "node_id"]].to_numpy()
        if not len(candidates):
            continue
        point = gpd.GeoSeries([valves.at[row, "geometry"]], crs=WGS84).to_crs(crs).iloc[0]
        valves.at[row, "pipe_id"] = candidates[int(np.argmin(geoms.loc[candidates].distance(point).to_numpy()))]
    return valves
