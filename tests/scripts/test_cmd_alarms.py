"""``heattwin alarms``: list, acknowledge, clear with a note, open a work order — each recorded with its actor."""

from __future__ import annotations

import pytest

from scripts.cli import main
from store import alarms
from store.audit import Actor, list_audit_events
from store.db import get_pool
from store.users import add_user

SETUP = Actor("test-setup", "cli")


@pytest.fixture
def alarm(demo_db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_db_url)
    pool = get_pool(demo_db_url)
    for username, display_name, role in (("zhang", "调度员 张", "dispatcher"), ("li", "班长 李", "dispatcher"),
                                         ("chen", "工程师 陈", "engineer")):
        add_user(pool, username=username, password="a long test password", roles=[role], actor=SETUP,
                 display_name=display_name)
    return pool, alarms.add_alarm(pool, asset_id="ST-0001", cause="station_dp_low", severity="alarm",
                                  message="differential pressure 0.20 bar under its minimum 0.50")


def test_the_alarm_desk_from_the_command_line(alarm, capsys):
    pool, alarm_id = alarm
    assert main(["alarms", "list"]) == 0
    assert f"#{alarm_id}" in capsys.readouterr().out
    assert main(["alarms", "ack", str(alarm_id), "--by", "zhang"]) == 0
    assert main(["alarms", "work-order", str(alarm_id), "--by", "zhang"]) == 0
    assert "work order #" in capsys.readouterr().out
    assert main(["alarms", "clear", str(alarm_id), "--by", "li", "--note", "阀门已调整"]) == 0
    assert main(["alarms", "clear", str(alarm_id), "--by", "li", "--note", "again"]) == 2   # not open any more
    assert main(["alarms", "events", str(alarm_id)]) == 0
    out = capsys.readouterr().out
    assert "zhang" in out and "li " in out and "work_order" in out
    stored = alarms.get_alarm(pool, alarm_id)
    assert stored["acknowledged_by"] == "zhang" and stored["cleared_by"] == "li"
    done = list_audit_events(pool, object_type="alarm", object_id=str(alarm_id), outcome="ok")
    assert set(zip(done["username"], done["action"], strict=True)) == {("zhang", "alarm.ack"), ("zhang", "alarm.work_order"),
                                                          ("li", "alarm.clear")}
    assert set(done["client_addr"]) == {"cli"}


def test_by_must_name_a_user_whose_roles_allow_it(alarm):
    pool, alarm_id = alarm
    with pytest.raises(SystemExit, match="no active HeatTwin user"):
        main(["alarms", "ack", str(alarm_id), "--by", "调度员 张"])
    with pytest.raises(SystemExit, match="allows alarm.ack"):
        main(["alarms", "ack", str(alarm_id), "--by", "chen"])
    assert alarms.get_alarm(pool, alarm_id)["state"] == "raised"
    assert main(["alarms", "ack", str(alarm_id)]) == 0  # no --by: signed by the OS account
    assert alarms.get_alarm(pool, alarm_id)["acknowledged_by"].startswith("cli:")
