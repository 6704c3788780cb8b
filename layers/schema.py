"""The network's GIS layers: their names, geometry types and attribute columns.

One GeoPackage (or a folder of ``<layer>.geojson`` files) holds these layers. Columns marked
required must be present on every feature; the others get the default shown when absent.
Coordinates are WGS84 longitude/latitude (EPSG:4326) unless the file declares another CRS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DN_MIN_MM = 15   # DN 15–20 house connections are ordinary; a mapping may narrow the range
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
            # from/to nodes are derived from geometry by snapping. The length is the drawn line's; a
            # length the utility supplied is kept as source_length_m (checked against the drawing), and
            # is the length where the line is only drawn between its nodes (drawn False).
            required=("id", "dn_mm"),
            optional={"material": "steel", "install_year": 2005, "insulation": "PUR",
                      "roughness_mm": 0.1, "zone": "Z1", "depth_m": 1.2, "source_length_m": None,
                      "drawn": True},
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

# Columns holding numbers (text in them is refused) and the range a value may take (min, max).
NUMERIC_COLUMNS = frozenset(
    [c for spec in LAYERS.values() for c, d in spec.optional.items()
     if isinstance(d, int | float) and not isinstance(d, bool)]
    + ["flow_t_h", "dn_mm", "source_length_m", "length_m"])
VALUE_RANGES = {
    "design_heat_mw": (0.0, 2000.0), "heated_area_m2": (0.0, 1e8), "t_return_c": (10.0, 120.0),
    "min_dp_bar": (0.0, 25.0), "elevation_m": (-500.0, 9000.0), "install_year": (1900, 2100),
    "roughness_mm": (0.0, 10.0), "depth_m": (0.0, 20.0), "capacity_mw": (0.0, 20000.0), "p_flow_bar": (0.0, 40.0),
    "plift_bar": (0.0, 40.0), "t_supply_c": (30.0, 200.0), "flow_t_h": (0.0, 1e6), "p_static_bar": (0.0, 40.0),
    "households": (0, 1e6), "built_year": (1800, 2100), "source_length_m": (0.0, 1e5),
}
# Bookkeeping columns: a default there is no assumption about the network.
NOT_ASSUMED = frozenset({"drawn", "source_length_m", "chamber", "name", "unit", "side", "chamber_id"})
