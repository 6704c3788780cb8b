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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from heattwin.settings import load_settings

MAD_TO_SIGMA = 1.4826
MIN_SIGMA_T_H = 0.5


def local_hour(times, timezone: str | None = None) -> np.ndarray:
    """Hour of the day where the network is (``timezone``, default ``HEATTWIN_TIMEZONE``): the losses
    follow the households' day, so the baseline is kept by local hour (daylight saving included)."""
    times = pd.DatetimeIndex(pd.to_datetime(times, utc=True)).tz_convert(timezone or load_settings().timezone)
    return np.asarray(times.hour, dtype=int)


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


def _alarms(z: np.ndarray, k: float, h: float) -> int:
    total, count = 0.0, 0
    for value in z[np.isfinite(z)]:
        total = max(0.0, total + value - k)
        if total > h:
            count, total = count + 1, 0.0
    return count


class ImbalanceTest:
    """Water the twin does not know about: the measured source flows (circulation and make-up) minus
    the twin's, per cycle, tested with a CUSUM in standard units.

    It is the make-up meter's cross-check: the twin works out what the sources must deliver from the
    stations' heat meters, so a make-up reading that grows while this stays flat points at the meter
    or a deliberate fill, and a dead make-up meter does not blind detection. The baseline (median) and
    spread (MAD) are learned from the cycles' own no-leak history, lagged by ``lag`` cycles so that a
    leak not yet detected does not teach itself as normal; the threshold is calibrated on that history.
    """

    def __init__(self, *, samples_per_day: float, k: float = 1.0, floor: float = 4.0, min_samples: int = 12,
                 lag: int = 6, keep: int = 2016, false_alarms_per_day: float = 0.5 / 7.0):
        self.samples_per_day, self.k, self.floor = samples_per_day, k, floor
        self.min_samples, self.lag, self.keep = min_samples, lag, keep
        self.false_alarms_per_day = false_alarms_per_day
        self.history: list[float] = []
        self.pending: list[float] = []
        self.cusum: Cusum | None = None
        self.median, self.sigma = 0.0, 1.0
        self._learned_at = 0

    def update(self, value: float, *, learn: bool) -> tuple[bool, dict]:
        fired, z = False, np.nan
        if np.isfinite(value):
            z = (value - self.median) / self.sigma
            if self.cusum is not None:
                fired = self.cusum.update(z)
                if fired:
                    self.cusum.reset()
            self.pending.append(float(value))
        if learn:
            self._learn()
        else:
            self.pending.clear()    # after a detection the recent cycles are not normal
        stats = {"imbalance_t_h": _rounded(value, 1), "excess_t_h": _rounded(value - self.median, 2),
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
        values = np.asarray(self.history)
        self.median = float(np.median(values))
        self.sigma = max(MAD_TO_SIGMA * float(np.median(np.abs(values - self.median))), MIN_SIGMA_T_H)
        total = self.cusum.total if self.cusum is not None else 0.0
        self.cusum = Cusum.calibrate((values - self.median) / self.sigma, k=self.k, floor=self.floor,
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
    """Per cycle: make-up excess and mass imbalance → CUSUMs → on detection, localization.

    Parameters
    ----------
    baseline : the learned ``MakeupBaseline``.
    cusum : the calibrated make-up test (a fresh copy is kept per source).
    makeup_sensors : {source id: make-up flow sensor id}.
    locate : ``locate(change: pd.Series, rate_t_h, stuck: list[str]) -> LeakLocation`` or None (detect only).
    reference_cycles : how many no-leak cycles the residual reference averages.
    imbalance : an ``ImbalanceTest`` and ``source_flow_sensors`` (circulation and make-up meters of the
        sources) for the second test, or None.

    On detection the change the leak made is the mean residual of the cycles since the CUSUMs last
    stood at zero (the leak's onset, as a CUSUM estimates it) minus the mean of the calm cycles before.
    For ``revise_cycles`` cycles after it the leak is localized again on the longer mean (the sensors'
    noise averages out; the decision comes back with ``revision`` counting up).
    """

    ONSET_LOOKBACK = 12

    def __init__(self, baseline: MakeupBaseline, cusum: Cusum, makeup_sensors: dict, *, locate=None,
                 reference_cycles: int = 6, imbalance: ImbalanceTest | None = None, source_flow_sensors=(),
                 revise_cycles: int = 3):
        self.baseline = baseline
        self.tests = {src: Cusum(cusum.k, cusum.h) for src in makeup_sensors}
        self.makeup_sensors = makeup_sensors
        self.locate = locate
        self.reference_cycles = reference_cycles
        self.imbalance = imbalance
        self.source_flow_sensors = list(source_flow_sensors)
        self.recent: list[tuple[pd.Series | None, pd.Series, bool]] = []   # (residuals, measured, calm)
        self.revise_cycles = revise_cycles
        self.active: LeakDecision | None = None
        self.quiet_cycles = 0
        self._episode: dict | None = None    # what the detection measured from, for the revisions

    def retune(self, baseline: MakeupBaseline, cusum: Cusum) -> None:
        """A newly learned baseline and threshold; the running sums and the recent cycles are kept."""
        self.baseline = baseline
        for test in self.tests.values():
            test.k, test.h = cusum.k, cusum.h

    def update(self, at, measured: pd.Series, residuals: pd.Series | None = None) -> LeakDecision | None:
        """A decision when a leak is first detected and at each of its revisions (same ``detected_at``);
        None otherwise (see ``active``). ``residuals`` is None for a cycle the twin did not solve."""
        at = pd.Timestamp(at)
        raised, stats = self._makeup(at, measured)
        imbalance_fired, stats["imbalance"] = self._imbalance(residuals)
        if raised is None and imbalance_fired:
            raised = ("imbalance", stats["imbalance"]["excess_t_h"])
        calm = raised is None and all(t.total == 0.0 for t in self.tests.values())
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
            self._episode = self._start_episode(src, excess)
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

    def _imbalance(self, residuals: pd.Series | None) -> tuple[bool, dict | None]:
        if self.imbalance is None or residuals is None or not self.source_flow_sensors:
            return False, None
        value = residuals.reindex(self.source_flow_sensors).sum(min_count=1)
        return self.imbalance.update(float(value), learn=self.active is None)

    def _start_episode(self, source_id: str, excess: float) -> dict | None:
        """The calm cycles before the onset (the CUSUMs' last zero) and the cycles since, as measured;
        cycles the twin did not solve have no residuals and are skipped."""
        calm = [k for k, (_, _, c) in enumerate(self.recent[:-1]) if c]
        if not calm:
            return None
        onset = calm[-1] + 1
        before = [k for k in calm if self.recent[k][0] is not None][-self.reference_cycles:]
        if not before:
            return None
        after = [k for k in range(onset, len(self.recent)) if self.recent[k][0] is not None]
        measured = pd.concat([self.recent[k][1] for k in [*before, *after]], axis=1)
        return {"source_id": source_id, "before": _mean([self.recent[k][0] for k in before]),
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
        excess = (stats.get(episode["source_id"]) or {}).get("excess_t_h")
        if excess is not None:
            episode["excess"].append(excess)
        episode["revisions"] += 0 if first else 1
        self.active = LeakDecision(self.active.detected_at, self.active.source_id, float(np.mean(episode["excess"])),
                                   stats, self._localize(episode), revision=episode["revisions"])
        return self.active

    def _maybe_clear(self, stats: dict) -> None:
        """After a detection, the leak is over once every CUSUM is back near zero for a few cycles."""
        if self.active is None:
            return
        calm = all(s["cusum"] < 0.1 * self.tests[src].h for src, s in stats.items() if src in self.tests)
        self.quiet_cycles = self.quiet_cycles + 1 if calm else 0
        if self.quiet_cycles >= 3:
            self.active, self.quiet_cycles, self._episode = None, 0, None


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


def source_flow_sensors(network) -> list[str]:
    """The sources' circulation and make-up flow meters: what the mass imbalance sums."""
    sensors = network.sensors
    on_sources = sensors["element_id"].astype(str).isin(network.sources["id"].astype(str))
    return sensors.loc[on_sources & sensors["kind"].isin(["flow", "makeup_flow"]), "id"].astype(str).tolist()


def leak_residuals(residuals: pd.DataFrame) -> pd.Series:
    """Measured minus modelled per sensor (``SensorMap.residuals`` has the opposite sign): a leak shows
    as a fall of pressure and a rise of source flow, the sign its signatures have."""
    return -residuals.set_index("sensor_id")["residual"]
