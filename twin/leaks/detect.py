"""Is there a leak: make-up water above what this hour of the day usually needs, tested with CUSUM.

The make-up point is the one meter that sees every leak: the pressure plant tops up whatever the
network loses. Normal losses follow the day (seepage, households drawing heating water in the
evening), so the baseline is learned per source and local hour (median). A one-sided CUSUM on the
excess over it (t/h) accumulates ``excess − k`` and raises when the sum passes ``h``: ``k`` is half
the smallest leak worth catching (a share of the circulating flow), so the slow wander of normal
losses does not add up; ``h`` trades detection time against false alarms and is set from a no-leak
window so that the window itself would have raised at most the target number of alarms.
``ImbalanceTest`` is the second test, on the measured source flows against the twin's.
``LeakMonitor`` runs them per cycle and, on detection, localizes against the residuals of the last
no-leak cycles (the reference the change is measured from).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from heattwin.clock import local_hours
from heattwin.settings import load_settings

MAD_TO_SIGMA = 1.4826
MIN_SIGMA_T_H = 0.5


def local_hour(times, timezone: str | None = None) -> np.ndarray:
    """Whole hour of the day where the network is: the losses follow the households' day, so the
    baseline is kept by local hour (daylight saving included)."""
    return np.floor(local_hours(times, timezone)).astype(int)


@dataclass
class MakeupBaseline:
    """Per source and local hour (in ``timezone``): the usual make-up flow (t/h) and its spread."""
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["source_id", "hour", "median",
                                                                             "sigma"]))
    timezone: str = field(default_factory=lambda: load_settings().timezone)

    @classmethod
    def learn(cls, history: pd.DataFrame, timezone: str | None = None) -> MakeupBaseline:
        """``history``: time, source_id, value (t/h) of no-leak days; hours counted in ``timezone``
        (default ``HEATTWIN_TIMEZONE``)."""
        timezone = timezone or load_settings().timezone
        frame = history.assign(hour=local_hour(history["time"], timezone))
        grouped = frame.groupby(["source_id", "hour"])["value"]
        median = grouped.median()
        mad = grouped.apply(lambda v: float(np.median(np.abs(v - np.median(v)))))
        table = pd.DataFrame({"median": median, "sigma": np.maximum(MAD_TO_SIGMA * mad, MIN_SIGMA_T_H)})
        # An hour seen a few times says little about its spread: never below the source's overall spread.
        overall = (frame["value"] - frame.groupby(["source_id", "hour"])["value"].transform("median")).abs()
        spread = MAD_TO_SIGMA * overall.groupby(frame["source_id"]).median()
        table["sigma"] = np.maximum(table["sigma"], spread.reindex(table.index.get_level_values(0)).to_numpy())
        return cls(table.reset_index(), timezone)

    def expected(self, source_id: str, at) -> tuple[float, float]:
        rows = self.table[self.table["source_id"] == source_id]
        if rows.empty:
            return 0.0, MIN_SIGMA_T_H
        hour = int(local_hour([at], self.timezone)[0])
        row = rows.iloc[int(np.argmin(np.abs(rows["hour"].to_numpy() - hour)))]
        return float(row["median"]), float(row["sigma"])

    def excess(self, source_id: str, at, value: float) -> tuple[float, float]:
        """(excess t/h, standardized z)."""
        median, sigma = self.expected(source_id, at)
        return value - median, (value - median) / sigma


@dataclass
class Cusum:
    k: float = 0.5
    h: float = 8.0
    total: float = 0.0

    def update(self, z: float) -> bool:
        if np.isfinite(z):
            self.total = max(0.0, self.total + z - self.k)
        return self.total > self.h

    def reset(self) -> None:
        self.total = 0.0

    @classmethod
    def calibrate(cls, no_leak, *, k: float, floor: float, samples_per_day: float = 288.0,
                  false_alarms_per_day: float = 1.0 / 7.0) -> Cusum:
        """The smallest ``h`` (≥ ``floor``) with which the no-leak series raises at most the target rate.

        The series is replayed (restarting after each alarm) for candidate thresholds, in steps of a
        tenth of ``floor``; a margin of 1.25 on the chosen one keeps it off the edge of this one window."""
        values = np.asarray(no_leak, dtype=float)
        days = max(len(values) / samples_per_day, 1e-9)
        allowed = int(np.floor(false_alarms_per_day * days))
        for h in floor * np.arange(1.0, 40.0, 0.1):
            if _alarms(values, k, h) <= allowed:
                return cls(k=k, h=float(h) * 1.25)
        return cls(k=k, h=float(floor) * 50.0)


def autocorrelation_inflation(values: np.ndarray, *, most: float = 3.0) -> float:
    """sqrt((1 + ρ) / (1 − ρ)) for the lag-1 autocorrelation ρ of ``values`` (clipped at 0 and at
    ``most``): how much wider a sum of such samples spreads than a sum of independent ones (AR(1))."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < 10 or np.std(values) == 0.0:
        return 1.0
    centred = values - values.mean()
    rho = float(np.dot(centred[:-1], centred[1:]) / np.dot(centred, centred))
    rho = min(max(rho, 0.0), 0.999)
    return float(min(np.sqrt((1.0 + rho) / (1.0 - rho)), most))


