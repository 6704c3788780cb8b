"""``heattwin bench import``: generate and import the demo city and the 3,400-station city."""

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


def run(args) -> dict:
    settings = load_settings()
    city_stations = 600 if args.quick else 3400
    with tempfile.TemporaryDirectory(prefix="heattwin-bench-import-") as tmp:
        demo = _measure(settings, 150, Path(tmp))
        city = _measure(settings, city_stations, Path(tmp))
    return {
        "demo_stations": demo["stations"],
        "city_stations": city["stations"],
        "generate_s": demo["generate_s"],
        "import_s": demo["import_s"],
        "demo": demo,
        "city": city,
        "city_import_per_station_ms": 1000 * city["import_s"] / city["stations"],
    }
