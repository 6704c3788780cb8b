"""Is there a leak: make-up water above what this hour of the day usually needs, tested with CUSUM.

The make-up point is the one meter that sees every leak: the pressure plant tops up whatever the
network loses. Normal losses follow the day (seepage, households drawing heating water in the
evening), so the baseline is learned per source and local hour (median). A one-sided CUSUM on the
excess over it (t/h) accumulates ``excess − k`` and raises when the sum passes ``h``: ``k`` is half
the smallest leak worth catching (a share of the circulating flow), so the slow wander of normal
losses does not add up; ``h`` trades detection time against false alarms and is set from a no-leak
window so that the window itself would have raised at most the target number of alarms.
``LeakMonitor`` runs both per cycle and, on detection, localizes against the residuals of the last
no-leak cycles (the reference the change is measured from).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

UTC_OFFSET_H = 8.0
MAD_TO_SIGMA = 1.4826
MIN_SIGMA_T_H = 0.5


def local_hour(times) -> np.ndarray:
    times = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
    return ((times.hour + UTC_OFFSET_H) % 24).astype(int).to_numpy()


@dataclass
class MakeupBaseline:
    """Per source and local hour: the usual make-up flow (t/h) and its spread."""
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["source_id", "hour", "median",
                                                                             "sigma"]))

    @classmethod
    def learn(cls, history: pd.DataFrame) -> MakeupBaseline:
        """``history``: time, source_id, value (t/h) of no-leak days."""
        frame = history.assign(hour=local_hour(history["time"]))
        grouped = frame.groupby(["source_id", "hour"])["value"]
        median = grouped.median()
        mad = grouped.apply(lambda v: float(np.median(np.abs(v - np.median(v)))))
        table = pd.DataFrame({"median": median, "sigma": np.maximum(MAD_TO_SIGMA * mad, MIN_SIGMA_T_H)})
        # An hour seen a few times says little about its spread: never below the source's overall spread.
        overall = (frame["value"] - frame.groupby(["source_id", "hour"])["value"].transform("median")).abs()
        spread = MAD_TO_SIGMA * overall.groupby(frame["source_id"]).median()
        table["sigma"] = np.maximum(table["sigma"], spread.reindex(table.index.get_level_values(0)).to_numpy())
        return cls(table.reset_index())

    def expected(self, source_id: str, at) -> tuple[float, float]:
        rows = self.table[self.table["source_id"] == source_id]
        if rows.empty:
            return 0.0, MIN_SIGMA_T_H
        hour = int(local_hour([at])[0])
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


@dataclass
class LeakDecision:
    detected_at: pd.Timestamp
    source_id: str
    rate_t_h: float
    statistic: dict
    location: object | None = None

    def alarm_details(self) -> dict:
        out = {"source_id": self.source_id, "rate_t_h": round(self.rate_t_h, 2),
               "detected_at": self.detected_at.isoformat(), "statistic": self.statistic}
        if self.location is not None:
            out.update(self.location.to_dict())
        return out


class LeakMonitor:
    """Per cycle: make-up excess → CUSUM → on detection, localization against the reference residuals.

    Parameters
    ----------
    baseline : the learned ``MakeupBaseline``.
    cusum : the calibrated test (a fresh copy is kept per source).
    makeup_sensors : {source id: make-up flow sensor id}.
    locate : ``locate(change: pd.Series, rate_t_h) -> LeakLocation`` or None (detect only).
    reference_cycles : how many no-leak cycles the residual reference averages.
    """

    def __init__(self, baseline: MakeupBaseline, cusum: Cusum, makeup_sensors: dict, *, locate=None,
                 reference_cycles: int = 6):
        self.baseline = baseline
        self.tests = {src: Cusum(cusum.k, cusum.h) for src in makeup_sensors}
        self.makeup_sensors = makeup_sensors
        self.locate = locate
        self.reference: list[pd.Series] = []
        self.reference_measured: list[pd.Series] = []
        self.reference_cycles = reference_cycles
        self.active: LeakDecision | None = None
        self.quiet_cycles = 0

    def update(self, at, measured: pd.Series, residuals: pd.Series | None = None) -> LeakDecision | None:
        """A new decision when a leak is first detected; None otherwise (see ``active``)."""
        at = pd.Timestamp(at)
        raised, stats = None, {}
        for src, sensor in self.makeup_sensors.items():
            value = measured.get(sensor, np.nan)
            excess, z = self.baseline.excess(src, at, float(value)) if np.isfinite(value) else (np.nan, np.nan)
            fired = self.tests[src].update(excess)
            stats[src] = {"excess_t_h": None if not np.isfinite(excess) else round(excess, 2),
                          "z": None if not np.isfinite(z) else round(z, 2),
                          "cusum": round(self.tests[src].total, 2), "threshold": self.tests[src].h}
            if fired:
                self.tests[src].reset()  # restart: a leak that goes on fires again within a few cycles
            if fired and raised is None:
                raised = (src, excess)
        if raised is None:
            self._keep_reference(residuals, measured)
            self._maybe_clear(stats)
            return None
        if self.active is not None:
            self.quiet_cycles = 0
            return None
        src, excess = raised
        location = None
        if self.locate is not None and residuals is not None and self.reference:
            change = residuals - pd.concat(self.reference, axis=1).mean(axis=1)
            change = change.drop(index=self._stuck(measured), errors="ignore")
            location = self.locate(change.dropna(), max(excess, 0.0))
        self.active = LeakDecision(at, src, float(excess), stats, location)
        return self.active

    def _keep_reference(self, residuals, measured) -> None:
        if residuals is not None and self.active is None:
            self.reference = (self.reference + [residuals])[-self.reference_cycles:]
            self.reference_measured = (self.reference_measured + [measured])[-self.reference_cycles:]

    def _stuck(self, measured: pd.Series) -> list[str]:
        """Sensors that sent the very same value through the reference cycles and now: stuck, so
        their "no change" says nothing about the leak."""
        history = pd.concat([*self.reference_measured, measured], axis=1)
        if history.shape[1] < 3:
            return []
        flat = history.max(axis=1) - history.min(axis=1) == 0.0
        return history.index[flat & history.notna().all(axis=1)].tolist()

    def _maybe_clear(self, stats: dict) -> None:
        """After a detection, the leak is over once every CUSUM is back near zero for a few cycles."""
        if self.active is None:
            return
        calm = all(s["cusum"] < 0.1 * self.tests[src].h for src, s in stats.items())
        self.quiet_cycles = self.quiet_cycles + 1 if calm else 0
        if self.quiet_cycles >= 3:
            self.active, self.quiet_cycles = None, 0
