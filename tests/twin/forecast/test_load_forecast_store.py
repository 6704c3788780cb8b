"""The heat-load forecast end to end through the store: telemetry history and stored weather forecasts in,
a trained model and a 48 h forecast per station and source out, the way the control half reads it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from heattwin.clock import local_hours
from store import telemetry
from store.audit import Actor
from store.db import get_pool
from store.forecasts import add_weather_forecasts, list_load_forecast
from twin.forecast.load import DEFAULT_LOCATION, ForecastHousekeeping, forecast_load
from twin.plant.control import station_heat_mw
from twin.plant.weather import SyntheticWeather
from twin.sync import load_network

NOW = pd.Timestamp.now(tz="UTC").floor("6h")   # readings from the future would be refused
DAYS = 6


@pytest.fixture
def history_pool(demo_db_url):
    pool = get_pool(demo_db_url)
    network = load_network(pool)
    sensors = network.sensors.assign(id=network.sensors["id"].astype(str))
    weather = SyntheticWeather(NOW - pd.Timedelta(days=DAYS), seed=3)
    hours = pd.date_range(NOW - pd.Timedelta(days=DAYS), NOW - pd.Timedelta(hours=1), freq="h")
    t_c = weather.temperature_c(hours)
    stations = network.stations.head(4)
    rows = []
    for station in stations.itertuples():
        sensor = sensors[(sensors["element_id"] == station.id) & (sensors["kind"] == "heat")]["id"].iloc[0]
        heat = station_heat_mw(float(station.design_heat_mw), t_c, local_hours(hours))
        rows.append(pd.DataFrame({"time": hours, "sensor_id": sensor, "value": heat}))
    outdoor = sensors[sensors["kind"] == "outdoor_t"]["id"].iloc[0]
    rows.append(pd.DataFrame({"time": hours, "sensor_id": outdoor, "value": t_c}))
    telemetry.ingest_rows(pool, pd.concat(rows, ignore_index=True), origin="test")
    issues = pd.date_range(hours[0], NOW, freq="6h")
    add_weather_forecasts(pool, DEFAULT_LOCATION, pd.concat([weather.issue_forecast(a) for a in issues]),
                          actor=Actor("plant"))
    return pool, network, list(stations["id"].astype(str))


def test_housekeeping_trains_and_issues_a_48h_forecast_per_station(history_pool):
    pool, network, station_ids = history_pool
    done = ForecastHousekeeping(pool, network).run(NOW)
    assert done["model_id"] and done["forecast_rows"] == 4 * 48
    stored = list_load_forecast(pool, issued_before=NOW.to_pydatetime())
    assert set(stored["element_id"]) == set(station_ids)
    lead = (stored["valid_at"] - stored["issued_at"]) / pd.Timedelta(hours=1)
    assert lead.min() == 1 and lead.max() == 48
    assert (stored["p10_mw"] <= stored["load_mw"]).all() and (stored["load_mw"] <= stored["p90_mw"]).all()
    frame = forecast_load(pool, issued_at=NOW, network=network, store=False)
    assert frame.attrs["weather_issued_at"] == NOW and not frame.attrs["weather_fallback"]
    # Same order of size as the stations' recent load: a forecast, not a constant.
    recent = telemetry.get_trend(pool, [], NOW.to_pydatetime(), NOW.to_pydatetime())
    assert recent.empty and frame["load_mw"].between(0.1, 20).all() and frame["load_mw"].std() > 0.01


def test_a_missing_weather_issue_falls_back_to_the_last_one_and_says_so(history_pool):
    pool, network, _ = history_pool
    ForecastHousekeeping(pool, network).run(NOW)
    later = NOW + pd.Timedelta(hours=20)   # no issue since NOW: 20 h old, and the last hours uncovered
    frame = forecast_load(pool, issued_at=later, network=network, store=False)
    assert frame.attrs["weather_fallback"] and frame.attrs["weather_issued_at"] == NOW
    assert frame.attrs["hours_without_forecast"] == 20
    assert np.isfinite(frame["load_mw"]).all()
