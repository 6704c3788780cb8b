"""The wall's 48 h strip as known at a moment: two issues of the weather and load forecasts and two schedules;
the strip at a moment between them shows the first issue's values, never the second's (hindsight), and now
shows the second's. A browser test (tests/app/test_replay.py) checks the same on the wall's replay."""

from __future__ import annotations

import pandas as pd
import pytest

from app.components.wall_strip import strip_as_of
from layers.design import DEFAULT_DESIGN
from store import control as control_store
from store import forecasts as forecast_store
from store.audit import SYSTEM

FIRST = pd.Timestamp("2026-12-10 00:00", tz="UTC")
SECOND = FIRST + pd.Timedelta(hours=6)


def seed_issue(pool, issued: pd.Timestamp, *, outdoor_c: float, load_mw: float, supply_c: float | None) -> None:
    """One issue of everything the strip reads: 60 hours of weather, two stations' load, and (when
    ``supply_c``) a schedule for one source."""
    hours = pd.date_range(issued + pd.Timedelta(hours=1), periods=60, freq="h")
    forecast_store.add_weather_forecasts(pool, "network", pd.DataFrame(
        {"issued_at": issued, "valid_at": hours, "t_outdoor_c": outdoor_c}), actor=SYSTEM)
    loads = pd.concat([pd.DataFrame({"element_id": station, "issued_at": issued, "valid_at": hours,
                                     "load_mw": load_mw / 2, "p10_mw": load_mw / 2 - 1, "p90_mw": load_mw / 2 + 1})
                       for station in ("ST-0001", "ST-0002")])
    loads = pd.concat([loads, loads.head(48).assign(element_id="SRC-1", load_mw=999.0, p10_mw=990.0, p90_mw=1010.0)])  # a source: not summed
    forecast_store.add_load_forecast(pool, loads, model_id=None, weather_issued_at=issued.to_pydatetime(),
                                     actor=SYSTEM)
    if supply_c is not None:
        summary = {"hourly": {"valid_at": [h.isoformat() for h in hours[:48]], "supply_c": {"SRC-1": [supply_c] * 48}}}
        control_store.add_schedule(pool, issued_at=issued.to_pydatetime(),
                                   expires_at=(issued + pd.Timedelta(hours=48)).to_pydatetime(),
                                   setpoints=pd.DataFrame(columns=control_store.SETPOINT_COLUMNS),
                                   stations=pd.DataFrame(), summary=summary, actor=SYSTEM)


@pytest.fixture
def two_issues(pool):
    seed_issue(pool, FIRST, outdoor_c=-5.0, load_mw=40.0, supply_c=95.0)
    seed_issue(pool, SECOND, outdoor_c=3.0, load_mw=30.0, supply_c=85.0)
    return pool


def test_the_strip_between_two_issues_shows_the_first_and_nothing_of_the_second(two_issues):
    at = FIRST + pd.Timedelta(hours=3)
    data = strip_as_of(two_issues, at.to_pydatetime())
    assert set(data["outdoor"].round(1)) == {-5.0}
    assert data["outdoor"].index.min() >= at and data["outdoor"].index.max() < at + pd.Timedelta(hours=48)
    assert set(data["load"].round(1)) == {40.0}                 # the two stations, not the source
    assert set(data["p90"].round(1)) == {42.0}
    assert set(data["supply"]["SRC-1"].dropna()) == {95.0}
    assert data["hours"].min() >= at
    assert not data["no_weather"] and not data["fallback"]
    # The heating curve at the forecast as issued then (−5 °C), beside the advice: what the plants run without it.
    assert set(data["curve_c"].round(2)) == {round(float(DEFAULT_DESIGN.supply_c(-5.0)), 2)}


def test_the_strip_after_the_second_issue_shows_it(two_issues):
    data = strip_as_of(two_issues, (SECOND + pd.Timedelta(hours=1)).to_pydatetime())
    assert set(data["outdoor"].round(1)) == {3.0}
    assert set(data["load"].round(1)) == {30.0}
    assert set(data["supply"]["SRC-1"].dropna()) == {85.0}


def test_an_old_issue_is_shown_as_a_fallback_and_none_as_no_forecast(two_issues, pool):
    stale = strip_as_of(two_issues, (SECOND + pd.Timedelta(hours=20)).to_pydatetime())
    assert stale["fallback"] and set(stale["outdoor"].round(1)) == {3.0}
    before = strip_as_of(two_issues, (FIRST - pd.Timedelta(hours=1)).to_pydatetime())
    assert before["no_weather"] and before["supply"] is None and not len(before["load"])
