"""``heattwin bench leaks``: leak detection and localization scored on the demo city.

Detection: the virtual plant (noise on, background losses) runs two no-leak days at 10-minute
steps, with the twin following its readings. Day one teaches the make-up baseline and calibrates the
CUSUM, and trains the mass-imbalance test; day two is the no-leak window (false alarms per day).
The make-up meter reads background losses plus any leak (the pressure plant tops up all of it), so
each leak scenario adds its rate, from a random time of day two, to the measured make-up (and to the
imbalance: the twin does not know the leak) and replays both detectors: detection rate by size,
time to detect.
Localization, through the whole chain: each scenario (1–10 % of the circulating flow, on a random
segment that can carry it, random side and position, random hour) runs the virtual plant with its
sensor noise, dropouts and stuck meters for an hour, then the leak starts; every cycle the twin is
set from the window's readings as the sync loop sets it. The change the leak made is the onset
cycle's residuals minus the calm hour's, as ``LeakMonitor`` forms it, and ``localize_relinearized``
ranks every segment: top-1/3/10 and the distance along the network from the true segment to the
top candidate, at detection and after the monitor's three revisions (30 minutes on). Speed: localization over every segment of the
3,400-station city, against a brute-force baseline that re-solves the twin once per candidate
(timed on a few candidates in the same run, extrapolated to all).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from scripts.bench_twin import _democity

STEP = pd.Timedelta(minutes=10)
NOISE_BAR = 0.01 / np.sqrt(10)
SIZE_BANDS = ((0.01, 0.02), (0.02, 0.05), (0.05, 0.10))
REFERENCE_CYCLES = 6            # the calm cycles LeakMonitor measures the change from
REVISIONS = 3                   # the cycles after the detection LeakMonitor localizes again on
LEAK_FEED_M_PER_S = 3.0         # the fastest a burst draws water along its pipe from either end
CHAIN_DAY = pd.Timestamp("2026-12-12", tz="UTC")


class _FollowingTwin:
    """The twin set from each window's readings as the sync loop sets it."""

    def __init__(self, network):
        from twin.boundary import LastGood
        from twin.model import Twin
        from twin.observe import SensorMap

        self.network, self.twin = network, Twin(network)
        self.sensor_map, self.last_good = SensorMap(network.sensors, network.stations), LastGood()

    def follow(self, at, means: pd.Series) -> pd.Series | None:
        """Measured minus modelled per sensor; None when the twin does not solve (the loop skips it)."""
        from twin.boundary import boundary_from_readings
        from twin.leaks.detect import leak_residuals
        from twin.model import TwinDidNotConverge
        from twin.sync import apply_boundary

        apply_boundary(self.twin, boundary_from_readings(self.network, means, at=at, last_good=self.last_good))
        try:
            return leak_residuals(self.sensor_map.residuals(self.twin.solve(), means))
        except TwinDidNotConverge:
            return None


def _plant_days(network, households, days: int, seed: int):
    """No-leak days of the plant with the twin following its readings: the make-up readings, the mass
    imbalance per cycle (measured source flows and make-up against the twin's) and the median
    circulating flow."""
    from twin.leaks.detect import source_flow_sensors
    from twin.plant.runner import VirtualPlant
    from twin.plant.weather import SyntheticWeather

    start = pd.Timestamp("2026-12-10 16:00", tz="UTC")
    plant = VirtualPlant(network, households, SyntheticWeather(start.floor("D"), seed=seed), noise=True, seed=seed)
    twin = _FollowingTwin(network)
    sensors = network.sensors
    makeup = sensors.loc[sensors["kind"] == "makeup_flow"].set_index("id")["element_id"].astype(str)
    on_sources = source_flow_sensors(network)
    rows, flows, imbalance = [], [], []
    at = start
    while at < start + pd.Timedelta(days=days):
        readings = plant.step(at, STEP.total_seconds())
        picked = readings[readings["sensor_id"].isin(makeup.index)]
        rows.append(picked.assign(source_id=picked["sensor_id"].map(makeup)))
        flows.append(plant.last_result.sources["flow_t_h"].sum())
        residual = twin.follow(at, readings.groupby("sensor_id")["value"].mean())
        value = np.nan if residual is None else float(residual.reindex(on_sources).sum(min_count=1))
        imbalance.append({"time": at, "value": value})
        at += STEP
    return pd.concat(rows, ignore_index=True), pd.DataFrame(imbalance), float(np.median(flows))


