"""``heattwin bench leaks``: leak detection and localization scored through the whole chain.

Everything runs as the product runs: a plant whose physics and demands differ from the twin's
(``scripts.bench_plant.IndependentPlant``: its own roughness, heat loss, soil, station demands and
returns, background losses, seeds apart from the twin's) sends readings with noise, dropouts,
stuck and drifting meters; they go through ``ingest_rows`` into the store, and the product's
``SyncLoop`` (window means, boundary, solve, residuals, alarm rules, leak monitor, housekeeping
with its baseline learning) runs on them, on simulated time.

- Start-ups as ``heattwin demo`` does them: a fresh store, a 3-hour backfill at the plant's 60-s
  steps, then plant and loop in step at the demo's cadence (60-s cycles, 5-minute window), so the
  first hours of learning are scored as the demo lives them.
- No-leak days: a fresh store, a 3-hour backfill, then ``days`` days at coarse cycles
  (``HEATTWIN_SYNC_INTERVAL_S`` = ``HEATTWIN_TELEMETRY_WINDOW_S`` = 600 s, the loop's own
  interval). Every leak alarm, every drift alarm is counted: false alarms per day with the exact
  (Poisson) 95 % upper bound; drift alarms on healthy meters and on the ones made to drift.
- Leak scenarios forked from those days: at a random cycle of day two or later, the plant, the
  loop's twin and its trained leak monitor are copied and the copy's plant starts leaking (1–10 %
  of the circulating flow, a random segment that can carry it, random side and position). The
  copy runs cycle by cycle as the loop would: the monitor sees the plant's meters with the leak in
  the plant's physics (make-up, source flows, pressures, the twin's estimate of the stations) and
  localizes when it detects, and again on its revisions. Detection rate and time, by test; top-1/3/10
  and distance at detection and after the revisions.
- Speed on the 3,400-station city: the linear localization (signatures once per operating point,
  then one solve) against a brute force that re-solves the twin once per candidate, timed on
  enough random candidates for a stable per-candidate figure.
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.stats import chi2

from scripts.bench_twin import _bench_database, _democity
from twin.model import TwinDidNotConverge

STEP = pd.Timedelta(minutes=10)           # the coarse cycle: loop interval = telemetry window
DEMO_STEP = pd.Timedelta(seconds=60)      # heattwin demo: plant steps and sync interval …
DEMO_WINDOW = pd.Timedelta(minutes=5)     # … and the telemetry window
BACKFILL = pd.Timedelta(hours=3)          # heattwin demo: simulate --backfill-hours 3
SIZE_BANDS = ((0.01, 0.02), (0.02, 0.05), (0.05, 0.10))
REVISIONS = 3                   # the cycles after the detection LeakMonitor localizes again on
DETECT_WITHIN = pd.Timedelta(minutes=30)
GIVE_UP_CYCLES = 6              # a leak not detected within an hour is a miss
LEAK_FEED_M_PER_S = 3.0         # the fastest a burst draws water along its pipe from either end
NOISE_BAR = 0.01 / np.sqrt(10)
BRUTE_CANDIDATES = 40
DAYS = int(os.environ.get("HEATTWIN_BENCH_LEAK_DAYS", "14"))   # no-leak days of a full run (at least 14)
log = logging.getLogger(__name__)


def upper95_per_day(count: int, days: float) -> float:
    """Exact one-sided 95 % upper bound of a Poisson rate from ``count`` events in ``days``."""
    return float(chi2.ppf(0.95, 2 * (count + 1)) / 2.0 / days)


# -- the product's chain, on simulated time ---------------------------------------------------------
class _Store:
    """A fresh bench database with the demo city, the plant feeding it and the alarms it raised."""

    def __init__(self, name: str, city_dir: Path, seed: int, start: pd.Timestamp):
        from scripts.bench_plant import IndependentPlant
        from scripts.loading import load_city
        from store.db import get_pool
        from store.households import list_households
        from twin.plant.weather import SyntheticWeather
        from twin.sync import load_network

        self.url = _bench_database(name)
        load_city(self.url, city_dir)
        self.pool = get_pool(self.url)
        self.network = load_network(self.pool)
        weather = SyntheticWeather(start.floor("D"), seed=seed + 90_000)
        self.plant = IndependentPlant(self.network, list_households(self.pool, with_collector=True), weather,
                                      seed=seed)
        self.seen: set[int] = set()
        self.raised: list[dict] = []
        self.plant_steps_failed = 0

    def send(self, at: pd.Timestamp, step: pd.Timedelta) -> None:
        """The plant's readings of one step; a step its own physics cannot solve sends nothing (a gap in
        the telemetry, as a real outstation's would be), counted, instead of ending a day-long run."""
        from store import telemetry

        try:
            rows = self.plant.step(at, step.total_seconds())
        except TwinDidNotConverge as exc:
            self.plant_steps_failed += 1
            log.warning("plant step at %s did not solve (%s): no readings sent", at, exc)
            return
        telemetry.ingest_rows(self.pool, rows, origin="bench")

    def poll(self) -> None:
        """Note every alarm that appeared since the last poll (one open alarm per cause and element)."""
        from store.alarms import list_open_alarms

        open_alarms = list_open_alarms(self.pool)
        new = open_alarms[~open_alarms["id"].isin(self.seen)]
        self.seen.update(new["id"].tolist())
        self.raised += new[["id", "cause", "asset_id", "raised_at", "message"]].to_dict("records")

    def alarms(self, cause: str) -> pd.DataFrame:
        frame = pd.DataFrame(self.raised, columns=["id", "cause", "asset_id", "raised_at", "message"])
        return frame[frame["cause"] == cause]

    def count_raised(self, cause: str) -> int:
        from store.alarms import count_raised

        return count_raised(self.pool, cause)

    def close(self) -> None:
        from store.db import close_pools

        close_pools()