def siegmund_threshold(k: float, run_length: float) -> float:
    """The CUSUM threshold ``h`` whose mean run length without a shift is ``run_length`` samples for
    standard normal increments (Siegmund's approximation, solved by bisection): a floor under the
    empirical calibration, which on one day of history cannot see a once-a-fortnight excursion."""
    def arl(h: float) -> float:
        b = h + 1.166
        return (np.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k)
    low, high = 0.0, 100.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if arl(mid) < run_length else (low, mid)
    return high


def _alarms(z: np.ndarray, k: float, h: float) -> int:
    total, count = 0.0, 0
    for value in z[np.isfinite(z)]:
        total = max(0.0, total + value - k)
        if total > h:
            count, total = count + 1, 0.0
    return count


class ImbalanceTest:
    """One mass balance of the network (see ``mass_balances``) per sample, tested with a CUSUM in
    standard units: water that leaves the pipes between the meters.

    It is the make-up meter's cross-check: a make-up reading that grows while the balances stay flat
    points at the meter or a deliberate fill, and a dead make-up meter does not blind the return side.
    The baseline (median) and spread (MAD) are learned from the samples' own no-leak history, lagged by
    ``lag`` samples so that a leak not yet detected does not teach itself as normal; the threshold is
    calibrated on that history. The test arms once the history holds ``min_samples`` (default: a day,
    so that the spread it learns has seen the day's swing and the threshold has been tried on it) and
    keeps ``keep`` (default: a week). ``samples_per_day`` is the rate it is fed at, which the
    calibration's false-alarm target is counted in: feed it independent samples (one per telemetry
    window), not every cycle of a window that overlaps the last.
    """

    def __init__(self, *, samples_per_day: float, k: float = 1.0, floor: float = 4.0, min_samples: int | None = None,
                 lag: int = 6, keep: int | None = None, false_alarms_per_day: float = 0.5 / 7.0):
        self.samples_per_day, self.k, self.floor = samples_per_day, k, floor
        self.min_samples = int(round(samples_per_day)) if min_samples is None else min_samples
        self.lag = lag
        self.keep = int(round(7 * samples_per_day)) if keep is None else keep
        self.false_alarms_per_day = false_alarms_per_day
        self.history: list[float] = []
        self.pending: list[float] = []
        self.cusum: Cusum | None = None
        self.median, self.sigma = 0.0, 1.0
        self._learned_at = 0

    def excess(self, value: float) -> float:
        """``value`` above the learned level, t/h; NaN before the test is armed or without a value."""
        return float(value) - self.median if self.cusum is not None and np.isfinite(value) else np.nan

    def update(self, value: float, *, learn: bool, shift: float = 0.0) -> tuple[bool, dict]:
        """Test one sample of the balance. ``shift`` (t/h, ≤ 0) is taken off what the sample says left the
        pipes without entering the level the test learns: the other side's fall below its own level."""
        fired, z = False, np.nan
        tested = value + shift
        if np.isfinite(value):
            z = (tested - self.median) / self.sigma
            if self.cusum is not None:
                fired = self.cusum.update(z)
                if fired:
                    self.cusum.reset()
            self.pending.append((float(value), float(shift)))
        if learn:
            self._learn()
        else:
            self.pending.clear()    # after a detection the recent cycles are not normal
        stats = {"imbalance_t_h": _rounded(value, 1), "excess_t_h": _rounded(tested - self.median, 2),
                 "other_side_t_h": _rounded(shift, 2),
                 "z": _rounded(z, 2), "cusum": None if self.cusum is None else round(self.cusum.total, 2),
                 "threshold": None if self.cusum is None else round(self.cusum.h, 2)}
        return fired, stats

    def _learn(self) -> None:
        while len(self.pending) > self.lag:
            self.history.append(self.pending.pop(0))
        self.history = self.history[-self.keep:]
        grown = len(self.history) - self._learned_at
        if len(self.history) < self.min_samples or (self.cusum is not None and grown < 36):
            return
        values, shifts = np.asarray(self.history).T
        # A station meter that drifts (a few t/h a day) moves both balances for good: the level is the
        # last day's median, not the week's (which lags a drift by half a week), and the spread and the
        # threshold are learned on the samples less their own trailing day's level.
        day = max(int(round(self.samples_per_day)), 1)
        trailing = pd.Series(values).rolling(day, min_periods=1).median().to_numpy()
        values = values - trailing + shifts
        self.median = float(trailing[-1])
        self.sigma = max(MAD_TO_SIGMA * float(np.median(np.abs(values))), MIN_SIGMA_T_H)
        # The twin's mismatch wanders slowly, so successive samples are not independent and a CUSUM
        # sums them as if they were: a day's own replay then under-sets the threshold (one false alarm
        # in three days at full size). Widening the spread to that of a sum of correlated samples puts
        # the test back on the scale its threshold is calibrated in.
        self.sigma *= autocorrelation_inflation(values)
        total = self.cusum.total if self.cusum is not None else 0.0
        floor = max(self.floor, siegmund_threshold(self.k, self.samples_per_day / self.false_alarms_per_day))
        self.cusum = Cusum.calibrate(values / self.sigma, k=self.k, floor=floor,
                                     samples_per_day=self.samples_per_day,
                                     false_alarms_per_day=self.false_alarms_per_day)
        self.cusum.total = total
        self._learned_at = len(self.history)


