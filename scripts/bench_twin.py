"""``heattwin bench twin``: the sync cycle against bare pandapipes, cold against cold, warm against warm.

For the demo city (150 stations) and a city of 3,400 stations (``heattwin demo-city --stations
3400``), loaded into a database of their own, the virtual plant sends a reading of every sensor
each simulated minute (the product's sync interval) and the sync loop runs one cycle per minute on
the 5-minute window ending then, so every cycle sees a window one minute later than the last:
readings that change as a live network's do (weather, load over the day, sensor noise).

- cold: ``SyncLoop``'s first cycle (read, set boundaries, cold ``pipeflow``, residuals, alarm
  rules, persist) against a fresh ``pandapipes.pipeflow`` of the same state (a copy of the twin's
  net holding the same boundary values, started from the tables' initial values), same solver
  options. ``repeat`` fresh loops and ``repeat`` fresh pipeflows.
- warm: each later cycle against pandapipes started from the previous cycle's solution on the same
  changed boundary (the previous solution and the new boundary values in one net). pandapipes 0.16
  has no ``pipeflow(init="results")``: its only built-in warm start is the transient time step's
  (``transient=True``, ``simulation_time_step > 0``), which also skips re-reading the pipes' and
  pumps' boundary columns and adds storage terms, so it cannot re-solve a changed steady state.
  Two stand-ins are timed and the faster is the baseline:

  - ``tables``: the public route, the last results as the tables' initial values
    (``junction.pn_bar``/``tfluid_k`` from ``res_junction``; mass flows start from pandapipes' own
    guess), then ``pipeflow``;
  - ``pit``: ``init_pipeflow`` (pandapipes' full set-up, conflict check included), the last solution
    in its internal tables (every pressure, temperature and mass flow not fixed by a boundary),
    then ``execute_pipeflow`` and ``extract_all_results`` — what ``init="results"`` does elsewhere.

Each bare result is checked against the cycle's solution (largest pressure and temperature gap).
The ratios are medians of per-cycle times within one run.
"""

from __future__ import annotations

import copy
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from scripts.benchmarks import time_call

DEMO_STATIONS = 150
CITY_STATIONS = 3400
QUICK_CITY_STATIONS = 600
INTERVAL_S = 60.0  # the product's sync interval (HEATTWIN_SYNC_INTERVAL_S) and the plant's step
WINDOW_S = 300.0   # the product's telemetry window (HEATTWIN_TELEMETRY_WINDOW_S)


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


# -- bare pandapipes ---------------------------------------------------------------------------------
def changed_boundary(solved_before, solved_now):
    """A net holding ``solved_now``'s element tables (its boundary values) and ``solved_before``'s
    solution (results and internal tables): the state the cycle's solve started from."""
    net = copy.deepcopy(solved_before)
    for component in solved_now.component_list:
        name = component.table_name()
        net[name] = solved_now[name].copy()
    return net


def bare_cold(net) -> None:
    """A fresh pipeflow from the tables' initial values, as pandapipes starts any net."""
    import pandapipes as pp

    from twin.solve import SOLVER_OPTIONS

    pp.pipeflow(net, **SOLVER_OPTIONS)


def bare_warm_tables(net) -> None:
    """The public warm start: the last results as the junctions' initial values, then ``pipeflow``."""
    import pandapipes as pp

    from twin.solve import SOLVER_OPTIONS

    for column, result in (("pn_bar", "p_bar"), ("tfluid_k", "t_k")):
        last = net.res_junction[result].reindex(net.junction.index)
        net.junction[column] = last.where(np.isfinite(last), net.junction[column])
    pp.pipeflow(net, **SOLVER_OPTIONS)


def bare_warm_pit(net, warm) -> None:
    """pandapipes' own set-up (conflict check included), the last solution in its internal tables."""
    from pandapipes.pf.result_extraction import extract_all_results
    from pandapipes.pipeflow import execute_pipeflow, init_pipeflow

    from twin.solve import SOLVER_OPTIONS

    init_pipeflow(net, **SOLVER_OPTIONS)
    warm.apply(net)
    execute_pipeflow(net)
    extract_all_results(net)


