"""Network <-> asset rows: the shape ``store.assets.replace_network`` stores and ``get_asset_rows``
returns. Pipes keep ``from_node``, ``to_node`` and ``length_m`` in ``attrs`` so the twin rebuilds the
network from the store without snapping again.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from layers.design import DEFAULT_DESIGN, DesignSettings
from layers.network import WGS84, Network, empty_layer
from layers.schema import LAYERS

KIND = {"sources": "source", "stations": "station", "nodes": "node", "pipes": "pipe", "valves": "valve",
        "sensors": "sensor", "communities": "community"}
LAYER_OF = {kind: layer for layer, kind in KIND.items()}
BASEMAP_LAYER = "streets"
ASSET_COLUMNS = ["id", "kind", "name", "geometry", "lon", "lat", "attrs"]


def representative_lonlat(geoms: gpd.GeoSeries) -> np.ndarray:
    """One point per feature for lists and fly-to: lines at half their length, polygons inside."""
    values = geoms.values
    lines = shapely.get_dimensions(values) == 1
    points = shapely.point_on_surface(values)  # inside polygons; the point itself for points
    points[lines] = shapely.line_interpolate_point(values[lines], 0.5, normalized=True)
    return shapely.get_coordinates(points)


def plain(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of JSON-ready Python values: NaN/NaT → None, numpy scalars → int/float/bool."""
    # astype(object) turns numpy scalars into Python ones; where() puts None in every missing cell.
    objects = frame.astype(object)
    return objects.where(objects.notna(), None).to_dict("records")


def layer_rows(name: str, frame: gpd.GeoDataFrame) -> pd.DataFrame:
    frame = frame.to_crs(WGS84)
    lonlat = representative_lonlat(frame.geometry)
    attrs = frame.drop(columns=[c for c in ("id", "name", frame.geometry.name) if c in frame])
    names = frame["name"].fillna("").astype(str) if "name" in frame else pd.Series("", index=frame.index)
    return pd.DataFrame({
        "id": frame["id"].astype(str).to_numpy(), "kind": KIND[name], "name": names.to_numpy(),
        "geometry": [mapping(g) for g in frame.geometry.values],
        "lon": lonlat[:, 0], "lat": lonlat[:, 1], "attrs": plain(attrs),
    }, columns=ASSET_COLUMNS)


def network_to_asset_rows(network: Network) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(assets, basemap)``: every element as an asset row; streets as basemap features."""
    parts = [layer_rows(name, network.layer(name)) for name in KIND if len(network.layer(name))]
    assets = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ASSET_COLUMNS)
    streets = network.layer(BASEMAP_LAYER).to_crs(WGS84)
    names = streets["name"].fillna("").astype(str) if "name" in streets else pd.Series("", index=streets.index)
    basemap = pd.DataFrame({"kind": streets["kind"].astype(str).to_numpy(), "name": names.to_numpy(),
                            "geometry": [mapping(g) for g in streets.geometry.values]},
                           columns=["kind", "name", "geometry"])
    return assets, basemap


def _geometries(values) -> np.ndarray:
    # The store may hand geometry back as a JSON string or as the dict we stored.
    return np.array([shape(json.loads(g) if isinstance(g, str) else g) for g in values], dtype=object)


def _layer(name: str, rows: pd.DataFrame, columns: dict) -> gpd.GeoDataFrame:
    if rows.empty:
        return empty_layer(name)
    spec = LAYERS[name]
    attrs = pd.DataFrame(list(rows["attrs"].map(lambda a: json.loads(a) if isinstance(a, str) else (a or {}))),
                         index=rows.index)
    data = pd.concat([pd.DataFrame(columns, index=rows.index), attrs], axis=1)
    order = list(dict.fromkeys([*spec.required, *spec.optional, *data.columns]))
    data = data.reindex(columns=order)
    for column, default in spec.optional.items():
        if default is not None:
            data[column] = data[column].where(data[column].notna(), default)
    data = data.infer_objects().reset_index(drop=True)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(_geometries(rows["geometry"]), crs=WGS84), crs=WGS84)


def asset_rows_to_network(assets: pd.DataFrame, basemap: pd.DataFrame | None = None, design: dict | None = None,
                          source_crs: str | None = None) -> Network:
    """The ``Network`` the rows describe (inverse of ``network_to_asset_rows``; extra columns ignored),
    with the design settings (``DesignSettings.to_dict()``, as ``store.networks`` keeps them) and CRS."""
    layers = {}
    for kind, name in LAYER_OF.items():
        rows = assets[assets["kind"] == kind]
        columns = {"id": rows["id"].astype(str)}
        if "name" in LAYERS[name].required or "name" in LAYERS[name].optional:
            columns["name"] = rows["name"]
        layers[name] = _layer(name, rows, columns)
    if basemap is not None and len(basemap):
        basemap = basemap.reset_index(drop=True)
        layers[BASEMAP_LAYER] = gpd.GeoDataFrame(
            {"kind": basemap["kind"], "name": basemap["name"].fillna("")},
            geometry=gpd.GeoSeries(_geometries(basemap["geometry"]), crs=WGS84), crs=WGS84)
    settings = DesignSettings.from_dict(design) if design else DEFAULT_DESIGN
    return Network(**layers, design=settings, source_crs=source_crs)
