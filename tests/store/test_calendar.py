"""China's official working days: the library's years (holidays and 调休 make-up days), years loaded from a
file, the clear error for a year without data, and working-day arithmetic in the network's zone.

The 2027 lists below are test data written for these tests, not the State Council's list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from store.audit import Actor, list_audit_events
from store.calendar import (
    CalendarFileError,
    CalendarMissing,
    WorkCalendar,
    add_working_days,
    add_working_hours,
    calendar_status,
    get_work_calendar,
    load_calendar_file,
    read_calendar_file,
    working_seconds_between,
)
from store.db import transaction

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = Actor("admin-li", "admin", "cli")
LIBRARY = WorkCalendar()
TEST_2027_YAML = """\
source: test list for 2027 (not official)
complete_years: [2027]
days:
  - {date: 2027-01-01, workday: false, note: 元旦 (test)}
  - {date: 2027-01-03, workday: true, note: make-up Sunday (test)}
  - {date: 2027-05-03, workday: false, note: labour day (test)}
"""


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def shanghai(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


@pytest.fixture
def file_2027(tmp_path):
    path = tmp_path / "holidays-2027.yaml"
    path.write_text(TEST_2027_YAML, encoding="utf-8")
    return path


# -- the library's years -------------------------------------------------------------------------------

def test_every_day_of_2026_follows_the_librarys_data_holidays_and_make_up_days_included():
    for n in range(365):
        day = date(2026, 1, 1) + timedelta(days=n)
        # The library's own data: listed make-up days work, listed holidays rest, otherwise Monday–Friday.
        expected = day in chinese_calendar.workdays or (day.weekday() < 5 and day not in chinese_calendar.holidays)
        assert LIBRARY.is_workday(day) is expected, day


def test_national_day_2026_and_its_make_up_saturday_by_hand():
    assert not LIBRARY.is_workday(date(2026, 10, 1))     # Thursday, National Day
    assert not LIBRARY.is_workday(date(2026, 10, 7))     # Wednesday, still the holiday
    assert LIBRARY.is_workday(date(2026, 10, 10))        # Saturday, 调休 working day
    assert LIBRARY.is_workday(date(2026, 9, 20))         # Sunday, 调休 working day (Mid-Autumn)
    assert not LIBRARY.is_workday(date(2026, 10, 11))    # Sunday, an ordinary weekend day


def test_working_days_skip_a_weekend():
    # Friday 15:00: the rest of Friday, Monday, then Tuesday until 15:00.
    assert shanghai(add_working_days(LIBRARY, local(2026, 3, 6, 15), 2)) == local(2026, 3, 10, 15)
    # Filed on a Saturday, counting starts on Monday 00:00: due at the end of Tuesday.
    assert shanghai(add_working_days(LIBRARY, local(2026, 3, 7, 10), 2)) == local(2026, 3, 11, 0)


def test_working_days_skip_national_day_and_count_its_make_up_saturday():
    assert shanghai(add_working_days(LIBRARY, local(2026, 9, 30, 15), 2)) == local(2026, 10, 9, 15)
    assert shanghai(add_working_days(LIBRARY, local(2026, 10, 9, 15), 1)) == local(2026, 10, 10, 15)
    # The Mid-Autumn make-up Sunday counts, the Saturday before it does not.
    assert shanghai(add_working_days(LIBRARY, local(2026, 9, 18, 15), 1)) == local(2026, 9, 20, 15)


def test_working_days_agree_with_the_librarys_own_count():
    start = local(2026, 9, 28, 0)
    due = add_working_days(LIBRARY, start, 5)
    counted = chinese_calendar.get_workdays(date(2026, 9, 28), shanghai(due).date() - timedelta(days=1))
    assert len(counted) == 5 and shanghai(due).time().hour == 0


def test_working_hours_are_office_hours_of_working_dates():
    # Friday 15:00 + 4 h: 2.5 h until 17:30, then the make-up Saturday from 08:30.
    assert shanghai(add_working_hours(LIBRARY, local(2026, 10, 9, 15), 4)) == local(2026, 10, 10, 10)
    assert shanghai(add_working_hours(LIBRARY, local(2026, 9, 30, 18), 1)) == local(2026, 10, 8, 9, 30)


def test_working_time_between_leaves_the_holiday_out():
    assert working_seconds_between(LIBRARY, local(2026, 9, 30, 12), local(2026, 10, 8, 12)) == 24 * 3600
    assert working_seconds_between(LIBRARY, local(2026, 10, 8, 12), local(2026, 9, 30, 12)) == 0


def test_working_days_are_whole_local_days_in_the_configured_zone(monkeypatch):
    # 2026-03-06 is a Friday; 23:00 UTC is Saturday 07:00 in Shanghai but still Friday in UTC.
    late_friday_utc = datetime(2026, 3, 6, 23, tzinfo=UTC)
    assert shanghai(add_working_days(LIBRARY, late_friday_utc, 1, timezone="Asia/Shanghai")) == local(2026, 3, 10, 0)
    assert add_working_days(LIBRARY, late_friday_utc, 1, timezone="UTC") == datetime(2026, 3, 9, 23, tzinfo=UTC)
    monkeypatch.setenv("HEATTWIN_TIMEZONE", "UTC")
    assert add_working_days(LIBRARY, late_friday_utc, 1) == datetime(2026, 3, 9, 23, tzinfo=UTC)


def test_a_moment_without_its_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        add_working_days(LIBRARY, datetime(2026, 3, 6, 15), 1)


# -- a year without data -------------------------------------------------------------------------------

def test_a_year_without_data_raises_naming_the_year_and_the_remedy():
    with pytest.raises(CalendarMissing, match=r"2027.*heattwin calendar load") as caught:
        LIBRARY.is_workday(date(2027, 1, 4))   # a Monday: still not assumed to be a working day
    assert caught.value.year == 2027
    with pytest.raises(CalendarMissing, match="2027"):
        add_working_days(LIBRARY, local(2026, 12, 30, 15), 3)


def test_a_count_that_ends_before_the_new_year_needs_no_data_for_it():
    assert shanghai(add_working_days(LIBRARY, local(2026, 12, 30, 15), 1)) == local(2026, 12, 31, 15)
    assert working_seconds_between(LIBRARY, local(2026, 12, 31, 0), local(2026, 12, 31, 23, 59)) == 86340


# -- loading a year ------------------------------------------------------------------------------------

def test_loading_2027_makes_it_count_with_its_holidays_and_make_up_days(pool, file_2027):
    with pytest.raises(CalendarMissing):
        add_working_days(get_work_calendar(pool), local(2026, 12, 31, 15), 2)
    summary = load_calendar_file(pool, file_2027, actor=ADMIN)
    assert summary["days"] == 3 and summary["complete_years"] == [2027]
    cal = get_work_calendar(pool)
    # Thursday 15:00: 9 h of Dec 31; Jan 1 (holiday) and Saturday off; the make-up Sunday; Monday until 15:00.
    assert shanghai(add_working_days(cal, local(2026, 12, 31, 15), 2)) == local(2027, 1, 4, 15)
    assert cal.is_workday(date(2027, 1, 5)) and not cal.is_workday(date(2027, 1, 9))   # the week's rule
    assert not cal.is_workday(date(2027, 5, 3))
    with pytest.raises(CalendarMissing, match="2028"):
        cal.is_workday(date(2028, 1, 3))
    events = list_audit_events(pool, action="calendar.load")
    assert list(events["username"]) == ["admin-li"] and events["after"][0]["complete_years"] == [2027]


def test_status_says_which_years_are_covered_and_from_where(pool, file_2027):
    before = calendar_status(pool)
    assert before["year"].max() == 2026 and set(before["source"]) == {f"chinesecalendar {chinese_calendar.__version__}"}
    load_calendar_file(pool, file_2027, actor=ADMIN)
    row = calendar_status(pool).set_index("year").loc[2027]
    assert row["complete"] and row["days"] == 3 and row["loaded_by"] == "admin-li"
    assert row["source"] == "test list for 2027 (not official)"


def test_a_year_the_file_does_not_declare_complete_answers_only_for_its_listed_days(pool, tmp_path):
    path = tmp_path / "partial.csv"
    path.write_text("# source: first days of 2027 (test)\ndate,workday,note\n2027-01-01,false,元旦\n", encoding="utf-8")
    load_calendar_file(pool, path, actor=ADMIN)
    cal = get_work_calendar(pool)
    assert not cal.is_workday(date(2027, 1, 1))
    with pytest.raises(CalendarMissing, match="not declared complete: 2027"):
        cal.is_workday(date(2027, 1, 4))


def test_a_csv_file_loads_like_the_yaml_one(pool, tmp_path):
    path = tmp_path / "holidays-2027.csv"
    path.write_text("# source: test list for 2027 (not official)\n# complete_years: 2027\ndate,workday,note\n"
                    "2027-01-01,false,元旦\n2027-01-03,true,make-up Sunday\n", encoding="utf-8")
    load_calendar_file(pool, path, actor=ADMIN)
    assert shanghai(add_working_days(get_work_calendar(pool), local(2026, 12, 31, 15), 2)) == local(2027, 1, 4, 15)


def test_reloading_a_complete_year_replaces_its_earlier_list(pool, file_2027, tmp_path):
    load_calendar_file(pool, file_2027, actor=ADMIN)
    corrected = tmp_path / "holidays-2027-corrected.yaml"
    corrected.write_text("complete_years: [2027]\ndays:\n  - {date: 2027-01-01, workday: false}\n", encoding="utf-8")
    load_calendar_file(pool, corrected, actor=ADMIN)
    cal = get_work_calendar(pool)
    assert cal.is_workday(date(2027, 5, 3)) and not cal.is_workday(date(2027, 1, 3))


@pytest.mark.parametrize(("text", "where"), [
    ("days:\n  - {date: 2027-01-01, workday: false}\n  - {date: 2027-01-02, workday: maybe}\n",
     "days row 2, field workday"),
    ("days:\n  - {date: 2027-13-01, workday: false}\n", "days row 1, field date"),
    ("days:\n  - {date: 2027-01-01, workday: false}\n  - {date: 2027-01-01, workday: true}\n",
     "days row 2, field date: 2027-01-01 is listed twice (also days row 1)"),
    ("days:\n  - {date: 2027-01-01, workday: false, colour: red}\n", "days row 1, field colour"),
    ("complete_years: [2028]\ndays:\n  - {date: 2027-01-01, workday: false}\n", "complete_years: 2028"),
    ("holidays:\n  - {date: 2027-01-01, workday: false}\n", "key holidays"),
])
def test_a_bad_yaml_file_names_the_file_row_and_field(tmp_path, text, where):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError, match=str(path)) as caught:
        read_calendar_file(path)
    assert where in str(caught.value)


def test_a_bad_csv_row_is_named_by_its_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("# complete_years: 2027\ndate,workday,note\n2027-01-01,false,元旦\n2027-01-32,false,x\n",
                    encoding="utf-8")
    with pytest.raises(CalendarFileError, match=rf"{path}: row 4, field date: '2027-01-32' is not a date"):
        read_calendar_file(path)


def test_loading_is_one_transaction(pool, file_2027):
    with transaction(pool) as conn:   # the last write of the load fails
        conn.execute("CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                     " RAISE EXCEPTION 'refused by the test'; END $$")
        conn.execute("CREATE TRIGGER fail BEFORE INSERT ON calendar_year FOR EACH ROW EXECUTE FUNCTION fail()")
    with pytest.raises(Exception, match="refused by the test"):
        load_calendar_file(pool, file_2027, actor=ADMIN)
    with pool.connection() as conn:
        assert conn.execute("SELECT count(*) FROM calendar_day").fetchone()[0] == 0
    assert list_audit_events(pool, action="calendar.load").empty
