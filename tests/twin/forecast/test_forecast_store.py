"""Weather forecasts are kept with their issue time and read back as they were known at a moment."""

from __future__ import annotations

import pandas as pd
import pytest

from store.audit import Actor, list_audit_events
from store.forecasts import (
    add_load_forecast,
    add_weather_forecasts,
    get_latest_issue,
    list_load_forecast,
    list_weather_forecast,
    list_weather_issues,
)

T0 = pd.Timestamp("2026-12-01 00:00", tz="UTC")
ENGINEER = Actor("eng", role="engineer")


def _issue(issued_h: int, base_c: float, hours: int = 48) -> pd.DataFrame:
    issued = T0 + pd.Timedelta(hours=issued_h)
    valid = pd.date_range(issued, periods=hours + 1, freq="h")
    return pd.DataFrame({"issued_at": issued, "valid_at": valid, "t_outdoor_c": base_c, "wind_m_s": 3.0,
                         "source": "test"})


def test_as_known_takes_the_newest_issue_at_or_before_the_moment_never_a_later_one(pool):
    add_weather_forecasts(pool, "weifang", pd.concat([_issue(0, -1.0), _issue(6, -2.0), _issue(12, -3.0)]),
                          actor=ENGINEER)
    known = list_weather_forecast(pool, "weifang", issued_before=(T0 + pd.Timedelta(hours=8)).to_pydatetime())
    assert set(known["issued_at"]) == {T0, T0 + pd.Timedelta(hours=6)}
    # Hours the 06:00 issue covers come from it; earlier hours only the 00:00 issue had.
    by_valid = known.set_index("valid_at")["t_outdoor_c"]
    assert by_valid[T0 + pd.Timedelta(hours=3)] == -1.0 and by_valid[T0 + pd.Timedelta(hours=30)] == -2.0
    assert (known["issued_at"] <= T0 + pd.Timedelta(hours=8)).all()
    assert get_latest_issue(pool, "weifang", before=(T0 + pd.Timedelta(hours=13)).to_pydatetime()) == \
        (T0 + pd.Timedelta(hours=12)).to_pydatetime()
    assert len(list_weather_issues(pool, "weifang", start=T0.to_pydatetime(),
                                   end=(T0 + pd.Timedelta(days=1)).to_pydatetime())) == 3 * 49
    assert list_weather_forecast(pool, "elsewhere", issued_before=T0.to_pydatetime()).empty


def test_sent_again_changes_nothing_and_a_correction_replaces_and_both_are_audited(pool):
    first = add_weather_forecasts(pool, "weifang", _issue(0, -1.0), actor=ENGINEER, origin="a.csv")
    again = add_weather_forecasts(pool, "weifang", _issue(0, -1.0), actor=ENGINEER, origin="a.csv")
    corrected = _issue(0, -1.0)
    corrected.loc[5, "t_outdoor_c"] = -4.0
    fixed = add_weather_forecasts(pool, "weifang", corrected, actor=ENGINEER, origin="b.csv")
    assert first == {"added": 49, "updated": 0, "unchanged": 0}
    assert again == {"added": 0, "updated": 0, "unchanged": 49}
    assert fixed == {"added": 0, "updated": 1, "unchanged": 48}
    events = list_audit_events(pool, action="forecast.manage")
    assert len(events) == 3 and set(events["username"]) == {"eng"}


def test_a_valid_time_before_the_issue_is_refused_by_the_store_and_nothing_is_kept(pool):
    rows = _issue(6, -1.0)
    rows.loc[3, "valid_at"] = T0   # six hours before its issue
    with pytest.raises(Exception, match="check"):
        add_weather_forecasts(pool, "weifang", rows, actor=ENGINEER)
    assert list_weather_forecast(pool, "weifang", issued_before=(T0 + pd.Timedelta(days=9)).to_pydatetime()).empty


def test_load_forecast_newest_issue_per_element(pool):
    def issue(at_h, load):
        at = T0 + pd.Timedelta(hours=at_h)
        valid = pd.date_range(at + pd.Timedelta(hours=1), periods=48, freq="h")
        return pd.DataFrame({"issued_at": at, "valid_at": valid, "element_id": "ST-0001", "load_mw": load,
                             "p10_mw": load - 0.5, "p90_mw": load + 0.5})

    add_load_forecast(pool, issue(0, 3.0), model_id=None, weather_issued_at=None, actor=ENGINEER)
    add_load_forecast(pool, issue(1, 4.0), model_id=None, weather_issued_at=None, actor=ENGINEER)
    latest = list_load_forecast(pool, issued_before=(T0 + pd.Timedelta(minutes=90)).to_pydatetime())
    assert len(latest) == 48 and (latest["load_mw"] == 4.0).all()
    older = list_load_forecast(pool, issued_before=(T0 + pd.Timedelta(minutes=30)).to_pydatetime())
    assert (older["load_mw"] == 3.0).all()
