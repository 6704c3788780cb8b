"""Read a network: our own layers as they are, or a utility's GIS through an import mapping.

``read_network(path, mapping=None)`` returns the ``Network`` (WGS84, defaults applied and marked
``assumed``, ids as str, pipes snapped with ``from_node``/``to_node``/``length_m``, the network's
design settings and its file's CRS) and a ``Report`` of every problem. Errors mean: refuse.

Without a mapping the layers must be ours by name (a GeoPackage, or a folder of GeoJSON,
shapefiles, CSV …; see ``layers.sources``); a mapping (``layers.mapping``) names the source layer
and fields of each of ours, and how the topology is built (``layers.derive``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj
import shapely

from layers import derive, topology, validate
from layers.design import CURVE_LAYER, DESIGN_LAYER, design_from_tables, settle
from layers.mapping import (
    ASSUMED,
    Mapping,
    MappingError,
    apply_layer,
    identity_mapping,
    load_mapping,
    merge_assumed,
)
from layers.network import WGS84, Network, empty_layer
from layers.report import Report
from layers.schema import LAYERS, NOT_ASSUMED
from layers.sources import SourceError, SourceLayer, list_layers, read_layer

__all__ = ["Report", "read_network", "within_lonlat", "as_str"]

REFERENCE_COLUMNS = ("node_id", "pipe_id", "element_id", "station_id")
DERIVED_PIPE_COLUMNS = ("from_node", "to_node", "length_m")  # recomputed from geometry on every read
TABLES = (DESIGN_LAYER, CURVE_LAYER)
# A network drawn in lon/lat spans less than this; a layer without a CRS spanning more is in other units.
MAX_LONLAT_SPAN_DEG = 2.0


def read_network(path, snap_tolerance_m: float | None = None, mapping=None) -> tuple[Network, Report]:
    """The network at ``path`` and every problem found; ``report.ok`` False means refuse the file.

    ``mapping``: a ``Mapping`` or the path of a mapping YAML (None: our own layers and fields).
    Pipe ends within the snap tolerance (``snap_tolerance_m``, else the mapping's, else 2 m) of a
    node are moved onto it (listed in ``report.snaps`` when the move exceeds a millimetre).
    """
    report = Report()
    path = Path(path)
    try:
        sources, warnings = list_layers(path)
        if mapping is not None and not isinstance(mapping, Mapping):
            mapping = load_mapping(mapping)
    except (SourceError, MappingError) as exc:
        report.errors.append(str(exc))
        return Network(), report
    report.warnings.extend(warnings)
    if mapping is None:
        mapping = identity_mapping(sources)
        report.warnings.extend(f"{s.where()}: layer '{n}' ignored, it is not a network layer"
                               for n, s in sources.items() if n not in LAYERS and n not in TABLES)
    if snap_tolerance_m is not None:
        mapping = replace(mapping, topology=replace(mapping.topology, snap_tolerance_m=float(snap_tolerance_m)))
    return _read(path, sources, mapping, report)


def _read(path: Path, sources: dict[str, SourceLayer], mapping: Mapping, report: Report):
    topo = mapping.topology
    design = _design(sources, mapping, report)
    frames, stubs, source_crs, unmapped = _mapped_frames(sources, mapping, report)
    found = {rule.target for rule in mapping.layers if rule.source in sources}
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, parts in frames.items():
        layers[name] = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=WGS84)
    crs = topology.metric_crs([f for f in layers.values()], source_crs)
    if "nodes" in layers:
        for name in ("stations", "sources"):
            if name in layers:
                layers[name] = derive.place_at_nodes(_ids_as_str(layers[name]), _ids_as_str(layers["nodes"]))
    if "pipes" in layers:
        if "nodes" in layers:
            layers["pipes"] = derive.lines_between_nodes(layers["pipes"], layers["nodes"], report)
        layers["pipes"] = derive.pair_sides(layers["pipes"], crs, topo.pair_tolerance_m, report)
    for stub_frame, keep in stubs:
        stations, stub_pipes = derive.stub_stations(stub_frame, layers.get("pipes", empty_layer("pipes")), crs,
                                                    keep, report)
        layers["stations"] = _concat(layers.get("stations"), stations)
        layers["pipes"] = _concat(layers.get("pipes"), stub_pipes)
    derived = topo.nodes == "line_ends"
    # Stations, sources and valves a mapping gives no node (or pipe) join the nearest one.
    deferred = {"node_id", "pipe_id"} if derived or not mapping.identity else set()
    layers = {name: apply_schema(name, frame, report, design, deferred | unmapped.get(name, set()))
              for name, frame in layers.items()}
    for name in LAYERS:
        layers.setdefault(name, empty_layer(name))
    validate.check_required_layers(found | ({"nodes"} if derived else set()), report, mapped=not mapping.identity)
    structural = not report.ok  # unreadable or missing layers, unknown CRS, missing columns or fields
    validate.check_layers(layers, report, deferred=deferred, topology=topo)
    network = Network(**layers, design=design, source_crs=_crs_text(source_crs))
    if structural:
        # Topology on half-read layers would bury the real cause under consequences.
        report.warnings.append("topology and references not checked: fix the errors first")
        network.pipes = network.pipes.assign(from_node=None, to_node=None, length_m=float("nan"))
        return network, report
    validate.check_supplied_length(network.pipes, crs, topo.length_tolerance, report)
    if derived:
        network.pipes, network.nodes = derive.derive_nodes(network.pipes, network.nodes, crs, topo.snap_tolerance_m,
                                                           report)
        network.nodes = apply_schema("nodes", network.nodes, report, design)
    if deferred:
        for name in ("stations", "sources"):
            setattr(network, name, derive.attach_to_nodes(name, network.layer(name), network.nodes, crs,
                                                          topo.attach_tolerance_m, report))
    topology.build(network, topo.snap_tolerance_m, crs, report)
    if deferred:
        network.valves = derive.attach_valves(network.valves, network.pipes, network.nodes, crs,
                                              topo.attach_tolerance_m, report)
        for name in ("stations", "sources", "valves"):
            validate.check_required_values(name, network.layer(name), report, only=deferred)
    validate.check_pipes_after_snapping(network, crs, topo, report)
    validate.check_network(network, report)
    return network, report


def _ids_as_str(frame):
    return frame.assign(**{c: as_str(frame[c]) for c in ("id", "node_id") if c in frame})


def _concat(frame, more):
    if frame is None or not len(frame):
        return more
    return gpd.GeoDataFrame(pd.concat([frame, more], ignore_index=True), geometry="geometry", crs=WGS84)


def _crs_text(crs) -> str | None:
    if crs is None:
        return None
    crs = pyproj.CRS.from_user_input(crs)
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def _design(sources: dict[str, SourceLayer], mapping: Mapping, report: Report):
    tables = {}
    for name in TABLES:
        if name in sources:
            try:
                tables[name] = pd.DataFrame(read_layer(sources[name]).drop(columns="geometry"))
            except SourceError as exc:
                report.errors.append(str(exc))
    given = design_from_tables(tables.get(DESIGN_LAYER), tables.get(CURVE_LAYER), "design", report.errors)
    given.update({k: v for k, v in mapping.design.items() if v is not None})  # null: assume the default
    settings = settle(given, str(mapping.path or "design"), report.errors)
    if settings.assumed:
        report.warnings.append(f"design: {', '.join(settings.assumed)} not given (a '{DESIGN_LAYER}' table in the "
                               "file, or the mapping's design:); the defaults are assumed")
    return settings


def _mapped_frames(sources, mapping: Mapping, report: Report):
    """Our layers' frames (WGS84) per target, the stub-station frames, and the pipes' source CRS."""
    frames: dict[str, list] = {}
    stubs, pipe_crs, offsets, unmapped = [], None, {}, {}
    for rule in mapping.layers:
        source = sources.get(rule.source)
        if source is None:
            if not mapping.identity:
                report.errors.append(f"{mapping.path}: layers {rule.target} source '{rule.source}' is not in the input;"
                                     f" its layers: {', '.join(sources) or 'none'}")
            continue
        try:
            raw = read_layer(source, x=rule.x, y=rule.y, wkt=rule.wkt)
        except SourceError as exc:
            report.errors.append(str(exc))
            continue
        declared = rule.crs or mapping.crs
        if raw.crs is None and declared:
            raw = raw.set_crs(declared)
        frame = apply_layer(rule, raw, report, prefix_ids=mapping.prefix_ids, row_offset=offsets.get(rule.source, 0))
        unmapped.setdefault(rule.target, set()).update(frame.attrs.get("unmapped", ()))
        label = rule.target if mapping.identity else f"{rule.target} (source {rule.source})"
        frame = to_wgs84(label, frame, source.driver == "GeoJSON", report, csv=source.driver == "CSV")
        if frame is None:
            continue
        if rule.target == "pipes" and pipe_crs is None and raw.crs is not None:
            pipe_crs = raw.crs
        if rule.geometry == "stub_far_end":
            stubs.append((frame, rule.keep_stub_pipes))
        else:
            frames.setdefault(rule.target, []).append(frame)
    return frames, stubs, pipe_crs, unmapped


def within_lonlat(frame: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = frame.total_bounds
    return bool(frame.empty or frame.geometry.isna().all()
                or (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90))


def plausibly_lonlat(frame: gpd.GeoDataFrame) -> bool:
    """Inside lon/lat bounds and no wider than one network could be (``MAX_LONLAT_SPAN_DEG``)."""
    if frame.empty or frame.geometry.isna().all():
        return True
    minx, miny, maxx, maxy = frame.total_bounds
    return within_lonlat(frame) and max(maxx - minx, maxy - miny) <= MAX_LONLAT_SPAN_DEG


def to_wgs84(name: str, frame: gpd.GeoDataFrame, from_geojson: bool, report: Report, csv: bool = False):
    """``frame`` in EPSG:4326, or None (and an error) when its CRS is unknown or contradicts it."""
    if frame.geometry.isna().all():
        return frame.set_crs(WGS84, allow_override=True)  # a table: nothing to place
    if frame.crs is None:
        if not plausibly_lonlat(frame):
            minx, miny, maxx, maxy = frame.total_bounds
            report.errors.append(f"{name}: no CRS, and its extent ({minx:.6g}…{maxx:.6g}, {miny:.6g}…{maxy:.6g}) "
                                 f"is not plausibly lon/lat (rule: a network spans under {MAX_LONLAT_SPAN_DEG:g}°); "
                                 "declare the CRS in the file or the mapping's crs:")
            return None
        if from_geojson:
            return frame.set_crs(WGS84)  # RFC 7946: GeoJSON without a CRS is WGS84 lon/lat
        if csv:  # a CSV never declares one: plausible lon/lat is taken for it, and said so
            report.warnings.append(f"{name}: a CSV declares no CRS; its coordinates are plausibly lon/lat and taken "
                                   "as EPSG:4326 (give crs: in a mapping if they are not)")
            return frame.set_crs(WGS84)
        report.errors.append(f"{name}: unknown CRS, the layer declares no coordinate reference system; "
                             "save it with its CRS (EPSG:4326 or the local projected CRS) or give crs: in a mapping")
        return None
    if frame.crs.is_geographic and not within_lonlat(frame):
        report.errors.append(f"{name}: coordinates outside lon/lat bounds although the CRS is "
                             f"{frame.crs.to_string()}; declare the projected CRS they are in")
        return None
    if frame.crs.is_geographic and from_geojson and not plausibly_lonlat(frame):
        # GDAL reads a GeoJSON without a "crs" member as WGS84, so local metres arrive here.
        minx, miny, maxx, maxy = frame.total_bounds
        report.errors.append(f"{name}: no CRS, and its extent ({minx:.6g}…{maxx:.6g}, {miny:.6g}…{maxy:.6g}) "
                             f"is not plausibly lon/lat (rule: a network spans under {MAX_LONLAT_SPAN_DEG:g}°); "
                             "declare the CRS in the file or the mapping's crs:")
        return None
    return frame.to_crs(WGS84)


def defaults(name: str, design) -> dict:
    """The layer's optional columns and their defaults, those of the network's design where it has one."""
    defaults = dict(LAYERS[name].optional)
    if design is not None and name == "stations":
        defaults.update(t_return_c=float(design.design_return_c), min_dp_bar=float(design.min_station_dp_bar))
    if design is not None and name == "sources":
        defaults.update(t_supply_c=float(design.design_supply_c))
    return defaults


def apply_schema(name: str, frame: gpd.GeoDataFrame, report: Report, design=None,
                 deferred=()) -> gpd.GeoDataFrame:
    """Columns of the layer spec in order (missing required → one error per column; absent
    optional → default), ids and references as str, NaN in optional columns → default; the columns
    a default filled are added to the feature's ``assumed``."""
    spec = LAYERS[name]
    frame = frame.copy()
    if name == "pipes" and "length_m" in frame:
        # A length in the file is the utility's, checked against the drawing; ours is measured.
        supplied = frame.pop("length_m")
        frame["source_length_m"] = frame["source_length_m"].fillna(supplied) if "source_length_m" in frame \
            else supplied
    frame = frame.drop(columns=[c for c in DERIVED_PIPE_COLUMNS if name == "pipes" and c in frame])
    # An empty layer (a GeoJSON with no features has no columns at all) lacks nothing.
    absent = [c for c in spec.required if c not in frame and len(frame)]
    report.errors.extend(f"{name}: missing required column '{column}'" for column in absent
                         if column not in deferred)
    assumed = frame[ASSUMED] if ASSUMED in frame else pd.Series(None, index=frame.index, dtype=object)
    filled = {}
    for column in spec.required:
        if column not in frame:
            frame[column] = None
    for column, default in defaults(name, design).items():
        if column not in frame:
            frame[column] = default
            filled[column] = pd.Series(default is not None, index=frame.index)
        elif default is not None and frame[column].isna().any():
            filled[column] = frame[column].isna()
            frame[column] = frame[column].where(frame[column].notna(), default).infer_objects()
    flags = [pd.Series(filled[c].to_numpy(), index=frame.index).map({True: c, False: None})
             for c in filled if c not in NOT_ASSUMED]
    if spec.id_prefix is not None:  # the basemap is a picture, not data to assume about
        frame[ASSUMED] = merge_assumed(assumed, *flags) if flags else assumed
    else:
        frame = frame.drop(columns=[ASSUMED], errors="ignore")
    for column in ("id", *REFERENCE_COLUMNS):
        if column in frame:
            frame[column] = as_str(frame[column])
    columns = list(dict.fromkeys([*spec.required, *spec.optional, *frame.columns]))
    columns.remove("geometry")
    frame = gpd.GeoDataFrame(frame[[*columns, "geometry"]], geometry="geometry", crs=WGS84).reset_index(drop=True)
    frame["geometry"] = single_parts(frame.geometry, spec.geometry)
    frame.attrs["absent"] = absent  # so row checks do not repeat a missing column once per feature
    return frame


def single_parts(geoms: gpd.GeoSeries, allowed: tuple[str, ...]) -> gpd.GeoSeries:
    """One-part MultiPoint/MultiLineString as Point/LineString where the layer takes only those:
    GIS editors (QGIS) often save every line as a multi-line."""
    values = geoms.values.copy()
    multi = geoms.geom_type.isin([f"Multi{t}" for t in allowed if f"Multi{t}" not in allowed]).to_numpy()
    one = multi & (shapely.get_num_geometries(values) == 1)
    values[one] = shapely.get_geometry(values[one], 0)
    return gpd.GeoSeries(values, index=geoms.index, crs=geoms.crs)


def as_str(values: pd.Series) -> pd.Series:
    """Values as str; missing and blank stay None (validation reports them). 7.0 reads as '7'."""
    def text(v):
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    out = values.astype(object).where(values.notna(), None)
    present = out.notna()
    out[present] = out[present].map(text)
    return out.where(out.ne(""), None)