@dataclass
class LeakDecision:
    detected_at: pd.Timestamp
    source_id: str
    rate_t_h: float
    statistic: dict
    location: object | None = None
    revision: int = 0           # 0: the detection; n: localized again on n more cycles of the leak

    def alarm_details(self) -> dict:
        out = {"source_id": self.source_id, "rate_t_h": round(self.rate_t_h, 2),
               "detected_at": self.detected_at.isoformat(), "statistic": self.statistic,
               "revision": self.revision}
        if self.location is not None:
            out.update(self.location.to_dict())
        return out


class LeakMonitor:
    """Per sample: make-up excess and mass balances → CUSUMs → on detection, localization.

    Parameters
    ----------
    baseline : the learned ``MakeupBaseline``.
    cusum : the calibrated make-up test (a fresh copy is kept per source).
    makeup_sensors : {source id: make-up flow sensor id}.
    locate : ``locate(change: pd.Series, rate_t_h, stuck: list[str]) -> LeakLocation`` or None (detect only).
    reference_cycles : how many no-leak samples the residual reference averages.
    imbalance : an ``ImbalanceTest``, copied for each of the two balances (supply and return side), with
        ``meters`` (``balance_meters``) the flow meters they sum; or None (the make-up test alone).
    sample_s : the monitor takes one sample per this many seconds (the telemetry window) and lets the
        cycles in between pass: a loop that cycles faster than its window reads means that overlap the
        last ones, and the tests are calibrated on independent samples. None: every cycle is a sample.

    On detection the change the leak made is the mean residual of the samples since the CUSUMs last
    stood at zero (the leak's onset, as a CUSUM estimates it) minus the mean of the calm samples before.
    For ``revise_cycles`` samples after it the leak is localized again on the longer mean (the sensors'
    noise averages out; the decision comes back with ``revision`` counting up).
    """

    ONSET_LOOKBACK = 12

    def __init__(self, baseline: MakeupBaseline, cusum: Cusum, makeup_sensors: dict, *, locate=None,
                 reference_cycles: int = 6, imbalance: ImbalanceTest | None = None, meters: BalanceMeters | None = None,
                 revise_cycles: int = 3, sample_s: float | None = None):
        self.baseline = baseline
        self.tests = {src: Cusum(cusum.k, cusum.h) for src in makeup_sensors}
        self.makeup_sensors = makeup_sensors
        self.locate = locate
        self.reference_cycles = reference_cycles
        self.meters = meters
        self.imbalance = {} if imbalance is None or meters is None else \
            {side: copy.deepcopy(imbalance) for side in BALANCE_SIDES}
        # (residuals, measured, {test: its CUSUM stood at zero}) per sample: "makeup", "supply", "return"
        self.recent: list[tuple[pd.Series | None, pd.Series, dict]] = []
        self.revise_cycles = revise_cycles
        self.sample_s = sample_s
        self.sampled_at: pd.Timestamp | None = None
        self.active: LeakDecision | None = None
        self.quiet_cycles = 0
        self._episode: dict | None = None    # what the detection measured from, for the revisions

    def retune(self, baseline: MakeupBaseline, cusum: Cusum) -> None:
        """A newly learned baseline and threshold; the running sums and the recent cycles are kept."""
        self.baseline = baseline
        for test in self.tests.values():
            test.k, test.h = cusum.k, cusum.h

    def due(self, at) -> bool:
        """Whether the cycle at ``at`` is a sample (a window after the last one; a second's slack)."""
        return self.sample_s is None or self.sampled_at is None or \
            (pd.Timestamp(at) - self.sampled_at).total_seconds() >= self.sample_s - 1.0

    def update(self, at, measured: pd.Series, residuals: pd.Series | None = None,
               station_flows_t_h: pd.Series | None = None) -> LeakDecision | None:
        """A decision when a leak is first detected and at each of its revisions (same ``detected_at``);
        None otherwise (see ``active``), and for the cycles between samples. ``residuals`` (measured minus
        modelled per sensor) and ``station_flows_t_h`` (the twin's flow per station) are None for a cycle
        the twin did not solve."""
        at = pd.Timestamp(at)
        if not self.due(at):
            return None
        self.sampled_at = at
        raised, stats = self._makeup(at, measured)
        side, stats["imbalance"] = self._imbalance(measured, station_flows_t_h)
        if raised is None and side is not None:
            raised = ("imbalance", stats["imbalance"][side]["excess_t_h"])
            stats["imbalance"]["side"] = side
        calm = {"makeup": raised is None and all(t.total == 0.0 for t in self.tests.values()),
                **{side: raised is None and (t.cusum is None or t.cusum.total == 0.0) for side, t in self.imbalance.items()}}
        self.recent = (self.recent + [(residuals, measured, calm)])[-(self.reference_cycles + self.ONSET_LOOKBACK):]
        if self.active is not None:
            if raised is not None:
                self.quiet_cycles = 0
            revised = self._revise(residuals, stats)
            if raised is None:
                self._maybe_clear(stats)
            return revised
        if raised is None:
            return None
        src, excess = raised
        location, self._episode = None, None
        if self.locate is not None:
            self._episode = self._start_episode(src, excess, side if src == "imbalance" else None)
        if self._episode is not None and self._episode["after"]:
            location = self._localize(self._episode)
        self.active = LeakDecision(at, src, float(excess), stats, location)
        return self.active

    def _makeup(self, at, measured: pd.Series):
        raised, stats = None, {}
        for src, sensor in self.makeup_sensors.items():
            value = measured.get(sensor, np.nan)
            excess, z = self.baseline.excess(src, at, float(value)) if np.isfinite(value) else (np.nan, np.nan)
            fired = self.tests[src].update(excess)
            stats[src] = {"excess_t_h": _rounded(excess, 2), "z": _rounded(z, 2),
                          "cusum": round(self.tests[src].total, 2), "threshold": self.tests[src].h}
            if fired:
                self.tests[src].reset()  # restart: a leak that goes on fires again within a few cycles
            if fired and raised is None:
                raised = (src, excess)
        return raised, stats

    def _cusums(self) -> list[Cusum]:
        return [*self.tests.values(), *(t.cusum for t in self.imbalance.values() if t.cusum is not None)]

    def _imbalance(self, measured: pd.Series, station_flows_t_h: pd.Series | None) -> tuple[str | None, dict | None]:
        """The side whose balance test fired (or None) and both tests' statistics."""
        if not self.imbalance or station_flows_t_h is None:
            return None, None
        recent = [m for _, m, _ in self.recent[-2:]] + [measured]
        flat = set(flat_sensors(pd.concat(recent, axis=1))) if len(recent) >= 3 else set()
        balances = mass_balances(measured, station_flows_t_h, self.meters, flat=flat)
        excess = {side: test.excess(balances[side]) for side, test in self.imbalance.items()}
        fired, stats = None, {}
        for side, test in self.imbalance.items():
            side_fired, stats[side] = test.update(balances[side], learn=self.active is None,
                                                  shift=other_side_shift(excess, side))
            fired = fired or (side if side_fired else None)
        return fired, stats

    def _start_episode(self, source_id: str, excess: float, side: str | None) -> dict | None:
        """The calm samples before the onset (the last zero of the CUSUM that fired: another test's
        wander says nothing about when this leak began) and the samples since, as measured; samples
        the twin did not solve have no residuals and are skipped."""
        test = side if source_id == "imbalance" else "makeup"
        calm = [k for k, (_, _, c) in enumerate(self.recent[:-1]) if c.get(test, False)]
        if not calm:
            return None
        onset = calm[-1] + 1
        before = [k for k in calm if self.recent[k][0] is not None][-self.reference_cycles:]
        if not before:
            return None
        after = [k for k in range(onset, len(self.recent)) if self.recent[k][0] is not None]
        measured = pd.concat([self.recent[k][1] for k in [*before, *after]], axis=1)
        return {"source_id": source_id, "side": side, "before": _mean([self.recent[k][0] for k in before]),
                "after": [self.recent[k][0] for k in after], "excess": [excess],
                "stuck": flat_sensors(measured), "revisions": 0}

    def _localize(self, episode: dict):
        change = _mean(episode["after"]) - episode["before"]
        rate = max(float(np.mean(episode["excess"])), 0.0)
        return self.locate(change.drop(index=episode["stuck"], errors="ignore").dropna(), rate, episode["stuck"])

    def _revise(self, residuals, stats: dict) -> LeakDecision | None:
        episode = self._episode
        if episode is None or residuals is None or episode["revisions"] >= self.revise_cycles:
            return None
        first = not episode["after"]    # detected in a cycle the twin did not solve: this is the first look
        episode["after"].append(residuals)
        excess = _episode_excess(stats, episode)
        if excess is not None:
            episode["excess"].append(excess)
        episode["revisions"] += 0 if first else 1
        self.active = LeakDecision(self.active.detected_at, self.active.source_id, float(np.mean(episode["excess"])),
                                   stats, self._localize(episode), revision=episode["revisions"])
        return self.active

    def _maybe_clear(self, stats: dict) -> None:
        """After a detection, the leak is over once every CUSUM is back near zero for a few samples."""
        if self.active is None:
            return
        calm = all(c.total < 0.1 * c.h for c in self._cusums())
        self.quiet_cycles = self.quiet_cycles + 1 if calm else 0
        if self.quiet_cycles >= 3:
            self.active, self.quiet_cycles, self._episode = None, 0, None