# Rooms and communities have nothing to do with leaks or drift, and a cold room is one upsert per cycle.
QUIET_ROOMS = "room_warn_c: -100.0\nroom_alarm_c: -100.0\ncompliance_warn_share: 0.0\ncompliance_alarm_share: 0.0\n"


def _run_loop(store: _Store, start: pd.Timestamp, end: pd.Timestamp, step: pd.Timedelta, window: pd.Timedelta,
              every=None, rules: Path | None = None):
    """Backfill from ``start − BACKFILL``, then plant and loop in step until ``end``; ``every(at, loop)``
    is called before each cycle's readings (the forks of the leak scenarios). ``rules``: an alarm-rules
    file for the loop (``HEATTWIN_ALARM_RULES``)."""
    from twin.alarm_rules import RULES_ENV, load_config
    from twin.sync import SyncLoop

    at = start - BACKFILL
    while at < start:
        store.send(at, step)
        at += step
    loop = SyncLoop(store.pool, window_s=window.total_seconds(), network=store.network)
    if rules is not None:
        loop.alarms.config = load_config(rules)
        log.info("alarm rules from %s (%s)", rules, RULES_ENV)
    outcomes = []
    while at < end:
        if every is not None:
            every(at, loop)
        store.send(at, step)
        outcome = loop.step(at + pd.Timedelta(seconds=1))
        outcomes.append(outcome is not None and outcome.converged)
        store.poll()
        at += step
    return loop, float(np.mean(outcomes))


def _drift_figures(store: _Store, days: float) -> dict:
    """Drift alarms on the meters the plant made drift, and on healthy ones (neither drifting nor stuck)."""
    drifting = set(store.plant.drifting["sensor_id"])
    raised = store.alarms("sensor_drift")
    healthy = raised[~raised["asset_id"].isin(drifting | set(store.plant.stuck_sensors))]
    caught = raised[raised["asset_id"].isin(drifting)]
    return {"drift_alarms_healthy": len(healthy), "drift_alarms_healthy_sensors": sorted(set(healthy["asset_id"])),
            "drift_alarms_healthy_per_day": len(healthy) / days,
            "drift_alarms_healthy_per_day_upper95": upper95_per_day(len(healthy), days),
            "drifting_sensors": sorted(drifting), "drifting_caught": sorted(set(caught["asset_id"])),
            "drift_alarms_on_stuck": int(raised["asset_id"].isin(store.plant.stuck_sensors).sum())}


