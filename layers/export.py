"""Write a network back to one GeoPackage that ``layers.read.read_network`` reads as the same network.

The layers are written in the CRS the network's file was drawn in (``Network.source_crs``) or the
one asked for; only values the network has are written: a value that was a default (listed in the
feature's ``assumed``) is left empty, the ``assumed`` field flags it, and a re-import assumes it
again. Measured columns (``from_node``, ``to_node``, ``length_m``) are not written: they are derived
on every read. The design settings go into the ``design`` and ``heating_curve`` tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from layers.design import CURVE_LAYER, DESIGN_LAYER, design_tables
from layers.mapping import ASSUMED
from layers.network import WGS84, Network

# Optional columns whose default is None but whose values are numbers: keep a numeric field type
# so a GIS editor can type numbers into them later.
NUMERIC_WITHOUT_DEFAULT = ("flow_t_h", "dn_mm", "source_length_m")
DERIVED = ("from_node", "to_node", "length_m")


def _without_assumed(frame, name: str, design):
    """Cells whose value was assumed (named in the row's ``assumed``) and is the default a re-import
    would assume again, emptied; other assumed values (a mapping's constants) stay, flagged."""
    from layers.read import defaults

    default = defaults(name, design)
    if ASSUMED not in frame or frame[ASSUMED].isna().all():
        return frame
    frame = frame.copy()
    listed = frame[ASSUMED].fillna("").astype(str).str.split(",")
    for column in {c for names in listed for c in names if c and c in frame and default.get(c) is not None}:
        hit = listed.map(lambda names, c=column: c in names).to_numpy(dtype=bool) & \
            (frame[column] == default[column]).to_numpy(dtype=bool)
        if hit.any():
            values = frame[column].astype(object) if frame[column].dtype == bool else frame[column]
            frame[column] = values.where(~hit, None)
    return frame


def _writable(name: str, frame, crs, design):
    """Object columns holding only None have no field type for GDAL; store them as text."""
    frame = _without_assumed(frame.drop(columns=[c for c in DERIVED if c in frame]), name, design)
    frame = frame.to_crs(crs).reset_index(drop=True)
    for column in frame.columns.drop(frame.geometry.name):
        if frame[column].dtype == object and frame[column].isna().all():
            dtype = "float64" if column in NUMERIC_WITHOUT_DEFAULT else "string"
            frame[column] = pd.Series([None] * len(frame), dtype=dtype)
        elif frame[column].dtype == object and frame[column].map(lambda v: isinstance(v, bool | np.bool_)).any():
            frame[column] = frame[column].map(lambda v: None if v is None or v != v else bool(v))
    return frame


def write_geopackage(network: Network, path, crs=None) -> Path:
    """Every non-empty layer to ``path`` (replaced if it exists) in ``crs`` (default: the network's
    own, else EPSG:4326), and its design tables; returns the path."""
    path = Path(path)
    path.unlink(missing_ok=True)
    crs = crs or network.source_crs or WGS84
    for name, frame in network.items():
        if len(frame):
            _writable(name, frame, crs, network.design).to_file(path, layer=name, driver="GPKG")
    design, curve = design_tables(network.design)
    if len(design.columns):
        pyogrio.write_dataframe(design, path, layer=DESIGN_LAYER, driver="GPKG")
    if len(curve):
        pyogrio.write_dataframe(curve, path, layer=CURVE_LAYER, driver="GPKG")
    return path