def _episode_excess(stats: dict, episode: dict) -> float | None:
    """This sample's excess as the test that detected the episode measures it."""
    if episode["source_id"] == "imbalance":
        return ((stats.get("imbalance") or {}).get(episode["side"]) or {}).get("excess_t_h")
    return (stats.get(episode["source_id"]) or {}).get("excess_t_h")


def _rounded(value: float, digits: int) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None


def _mean(frames: list[pd.Series]) -> pd.Series:
    return pd.concat(frames, axis=1).mean(axis=1)


def flat_sensors(history: pd.DataFrame) -> list[str]:
    """Sensors that sent the very same value every time they sent one (at least three times): stuck,
    so their "no change" says nothing about the leak."""
    if history.shape[1] < 3:
        return []
    flat = (history.max(axis=1) - history.min(axis=1) == 0.0) & (history.notna().sum(axis=1) >= 3)
    return history.index[flat].tolist()


def suspect_inputs(sensors: pd.DataFrame, stuck) -> list[str]:
    """Stations and plants whose flow the twin takes from a flat-lined meter (heat, flow, temperature)."""
    flat = sensors[sensors["id"].astype(str).isin(list(stuck))
                   & sensors["kind"].isin(["heat", "flow", "t_supply", "t_return"])]
    return flat["element_id"].astype(str).unique().tolist()