def _startups(city_dir: Path, runs: int, hours: float) -> dict:
    """``heattwin demo`` from cold, ``runs`` times at different hours of the day, ``hours`` each."""
    now = pd.Timestamp.now(tz="UTC").floor("h")
    rows = []
    for run in range(runs):
        start = now - pd.Timedelta(days=run + 1) + pd.Timedelta(hours=7 * run)
        store = _Store("heattwin_bench_leaks_startup", city_dir, seed=300 + run, start=start)
        _, solved = _run_loop(store, start, start + pd.Timedelta(hours=hours), DEMO_STEP, DEMO_WINDOW)
        leaks = store.alarms("leak")
        drift = _drift_figures(store, hours / 24.0)
        rows.append({"leak_alarms": store.count_raised("leak"), "drift_alarms_healthy": drift["drift_alarms_healthy"],
                     "first_leak_alarm_min": float((leaks["raised_at"].min() - start).total_seconds() / 60)
                     if len(leaks) else None, "solved": solved})
        store.close()
    frame = pd.DataFrame(rows)
    return {"startup_runs": runs, "startup_hours": hours, "startup_leak_alarms": int(frame["leak_alarms"].sum()),
            "startup_first_leak_alarm_min": frame["first_leak_alarm_min"].dropna().min()
            if frame["first_leak_alarm_min"].notna().any() else None,
            "startup_drift_alarms_healthy": int(frame["drift_alarms_healthy"].sum()),
            "startup_cycles_solved_share": float(frame["solved"].mean())}


# -- leak scenarios forked from the no-leak days ------------------------------------------------------
def _distances(network) -> callable:
    pipes = network.pipes
    nodes = pd.Index(network.nodes["id"].astype(str))
    a, b = nodes.get_indexer(pipes["from_node"].astype(str)), nodes.get_indexer(pipes["to_node"].astype(str))
    length = pipes["length_m"].to_numpy(dtype=float)
    graph = coo_matrix((np.r_[length, length], (np.r_[a, b], np.r_[b, a])), shape=(len(nodes),) * 2).tocsr()
    index = {pid: k for k, pid in enumerate(pipes["id"].astype(str))}

    def between(p, q) -> float:
        if p == q:
            return 0.0
        i, j = index[p], index[q]
        d = dijkstra(graph, indices=[a[i], b[i]], min_only=True)
        return float(min(d[a[j]], d[b[j]]) + 0.5 * (length[i] + length[j]))
    return between


def _able_to_carry(network, rate_t_h: float) -> np.ndarray:
    """Segments a leak of ``rate_t_h`` can physically come out of: fed from both ends at ≤ 3 m/s."""
    dn_m = network.pipes["dn_mm"].to_numpy(dtype=float) / 1000.0
    carry_t_h = 2.0 * np.pi * dn_m ** 2 / 4.0 * LEAK_FEED_M_PER_S * 3600.0 * 0.96
    return network.pipes["id"].astype(str).to_numpy()[carry_t_h >= rate_t_h]


def _leak_fault(pipe: str, side: str, position: float, rate: float, at: pd.Timestamp):
    from twin.plant.faults import make_fault

    return make_fault({"kind": "leak", "element_id": pipe, "start": at.isoformat(), "rate_t_h": rate,
                       "side": side, "position": position}, at)


def _fork_monitor(monitor):
    """A copy of the loop's trained monitor (its localization is re-bound to the fork's twin)."""
    locate, monitor.locate = monitor.locate, None
    try:
        return copy.deepcopy(monitor)
    finally:
        monitor.locate = locate


class _Fork:
    """The loop's twin and leak monitor, copied at one cycle, following a copy of the plant that leaks."""

    def __init__(self, loop, plant, leak):
        from twin.leaks.detect import suspect_inputs
        from twin.leaks.localize import localize_relinearized
        from twin.sync import LEAK_PRESSURE_SIGMA_BAR

        self.plant = copy.deepcopy(plant)
        self.plant.faults = [*self.plant.faults, leak]
        self.twin, self.last_good = copy.deepcopy(loop.twin), copy.deepcopy(loop.last_good)
        self.network, self.sensor_map = loop.network, loop.sensor_map
        self.monitor = _fork_monitor(loop.leaks)
        self.fired: dict[str, pd.Timestamp] = {}
        self.localize_s: list[float] = []

        def locate(change, rate_t_h, stuck=()):
            started = time.perf_counter()
            location = localize_relinearized(self.twin, self.sensor_map, change, rate_t_h=rate_t_h,
                                             sigma_bar=LEAK_PRESSURE_SIGMA_BAR,
                                             suspects=suspect_inputs(self.network.sensors, stuck))
            self.localize_s.append(time.perf_counter() - started)
            return location
        self.monitor.locate = locate
        self._watch_tests()

    def _watch_tests(self) -> None:
        """Note when each test first fires (the monitor reports only the first of them)."""
        monitor, fired, clock = self.monitor, self.fired, self
        makeup, imbalance = monitor._makeup, monitor._imbalance

        def watched_makeup(at, measured):
            raised, stats = makeup(at, measured)
            if raised is not None:
                fired.setdefault("makeup", at)
            return raised, stats

        def watched_imbalance(*args, **kwargs):
            result = imbalance(*args, **kwargs)
            if result[0]:
                fired.setdefault("imbalance", clock.at)
            return result
        monitor._makeup, monitor._imbalance = watched_makeup, watched_imbalance

    def cycle(self, at: pd.Timestamp, step: pd.Timedelta):
        """One cycle as the loop runs it; the monitor's decision (or None)."""
        from twin.boundary import boundary_from_readings
        from twin.model import TwinDidNotConverge
        from twin.sync import apply_boundary, monitor_inputs

        self.at = at
        means = self.plant.step(at, step.total_seconds()).groupby("sensor_id")["value"].mean()
        apply_boundary(self.twin, boundary_from_readings(self.network, means, at=at, last_good=self.last_good))
        try:
            result = self.twin.solve()
        except TwinDidNotConverge:
            result = None
        return self.monitor.update(at + pd.Timedelta(seconds=1), means,
                                   **monitor_inputs(self.sensor_map, result, means))


