"""``heattwin bench scenarios``: what-if runs per second, serially and on a 2-worker dask LocalCluster,
for the demo city and the 3,400-station city, and the whole demo-city N-1 sweep.

Each sample is N-1 scenarios (a segment broken and isolated, plants re-trimmed, compared with the
base). Serial and dask runs take the same scenarios; the dask figures exclude the cluster's start
(reported apart) but include shipping the network to the workers and each worker's twin build,
as a sweep pays them. The demo-city N-1 sweep is every segment on 2 workers (target < 5 min).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from scripts.bench_twin import _democity

SAMPLE = {"demo": 40, "city": 6}
QUICK_SAMPLE = {"demo": 12, "city": 4}
QUICK_CITY_STATIONS = 600


def _rate(network, scenarios, **options) -> tuple[float, object]:
    from twin.scenarios.sweep import run_sweep

    started = time.perf_counter()
    ranking = run_sweep(network, scenarios, **options)
    return len(scenarios) / (time.perf_counter() - started), ranking


def _measure(network, sample: int, client) -> dict:
    from twin.scenarios.sweep import n1_scenarios

    pipes = network.pipes["id"].astype(str)
    scenarios = n1_scenarios(network, pipes.iloc[:: max(1, len(pipes) // sample)].head(sample).tolist())
    serial, ranking = _rate(network, scenarios, serial=True)
    dask2, ranking2 = _rate(network, scenarios, client=client)
    same = ranking.set_index("element_id")["heat_not_delivered_mw"].sort_index().round(6).equals(
        ranking2.set_index("element_id")["heat_not_delivered_mw"].sort_index().round(6))
    return {"scenarios": len(scenarios), "serial_per_s": serial, "dask2_per_s": dask2, "speedup": dask2 / serial,
            "same_results": bool(same), "pipes": len(pipes)}


def run(args) -> dict:
    from twin.scenarios.sweep import make_client, n1_scenarios, run_sweep

    sample = QUICK_SAMPLE if args.quick else SAMPLE
    started = time.perf_counter()
    client = make_client(2)
    cluster_start_s = time.perf_counter() - started
    figures: dict = {"cluster_start_s": cluster_start_s}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            demo, _ = _democity(150, Path(tmp))
            figures["demo"] = _measure(demo, sample["demo"], client)
            started = time.perf_counter()
            ranking = run_sweep(demo, n1_scenarios(demo), client=client)
            figures["demo_n1_sweep_s"] = time.perf_counter() - started
            figures["demo_n1_segments"] = len(ranking)
            figures["demo_n1_failed"] = int((~ranking["converged"]).sum())
            city, _ = _democity(QUICK_CITY_STATIONS if args.quick else 3400, Path(tmp))
            figures["city"] = _measure(city, sample["city"], client)
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
    demo_figures = figures["demo"]
    figures.update(serial_per_s=demo_figures["serial_per_s"], dask2_per_s=demo_figures["dask2_per_s"],
                   speedup=demo_figures["speedup"])
    return figures
