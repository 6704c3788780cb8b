"""Weather forecasts kept with their issue time, and the heat-load models and forecasts made from them.

A weather forecast row is (location, issued_at, valid_at, outdoor temperature, wind, solar, cloud,
humidity). "As known at" a moment means: for every valid hour, the newest forecast issued at or before
that moment — never one issued later, so a past decision is re-scored with what was known then.
Checking the rows (units, gaps, duplicates, issue after valid) is the adapters' job
(``twin.forecast.weather_input``); this module stores what they accepted, in one transaction per batch
with its audit row.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from store.audit import Actor, audited

WEATHER_COLUMNS = ("issued_at", "valid_at", "t_outdoor_c", "wind_m_s", "solar_w_m2", "cloud_pct", "humidity_pct",
                   "source")
LOAD_FORECAST_COLUMNS = ("issued_at", "valid_at", "element_id", "load_mw", "p10_mw", "p90_mw")
_VALUES = ("t_outdoor_c", "wind_m_s", "solar_w_m2", "cloud_pct", "humidity_pct")

_STAGE = ("CREATE TEMP TABLE weather_stage (issued_at timestamptz, valid_at timestamptz, t_outdoor_c float8,"
          " wind_m_s float8, solar_w_m2 float8, cloud_pct float8, humidity_pct float8, source text)"
          " ON COMMIT DROP")
_UPSERT = """
INSERT INTO weather_forecast AS w (location, issued_at, valid_at, t_outdoor_c, wind_m_s, solar_w_m2, cloud_pct,
                                   humidity_pct, source)
SELECT DISTINCT ON (issued_at, valid_at) %(location)s, issued_at, valid_at, t_outdoor_c, wind_m_s, solar_w_m2,
       cloud_pct, humidity_pct, source
FROM weather_stage ORDER BY issued_at, valid_at
ON CONFLICT (location, issued_at, valid_at) DO UPDATE
SET t_outdoor_c = EXCLUDED.t_outdoor_c, wind_m_s = EXCLUDED.wind_m_s, solar_w_m2 = EXCLUDED.solar_w_m2,
    cloud_pct = EXCLUDED.cloud_pct, humidity_pct = EXCLUDED.humidity_pct, source = EXCLUDED.source,
    received_at = now()
WHERE (w.t_outdoor_c, w.wind_m_s, w.solar_w_m2, w.cloud_pct, w.humidity_pct, w.source)
      IS DISTINCT FROM (EXCLUDED.t_outdoor_c, EXCLUDED.wind_m_s, EXCLUDED.solar_w_m2, EXCLUDED.cloud_pct,
                        EXCLUDED.humidity_pct, EXCLUDED.source)
RETURNING (xmax = 0) AS inserted
"""
_AS_KNOWN = """
SELECT DISTINCT ON (valid_at) issued_at, valid_at, t_outdoor_c, wind_m_s, solar_w_m2, cloud_pct, humidity_pct,
       source
FROM weather_forecast
WHERE location = %(location)s AND issued_at <= %(before)s
  AND valid_at >= coalesce(%(valid_from)s, '-infinity'::timestamptz)
  AND valid_at < coalesce(%(valid_to)s, 'infinity'::timestamptz)
