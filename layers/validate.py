"""Rules a network must follow before it is stored. Each check appends messages to a ``Report``
naming the layer, the feature id (or row), the field and the rule; it never stops at the first one.

``check_layers`` looks at each layer alone (ids, geometry, field values); ``check_network`` at the
whole after snapping (references, dangling ends, islands, stations cut off from every source).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from heattwin.choices import SENSOR_KIND, SOURCE_ROLE
from layers import topology
from layers.network import Network
from layers.report import Report, listing
from layers.schema import DN_MAX_MM, DN_MIN_MM, LAYERS, REQUIRED_LAYERS

HOUSEHOLD_PREFIX = "H-"  # sensors may measure a household, which lives in records, not in the GIS
ROLES = tuple(c.value for c in SOURCE_ROLE)


def check_required_layers(found, report: Report) -> None:
    """Every layer of ``REQUIRED_LAYERS`` was in the file (``found``: the names read)."""
    report.errors.extend(f"{name}: required layer is missing; add a layer named '{name}'"
                         for name in REQUIRED_LAYERS if name not in found)


def check_layers(layers: dict[str, gpd.GeoDataFrame], report: Report) -> None:
    for name, frame in layers.items():
        if LAYERS[name].id_prefix is not None:
            check_ids(name, frame, report)
        check_geometry(name, frame, report)
        check_required_values(name, frame, report)
    check_ids_across_layers(layers, report)
    check_values(layers, report)


def _label(frame: gpd.GeoDataFrame) -> pd.Series:
    """How to name each feature: its id, or its row (from 1) when the id is missing."""
    rows = pd.Series(np.arange(1, len(frame) + 1), index=frame.index).astype(str).radd("row ")
    return frame["id"].where(frame["id"].notna(), rows) if "id" in frame else rows


def check_ids(name: str, frame: gpd.GeoDataFrame, report: Report) -> None:
    prefix = LAYERS[name].id_prefix
    ids = frame["id"]
    report.errors.extend(f"{name} row {i + 1}: missing id; give the feature a unique id starting with '{prefix}'"
                         for i in np.flatnonzero(ids.isna().to_numpy()))
    counts = ids.dropna().value_counts()
    report.errors.extend(f"{name} {i}: duplicate id, {n} features in {name} carry it" for i, n in counts[counts > 1].items())
    wrong = ids.notna() & ~ids.fillna("").astype(str).str.startswith(prefix)
    report.errors.extend(f"{name} {i}: field id must start with '{prefix}' in layer {name}" for i in ids[wrong])


def check_ids_across_layers(layers: dict[str, gpd.GeoDataFrame], report: Report) -> None:
    owners = pd.concat([pd.DataFrame({"id": f["id"].dropna().unique(), "layer": name})
                        for name, f in layers.items() if LAYERS[name].id_prefix is not None and "id" in f])
    shared = owners[owners["id"].duplicated(keep=False)].groupby("id")["layer"].agg(list)
    report.errors.extend(f"{layers_[0]} {i}: duplicate id, also used in {', '.join(layers_[1:])}; ids are unique "
                         "across all layers" for i, layers_ in shared.items())


def check_geometry(name: str, frame: gpd.GeoDataFrame, report: Report) -> None:
    allowed = LAYERS[name].geometry
    geoms = frame.geometry
    label = _label(frame)
    missing = geoms.isna() | geoms.is_empty
    report.errors.extend(f"{name} {i}: geometry is empty; draw the feature" for i in label[missing])
    types = geoms.geom_type
    wrong = ~missing & ~types.isin(allowed)
    report.errors.extend(f"{name} {i}: geometry is {t}; layer {name} takes {' or '.join(allowed)}"
                         for i, t in zip(label[wrong], types[wrong], strict=True))
    invalid = ~missing & ~wrong & ~geoms.is_valid
    reasons = shapely.is_valid_reason(geoms[invalid].values)
    report.errors.extend(f"{name} {i}: invalid geometry ({r})"
                         for i, r in zip(label[invalid], reasons, strict=True))


def check_required_values(name: str, frame: gpd.GeoDataFrame, report: Report) -> None:
    label = _label(frame)
    for column in LAYERS[name].required:
        if column == "id" or column in frame.attrs.get("absent", ()):
            continue  # a missing id or a whole missing column is reported once, elsewhere
        empty = frame[column].isna()
        report.errors.extend(f"{name} {i} field {column}: required value is empty" for i in label[empty])


def check_values(layers: dict[str, gpd.GeoDataFrame], report: Report) -> None:
    for name in ("pipes", "valves"):
        check_dn(name, layers[name], report)
    check_choice("sources", layers["sources"], "role", ROLES, report)
    check_source_roles(layers["sources"], report)
    check_choice("sensors", layers["sensors"], "kind", tuple(SENSOR_KIND), report)


def check_dn(name: str, frame: gpd.GeoDataFrame, report: Report) -> None:
    given = frame["dn_mm"].notna()
    dn = pd.to_numeric(frame["dn_mm"], errors="coerce")
    bad = given & ~dn.between(DN_MIN_MM, DN_MAX_MM)
    report.errors.extend(f"{name} {i} field dn_mm: {v!r} is outside DN {DN_MIN_MM}–{DN_MAX_MM} mm"
                         for i, v in zip(_label(frame)[bad], frame["dn_mm"][bad], strict=True))


def check_choice(name: str, frame: gpd.GeoDataFrame, column: str, allowed: tuple, report: Report) -> None:
    bad = frame[column].notna() & ~frame[column].isin(allowed)
    report.errors.extend(f"{name} {i} field {column}: {v!r} is not one of {', '.join(allowed)}"
                         for i, v in zip(_label(frame)[bad], frame[column][bad], strict=True))


def check_source_roles(sources: gpd.GeoDataFrame, report: Report) -> None:
    """The twin holds the network's pressure at one plant, and needs a flow for fixed-flow plants."""
    if sources.empty:
        return
    pressure = sources["id"][sources["role"] == "pressure"].fillna("?")
    if len(pressure) != 1:
        found = listing(pressure) if len(pressure) else "none"
        report.errors.append(f"sources field role: exactly one source must have role 'pressure' (it holds the "
                             f"network's pressure); found {found}")
    flow = pd.to_numeric(sources["flow_t_h"], errors="coerce")
    bad = (sources["role"] == "fixed_flow") & ~(flow > 0)
    report.errors.extend(f"sources {i} field flow_t_h: role fixed_flow needs a flow in t/h above 0"
                         for i in _label(sources)[bad])


