"""The heat-load forecast of the network: hourly, 1–48 h ahead, per station and per source, with a band.

The interface the control half (schedules, balancing, the wall strip) reads:

- ``forecast_load(pool, issued_at=None)`` → DataFrame ``issued_at, valid_at, element_id, load_mw, p10_mw,
  p90_mw`` for every station (``ST-``) and source (``SRC-``) with history; ``frame.attrs`` says which
  weather issue it used (``weather_issued_at``) and whether that was a fallback to an older issue;
- ``predict(model, known, at)`` — the same from frames (no database);
- ``train_load_model(pool)`` — retrain on the store's history (the sync loop's housekeeping does it daily);
- ``load_history(pool, network, start, end)`` — the store's history as ``ForecastData``: delivered heat
  from the stations' heat meters, each source's heat from its flow and supply/return temperatures, the
  outdoor temperature sensor, the weather-forecast archive of ``location``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from heattwin import units
from heattwin.settings import load_settings
from store import forecasts as forecast_store
from store import telemetry
from store.audit import SYSTEM, Actor
from twin.forecast.data import DEFAULT_LOCATION, HOUR, STALE_WEATHER_H, ForecastData
from twin.forecast.features import LEADS_H, issue_features, training_rows
from twin.forecast.model import LoadModel, NotEnoughHistory

log = logging.getLogger(__name__)
TRAIN_DAYS = 60
TRAIN_ISSUE_EVERY_H = 6
COLUMNS = ("issued_at", "valid_at", "element_id", "load_mw", "p10_mw", "p90_mw")


def _utc(at) -> pd.Timestamp:
    at = pd.Timestamp.now(tz="UTC") if at is None else pd.Timestamp(at)
    return at.tz_convert("UTC") if at.tzinfo else at.tz_localize("UTC")


def _workday(pool):
    from store.calendar import CalendarMissing, get_work_calendar

    calendar = get_work_calendar(pool)

    def workday(day) -> bool:
        try:
            return calendar.is_workday(day)
        except CalendarMissing:
            return day.weekday() < 5   # a forecast feature, not a deadline: the week's pattern will do
    return workday


def _hourly(trend: pd.DataFrame, ids: dict[str, str]) -> pd.DataFrame:
    """Hourly means per element from a 1 h trend (sensor → element)."""
    if trend.empty:
        return pd.DataFrame()
    frame = trend.assign(element_id=trend["sensor_id"].map(ids), bucket=pd.to_datetime(trend["bucket"], utc=True))
    return frame.pivot_table(index="bucket", columns="element_id", values="avg", aggfunc="mean")


def load_history(pool, network, *, start, end, location: str = DEFAULT_LOCATION) -> ForecastData:
    """The store's hourly history in ``[start, end)`` as ``ForecastData`` (loads in MW)."""
    start, end = _utc(start), _utc(end)
    sensors = network.sensors.assign(id=network.sensors["id"].astype(str),
                                     element_id=network.sensors["element_id"].astype(str))
    on_station = sensors["element_id"].str.startswith("ST-")
    on_source = sensors["element_id"].str.startswith("SRC-")
    picked = {
        "heat": sensors[on_station & (sensors["kind"] == "heat")],
        "flow": sensors[on_source & (sensors["kind"] == "flow")],
        "t_supply": sensors[on_source & (sensors["kind"] == "t_supply")],
        "t_return": sensors[on_source & (sensors["kind"] == "t_return")],
        "outdoor": sensors[sensors["kind"] == "outdoor_t"],
    }
    ids = pd.concat(picked.values())["id"].tolist()
    trend = telemetry.get_trend(pool, ids, start.to_pydatetime(), end.to_pydatetime(), resolution="1h")
    hourly = {kind: _hourly(trend[trend["sensor_id"].isin(rows["id"])], dict(zip(rows["id"], rows["element_id"],
                                                                                 strict=True)))
              for kind, rows in picked.items()}
    index = pd.date_range(start.floor("h"), end.ceil("h") - HOUR, freq="h")
    stations = hourly["heat"].reindex(index)
    flow, t_sup, t_ret = (hourly[k].reindex(index) for k in ("flow", "t_supply", "t_return"))
    mdot = units.t_h_to_kg_per_s(flow)
    sources = units.w_to_mw(units.heat_w(mdot, t_sup.reindex(columns=flow.columns) - t_ret.reindex(columns=flow.columns)))
    loads = pd.concat([stations, sources], axis=1)
    outdoor = hourly["outdoor"].reindex(index)
    weather = pd.DataFrame({"t_outdoor_c": outdoor.mean(axis=1) if outdoor.shape[1] else np.nan}, index=index)
    archive = forecast_store.list_weather_issues(pool, location, start=(start - pd.Timedelta(days=3)).to_pydatetime(),
                                                 end=(end + pd.Timedelta(seconds=1)).to_pydatetime())  # issued at end
    return ForecastData(loads=loads, weather=weather, forecasts=archive, timezone=load_settings().timezone,
                        workday=_workday(pool))