def _scenario(loop, plant, at: pd.Timestamp, rng, distance) -> dict | None:
    """A leak from the cycle at ``at`` on, through a fork of the loop: detection, then localization."""
    if loop.leaks is None or loop.leaks.active is not None:
        return None     # detection not on yet, or the monitor busy with an alarm of its own
    circulating = float(plant.last_result.sources["flow_t_h"].sum())
    share = float(rng.uniform(0.01, 0.10))
    rate = share * circulating
    pipe = str(rng.choice(_able_to_carry(plant.network, rate)))
    side, position = str(rng.choice(["supply", "return"])), float(rng.uniform())
    fork = _Fork(loop, plant, _leak_fault(pipe, side, position, rate, at))
    detected, ranks, metres, region = None, [], [], []
    for cycle in range(GIVE_UP_CYCLES + REVISIONS + 1):
        now = at + cycle * STEP
        try:
            decision = fork.cycle(now, STEP)
        except TwinDidNotConverge:
            # The plant itself cannot carry this burst (its own roughness, not the twin's): not a scenario.
            log.info("leak scenario on %s skipped: the plant does not converge with it", pipe)
            return None
        if decision is not None:
            detected = detected or decision
            if decision.location is not None:
                order = decision.location.candidates.drop_duplicates("pipe_id")["pipe_id"].tolist()
                ranks.append(order.index(pipe) + 1)
                metres.append(distance(pipe, str(decision.location.top["pipe_id"])))
                region.append((pipe in decision.location.region, len(decision.location.region)))
            if decision.revision >= REVISIONS:
                break
        if detected is None and cycle + 1 >= GIVE_UP_CYCLES:
            break
    # Minutes counted to the end of the cycle's window the detection came in: the detectors see window means.
    minutes = {test: round(((t - at).total_seconds() + STEP.total_seconds()) / 60.0) for test, t in fork.fired.items()}
    first = min(minutes.values()) if minutes else np.nan
    return {"share": share, "pipe": pipe, "side": side, "minutes": first,
            "makeup_minutes": minutes.get("makeup", np.nan), "imbalance_minutes": minutes.get("imbalance", np.nan),
            "test": None if detected is None else detected.source_id,
            "rate_found_t_h": None if detected is None else detected.rate_t_h, "rate_t_h": rate,
            "rank": ranks[0] if ranks else np.nan, "rank_revised": ranks[-1] if ranks else np.nan,
            "revisions": len(ranks) - 1, "metres": metres[0] if metres else np.nan,
            "metres_revised": metres[-1] if metres else np.nan,
            "in_region": region[0][0] if region else False, "region_size": region[0][1] if region else np.nan,
            "in_region_revised": region[-1][0] if region else False,
            "region_size_revised": region[-1][1] if region else np.nan,
            "localize_s": fork.localize_s[0] if fork.localize_s else np.nan}


