"""``heattwin bench twin``: the twin's re-solve against a bare pandapipes pipeflow on the same net.

For the demo city (150 stations) and a city of 3,400 stations: ``bare_s`` is a fresh
``pandapipes.pipeflow`` (cold start, same solver options) on a copy of the twin's net; ``solve_s``
is ``Twin.solve()`` after a boundary change (demand and outdoor temperature), which re-uses the
built structure and warm-starts from the last solution. Medians of ``--repeat`` runs after a
warm-up (numba's JIT is not counted). The networks come from ``data.democity.generate_city`` +
``layers.read.read_network`` when those exist, else from the synthetic city of
``tests/twin/network_factory.py`` (~3.4 pipes per station, ~15 % loops).
"""

from __future__ import annotations

import copy
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scripts.benchmarks import time_call

DEMO_STATIONS = 150
CITY_STATIONS = 3400
QUICK_CITY_STATIONS = 600


def _democity(stations: int, workdir: Path):
    from data.democity import generate_city
    from layers.read import read_network

    city = workdir / f"city-{stations}"
    generate_city(city, stations=stations, seed=7, drawings_dir=workdir / "drawings")
    network, report = read_network(city / "network.gpkg")
    if not report.ok:
        raise RuntimeError(f"demo city did not validate: {report.errors[:3]}")
    return network, city


def _bench_database(name: str) -> str:
    from heattwin.settings import load_settings
    from store import cluster

    return cluster.recreate_database(cluster.database_url(load_settings()), name)


def measure_cycle(city_dir: Path, stations: int, repeat: int) -> dict:
    """The sync cycle (read the telemetry window, set boundaries, solve, persist) in steady state."""
    from scripts.cmd_simulate import build_plant
    from scripts.loading import load_city
    from store import telemetry
    from store.db import close_pools, get_pool
    from twin.sync import SyncLoop

    url = _bench_database(f"heattwin_bench_twin_{stations}")
    load_city(url, city_dir)
    pool = get_pool(url)
    at = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=1)
    plant = build_plant(pool, start=at, faults=[], noise=True)
    telemetry.ingest_rows(pool, plant.step(at, 60.0), origin="bench")
    loop_build_s, loop = time_call(lambda: SyncLoop(pool))
    first = loop.cycle(at)
    outcomes = [loop.cycle(at) for _ in range(repeat)]
    close_pools()
    cycle_s = float(np.median([o.cycle_s for o in outcomes]))
    return {"cycle_s": cycle_s, "cycle_solve_s": float(np.median([o.solve_s for o in outcomes])),
            "first_cycle_s": first.cycle_s, "loop_build_s": loop_build_s, "readings": int(plant.sensor_ids.size)}


def _synthetic(stations: int):
    factory_dir = Path(__file__).resolve().parents[1] / "tests" / "twin"
    if str(factory_dir) not in sys.path:
        sys.path.insert(0, str(factory_dir))
    from network_factory import synthetic_city

    return synthetic_city(stations, n_sources=max(2, stations // 600), station_mw=1.5)


def network_of(stations: int, workdir: Path) -> tuple[object, Path | None]:
    """The demo city's network and folder; the synthetic city (no folder) where it is missing."""
    if all(importlib.util.find_spec(m) for m in ("data.democity", "layers.read")):
        return _democity(stations, workdir)
    return _synthetic(stations), None


def _figures(network, city_dir, stations: int, repeat: int) -> dict:
    figures = measure(network, repeat)
    if city_dir is not None:
        figures.update(measure_cycle(city_dir, stations, repeat))
        figures["cycle_over_bare"] = figures["cycle_s"] / figures["bare_s"]
    return figures


def _bare(net, repeat: int) -> tuple[float, int]:
    import pandapipes as pp

    from twin.solve import SOLVER_OPTIONS, iterations

    def run():
        fresh = copy.deepcopy(net)
        start = time.perf_counter()
        pp.pipeflow(fresh, **SOLVER_OPTIONS)
        return time.perf_counter() - start, iterations(fresh)

    runs = [run() for _ in range(repeat)]
    return float(np.median([r[0] for r in runs])), runs[-1][1]


def measure(network, repeat: int = 3) -> dict:
    """Figures of one network: build, first solve, re-solve, bare pipeflow (seconds)."""
    from twin.model import Twin

    build_s, twin = time_call(lambda: Twin(network))
    first_s, first = time_call(twin.solve)
    # The same net in the same state (valves, islands' pressure holding, boundary values) for the
    # bare run; ``pipeflow`` rebuilds its pit from the tables, so the copy starts cold.
    same_net = copy.deepcopy(twin.net)
    design = twin.design_heat_w / 1e6
    times, iters = [], []
    for k in range(repeat):
        twin.set_outdoor(-6.0 + 2.0 * k)
        twin.set_station_demand(pd.DataFrame({"heat_mw": design * (0.85 + 0.03 * k)}, index=twin.index.station_ids))
        solve_s, result = time_call(twin.solve)
        times.append(solve_s)
        iters.append(result.summary["iterations"])
    bare_s, bare_iterations = _bare(same_net, repeat)
    return {
        "stations": int(len(twin.index.station_ids)), "pipes": int(len(twin.index.pipe_ids)),
        "junctions": int(len(twin.net.junction)),
        "build_s": build_s, "first_solve_s": first_s, "first_iterations": first.summary["iterations"],
        "solve_s": float(np.median(times)), "solve_iterations": int(np.median(iters)),
        "bare_s": bare_s, "bare_iterations": bare_iterations,
        "solve_over_bare": float(np.median(times)) / bare_s,
    }


def run(args) -> dict:
    quick = bool(getattr(args, "quick", False))
    repeat = int(getattr(args, "repeat", 0) or 3)
    city_stations = QUICK_CITY_STATIONS if quick else CITY_STATIONS
    with tempfile.TemporaryDirectory(prefix="heattwin-bench-twin-") as tmp:
        workdir = Path(tmp)
        demo_net, demo_dir = network_of(DEMO_STATIONS, workdir)
        measure(demo_net, repeat=1)            # warm-up: numba JIT and imports are not the twin's cost
        demo = _figures(demo_net, demo_dir, DEMO_STATIONS, repeat)
        city_net, city_dir = network_of(city_stations, workdir)
        city = _figures(city_net, city_dir, city_stations, repeat)
    figures = {"network": "democity" if demo_dir else "synthetic", "demo": demo, "city": city,
               "city_solve_over_bare": city["solve_over_bare"]}
    if "cycle_s" in city:
        figures["city_cycle_over_bare"] = city["cycle_over_bare"]
    return figures


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    print(json.dumps(run(parser.parse_args()), indent=1, default=float))