def issue_times(start, end, every_h: int = TRAIN_ISSUE_EVERY_H) -> pd.DatetimeIndex:
    """Training issue times in ``[start, end)``, every ``every_h`` hours on the hour."""
    return pd.date_range(_utc(start).ceil("h"), _utc(end), freq=f"{every_h}h", inclusive="left")


def fit_model(data: ForecastData, *, until, days: float = TRAIN_DAYS, every_h: int = TRAIN_ISSUE_EVERY_H,
              elements=None, max_rows: int = 300_000, cache: dict | None = None, rounds: int | None = None
              ) -> LoadModel:
    """Train on the issues of the ``days`` before ``until`` (each seeing only what was known at it)."""
    until = _utc(until)
    known = data.as_of(until)
    measured = known.loads.dropna(how="all").index
    if measured.empty:
        raise NotEnoughHistory(f"no heat-load history before {until}")
    first = max(measured.min() + pd.Timedelta(days=2), until - pd.Timedelta(days=days))
    rows = training_rows(known, issue_times(first, until, every_h), until=until, elements=elements,
                         max_rows=max_rows, cache=cache)
    return LoadModel.fit(rows, trained_until=until, **({} if rounds is None else {"rounds": rounds}))


def predict(model: LoadModel, known: ForecastData, at, leads_h=LEADS_H, elements=None) -> pd.DataFrame:
    """The forecast issued at ``at`` from ``known`` (data as known then): ``COLUMNS``, plus
    ``weather_issued_at`` per row (NaT: no forecast reached that hour)."""
    at = _utc(at)
    rows = issue_features(known, at, leads_h, elements)
    if rows.empty:
        return pd.DataFrame(columns=[*COLUMNS, "weather_issued_at"])
    out = rows[["issued_at", "valid_at", "element_id", "weather_issued_at"]].join(model.predict(rows))
    return out[[*COLUMNS, "weather_issued_at"]].reset_index(drop=True)


def train_load_model(pool, network=None, *, until=None, days: float = TRAIN_DAYS, location: str = DEFAULT_LOCATION,
                     actor: Actor = SYSTEM) -> int:
    """Retrain on the store's last ``days`` of history up to ``until`` (default now); the stored model's id. Its
    scores: the last days' daily issues backtested as issued (``twin.forecast.backtest.recent_scores``)."""
    from twin.forecast.backtest import recent_scores  # the backtest fits through this module
    from twin.sync import load_network

    network = load_network(pool) if network is None else network
    until = _utc(until).floor("h")
    data = load_history(pool, network, start=until - pd.Timedelta(days=days + 8), end=until, location=location)
    model = fit_model(data, until=until, days=days)
    return forecast_store.add_load_model(pool, trained_until=until.to_pydatetime(), location=location,
                                         elements=data.elements, boosters=model.to_text(),
                                         params={"days": days, "rows": model.rows, "every_h": TRAIN_ISSUE_EVERY_H},
                                         scores=recent_scores(data, until, train_days=days), actor=actor)


