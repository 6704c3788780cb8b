"""``heattwin bench import``: generate and import the demo city and the 3,400-station city, and the
city written in a foreign shape (Chinese field names, ids without our prefixes, DN as 'DN300', loads
in kW, EPSG:4547): ``inspect_s`` (``--inspect``: every layer described and a starter mapping) and
``mapped_import_s`` (validated through a mapping and stored), against ``import_s`` of our own shape."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from heattwin.settings import load_settings
from scripts.loading import load_city
from store import cluster

BENCH_DB = "heattwin_bench_import"


def _fresh_database(settings) -> str:
    return cluster.recreate_database(cluster.database_url(settings), BENCH_DB)


def _measure(settings, stations: int, workdir: Path) -> dict:
    from data.democity import generate_city
    from store.db import close_pools

    city_dir = workdir / f"city-{stations}"
    start = time.perf_counter()
    summary = generate_city(city_dir, stations=stations, seed=7, drawings_dir=workdir / "drawings")
    generate_s = time.perf_counter() - start
    url = _fresh_database(settings)
    start = time.perf_counter()
    loaded = load_city(url, city_dir)
    import_s = time.perf_counter() - start
    close_pools()
    return {"stations": stations, "pipes": summary.get("pipes"), "generate_s": generate_s,
            "import_s": import_s, "elements": loaded.get("elements")}


# Our column -> (their field, how it is written) for the foreign-shape city.
FOREIGN = {
    "sources": ("热源", {"id": "编号", "name": "名称", "node_id": "节点编号", "role": "类型", "p_flow_bar": "供水压力",
                         "plift_bar": "扬程", "t_supply_c": "供水温度", "flow_t_h": "流量", "capacity_mw": "容量"}),
    "stations": ("换热站", {"id": "编号", "name": "站名", "node_id": "节点编号", "design_heat_mw": "热负荷",
                            "heated_area_m2": "供热面积", "t_return_c": "回水温度"}),
    "nodes": ("节点", {"id": "编号", "elevation_m": "高程"}),
    "pipes": ("管线", {"id": "编号", "dn_mm": "管径", "material": "材质", "install_year": "建设年份",
                       "roughness_mm": "粗糙度", "zone": "分区"}),
    "valves": ("阀门", {"id": "编号", "pipe_id": "管段编号", "node_id": "节点编号"}),
}
ROLES = {"pressure": "定压", "fixed_head": "定扬程", "fixed_flow": "定流量"}


def write_foreign_city(city_dir: Path, out: Path) -> dict:
    """The city's network as a Chinese utility's GeoPackage in EPSG:4547, and the mapping for it."""
    import geopandas as gpd

    from layers.schema import LAYERS

    out.unlink(missing_ok=True)
    layers, mapping = {}, {"crs": "EPSG:4547", "layers": {}}
    for ours, (theirs, fields) in FOREIGN.items():
        frame = gpd.read_file(city_dir / "network.gpkg", layer=ours)
        foreign = gpd.GeoDataFrame({f: frame[c] for c, f in fields.items()}, geometry=frame.geometry.values,
                                   crs=frame.crs).to_crs("EPSG:4547")
        for column in ("id", "node_id", "pipe_id"):
            if column in fields:
                foreign[fields[column]] = frame[column].astype(str).str.replace(r"^[A-Z]+-", "", regex=True)
        rules = {c: f for c, f in fields.items()}
        if ours == "pipes":
            foreign["管径"] = "DN" + frame["dn_mm"].astype(int).astype(str)
            rules["dn_mm"] = {"field": "管径", "extract": r"(\d+)"}
        if ours == "stations":
            foreign["热负荷"] = frame["design_heat_mw"] * 1000.0
            rules["design_heat_mw"] = {"field": "热负荷", "unit": "kW"}
        if ours == "sources":
            foreign["类型"] = frame["role"].map(ROLES)
            rules["role"] = {"field": "类型", "values": {v: k for k, v in ROLES.items()}}
        foreign.to_file(out, layer=theirs, driver="GPKG")
        layers[theirs] = len(foreign)
        assert set(rules) <= {*LAYERS[ours].required, *LAYERS[ours].optional}
        mapping["layers"][ours] = {"source": theirs, "fields": rules}
    return mapping


def _measure_foreign(settings, stations: int, workdir: Path) -> dict:
    import yaml

    from layers.inspect import inspect, starter_mapping
    from scripts.loading import import_network
    from store.db import close_pools
    from store.migrate import migrate

    path = workdir / "管网.gpkg"
    mapping = write_foreign_city(workdir / f"city-{stations}", path)
    mapping_path = workdir / "管网.mapping.yaml"
    mapping_path.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    start = time.perf_counter()
    layers, _ = inspect(path)
    starter_mapping(layers)
    inspect_s = time.perf_counter() - start
    url = _fresh_database(settings)
    migrate(url)
    start = time.perf_counter()
    summary, _ = import_network(url, path, mapping=mapping_path)
    mapped_import_s = time.perf_counter() - start
    close_pools()
    # Baseline: the same layers already in our own shape, imported without a mapping.
    own = workdir / "own.gpkg"
    _own_shape(workdir / f"city-{stations}" / "network.gpkg", own)
    url = _fresh_database(settings)
    migrate(url)
    start = time.perf_counter()
    import_network(url, own)
    own_import_s = time.perf_counter() - start
    close_pools()
    return {"inspect_s": inspect_s, "mapped_import_s": mapped_import_s, "own_shape_import_s": own_import_s,
            "elements": summary.get("elements")}


def _own_shape(city_gpkg: Path, out: Path) -> None:
    import geopandas as gpd
    import pyogrio

    out.unlink(missing_ok=True)
    for layer in (*FOREIGN, "design", "heating_curve"):
        if layer in FOREIGN:
            gpd.read_file(city_gpkg, layer=layer).to_file(out, layer=layer, driver="GPKG")
        else:
            pyogrio.write_dataframe(pyogrio.read_dataframe(city_gpkg, layer=layer), out, layer=layer, driver="GPKG")


def run(args) -> dict:
    settings = load_settings()
    city_stations = 600 if args.quick else 3400
    with tempfile.TemporaryDirectory(prefix="heattwin-bench-import-") as tmp:
        demo = _measure(settings, 150, Path(tmp))
        city = _measure(settings, city_stations, Path(tmp))
        foreign = _measure_foreign(settings, city_stations, Path(tmp))
    return {
        "inspect_s": foreign["inspect_s"],
        "mapped_import_s": foreign["mapped_import_s"],
        "own_shape_import_s": foreign["own_shape_import_s"],
        "mapped_over_own": foreign["mapped_import_s"] / foreign["own_shape_import_s"],
        "city_import_s": city["import_s"],
        "foreign": foreign,
        "demo_stations": demo["stations"],
        "city_stations": city["stations"],
        "generate_s": demo["generate_s"],
        "import_s": demo["import_s"],
        "demo": demo,
        "city": city,
        "city_import_per_station_ms": 1000 * city["import_s"] / city["stations"],
    }
