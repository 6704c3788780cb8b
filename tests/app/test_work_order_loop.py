"""The service loop in a real Chromium, each role logged in as itself: a dispatcher files an order from the
wall's panel and dispatches it on the board; a crew member on a 390×844 phone accepts, arrives and resolves
it with a photo (one tap made without signal, sent when it comes back); an agent calls back, the resident is
unhappy, and the order reopens to the same team. Every step is an event with the logged-in actor."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest
from accounts import browser_login

from scripts.wall_browser import open_wall, screenshot, set_viewport, start_chrome, wait_for, wait_panel
from store.db import get_pool
from store.work_orders import core as store_orders

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATION = "ST-0007"


def _png(width: int = 64, height: int = 48) -> bytes:
    """A small real PNG (a red-to-blue gradient), as a phone camera would give a picture."""
    raw = b"".join(b"\x00" + bytes(c for x in range(width) for c in (255 * x // width, 40, 255 - 255 * x // width))
                   for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _as(users, role: str, wall_url: str, next_path: str, width: int, height: int):
    driver = start_chrome()
    set_viewport(driver, width, height)
    browser_login(driver, wall_url, *users[role], next_path=next_path)
    return driver


def _file_on_the_wall(driver, wall_url: str) -> None:
    open_wall(driver, f"{wall_url}/?element={STATION}")
    wait_panel(driver, STATION)
    driver.find_element("id", "wall-new-order").click()
    wait_for(driver, "var e = document.getElementById('wall-order-title'); return e && e.value", what="form")
    driver.find_element("id", "wall-order-description").send_keys("3 单元 5 楼住户反映暖气片不热")
    driver.find_element("id", "wall-order-file").click()
    wait_for(driver, "return document.getElementById('wall-order-msg').textContent", what="order filed")


def _dispatch_on_the_board(driver, wall_url: str, wo_id: int) -> str:
    driver.get(f"{wall_url}/orders?order={wo_id}")
    wait_for(driver, "return document.querySelector('#orders-detail [data-order=\"' + arguments[0] + '\"]')",
             str(wo_id), what="the order's detail")
    team = driver.execute_script("var e = document.querySelector('#orders-team-pick input:checked'); return e && e.value")
    assert team, "a team is suggested"
    driver.find_element("css selector", ".orders-dispatch .orders-button.primary").click()
    wait_for(driver, "var h = document.querySelector('#orders-detail .orders-detail-head');"
                     "return h && h.dataset.state === 'dispatched'", what="dispatched")
    # After the move the pick shows the team it went to, and the button waits for another team.
    wait_for(driver, "var e = document.querySelector('#orders-team-pick input:checked'); return e && e.value",
             what="the team picked after dispatch")
    picked = driver.execute_script("return document.querySelector('#orders-team-pick input:checked').value")
    button = driver.find_element("css selector", ".orders-dispatch .orders-button.primary")
    assert picked == team and not button.is_enabled()
    message = driver.find_element("id", "orders-msg").text
    assert f"#{wo_id}" in message and team not in message, "the message names the team, not its id"
    screenshot(driver, "orders-dispatched-1920")
    return team


def _tap(driver, wo_id: int, action: str) -> None:
    selector = f"#field-wo-{wo_id} .field-act[data-action='{action}']"
    wait_for(driver, "return document.querySelector(arguments[0])", selector, what=f"{action} button")
    driver.find_element("css selector", selector).click()


def _state_on_phone(driver, wo_id: int, state: str) -> None:
    wait_for(driver, "var c = document.getElementById('field-wo-' + arguments[0]);"
                     "return c && c.dataset.state === arguments[1]", wo_id, state, timeout=40,
             what=f"the card in state {state}")


def _crew_does_the_job(driver, wo_id: int) -> None:
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 36.7051, "longitude": 119.1032,
                                                                 "accuracy": 15})
    driver.get(driver.current_url.split("/field")[0] + "/field")
    _tap(driver, wo_id, "accept")
    _state_on_phone(driver, wo_id, "accepted")
    # In a basement: the tap waits on the phone, then goes when the signal is back.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                                 "downloadThroughput": -1, "uploadThroughput": -1})
    _tap(driver, wo_id, "arrive")
    wait_for(driver, "return window.heattwinField.queue().length === 1", what="the tap queued offline")
    screenshot(driver, "field-offline-phone")
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                                 "downloadThroughput": -1, "uploadThroughput": -1})
    _state_on_phone(driver, wo_id, "on_site")
    card = f"#field-wo-{wo_id}"
    driver.find_element("css selector", f"{card} textarea[name='action']").send_keys("开启户内阀门并排气")
    driver.find_element("css selector", f"{card} textarea[name='materials']").send_keys("无")
    driver.execute_script("var f = new File([Uint8Array.from(atob(arguments[1]), c => c.charCodeAt(0))], 'job.png',"
                          " {type: 'image/png'}); window.heattwinField.addPhoto(arguments[0], f);",
                          str(wo_id), base64.b64encode(_png()).decode())
    wait_for(driver, "return document.querySelector(arguments[0] + ' .field-thumb')", card, what="photo thumbnail")
    screenshot(driver, "field-resolve-phone")
    # 住户确认 starts unanswered, and a resolution without it is not sent.
    assert driver.execute_script("return document.querySelector(arguments[0] + ' select[name=resident_confirmed]')"
                                 ".value", card) == ""
    _tap(driver, wo_id, "resolve")
    wait_for(driver, "return document.querySelector(arguments[0] + ' .field-msg.bad')", card, what="asked to confirm")
    driver.execute_script("var s = document.querySelector(arguments[0] + ' select[name=resident_confirmed]');"
                          " s.value = '1'; s.dispatchEvent(new Event('input', {bubbles: true}));", card)
    _tap(driver, wo_id, "resolve")
    _state_on_phone(driver, wo_id, "resolved")


def _agent_calls_back_unhappy(driver, wall_url: str, wo_id: int) -> None:
    driver.get(f"{wall_url}/revisits")
    cell = f".ag-row[row-id='{wo_id}'] .ag-cell"
    wait_for(driver, "return document.querySelector(arguments[0])", cell, what="the order on the call-back list")
    driver.find_element("css selector", cell).click()
    wait_for(driver, "return document.getElementById('revisit-order').textContent.indexOf('#' + arguments[0]) === 0",
             str(wo_id), what="the order picked")
    driver.find_element("css selector", "#revisit-satisfaction input[value='2']").click()
    driver.find_element("css selector", "#revisit-fixed input[value='no']").click()
    driver.find_element("id", "revisit-note").send_keys("住户反映仍然不热")
    driver.find_element("id", "revisit-save").click()
    wait_for(driver, "return document.getElementById('revisit-msg').textContent.indexOf('重开') >= 0",
             what="reopened")
    # The form is cleared: no order picked, no note left behind.
    wait_for(driver, "return document.getElementById('revisit-order').textContent.indexOf('#') !== 0"
                     " && document.getElementById('revisit-note').value === ''", what="the form cleared")
    assert "问题解决：否" in driver.find_element("id", "revisit-msg").text, "the saved result as recorded"
    screenshot(driver, "revisits-1920")


def test_an_order_travels_from_the_wall_to_the_crew_and_back(wall_url, city_db_url, users):
    pool = get_pool(city_db_url)
    before = set(store_orders.list_work_orders(pool, asset_id=STATION, open_only=False, limit=1000)["id"])
    dispatcher = _as(users, "dispatcher", wall_url, "/", 1920, 1080)
    try:
        _file_on_the_wall(dispatcher, wall_url)
        now = store_orders.list_work_orders(pool, asset_id=STATION, open_only=False, limit=1000)
        (wo_id,) = set(now["id"]) - before
        team = _dispatch_on_the_board(dispatcher, wall_url, int(wo_id))
    finally:
        dispatcher.quit()
    with pool.connection() as conn:
        conn.execute("UPDATE app_user SET team_id = %s WHERE username = %s", (team, users["crew"][0]))
        conn.commit()
    crew = _as(users, "crew", wall_url, "/field", 390, 844)
    try:
        _crew_does_the_job(crew, int(wo_id))
    finally:
        crew.quit()
    agent = _as(users, "agent", wall_url, "/revisits", 1920, 1080)
    try:
        _agent_calls_back_unhappy(agent, wall_url, int(wo_id))
    finally:
        agent.quit()
    detail = store_orders.get_order_detail(pool, int(wo_id))
    assert detail["state"] == "reopened" and detail["team_id"] == team and detail["reopen_count"] == 1
    steps = list(zip(detail["events"]["to_state"], detail["events"]["actor"], strict=True))
    dispatcher_name, crew_name, agent_name = (users[r][0] for r in ("dispatcher", "crew", "agent"))
    assert steps == [("new", dispatcher_name), ("dispatched", dispatcher_name), ("accepted", crew_name),
                     ("on_site", crew_name), ("resolved", crew_name), ("reopened", agent_name)]
    assert detail["site_lon"] == pytest.approx(119.1032) and detail["resolution"]["action"] == "开启户内阀门并排气"
    assert len(detail["photos"]) == 1 and detail["revisits"]["satisfaction"].tolist() == [2]