BALANCE_SIDES = ("supply", "return")


def other_side_shift(excess: dict[str, float], side: str) -> float:
    """What ``side``'s balance is to be lowered by (t/h, ≤ 0): the other side's fall below its level.

    The two balances add up to the make-up (``mass_balances``): a leak raises one side and the make-up
    with it, while the other side stays. A side that rises as much as the other falls is water counted
    on the wrong side of the meters (the stations' meters against the pumps'), not water lost: the make-up
    did not move. Without the other side (the make-up meter dead: no supply balance) nothing is taken off."""
    other = [value for name, value in excess.items() if name != side]
    return min(other[0], 0.0) if len(other) == 1 and np.isfinite(other[0]) else 0.0


@dataclass(frozen=True)
class BalanceMeters:
    """The flow meters the mass balances sum: the sources' circulation pumps (return → supply) and
    make-up points, and each station's primary flow meter (station id → sensor id)."""
    pumps: tuple[str, ...]
    makeup: tuple[str, ...]
    stations: dict


def balance_meters(network) -> BalanceMeters:
    sensors = network.sensors
    ids, kind = sensors["id"].astype(str), sensors["kind"].astype(str)
    element = sensors["element_id"].astype(str)
    on_source = element.isin(network.sources["id"].astype(str))
    on_station = element.isin(network.stations["id"].astype(str)) & (kind == "flow")
    stations = dict(zip(element[on_station], ids[on_station], strict=True))
    return BalanceMeters(tuple(ids[on_source & (kind == "flow")]), tuple(ids[on_source & (kind == "makeup_flow")]),
                         stations)


