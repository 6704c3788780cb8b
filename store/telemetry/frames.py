"""Turn whatever an ingest route received into the staging frame that ``ingest_rows`` copies.

No SQL here: this module only parses (vectorised, with pandas) and labels the rows that cannot
even be parsed, so the database can quarantine them beside the rows it refuses itself.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

# A UTC offset after a clock time ("…12:00Z", "…12:00:00+08:00"); a bare date's "-01" is not one.
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
STAGE_COLUMNS = ("ord", "sensor_id", "time_us", "value", "reason", "raw", "origin")


def _missing(series: pd.Series) -> np.ndarray:
    """True where a cell holds nothing: None, NaN/NaT, or an empty/blank string."""
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        blank = series.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        missing = missing | blank
    return missing


def _all_text(series: pd.Series) -> bool:
    """Every present cell is a string (a CSV read as text): the per-cell type checks can be skipped."""
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def _not_scalar(series: pd.Series) -> pd.Series:
    """Cells no parser should see: booleans, lists, objects (JSON lets a sender put anything)."""
    if _all_text(series):
        return pd.Series(False, index=series.index)
    return series.map(lambda cell: isinstance(cell, (bool, list, dict, tuple, set)))


def parse_times(series: pd.Series) -> pd.Series:
    """UTC timestamps from datetimes, ISO 8601 strings or epoch seconds; NaT where unparseable.

    Naive datetimes and ISO strings without an offset are taken as UTC (the storage zone).
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        if series.dt.tz is None:
            return series.dt.tz_localize("UTC")
        return series.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return pd.to_datetime(series, unit="s", utc=True, errors="coerce")
    # Mixed cells (JSON: ISO strings and epoch numbers; CSV: epoch text; frames: datetime objects).
    odd = _not_scalar(series)
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    if _all_text(series):
        is_str, is_datetime = series.notna(), pd.Series(False, index=series.index)
    else:
        kinds = series.map(type)
        is_str = kinds.eq(str)
        is_datetime = kinds.map(lambda k: issubclass(k, (datetime, np.datetime64)))
    if is_str.any():
        _parse_iso(series[is_str].str.strip(), out)
    if is_datetime.any():
        out[is_datetime] = pd.to_datetime(series[is_datetime], utc=True, errors="coerce")
    rest = out.isna() & series.notna() & ~odd & ~is_datetime
    if rest.any():
        numbers = pd.to_numeric(series[rest], errors="coerce")
        out[rest] = pd.to_datetime(numbers, unit="s", utc=True, errors="coerce")
    return out


def _parse_iso(strings: pd.Series, out: pd.Series) -> None:
    # pandas lets the first string's offset leak onto naive ones parsed with it: parse apart.
    aware = strings.str.contains(_OFFSET, regex=True, na=False)
    for part in (strings[aware], strings[~aware]):
        if len(part):
            out[part.index] = pd.to_datetime(part, utc=True, format="ISO8601", errors="coerce")


def _looks_non_finite(cell) -> bool:
    """A cell that is a number, just not a finite one ("NaN", "inf"): the database labels those."""
    try:
        return not np.isfinite(float(cell))
    except (TypeError, ValueError):
        return False


def parse_values(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Float values, and a mask of cells that are not numbers at all (text, lists, booleans)."""
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
        return series.astype("float64"), np.zeros(len(series), dtype=bool)
    odd = _not_scalar(series).to_numpy()
    values = pd.to_numeric(series.where(~odd), errors="coerce").astype("float64")
    failed = values.isna().to_numpy() & ~series.isna().to_numpy()
    if failed.any():
        idx = np.flatnonzero(failed)
        failed[idx] = [not _looks_non_finite(c) for c in series.iloc[idx]]
    return values, failed | odd


def _value_missing(series: pd.Series) -> np.ndarray:
    """Nothing sent for the value (None, blank text); a float NaN was sent, and is not finite."""
    if pd.api.types.is_numeric_dtype(series):
        return np.zeros(len(series), dtype=bool)
    if pd.api.types.infer_dtype(series, skipna=True) == "string":  # no float NaN among text cells
        return _missing(series)
    return _missing(series) & ~series.map(type).eq(float).to_numpy()


def _first_reason(n: int, checks: list[tuple[np.ndarray, str]]) -> np.ndarray:
    reason = np.full(n, None, dtype=object)
    for mask, label in reversed(checks):  # reversed: the first listed check wins
        reason[mask] = label
    return reason


def _raw_of(rows: pd.DataFrame, idx: np.ndarray) -> list[str]:
    """The cells as received, for rows quarantined before they reached the database."""
    part = rows.iloc[idx]
    return [f"{s},{t},{v}" for s, t, v in zip(part["sensor_id"], part["time"], part["value"], strict=True)]


def _parse(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Parsed times and values, and per row the first reason it cannot even reach the database."""
    times = parse_times(rows["time"])
    values, value_bad = parse_values(rows["value"])
    time_missing = _missing(rows["time"])
    reason = _first_reason(len(rows), [
        (_missing(rows["sensor_id"]), "sensor_missing"),
        (time_missing, "time_missing"),
        (times.isna().to_numpy() & ~time_missing, "time_unparseable"),
        (_value_missing(rows["value"]), "value_missing"),
        (value_bad, "value_unparseable"),
    ])
    if "reason" in rows.columns:  # a route's own label (e.g. a JSON line that did not parse) wins
        given = rows["reason"].to_numpy(dtype=object)
        reason = np.where(pd.isna(given), reason, given)
    return times, values, reason


def stage_frame(rows: pd.DataFrame, raw: pd.Series | None = None) -> pd.DataFrame:
    """The staging frame: one row per input row, in input order, with a pre-parse ``reason``.

    ``rows`` has ``time, sensor_id, value`` and optionally ``raw``, ``origin`` (per-row origin, as
    MQTT topics need) and ``reason`` (set by a route that already knows a row is malformed).
    """
    for column in ("time", "sensor_id", "value"):
        if column not in rows.columns:
            raise ValueError(f"ingest rows need columns time, sensor_id, value; {column!r} is missing "
                             f"(got {', '.join(map(str, rows.columns))})")
    rows = rows.reset_index(drop=True)
    n = len(rows)
    times, values, reason = _parse(rows)
    if raw is None and "raw" in rows.columns:
        raw = rows["raw"]
    raw_cells = np.full(n, None, dtype=object) if raw is None else pd.Series(raw).to_numpy(dtype=object).copy()
    needs_raw = np.flatnonzero(pd.notna(reason) & pd.isna(raw_cells))
    if len(needs_raw):
        raw_cells[needs_raw] = _raw_of(rows, needs_raw)
    # Rows without a sensor already carry their reason; only NaN needs to become NULL here.
    sensor = rows["sensor_id"].astype(object).where(rows["sensor_id"].notna(), None)
    if not pd.api.types.is_string_dtype(rows["sensor_id"]):
        sensor = sensor.map(lambda s: s if s is None else str(s))
    origin = rows["origin"].to_numpy(dtype=object) if "origin" in rows.columns else np.full(n, None, dtype=object)
    return pd.DataFrame({
        "ord": np.arange(n, dtype=np.int64),
        "sensor_id": sensor.to_numpy(dtype=object),
        "time": times.reset_index(drop=True),
        "value": values.to_numpy(),
        "reason": reason,
        "raw": raw_cells,
        "origin": origin,
    })
