"""SLA clocks: the policy file, due times across a weekend, National Day 2026 and its 调休 working
Saturday, the 12345 deadline, the clear error (or the note) for a year without calendar data, and pauses.

Expected times are worked out by hand in the comments; the 2027 list is test data, not the official one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from store.audit import Actor
from store.calendar import CalendarMissing, WorkCalendar, get_work_calendar, load_calendar_file
from store.db import transaction
from store.work_orders.sla import (
    compute_due_times,
    compute_revisit_due,
    due_times_with_notes,
    revisit_due_with_note,
    set_due_times_on,
    set_revisit_due_on,
    shift_clocks_on,
    shift_due_times,
)
from store.work_orders.sla_policy import Clock, SlaPolicyError, load_sla_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIBRARY = WorkCalendar()
POLICY = load_sla_policy()


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def shanghai(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(SHANGHAI)


def due(category: str, priority: str, created_at: datetime, *, origin: str = "hotline", external=None,
        calendar: WorkCalendar = LIBRARY):
    return compute_due_times(category=category, priority=priority, origin=origin, created_at=created_at,
                             external_due_at=external, calendar=calendar, policy=POLICY)


# -- the default policy --------------------------------------------------------------------------------

def test_the_default_policy_carries_the_seeds_figures():
    room = POLICY.table[("room_cold", "normal")]   # Beijing: reply 1 h, on site 6 h, fixed within 24 h
    assert (room["reply"], room["site"], room["resolve"]) == (Clock("hours", 1), Clock("hours", 6), Clock("hours", 24))
    for priority in ("low", "normal", "urgent"):   # emergencies: on site within 2 h
        assert POLICY.clock("leak", priority, "site") == Clock("hours", 2)
        assert POLICY.clock("no_heat", priority, "site") == Clock("hours", 2)
    assert POLICY.clock("room_cold", "normal", "revisit") == Clock("working_days", 2)
    assert POLICY.clock("invoice", "normal", "resolve").unit == "working_days"
    assert POLICY.clock("payment", "urgent", "site") is None


# -- due times -----------------------------------------------------------------------------------------

def test_hour_clocks_run_around_the_clock_holidays_included():
    d = due("room_cold", "normal", local(2026, 10, 1, 10))   # National Day itself
    assert (shanghai(d.reply), shanghai(d.site), shanghai(d.resolve)) == \
        (local(2026, 10, 1, 11), local(2026, 10, 1, 16), local(2026, 10, 2, 10))


def test_a_working_day_clock_skips_a_weekend():
    # An invoice (3 working days) filed on Friday 15:00: 9 h of Friday, Monday, Tuesday, Wednesday until 15:00.
    d = due("invoice", "normal", local(2026, 3, 6, 15))
    assert shanghai(d.resolve) == local(2026, 3, 11, 15)
    assert d.site is None and shanghai(d.reply) == local(2026, 3, 6, 16)


def test_a_working_day_clock_skips_national_day_and_counts_its_make_up_saturday():
    # Filed on 30 September 15:00: 9 h of that Wednesday; 1–7 October off; Thursday 8 and Friday 9 October;
    # Saturday 10 October is a 调休 working day, so the third day ends there at 15:00, not on Monday.
    d = due("invoice", "normal", local(2026, 9, 30, 15))
    assert shanghai(d.resolve) == local(2026, 10, 10, 15)
    assert date(2026, 10, 10) in chinese_calendar.workdays and date(2026, 10, 10).weekday() == 5
    assert all(date(2026, 10, n) in chinese_calendar.holidays for n in range(1, 8))


def test_a_working_day_clock_counts_a_make_up_sunday():
    # A refund visit (2 working days) on Friday 18 September 15:00: Saturday 19 off, Sunday 20 a 调休
    # working day, Monday 21 until 15:00.
    d = due("refund", "normal", local(2026, 9, 18, 15))
    assert shanghai(d.site) == local(2026, 9, 21, 15)


def test_the_revisit_is_due_two_working_days_after_the_repair():
    # Resolved on Friday 9 October 15:00: 9 h of Friday, the make-up Saturday, Sunday off, Monday until 15:00.
    revisit = compute_revisit_due(category="room_cold", priority="normal", resolved_at=local(2026, 10, 9, 15),
                                  calendar=LIBRARY, policy=POLICY)
    assert shanghai(revisit) == local(2026, 10, 12, 15)


def test_the_12345_deadline_wins_when_it_is_earlier():
    filed = local(2026, 11, 16, 9)
    earlier = due("room_cold", "normal", filed, origin="platform_12345", external=filed + timedelta(hours=12))
    assert shanghai(earlier.resolve) == local(2026, 11, 16, 21) and earlier.platform == {"resolve"}
    assert shanghai(earlier.site) == local(2026, 11, 16, 15)   # the policy's 6 h is earlier still
    tight = due("room_cold", "normal", filed, origin="platform_12345", external=filed + timedelta(hours=3))
    assert shanghai(tight.site) == local(2026, 11, 16, 12) and tight.platform == {"site", "resolve"}
    later = due("room_cold", "normal", filed, origin="platform_12345", external=filed + timedelta(hours=48))
    assert shanghai(later.resolve) == local(2026, 11, 17, 9) and later.platform == frozenset()


def test_the_12345_deadline_needs_a_12345_order_and_a_time_after_filing():
    filed = local(2026, 11, 16, 9)
    with pytest.raises(ValueError, match="only 12345-platform orders"):
        due("room_cold", "normal", filed, origin="hotline", external=filed + timedelta(hours=3))
    with pytest.raises(ValueError, match="not after"):
        due("room_cold", "normal", filed, origin="platform_12345", external=filed - timedelta(hours=1))


# -- a year without calendar data ----------------------------------------------------------------------

def test_a_working_day_clock_reaching_2027_raises_before_the_year_is_loaded():
    with pytest.raises(CalendarMissing, match=r"2027.*heattwin calendar load"):
        due("invoice", "normal", local(2026, 12, 30, 15))
    with pytest.raises(CalendarMissing, match="2027"):
        compute_revisit_due(category="room_cold", priority="normal", resolved_at=local(2026, 12, 31, 15),
                            calendar=LIBRARY, policy=POLICY)


def test_an_order_can_be_filed_anyway_with_the_clock_empty_and_the_reason_noted():
    d = due_times_with_notes(category="invoice", priority="normal", origin="hotline",
                             created_at=local(2026, 12, 30, 15), calendar=LIBRARY, policy=POLICY)
    assert d.resolve is None and shanghai(d.reply) == local(2026, 12, 30, 16)
    assert "resolve: 3 working days not counted, no working-day calendar for 2027" in d.sla_note
    assert "heattwin calendar load" in d.columns()["sla_note"]
    revisit, note = revisit_due_with_note(category="room_cold", priority="normal", resolved_at=local(2026, 12, 31, 15),
                                          calendar=LIBRARY, policy=POLICY)
    assert revisit is None and "revisit" in note and "2027" in note


def test_without_calendar_data_the_12345_deadline_stands_for_the_resolve_clock():
    filed, deadline = local(2026, 12, 30, 15), local(2027, 1, 6, 17)
    d = due_times_with_notes(category="invoice", priority="normal", origin="platform_12345", created_at=filed,
                             external_due_at=deadline, calendar=LIBRARY, policy=POLICY)
    assert shanghai(d.resolve) == deadline and "the 12345 deadline stands" in d.sla_note


def test_after_loading_2027_the_clocks_count_across_the_new_year(pool, tmp_path):
    path = tmp_path / "holidays-2027.yaml"
    path.write_text("source: test list (not official)\ncomplete_years: [2027]\ndays:\n"
                    "  - {date: 2027-01-01, workday: false, note: 元旦}\n"
                    "  - {date: 2027-01-03, workday: true, note: make-up Sunday}\n", encoding="utf-8")
    load_calendar_file(pool, path, actor=Actor("admin-li", "admin"))
    # Thursday 31 December 15:00, 3 working days: 9 h; 1 January off; Saturday off; the make-up Sunday;
    # Monday 4 January; Tuesday until 15:00.
    d = due("invoice", "normal", local(2026, 12, 31, 15), calendar=get_work_calendar(pool))
    assert shanghai(d.resolve) == local(2027, 1, 5, 15)


# -- pauses --------------------------------------------------------------------------------------------

def test_a_pause_moves_hour_clocks_by_its_length_and_working_day_clocks_by_its_working_time():
    dues = {"site": local(2026, 3, 6, 16), "resolve": local(2026, 3, 10, 15)}
    clocks = {"site": Clock("hours", 6), "resolve": Clock("working_days", 2)}
    # Paused from Friday 10:00 to Monday 10:00: 72 h, of which 24 h are working time (14 h Friday, 10 h Monday).
    moved, notes = shift_due_times(dues, clocks, paused_at=local(2026, 3, 6, 10), resumed_at=local(2026, 3, 9, 10),
                                   calendar=LIBRARY)
    assert shanghai(moved["site"]) == local(2026, 3, 9, 16)
    assert shanghai(moved["resolve"]) == local(2026, 3, 11, 15)
    assert notes == []


def test_a_pause_that_cannot_be_counted_leaves_the_clock_empty_with_a_note():
    moved, notes = shift_due_times({"resolve": local(2026, 12, 31, 12)}, {"resolve": Clock("working_days", 3)},
                                   paused_at=local(2026, 12, 31, 9), resumed_at=local(2027, 1, 4, 9), calendar=LIBRARY)
    assert moved["resolve"] is None and "2027" in notes[0]


@pytest.fixture
def household(pool):
    with transaction(pool) as conn:
        conn.execute("INSERT INTO network_version (source_path) VALUES ('t')")
        for element, kind in (("ST-1", "station"), ("C-1", "community")):
            conn.execute("INSERT INTO asset (id, kind, geometry, lon, lat, network_version)"
                         " VALUES (%s, %s, '{}', 119.1, 36.7, 1)", (element, kind))
        conn.execute("INSERT INTO household (id, community_id, station_id) VALUES ('H-1', 'C-1', 'ST-1')")
    return "H-1"


def _order(pool, **columns) -> int:
    columns = {"title": "t", "household_id": "H-1", **columns}
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    with transaction(pool) as conn:
        return conn.execute(f"INSERT INTO work_order ({names}) VALUES ({marks}) RETURNING id",
                            list(columns.values())).fetchone()[0]


def _row(pool, wo_id: int) -> dict:
    with pool.connection() as conn:
        cur = conn.execute("SELECT * FROM work_order WHERE id = %s", (wo_id,))
        return dict(zip([d.name for d in cur.description], cur.fetchone(), strict=True))


def test_a_new_order_gets_its_due_times_in_the_store(pool, household):
    wo = _order(pool, category="invoice", priority="normal", origin="hotline", created_at=local(2026, 9, 30, 15))
    with transaction(pool) as conn:
        set_due_times_on(conn, wo)
    row = _row(pool, wo)
    assert shanghai(row["sla_due_at"]) == local(2026, 10, 10, 15) and row["site_due_at"] is None
    assert shanghai(row["reply_due_at"]) == local(2026, 9, 30, 16) and row["sla_note"] == ""
    late = _order(pool, category="invoice", priority="normal", origin="hotline", created_at=local(2026, 12, 30, 15))
    with transaction(pool) as conn:
        set_due_times_on(conn, late)
    assert _row(pool, late)["sla_due_at"] is None and "2027" in _row(pool, late)["sla_note"]


def test_the_revisit_due_time_is_set_when_resolved(pool, household):
    wo = _order(pool, category="room_cold", priority="normal", created_at=local(2026, 10, 9, 8))
    with transaction(pool) as conn:
        assert shanghai(set_revisit_due_on(conn, wo, local(2026, 10, 9, 15))) == local(2026, 10, 12, 15)
    assert shanghai(_row(pool, wo)["revisit_due_at"]) == local(2026, 10, 12, 15)


def test_resuming_moves_the_open_clocks_but_not_the_stopped_ones_or_the_12345_deadline(pool, household):
    filed = local(2026, 3, 6, 9)
    wo = _order(pool, category="room_cold", priority="normal", origin="platform_12345", created_at=filed,
                external_due_at=local(2026, 3, 7, 9), replied_at=local(2026, 3, 6, 9, 30),
                paused_at=local(2026, 3, 6, 10))
    with transaction(pool) as conn:
        set_due_times_on(conn, wo)   # reply 10:00, site 15:00, resolve: the policy's 24 h = the 12345 deadline
        shift_clocks_on(conn, wo, resumed_at=local(2026, 3, 6, 12))
    row = _row(pool, wo)
    assert shanghai(row["reply_due_at"]) == local(2026, 3, 6, 10)      # stopped at 09:30: not moved
    assert shanghai(row["site_due_at"]) == local(2026, 3, 6, 17)       # 15:00 + the 2 h pause
    assert shanghai(row["sla_due_at"]) == local(2026, 3, 7, 9)         # the platform's deadline stays
    assert row["paused_at"] is None and row["paused_s"] == 7200
    with transaction(pool) as conn, pytest.raises(ValueError, match="not paused"):
        shift_clocks_on(conn, wo)


# -- a bad policy file ---------------------------------------------------------------------------------

GOOD_PRIORITIES = """\
priorities:
  low: {reply: {hours: 1}, site: {hours: 24}, resolve: {hours: 72}, revisit: {working_days: 3}}
  normal: {reply: {hours: 1}, site: {hours: 3}, resolve: {hours: 24}, revisit: {working_days: 2}}
  urgent: {reply: {hours: 0.5}, site: {hours: 2}, resolve: {hours: 12}, revisit: {working_days: 1}}