# -- the whole network, after snapping ----------------------------------------------------------------


def check_network(network: Network, report: Report) -> None:
    check_references(network, report)
    check_dangling(network, report)
    check_islands(network, report)


def _ids(frame: gpd.GeoDataFrame) -> set:
    return set(frame["id"].dropna())


def _missing_reference(name: str, frame: gpd.GeoDataFrame, column: str, targets: set, target_layer: str,
                       report: Report) -> pd.Series:
    bad = frame[column].notna() & ~frame[column].isin(targets)
    report.errors.extend(f"{name} {i} field {column}: {v!r} is not an id in {target_layer}"
                         for i, v in zip(_label(frame)[bad], frame[column][bad], strict=True))
    return bad


def check_references(network: Network, report: Report) -> None:
    nodes, pipes = _ids(network.nodes), _ids(network.pipes)
    for name in ("sources", "stations"):
        _missing_reference(name, network.layer(name), "node_id", nodes, "nodes", report)
    valves = network.valves
    bad = _missing_reference("valves", valves, "pipe_id", pipes, "pipes", report)
    bad |= _missing_reference("valves", valves, "node_id", nodes, "nodes", report)
    ends = network.pipes.drop_duplicates("id").set_index("id")[["from_node", "to_node"]]
    at = ends.reindex(valves["pipe_id"]).to_numpy()
    off_end = ~bad & valves["node_id"].notna() & (valves["node_id"].to_numpy() != at[:, 0]) \
        & (valves["node_id"].to_numpy() != at[:, 1])
    report.errors.extend(f"valves {v} field node_id: node {n} is not an end of pipe {p}"
                         for v, n, p in zip(_label(valves)[off_end], valves["node_id"][off_end],
                                            valves["pipe_id"][off_end], strict=True))
    everything = set().union(*(_ids(f) for name, f in network.items() if LAYERS[name].id_prefix))
    sensors = network.sensors
    bad = sensors["element_id"].notna() & ~sensors["element_id"].isin(everything) \
        & ~sensors["element_id"].fillna("").astype(str).str.startswith(HOUSEHOLD_PREFIX)
    report.errors.extend(f"sensors {s} field element_id: {e!r} is not an id in any layer (nor a household H-…)"
                         for s, e in zip(_label(sensors)[bad], sensors["element_id"][bad], strict=True))
    _missing_reference("communities", network.communities, "station_id", _ids(network.stations), "stations",
                       report)


def check_dangling(network: Network, report: Report) -> None:
    degree = topology.node_degree(network)
    served = set(network.stations["node_id"].dropna()) | set(network.sources["node_id"].dropna())
    loose = set(degree.index[(degree == 1) & ~degree.index.isin(served)])
    pipes = network.pipes
    for column in ("from_node", "to_node"):
        hit = pipes[column].isin(loose)
        report.warnings.extend(f"pipes {p}: dangling end at node {n} (no other pipe, station or source there)"
                               for p, n in zip(pipes["id"][hit], pipes[column][hit], strict=True))


def check_islands(network: Network, report: Report) -> None:
    labels = topology.components(network)
    if labels.empty:
        return
    fed = set(labels.reindex(network.sources["node_id"].dropna()).dropna())
    if network.sources.empty:
        report.errors.append("sources: the network has no source; add at least one")
    island = labels[~labels.isin(fed)]
    pipes = network.pipes.dropna(subset=["from_node"])
    pipe_label = labels.reindex(pipes["from_node"]).to_numpy()
    stations = network.stations.dropna(subset=["node_id"])
    station_label = labels.reindex(stations["node_id"]).to_numpy()
    for label, nodes in island.groupby(island).groups.items():
        members = [*nodes, *pipes["id"][pipe_label == label], *stations["id"][station_label == label]]
        report.errors.append(f"nodes {nodes[0]}: island without a source, {len(members)} elements: "
                             f"{listing(members)}; connect it to the network or add a source")
    cut = stations["node_id"].isin(island.index)
    report.errors.extend(f"stations {s} field node_id: node {n} is not connected to any source"
                         for s, n in zip(stations["id"][cut], stations["node_id"][cut], strict=True))
