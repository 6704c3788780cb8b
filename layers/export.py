"""Write a network back to one GeoPackage that ``layers.read.read_network`` accepts unchanged."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from layers.network import WGS84, Network

# Optional columns whose default is None but whose values are numbers: keep a numeric field type
# so a GIS editor can type numbers into them later.
NUMERIC_WITHOUT_DEFAULT = ("flow_t_h", "dn_mm")


def _writable(frame):
    """Object columns holding only None have no field type for GDAL; store them as text."""
    frame = frame.to_crs(WGS84).reset_index(drop=True)
    for column in frame.columns.drop(frame.geometry.name):
        if frame[column].dtype == object and frame[column].isna().all():
            dtype = "float64" if column in NUMERIC_WITHOUT_DEFAULT else "string"
            frame[column] = pd.Series([None] * len(frame), dtype=dtype)
    return frame


def write_geopackage(network: Network, path) -> Path:
    """Every non-empty layer to ``path`` (replaced if it exists), in EPSG:4326; returns the path."""
    path = Path(path)
    path.unlink(missing_ok=True)
    for name, frame in network.items():
        if len(frame):
            _writable(frame).to_file(path, layer=name, driver="GPKG")
    return path
