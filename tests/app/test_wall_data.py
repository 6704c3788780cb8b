"""What the wall reads: the compliance it shows counts warm rooms by the alarm rules' threshold."""

from __future__ import annotations

import pandas as pd
import pytest

from app.components import wall_data as data


@pytest.mark.parametrize("warn_c, warm", [(None, False), (17.0, True)])
def test_compliance_counts_warm_rooms_by_the_rules_threshold(demo_db_url, tmp_path, monkeypatch, warn_c, warm):
    """A room at 17.5 °C is cold under the default rule (18 °C) and warm under a rules file saying 17 °C:
    the wall's compliance and its compliance alarms count the same rooms."""
    from store import telemetry
    from store.db import get_pool
    from store.households import list_households

    if warn_c is not None:
        rules = tmp_path / "rules.yaml"
        rules.write_text(f"room_warn_c: {warn_c}\n", encoding="utf-8")
        monkeypatch.setenv("HEATTWIN_ALARM_RULES", str(rules))
    assert data.compliance_threshold_c() == (18.0 if warn_c is None else warn_c)
    pool = get_pool(demo_db_url)
    households = list_households(pool, with_collector=True)
    room = str(households["sensor_id"].iloc[0])
    community = households["community_id"].iloc[0]
    now = pd.Timestamp.now(tz="UTC").floor("min")
    times = pd.date_range(now - pd.Timedelta(minutes=14), now, freq="1min")
    telemetry.ingest_rows(pool, pd.DataFrame({"time": times, "sensor_id": room, "value": 17.5}), "test")
    data._CACHE.pop("compliance", None)
    frame = data.compliance(pool)
    mine = frame[frame["community_id"] == community]
    assert int(mine["collectors"].sum()) >= 1
    assert int(mine["below"].sum()) == (0 if warm else 1)