def _detector(history: pd.DataFrame, circulating_t_h: float):
    from twin.leaks.detect import Cusum, MakeupBaseline
    from twin.sync import MIN_LEAK_SHARE

    baseline = MakeupBaseline.learn(history)
    excess = [baseline.excess(r.source_id, r.time, r.value)[0] for r in history.itertuples(index=False)]
    smallest = MIN_LEAK_SHARE * circulating_t_h
    return baseline, Cusum.calibrate(excess, k=0.5 * smallest, floor=0.5 * smallest, samples_per_day=144)


def _replay(baseline, cusum, series: pd.DataFrame, leak_from=None, rate=0.0):
    """Alarm times of the detector over ``series`` (time, source_id, value) with a leak added."""
    from twin.leaks.detect import Cusum

    test = Cusum(cusum.k, cusum.h)
    alarms = []
    for row in series.itertuples(index=False):
        value = row.value + (rate if leak_from is not None and row.time >= leak_from else 0.0)
        if test.update(baseline.excess(row.source_id, row.time, value)[0]):
            alarms.append(row.time)
            test.reset()
    return alarms


def _imbalance_alarms(trained, series: pd.DataFrame, leak_from=None, rate=0.0) -> list:
    """Alarm times of a copy of the trained imbalance test over ``series`` with a leak added; it goes
    on learning as it does in the sync loop."""
    import copy

    test = copy.deepcopy(trained)
    alarms = []
    for row in series.itertuples(index=False):
        value = row.value + (rate if leak_from is not None and row.time >= leak_from else 0.0)
        if test.update(value, learn=True)[0]:
            alarms.append(row.time)
    return alarms


def _first_minutes(alarms, start) -> float:
    after = [a for a in alarms if a >= start]
    # Counted to the end of the 10-minute step the alarm came in: the detector sees step means.
    return ((after[0] - start) + STEP).total_seconds() / 60 if after else np.nan


def _detection(network, households, k: int, rng) -> dict:
    from twin.leaks.detect import ImbalanceTest

    history, imbalance, circulating = _plant_days(network, households, 2, seed=5)
    day = history["time"].min() + pd.Timedelta(days=1)
    first, second = history[history["time"] < day], history[history["time"] >= day]
    pressure_plant = str(network.sources.loc[network.sources["role"] == "pressure", "id"].iloc[0])
    first, second = first[first["source_id"] == pressure_plant], second[second["source_id"] == pressure_plant]
    baseline, cusum = _detector(first, circulating)
    false_alarms = len(_replay(baseline, cusum, second))
    trained = ImbalanceTest(samples_per_day=86400.0 / STEP.total_seconds())
    for value in imbalance.loc[imbalance["time"] < day, "value"]:
        trained.update(value, learn=True)
    imbalance_day = imbalance[imbalance["time"] >= day]
    imbalance_false = len(_imbalance_alarms(trained, imbalance_day))
    rows = []
    for _ in range(k):
        share = float(rng.uniform(0.01, 0.10))
        start = second["time"].iloc[int(rng.integers(0, len(second) - 12))]
        minutes = _first_minutes(_replay(baseline, cusum, second, start, share * circulating), start)
        by_imbalance = _first_minutes(_imbalance_alarms(trained, imbalance_day, start, share * circulating), start)
        rows.append({"share": share, "minutes": minutes, "imbalance_minutes": by_imbalance})
    frame = pd.DataFrame(rows)
    detected = frame["minutes"].notna() & (frame["minutes"] <= 30)
    by_imbalance = frame["imbalance_minutes"].notna() & (frame["imbalance_minutes"] <= 30)
    by_size = {f"{lo:.0%}-{hi:.0%}": float(detected[(frame["share"] >= lo) & (frame["share"] < hi)].mean())
               for lo, hi in SIZE_BANDS}
    big = frame["share"] >= 0.02
    return {"detection_rate": float(detected[big].mean()), "detection_rate_by_size": by_size,
            "median_detect_min": float(frame["minutes"].median()),
            "p90_detect_min": float(frame["minutes"].quantile(0.9)),
            "false_alarms_per_day": float(false_alarms), "cusum_k_t_h": cusum.k, "cusum_h_t_h": cusum.h,
            "imbalance_detection_rate": float(by_imbalance[big].mean()),
            "imbalance_median_detect_min": float(frame["imbalance_minutes"].median()),
            "imbalance_false_alarms_per_day": float(imbalance_false),
            "imbalance_sigma_t_h": trained.sigma, "circulating_t_h": circulating}


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


