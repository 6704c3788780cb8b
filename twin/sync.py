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

from heattwin import units
from layers.records import asset_rows_to_network
from store import assets as asset_store
from store import replay, telemetry, twin_runs
from store.alarms import add_alarm, clear_gone, revise_alarm
from store.calibrations import get_latest_calibration
from store.work_orders.sla_policy import SlaPolicyError
from store.work_orders.sla_watch import watch_sla
from twin.alarm_presentation import AlarmPresenter
from twin.alarm_rules import AlarmEngine
from twin.boundary import Boundary, LastGood, boundary_from_readings
from twin.leaks.detect import (
    Cusum,
    ImbalanceTest,
    LeakMonitor,
    MakeupBaseline,
    balance_meters,
    leak_residuals,
    suspect_inputs,
)
from twin.model import Twin, TwinDidNotConverge
from twin.observe import SensorMap

log = logging.getLogger(__name__)
DATABASE_DOWN = (psycopg.OperationalError, psycopg_pool.PoolTimeout)
HOUSEKEEPING_EVERY = 10  # cycles between rollup refreshes and pruning of old runs
MIN_LEAK_SHARE = 0.005  # the smallest leak the detector is tuned for: 0.5 % of the circulating flow
LEAK_PRESSURE_SIGMA_BAR = 0.01  # pressure transmitters' noise: what a residual change is weighed against
PLAN_EVERY = pd.Timedelta(hours=3)  # a fresh advised schedule as the forecast moves (it only proposes)


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
    from store.networks import get_design

    rows, basemap = asset_store.get_asset_rows(pool)
    design = get_design(pool) or {}  # the network's own heating curve and design conditions
    return asset_rows_to_network(rows, basemap, design.get("settings"), design.get("source_crs"))


def design_circulating_t_h(network) -> float:
    """The network's circulating flow at design load (stations' design heat over a 60 K drop), t/h."""
    heat_mw = pd.to_numeric(network.stations["design_heat_mw"], errors="coerce").fillna(3.0).sum()
    return float(units.kg_per_s_to_t_h(units.mdot_for_heat_kg_per_s(units.mw_to_w(heat_mw), 60.0)))


def apply_boundary(twin: Twin, boundary: Boundary) -> None:
    twin.set_date(boundary.at)
    twin.set_outdoor(boundary.outdoor_c)
    twin.set_sources(boundary.sources)
    twin.set_station_demand(boundary.stations[["heat_mw", "t_return_c"]])


def monitor_inputs(sensor_map: SensorMap, result, measured: pd.Series) -> dict:
    """What the leak monitor takes from one cycle besides the readings: the residuals (measured minus
    modelled) and the twin's flow per station; None when the twin did not solve."""
    if result is None:
        return {"residuals": None, "station_flows_t_h": None}
    return {"residuals": leak_residuals(sensor_map.residuals(result, measured)),
            "station_flows_t_h": result.stations["flow_t_h"]}


def _states(result, boundary: Boundary) -> pd.DataFrame:
    states = result.states()
    estimated = set(boundary.stations.index[boundary.stations["estimated"]])
    flagged = states["element_id"].isin(estimated) & (states["status"] == "normal")
    states.loc[flagged, "status"] = "estimated"
    return states


