"""A tiny valid network written by hand (GeoJSON folder or GeoPackage), to break one rule at a time.

Imported by name (``from layer_files import ...``): pytest drops ``conftest`` modules from
``sys.modules``, so a test must not import from its conftest.

::

    SRC-1 at N-1 --P-1-- N-2 --P-2-- N-3 (ST-1, C-1)
                          |
                         P-3
                          |
                         N-4 (ST-2)            V-1 on P-1 at N-2, S-1 measures ST-1

One grid unit is ``STEP_DEG`` degrees (about 110 m) near Beijing.
"""

from __future__ import annotations

import json
from pathlib import Path

ORIGIN = (116.40, 39.90)
STEP_DEG = 0.001
# Beijing's design outdoor temperature for heating is −7.6 °C; a 110/50 °C network.
DESIGN = {"design_outdoor_c": -7.6, "design_indoor_c": 20.0, "heating_limit_c": 12.0, "design_supply_c": 110.0,
          "design_return_c": 50.0, "max_supply_c": 130.0, "soil_base_c": 6.0, "soil_outdoor_factor": 0.3,
          "soil_min_c": 1.0, "min_station_dp_bar": 0.5}
CURVE = ((-20.0, 130.0, 55.0), (-7.6, 110.0, 50.0), (12.0, 70.0, 40.0))


def xy(x: float, y: float) -> list[float]:
    return [ORIGIN[0] + x * STEP_DEG, ORIGIN[1] + y * STEP_DEG]


def point(x, y):
    return {"type": "Point", "coordinates": xy(x, y)}


def line(*pts):
    return {"type": "LineString", "coordinates": [xy(*p) for p in pts]}


def feature(geometry, **props):
    return {"type": "Feature", "properties": props, "geometry": geometry}


def valid_layers() -> dict[str, list[dict]]:
    """Layer name -> GeoJSON features of the valid network; tests edit copies of these."""
    return {
        "sources": [feature(point(0, 0), id="SRC-1", name="Plant", node_id="N-1", role="pressure")],
        "nodes": [feature(point(0, 0), id="N-1"), feature(point(1, 0), id="N-2"),
                  feature(point(2, 0), id="N-3"), feature(point(1, -1), id="N-4")],
        "pipes": [feature(line((0, 0), (1, 0)), id="P-1", dn_mm=300),
                  feature(line((1, 0), (2, 0)), id="P-2", dn_mm=200, material="steel"),
                  feature(line((1, 0), (1, -1)), id="P-3", dn_mm=150)],
        "stations": [feature(point(2, 0), id="ST-1", name="East", node_id="N-3"),
                     feature(point(1, -1), id="ST-2", name="South", node_id="N-4")],
        "valves": [feature(point(1, 0), id="V-1", pipe_id="P-1", node_id="N-2")],
        "sensors": [feature(point(2, 0), id="S-1", kind="t_supply", element_id="ST-1")],
        "communities": [feature({"type": "Polygon", "coordinates": [[xy(2, 0.2), xy(2.5, 0.2), xy(2.5, 0.6),
                                                                     xy(2, 0.6), xy(2, 0.2)]]},
                                id="C-1", name="Garden", station_id="ST-1", households=120)],
        "streets": [feature(line((-1, 0.1), (3, 0.1)), kind="arterial", name="Main Rd")],
        # The network's design conditions (tables: features without geometry).
        "design": [feature(None, **DESIGN)],
        "heating_curve": [feature(None, outdoor_c=t, supply_c=s, return_c=r) for t, s, r in CURVE],
    }


def write_network_dir(folder: Path, layers: dict[str, list[dict]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, features in layers.items():
        if features is not None:
            (folder / f"{name}.geojson").write_text(
                json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return folder


def make_network_dir(tmp_path: Path, **overrides) -> Path:
    """The valid network as a folder of GeoJSON files; ``layer=[features]`` replaces a layer,
    ``layer=None`` leaves it out."""
    return write_network_dir(tmp_path / "net", {**valid_layers(), **overrides})


def make_network_gpkg(tmp_path: Path, no_crs: tuple[str, ...] = (), **overrides) -> Path:
    """The valid network as one GeoPackage; layers named in ``no_crs`` are written without a CRS."""
    import geopandas as gpd

    folder = make_network_dir(tmp_path, **overrides)
    path = tmp_path / "network.gpkg"
    for file in sorted(folder.glob("*.geojson")):
        frame = gpd.read_file(file)
        if file.stem in no_crs:
            frame = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(frame.geometry), crs=None)
        frame.to_file(path, layer=file.stem, driver="GPKG")
    return path


def read(tmp_path: Path, **overrides):
    """``read_network`` on the valid network with ``overrides`` applied."""
    from layers.read import read_network

    return read_network(make_network_dir(tmp_path, **overrides))
