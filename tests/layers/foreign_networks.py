"""Small networks written the way utilities keep them, for the shapes ``data/mappings/*.yaml`` cover.

- ``german_geojson``: Vorlauf/Ruecklauf line layers (return drawn 0.8 m beside the supply),
  Hausanschluss stub lines from the main's interior to the building, a Heizwerk point; GeoJSON in
  EPSG:25833; no nodes. DN inside the type string, loads in kW.
- ``csv_pair``: knoten/leitungen/verbraucher/einspeisung CSV tables (EPSG:25832 coordinates, numeric
  ids, lengths in km, consumers at node numbers without coordinates).
- ``chinese_gpkg``: 管线/换热站/热源 in one GeoPackage in EPSG:4547, DN as 'DN300', loads in kW,
  area in 万m²; stations drawn a few metres beside the pipe end.

Imported by name (``from foreign_networks import ...``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point

MAPPINGS = Path(__file__).resolve().parents[2] / "data" / "mappings"
BERLIN = (390_000.0, 5_820_000.0)        # EPSG:25833
KASSEL = (535_000.0, 5_685_000.0)        # EPSG:25832
WEIFANG = (420_000.0, 4_065_000.0)       # EPSG:4547 (CM 120° E)


def _at(origin, x, y):
    return origin[0] + x, origin[1] + y


def _line(origin, *points):
    return LineString([_at(origin, *p) for p in points])


def german_geojson(folder: Path, *, merged_sides: bool = False, laenge_v1: float = 120.0) -> Path:
    """The German planning network; ``merged_sides`` puts the return lines into the Vorlauf layer."""
    folder.mkdir(parents=True, exist_ok=True)
    o, crs = BERLIN, "EPSG:25833"
    mains = [("V1", ((0, 0), (120, 0)), "KMR 100/225-2v", laenge_v1),
             ("V2", ((120, 0), (240, 0)), "KMR 65/160-2v", 120.0),
             ("V3", ((120, 0), (120, 100)), "KMR 50/140-2v", 100.0)]
    supply = gpd.GeoDataFrame({"ID": [m[0] for m in mains], "Typ": [m[2] for m in mains],
                               "Laenge": [m[3] for m in mains], "Baujahr": [2019, 2019, 2021]},
                              geometry=[_line(o, *m[1]) for m in mains], crs=crs)
    offset = [((0, 0.8), (120, 0.8)), ((120, 0.8), (240, 0.8)), ((120.8, 0), (120.8, 100))]
    ret = gpd.GeoDataFrame({"ID": [f"R{m[0][1:]}" for m in mains], "Typ": [m[2] for m in mains]},
                           geometry=[_line(o, *p) for p in offset], crs=crs)
    if merged_sides:
        supply = pd.concat([supply, ret.assign(Laenge=supply["Laenge"].to_numpy(), Baujahr=2019)],
                           ignore_index=True)
    supply.to_file(folder / "Vorlauf.geojson", driver="GeoJSON")
    if not merged_sides:
        ret.to_file(folder / "Ruecklauf.geojson", driver="GeoJSON")
    stubs = [("HA1", ((60, 0), (60, -15)), 25.0, 25), ("HA2", ((180, 0), (180, 18)), 40.0, 32),
             ("HA3", ((240, 0), (255, 0)), 120.0, None), ("HA4", ((120, 50), (135, 50)), 18.0, 20),
             ("HA5", ((120, 100), (120, 115)), 60.0, 40)]
    gpd.GeoDataFrame({"HA_Nr": [s[0] for s in stubs], "Adresse": [f"Lindenstraße {i}" for i in range(1, 6)],
                      "Leistung": [s[2] for s in stubs], "DN": [s[3] for s in stubs]},
                     geometry=[_line(o, *s[1]) for s in stubs], crs=crs).to_file(
        folder / "Hausanschluss.geojson", driver="GeoJSON")
    gpd.GeoDataFrame({"Name": ["HW1"]}, geometry=[Point(_at(o, 0, 0))], crs=crs).to_file(
        folder / "Heizwerk.geojson", driver="GeoJSON")
    return folder


def csv_pair(folder: Path) -> Path:
    """The hydraulic program's CSV export."""
    folder.mkdir(parents=True, exist_ok=True)
    o = KASSEL
    xy = {1: (0, 0), 2: (200, 0), 3: (400, 0), 4: (200, 150), 5: (400, -120), 6: (550, 0)}
    pd.DataFrame({"Nr": list(xy), "X": [_at(o, *p)[0] for p in xy.values()], "Y": [_at(o, *p)[1] for p in xy.values()],
                  "Hoehe": [150.0, 152.0, 155.0, 151.0, 149.0, 158.0]}).to_csv(folder / "knoten.csv", index=False)
    pipes = [(1, 1, 2, 150), (2, 2, 3, 125), (3, 2, 4, 80), (4, 3, 5, 65), (5, 3, 6, 80)]
    straight = {p[0]: ((xy[p[1]][0] - xy[p[2]][0]) ** 2 + (xy[p[1]][1] - xy[p[2]][1]) ** 2) ** 0.5 for p in pipes}
    pd.DataFrame({"Nr": [p[0] for p in pipes], "Von": [p[1] for p in pipes], "Nach": [p[2] for p in pipes],
                  "DN": [p[3] for p in pipes], "Laenge": [round(1.15 * straight[p[0]] / 1000, 4) for p in pipes],
                  "Rauheit": 0.05}).to_csv(folder / "leitungen.csv", index=False)
    pd.DataFrame({"Nr": [11, 12, 13], "Knoten": [4, 5, 6], "Last": [400, 250, 600],
                  "TRueck": [58.0, None, 62.0]}).to_csv(folder / "verbraucher.csv", index=False)
    pd.DataFrame({"Nr": [1], "Knoten": [1]}).to_csv(folder / "einspeisung.csv", index=False)
    return folder


