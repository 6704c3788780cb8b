"""/supervisor/refunds in a real headless Chromium against the demo city: a supervisor computes a short
season's ledger from crafted room temperatures, opens the cold household, reads why its hours counted,
approves its refund with a note, and exports the approved list to Excel, which the test opens."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from selenium.webdriver.common.keys import Keys

from scripts.wall_browser import screenshot, set_viewport, wait_for
from store import refunds
from store.audit import list_audit_events
from store.db import get_pool
from store.telemetry import ingest_rows
from twin.refunds import season_hours

START, END = date(2026, 11, 25), date(2026, 11, 26)
# The room cools and warms again over hours, as rooms do (a one-hour drop of 4 K would read as tampering):
# 30 hours under 18 °C, 14 on the first day and 16 on the second.
SPELL = {8: 19.5, 9: 18.5, 10: 17.5, 11: 16.5, **{k: 16.0 for k in range(12, 39)}, 39: 17.0, 40: 18.0, 41: 19.0}


def _cold_household(pool) -> tuple[str, float]:
    """A household of a building with neighbours, its room cold for a day and a half, the others warm."""
    homes = refunds.list_collector_households(pool)
    homes = homes[homes["heating_status"] == "heating"]
    building = homes.groupby(["community_id", "building"])["household_id"].transform("size")
    chosen = homes[building >= 3].iloc[0]
    neighbours = homes[(homes["community_id"] == chosen.community_id) & (homes["building"] == chosen.building)]
    hours = season_hours(START, END, "Asia/Shanghai")
    rows = [(at + pd.Timedelta(minutes=20), sensor, SPELL.get(k, 20.5) if sensor == chosen.sensor_id else 20.5)
            for sensor in neighbours["sensor_id"] for k, at in enumerate(hours)]
    assert ingest_rows(pool, pd.DataFrame(rows, columns=["time", "sensor_id", "value"]), origin="test").rejected == 0
    return chosen.household_id, float(chosen.area_m2)


def _type(browser, element_id: str, text: str) -> None:
    field = browser.find_element("id", element_id)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text)


@pytest.mark.browser
@pytest.mark.login_as("supervisor")
def test_a_supervisor_computes_the_ledger_approves_a_cold_household_and_exports_it(wall_url, city_db_url, browser,
                                                                                   tmp_path):
    pool = get_pool(city_db_url)
    household, area_m2 = _cold_household(pool)
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    set_viewport(browser, 1920, 1080)
    browser.get(f"{wall_url}/supervisor/refunds")
    wait_for(browser, "return document.getElementById('refunds-summary')", what="the ledger page")
    browser.find_element("css selector", ".refunds-compute summary").click()
    _type(browser, "refunds-start", START.isoformat())
    _type(browser, "refunds-end", END.isoformat())
    browser.find_element("id", "refunds-compute-go").click()
    wait_for(browser, "return document.querySelector('#refunds-grid .ag-row[row-id=\"' + arguments[0] + '\"]')",
             household, timeout=90, what="the cold household listed")
    browser.find_element("css selector", f'#refunds-grid .ag-row[row-id="{household}"] .ag-cell').click()
    wait_for(browser, "return document.querySelector('#refunds-detail [data-household=\"' + arguments[0] + '\"]')",
             household, what="its hours")
    explained = browser.find_element("css selector", ".refunds-explain").text
    owed = round(25.0 * round(area_m2, 2) * 2 / 2, 2)          # the default fee, 2 days under out of 2
    assert "计入 30 小时" in explained and "共 2 天" in explained and f"{owed:,.2f} 元" in explained
    kinds = browser.execute_script("return Array.from(document.querySelectorAll('.refunds-spans tr[data-kind]'))"
                                   ".map(function (r) { return r.dataset.kind; })")
    assert kinds == ["counted"]
    # The chart draws its series with the counted hours shaded.
    wait_for(browser, "return document.querySelectorAll('#refunds-chart .shapelayer path, #refunds-chart "
                      ".layer-below .shapelayer path').length >= 1", what="counted hours shaded")
    screenshot(browser, "refunds-1920")
    _type(browser, "refunds-note", "室温记录核实，同意退费")
    browser.find_element("id", "refunds-approve").click()
    wait_for(browser, "return document.querySelector('#refunds-detail [data-state=\"approved\"]')",
             what="approved")
    season_id = int(refunds.list_seasons(pool)["id"].iloc[0])
    entry = refunds.get_entry(pool, season_id, household)
    assert (entry["state"], entry["note"], entry["reviewed_by"]) == ("approved", "室温记录核实，同意退费", "t-supervisor")
    review = list_audit_events(pool, action="refund.review")
    assert review["object_id"].tolist() == [f"{season_id}/{household}"] and review["role"].tolist() == ["supervisor"]
    browser.find_element("id", "refunds-export").click()
    workbook = _downloaded(tmp_path)
    sheet = openpyxl.load_workbook(workbook).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    assert rows[0][0] == household and rows[0][8] == pytest.approx(owed) and rows[0][11] == "室温记录核实，同意退费"
    assert rows[1][0] == "合计" and rows[1][8] == pytest.approx(owed)
    screenshot(browser, "refunds-approved-1920")


def _downloaded(folder: Path, timeout_s: float = 30.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [p for p in folder.glob("*.xlsx")]
        if found and not list(folder.glob("*.crdownload")):
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no workbook downloaded into {folder}")
