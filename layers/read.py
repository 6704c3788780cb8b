"""Read a network from a GeoPackage (layers by name) or a folder of ``<layer>.geojson`` files.

``read_network`` returns the ``Network`` (WGS84, defaults applied, ids as str, pipes snapped with
``from_node``/``to_node``/``length_m``) and a ``Report`` of every problem. Errors mean: refuse.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from layers import topology, validate
from layers.network import WGS84, Network, empty_layer
from layers.report import Report
from layers.schema import LAYERS, SNAP_TOLERANCE_M

__all__ = ["Report", "read_network", "read_layers"]

GEOJSON_SUFFIX = ".geojson"
REFERENCE_COLUMNS = ("node_id", "pipe_id", "element_id", "station_id")
DERIVED_PIPE_COLUMNS = ("from_node", "to_node", "length_m")  # recomputed from geometry on every read


def read_network(path, snap_tolerance_m: float = SNAP_TOLERANCE_M) -> tuple[Network, Report]:
    """The network at ``path`` and every problem found; ``report.ok`` False means refuse the file.

    Pipe ends within ``snap_tolerance_m`` metres of a node are moved onto it (listed in
    ``report.snaps`` when the move exceeds a millimetre).
    """
    report = Report()
    raw, from_geojson = read_layers(Path(path), report)
    layers, source_crs = {}, {}
    for name, frame in raw.items():
        source_crs[name] = frame.crs
        frame = to_wgs84(name, frame, from_geojson, report)
        if frame is not None:
            layers[name] = apply_schema(name, frame, report)
    for name in LAYERS:
        layers.setdefault(name, empty_layer(name))
    validate.check_required_layers(raw, report)
    structural = not report.ok  # unreadable or missing layers, unknown CRS, missing columns
    validate.check_layers(layers, report)
    network = Network(**layers)
    if structural:
        # Topology on half-read layers would bury the real cause under consequences.
        report.warnings.append("topology and references not checked: fix the errors first")
        network.pipes = network.pipes.assign(from_node=None, to_node=None, length_m=float("nan"))
        return network, report
    crs = topology.metric_crs([network.nodes, network.pipes], source_crs.get("pipes"))
    topology.build(network, snap_tolerance_m, crs, report)
    validate.check_network(network, report)
    return network, report


def read_layers(path: Path, report: Report) -> tuple[dict[str, gpd.GeoDataFrame], bool]:
    """The schema's layers found at ``path`` (as stored) and whether they came from GeoJSON."""
    if path.is_dir():
        files = {p.stem: p for p in sorted(path.glob(f"*{GEOJSON_SUFFIX}"))}
        sources = {name: (files[name], None) for name in LAYERS if name in files}
        report.warnings.extend(f"{path / (stem + GEOJSON_SUFFIX)}: ignored, '{stem}' is not a network layer"
                               for stem in files if stem not in LAYERS)
        return _read_each(sources, report), True
    if path.is_file() and path.suffix.lower() == ".gpkg":
        try:
            names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        except Exception as exc:  # a corrupt file: say so instead of a traceback
            report.errors.append(f"{path}: cannot read the GeoPackage ({exc})")
            return {}, False
        report.warnings.extend(f"{path}: layer '{n}' ignored, it is not a network layer"
                               for n in names if n not in LAYERS)
        return _read_each({n: (path, n) for n in names if n in LAYERS}, report), False
    report.errors.append(f"{path}: not a GeoPackage (.gpkg) or a folder of <layer>{GEOJSON_SUFFIX} files")
    return {}, False


def _read_each(sources: dict, report: Report) -> dict[str, gpd.GeoDataFrame]:
    frames = {}
    for name, (file, layer) in sources.items():
        try:
            frame = gpd.read_file(file, layer=layer) if layer else gpd.read_file(file)
        except Exception as exc:
            report.errors.append(f"{name}: cannot read {file} ({exc})")
            continue
        frames[name] = frame.rename_geometry("geometry") if frame.geometry.name != "geometry" else frame
    return frames


def within_lonlat(frame: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = frame.total_bounds
    return bool(frame.empty or frame.geometry.isna().all()
                or (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90))


def to_wgs84(name: str, frame: gpd.GeoDataFrame, from_geojson: bool, report: Report):
    """``frame`` in EPSG:4326, or None (and an error) when its CRS is unknown or contradicts it."""
    if frame.crs is None:
        if from_geojson and within_lonlat(frame):
            return frame.set_crs(WGS84)  # RFC 7946: GeoJSON without a CRS is WGS84 lon/lat
        report.errors.append(f"{name}: unknown CRS, the layer declares no coordinate reference system; "
                             "save it with its CRS (EPSG:4326 or the local projected CRS)")
        return None
    if frame.crs.is_geographic and not within_lonlat(frame):
        report.errors.append(f"{name}: coordinates outside lon/lat bounds although the CRS is "
                             f"{frame.crs.to_string()}; declare the projected CRS they are in")
        return None
    return frame.to_crs(WGS84)


def apply_schema(name: str, frame: gpd.GeoDataFrame, report: Report) -> gpd.GeoDataFrame:
    """Columns of the layer spec in order (missing required → error; absent optional → default),
    ids and references as str, NaN in optional columns → default."""
    spec = LAYERS[name]
    # An empty layer (a GeoJSON with no features has no columns at all) lacks nothing.
    absent = [c for c in spec.required if c not in frame and len(frame)]
    frame = frame.drop(columns=[c for c in DERIVED_PIPE_COLUMNS if name == "pipes" and c in frame])
    report.errors.extend(f"{name}: missing required column '{column}'" for column in absent)
    for column in spec.required:
        if column not in frame:
            frame[column] = None
    for column, default in spec.optional.items():
        if column not in frame:
            frame[column] = default
        elif default is not None and frame[column].isna().any():
            frame[column] = frame[column].where(frame[column].notna(), default).infer_objects()
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
