"""``heattwin alarms``: list, acknowledge, clear with a note, open a work order — each recorded with its actor."""

from __future__ import annotations

import pytest

from scripts.cli import main
from store import alarms
from store.db import get_pool


@pytest.fixture
def alarm(demo_db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_db_url)
    pool = get_pool(demo_db_url)
    return pool, alarms.add_alarm(pool, asset_id="ST-0001", cause="station_dp_low", severity="alarm",
                                  message="differential pressure 0.20 bar under its minimum 0.50")


def test_the_alarm_desk_from_the_command_line(alarm, capsys):
    pool, alarm_id = alarm
    assert main(["alarms", "list"]) == 0
    assert f"#{alarm_id}" in capsys.readouterr().out
    assert main(["alarms", "ack", str(alarm_id), "--by", "调度员 张"]) == 0
    assert main(["alarms", "work-order", str(alarm_id), "--by", "调度员 张"]) == 0
    assert "work order #" in capsys.readouterr().out
    assert main(["alarms", "clear", str(alarm_id), "--by", "班长 李", "--note", "阀门已调整"]) == 0
    assert main(["alarms", "clear", str(alarm_id), "--by", "x", "--note", "again"]) == 2   # not open any more
    assert main(["alarms", "events", str(alarm_id)]) == 0
    out = capsys.readouterr().out
    assert "调度员 张" in out and "班长 李" in out and "work_order" in out
    stored = alarms.get_alarm(pool, alarm_id)
    assert stored["acknowledged_by"] == "调度员 张" and stored["cleared_by"] == "班长 李"
