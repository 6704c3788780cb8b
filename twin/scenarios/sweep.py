"""Batch scenario runs on dask.distributed: the built-in N-1 sweep and any list of scenarios.

Scenarios go out in chunks; each worker process keeps one ``ScenarioRunner`` per network (built
on its first chunk, reused for every later one), so the twin is built once per worker, not once
per scenario. The network reaches each worker once (scattered), not with every chunk.

A LocalCluster (processes, one thread each: pandapipes is CPU-bound Python) is started unless a
client is given or ``HEATTWIN_DASK_SCHEDULER`` names a running scheduler.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable

import pandas as pd

from twin.scenarios.run import ScenarioRunner
from twin.scenarios.spec import Base, Change, Scenario, scenario_from_dict

SCHEDULER_ENV = "HEATTWIN_DASK_SCHEDULER"
ROW_COLUMNS = ("element_id", "converged", "feasible", "heat_not_delivered_mw", "households_affected",
               "stations_affected", "stations_cut_off", "stations_low_dp", "valves_to_close", "error")
_RUNNERS: dict[str, ScenarioRunner] = {}   # per worker process: network key → runner


def n1_scenarios(network, pipe_ids=None, base: Base | None = None) -> list[Scenario]:
    """One scenario per pipe segment: the segment breaks and is isolated by its section valves."""
    ids = network.pipes["id"].astype(str).tolist() if pipe_ids is None else [str(p) for p in pipe_ids]
    return [Scenario(name=f"N-1 {pid}", base=base or Base(), changes=[Change("pipe_break", pid)]) for pid in ids]


def network_key(network) -> str:
    return hashlib.sha1(pickle.dumps((network.pipes["id"].tolist(), network.valves["id"].tolist(),
                                      network.stations["id"].tolist(), len(network.nodes)))).hexdigest()[:16]


def sweep_row(scenario: Scenario, result) -> dict:
    """The figures of one scenario that a ranking needs."""
    element = next((c.element_id for c in scenario.changes if c.element_id), scenario.name)
    s = result.summary
    return {"element_id": element, "converged": bool(s.get("converged")), "feasible": s.get("feasible"),
            "heat_not_delivered_mw": s.get("heat_not_delivered_mw"),
            "households_affected": s.get("households_affected"), "stations_affected": s.get("stations_affected"),
            "stations_cut_off": s.get("stations_cut_off"), "stations_low_dp": s.get("stations_low_dp"),
            "valves_to_close": len((result.isolation or {}).get("valves_to_close", [])), "error": s.get("error")}


def run_chunk(network, key: str, specs: list[dict]) -> list[dict]:
    """Run scenario dicts with this process's runner for ``network`` (built on first use)."""
    runner = _RUNNERS.get(key)
    if runner is None:
        _RUNNERS.clear()  # one network per worker at a time: twins are big
        runner = _RUNNERS[key] = ScenarioRunner(network)
    rows = []
    for spec in specs:
        scenario = scenario_from_dict(spec)
        rows.append(sweep_row(scenario, runner.run(scenario)))
    return rows


def rank(rows: list[dict]) -> pd.DataFrame:
    """Most critical first: heat not delivered, then households affected."""
    frame = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    return frame.sort_values(["heat_not_delivered_mw", "households_affected", "element_id"],
                             ascending=[False, False, True], na_position="last").reset_index(drop=True)


def make_client(workers: int = 2):
    """A client of ``HEATTWIN_DASK_SCHEDULER`` when set, else of a new LocalCluster of ``workers``."""
    from dask.distributed import Client, LocalCluster

    address = os.environ.get(SCHEDULER_ENV)
    if address:
        return Client(address)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster)


def _chunks(items: list, size: int) -> list[list]:
    return [items[k:k + size] for k in range(0, len(items), size)]


def run_sweep(network, scenarios: list[Scenario], *, client=None, workers: int = 2, serial: bool = False,
              chunk_size: int | None = None, progress: Callable[[int, int, list[dict]], None] | None = None
              ) -> pd.DataFrame:
    """Run ``scenarios`` (serially, or on dask) and return the ranking, one row per scenario.

    ``progress(done, total, new_rows)`` is called as chunks finish (in completion order).
    """
    specs = [s.to_dict() for s in scenarios]
    key = network_key(network)
    total = len(specs)
    if serial:
        size = chunk_size or max(1, min(20, total))
        rows = []
        for chunk in _chunks(specs, size):
            new = run_chunk(network, key, chunk)
            rows += new
            if progress:
                progress(len(rows), total, new)
        return rank(rows)
    return rank(_run_distributed(network, key, specs, client, workers, chunk_size, progress))


def _run_distributed(network, key, specs, client, workers, chunk_size, progress) -> list[dict]:
    from dask.distributed import as_completed

    own = client is None
    client = client or make_client(workers)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
        # Several chunks per worker: progress moves, and a slow chunk does not idle the others.
        size = chunk_size or max(1, min(25, -(-len(specs) // (n_workers * 4))))
        shared = client.scatter(network, broadcast=True)
        futures = [client.submit(run_chunk, shared, key, chunk, pure=False) for chunk in _chunks(specs, size)]
        rows: list[dict] = []
        for future in as_completed(futures):
            new = future.result()
            rows += new
            if progress:
                progress(len(rows), len(specs), new)
        return rows
    finally:
        if own:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()


def run_stored_sweep(network, pool, *, actor=None, pipe_ids=None, workers: int = 2, serial: bool = False,
                     client=None, progress: Callable | None = None) -> tuple[pd.DataFrame, int | None]:
    """The N-1 sweep with its progress and rows stored as chunks finish (``pool`` None: not stored),
    started by ``actor`` (a ``store.audit.Actor``; needed when it is stored).

    Returns the ranking and the sweep id. A failure marks the stored sweep failed and re-raises.
    """
    from store import assets, scenarios

    scenario_list = n1_scenarios(network, pipe_ids)
    sweep_id = None
    if pool is not None:
        version = (assets.latest_network_version(pool) or {}).get("id")
        sweep_id = scenarios.add_sweep(pool, total=len(scenario_list), actor=actor,
                                       workers=1 if serial else workers,
                                       scheduler=os.environ.get(SCHEDULER_ENV, "" if serial else "LocalCluster"),
                                       network_version=version)

    def record(done: int, total: int, rows: list[dict]) -> None:
        if sweep_id is not None:
            scenarios.save_sweep_rows(pool, sweep_id, pd.DataFrame(rows, columns=list(ROW_COLUMNS)))
        if progress:
            progress(done, total, rows)

    try:
        ranking = run_sweep(network, scenario_list, workers=workers, serial=serial, client=client, progress=record)
    except Exception as exc:
        if sweep_id is not None:
            scenarios.finish_sweep(pool, sweep_id, error=f"{type(exc).__name__}: {exc}")
        raise
    if sweep_id is not None:
        scenarios.finish_sweep(pool, sweep_id)
    return ranking, sweep_id