def _chain_ranks(network, households, leak, start, seed: int, locate) -> tuple[list[int], float]:
    """Plant → window means → sync boundary → twin: an hour without the leak, then the cycle it starts
    in and ``REVISIONS`` more. At each leak cycle the change is formed as ``LeakMonitor`` forms it (mean
    since the onset minus the calm hour, stuck sensors left out) and ``locate`` ranks the segments.
    Returns the true segment's rank at detection and at each revision, and the first localization's s."""
    from twin.leaks.detect import flat_sensors
    from twin.plant.runner import VirtualPlant
    from twin.plant.weather import SyntheticWeather

    plant = VirtualPlant(network, households, SyntheticWeather(start.floor("D"), seed=seed), faults=[leak],
                         noise=True, seed=seed)
    following = _FollowingTwin(network)
    calm, since, measured, ranks, seconds = [], [], [], [], np.nan
    for cycle in range(REFERENCE_CYCLES + 1 + REVISIONS):
        at = start + cycle * STEP
        means = plant.step(at, STEP.total_seconds()).groupby("sensor_id")["value"].mean()
        measured.append(means)
        residual = following.follow(at, means)
        if residual is None:
            continue    # as in the sync loop: a failed cycle has no residuals; the monitor waits for the next
        (calm if cycle < REFERENCE_CYCLES else since).append(residual)
        if cycle < REFERENCE_CYCLES or not calm:
            continue
        change = pd.concat(since, axis=1).mean(axis=1) - pd.concat(calm, axis=1).mean(axis=1)
        stuck = flat_sensors(pd.concat(measured, axis=1))
        started = time.perf_counter()
        order = locate(following.twin, following.sensor_map, change.drop(index=stuck, errors="ignore").dropna(), stuck)
        seconds = time.perf_counter() - started if np.isnan(seconds) else seconds
        ranks.append(order.index(leak.element_id) + 1)
    return ranks, seconds


