"""The reports say what the dashboard says: the monthly bulletin's Excel and PDF (its text read back with
pdftotext) carry the very figures ``store.kpis`` gives the tiles for the same period; the schedule makes a
period's report once however often it runs; files are stored, listed and read back."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date

import openpyxl
import pytest
from test_kpis import JANUARY, L, _january

from app.reports import build
from app.reports.figures import format_kpi
from app.reports.schedule import CRON, last_finished_day, run_scheduled, scheduler
from store.audit import Actor, list_audit_events
from store.kpis import KPIS, compute_kpis
from store.reports import add_report, get_report, get_report_file, list_reports
from tests.conftest import require

SUPERVISOR = Actor("t-supervisor", role="supervisor", client_addr="test")


@pytest.fixture
def january(pool):
    with pool.connection() as conn:
        _january(conn)
    return pool


def _pdf_text(content: bytes, tmp_path) -> str:
    require(shutil.which("pdftotext") is not None, "pdftotext is needed (apt install poppler-utils)")
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_the_monthly_bulletin_shows_the_dashboards_figures_in_excel_and_pdf(january, tmp_path):
    tiles = compute_kpis(january, JANUARY).company
    files = build.build_files(january, "monthly", date(2026, 1, 20))
    assert files.label == "2026-01" and files.figures["completion"] == pytest.approx(tiles["completion"])
    sheet = openpyxl.load_workbook(io.BytesIO(files.xlsx)).worksheets[0]
    excel = {row[0]: row[1] for row in sheet.iter_rows(min_row=5, values_only=True) if row[0]}
    text = _pdf_text(files.pdf, tmp_path)
    from app.i18n import t

    for kpi in KPIS:
        shown = format_kpi(kpi.key, tiles[kpi.key])
        name = t(f"kpi.{kpi.key}", "zh-CN")
        assert excel[name] == shown, kpi.key
        assert re.search(re.escape(name) + r"\s+" + re.escape(shown) + r"\s", text), (kpi.key, shown)
    assert "66.7%" in text and "供热服务月通报" in text  # completion 4 / 6, and the Chinese title as text


def test_a_stored_report_is_listed_and_read_back_and_audited(january):
    report_id = build.make_report(january, "weekly", date(2026, 1, 14), actor=SUPERVISOR)
    listed = list_reports(january)
    assert listed["id"].tolist() == [report_id] and listed["label"].iloc[0] == "2026-01-12 – 2026-01-18"
    content, mime, name = get_report_file(january, report_id, "pdf")
    assert content.startswith(b"%PDF") and mime == "application/pdf" and name.endswith(".pdf")
    assert get_report_file(january, report_id, "xlsx")[0][:2] == b"PK"
    assert get_report(january, report_id)["figures"]["orders"] == 1.0  # the week of 12 January: order 2 alone
    audit = list_audit_events(january, action="report.generate")
    assert audit["username"].tolist() == ["t-supervisor"] and audit["object_id"].tolist() == [str(report_id)]
    with pytest.raises(ValueError, match="format"):
        get_report_file(january, report_id, "docx")


def test_the_schedule_makes_each_periods_report_once(january):
    today = date(2026, 2, 1)  # a Sunday: the last whole week is 19–25 January, the last month January
    assert last_finished_day("daily", today) == date(2026, 1, 31)
    assert last_finished_day("weekly", today) == date(2026, 1, 25)
    assert last_finished_day("monthly", today) == date(2026, 1, 31)
    first = run_scheduled(january, "monthly", timezone="Asia/Shanghai", lang="zh-CN", today=today)
    again = run_scheduled(january, "monthly", timezone="Asia/Shanghai", lang="zh-CN", today=today)
    assert first is not None and again is None
    files = build.build_files(january, "monthly", date(2026, 1, 31))
    assert add_report(january, files, actor=SUPERVISOR, trigger="schedule") is None  # a second scheduler
    assert add_report(january, files, actor=SUPERVISOR, trigger="on_demand") is not None  # on demand: again
    assert list_reports(january, kind="monthly")["trigger"].tolist() == ["on_demand", "schedule"]


def test_the_scheduler_runs_the_rhythm_in_local_time(january):
    chosen = scheduler(january, timezone="Asia/Shanghai", lang="zh-CN", blocking=False)
    jobs = {job.id: job for job in chosen.get_jobs()}
    assert set(jobs) == {f"report-{k}" for k in CRON}
    after = L(1, 31, 12)  # Saturday noon
    nexts = {k: jobs[f"report-{k}"].trigger.get_next_fire_time(None, after) for k in CRON}
    assert nexts["daily"] == L(2, 1, 6, 30) and nexts["weekly"] == L(2, 2, 7) and nexts["monthly"] == L(2, 1, 7, 30)