ORDER BY valid_at, issued_at DESC
"""
_ISSUED = """
SELECT issued_at, valid_at, t_outdoor_c, wind_m_s, solar_w_m2, cloud_pct, humidity_pct, source
FROM weather_forecast
WHERE location = %(location)s AND issued_at >= %(start)s AND issued_at < %(end)s
ORDER BY issued_at, valid_at
"""


def _frame(rows, columns) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    for column in ("issued_at", "valid_at"):
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def add_weather_forecasts(pool: ConnectionPool, location: str, rows: pd.DataFrame, *, actor: Actor,
                          origin: str = "") -> dict:
    """Store checked forecast rows (``WEATHER_COLUMNS``; missing optional columns are NULL) for ``location``.

    A row already stored for the same (issued_at, valid_at) is replaced when its values differ and left
    alone when they do not. Returns ``added``, ``updated``, ``unchanged`` counts; audited
    ``forecast.manage`` as one change (the batch's issue times and file in the row).
    """
    frame = rows.copy()
    for column in WEATHER_COLUMNS:
        if column not in frame.columns:
            frame[column] = "" if column == "source" else None
    frame = frame[list(WEATHER_COLUMNS)]
    issues = sorted(pd.to_datetime(frame["issued_at"], utc=True).unique())
    object_id = f"{location}:{issues[0].isoformat()}" if issues else location
    with audited(pool, actor, "forecast.manage", "weather_forecast", object_id) as change:
        conn = change.conn
        conn.execute(_STAGE)
        with conn.cursor().copy("COPY weather_stage FROM STDIN") as copy:
            for row in frame.itertuples(index=False):
                values = [pd.Timestamp(row.issued_at).to_pydatetime(), pd.Timestamp(row.valid_at).to_pydatetime()]
                values += [None if pd.isna(v) else float(v) for v in (getattr(row, c) for c in _VALUES)]
                values.append(str(row.source or ""))
                copy.write_row(values)
        flags = [r[0] for r in conn.execute(_UPSERT, {"location": location}).fetchall()]
        added, updated = sum(flags), len(flags) - sum(flags)
        summary = {"location": location, "rows": len(frame), "added": added, "updated": updated,
                   "unchanged": len(frame) - len(flags), "issues": len(issues), "origin": origin}
        if issues:
            summary.update(first_issue=issues[0].isoformat(), last_issue=issues[-1].isoformat())
        change.after = summary
        change.detail = origin
    return {k: summary[k] for k in ("added", "updated", "unchanged")}


def list_weather_forecast(pool: ConnectionPool, location: str, *, issued_before: datetime,
                          valid_from: datetime | None = None, valid_to: datetime | None = None) -> pd.DataFrame:
    """The weather forecast for ``location`` as known at ``issued_before``: for every valid hour in
    ``[valid_from, valid_to)`` the newest row issued at or before ``issued_before``.

    Columns ``issued_at, valid_at, t_outdoor_c, wind_m_s, solar_w_m2, cloud_pct, humidity_pct, source``,
    ordered by ``valid_at``; each row keeps its own ``issued_at``, so a caller sees when an hour comes
    from an older issue (the fallback to the last forecast).
    """
    params = {"location": location, "before": issued_before, "valid_from": valid_from, "valid_to": valid_to}
    with pool.connection() as conn:
        rows = conn.execute(_AS_KNOWN, params).fetchall()
    return _frame(rows, WEATHER_COLUMNS)


def list_weather_issues(pool: ConnectionPool, location: str, *, start: datetime, end: datetime) -> pd.DataFrame:
    """Every forecast row issued in ``[start, end)`` (all issues, not only the newest): the archive a
    backtest replays."""
    with pool.connection() as conn:
        rows = conn.execute(_ISSUED, {"location": location, "start": start, "end": end}).fetchall()
    return _frame(rows, WEATHER_COLUMNS)


def get_latest_issue(pool: ConnectionPool, location: str, *, before: datetime) -> datetime | None:
    """When the newest forecast for ``location`` issued at or before ``before`` was issued (None: none)."""
    with pool.connection() as conn:
        row = conn.execute("SELECT max(issued_at) FROM weather_forecast WHERE location = %s AND issued_at <= %s",
                           (location, before)).fetchone()
    return None if row[0] is None else pd.Timestamp(row[0]).tz_convert("UTC").to_pydatetime()


# -- heat-load models and forecasts -----------------------------------------------------------------------

def add_load_model(pool: ConnectionPool, *, trained_until: datetime, location: str, elements: list[str],
                   boosters: dict, params: dict, scores: dict, actor: Actor) -> int:
    """Keep a trained model (``boosters``: quantile name → LightGBM model text, and ``band_margin``, the
    calibrated band's margin); its id. Audited."""
    with audited(pool, actor, "forecast.manage", "load_model") as change:
        model_id = change.conn.execute(
            "INSERT INTO load_model (trained_until, location, elements, params, scores, boosters)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (trained_until, location, list(elements), Jsonb(params), Jsonb(scores), Jsonb(boosters))).fetchone()[0]
        change.object_id = str(model_id)
        change.after = {"trained_until": str(trained_until), "location": location, "elements": len(elements),
                        "scores": scores}
    return model_id


def get_latest_load_model(pool: ConnectionPool, *, trained_before: datetime | None = None) -> dict | None:
    """The newest model (trained on data up to at most ``trained_before`` when given), or None."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT id, trained_at, trained_until, location, elements, params, scores, boosters FROM load_model"
            " WHERE trained_until <= coalesce(%s, 'infinity'::timestamptz) ORDER BY trained_until DESC, id DESC"
            " LIMIT 1", (trained_before,)).fetchone()
    if row is None:
        return None
    keys = ("id", "trained_at", "trained_until", "location", "elements", "params", "scores", "boosters")
    return dict(zip(keys, row, strict=True))


def add_load_forecast(pool: ConnectionPool, frame: pd.DataFrame, *, model_id: int | None,
                      weather_issued_at: datetime | None, actor: Actor) -> int:
    """Store one issue of the load forecast (``LOAD_FORECAST_COLUMNS``); rows of the same element, issue and
    valid hour are replaced. Returns the rows written."""
    with audited(pool, actor, "forecast.manage", "load_forecast") as change:
        conn = change.conn
        conn.execute("CREATE TEMP TABLE load_stage (LIKE load_forecast INCLUDING DEFAULTS) ON COMMIT DROP")
        with conn.cursor().copy("COPY load_stage (element_id, issued_at, valid_at, load_mw, p10_mw, p90_mw,"
                                " model_id, weather_issued_at) FROM STDIN") as copy:
            for row in frame.itertuples(index=False):
                copy.write_row([str(row.element_id), pd.Timestamp(row.issued_at).to_pydatetime(),
                                pd.Timestamp(row.valid_at).to_pydatetime(), float(row.load_mw), float(row.p10_mw),
                                float(row.p90_mw), model_id, weather_issued_at])
        written = conn.execute(
            "INSERT INTO load_forecast SELECT * FROM load_stage ON CONFLICT (element_id, issued_at, valid_at)"
            " DO UPDATE SET load_mw = EXCLUDED.load_mw, p10_mw = EXCLUDED.p10_mw, p90_mw = EXCLUDED.p90_mw,"
            " model_id = EXCLUDED.model_id, weather_issued_at = EXCLUDED.weather_issued_at").rowcount
        issued = pd.to_datetime(frame["issued_at"], utc=True)
        change.object_id = issued.max().isoformat() if len(frame) else ""
        change.after = {"rows": int(written), "elements": int(frame["element_id"].nunique()), "model_id": model_id}
    return int(written)


def list_load_forecast(pool: ConnectionPool, *, issued_before: datetime, element_ids: list[str] | None = None
                       ) -> pd.DataFrame:
    """The newest stored load-forecast issue at or before ``issued_before`` (per element), as
    ``LOAD_FORECAST_COLUMNS``, ordered by element and valid hour."""
    query = """
    WITH latest AS (
        SELECT element_id, max(issued_at) AS issued_at FROM load_forecast
        WHERE issued_at <= %(before)s AND (%(ids)s::text[] IS NULL OR element_id = ANY(%(ids)s::text[]))
        GROUP BY element_id)
    SELECT f.issued_at, f.valid_at, f.element_id, f.load_mw, f.p10_mw, f.p90_mw
    FROM load_forecast f JOIN latest l USING (element_id, issued_at)
    ORDER BY f.element_id, f.valid_at
    """
    with pool.connection() as conn:
        rows = conn.execute(query, {"before": issued_before,
                                    "ids": None if element_ids is None else list(element_ids)}).fetchall()
    return _frame(rows, LOAD_FORECAST_COLUMNS)