def _localization(network, households, k: int, rng, circulating: float) -> dict:
    """Each scenario through the whole chain: the plant leaks, the twin sees its readings."""
    from twin.leaks.detect import suspect_inputs
    from twin.leaks.localize import localize_relinearized
    from twin.sync import LEAK_PRESSURE_SIGMA_BAR

    distance = _distances(network)
    rows, unsolved = [], 0
    for case in range(k):
        share = float(rng.uniform(0.01, 0.10))
        rate = share * circulating
        pipe = str(rng.choice(_able_to_carry(network, rate)))
        side, position = str(rng.choice(["supply", "return"])), float(rng.uniform())
        start = CHAIN_DAY + pd.Timedelta(hours=int(rng.integers(0, 24)))
        leak = _leak_fault(pipe, side, position, rate, start + REFERENCE_CYCLES * STEP)
        found = []

        def locate(twin, sensor_map, change, stuck, rate=rate, found=found):
            location = localize_relinearized(twin, sensor_map, change, rate_t_h=rate,
                                             sigma_bar=LEAK_PRESSURE_SIGMA_BAR,
                                             suspects=suspect_inputs(network.sensors, stuck))
            found.append(location)
            return location.candidates.drop_duplicates("pipe_id")["pipe_id"].tolist()

        ranks, seconds = _chain_ranks(network, households, leak, start, 100 + case, locate)
        if not found:
            unsolved += 1
            continue
        first, last = found[0], found[-1]
        rows.append({"share": share, "rank": ranks[0], "rank_revised": ranks[-1], "seconds": seconds,
                     "metres": distance(pipe, str(first.top["pipe_id"])),
                     "metres_revised": distance(pipe, str(last.top["pipe_id"])),
                     "in_region": pipe in first.region, "region_size": len(first.region),
                     "in_region_revised": pipe in last.region, "region_size_revised": len(last.region)})
    frame = pd.DataFrame(rows)
    ranks, revised = frame["rank"].to_numpy(), frame["rank_revised"].to_numpy()
    by_size = {f"{lo:.0%}-{hi:.0%}": float((frame["rank"][(frame["share"] >= lo) & (frame["share"] < hi)] <= 3).mean())
               for lo, hi in SIZE_BANDS}
    return {"top1": float(np.mean(ranks <= 1)), "top3": float(np.mean(ranks <= 3)),
            "top10": float(np.mean(ranks <= 10)), "top3_by_size": by_size,
            "median_distance_m": float(frame["metres"].median()),
            "top1_revised": float(np.mean(revised <= 1)), "top3_revised": float(np.mean(revised <= 3)),
            "top10_revised": float(np.mean(revised <= 10)),
            "median_distance_m_revised": float(frame["metres_revised"].median()),
            "region_hit_rate": float(frame["in_region"].mean()), "region_size_median": float(frame["region_size"].median()),
            "region_hit_rate_revised": float(frame["in_region_revised"].mean()),
            "region_size_median_revised": float(frame["region_size_revised"].median()),
            "localize_s_demo": float(frame["seconds"].median()), "scenarios_never_solved": unsolved}


def _leak_fault(pipe: str, side: str, position: float, rate: float, at: pd.Timestamp):
    from twin.plant.faults import make_fault

    return make_fault({"kind": "leak", "element_id": pipe, "start": at.isoformat(), "rate_t_h": rate,
                       "side": side, "position": position}, at)


def _city_speed(network, brute_candidates: int = 3) -> dict:
    from twin.leaks.localize import localize
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
    pipes = network.pipes["id"].astype(str).to_numpy()
    started = time.perf_counter()
    for pipe in pipes[:brute_candidates]:
        twin.set_leaks(pd.DataFrame([{"pipe_id": pipe, "side": "supply", "rate_t_h": 100.0, "position": 0.5}]))
        sensor_map.predict(twin.solve())
    per_candidate = (time.perf_counter() - started) / brute_candidates
    candidates = 2 * len(pipes)
    return {"localize_s_city": localize_s, "signatures_s_city": signatures_s,
            "bruteforce_per_candidate_s": per_candidate, "bruteforce_s_city_extrapolated": per_candidate * candidates,
            "speedup_vs_bruteforce": per_candidate * candidates / localize_s,
            "speedup_incl_signatures": per_candidate * candidates / (localize_s + signatures_s),
            "city_candidates": candidates, "city_base_p_min_bar": float(base.summary["p_min_bar"])}


def run(args) -> dict:
    k = 12 if args.quick else 50
    rng = np.random.default_rng(2026)
    with tempfile.TemporaryDirectory() as tmp:
        network, city_dir = _democity(150, Path(tmp))
        households = pd.read_csv(city_dir / "records" / "household.csv", dtype={"sensor_id": str})
        detection = _detection(network, households, k, rng)
        figures = {"scenarios": k, **detection,
                   **_localization(network, households, k, rng, detection["circulating_t_h"])}
        city, _ = _democity(600 if args.quick else 3400, Path(tmp))
        figures.update(_city_speed(city))
    return figures
