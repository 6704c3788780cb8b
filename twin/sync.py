"""The sync loop: every cycle read the latest telemetry window, set the twin's boundary conditions,
solve, compare with the readings and persist the run — so any number of app workers read one state.

The net is built once and only its boundary values change between cycles. A database restart
does not stop the loop (it waits and resumes), and a cycle never overlaps another, in this
process or any other (an advisory lock in the store).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import pandas as pd
import psycopg
import psycopg_pool

from layers.records import asset_rows_to_network
from store import assets as asset_store
from store import telemetry, twin_runs
from store.alarms import add_alarm
from store.calibrations import get_latest_calibration
from twin.boundary import Boundary, LastGood, boundary_from_readings
from twin.model import Twin, TwinDidNotConverge
from twin.observe import SensorMap

log = logging.getLogger(__name__)
DATABASE_DOWN = (psycopg.OperationalError, psycopg_pool.PoolTimeout)
HOUSEKEEPING_EVERY = 10  # cycles between rollup refreshes and pruning of old runs


@dataclass
class CycleOutcome:
    run_id: int | None
    converged: bool
    cycle_s: float
    solve_s: float | None
    fallbacks: int
    error: str | None = None


def load_network(pool):
    """The current network from the store, as the twin builds it."""
    rows, basemap = asset_store.get_asset_rows(pool)
    return asset_rows_to_network(rows, basemap)


def apply_boundary(twin: Twin, boundary: Boundary) -> None:
    twin.set_outdoor(boundary.outdoor_c)
    twin.set_sources(boundary.sources)
    twin.set_station_demand(boundary.stations[["heat_mw", "t_return_c"]])


def _states(result, boundary: Boundary) -> pd.DataFrame:
    states = result.states()
    estimated = set(boundary.stations.index[boundary.stations["estimated"]])
    flagged = states["element_id"].isin(estimated) & (states["status"] == "normal")
    states.loc[flagged, "status"] = "estimated"
    return states


class SyncLoop:
    def __init__(self, pool, *, window_s: float = 300.0, network=None, retention_days: int = 183):
        self.pool = pool
        self.window_s = window_s
        self.retention_days = retention_days
        self._retention_due = 0.0
        self.network = network if network is not None else load_network(pool)
        self.twin = Twin(self.network)
        self.calibration_id = None
        self.use_latest_calibration()
        self.sensor_map = SensorMap(self.network.sensors, self.network.stations)
        self.last_good = LastGood()
        self._busy = threading.Lock()
        self.cycles = 0
        self._pressure_source = str(self.network.sources.loc[self.network.sources["role"] == "pressure",
                                                             "id"].iloc[0])

    def use_latest_calibration(self) -> None:
        """Switch to the store's latest calibration when there is a newer one."""
        latest = get_latest_calibration(self.pool)
        if latest is not None and latest["id"] != self.calibration_id:
            self.twin.set_calibration(latest["params"])
            self.calibration_id = latest["id"]
            log.info("using calibration #%s", latest["id"])

    def _read(self, at: pd.Timestamp) -> pd.Series:
        means = telemetry.get_window_means(self.pool, end=at.to_pydatetime(), window_s=self.window_s)
        return means.set_index("sensor_id")["value"].astype(float)

    def _record_failure(self, started, boundary: Boundary, error: str, cycle_s: float) -> int:
        run_id = twin_runs.add_run(self.pool, started_at=started, finished_at=pd.Timestamp.now(tz="UTC"),
                                   converged=False, error=error, cycle_s=cycle_s,
                                   inputs=boundary.inputs(), fallbacks=boundary.fallbacks)
        add_alarm(self.pool, asset_id=self._pressure_source, cause="twin_not_converged", severity="alarm",
                  message=f"twin did not converge: {error}", details={"run_id": run_id}, actor="sync")
        return run_id

    def cycle(self, at: pd.Timestamp | None = None) -> CycleOutcome | None:
        """One cycle at ``at`` (default now); None when another cycle is running."""
        if not self._busy.acquire(blocking=False):
            return None
        try:
            with twin_runs.cycle_lock(self.pool) as acquired:
                return self._cycle(at) if acquired else None
        finally:
            self._busy.release()

    def _cycle(self, at: pd.Timestamp | None) -> CycleOutcome:
        started = pd.Timestamp.now(tz="UTC")
        at = started if at is None else pd.Timestamp(at)
        clock = time.perf_counter()
        measured = self._read(at)
        boundary = boundary_from_readings(self.network, measured, at=at, last_good=self.last_good)
        apply_boundary(self.twin, boundary)
        solve_clock = time.perf_counter()
        try:
            result = self.twin.solve()
        except TwinDidNotConverge as exc:
            cycle_s = time.perf_counter() - clock
            run_id = self._record_failure(started, boundary, str(exc), cycle_s)
            return CycleOutcome(run_id, False, cycle_s, None, len(boundary.fallbacks), str(exc))
        solve_s = time.perf_counter() - solve_clock
        residuals = self.sensor_map.residuals(result, measured)
        run_id = twin_runs.add_run(
            self.pool, started_at=started, finished_at=pd.Timestamp.now(tz="UTC"), converged=True,
            iterations=result.summary.get("iterations"), solve_s=solve_s,
            cycle_s=time.perf_counter() - clock, inputs=boundary.inputs(), fallbacks=boundary.fallbacks,
            summary={**result.summary, "at": at.isoformat(), "outdoor_c": boundary.outdoor_c},
            states=_states(result, boundary), residuals=residuals, calibration_id=self.calibration_id)
        self.cycles += 1
        return CycleOutcome(run_id, True, time.perf_counter() - clock, solve_s, len(boundary.fallbacks))

    def housekeeping(self, keep_run_hours: float = 48.0) -> None:
        """Every few cycles: newer calibration, rollups, old runs; once a day the readings' retention."""
        self.use_latest_calibration()
        telemetry.refresh_rollups(self.pool)
        twin_runs.prune_runs(self.pool, keep_hours=keep_run_hours)
        if time.monotonic() >= self._retention_due:
            telemetry.apply_retention(self.pool, keep_days=self.retention_days)
            self._retention_due = time.monotonic() + 86400.0

    def run_forever(self, interval_s: float, stop: threading.Event | None = None) -> None:
        """Cycle every ``interval_s`` until ``stop`` is set; a database outage only pauses it."""
        stop = stop or threading.Event()
        while not stop.is_set():
            tick = time.monotonic()
            try:
                outcome = self.cycle()
                if outcome is not None:
                    log.info("cycle run=%s converged=%s %.3f s (solve %s s), %d fallbacks", outcome.run_id,
                             outcome.converged, outcome.cycle_s, outcome.solve_s, outcome.fallbacks)
                if self.cycles and self.cycles % HOUSEKEEPING_EVERY == 0:
                    self.housekeeping()
            except DATABASE_DOWN as exc:
                log.warning("database unavailable, will retry: %s", exc)
            stop.wait(max(0.0, interval_s - (time.monotonic() - tick)))
