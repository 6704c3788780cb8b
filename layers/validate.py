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
from layers.report import MAX_LISTED, Report, listing
from layers.schema import DN_MAX_MM, DN_MIN_MM, LAYERS, NUMERIC_COLUMNS, REQUIRED_LAYERS, VALUE_RANGES

HOUSEHOLD_PREFIX = "H-"  # sensors may measure a household, which lives in records, not in the GIS
ROLES = tuple(c.value for c in SOURCE_ROLE)


def check_required_layers(found, report: Report, mapped: bool = False) -> None:
    """Every layer of ``REQUIRED_LAYERS`` was in the file (``found``: the names read or mapped)."""
    hint = ("; map one in the mapping's layers:" if mapped else
            "; add a layer named '{name}', or map the file's own layers with --mapping "
            "(`heattwin import --inspect PATH` writes a starter)")
    report.errors.extend(f"{name}: required layer is missing" + hint.format(name=name)
                         for name in REQUIRED_LAYERS if name not in found)


def check_layers(layers: dict[str, gpd.GeoDataFrame], report: Report, deferred=(), topology=None) -> None:
    """Each layer alone; ``deferred`` columns are filled later (derived nodes) and checked then."""
    for name, frame in layers.items():
        if LAYERS[name].id_prefix is not None:
            check_ids(name, frame, report)
        check_geometry(name, frame, report)
        check_required_values(name, frame, report, skip=deferred)
        check_numbers(name, frame, report)
    check_ids_across_layers(layers, report)
    dn_range = (topology.dn_min_mm, topology.dn_max_mm) if topology is not None else (DN_MIN_MM, DN_MAX_MM)
    check_values(layers, report, dn_range)


def _one_or_all(messages: list[str], labels: pd.Series, one, all_) -> None:
    """One message per feature, or one for all of them when more than ``MAX_LISTED`` share the fault."""
    if len(labels) > MAX_LISTED:
        messages.append(all_(len(labels), listing(labels)))
    else:
        messages.extend(one(i) for i in labels)


def _label(frame: gpd.GeoDataFrame) -> pd.Series:
    """How to name each feature: its id, or its row (from 1) when the id is missing."""
    rows = pd.Series(np.arange(1, len(frame) + 1), index=frame.index).astype(str).radd("row ")
    return frame["id"].where(frame["id"].notna(), rows) if "id" in frame else rows


def check_ids(name: str, frame: gpd.GeoDataFrame, report: Report) -> None:
    prefix = LAYERS[name].id_prefix
    ids = frame["id"]
    if "id" not in frame.attrs.get("absent", ()):  # a missing id column is reported once, elsewhere
        rows = pd.Series(np.flatnonzero(ids.isna().to_numpy()) + 1).astype(str).radd("row ")
        _one_or_all(report.errors, rows,
                    lambda r: f"{name} {r}: missing id; give the feature a unique id starting with '{prefix}'",
                    lambda n, rs: f"{name}: {n} features have no id ({rs}); give each a unique id starting with "
                                  f"'{prefix}'")
    counts = ids.dropna().value_counts()
    report.errors.extend(f"{name} {i}: duplicate id, {n} features in {name} carry it" for i, n in counts[counts > 1].items())
    wrong = ids.notna() & ~ids.fillna("").astype(str).str.startswith(prefix)
    _one_or_all(report.errors, ids[wrong],
                lambda i: f"{name} {i}: field id must start with '{prefix}' in layer {name}",
                lambda n, ls: f"{name}: {n} ids do not start with '{prefix}' ({ls}); rename them, or import with a "
                              "mapping, which adds our prefix and keeps yours as source_id")


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


def check_required_values(name: str, frame: gpd.GeoDataFrame, report: Report, skip=(), only=None) -> None:
    label = _label(frame)
    for column in LAYERS[name].required:
        if column == "id" or column in frame.attrs.get("absent", ()) or column in skip:
            continue  # a missing id or a whole missing column is reported once, elsewhere
        if only is not None and column not in only:
            continue
        empty = frame[column].isna()
        _one_or_all(report.errors, label[empty], lambda i, c=column: f"{name} {i} field {c}: required value is empty",
                    lambda n, ls, c=column: f"{name} field {c}: required value is empty in {n} features: {ls}")


def check_numbers(name: str, frame: gpd.GeoDataFrame, report: Report) -> None:
    """Numeric columns hold numbers (not text such as '107.1'), each inside its plausible range."""
    label = _label(frame)
    for column in sorted(NUMERIC_COLUMNS & set(frame.columns)):
        values = frame[column]
        text = values.map(lambda v: isinstance(v, str)).astype(bool)
        if text.any():
            number = pd.to_numeric(values[text].str.strip(), errors="coerce")
            junk = number.isna()
            report.errors.extend(f"{name} {i} field {column}: {v!r} is not a number"
                                 for i, v in zip(label[text][junk], values[text][junk], strict=True))
            if (~junk).any():
                shown = values[text][~junk]
                sample = ", ".join(repr(v) for v in shown.drop_duplicates().head(3))
                report.errors.append(f"{name} field {column}: text, not a number ({sample}) in {len(shown)} "
                                     f"features: {listing(label[text][~junk])}; store numbers, or import with a "
                                     "mapping, which reads numbers from text")
            continue
        if column not in VALUE_RANGES:
            continue
        low, high = VALUE_RANGES[column]
        number = pd.to_numeric(values, errors="coerce")
        bad = values.notna() & ~number.between(low, high)
        _one_or_all(report.errors, label[bad],
                    lambda i, c=column, lo=low, hi=high: f"{name} {i} field {c}: {frame[c][label == i].iloc[0]!r} "
                                                         f"is outside {lo:g}…{hi:g}",
                    lambda n, ls, c=column, lo=low, hi=high: f"{name} field {c}: outside {lo:g}…{hi:g} in {n} "
                                                             f"features: {ls}")


