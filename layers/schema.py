"""The network's GIS layers: their names, geometry types and attribute columns.

One GeoPackage (or a folder of ``<layer>.geojson`` files) holds these layers. Columns marked
required must be present on every feature; the others get the default shown when absent.
Coordinates are WGS84 longitude/latitude (EPSG:4326) unless the file declares another CRS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DN_MIN_MM = 25
DN_MAX_MM = 1400
SNAP_TOLERANCE_M = 2.0


@dataclass(frozen=True)
class LayerSpec:
    name: str
    geometry: tuple[str, ...]
    id_prefix: str | None
    required: tuple[str, ...]
    optional: dict = field(default_factory=dict)


LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec(
            "sources", ("Point",), "SRC-",
            required=("id", "name", "node_id", "role"),
            # role: pressure | fixed_head | fixed_flow (heattwin.choices.SOURCE_ROLE).
            # node_id: the network node the plant's supply and return headers connect to.
            optional={"capacity_mw": 300.0, "p_flow_bar": 12.0, "plift_bar": 6.0, "t_supply_c": 110.0,
                      "flow_t_h": None, "p_static_bar": 4.0},
        ),
        LayerSpec(
            "stations", ("Point",), "ST-",
            required=("id", "name", "node_id"),
            optional={"design_heat_mw": 3.0, "heated_area_m2": 60000.0, "t_return_c": 50.0,
                      "min_dp_bar": 0.5, "elevation_m": 0.0, "install_year": 2010},
        ),
        LayerSpec(
            "nodes", ("Point",), "N-",
            required=("id",),
            optional={"elevation_m": 0.0, "chamber": False},
        ),
        LayerSpec(
            "pipes", ("LineString",), "P-",
            # from/to nodes are derived from geometry by snapping; a supplied length_m is ignored.
            required=("id", "dn_mm"),
            optional={"material": "steel", "install_year": 2005, "insulation": "PUR",
                      "roughness_mm": 0.1, "zone": "Z1", "depth_m": 1.2},
        ),
        LayerSpec(
            "valves", ("Point",), "V-",
            # A section valve sits at node_id on pipe_id; it isolates the pipe from that node.
            required=("id", "pipe_id", "node_id"),
            optional={"normally_open": True, "operable": True, "dn_mm": None, "chamber_id": None},
        ),
        LayerSpec(
            "sensors", ("Point",), "S-",
            # kind: a heattwin.choices.SENSOR_KINDS value; element_id: what it measures.
            required=("id", "kind", "element_id"),
            optional={"unit": None, "side": None},
        ),
        LayerSpec(
            "communities", ("Polygon", "MultiPolygon"), "C-",
            required=("id", "name", "station_id"),
            optional={"households": 0, "heated_area_m2": 0.0, "built_year": 2000},
        ),
        LayerSpec(
            "streets", ("LineString", "MultiLineString", "Polygon", "MultiPolygon"), None,
            # kind: arterial | street | river | railway ; used only for the offline basemap.
            required=("kind",),
            optional={"name": ""},
        ),
    )
}

REQUIRED_LAYERS = ("sources", "stations", "nodes", "pipes")
