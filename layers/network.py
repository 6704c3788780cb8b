"""The network as whole frames: one GeoDataFrame per layer of ``layers.schema.LAYERS``.

A validated ``Network`` has every column of its layer spec filled (defaults applied, and listed in
each feature's ``assumed``), WGS84 geometry, and pipes carrying ``from_node``, ``to_node`` (from
snapping their ends) and ``length_m`` (measured in a projected CRS); beside the layers, its design
settings (``design``) and the CRS its file was drawn in (``source_crs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

from layers.design import DEFAULT_DESIGN, DesignSettings
from layers.schema import LAYERS

WGS84 = "EPSG:4326"


def empty_layer(name: str) -> gpd.GeoDataFrame:
    spec = LAYERS[name]
    columns = list(dict.fromkeys([*spec.required, *spec.optional]))
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


@dataclass
class Network:
    sources: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("sources"))
    stations: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("stations"))
    nodes: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("nodes"))
    pipes: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("pipes"))
    valves: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("valves"))
    sensors: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("sensors"))
    communities: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("communities"))
    streets: gpd.GeoDataFrame = field(default_factory=lambda: empty_layer("streets"))
    design: DesignSettings = DEFAULT_DESIGN   # the network's design conditions (layers.design)
    source_crs: str | None = None             # the CRS its file was drawn in (export writes it back)

    def layer(self, name: str) -> gpd.GeoDataFrame:
        return getattr(self, name)

    def items(self):
        return ((name, self.layer(name)) for name in LAYERS)
