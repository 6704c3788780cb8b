"""The sync loop keeps an advised schedule as fresh as the forecast it rests on: proposed every few hours once
a load forecast exists, asked again within the hour before that, never accepted by itself."""

from __future__ import annotations

import pandas as pd
from test_load_forecast_store import NOW, history_pool  # noqa: F401 (a fixture)

from store import control
from twin.forecast.load import ForecastHousekeeping
from twin.sync import PLAN_EVERY, SyncLoop


def _housekeep_planning(loop: SyncLoop, at: pd.Timestamp) -> None:
    loop._last_at = at
    loop._plan_control()


def test_the_loop_proposes_a_schedule_every_few_hours_once_a_forecast_exists(history_pool):  # noqa: F811
    pool, network, _ = history_pool
    loop = SyncLoop(pool, network=network)
    _housekeep_planning(loop, NOW)          # no heat-load model yet: nothing to plan on
    assert control.list_schedules(pool).empty

    ForecastHousekeeping(pool, network).run(NOW)
    _housekeep_planning(loop, NOW + pd.Timedelta(minutes=30))   # asked again only after an hour
    assert control.list_schedules(pool).empty
    _housekeep_planning(loop, NOW + pd.Timedelta(hours=1))
    first = control.list_schedules(pool)
    assert len(first) == 1 and first["state"].iloc[0] == "proposed" and first["created_by"].iloc[0] == "system"

    _housekeep_planning(loop, NOW + pd.Timedelta(hours=2))      # not due yet
    assert len(control.list_schedules(pool)) == 1
    # A restarted loop reads when the last proposal was made rather than planning at once.
    restarted = SyncLoop(pool, network=network)
    _housekeep_planning(restarted, NOW + pd.Timedelta(hours=2))
    assert len(control.list_schedules(pool)) == 1
    _housekeep_planning(restarted, NOW + pd.Timedelta(hours=1) + PLAN_EVERY)
    schedules = control.list_schedules(pool)
    assert len(schedules) == 2 and set(schedules["state"]) == {"proposed"}
    assert control.get_accepted(pool) is None
