"""``heattwin simulate --history-days``: the demo's hourly history before the live backfill, written once, with
the plant's weather forecast issued at every simulated hour (what the load forecast trains on)."""

from __future__ import annotations

import pandas as pd

from scripts.cli import main
from store import forecasts as forecast_store
from store.db import get_pool
from store.telemetry.health import get_first_reading_time
from twin.forecast.data import DEFAULT_LOCATION

HISTORY = ["simulate", "--speed", "0", "--backfill-hours", "1", "--history-days", "0.25", "--step-s", "3600",
           "--via", "direct"]


def test_history_fills_the_hours_before_the_backfill_once_with_the_plants_forecasts(demo_db_url, monkeypatch,
                                                                                      capsys):
    monkeypatch.setenv("DATABASE_URL", demo_db_url)
    pool = get_pool(demo_db_url)
    now = pd.Timestamp.now(tz="UTC")
    assert main(HISTORY) == 0
    start = (now - pd.Timedelta(hours=7)).floor("h")
    first = pd.Timestamp(get_first_reading_time(pool, since=(now - pd.Timedelta(days=2)).to_pydatetime()))
    assert first == start

    issued = forecast_store.list_weather_issues(pool, DEFAULT_LOCATION, start=(start - pd.Timedelta(hours=1)).to_pydatetime(),
                                                end=now.to_pydatetime())
    issues = pd.to_datetime(issued["issued_at"], utc=True)
    assert list(issues.drop_duplicates()) == list(pd.date_range(start, periods=6, freq="h"))
    lead_h = (pd.to_datetime(issued["valid_at"], utc=True) - issues) / pd.Timedelta(hours=1)
    assert lead_h.groupby(issues).max().eq(48).all() and issued["t_outdoor_c"].notna().all()

    capsys.readouterr()
    assert main(HISTORY) == 0      # the store holds those hours now: a second run adds nothing
    assert "nothing to simulate" in capsys.readouterr().out
