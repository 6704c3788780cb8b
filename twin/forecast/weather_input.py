"""Weather forecasts in: a file (CSV or JSON) or an HTTP JSON source, checked row by row.

Accepted shapes
- rows (CSV columns or a JSON list / ``{"rows": [...]}``): ``issued_at, valid_at`` and the temperature as
  ``t_outdoor_c`` | ``t_outdoor_f`` | ``t_outdoor_k`` (or ``temperature`` with a ``unit`` column: C, °C, F, °F,
  K); optional ``wind_m_s``, ``solar_w_m2``, ``cloud_pct``, ``humidity_pct``, ``location``. A JSON object may
  give ``issued_at``, ``location`` and ``unit`` once for all its ``rows``.
- Open-Meteo's hourly JSON (``{"hourly": {"time": [...], "temperature_2m": [...], ...}, "hourly_units": ...}``),
  what most public forecast APIs resemble; it carries no model-run time, so the issue time is when it was
  fetched (``issued_at=``), or its ``generated_at`` / ``issued_at`` key when it has one.

Every problem is named with file, row and field: units in °F or K are converted (repaired); a
temperature no climate has in °C (say 268, or 95) without a declared unit is refused — it is K or °F
but the file does not say which; a valid time before its issue time is refused; duplicated valid
times of one issue are dropped when identical and refused when they differ; gaps of up to
``MAX_REPAIRED_GAP_H`` hours inside an issue are interpolated, longer ones named and left empty (those
hours fall back to the previous issue, visibly). ``strict`` refuses the whole file on any refused row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from store.forecasts import add_weather_forecasts
from store.rowfiles import FieldError, FileRefused, RowError, decode, file_format, parse_rows, parse_time

MAX_REPAIRED_GAP_H = 3
C_RANGE = (-60.0, 50.0)
_UNITS = {"c": "C", "°c": "C", "celsius": "C", "degc": "C", "f": "F", "°f": "F", "fahrenheit": "F", "k": "K",
          "kelvin": "K"}
_OPTIONAL = {"wind_m_s": (0.0, 80.0), "solar_w_m2": (0.0, 1400.0), "cloud_pct": (0.0, 100.0),
             "humidity_pct": (0.0, 100.0)}
_OPEN_METEO = {"temperature_2m": "temperature", "wind_speed_10m": "wind_m_s", "windspeed_10m": "wind_m_s",
               "shortwave_radiation": "solar_w_m2", "cloud_cover": "cloud_pct", "cloudcover": "cloud_pct",
               "relative_humidity_2m": "humidity_pct", "relativehumidity_2m": "humidity_pct"}


@dataclass
class ForecastFile:
    """What a forecast file held: the accepted (and repaired) rows, and every problem named."""

    name: str
    rows: pd.DataFrame
    refused: list[RowError] = field(default_factory=list)
    repaired: list[RowError] = field(default_factory=list)
    stored: dict | None = None

    def summary(self) -> str:
        issues = self.rows["issued_at"].nunique() if len(self.rows) else 0
        text = f"{self.name}: {len(self.rows)} rows of {issues} issue(s) accepted, {len(self.repaired)} repaired, " \
               f"{len(self.refused)} refused"
        if self.stored:
            text += f"; stored {self.stored['added']} new, {self.stored['updated']} changed, " \
                    f"{self.stored['unchanged']} unchanged"
        return text


def _unit(value, row_field: str) -> str:
    key = str(value).strip().lower()
    if key not in _UNITS:
        raise FieldError(row_field, f"unit {value!r} is not one of C, °C, F, °F, K")
    return _UNITS[key]


def _to_c(value: float, unit: str) -> float:
    return value if unit == "C" else (value - 32.0) * 5.0 / 9.0 if unit == "F" else value - 273.15


def _number(raw, field_name: str) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(str(raw).strip().replace(",", ".")) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError) as exc:
        raise FieldError(field_name, f"{raw!r} is not a number") from exc
    if not np.isfinite(value):
        raise FieldError(field_name, f"{raw!r} is not a finite number")
    return value


def _temperature(row: dict, unit_default: str | None) -> tuple[float, str, str | None]:
    """(°C, the field it came from, the unit converted from or None)."""
    for name, unit in (("t_outdoor_c", "C"), ("t_outdoor_f", "F"), ("t_outdoor_k", "K")):
        if row.get(name) not in (None, ""):
            value = _number(row[name], name)
            return _to_c(value, unit), name, None if unit == "C" else unit
    if row.get("temperature") in (None, ""):
        raise FieldError("t_outdoor_c", "no temperature: give t_outdoor_c (or t_outdoor_f, t_outdoor_k, "
                                        "or temperature with a unit)")
    value = _number(row["temperature"], "temperature")
    declared = row.get("unit") or unit_default
    if declared in (None, ""):
        if not C_RANGE[0] <= value <= C_RANGE[1]:
            guess = "kelvin" if value > 200 else "°F"
            raise FieldError("temperature", f"{value:g} is no outdoor temperature in °C (it looks like {guess}):"
                                            " declare the unit (column unit, or t_outdoor_k / t_outdoor_f)")
        return value, "temperature", None
    unit = _unit(declared, "unit")
    return _to_c(value, unit), "temperature", None if unit == "C" else unit


def _check_row(number: int, raw, name: str, *, timezone: str, defaults: dict) -> tuple[dict | None, list, list]:
    refused, repaired = [], []
    if not isinstance(raw, dict):
        return None, [RowError(name, number, "row", "expected an object with issued_at, valid_at and a temperature")], []
    row = {**defaults, **{k: v for k, v in raw.items() if v not in (None, "")}}
    try:
        issued = parse_time(row.get("issued_at"), "issued_at", timezone=timezone)
        valid = parse_time(row.get("valid_at"), "valid_at", timezone=timezone)
        if issued is None:
            raise FieldError("issued_at", "missing: every forecast row needs the time it was issued")
        if valid is None:
            raise FieldError("valid_at", "missing: the time the value is for")
        if valid < issued:
            raise FieldError("valid_at", f"{valid.isoformat()} is before its issue time {issued.isoformat()}:"
                                         " a forecast cannot be for the past (swapped columns?)")
        t_c, t_field, converted = _temperature(row, defaults.get("unit"))
        if not C_RANGE[0] <= t_c <= C_RANGE[1]:
            raise FieldError(t_field, f"{t_c:.1f} °C is outside {C_RANGE[0]:g}…{C_RANGE[1]:g} °C")
    except FieldError as exc:
        return None, [RowError(name, number, exc.field, exc.message)], []
    if converted:
        repaired.append(RowError(name, number, t_field, f"converted from {converted} to °C ({t_c:.2f} °C)"))
    out = {"issued_at": pd.Timestamp(issued).tz_convert("UTC"), "valid_at": pd.Timestamp(valid).tz_convert("UTC"),
           "t_outdoor_c": t_c, "source": str(row.get("source", "")), "_row": number}
    for column, (low, high) in _OPTIONAL.items():
        try:
            value = _number(row.get(column), column)
        except FieldError as exc:
            repaired.append(RowError(name, number, column, f"{exc.message}; left empty"))
            value = None
        if value is not None and not low <= value <= high:
            repaired.append(RowError(name, number, column, f"{value:g} outside {low:g}…{high:g}; left empty"))
            value = None
        out[column] = value
    return out, refused, repaired


def _duplicates(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list, list]:
    refused, repaired = [], []
    keys = ["issued_at", "valid_at"]
    dup = frame[frame.duplicated(keys, keep=False)]
    drop = set()
    for _, group in dup.groupby(keys):
        rows = group["_row"].tolist()
        same = group[["t_outdoor_c", *_OPTIONAL]].round(6).drop_duplicates().shape[0] == 1
        if same:
            drop.update(group.index[1:])
            repaired.extend(RowError(name, r, "valid_at", f"repeats row {rows[0]} (same values): dropped")
                            for r in rows[1:])
        else:
            drop.update(group.index)
            refused.extend(RowError(name, r, "valid_at", f"{group['valid_at'].iloc[0].isoformat()} of the issue at "
                                    f"{group['issued_at'].iloc[0].isoformat()} appears in rows {rows} with different "
                                    "values: refused all of them") for r in rows)
    return frame.drop(index=list(drop)), refused, repaired


def _gaps(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list, list]:
    """Interpolate gaps of up to MAX_REPAIRED_GAP_H hours inside each issue; name the longer ones."""
    refused, repaired, parts = [], [], []
    for issued, group in frame.groupby("issued_at"):
        group = group.sort_values("valid_at")
        hourly = group[group["valid_at"] == group["valid_at"].dt.floor("h")]
        steps = hourly["valid_at"].diff() / pd.Timedelta(hours=1)
        filled = []
        for (_, before), (_, after), step in zip(hourly.iloc[:-1].iterrows(), hourly.iloc[1:].iterrows(),
                                                 steps.iloc[1:], strict=True):
            if step <= 1:
                continue
            span = f"{(before['valid_at'] + pd.Timedelta(hours=1)).isoformat()} … " \
                   f"{(after['valid_at'] - pd.Timedelta(hours=1)).isoformat()}"
            if step - 1 <= MAX_REPAIRED_GAP_H:
                hours = pd.date_range(before["valid_at"], after["valid_at"], freq="h")[1:-1]
                weights = (np.arange(1, len(hours) + 1) / step)[:, None]
                values = before[["t_outdoor_c"]].to_numpy(dtype=float) * (1 - weights) + \
                    after[["t_outdoor_c"]].to_numpy(dtype=float) * weights
                filled.append(pd.DataFrame({"issued_at": issued, "valid_at": hours, "t_outdoor_c": values[:, 0],
                                            "source": before["source"], "_row": after["_row"]}))
                repaired.append(RowError(name, int(after["_row"]), "valid_at",
                                         f"{int(step - 1)} hour(s) missing before this row ({span}): interpolated"))
            else:
                refused.append(RowError(name, int(after["_row"]), "valid_at",
                                        f"{int(step - 1)} hours missing before this row ({span}): not filled; "
                                        "those hours fall back to the previous issue"))
        parts.append(pd.concat([group, *filled], ignore_index=True) if filled else group)
    return (pd.concat(parts, ignore_index=True) if parts else frame), refused, repaired


def _open_meteo(data: dict, issued_at) -> tuple[list[tuple[int, dict]], dict]:
    hourly = data["hourly"]
    units = data.get("hourly_units", {})
    times = hourly.get("time", [])
    offset = pd.Timedelta(seconds=int(data.get("utc_offset_seconds", 0)))
    rows = []
    for i, t in enumerate(times):
        row = {"valid_at": (pd.Timestamp(t) - offset).tz_localize("UTC").isoformat() if "+" not in str(t) else t}
        for key, column in _OPEN_METEO.items():
            if key in hourly and i < len(hourly[key]):
                row[column] = hourly[key][i]
        rows.append((i + 1, row))
    issued = data.get("issued_at") or data.get("generated_at") or issued_at
    if issued is None:
        raise FileRefused("an Open-Meteo style forecast carries no issue time: give issued_at (the time fetched)")
    unit = units.get("temperature_2m", "°C")
    return rows, {"issued_at": str(pd.Timestamp(issued)), "unit": unit, "source": "open-meteo"}


def parse_forecast(text: str, fmt: str, name: str, *, timezone: str, issued_at=None) -> ForecastFile:
    """Check the rows of a forecast document (see the module's docstring)."""
    defaults: dict = {}
    if fmt == "json":
        import json

        try:
            data = json.loads(text)
        except ValueError as exc:
            raise FileRefused(f"{name}: not valid JSON: {exc}") from exc
        if isinstance(data, dict) and isinstance(data.get("hourly"), dict):
            rows, defaults = _open_meteo(data, issued_at)
        else:
            if isinstance(data, dict):
                defaults = {k: data[k] for k in ("issued_at", "location", "unit", "source") if k in data}
            rows = parse_rows(text, "json", name, "rows")
    else:
        rows = parse_rows(text, fmt, name, "rows")
        if issued_at is not None:
            defaults["issued_at"] = str(pd.Timestamp(issued_at))
    good, refused, repaired = [], [], []
    for number, raw in rows:
        row, bad, fixed = _check_row(number, raw, name, timezone=timezone, defaults=defaults)
        refused += bad
        repaired += fixed
        if row is not None:
            good.append(row)
    frame = pd.DataFrame(good, columns=["issued_at", "valid_at", "t_outdoor_c", *_OPTIONAL, "source", "_row"])
    frame, bad, fixed = _duplicates(frame, name)
    refused, repaired = refused + bad, repaired + fixed
    frame, bad, fixed = _gaps(frame, name)
    refused, repaired = refused + bad, repaired + fixed
    frame = frame.sort_values(["issued_at", "valid_at"]).drop(columns="_row").reset_index(drop=True)
    return ForecastFile(name=name, rows=frame, refused=refused, repaired=repaired)


def read_forecast_file(path, *, timezone: str, issued_at=None, fmt: str | None = None) -> ForecastFile:
    path = Path(path)
    chosen = file_format(path, fmt)
    if chosen == "yaml":
        raise FileRefused(f"{path}: forecasts come as CSV or JSON")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileRefused(f"{path}: cannot be read ({exc.strerror})") from exc
    return parse_forecast(decode(raw, path.name), chosen, path.name, timezone=timezone, issued_at=issued_at)


def fetch_forecast(url: str, *, timezone: str, timeout_s: float = 20.0, issued_at=None) -> ForecastFile:
    """GET ``url`` (a JSON forecast) and check it; the issue time is the payload's, else the fetch time."""
    import requests

    fetched = pd.Timestamp.now(tz="UTC").floor("h") if issued_at is None else issued_at
    response = requests.get(url, timeout=timeout_s, headers={"Accept": "application/json"})
    response.raise_for_status()
    return parse_forecast(response.text, "json", url, timezone=timezone, issued_at=fetched)


def store_forecast(pool, checked: ForecastFile, *, location: str, actor, strict: bool = False) -> ForecastFile:
    """Store what ``checked`` accepted (nothing when ``strict`` and a row was refused, or nothing was
    accepted); the counts in ``checked.stored``."""
    if checked.rows.empty or (strict and checked.refused):
        checked.stored = {"added": 0, "updated": 0, "unchanged": 0}
        return checked
    checked.stored = add_weather_forecasts(pool, location, checked.rows, actor=actor, origin=checked.name)
    return checked