def mass_balances(measured: pd.Series, station_flows_t_h: pd.Series, meters: BalanceMeters, *,
                  flat=()) -> dict[str, float]:
    """The network's two mass balances from its flow meters, t/h: what leaves the pipes unmetered.

    The sources' pumps lift what comes back on the return side, the make-up point tops up the supply
    side, the stations take from supply and give back to return. With ``L_s`` and ``L_r`` the water
    lost on either side (a leak, seepage)::

        supply = Σ pumps + Σ make-up − Σ stations = L_s
        return = Σ stations − Σ pumps            = L_r

    A leak shows at full size in the balance of its side; both balances together are the make-up (so
    they add what the make-up meter cannot: which side, and a return-side leak with the make-up meter
    dead). A station's flow is its meter's reading, or the twin's (``station_flows_t_h``) where the meter
    sent nothing or is ``flat`` (stuck): the stations' meters, not the twin's heat balance, so an error of
    the twin's heat losses does not enter. A missing or flat source meter leaves its balance NaN."""
    station = pd.Series(station_flows_t_h, dtype=float).fillna(0.0)
    station.index = station.index.astype(str)
    metered = pd.Series(meters.stations, dtype=str)
    reading = measured.reindex(metered.to_numpy()).to_numpy(dtype=float)
    use = np.isfinite(reading) & ~metered.isin(list(flat)).to_numpy()
    station = station.reindex(station.index.union(metered.index)).fillna(0.0)
    station.loc[metered.index[use]] = reading[use]
    pumps = measured.reindex(list(meters.pumps)).to_numpy(dtype=float)
    makeup = measured.reindex(list(meters.makeup)).to_numpy(dtype=float)
    pumps_ok = bool(len(pumps)) and np.isfinite(pumps).all() and not set(meters.pumps) & set(flat)
    total_st, total_pumps = float(station.sum()), float(np.sum(pumps))
    supply = total_pumps + float(np.sum(makeup)) - total_st if pumps_ok and np.isfinite(makeup).all() else np.nan
    return {"supply": supply, "return": total_st - total_pumps if pumps_ok else np.nan}


def leak_residuals(residuals: pd.DataFrame) -> pd.Series:
    """Measured minus modelled per sensor (``SensorMap.residuals`` has the opposite sign): a leak shows
    as a fall of pressure and a rise of source flow, the sign its signatures have."""
    return -residuals.set_index("sensor_id")["residual"]
