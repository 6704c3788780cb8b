"""What a network file holds, as the utility saved it: its layers by name, read through pyogrio/GDAL.

Kinds read: a GeoPackage (``.gpkg``), a GeoJSON file (``.geojson``/``.json``), a shapefile (``.shp``
or a ``.zip`` of them), a CSV (points from coordinate columns or a WKT column, or a table without
geometry), a DXF drawing (each DXF layer is one layer here), and a folder of any of these (each
file's layers; a single-layer file is named by its stem).

``list_layers(path)`` names them; ``read_layer(source, csv=...)`` reads one as a GeoDataFrame (a
CSV without geometry as a GeoDataFrame with empty geometry).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

SINGLE_LAYER = {".geojson", ".json", ".shp", ".csv"}
MULTI_LAYER = {".gpkg", ".zip", ".dxf"}
SUFFIXES = SINGLE_LAYER | MULTI_LAYER
DXF_LAYER_FIELD = "Layer"
# Coordinate and WKT column names tried in a CSV when the mapping names none (case-insensitive).
CSV_X = ("x", "lon", "lng", "long", "longitude", "easting", "rechtswert", "经度", "x坐标", "横坐标")
CSV_Y = ("y", "lat", "latitude", "northing", "hochwert", "纬度", "y坐标", "纵坐标")
CSV_WKT = ("wkt", "geometry", "geom", "the_geom", "shape", "几何")


class SourceError(ValueError):
    """A file that cannot be opened or read; the message names it."""


@dataclass(frozen=True)
class SourceLayer:
    name: str            # how a mapping refers to it
    file: Path
    layer: str | None    # the layer inside the file (None: the file's only layer)
    driver: str          # GPKG | GeoJSON | ESRI Shapefile | CSV | DXF

    def where(self) -> str:
        inner = f" layer {self.layer}" if self.layer and self.layer != self.file.stem else ""
        return f"{self.file}{inner}"


def _gdal_path(file: Path) -> str:
    return f"/vsizip/{file}" if file.suffix.lower() == ".zip" else str(file)


def _driver(file: Path) -> str:
    return {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile",
            ".zip": "ESRI Shapefile", ".csv": "CSV", ".dxf": "DXF"}[file.suffix.lower()]


def _dxf_layers(file: Path) -> list[str]:
    table = pyogrio.read_dataframe(file, columns=[DXF_LAYER_FIELD], read_geometry=False)
    return sorted(str(v) for v in table[DXF_LAYER_FIELD].dropna().unique())


def _file_layers(file: Path) -> list[SourceLayer]:
    driver = _driver(file)
    try:
        if driver == "DXF":
            return [SourceLayer(n, file, n, driver) for n in _dxf_layers(file)]
        names = [str(n) for n in pyogrio.list_layers(_gdal_path(file))[:, 0]]
    except Exception as exc:  # a corrupt or foreign file: say which, not a traceback
        raise SourceError(f"{file}: cannot read it as {driver} ({exc})") from exc
    if file.suffix.lower() in SINGLE_LAYER and len(names) == 1:
        return [SourceLayer(file.stem, file, None, driver)]
    return [SourceLayer(n, file, n, driver) for n in names]


def list_layers(path) -> tuple[dict[str, SourceLayer], list[str]]:
    """The layers at ``path`` by name, and warnings (ignored files, names used twice)."""
    path = Path(path)
    warnings: list[str] = []
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        # A shapefile's sidecars (.dbf, .prj …) and other files are not layers of their own.
        ignored = sorted(p.name for p in path.iterdir() if p.is_file() and p.suffix.lower() not in SUFFIXES
                         and p.suffix.lower() not in (".dbf", ".shx", ".prj", ".cpg", ".qmd", ".sbn", ".sbx",
                                                      ".yaml", ".yml", ".xml", ".qix", ".md", ".txt"))
        warnings.extend(f"{path / n}: ignored, not a file kind read here ({', '.join(sorted(SUFFIXES))})"
                        for n in ignored)
    elif path.is_file() and path.suffix.lower() in SUFFIXES:
        files = [path]
    elif path.exists():
        raise SourceError(f"{path}: not a file kind read here; give a GeoPackage, GeoJSON, shapefile (.shp or "
                          f".zip), CSV or DXF, or a folder of them")
    else:
        raise SourceError(f"{path}: no such file or folder")
    layers: dict[str, SourceLayer] = {}
    for file in files:
        for layer in _file_layers(file):
            if layer.name in layers:
                warnings.append(f"{layer.where()}: layer name '{layer.name}' also in {layers[layer.name].where()};"
                                " the first is used")
                continue
            layers[layer.name] = layer
    return layers, warnings


def _pick(columns, wanted, candidates) -> str | None:
    if wanted:
        return wanted
    lower = {str(c).lower(): str(c) for c in columns}
    return next((lower[c] for c in candidates if c in lower), None)


def read_layer(source: SourceLayer, *, x: str | None = None, y: str | None = None,
               wkt: str | None = None) -> gpd.GeoDataFrame:
    """One layer as stored (its own CRS, None when it declares none); geometry column 'geometry'.

    A CSV's points come from columns ``x``/``y`` (or ``wkt``), or from the first of ``CSV_X``/``CSV_Y``
    (``CSV_WKT``) it has; its numbers are read as numbers.
    """
    try:
        if source.driver == "CSV":
            frame = _read_csv(source.file, x, y, wkt)
        elif source.driver == "DXF":
            frame = pyogrio.read_dataframe(source.file, where=f"{DXF_LAYER_FIELD} = '{source.layer}'")
        else:
            frame = pyogrio.read_dataframe(_gdal_path(source.file), layer=source.layer)
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(f"{source.where()}: cannot read the layer ({exc})") from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)), crs=None)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    return frame


def _read_csv(file: Path, x, y, wkt) -> gpd.GeoDataFrame:
    header = pyogrio.read_info(file)["fields"]
    wkt = _pick(header, wkt, CSV_WKT) if not (x or y) else None
    options = {"AUTODETECT_TYPE": "YES", "KEEP_GEOM_COLUMNS": "NO"}
    if wkt:
        if wkt not in header:
            raise SourceError(f"{file}: no column '{wkt}' for the WKT geometry; columns: {', '.join(header)}")
        options["GEOM_POSSIBLE_NAMES"] = wkt
    else:
        x, y = _pick(header, x, CSV_X), _pick(header, y, CSV_Y)
        for name in (x, y):
            if name and name not in header:
                raise SourceError(f"{file}: no column '{name}' for the coordinates; columns: {', '.join(header)}")
        if x and y:
            options.update(X_POSSIBLE_NAMES=x, Y_POSSIBLE_NAMES=y)
    frame = pyogrio.read_dataframe(file, **options)
    if isinstance(frame, pd.DataFrame) and not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)), crs=None)
    return frame


def describe(source: SourceLayer, frame: gpd.GeoDataFrame, samples: int = 3) -> dict:
    """What ``--inspect`` prints of one layer: kind, features, geometry types, CRS, extent, fields."""
    geoms = frame.geometry
    types = sorted(geoms.dropna().geom_type.unique().tolist()) if len(frame) else []
    fields = {}
    for column in frame.columns.drop("geometry"):
        values = frame[column].dropna()
        fields[str(column)] = {"dtype": str(frame[column].dtype),
                               "samples": [v.item() if hasattr(v, "item") else v
                                           for v in values.drop_duplicates().head(samples)]}
    bounds = [float(v) for v in frame.total_bounds] if geoms.notna().any() else None
    return {"name": source.name, "file": str(source.file), "driver": source.driver, "features": len(frame),
            "geometry": types, "crs": frame.crs.to_string() if frame.crs is not None else None,
            "bounds": bounds, "fields": fields}
