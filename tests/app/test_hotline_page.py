"""The hotline in a real Chromium, logged in as an agent: a call event arrives and the caller's record is on
screen within a second, with the room temperature of the last 24 h and the known outage; one call is
answered from the knowledge base (resolved on first contact), another filed as an order with its SLA and
the suggested team."""

from __future__ import annotations

import time

import pandas as pd
import pytest
import requests

from scripts.wall_browser import screenshot, set_viewport, wait_for
from store import telemetry
from store.audit import Actor
from store.db import get_pool
from store.households import list_households
from store.incidents import add_isolation
from store.tokens import add_token
from store.work_orders import get_work_order

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.login_as("agent")]


def _room_readings(pool, sensor_id: str) -> None:
    """24 hourly room temperatures, the last ones cold (16.x °C)."""
    now = pd.Timestamp.now(tz="UTC").floor("h")
    times = [now - pd.Timedelta(hours=h) for h in range(24, 0, -1)]
    values = [20.0 - 0.15 * k for k in range(24)]
    telemetry.ingest_rows(pool, pd.DataFrame({"time": times, "sensor_id": sensor_id, "value": values}),
                          origin="test")


def _ring(wall_url: str, token: str, phone: str) -> float:
    started = time.monotonic()
    response = requests.post(f"{wall_url}/api/v1/calls", json={"phone": phone, "seat": "t-agent"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200
    return started


def test_an_agent_answers_one_call_from_the_knowledge_base_and_files_another(wall_url, city_db_url, browser):
    pool = get_pool(city_db_url)
    households = list_households(pool, with_collector=True)
    caller = households.iloc[0]
    _room_readings(pool, caller["sensor_id"])
    back = pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=5)
    add_isolation(pool, pipe_id="P-00031", stations=[caller["station_id"]], valves=["V-00003"],
                  actor=Actor("wang", "dispatcher"), expected_back_at=back.to_pydatetime())
    token = add_token(pool, "cti-test", actor=Actor("test-setup", "cli"))
    set_viewport(browser, 1920, 1080)
    browser.get(f"{wall_url}/hotline")
    wait_for(browser, "return document.querySelector('#hotline-popup .muted')", what="the waiting desk")

    rang = _ring(wall_url, token, caller["phone"])
    wait_for(browser, "return document.querySelector('.hotline-caller[data-household=\"' + arguments[0] + '\"]')",
             caller["id"], timeout=10, what="the caller's record")
    assert time.monotonic() - rang < 2.0  # a poll every 0.7 s: the record is up within about a second
    text = browser.find_element("id", "hotline-popup").text
    assert caller["address"] in text and "P-00031" in text and "°C" in text
    assert float(browser.execute_script("return document.querySelector('.room-bars').dataset.latest")) < 17.0
    screenshot(browser, "hotline-popup-1920")
    browser.find_element("id", "hotline-kb-query").send_keys("不热")
    wait_for(browser, "return document.querySelector('.kb-entry button')", what="knowledge-base answers")
    browser.find_element("css selector", ".kb-entry button").click()
    answered = wait_for(browser, "var e = document.querySelector('#hotline-result [data-outcome=\"answered\"]');"
                                 "return e && e.dataset.order", what="answered on the call")
    order = get_work_order(pool, int(answered))
    assert order["state"] == "resolved" and order["household_id"] == caller["id"]

    second = households.iloc[len(households) // 2]
    _ring(wall_url, token, second["phone"])
    wait_for(browser, "return document.querySelector('.hotline-caller[data-household=\"' + arguments[0] + '\"]')",
             second["id"], timeout=10, what="the second caller's record")
    browser.find_element("id", "hotline-note").send_keys("三楼暖气片不热，已放气仍不热")
    assert not browser.execute_script("return document.querySelector('#hotline-result [data-outcome]')")
    browser.find_element("id", "hotline-file").click()
    filed = wait_for(browser, "var e = document.querySelector('#hotline-result [data-outcome]');"
                              "return e && [e.dataset.order, e.dataset.outcome, e.textContent]", what="filed")
    order = get_work_order(pool, int(filed[0]))
    assert order["state"] == "new" and order["sla_due_at"] is not None
    if filed[1] == "filed":
        assert "建议派往" in filed[2] and "处理时限" in filed[2]
    # The caller's past tickets now hold the one just filed, while the agent is still on the call.
    wait_for(browser, "return document.querySelector('.hotline-tickets a[href$=\"order=' + arguments[0] + '\"]')",
             filed[0], what="the filed order among the caller's tickets")
    screenshot(browser, "hotline-filed-1920")
    with pool.connection() as conn:
        outcomes = dict(conn.execute("SELECT phone, outcome FROM call_event").fetchall())
    assert outcomes[caller["phone"]] == "answered" and outcomes[second["phone"]] in ("filed", "linked")


def test_a_station_the_twin_calls_normal_reads_as_its_worst_open_alarm():
    from store.calls import station_status

    assert station_status({"status": "normal", "alarms": []}) == "normal"
    assert station_status({"status": "normal", "alarms": [{"severity": "warning"}]}) == "warning"
    assert station_status({"status": "normal", "alarms": [{"severity": "warning"}, {"severity": "alarm"}]}) == "alarm"
    assert station_status({"status": "cut_off", "alarms": [{"severity": "warning"}]}) == "cut_off"
    assert station_status({}) == "normal"
