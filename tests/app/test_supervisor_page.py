"""A supervisor at /supervisor in Chromium: reads January's tiles, filters the board to one team's overdue
室温不达标 orders, exports them and opens the workbook, opens an order's history, makes the monthly bulletin and
finds in its PDF (pdftotext) the completion rate the tile shows. Screenshots at 1920×1080."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import openpyxl
import pytest
import requests

from scripts.wall_browser import SCREENSHOTS, wait_for
from store.audit import Actor
from store.db import get_pool
from store.work_orders import add_work_order
from store.work_orders.core import list_board
from store.work_orders.lifecycle import dispatch
from tests.conftest import require

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.login_as("supervisor")]
SETUP = Actor("test-setup", role="cli", client_addr="cli")
SHOTS = SCREENSHOTS  # tests/screenshots, kept out of git
JANUARY = "/supervisor?period=month&day=2026-01-15"


def _orders(pool) -> tuple[str, str]:
    """Two teams' orders: overdue room-cold ones for the first team, and some that the filter must leave out."""
    with pool.connection() as conn:
        (team, name), (other, _) = conn.execute("SELECT id, name FROM team ORDER BY id LIMIT 2").fetchall()
        community = conn.execute("SELECT id FROM asset WHERE kind = 'community' ORDER BY id LIMIT 1").fetchone()[0]
    for title, category, hours, to in (("三楼卧室 16 度", "room_cold", -3, team), ("顶层室温低", "room_cold", -1, team),
                                       ("刚报的室温低", "room_cold", 48, team), ("整栋不热", "no_heat", -2, team),
                                       ("别的班组室温低", "room_cold", -2, other)):
        wo_id = add_work_order(pool, title=title, actor=SETUP, category=category, asset_id=community,
                               sla_hours=hours)
        dispatch(pool, wo_id, to, actor=SETUP)
    return team, name


def _pick(driver, dropdown_id: str, label: str) -> None:
    """Choose ``label`` in a Dash dropdown as a person does: open it, type, click the option."""
    driver.find_element("id", dropdown_id).click()
    search = wait_for(driver, "return document.querySelector('.dash-dropdown-content input.dash-dropdown-search')",
                      what=f"the {dropdown_id} list open")
    search.send_keys(label)
    option = wait_for(driver, "var want = arguments[0], found = null;"
                              " document.querySelectorAll('.dash-dropdown-content [role=option]')"
                              ".forEach(function (o) { if (!found && o.textContent.trim() === want) found = o; });"
                              " return found;", label, what=f"option {label}")
    option.click()
    search.send_keys("\ue00c")  # Escape closes the list
    wait_for(driver, "return !document.querySelector('.dash-dropdown-content')", what=f"the {dropdown_id} list closed")


def _count(driver) -> int:
    text = wait_for(driver, "var e = document.getElementById('sup-board-count'); return e && e.textContent",
                    what="board count")
    return int(re.sub(r"\D", "", text))


def _shot(driver, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / name
    driver.save_screenshot(str(path))
    return path


def _session(driver) -> requests.Session:
    session = requests.Session()
    for cookie in driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def test_a_supervisor_filters_exports_and_finds_the_tiles_rate_in_the_monthly_pdf(wall_url, browser, city_db_url,
                                                                                   tmp_path):
    require(shutil.which("pdftotext") is not None, "pdftotext is needed (apt install poppler-utils)")
    pool = get_pool(city_db_url)
    team, team_name = _orders(pool)
    expected, total = list_board(pool, category="room_cold", team_id=team, overdue=True, limit=1000)
    assert 2 <= total < list_board(pool, limit=1)[1]
    browser.set_window_size(1920, 1080)
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(wall_url + JANUARY)
    tile = wait_for(browser, "var e = document.querySelector('[data-kpi=completion] .sup-tile-value');"
                             " return e && e.textContent !== '—' && e.textContent", what="the completion tile")
    assert re.fullmatch(r"\d+\.\d%", tile)
    definition = browser.find_element("css selector", "[data-kpi=completion] .sup-definition summary")
    definition.click()  # the definition, one click away
    assert "办结" in browser.find_element("css selector", "[data-kpi=completion] .sup-definition p").text
    _shot(browser, "supervisor-kpis.png")

    everything = _count(browser)
    _pick(browser, "sup-f-category", "室温不达标")
    _pick(browser, "sup-f-team", team_name)
    browser.find_element("css selector", "#sup-f-overdue input").click()
    wait_for(browser, "var e = document.getElementById('sup-board-count');"
                      " return e && e.textContent.replace(/\\D/g, '') === arguments[0]", str(total),
             what=f"{total} orders on the board")
    assert _count(browser) == total < everything
    first = wait_for(browser, "return document.querySelector('#sup-grid .ag-row[row-id] .ag-cell')", what="a row")
    rows = browser.execute_script("return Array.from(document.querySelectorAll('#sup-grid .ag-row[row-id]'))"
                                  ".map(function (r) { return r.getAttribute('row-id'); })")
    assert set(map(int, rows)) <= set(expected["id"])
    assert browser.execute_script("var r = document.querySelector('#sup-grid .ag-row[row-id]');"
                                  " return r && getComputedStyle(r).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
    browser.find_element("id", "sup-export").click()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(tmp_path.glob("*.xlsx")):
        time.sleep(0.2)
    book = openpyxl.load_workbook(next(tmp_path.glob("*.xlsx")))
    exported = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in exported) == sorted(expected["id"].tolist())
    assert {(r[3], r[7], r[14]) for r in exported} == {("室温不达标", team_name, "是")}

    first.click()
    wait_for(browser, "return document.querySelectorAll('#sup-detail .orders-history li').length >= 2",
             what="the order's history")
    assert browser.find_elements("css selector", "#sup-detail .orders-history li[data-to=dispatched]")
    _shot(browser, "supervisor-board.png")

    button = browser.find_element("css selector", "button[id*='sup-make-report'][id*='monthly']")
    browser.execute_script("arguments[0].scrollIntoView()", button)
    button.click()
    link = wait_for(browser, "var a = document.querySelector('#sup-reports tr[data-kind=monthly] a[href$=\".pdf\"]');"
                             " return a && a.href", what="the monthly bulletin in the list", timeout=90)
    _shot(browser, "supervisor-reports.png")
    response = _session(browser).get(link, timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    pdf = tmp_path / "monthly.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "供热服务月通报" in text and "2026-01" in text
    assert re.search(r"办结率\s+" + re.escape(tile) + r"\s", text), f"the PDF's completion rate is not {tile}"
