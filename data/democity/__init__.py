"""The demo city: a seeded, deterministic district of Weifang with its heating network and records.

``generate_city(out_dir, stations=150, seed=7)`` writes ``network.gpkg`` (the layers of
``layers.schema``), ``records/*.csv`` (columns = the database tables') and SVG drawings, and
returns a summary. ``stations=3400`` makes a city-scale network with the same proportions.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.democity.design import write_design
from data.democity.drawings import write_drawings
from data.democity.grid import CENTRE_X_M, CENTRE_Y_M, basemap, ground_elevation_m, make_grid
from data.democity.layout import make_layout
from data.democity.network import make_network
from data.democity.people import make_communities, make_households
from data.democity.records import make_equipment, make_maintenance, make_teams
from data.democity.sensors import make_sensors
from data.democity.work_orders import make_work_orders

UTM = "EPSG:32650"
WGS84 = "EPSG:4326"
DRAWINGS_SUBDIR = "demo"
RECORD_NOW = pd.Timestamp("2026-11-20 08:00", tz="UTC")  # fixed, so the output never depends on the clock

__all__ = ["generate_city"]


def _frame(table: pd.DataFrame, geometry, columns) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(table[list(columns)].reset_index(drop=True), geometry=list(geometry), crs=UTM)
    frame["geometry"] = shapely.transform(frame.geometry.to_numpy(), lambda xy: xy + [CENTRE_X_M, CENTRE_Y_M])
    return frame.to_crs(WGS84)


def _points(table: pd.DataFrame, columns) -> gpd.GeoDataFrame:
    return _frame(table, shapely.points(table["x"].to_numpy(), table["y"].to_numpy()), columns)


def _centre_offset(grid) -> np.ndarray:
    return np.array([(grid.nx - 1) * 150.0, (grid.ny - 1) * 150.0])


def _layers(grid, net, communities, sensors) -> dict[str, gpd.GeoDataFrame]:
    pipes = net.pipes
    lines = shapely.linestrings(np.stack([pipes[["x0", "y0"]].to_numpy(), pipes[["x1", "y1"]].to_numpy()], axis=1))
    years = np.clip(1995 + (np.hypot(pipes["x0"] - pipes["x0"].mean(), pipes["y0"] - pipes["y0"].mean())
                            / max(grid.nx, grid.ny) / 300 * 54).round(), 1995, 2022).astype(int)
    pipes = pipes.assign(material="steel", install_year=years,
                         insulation=np.where(years < 2000, "rock_wool", "PUR"),
                         roughness_mm=np.round(0.1 + (2022 - years) * 0.012, 3),
                         zone=np.where(pipes["x0"] < pipes["x0"].median(), "Z1", "Z2")
                         + np.where(pipes["y0"] < pipes["y0"].median(), "", "N"),
                         depth_m=1.2, length_m=shapely.length(lines).round(2))
    pipes["zone"] = pipes["zone"].map({"Z1": "Z1", "Z2": "Z2", "Z1N": "Z3", "Z2N": "Z4"})
    streets = pd.DataFrame(basemap(grid, _centre_offset(grid)))
    return {
        "sources": _points(net.sources, ["id", "name", "node_id", "role", "capacity_mw", "p_flow_bar", "plift_bar",
                                         "t_supply_c", "flow_t_h", "p_static_bar"]),
        "stations": _points(net.stations, ["id", "name", "node_id", "design_heat_mw", "heated_area_m2",
                                           "t_return_c", "min_dp_bar", "elevation_m", "install_year"]),
        "nodes": _points(net.nodes.assign(elevation_m=ground_elevation_m(net.nodes["y"].to_numpy()).round(1),
                                          chamber=net.nodes["id"].isin(net.valves["node_id"])),
                         ["id", "elevation_m", "chamber"]),
        "pipes": _frame(pipes, lines, ["id", "dn_mm", "material", "install_year", "insulation", "roughness_mm",
                                       "zone", "depth_m", "length_m"]),
        "valves": _points(net.valves, ["id", "pipe_id", "node_id", "normally_open", "operable", "dn_mm",
                                       "chamber_id"]),
        "sensors": _points(sensors, ["id", "kind", "element_id", "unit", "side"]),
        "communities": _frame(communities, communities["geometry"], ["id", "name", "station_id", "households",
                                                                       "heated_area_m2", "built_year"]),
        "streets": _frame(streets, streets["geometry"], ["kind", "name"]),
    }


def _drawing_rows(net) -> pd.DataFrame:
    stations = pd.DataFrame({"id": "D-" + net.stations["id"], "asset_id": net.stations["id"],
                             "title": net.stations["name"] + " 工艺流程图", "kind": "station_schematic",
                             "path": f"{DRAWINGS_SUBDIR}/" + net.stations["id"] + ".svg"})
    valves = pd.DataFrame({"id": "D-" + net.valves["id"], "asset_id": net.valves["id"],
                           "title": net.valves["chamber_id"] + " 阀门井大样图", "kind": "valve_chamber",
                           "path": f"{DRAWINGS_SUBDIR}/" + net.valves["id"] + ".svg"})
    dn = net.pipes["dn_mm"].astype(str)
    pipes = pd.DataFrame({"id": "D-" + net.pipes["id"], "asset_id": net.pipes["id"],
                          "title": "DN" + dn + " 直埋管道横断面", "kind": "pipe_section",
                          "path": f"{DRAWINGS_SUBDIR}/pipe-DN" + dn + ".svg"})
    return pd.concat([stations, valves, pipes], ignore_index=True)


def _places(layers) -> pd.DataFrame:
    """lon/lat of stations, pipes (at half their length) and communities (a point inside), by id."""
    frames = []
    for name in ("stations", "pipes", "communities"):
        geoms = layers[name].geometry.to_numpy()
        points = (shapely.line_interpolate_point(geoms, 0.5, normalized=True) if name == "pipes"
                  else shapely.point_on_surface(geoms))
        frames.append(pd.DataFrame({"lon": shapely.get_x(points), "lat": shapely.get_y(points)},
                                   index=layers[name]["id"].to_numpy()))
    return pd.concat(frames)


def _write_records(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")


def generate_city(out_dir, stations: int = 150, seed: int = 7, drawings_dir=None) -> dict:
    """Write the demo city into ``out_dir`` (and drawings under ``drawings_dir``); return its summary."""
    from heattwin.settings import load_settings

    out_dir = Path(out_dir)
    drawings_dir = Path(drawings_dir) if drawings_dir else load_settings().drawings_dir
    rng = np.random.default_rng(seed)
    grid = make_grid(stations, rng)
    grid.xy -= _centre_offset(grid)
    grid.river = shapely.transform(grid.river, lambda xy: xy - _centre_offset(grid))
    layout = make_layout(grid, stations, rng)
    net = make_network(grid, layout, rng)
    communities = make_communities(grid, net, rng)
    communities["geometry"] = shapely.transform(communities["geometry"].to_numpy(),
                                                lambda xy: xy - _centre_offset(grid))
    households = make_households(communities, rng)
    centroids = shapely.centroid(communities["geometry"].to_numpy())
    community_points = pd.DataFrame({"id": communities["id"], "x": shapely.get_x(centroids),
                                     "y": shapely.get_y(centroids)})
    sensors = make_sensors(net, households, community_points, rng)
    layers = _layers(grid, net, communities, sensors)
    out_dir.mkdir(parents=True, exist_ok=True)
    gpkg = out_dir / "network.gpkg"
    gpkg.unlink(missing_ok=True)
    for name, frame in layers.items():
        frame.to_file(gpkg, layer=name, driver="GPKG")
    write_design(gpkg)  # Weifang's heating curve and design conditions, as data with the network
    station_lonlat = pd.DataFrame({"lon": layers["stations"].geometry.x.to_numpy(),
                                   "lat": layers["stations"].geometry.y.to_numpy()},
                                  index=layers["stations"]["id"].to_numpy())
    equipment = make_equipment(net, rng)
    teams = make_teams(station_lonlat, rng, RECORD_NOW)
    orders, events, revisits = make_work_orders(households, communities, _places(layers), teams, rng, RECORD_NOW)
    _write_records(out_dir / "records", {
        "team": teams, "equipment": equipment, "maintenance_log": make_maintenance(equipment, rng),
        "drawing": _drawing_rows(net), "household": households, "work_order": orders,
        "work_order_event": events, "work_order_revisit": revisits})
    write_drawings(drawings_dir / DRAWINGS_SUBDIR, net, sorted(net.pipes["dn_mm"].unique()))
    summary = {"seed": seed, "stations": len(net.stations), "sources": len(net.sources), "pipes": len(net.pipes),
               "nodes": len(net.nodes), "valves": len(net.valves), "sensors": len(sensors),
               "communities": len(communities), "households": len(households),
               "pipe_length_km": round(float(layers["pipes"]["length_m"].sum()) / 1000, 2),
               "design_heat_mw": round(float(net.stations["design_heat_mw"].sum()), 1),
               "work_orders": len(orders), "work_order_events": len(events)}
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), "utf-8")
    return summary
