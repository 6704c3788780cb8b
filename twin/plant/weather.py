"""Outdoor temperature: a seasonal base, a daily cycle and multi-day cold waves, seeded; or a CSV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from heattwin.clock import local_hours

HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class ColdWave:
    start_h: float  # hours after the weather's origin
    depth_k: float  # how far the daily mean drops
    duration_h: float

    def drop_k(self, hours: np.ndarray) -> np.ndarray:
        """A fast fall over the first quarter, a slow recovery after: how cold fronts arrive."""
        x = (hours - self.start_h) / self.duration_h
        fall = np.clip(x / 0.25, 0.0, 1.0)
        recovery = np.clip(1.0 - (x - 0.25) / 0.75, 0.0, 1.0)
        return self.depth_k * np.where(x < 0.25, fall, recovery) * ((x >= 0) & (x <= 1))


class SyntheticWeather:
    """Winter weather of a northern Chinese city (Weifang: January mean about −3 °C).

    Parameters
    ----------
    origin : pandas.Timestamp (UTC) the hour count starts from.
    mean_c : daily mean temperature without cold waves, °C.
    daily_amplitude_k : half the day–night swing, K (coldest near 06:00 local, warmest near 15:00).
    cold_waves : explicit cold waves; when None, seeded ones arrive about every ten days.
    """

    def __init__(self, origin, *, seed: int = 7, mean_c: float = -1.0, daily_amplitude_k: float = 4.0,
                 cold_waves: list[ColdWave] | None = None, timezone: str | None = None, days: float = 180.0):
        self.origin = pd.Timestamp(origin).tz_convert("UTC") if pd.Timestamp(origin).tzinfo else \
            pd.Timestamp(origin, tz="UTC")
        self.mean_c = mean_c
        self.daily_amplitude_k = daily_amplitude_k
        self.timezone = timezone  # None: HEATTWIN_TIMEZONE
        rng = np.random.default_rng(seed)
        if cold_waves is None:
            starts = np.cumsum(rng.exponential(240.0, size=int(days / 5) + 1))
            cold_waves = [ColdWave(float(s), float(rng.uniform(6, 12)), float(rng.uniform(48, 96)))
                          for s in starts if s < days * HOURS_PER_DAY]
        self.cold_waves = cold_waves
        self._wobble_phase = rng.uniform(0, 2 * np.pi, size=3)

    def hours(self, times) -> np.ndarray:
        times = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
        return ((times - self.origin) / pd.Timedelta(hours=1)).to_numpy(dtype=float)

    def temperature_c(self, times) -> np.ndarray:
        """Outdoor temperature at ``times`` (anything pandas reads as UTC datetimes), °C."""
        hours = self.hours(times)
        local_h = local_hours(pd.to_datetime(times, utc=True), self.timezone)
        daily = -self.daily_amplitude_k * np.cos(2 * np.pi * (local_h - 3.0) / HOURS_PER_DAY)
        # Slow weather wobble (a few days' period) so days differ without a random walk.
        wobble = sum(np.sin(2 * np.pi * hours / period + phase)
                     for period, phase in zip((77.0, 131.0, 199.0), self._wobble_phase, strict=True))
        drop = sum((w.drop_k(hours) for w in self.cold_waves), np.zeros_like(hours))
        return self.mean_c + daily + 0.8 * wobble - drop

    def cold_drop_k(self, times) -> np.ndarray:
        """How far the cold waves pull the temperature down at ``times``, K."""
        hours = self.hours(times)
        return sum((w.drop_k(hours) for w in self.cold_waves), np.zeros_like(hours))

    def issue_forecast(self, issued_at, horizon_h: int = 48, seed: int = 11) -> pd.DataFrame:
        """The plant's own weather forecast issued at ``issued_at`` (``twin.forecast.synthetic``: an error
        growing with lead time, warm-biased in cold waves): ``issued_at, valid_at, t_outdoor_c, source``."""
        from twin.forecast.synthetic import issue_forecast

        issued_at = pd.Timestamp(issued_at).floor("h")
        valid = pd.date_range(issued_at, periods=horizon_h + 1, freq="h")
        truth = pd.Series(self.temperature_c(valid), index=valid)
        drop = pd.Series(self.cold_drop_k(valid), index=valid)
        return issue_forecast(truth, issued_at, horizon_h=horizon_h, seed=seed, cold_drop=drop, source="plant")


class CsvWeather:
    """Outdoor temperature read from a CSV with columns ``time`` (ISO, UTC) and ``t_c``."""

    def __init__(self, path: Path):
        frame = pd.read_csv(path)
        missing = {"time", "t_c"} - set(frame.columns)
        if missing:
            raise ValueError(f"{path}: weather CSV lacks column(s) {sorted(missing)}; needs time, t_c")
        frame["time"] = pd.to_datetime(frame["time"], utc=True)
        frame = frame.sort_values("time")
        self._hours = (frame["time"] - frame["time"].iloc[0]) / pd.Timedelta(hours=1)
        self._origin = frame["time"].iloc[0]
        self._t_c = frame["t_c"].to_numpy(dtype=float)

    def temperature_c(self, times) -> np.ndarray:
        times = pd.DatetimeIndex(pd.to_datetime(times, utc=True))
        hours = ((times - self._origin) / pd.Timedelta(hours=1)).to_numpy(dtype=float)
        return np.interp(hours, self._hours.to_numpy(dtype=float), self._t_c)