def forecast_load(pool, *, issued_at=None, network=None, location: str = DEFAULT_LOCATION, store: bool = True,
                  actor: Actor = SYSTEM) -> pd.DataFrame:
    """The network's heat-load forecast issued at ``issued_at`` (default now, on the hour): ``COLUMNS``.

    Uses the newest model trained on data up to ``issued_at`` and the weather as known then; ``attrs``:
    ``model_id``, ``weather_issued_at`` (the newest issue used), ``weather_fallback`` (True when that issue
    is older than ``STALE_WEATHER_H`` or some hours had none), ``hours_without_forecast``. Stored in
    ``load_forecast`` unless ``store=False``. ``LookupError`` when no model has been trained yet.
    """
    from twin.sync import load_network

    at = _utc(issued_at).floor("h")
    stored = forecast_store.get_latest_load_model(pool, trained_before=at.to_pydatetime())
    if stored is None:
        raise LookupError("no heat-load model trained yet: run `heattwin forecast train` (the sync loop trains one"
                          " daily once the store holds a few days of history)")
    network = load_network(pool) if network is None else network
    model = LoadModel.from_text(stored["boosters"], trained_until=stored["trained_until"])
    data = load_history(pool, network, start=at - pd.Timedelta(days=91), end=at, location=location)
    frame = predict(model, data.as_of(at), at)
    used = pd.to_datetime(frame["weather_issued_at"], utc=True)
    newest = used.max() if used.notna().any() else None
    missing = int(frame.drop_duplicates("valid_at")["weather_issued_at"].isna().sum())
    fallback = newest is None or missing > 0 or (at - newest) > pd.Timedelta(hours=STALE_WEATHER_H)
    if fallback:
        log.warning("load forecast at %s: weather issue %s, %d hours without a forecast", at, newest, missing)
    result = frame[list(COLUMNS)].copy()
    if store and len(result):
        forecast_store.add_load_forecast(pool, result, model_id=stored["id"],
                                         weather_issued_at=None if newest is None else newest.to_pydatetime(),
                                         actor=actor)
    result.attrs.update(model_id=stored["id"], weather_issued_at=newest, weather_fallback=bool(fallback),
                        hours_without_forecast=missing)
    return result


class ForecastHousekeeping:
    """The sync loop's daily retraining and hourly issue of the load forecast; never stops the loop."""

    def __init__(self, pool, network, *, retrain_every_h: float = 24.0, min_history_days: float = 3.0):
        self.pool = pool
        self.network = network
        self.retrain_every_h = retrain_every_h
        self.min_history_days = min_history_days
        self.last_issue: pd.Timestamp | None = None
        self.next_attempt: pd.Timestamp | None = None   # a young store is not asked again within the hour

    def run(self, at) -> dict:
        at = _utc(at).floor("h")
        done = {}
        latest = forecast_store.get_latest_load_model(self.pool)
        due = latest is None or at - pd.Timestamp(latest["trained_until"]) >= pd.Timedelta(hours=self.retrain_every_h)
        if due and (self.next_attempt is None or at >= self.next_attempt):
            try:
                done["model_id"] = train_load_model(self.pool, self.network, until=at)
            except ValueError as exc:   # NotEnoughHistory: the store is young
                log.info("heat-load model not retrained at %s: %s", at, exc)
                self.next_attempt = at + HOUR
        if self.last_issue != at and (latest is not None or "model_id" in done):
            try:
                done["forecast_rows"] = len(forecast_load(self.pool, issued_at=at, network=self.network))
                self.last_issue = at
            except LookupError as exc:
                log.info("no load forecast at %s: %s", at, exc)
        return done