def check_values(layers: dict[str, gpd.GeoDataFrame], report: Report, dn_range=(DN_MIN_MM, DN_MAX_MM)) -> None:
    for name in ("pipes", "valves"):
        check_dn(name, layers[name], report, dn_range)
    check_choice("sources", layers["sources"], "role", ROLES, report)
    check_source_roles(layers["sources"], report)
    check_choice("sensors", layers["sensors"], "kind", tuple(SENSOR_KIND), report)


def check_dn(name: str, frame: gpd.GeoDataFrame, report: Report, dn_range=(DN_MIN_MM, DN_MAX_MM)) -> None:
    low, high = dn_range
    text = frame["dn_mm"].map(lambda v: isinstance(v, str)).astype(bool)
    given = frame["dn_mm"].notna() & ~text  # text is reported by check_numbers
    dn = pd.to_numeric(frame["dn_mm"], errors="coerce")
    bad = given & ~dn.between(low, high)
    report.errors.extend(f"{name} {i} field dn_mm: {v!r} is outside DN {low:g}–{high:g} mm (rule: dn_min_mm, "
                         "dn_max_mm)" for i, v in zip(_label(frame)[bad], frame["dn_mm"][bad], strict=True))


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


def check_pipes_after_snapping(network: Network, crs, topo, report: Report) -> None:
    check_parallel_duplicates(network.pipes, crs, topo.pair_tolerance_m, report)


def check_parallel_duplicates(pipes: gpd.GeoDataFrame, crs, tolerance_m: float, report: Report) -> None:
    """Two pipes between the same two nodes along the same route (every point within ``tolerance_m``):
    supply and return lines drawn in one layer, or a pipe drawn twice — either would double the trench."""
    ends = pipes.dropna(subset=["from_node", "to_node"])
    if ends.empty:
        return
    key = np.where(ends["from_node"] < ends["to_node"], ends["from_node"] + "|" + ends["to_node"],
                   ends["to_node"] + "|" + ends["from_node"])
    counts = pd.Series(key).value_counts()
    shared = ends[pd.Series(key).isin(counts.index[counts > 1]).to_numpy()]
    if shared.empty:
        return
    geoms = gpd.GeoSeries(shared.geometry.values, index=shared.index, crs=shared.crs).to_crs(crs)
    key = pd.Series(key, index=ends.index)[shared.index]
    for _, group in shared.groupby(key, sort=False):
        rows = list(group.index)
        for a_pos, a in enumerate(rows):
            for b in rows[a_pos + 1:]:
                d = float(shapely.hausdorff_distance(geoms[a], geoms[b]))
                if d <= tolerance_m:
                    report.errors.append(
                        f"pipes {pipes.at[a, 'id']}, {pipes.at[b, 'id']}: parallel duplicates between nodes "
                        f"{pipes.at[a, 'from_node']} and {pipes.at[a, 'to_node']} ({d:.2f} m apart at most; rule: one "
                        "pipe per trench); supply and return in one layer? map them as two layers with side: supply "
                        "and side: return, or delete the copy")


def check_supplied_length(pipes: gpd.GeoDataFrame, crs, tolerance: float, report: Report) -> None:
    """A length the utility supplied that is off the drawn line by more than ``tolerance`` (a share);
    run on the lines as drawn, before junctions split them."""
    if "source_length_m" not in pipes or pipes.empty:
        return
    given = pd.to_numeric(pipes["source_length_m"], errors="coerce")
    drawn = pipes["drawn"].map(lambda v: str(v).lower() not in ("false", "0", "no")) if "drawn" in pipes \
        else pd.Series(True, index=pipes.index)
    usable = topology.usable_lines(pipes)
    measured = pd.Series(np.nan, index=pipes.index)
    measured[usable] = topology.lengths_m(pipes[usable], crs).to_numpy()
    off = drawn & given.notna() & measured.notna() & ((given - measured).abs() > tolerance * measured)
    rows = pipes.index[off]
    messages = [f"pipes {pipes.at[r, 'id']} field length_m: the file says {given[r]:.1f} m, the drawn line is "
                f"{measured[r]:.1f} m ({given[r] / measured[r]:.2g}×; rule: length_tolerance {tolerance:g}); the "
                "drawn length is used" for r in rows]
    if len(messages) > MAX_LISTED:
        messages = [f"pipes field length_m: {len(rows)} pipes' supplied lengths differ from their drawn lines by "
                    f"more than {tolerance:.0%} (rule: length_tolerance), e.g. {messages[0].split(': ', 1)[1]}; "
                    f"{listing(pipes.loc[rows, 'id'])}"]
    report.warnings.extend(messages)


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
