"""What a load forecast is made from, and the same data as it was known at an issue time.

``ForecastData`` holds hourly heat loads per element (stations, sources, substations), the measured
weather and the archive of weather forecasts with their issue times. ``as_of(t)`` is the only way the
forecast and the backtest look at it: loads of hours complete by ``t``, weather measured before ``t``,
forecasts issued at or before ``t``. Nothing later survives the cut, so no feature can see the future.

Conventions: a load row stamped ``h`` is the mean power over ``[h, h + 1 h)`` in MW (UTC hour starts); a
weather row stamped ``h`` is the temperature at ``h``; the hour ``h`` is complete, and known, at ``h + 1 h``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

HOUR = pd.Timedelta(hours=1)
DEFAULT_LOCATION = "network"   # the weather of the network's city; a utility with several names each one
STALE_WEATHER_H = 12.0   # a weather issue older than this is a fallback, shown as one
FORECAST_FIELDS = ("t_outdoor_c", "wind_m_s", "solar_w_m2")


class LeakError(AssertionError):
    """Data later than the issue time reached a forecast made at that issue time."""


def weekday_workdays(day: date) -> bool:
    """Monday–Friday: the calendar where no official holiday list is loaded for the series' country."""
    return day.weekday() < 5


def _utc_index(index) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(index, utc=True))


@dataclass(frozen=True)
class ForecastData:
    """Hourly loads, measured weather and the forecast archive of one location.

    Parameters
    ----------
    loads : DataFrame, hourly UTC index (hour start), one column per element id, MW; NaN where unknown.
    weather : DataFrame, hourly UTC index, ``t_outdoor_c`` (optional ``wind_m_s``, ``solar_w_m2``), measured.
    forecasts : DataFrame ``issued_at, valid_at, t_outdoor_c[, wind_m_s, solar_w_m2]``, every issue kept.
    timezone : where hour of week and working days are read.
    workday : date → whether it is a working day (China: ``store.calendar.WorkCalendar.is_workday``).
    known_until : the cut of ``as_of`` (None: everything is known, a store's history).
    """

    loads: pd.DataFrame
    weather: pd.DataFrame
    forecasts: pd.DataFrame
    timezone: str = "Asia/Shanghai"
    workday: Callable[[date], bool] = weekday_workdays
    known_until: pd.Timestamp | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        # ``as_of`` hands on frames already in this shape: checking is cheap, converting is not.
        for name in ("loads", "weather"):
            frame = getattr(self, name)
            if not (isinstance(frame.index, pd.DatetimeIndex) and str(frame.index.tz) == "UTC"
                    and frame.index.is_monotonic_increasing):
                object.__setattr__(self, name, frame.set_axis(_utc_index(frame.index)).sort_index())
        forecasts = self.forecasts
        if not all(str(getattr(forecasts[c].dtype, "tz", "")) == "UTC" for c in ("issued_at", "valid_at")):
            forecasts = forecasts.copy()
            for column in ("issued_at", "valid_at"):
                forecasts[column] = pd.to_datetime(forecasts[column], utc=True)
        if not forecasts["issued_at"].is_monotonic_increasing:
            forecasts = forecasts.sort_values(["issued_at", "valid_at"], kind="stable").reset_index(drop=True)
        object.__setattr__(self, "forecasts", forecasts)

    @property
    def elements(self) -> list[str]:
        return [str(c) for c in self.loads.columns]

    def as_of(self, at) -> ForecastData:
        """The data as known at ``at``: loads of hours ending by ``at``, weather measured before ``at``,
        forecasts issued at or before ``at``."""
        at = pd.Timestamp(at)
        at = at.tz_convert("UTC") if at.tzinfo else at.tz_localize("UTC")
        loads = self.loads[self.loads.index + HOUR <= at]
        weather = self.weather[self.weather.index < at]
        forecasts = self.forecasts[self.forecasts["issued_at"] <= at]
        return replace(self, loads=loads, weather=weather, forecasts=forecasts, known_until=at)

    def check_known(self, at: pd.Timestamp) -> None:
        """Raise ``LeakError`` if anything in here was not known at ``at``."""
        late = []
        if len(self.loads) and self.loads.index.max() + HOUR > at:
            late.append(f"load of the hour from {self.loads.index.max()}")
        if len(self.weather) and self.weather.index.max() >= at:
            late.append(f"weather measured at {self.weather.index.max()}")
        if len(self.forecasts) and self.forecasts["issued_at"].max() > at:
            late.append(f"a forecast issued at {self.forecasts['issued_at'].max()}")
        if late:
            raise LeakError(f"forecast issued at {at} was given data not known then: {', '.join(late)}")


def forecast_as_known(forecasts: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """For every valid hour, the newest forecast row issued at or before ``at`` (indexed by valid hour)."""
    known = forecasts[forecasts["issued_at"] <= at]   # in issue order: the last row of a valid hour is the newest
    return known.drop_duplicates("valid_at", keep="last").set_index("valid_at").sort_index()


def temperature_path(data: ForecastData, at: pd.Timestamp, hours: pd.DatetimeIndex) -> pd.DataFrame:
    """Weather at ``hours`` as a forecaster sees it at ``at``: measured before ``at``, the forecast as known
    at ``at`` from then on (and where a measurement is missing); gaps of up to 3 h interpolated, longer
    ones left NaN (never a constant carried on).

    Columns: the ``FORECAST_FIELDS`` there are, plus ``weather_issued_at`` (NaT for measured hours)."""
    known = forecast_as_known(data.forecasts, at)
    out = pd.DataFrame(index=hours)
    past = hours < at
    issued = pd.Series(pd.NaT, index=hours, dtype="datetime64[ns, UTC]")
    for column in FORECAST_FIELDS:
        measured = data.weather[column].reindex(hours) if column in data.weather.columns else \
            pd.Series(np.nan, index=hours)
        predicted = known[column].reindex(hours) if column in known.columns else pd.Series(np.nan, index=hours)
        values = predicted.where(~past | measured.isna(), measured)
        if column == "t_outdoor_c":
            issued = known["issued_at"].reindex(hours).where(~past | measured.isna())
            values = values.interpolate(limit_area="inside", limit=3)
        out[column] = values.to_numpy(dtype=float)
    out["weather_issued_at"] = issued
    return out
