"""The incident view: one alarm's story from the stores, in order, on the page and in its PDF and Excel reports,
and its replay on the wall."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from app.components import incident_report as incident_page
from scripts.wall_browser import screenshot, wait_for
from store import alarms as store_alarms
from store import replay as store_replay
from store.assets import get_asset_rows
from store.audit import Actor
from store.db import get_pool
from store.incidents import add_isolation
from store.work_orders.lifecycle import dispatch, transition

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MILESTONES = ("raised", "grouped", "acknowledged", "work_order", "wo.dispatched", "wo.on_site", "isolation",
              "wo.resolved", "cleared")


def _leak_story(pool) -> int:
    """A leak on a pipe: a station's low differential pressure grouped under it, acknowledged, a work order
    dispatched to a crew who arrive, an isolation, the repair, cleared."""
    assets, _ = get_asset_rows(pool)
    valves = assets[assets["kind"] == "valve"]
    pipe = sorted(a["pipe_id"] for a in valves["attrs"] if a.get("pipe_id"))[0]
    station = assets.query("kind == 'station'")["id"].iloc[0]
    dispatcher, crew = Actor("dispatcher1"), Actor("crew1")
    raised = datetime.now(UTC) - timedelta(hours=2)
    leak = store_alarms.add_alarm(pool, asset_id=pipe, cause="leak", severity="critical", message="疑似泄漏",
                                  details={"pipe_id": pipe}, raised_at=raised)
    child = store_alarms.add_alarm(pool, asset_id=station, cause="station_dp_low", severity="alarm",
                                   message="资用压差偏低", raised_at=raised + timedelta(minutes=2))
    with pool.connection() as conn:  # as the presentation pass groups it
        conn.execute("UPDATE alarm SET parent_id = %s, presented = false, suppressed_by = 'incident_region'"
                     " WHERE id = %s", (leak, child))
    store_alarms.update_alarm_state(pool, leak, "acknowledged", actor=dispatcher)
    wo = store_alarms.open_work_order_from_alarm(pool, leak, actor=dispatcher)
    with pool.connection() as conn:
        team = conn.execute("SELECT id FROM team ORDER BY id LIMIT 1").fetchone()[0]
    dispatch(pool, wo, team, actor=dispatcher)
    transition(pool, wo, "accepted", actor=crew)
    transition(pool, wo, "on_site", actor=crew)
    pipe_valves = [v for v, a in zip(valves["id"], valves["attrs"], strict=True) if a.get("pipe_id") == pipe]
    add_isolation(pool, pipe_id=pipe, stations=[station], valves=pipe_valves, actor=dispatcher, work_order_id=wo)
    transition(pool, wo, "resolved", actor=crew, note="焊补完成")
    store_alarms.update_alarm_state(pool, leak, "cleared", actor=dispatcher, note="漏点已修复")
    return leak


def test_an_alarms_story_in_order_on_the_page_in_its_reports_and_replayed(wall_url, browser, city_db_url, tmp_path):
    pool = get_pool(city_db_url)
    leak = _leak_story(pool)
    story = store_replay.get_incident_story(pool, leak)
    steps = list(story["steps"]["step"])
    assert [s for s in steps if s in MILESTONES] == list(MILESTONES)
    assert story["steps"]["at"].is_monotonic_increasing
    assert len(story["grouped"]) == 1 and story["grouped"]["cause"].iloc[0] == "station_dp_low"
    assert store_replay.get_incident_story(pool, 10**9) is None

    pdf = tmp_path / "incident.pdf"
    pdf.write_bytes(incident_page.incident_pdf(story, "zh-CN", "Asia/Shanghai"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for words in (f"报警事件经过 #{leak}", "报警产生", "调度确认", "已到场", "关阀隔离", "报警消除", "漏点已修复",
                  "归并在此报警下的报警"):
        assert words in text, words
    book = openpyxl.load_workbook(_write(tmp_path / "incident.xlsx",
                                         incident_page.incident_xlsx(story, "en", "Asia/Shanghai")))
    timeline = book["Timeline"]
    assert timeline.max_row == len(steps) + 1 and timeline.cell(1, 1).value == "Time"
    assert isinstance(timeline.cell(2, 1).value, datetime) and timeline.cell(2, 2).value == "Raised"

    # The page: the same steps, in order; the PDF button downloads the report.
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(f"{wall_url}/incident/{leak}")
    wait_for(browser, "return document.querySelectorAll('#incident-timeline li').length === arguments[0]",
             len(steps), what="every step on the timeline")
    shown = browser.execute_script("return Array.from(document.querySelectorAll('#incident-timeline li'))"
                                   ".map(function (li) { return li.dataset.step; })")
    assert shown == steps
    screenshot(browser, "incident-1920")
    browser.find_element("id", "incident-pdf").click()
    report = tmp_path / f"incident-{leak}.pdf"
    deadline = time.monotonic() + 30
    while not (report.exists() and report.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert report.read_bytes()[:5] == b"%PDF-"

    # Replayed on the wall from a little before it was raised.
    browser.find_element("id", "incident-replay").click()
    banner = wait_for(browser, "var b = document.getElementById('wall-replay-banner');"
                               " return b && b.className.indexOf('hidden') < 0 && b.textContent",
                      what="the wall replaying the alarm")
    assert "历史回放" in banner


def _write(path, content: bytes):
    path.write_bytes(content)
    return path
