"""``heattwin calendar load|status`` against a real PostgreSQL (the 2027 list is test data, not the
State Council's)."""

from __future__ import annotations

import chinese_calendar
import pytest

from scripts.cli import main
from store.audit import Actor
from store.calendar import get_work_calendar
from store.users import add_user

SETUP = Actor("setup", "cli", "cli")
TEST_2027_YAML = """\
source: test list for 2027 (not official)
complete_years: [2027]
days:
  - {date: 2027-01-01, workday: false, note: 元旦 (test)}
  - {date: 2027-01-03, workday: true, note: make-up Sunday (test)}
  - {date: 2027-05-03, workday: false, note: labour day (test)}
"""


@pytest.fixture
def file_2027(tmp_path):
    path = tmp_path / "holidays-2027.yaml"
    path.write_text(TEST_2027_YAML, encoding="utf-8")
    return path


@pytest.fixture
def cli(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def test_the_commands_load_a_year_and_show_the_status(cli, pool, file_2027, capsys):
    add_user(pool, username="admin-li", password="a long admin password", roles=["admin"], actor=SETUP)
    add_user(pool, username="disp-wu", password="a long desk password", roles=["dispatcher"], actor=SETUP)
    with pytest.raises(SystemExit, match="allows calendar.manage"):
        main(["calendar", "load", str(file_2027), "--by", "disp-wu"])
    assert main(["calendar", "load", str(file_2027), "--by", "admin-li"]) == 0
    assert "loaded 3 days of 2027" in capsys.readouterr().out
    assert main(["calendar", "status"]) == 0
    out = capsys.readouterr().out
    assert f"2004–2026  chinesecalendar {chinese_calendar.__version__}" in out
    assert "2027  complete, 3 days listed" in out and "admin-li" in out


def test_the_load_command_reports_a_bad_file_and_stores_nothing(cli, pool, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("days:\n  - {date: 2027-01-01, workday: perhaps}\n", encoding="utf-8")
    assert main(["calendar", "load", str(path)]) == 2
    assert "days row 1, field workday" in capsys.readouterr().err
    assert get_work_calendar(pool).days == {}