def chinese_gpkg(folder: Path, crs: str = "EPSG:4547") -> Path:
    """The Chinese utility's GeoPackage."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "管网.gpkg"
    o = WEIFANG
    pipes = [("GX001", ((0, 0), (400, 0)), "DN300"), ("GX002", ((400, 0), (800, 0)), "DN250"),
             ("GX003", ((400, 0), (400, 300)), "DN200"), ("GX004", ((800, 0), (800, -250)), "DN150"),
             ("GX005", ((800, 0), (1100, 0)), "DN200")]
    lines = [_line(o, *p[1]) for p in pipes]
    gpd.GeoDataFrame({"编号": [p[0] for p in pipes], "管径": [p[2] for p in pipes],
                      "长度": [round(g.length, 1) for g in lines], "材质": ["钢", "钢", "球墨铸铁", "钢", "钢"],
                      "建设年份": [2008, 2010, 2015, 2015, 2018]}, geometry=lines, crs=crs).to_file(
        path, layer="管线", driver="GPKG")
    stations = [("HRZ01", "幸福小区站", (404, 303), 4000.0, 6.5), ("HRZ02", "和平里站", (803, -254), 2500.0, 4.0),
                ("HRZ03", "东风站", (1104, 2), 3500.0, 5.5)]
    gpd.GeoDataFrame({"编号": [s[0] for s in stations], "站名": [s[1] for s in stations],
                      "热负荷": [s[3] for s in stations], "供热面积": [s[4] for s in stations]},
                     geometry=[Point(_at(o, *s[2])) for s in stations], crs=crs).to_file(
        path, layer="换热站", driver="GPKG")
    gpd.GeoDataFrame({"编号": ["RY1"], "名称": ["城东热电厂"]}, geometry=[Point(_at(o, 0, 0))], crs=crs).to_file(
        path, layer="热源", driver="GPKG")
    return path
