"""A scenario's new stations (新增换热站): the network with them connected at their nodes."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import pandas as pd

from layers.network import Network
from twin.scenarios.spec import Change, ScenarioError


def network_with_stations(network: Network, changes: list[Change]) -> tuple[Network, list[str]]:
    """``network`` plus one station per ``new_station`` change; returns it and the new station ids.

    A new station takes its node's location, the design return temperature and minimum dp of the
    network's stations (their medians), and ``heat_mw`` as design load.
    """
    new = [c for c in changes if c.kind == "new_station"]
    nodes = network.nodes.set_index(network.nodes["id"].astype(str))
    stations = network.stations
    taken = set(stations["id"].astype(str))
    rows = []
    for k, change in enumerate(new, start=1):
        if change.element_id not in nodes.index:
            raise ScenarioError(f"{change.describe()}: {change.element_id} is not a node of this network")
        station_id = change.params.get("station_id") or f"ST-NEW-{k}"
        if station_id in taken:
            raise ScenarioError(f"{change.describe()}: station id {station_id} exists already")
        taken.add(station_id)
        rows.append({"id": station_id, "name": f"新建换热站 {k}", "node_id": change.element_id,
                     "design_heat_mw": change.params["heat_mw"],
                     "heated_area_m2": change.params["heat_mw"] * 1e6 / 45.0,  # ~45 W/m² design
                     "t_return_c": pd.to_numeric(stations["t_return_c"], errors="coerce").median(),
                     "min_dp_bar": pd.to_numeric(stations["min_dp_bar"], errors="coerce").median(),
                     "geometry": nodes.geometry[change.element_id]})
    added = gpd.GeoDataFrame(rows, geometry="geometry", crs=stations.crs)
    merged = gpd.GeoDataFrame(pd.concat([stations, added], ignore_index=True), geometry="geometry", crs=stations.crs)
    return replace(network, stations=merged), [r["id"] for r in rows]