"""


def test_the_policy_comes_from_the_file_heattwin_sla_file_names(tmp_path, monkeypatch):
    path = tmp_path / "sla.yaml"
    path.write_text(GOOD_PRIORITIES, encoding="utf-8")
    monkeypatch.setenv("HEATTWIN_SLA_FILE", str(path))
    assert load_sla_policy().clock("room_cold", "normal", "site") == Clock("hours", 3)
    monkeypatch.delenv("HEATTWIN_SLA_FILE")
    assert load_sla_policy().clock("room_cold", "normal", "site") == Clock("hours", 6)


@pytest.mark.parametrize(("extra", "key", "rule"), [
    ("categories:\n  leak:\n    any: {site: {minutes: 30}}\n", "categories.leak.any.site", "a clock is one of"),
    ("categories:\n  heating:\n    any: {site: {hours: 2}}\n", "categories.heating", "unknown key"),
    ("categories:\n  leak:\n    any: {arrive: {hours: 2}}\n", "categories.leak.any.arrive", "unknown key"),
    ("categories:\n  leak:\n    any: {site: {hours: -2}}\n", "categories.leak.any.site.hours", "above 0"),
    ("categories:\n  leak:\n    normal: {reply: {hours: 8}}\n", "categories.leak.normal.reply",
     "would be due after site"),
])
def test_a_bad_policy_names_the_file_the_key_and_the_rule(tmp_path, extra, key, rule):
    path = tmp_path / "sla.yaml"
    path.write_text(GOOD_PRIORITIES + extra, encoding="utf-8")
    with pytest.raises(SlaPolicyError) as caught:
        load_sla_policy(path)
    assert caught.value.source == str(path) and caught.value.key == key and rule in caught.value.rule
    assert str(path) in str(caught.value)


def test_every_priority_must_list_every_clock(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text(GOOD_PRIORITIES.replace(", revisit: {working_days: 2}", ""), encoding="utf-8")
    with pytest.raises(SlaPolicyError, match=r"priorities\.normal\.revisit: missing"):
        load_sla_policy(path)
    with pytest.raises(SlaPolicyError, match="cannot be read"):
        load_sla_policy(tmp_path / "nowhere.yaml")


def test_a_clock_stands_met_missed_running_or_breached():
    from store.work_orders.sla import clock_state

    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    due = now + timedelta(hours=2)
    assert clock_state(due, now, now=now) == ("met", 0.0)
    assert clock_state(due, due + timedelta(minutes=30), now=now) == ("missed", 1800.0)
    assert clock_state(due, None, now=now) == ("running", 7200.0)
    assert clock_state(now - timedelta(days=1), None, now=now) == ("breached", 86400.0)
    assert clock_state(None, now, now=now) == (None, 0.0)