def leak_alarm_element(details: dict, source_id: str, sources: set[str], pressure_source: str) -> str:
    """Where a leak alarm stands before (or without) a location: its likeliest pipe; else the plant whose
    make-up fired; else — the mass-balance tests belong to no plant — the pressure-holding plant."""
    if details.get("pipe_id"):
        return str(details["pipe_id"])
    return source_id if source_id in sources else pressure_source


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
        self.leaks: LeakMonitor | None = None
        self._leaks_relearn_at: pd.Timestamp | None = None
        self._leak_alarm_id: int | None = None
        self._leak_detected_at: pd.Timestamp | None = None
        self._last_at: pd.Timestamp | None = None
        self.alarms = AlarmEngine(pool, self.network, window_s=window_s)
        self.presenter = AlarmPresenter(pool, self.network, chattering_per_hour=self.alarms.config.chattering_per_hour)

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

    def _record_failure(self, started, boundary: Boundary, error: str, cycle_s: float, measured: pd.Series) -> int:
        run_id = twin_runs.add_run(self.pool, started_at=started, finished_at=pd.Timestamp.now(tz="UTC"),
                                   converged=False, error=error, cycle_s=cycle_s,
                                   inputs=boundary.inputs(), fallbacks=boundary.fallbacks)
        # The rules that judge the readings alone (rooms, sensors, metered heat) still see them.
        self.alarms.evaluate(boundary.at, error=error, measured=measured, outdoor_c=boundary.outdoor_c)
        return run_id

    def cycle(self, at: pd.Timestamp | None = None) -> CycleOutcome | None:
        """One cycle at ``at`` (default now); None when another cycle is running."""
        if not self._busy.acquire(blocking=False):
            return None
        try:
            with twin_runs.cycle_lock(self.pool) as acquired:
                if not acquired:
                    return None
                outcome = self._cycle(at)
                self.watch_work_order_clocks(at)
                self.track_incidents(at)
                self.presenter.present(pd.Timestamp.now(tz="UTC") if at is None else at)
                return outcome
        finally:
            self._busy.release()

    def watch_work_order_clocks(self, at: pd.Timestamp | None = None) -> None:
        """The open work orders' SLA alarms (a warning at 80 % of a clock, a breach at 100 %) for ``at``."""
        try:
            watch_sla(self.pool, at=None if at is None else pd.Timestamp(at).to_pydatetime(), actor="sync")
        except SlaPolicyError as exc:
            log.error("SLA watch skipped, fix the policy file: %s", exc)

    def track_incidents(self, at: pd.Timestamp | None = None) -> dict:
        """Open an incident for each new leak or station-fault alarm (the stations its repair cuts off, for
        the hotline) and end those whose alarm cleared."""
        from store.alarms import list_open_alarms
        from store.incidents import sync_alarm_incidents

        def isolate(pipe_id: str):
            try:
                return self._isolation().isolate(pipe_id)
            except (KeyError, ValueError):  # a pipe of another network version: no region to name
                return None

        return sync_alarm_incidents(self.pool, list_open_alarms(self.pool, with_details=True), isolate,
                                    at=None if at is None else pd.Timestamp(at).to_pydatetime())

    def _cycle(self, at: pd.Timestamp | None) -> CycleOutcome:
        started = pd.Timestamp.now(tz="UTC")
        at = started if at is None else pd.Timestamp(at)
        clock = time.perf_counter()
        measured = self._read(at)
        self._last_at = at
        boundary = boundary_from_readings(self.network, measured, at=at, last_good=self.last_good)
        apply_boundary(self.twin, boundary)
        solve_clock = time.perf_counter()
        try:
            result = self.twin.solve()
        except TwinDidNotConverge as exc:
            if self.leaks is not None:
                self._watch_leaks(at, measured, None)
            cycle_s = time.perf_counter() - clock
            run_id = self._record_failure(started, boundary, str(exc), cycle_s, measured)
            return CycleOutcome(run_id, False, cycle_s, None, len(boundary.fallbacks), str(exc))
        solve_s = time.perf_counter() - solve_clock
        residuals = self.sensor_map.residuals(result, measured)
        if self.leaks is not None:
            self._watch_leaks(at, measured, result)
        self.alarms.evaluate(at, result=result, measured=measured, outdoor_c=boundary.outdoor_c)
        run_id = twin_runs.add_run(
            self.pool, started_at=started, finished_at=pd.Timestamp.now(tz="UTC"), converged=True,
            iterations=result.summary.get("iterations"), solve_s=solve_s,
            cycle_s=time.perf_counter() - clock, inputs=boundary.inputs(), fallbacks=boundary.fallbacks,
            summary={**result.summary, "at": at.isoformat(), "outdoor_c": boundary.outdoor_c},
            states=_states(result, boundary), residuals=residuals, calibration_id=self.calibration_id)
        self.cycles += 1
        return CycleOutcome(run_id, True, time.perf_counter() - clock, solve_s, len(boundary.fallbacks))

    # -- leaks -------------------------------------------------------------------------------------
    def enable_leak_detection(self, *, end: pd.Timestamp | None = None, history_h: float = 7 * 24.0,
                              min_history_h: float = 2.0) -> float:
        """Learn the make-up baseline and the CUSUM threshold from the store's last ``history_h`` hours
        (5-minute means); the hours of history it learned from, or 0.0 (and detection stays off) while
        there is less than ``min_history_h``."""
        end = pd.Timestamp.now(tz="UTC") if end is None else pd.Timestamp(end)
        sensors = self.network.sensors
        makeup = sensors[sensors["kind"] == "makeup_flow"]
        by_sensor = dict(zip(makeup["id"].astype(str), makeup["element_id"].astype(str), strict=True))
        trend = telemetry.get_trend(self.pool, list(by_sensor), (end - pd.Timedelta(hours=history_h)).to_pydatetime(),
                                    end.to_pydatetime(), resolution="5m")
        span_h = 0.0 if trend.empty else (trend["bucket"].max() - trend["bucket"].min()).total_seconds() / 3600.0
        if span_h < min_history_h:
            log.info("leak detection waits for %.0f h of make-up history", min_history_h)
            return 0.0
        # The monitor samples once per telemetry window: learn and calibrate on means of that length.
        sample_s = max(self.window_s, 300.0)
        history = pd.DataFrame({"time": trend["bucket"].dt.floor(pd.Timedelta(seconds=sample_s)),
                                "source_id": trend["sensor_id"].map(by_sensor), "value": trend["avg"].astype(float)})
        history = history.groupby(["source_id", "time"], as_index=False)["value"].mean()
        baseline = MakeupBaseline.learn(history)
        smallest = MIN_LEAK_SHARE * design_circulating_t_h(self.network)
        # Each source's CUSUM runs on its own series: the threshold is the one none of them would pass.
        cusum = max((Cusum.calibrate([baseline.excess(src, r.time, r.value)[0] for r in rows.itertuples(index=False)],
                                     k=0.5 * smallest, floor=0.5 * smallest, samples_per_day=86400.0 / sample_s)
                     for src, rows in history.groupby("source_id")), key=lambda c: c.h)
        excess = history["value"]
        if self.leaks is not None:
            self.leaks.retune(baseline, cusum)
        else:
            # One sample per telemetry window: a loop cycling faster reads overlapping windows.
            self.leaks = LeakMonitor(baseline, cusum, {src: sid for sid, src in by_sensor.items()},
                                     locate=self._locate, meters=balance_meters(self.network),
                                     imbalance=ImbalanceTest(samples_per_day=86400.0 / self.window_s),
                                     sample_s=self.window_s)
        log.info("leak detection on: CUSUM k=%.1f t/h h=%.1f t/h from %d samples", cusum.k, cusum.h, len(excess))
        return span_h

    def _locate(self, change: pd.Series, rate_t_h: float, stuck=()):
        from twin.leaks.localize import localize_relinearized

        return localize_relinearized(self.twin, self.sensor_map, change, rate_t_h=rate_t_h,
                                     sigma_bar=LEAK_PRESSURE_SIGMA_BAR, isolation_graph=self._isolation(),
                                     suspects=suspect_inputs(self.network.sensors, stuck))

    def _isolation(self):
        from twin.isolation import IsolationGraph

        if getattr(self, "_isolation_graph", None) is None:
            self._isolation_graph = IsolationGraph(self.network)
        return self._isolation_graph

    def _watch_leaks(self, at, measured: pd.Series, result) -> None:
        """Feed the monitor; raise the leak alarm on the most likely segment when it detects (and
        revise it as the leak goes on). Without a result (the twin did not solve) the make-up is still
        tested; the location follows with the next solved cycle."""
        was_active = self.leaks.active is not None
        decision = self.leaks.update(at, measured, **monitor_inputs(self.sensor_map, result, measured))
        if was_active and self.leaks.active is None:
            # The make-up is back at its baseline: the leak is repaired or isolated.
            clear_gone(self.pool, "leak", set(), at=pd.Timestamp(at).to_pydatetime(), hold_off_s=0.0, actor="sync")
        if decision is None:
            return
        details = decision.alarm_details()
        where = leak_alarm_element(details, decision.source_id, set(self.network.sources["id"].astype(str)),
                                   self._pressure_source)
        what = "mass imbalance" if decision.source_id == "imbalance" else f"make-up at {decision.source_id}"
        message = f"{what}: {decision.rate_t_h:.0f} t/h more than the network should take"
        when = pd.Timestamp(at).to_pydatetime()
        if self._leak_alarm_id is not None and decision.detected_at == self._leak_detected_at:
            revise_alarm(self.pool, self._leak_alarm_id, asset_id=where, message=message, details=details, at=when,
                         actor="sync")
        else:
            self._leak_alarm_id = add_alarm(self.pool, asset_id=where, cause="leak", severity="alarm",
                                            message=message, details=details, raised_at=when, actor="sync")
            self._leak_detected_at = decision.detected_at

    def _relearn_leaks(self) -> None:
        """The make-up baseline is learned from the store's history: hourly while it holds less than a
        day (each new hour of the day is then learned the first time it comes), daily after that."""
        if self._last_at is None or (self.leaks is not None and self.leaks.active is not None):
            return
        if self._leaks_relearn_at is not None and self._last_at < self._leaks_relearn_at:
            return
        learned_h = self.enable_leak_detection(end=self._last_at)
        if learned_h:
            self._leaks_relearn_at = self._last_at + pd.Timedelta(hours=1 if learned_h < 24.0 else 24)

    def _forecast_load(self) -> None:
        """The heat-load model retrained daily and the 48 h forecast issued hourly (``twin.forecast.load``);
        a forecast that cannot be made is logged, never the end of the cycle."""
        if self._last_at is None:
            return
        from twin.forecast.load import ForecastHousekeeping

        if getattr(self, "_forecasts", None) is None:
            self._forecasts = ForecastHousekeeping(self.pool, self.network)
        try:
            self._forecasts.run(self._last_at)
        except (ValueError, LookupError, KeyError) as exc:
            log.warning("heat-load forecast skipped: %s", exc)

    def _plan_control(self) -> None:
        """A fresh advised schedule every ``PLAN_EVERY`` once a load forecast exists (``twin.control.runner``), so
        the wall's strip and the control page show advice that follows the forecast. It stays a proposal: nothing
        reaches a plant until a person accepts it. No forecast yet: asked again in an hour."""
        if self._last_at is None:
            return
        from store.control import list_schedules
        from twin.control.runner import plan_from_store

        at = pd.Timestamp(self._last_at).floor("h")
        due = getattr(self, "_plan_due_at", None)
        if due is None:
            newest = list_schedules(self.pool, limit=1)
            due = pd.Timestamp(newest["issued_at"].iloc[0]) + PLAN_EVERY if len(newest) else at
        if at < due:
            self._plan_due_at = due
            return
        try:
            plan_from_store(self.pool, at=at, network=self.network)
            self._plan_due_at = at + PLAN_EVERY
        except LookupError as exc:
            log.info("no advised schedule at %s: %s", at, exc)
            self._plan_due_at = at + pd.Timedelta(hours=1)
        except (ValueError, TwinDidNotConverge) as exc:   # advice is never the end of the cycle
            log.warning("advised schedule skipped at %s: %s", at, exc)
            self._plan_due_at = at + pd.Timedelta(hours=1)

    def housekeeping(self, keep_run_hours: float = 48.0) -> None:
        """Every few cycles: newer calibration, rollups, old runs (into the twin's history first); once a day
        the readings' and the history's retention."""
        self.use_latest_calibration()
        telemetry.refresh_rollups(self.pool)
        self._relearn_leaks()
        self._forecast_load()
        self._plan_control()
        replay.roll_up_history(self.pool)
        twin_runs.prune_runs(self.pool, keep_hours=keep_run_hours)
        if time.monotonic() >= self._retention_due:
            telemetry.apply_retention(self.pool, keep_days=self.retention_days)
            replay.apply_history_retention(self.pool, keep_days=self.retention_days)
            self._retention_due = time.monotonic() + 86400.0

    def step(self, at: pd.Timestamp | None = None) -> CycleOutcome | None:
        """One tick of the loop: a cycle at ``at`` (default now), and the housekeeping when it is due."""
        outcome = self.cycle(at)
        if outcome is not None:
            log.info("cycle run=%s converged=%s %.3f s (solve %s s), %d fallbacks", outcome.run_id,
                     outcome.converged, outcome.cycle_s, outcome.solve_s, outcome.fallbacks)
        if self.cycles and self.cycles % HOUSEKEEPING_EVERY == 0:
            try:
                self.housekeeping()
            except DATABASE_DOWN:
                raise
            except psycopg.Error:   # housekeeping can wait for the next turn; the twin must not stop for it
                log.exception("housekeeping failed; the cycles go on and it is tried again")
        return outcome

    def run_forever(self, interval_s: float, stop: threading.Event | None = None) -> None:
        """Cycle every ``interval_s`` until ``stop`` is set; a database outage only pauses it."""
        stop = stop or threading.Event()
        while not stop.is_set():
            tick = time.monotonic()
            try:
                self.step()
            except DATABASE_DOWN as exc:
                log.warning("database unavailable, will retry: %s", exc)
            stop.wait(max(0.0, interval_s - (time.monotonic() - tick)))