def _gap(net, reference) -> dict:
    """Largest difference of junction pressure (bar) and temperature (K) between two solved nets."""
    dp = (net.res_junction["p_bar"] - reference.res_junction["p_bar"]).abs().max()
    dt = (net.res_junction["t_k"] - reference.res_junction["t_k"]).abs().max()
    return {"p_bar": float(dp), "t_k": float(dt)}


def _bare_warm(solved_before, solved_now) -> dict:
    from twin.solve import WarmStart, iterations

    tables = changed_boundary(solved_before, solved_now)
    tables_s, _ = time_call(partial(bare_warm_tables, tables))
    pit = changed_boundary(solved_before, solved_now)
    pit_s, _ = time_call(partial(bare_warm_pit, pit, WarmStart.from_net(solved_before)))
    return {"tables_s": tables_s, "tables_iterations": iterations(tables), "tables_gap": _gap(tables, solved_now),
            "pit_s": pit_s, "pit_iterations": iterations(pit), "pit_gap": _gap(pit, solved_now)}


# -- the sync loop against it ------------------------------------------------------------------------
def _send(pool, plant, at: pd.Timestamp) -> int:
    from store import telemetry

    readings = plant.step(at, INTERVAL_S)
    telemetry.ingest_rows(pool, readings, origin="bench")
    return len(readings)


def _median(values) -> float:
    return float(np.median(values))


def _spread(values) -> list[float]:
    return [float(np.min(values)), float(np.max(values))]