def _scenario_figures(frame: pd.DataFrame) -> dict:
    within = DETECT_WITHIN.total_seconds() / 60.0
    big = frame["share"] >= 0.02

    def rate(column, rows=big):
        return float((frame.loc[rows, column] <= within).mean())
    by_size = {f"{lo:.0%}-{hi:.0%}": rate("minutes", (frame["share"] >= lo) & (frame["share"] < hi))
               for lo, hi in SIZE_BANDS}
    located = frame[frame["rank"].notna()]
    ranks, revised = located["rank"].to_numpy(), located["rank_revised"].to_numpy()
    top3_by_size = {f"{lo:.0%}-{hi:.0%}": float((located["rank"][(located["share"] >= lo) & (located["share"] < hi)]
                                                  <= 3).mean()) for lo, hi in SIZE_BANDS}
    return {
        "detection_rate": rate("minutes"), "detection_rate_all_sizes": rate("minutes", frame["share"] > 0),
        "detection_rate_by_size": by_size,
        "detection_rate_by_side": {side: rate("minutes", big & (frame["side"] == side)) for side in ("supply", "return")},
        "median_detect_min": float(frame["minutes"].median()), "p90_detect_min": float(frame["minutes"].quantile(0.9)),
        "makeup_detection_rate": rate("makeup_minutes"), "makeup_median_detect_min": float(frame["makeup_minutes"].median()),
        "imbalance_detection_rate": rate("imbalance_minutes"),
        "imbalance_detection_rate_by_side": {side: rate("imbalance_minutes", big & (frame["side"] == side))
                                             for side in ("supply", "return")},
        "imbalance_median_detect_min": float(frame["imbalance_minutes"].median()),
        "rate_found_over_true_median": float((frame["rate_found_t_h"].astype(float) / frame["rate_t_h"]).median()),
        "located": len(located),
        "top1": float(np.mean(ranks <= 1)), "top3": float(np.mean(ranks <= 3)), "top10": float(np.mean(ranks <= 10)),
        "top3_by_size": top3_by_size, "median_distance_m": float(located["metres"].median()),
        "p90_distance_m": float(located["metres"].quantile(0.9)),
        "top1_revised": float(np.mean(revised <= 1)), "top3_revised": float(np.mean(revised <= 3)),
        "top10_revised": float(np.mean(revised <= 10)),
        "median_distance_m_revised": float(located["metres_revised"].median()),
        "p90_distance_m_revised": float(located["metres_revised"].quantile(0.9)),
        "revised_farther": float((located["metres_revised"] > located["metres"]).mean()),
        "region_hit_rate": float(located["in_region"].mean()),
        "region_size_median": float(located["region_size"].median()),
        "region_hit_rate_revised": float(located["in_region_revised"].mean()),
        "region_size_median_revised": float(located["region_size_revised"].median()),
        "localize_s_demo": float(located["localize_s"].median()),
    }


def _days(city_dir: Path, days: int, scenarios: int, rng, name: str = "heattwin_bench_leaks_days") -> tuple[dict, pd.DataFrame]:
    """No-leak days of the loop on the plant, with the leak scenarios forked from them."""
    now = pd.Timestamp.now(tz="UTC").floor("D")
    start = now - pd.Timedelta(days=days + 1) + pd.Timedelta(hours=6)     # 14:00 local
    end = start + pd.Timedelta(days=days)
    store = _Store(name, city_dir, seed=5, start=start)
    steps = max(int((end - start - pd.Timedelta(days=1) - pd.Timedelta(hours=2)) / STEP), 0)
    forks = sorted(start + pd.Timedelta(days=1) + int(k) * STEP
                   for k in rng.choice(steps, size=min(scenarios, steps), replace=False)) if steps else []
    distance = _distances(store.network)
    rows, skipped = [], 0

    def fork(at, loop):
        nonlocal skipped
        while forks and forks[0] <= at:
            forks.pop(0)
            row = _scenario(loop, store.plant, at, rng, distance)
            if row is None:
                skipped += 1
            else:
                rows.append(row)
                log.info("leak scenario %d: %s", len(rows), {k: row[k] for k in ("share", "side", "minutes", "rank")})
    rules = city_dir.parent / "quiet-rooms.yaml"
    rules.write_text(QUIET_ROOMS, encoding="utf-8")
    loop, solved = _run_loop(store, start, end, STEP, STEP, every=fork, rules=rules)
    leaks = store.alarms("leak")
    by_imbalance = int(leaks["message"].str.startswith("mass imbalance").sum())
    false_alarms = store.count_raised("leak")
    monitor = loop.leaks
    imbalance = getattr(monitor, "imbalance", None) if monitor is not None else None
    figures = {"no_leak_days": days, "false_alarms": false_alarms, "false_alarms_per_day": false_alarms / days,
               "false_alarms_per_day_upper95": upper95_per_day(false_alarms, days),
               "false_alarms_by_imbalance": by_imbalance, "false_alarms_by_makeup": len(leaks) - by_imbalance,
               "first_false_alarm_h": float((leaks["raised_at"].min() - start).total_seconds() / 3600)
               if len(leaks) else None,
               "cycles_solved_share": solved, "scenarios": len(rows), "scenarios_skipped": skipped,
               "plant_steps_failed": store.plant_steps_failed,
               "circulating_t_h": float(store.plant.last_result.sources["flow_t_h"].sum()),
               **_drift_figures(store, days)}
    if monitor is not None:
        test = next(iter(monitor.tests.values()))
        figures.update({"cusum_k_t_h": test.k, "cusum_h_t_h": test.h})
    if imbalance is not None:
        figures.update(_imbalance_state(imbalance))
    store.close()
    return figures, pd.DataFrame(rows)


