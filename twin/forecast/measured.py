"""A utility's own measured history in: SCADA exports of a substation's heat meter and outdoor temperature.

Reads the two shapes the XAI4HEAT Niš data comes in (``../shared/data/xai4heat_nis/``), which are the
shapes most SCADA exports take:

- a raw export (``datetime, t_amb, …, e, pe``): local time without a zone (the autumn repeated hour
  recorded once, the spring missing hour absent), newest row first, mostly hourly with sub-hourly
  stretches; ``e`` a cumulative heat meter in MWh. The heat of the hour ``[h, h + 1 h)`` is
  ``e(h + 1 h) − e(h)`` from the on-the-hour readings — empty where either reading is missing or ≤ 0
  (a reset meter), the difference negative (a reset) or above ``max_kwh_per_h`` (a glitch);
- a processed export at 15 minutes (``datetime, t_amb, …, qizm, forecast_temp, …``): ``qizm`` kWh per
  interval, summed per hour when all four intervals are there; ``forecast_temp`` a weather forecast.

Outdoor temperatures of −39.9 °C (the logger's dropout value), 0.0 °C on rows whose primary temperatures
also read 0 (a dead logger), or outside −30…45 °C are emptied. Every rejection is counted in ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from twin.forecast.data import HOUR, ForecastData, weekday_workdays
from twin.forecast.synthetic import forecast_archive

NIS_TIMEZONE = "Europe/Belgrade"
MAX_KWH_PER_H = 1500.0
T_RANGE_C = (-30.0, 45.0)
DROPOUT_C = -39.9


@dataclass
class MeasuredSeries:
    """Hourly (UTC hour starts) ``load_kwh``, ``t_amb_c`` and, where the export has one, ``forecast_t_c``."""

    name: str
    hourly: pd.DataFrame
    notes: dict = field(default_factory=dict)


def _local_times(text: pd.Series, timezone: str) -> pd.Series:
    local = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S")
    # The repeated autumn hour is in the file once: take it as standard time; the spring hour cannot exist.
    return local.dt.tz_localize(timezone, ambiguous=False, nonexistent="NaT").dt.tz_convert("UTC")


def _clean_t_amb(frame: pd.DataFrame, notes: dict) -> pd.Series:
    t = pd.to_numeric(frame["t_amb"], errors="coerce")
    dead = np.isclose(t, DROPOUT_C)
    if "t_sup_prim" in frame.columns:
        dead |= (t == 0.0) & (pd.to_numeric(frame["t_sup_prim"], errors="coerce") == 0.0)
    outside = (t < T_RANGE_C[0]) | (t > T_RANGE_C[1])
    notes["t_amb_dropouts"] = int(dead.sum())
    notes["t_amb_out_of_range"] = int((outside & ~dead).sum())
    return t.mask(dead | outside)


def read_scada_export(path, *, timezone: str = NIS_TIMEZONE, max_kwh_per_h: float = MAX_KWH_PER_H) -> MeasuredSeries:
    """The raw export: hourly heat from the cumulative meter, outdoor temperature cleaned."""
    path = Path(path)
    frame = pd.read_csv(path)
    missing = {"datetime", "t_amb", "e"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: a SCADA export needs columns datetime, t_amb, e (cumulative MWh); lacks "
                         f"{sorted(missing)}")
    notes = {"rows": len(frame)}
    frame["time"] = _local_times(frame["datetime"], timezone)
    notes["nonexistent_local_times"] = int(frame["time"].isna().sum())
    frame = frame.dropna(subset=["time"]).sort_values("time")
    on_hour = frame[frame["time"] == frame["time"].dt.floor("h")].drop_duplicates("time", keep="last")
    notes["sub_hourly_rows_skipped"] = len(frame) - len(on_hour)
    index = pd.date_range(on_hour["time"].min(), on_hour["time"].max(), freq="h")
    on_hour = on_hour.set_index("time")
    meter = pd.to_numeric(on_hour["e"], errors="coerce").reindex(index)
    meter = meter.where(meter > 0)
    kwh = (meter.shift(-1) - meter) * 1000.0
    notes["hours_without_reading"] = int(meter.isna().sum())
    notes["hours_negative"] = int((kwh < 0).sum())
    notes["hours_above_max"] = int((kwh > max_kwh_per_h).sum())
    kwh = kwh.where((kwh >= 0) & (kwh <= max_kwh_per_h))
    t_amb = _clean_t_amb(on_hour, notes).reindex(index)
    return MeasuredSeries(path.stem, pd.DataFrame({"load_kwh": kwh, "t_amb_c": t_amb, "forecast_t_c": np.nan},
                                                  index=index), notes)


def read_processed_export(path, *, timezone: str = NIS_TIMEZONE) -> MeasuredSeries:
    """The 15-minute processed export: hourly sums of ``qizm``, hourly means of ``t_amb`` and ``forecast_temp``."""
    path = Path(path)
    frame = pd.read_csv(path)
    missing = {"datetime", "t_amb", "qizm"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: a processed export needs datetime, t_amb, qizm (kWh per interval); lacks "
                         f"{sorted(missing)}")
    notes = {"rows": len(frame)}
    frame["time"] = _local_times(frame["datetime"], timezone)
    frame = frame.dropna(subset=["time"]).drop_duplicates("time").set_index("time").sort_index()
    frame["t_amb"] = _clean_t_amb(frame, notes)
    hour = frame.index.floor("h")
    grouped = frame.groupby(hour)
    kwh = grouped["qizm"].sum(min_count=1).where(grouped["qizm"].count() == 4)
    notes["hours_incomplete"] = int(kwh.isna().sum())
    hourly = pd.DataFrame({"load_kwh": kwh.where(kwh >= 0), "t_amb_c": grouped["t_amb"].mean(),
                           "forecast_t_c": grouped["forecast_temp"].mean() if "forecast_temp" in frame.columns
                           else np.nan})
    index = pd.date_range(hourly.index.min(), hourly.index.max(), freq="h")
    return MeasuredSeries(path.stem, hourly.reindex(index), notes)


def read_measured(path, **kwargs) -> MeasuredSeries:
    """Either export, told apart by its columns."""
    columns = pd.read_csv(path, nrows=0).columns
    return read_processed_export(path, **kwargs) if "qizm" in columns else read_scada_export(path, **kwargs)


def combine(parts: list[MeasuredSeries]) -> pd.DataFrame:
    """One hourly frame from several exports of the same substation (later files win where they overlap)."""
    frame = pd.concat([p.hourly for p in parts])
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    return frame.reindex(pd.date_range(frame.index.min(), frame.index.max(), freq="h"))


def forecast_data(hourly: pd.DataFrame, element_id: str, *, timezone: str = NIS_TIMEZONE, issue_every_h: int = 6,
                  seed: int = 11) -> ForecastData:
    """``ForecastData`` of one measured substation (load in MW). Its forecast archive: where the export
    holds a real forecast (``forecast_t_c``) an issue every ``issue_every_h`` hours carries it for the
    next 48 h (its own lead time is unknown: it is used as if issued then); elsewhere the measured
    temperature with the virtual plant's forecast error added (``twin.forecast.synthetic``).
    ``notes`` says which hours had which."""
    loads = pd.DataFrame({element_id: hourly["load_kwh"] / 1000.0})
    truth = hourly["t_amb_c"].interpolate(limit=6, limit_area="inside")
    weather = pd.DataFrame({"t_outdoor_c": hourly["t_amb_c"]})
    issues = pd.date_range(hourly.index.min().ceil(f"{issue_every_h}h"), hourly.index.max(), freq=f"{issue_every_h}h")
    real = hourly["forecast_t_c"].dropna()
    has_real = pd.Series(issues, index=issues).map(lambda at: at in real.index or (at + HOUR) in real.index)
    synthetic = forecast_archive(truth, issues[~has_real.to_numpy()], seed=seed)
    real_parts = []
    for at in issues[has_real.to_numpy()]:
        valid = pd.date_range(at, periods=49, freq="h")
        values = real.reindex(valid).dropna()
        real_parts.append(pd.DataFrame({"issued_at": at, "valid_at": values.index, "t_outdoor_c": values.to_numpy(),
                                        "source": "export forecast"}))
    forecasts = pd.concat([synthetic, *real_parts], ignore_index=True)
    notes = [f"{int((~has_real).sum())} issues from the measured temperature with the plant's forecast error added",
             f"{int(has_real.sum())} issues from the export's own weather forecast (lead time unknown)"]
    return ForecastData(loads=loads, weather=weather, forecasts=forecasts, timezone=timezone,
                        workday=weekday_workdays, notes=notes)