def measure_cycles(url: str, cycles: int, repeat: int, *, warm_up: bool = True) -> dict:
    """Cold and warm figures of the sync loop on the city loaded at ``url`` (seconds, ratios)."""
    from scripts.cmd_simulate import build_plant
    from store.db import get_pool
    from twin.solve import iterations
    from twin.sync import SyncLoop

    pool = get_pool(url)
    step = pd.Timedelta(seconds=INTERVAL_S)
    windows = int(WINDOW_S // INTERVAL_S)
    # Every reading lies in the past (the ingest refuses readings from the future).
    first_at = pd.Timestamp.now(tz="UTC").floor("min") - (cycles + 2) * step
    plant = build_plant(pool, start=first_at - windows * step, faults=[], noise=True)
    sent = [_send(pool, plant, first_at - k * step) for k in range(windows - 1, -1, -1)]

    if warm_up:
        # Imports and first-call caches are paid once per process, by the loop and pandapipes alike.
        SyncLoop(pool, window_s=WINDOW_S).cycle(first_at)
    cold_cycle, cold_solve, cold_bare, loop_build = [], [], [], []
    for _ in range(repeat):
        build_s, loop = time_call(partial(SyncLoop, pool, window_s=WINDOW_S))
        loop_build.append(build_s)
        cycle_s, outcome = time_call(partial(loop.cycle, first_at))
        if outcome is None or not outcome.converged:
            raise RuntimeError(f"the first cycle did not solve: {outcome}")
        cold_cycle.append(cycle_s)
        cold_solve.append(outcome.solve_s)
        solved = copy.deepcopy(loop.twin.net)
        fresh = copy.deepcopy(solved)
        cold_bare.append(time_call(partial(bare_cold, fresh))[0])
    cold_iterations = loop.twin.last_result.summary["iterations"]
    cold_gap = _gap(fresh, solved)

    warm_cycle, warm_solve, warm_iterations, bare, change = [], [], [], [], []
    for k in range(1, cycles + 1):
        at = first_at + k * step
        sent.append(_send(pool, plant, at))
        cycle_s, outcome = time_call(partial(loop.cycle, at))
        if outcome is None or not outcome.converged:
            raise RuntimeError(f"cycle {k} did not solve: {outcome}")
        warm_cycle.append(cycle_s)
        warm_solve.append(outcome.solve_s)
        warm_iterations.append(loop.twin.last_result.summary["iterations"])
        now = copy.deepcopy(loop.twin.net)
        bare.append(_bare_warm(solved, now))
        change.append(_gap(now, solved)["p_bar"])  # how far the new window moved the state
        solved = now
    tables_s, pit_s = [b["tables_s"] for b in bare], [b["pit_s"] for b in bare]
    baseline = "pit" if _median(pit_s) <= _median(tables_s) else "tables"
    warm_bare = pit_s if baseline == "pit" else tables_s
    per_cycle = np.asarray(warm_cycle) / np.asarray(warm_bare)
    return {
        "cycles": cycles, "readings_per_window": int(np.median(sent) * windows),
        "loop_build_s": _median(loop_build),
        "cold_cycle_s": _median(cold_cycle), "cold_cycle_solve_s": _median(cold_solve),
        "cold_bare_s": _median(cold_bare), "cold_iterations": int(cold_iterations),
        "cold_bare_iterations": iterations(fresh), "cold_gap": cold_gap,
        "cold_cycle_over_cold_bare": _median(cold_cycle) / _median(cold_bare),
        "cold_solve_over_cold_bare": _median(cold_solve) / _median(cold_bare),
        "cold_cycle_s_spread": _spread(cold_cycle), "cold_bare_s_spread": _spread(cold_bare),
        "warm_cycle_s": _median(warm_cycle), "warm_cycle_solve_s": _median(warm_solve),
        "warm_iterations": int(np.median(warm_iterations)),
        "warm_bare": baseline, "warm_bare_s": _median(warm_bare),
        "warm_bare_tables_s": _median(tables_s), "warm_bare_pit_s": _median(pit_s),
        "warm_bare_tables_iterations": int(np.median([b["tables_iterations"] for b in bare])),
        "warm_bare_pit_iterations": int(np.median([b["pit_iterations"] for b in bare])),
        "warm_change_p_bar": _median(change),
        "warm_bare_tables_gap": {key: max(b["tables_gap"][key] for b in bare) for key in ("p_bar", "t_k")},
        "warm_bare_pit_gap": {key: max(b["pit_gap"][key] for b in bare) for key in ("p_bar", "t_k")},
        "warm_cycle_over_warm_bare": _median(warm_cycle) / _median(warm_bare),
        "warm_solve_over_warm_bare": _median(warm_solve) / _median(warm_bare),
        "warm_cycle_over_warm_bare_spread": _spread(per_cycle),
        "warm_cycle_s_spread": _spread(warm_cycle), "warm_bare_s_spread": _spread(warm_bare),
    }


def _city(stations: int, workdir: Path, cycles: int, repeat: int, warm_up: bool) -> dict:
    from scripts.loading import load_city
    from store.db import close_pools

    network, city_dir = _democity(stations, workdir)
    url = _bench_database(f"heattwin_bench_twin_{stations}")
    load_city(url, city_dir)
    try:
        figures = measure_cycles(url, cycles, repeat, warm_up=warm_up)
    finally:
        close_pools()
    return {"stations": int(len(network.stations)), "pipes": int(len(network.pipes)), **figures}


def run(args) -> dict:
    quick = bool(getattr(args, "quick", False))
    city_stations = QUICK_CITY_STATIONS if quick else CITY_STATIONS
    with tempfile.TemporaryDirectory(prefix="heattwin-bench-twin-") as tmp:
        workdir = Path(tmp)
        demo = _city(DEMO_STATIONS, workdir, cycles=4 if quick else 10, repeat=2 if quick else 3, warm_up=True)
        # The same process: imports and caches are warm already.
        city = _city(city_stations, workdir, cycles=3 if quick else 6, repeat=2 if quick else 3, warm_up=False)
    return {"demo": demo, "city": city}


if __name__ == "__main__":
    import argparse

    from scripts.benchmarks import print_report
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parsed = parser.parse_args()
    print_report("twin", run(parsed), parsed.json)
