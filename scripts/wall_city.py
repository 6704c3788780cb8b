"""A synthetic city for the wall's bench and browser tests when ``data.democity`` is not available.

A square street grid with pipes along it, stations at grid nodes, a community beside each station,
valves, sensors, a basemap (streets, arterials, river, railway) and records (equipment, maintenance,
drawings, crews, work orders). Deterministic for a seed; loaded through the ordinary store functions.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from store import assets as store_assets
from store import records as store_records

ORIGIN_LON, ORIGIN_LAT = 114.45, 38.00  # a Hebei-sized city
STEP_DEG = 0.0018  # ~160 m between grid nodes


def _point(lon, lat):
    return {"type": "Point", "coordinates": [float(lon), float(lat)]}


def _row(id_, kind, name, geometry, lon, lat, attrs):
    return {"id": id_, "kind": kind, "name": name, "geometry": geometry, "lon": float(lon), "lat": float(lat),
            "attrs": attrs}


def _network(stations: int, rng) -> list[dict]:
    side = max(4, math.ceil(math.sqrt(stations * 1.5)))
    lon = ORIGIN_LON + np.arange(side) * STEP_DEG * 1.27
    lat = ORIGIN_LAT + np.arange(side) * STEP_DEG
    rows, node = [], lambda i, j: f"N-{i:03d}-{j:03d}"
    for i in range(side):
        for j in range(side):
            rows.append(_row(node(i, j), "node", "", _point(lon[i], lat[j]), lon[i], lat[j], {"elevation_m": 50.0}))
    n_pipe = 0
    for i in range(side):
        for j in range(side):
            for di, dj in ((1, 0), (0, 1)):
                if i + di >= side or j + dj >= side:
                    continue
                n_pipe += 1
                a, b = (lon[i], lat[j]), (lon[i + di], lat[j + dj])
                geom = {"type": "LineString", "coordinates": [list(map(float, a)), list(map(float, b))]}
                dn = int(rng.choice([100, 150, 200, 300, 400, 600]))
                rows.append(_row(f"P-{n_pipe:05d}", "pipe", "", geom, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2, {
                    "dn_mm": dn, "material": "steel", "install_year": int(rng.integers(1995, 2022)),
                    "from_node": node(i, j), "to_node": node(i + di, j + dj), "length_m": 160.0}))
                if n_pipe % 7 == 0:
                    rows.append(_row(f"V-{n_pipe:05d}", "valve", "", _point(*a), *a, {
                        "pipe_id": f"P-{n_pipe:05d}", "node_id": node(i, j), "normally_open": n_pipe % 91 != 0,
                        "dn_mm": dn}))
    cells = [(i, j) for i in range(side) for j in range(side) if (i, j) != (0, 0)]
    for k, (i, j) in enumerate(cells[:stations], start=1):
        x, y = lon[i] + STEP_DEG * 0.3, lat[j] + STEP_DEG * 0.3
        sid = f"ST-{k:04d}"
        rows.append(_row(sid, "station", f"换热站{k}", _point(x, y), x, y,
                         {"node_id": node(i, j), "design_heat_mw": 3.0, "heated_area_m2": 60000.0}))
        d = STEP_DEG * 0.25
        ring = [[x + d * 0.2, y + d * 0.2], [x + d, y + d * 0.2], [x + d, y + d], [x + d * 0.2, y + d],
                [x + d * 0.2, y + d * 0.2]]
        rows.append(_row(f"C-{k:04d}", "community", f"小区{k}", {"type": "Polygon", "coordinates": [ring]},
                         x + d * 0.6, y + d * 0.6, {"station_id": sid, "households": 400}))
        for kind, unit in (("t_supply", "°C"), ("t_return", "°C"), ("flow", "t/h")):
            rows.append(_row(f"S-{sid[3:]}-{kind}", "sensor", "", _point(x, y), x, y,
                             {"kind": kind, "element_id": sid, "unit": unit}))
    rows.append(_row("SRC-01", "source", "一号热源厂", _point(lon[0], lat[0]), lon[0], lat[0],
                     {"node_id": node(0, 0), "role": "pressure", "capacity_mw": 600.0}))
    rows.append(_row("S-OUTDOOR", "sensor", "", _point(lon[0], lat[0]), lon[0], lat[0],
                     {"kind": "outdoor_t", "element_id": "SRC-01", "unit": "°C"}))
    return rows


def _basemap(side_deg_lon: float, side_deg_lat: float) -> pd.DataFrame:
    rows = []
    for k in range(0, 40):
        f = k / 39
        kind = "arterial" if k % 8 == 0 else "street"
        x = ORIGIN_LON - 0.001 + f * side_deg_lon
        y = ORIGIN_LAT - 0.001 + f * side_deg_lat
        rows.append({"kind": kind, "name": "", "geometry": {"type": "LineString", "coordinates": [
            [x, ORIGIN_LAT - 0.002], [x, ORIGIN_LAT + side_deg_lat]]}})
        rows.append({"kind": kind, "name": "", "geometry": {"type": "LineString", "coordinates": [
            [ORIGIN_LON - 0.002, y], [ORIGIN_LON + side_deg_lon, y]]}})
    mid = ORIGIN_LAT + side_deg_lat * 0.47
    river = [[ORIGIN_LON - 0.01 + k * side_deg_lon / 20, mid + 0.002 * math.sin(k)] for k in range(22)]
    rows.append({"kind": "river", "name": "滹沱河", "geometry": {"type": "LineString", "coordinates": river}})
    rows.append({"kind": "railway", "name": "", "geometry": {"type": "LineString", "coordinates": [
        [ORIGIN_LON - 0.01, ORIGIN_LAT - 0.005], [ORIGIN_LON + side_deg_lon, ORIGIN_LAT + side_deg_lat]]}})
    return pd.DataFrame(rows)


_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 260" width="400" height="260">
<rect width="400" height="260" fill="#0d1b2a"/><text x="16" y="30" fill="#e0e6ed" font-size="18">{title}</text>
<rect x="40" y="70" width="120" height="120" fill="none" stroke="#f39c12" stroke-width="3"/>
<line x1="160" y1="100" x2="360" y2="100" stroke="#e74c3c" stroke-width="6"/>
<line x1="160" y1="160" x2="360" y2="160" stroke="#3498db" stroke-width="6"/>
<text x="50" y="135" fill="#e0e6ed" font-size="14">{asset}</text></svg>"""


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _records(assets: pd.DataFrame, records_dir: Path, drawings_dir: Path, rng) -> None:
    records_dir.mkdir(parents=True, exist_ok=True)
    (drawings_dir / "stations").mkdir(parents=True, exist_ok=True)
    stations = assets[assets["kind"] == "station"]
    pipes = assets[assets["kind"] == "pipe"]
    equipment, maintenance, drawings, orders, events = [], [], [], [], []
    for n, row in enumerate(stations.itertuples(index=False)):
        eq = f"EQ-{row.id[3:]}-HX"
        equipment.append({"id": eq, "asset_id": row.id, "kind": "heat_exchanger", "maker": "Alfa Laval",
                          "model": "M10-BFG", "serial": f"AL{100000 + n}", "install_year": 2008 + n % 14,
                          "rated": json.dumps({"heat_mw": 3.0, "dp_kpa": 50})})
        maintenance.append({"equipment_id": eq, "done_at": f"2025-10-0{1 + n % 9}T08:00:00Z",
                            "kind": "inspection", "note": "供暖季前检查", "crew": "抢修一队"})
        path = f"stations/{row.id}.svg"
        (drawings_dir / path).write_text(_SVG.format(title="换热站工艺图 Station schematic", asset=row.id),
                                         encoding="utf-8")
        drawings.append({"id": f"DWG-{row.id}", "asset_id": row.id, "title": f"{row.name} 工艺流程图",
                         "kind": "station_schematic", "path": path})
    for k, row in enumerate(pd.concat([stations.iloc[::5], pipes.iloc[::50]]).itertuples(index=False), start=1):
        state = ("new", "dispatched", "on_site")[k % 3]
        orders.append({"id": k, "asset_id": row.id, "title": "巡检发现异常", "origin": "inspection",
                       "priority": "normal", "state": state, "team_id": "T-1", "lon": row.lon, "lat": row.lat,
                       "created_at": "2026-11-21T02:00:00Z", "sla_due_at": f"2026-11-{20 + k % 5:02d}T02:00:00Z"})
        events.append({"work_order_id": k, "at": "2026-11-21T02:00:00Z", "actor": "调度员", "to_state": state})
    _write_csv(records_dir / "team.csv", [{"id": "T-1", "name": "抢修一队", "phone": "0311-1234567", "members": 4,
                                           "base_lon": ORIGIN_LON, "base_lat": ORIGIN_LAT}])
    for name, rows in (("equipment", equipment), ("maintenance_log", maintenance), ("drawing", drawings),
                       ("work_order", orders), ("work_order_event", events)):
        _write_csv(records_dir / f"{name}.csv", rows)


def load_synthetic_city(pool, stations: int, drawings_dir: Path, records_dir: Path, seed: int = 7) -> dict:
    """Build the synthetic city and load it (network, basemap, records) into the store behind ``pool``."""
    rng = np.random.default_rng(seed)
    assets = pd.DataFrame(_network(stations, rng))
    span_lon = assets["lon"].max() - ORIGIN_LON + 0.004
    span_lat = assets["lat"].max() - ORIGIN_LAT + 0.004
    summary = store_assets.replace_network(pool, assets, _basemap(span_lon, span_lat), "synthetic-wall-city")
    _records(assets, Path(records_dir), Path(drawings_dir), rng)
    summary["records"] = store_records.load_records(pool, Path(records_dir))
    return summary