def _imbalance_state(imbalance) -> dict:
    tests = imbalance if isinstance(imbalance, dict) else {"": imbalance}
    return {f"imbalance_sigma_t_h{'_' + name if name else ''}": float(test.sigma) for name, test in tests.items()}


# -- speed on the city ----------------------------------------------------------------------------
def _city_speed(network, brute_candidates: int) -> dict:
    from twin.leaks.localize import localize, localize_relinearized
    from twin.leaks.sensitivity import LeakSensitivity
    from twin.model import Twin
    from twin.observe import SensorMap

    twin = Twin(network)
    base = twin.solve()
    sensor_map = SensorMap(network.sensors, network.stations)
    started = time.perf_counter()
    sens = LeakSensitivity.from_twin(twin, sensor_map, NOISE_BAR)
    signatures_s = time.perf_counter() - started
    change = pd.Series(np.random.default_rng(1).normal(0, NOISE_BAR, len(sens.sensor_ids)), index=sens.sensor_ids)
    started = time.perf_counter()
    localize(sens, change, pipe_ids=twin.index.pipe_ids, rate_t_h=100.0)
    localize_s = time.perf_counter() - started
    started = time.perf_counter()
    localize_relinearized(twin, sensor_map, change, rate_t_h=100.0, sigma_bar=NOISE_BAR)
    relinearized_s = time.perf_counter() - started
    pipes = network.pipes["id"].astype(str).to_numpy()
    rng = np.random.default_rng(11)
    picked = rng.choice(len(pipes), size=brute_candidates, replace=False)
    sides = rng.choice(["supply", "return"], size=brute_candidates)
    warm = twin.warm_state
    each = []
    for k, side in zip(picked, sides, strict=True):
        # The fairest brute force: every candidate starts from the no-leak solution.
        twin.start_from(warm)
        started = time.perf_counter()
        twin.set_leaks(pd.DataFrame([{"pipe_id": pipes[k], "side": side, "rate_t_h": 100.0, "position": 0.5}]))
        sensor_map.predict(twin.solve())
        each.append(time.perf_counter() - started)
    twin.set_leaks(None)
    each = np.asarray(each)
    per_candidate = float(each.mean())
    candidates = 2 * len(pipes)
    brute_s = per_candidate * candidates
    return {"localize_s_city": localize_s, "signatures_s_city": signatures_s,
            "localize_relinearized_s_city": relinearized_s,
            "bruteforce_candidates_timed": brute_candidates, "bruteforce_per_candidate_s": per_candidate,
            "bruteforce_per_candidate_s_median": float(np.median(each)),
            "bruteforce_per_candidate_s_ci95": float(1.96 * each.std(ddof=1) / np.sqrt(len(each))),
            "bruteforce_s_city_extrapolated": brute_s,
            "speedup_vs_bruteforce": brute_s / localize_s,
            "speedup_incl_signatures": brute_s / (localize_s + signatures_s),
            "speedup_relinearized": brute_s / relinearized_s,
            "city_candidates": candidates, "city_base_p_min_bar": float(base.summary["p_min_bar"])}


def run(args) -> dict:
    logging.getLogger("pandapipes").setLevel(logging.WARNING)
    quick = args.quick
    rng = np.random.default_rng(2026)
    with tempfile.TemporaryDirectory() as tmp:
        network, city_dir = _democity(150, Path(tmp))
        figures = _startups(city_dir, runs=1 if quick else 2, hours=1.5 if quick else 2.0)
        days, scenarios = _days(city_dir, days=2 if quick else DAYS, scenarios=8 if quick else 50, rng=rng)
        figures.update(days)
        if len(scenarios):
            figures.update(_scenario_figures(scenarios))
        city, _ = _democity(600 if quick else 3400, Path(tmp))
        figures.update(_city_speed(city, 5 if quick else BRUTE_CANDIDATES))
    return figures
