"""Roles on the wall in a real Chromium: a dispatcher acknowledges and clears an alarm and is named on
it; an engineer is offered no alarm action and a forged one is refused; a kiosk sees the live wall
with no login and no write control, until its token is revoked."""

from __future__ import annotations

import json

import pytest
from accounts import SETUP

from scripts.wall_browser import click_css, open_wall, screenshot, set_viewport, wait_for, wait_panel
from store import alarms as store_alarms
from store.audit import list_audit_events
from store.db import get_pool
from store.kiosks import add_kiosk, revoke_kiosk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATION = "ST-0005"

# Post the acknowledge callback as the renderer would for a click on alarm arguments[0]'s button (the
# wall's script sets the ack gate store to the button's id), whether or not the page shows that button;
# resolves to [HTTP status, body].
_FORGE_ACK = """
var alarmId = arguments[0], done = arguments[arguments.length - 1];
fetch('/_dash-dependencies').then(function (r) { return r.json(); }).then(function (deps) {
    var dep = deps.find(function (d) {
        return d.inputs.some(function (i) { return i.id === 'wall-act-ack'; });
    });
    var button = {alarm: alarmId, type: 'wall-alarm-ack'};
    var body = {output: dep.output, outputs: dep.output.split('...').map(function (o) {
                    var spec = o.replace(/^\\.\\./, '').replace(/\\.\\.$/, ''), at = spec.lastIndexOf('.');
                    return {id: spec.slice(0, at), property: spec.slice(at + 1).split('@')[0]};
                }),
                inputs: [{id: 'wall-act-ack', property: 'data', value: {id: button, n: 1}}],
                state: [{id: 'wall-lang', property: 'data', value: 'zh-CN'}],
                changedPropIds: ['wall-act-ack.data']};
    return fetch('/_dash-update-component', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                              body: JSON.stringify(body)});
}).then(function (r) { return r.text().then(function (t) { done([r.status, t]); }); },
        function (e) { done([0, String(e)]); });
"""


def _raise_alarm(url: str) -> int:
    return store_alarms.add_alarm(get_pool(url), asset_id=STATION, cause="station_dp_low", severity="alarm",
                                  message="differential pressure 0.21 bar under its minimum 0.50",
                                  details={"dp_bar": 0.21})


def _panel_alarm(browser, alarm_id: int) -> str:
    return f"#wall-panel [data-alarm='{alarm_id}']"


def test_a_dispatcher_acknowledges_and_clears_an_alarm_and_is_named_on_it(wall_url, city_db_url, browser):
    alarm_id = _raise_alarm(city_db_url)
    set_viewport(browser, 1920, 1080)
    open_wall(browser, f"{wall_url}/?element={STATION}")
    wait_panel(browser, STATION)
    item = _panel_alarm(browser, alarm_id)
    click_css(browser, item + " .alarm-act.ack", what="ack button")
    acked = wait_for(browser, "var e = document.querySelector(arguments[0] + ' .alarm-acked');"
                              "return e && e.textContent", item, what="acknowledged by")
    assert "测试dispatcher" in acked
    stored = store_alarms.get_alarm(get_pool(city_db_url), alarm_id)
    assert stored["state"] == "acknowledged" and stored["acknowledged_by"] == "t-dispatcher"
    wait_for(browser, "return Array.from(document.querySelectorAll('.ticker-acked')).some(function (e) {"
                      " return e.textContent.indexOf('测试dispatcher') >= 0; })", what="ticker shows who")
    screenshot(browser, "wall-alarm-acknowledged-1920")
    # Clearing needs a reason: without one it is refused and nothing changes.
    click_css(browser, item + " .alarm-act.clear", what="clear button")
    wait_for(browser, "return document.getElementById('wall-action-msg').textContent.indexOf('备注') >= 0",
             what="a note is asked for")
    assert store_alarms.get_alarm(get_pool(city_db_url), alarm_id)["state"] == "acknowledged"
    browser.find_element("id", "wall-alarm-note").send_keys("现场核实：阀门开度已调整")
    click_css(browser, item + " .alarm-act.clear", what="clear button")
    wait_for(browser, "return !document.querySelector(arguments[0])", item, what="the cleared alarm leaves the panel")
    stored = store_alarms.get_alarm(get_pool(city_db_url), alarm_id)
    assert stored["state"] == "cleared" and stored["cleared_by"] == "t-dispatcher"
    audit = list_audit_events(get_pool(city_db_url), object_type="alarm", object_id=str(alarm_id))
    assert list(zip(audit["action"], audit["outcome"], audit["username"], audit["role"], strict=True)) == [
        ("alarm.clear", "ok", "t-dispatcher", "dispatcher"), ("alarm.clear", "refused", "t-dispatcher", "dispatcher"),
        ("alarm.ack", "ok", "t-dispatcher", "dispatcher")]
    assert audit["after"].iloc[0]["note"] == "现场核实：阀门开度已调整"


@pytest.mark.login_as("engineer")
def test_an_engineer_has_no_alarm_actions_and_a_forged_one_is_refused(wall_url, city_db_url, browser):
    alarm_id = _raise_alarm(city_db_url)
    set_viewport(browser, 1920, 1080)
    open_wall(browser, f"{wall_url}/?element={STATION}")
    wait_panel(browser, STATION)
    wait_for(browser, "return document.querySelector(arguments[0])", _panel_alarm(browser, alarm_id),
             what="the alarm in the panel")
    assert browser.execute_script("return document.querySelectorAll('.alarm-act, .ticker-ack').length") == 0
    assert not browser.find_element("id", "wall-new-order").is_displayed()
    status, body = browser.execute_async_script(_FORGE_ACK, alarm_id)
    assert status == 403 and json.loads(body)["action"] == "alarm.ack"
    toast = wait_for(browser, "var t = document.getElementById('app-toast');"
                              "return t.className.indexOf('open') >= 0 && t.textContent", what="refusal shown")
    assert "操作被拒绝" in toast
    screenshot(browser, "wall-refused-1920")
    assert store_alarms.get_alarm(get_pool(city_db_url), alarm_id)["state"] == "raised"
    refused = list_audit_events(get_pool(city_db_url), action="alarm.ack", outcome="refused")
    assert refused["username"].tolist() == ["t-engineer"]


def test_a_kiosk_shows_the_live_wall_read_only_without_a_login_until_revoked(wall_url, city_db_url, bare_browser):
    pool = get_pool(city_db_url)
    _raise_alarm(city_db_url)
    token = add_kiosk(pool, "wall-left", actor=SETUP)
    set_viewport(bare_browser, 3840, 2160)
    open_wall(bare_browser, f"{wall_url}/?kiosk={token}")
    assert token not in bare_browser.current_url  # the token does not stay on the screen
    assert bare_browser.execute_script("return document.querySelector('.app-userbar.kiosk').textContent") \
        == "只读大屏 · wall-left"
    wait_for(bare_browser, "return document.querySelectorAll('.ticker-row').length > 0", what="live alarms listed")
    open_wall(bare_browser, f"{wall_url}/?element={STATION}")
    wait_panel(bare_browser, STATION)
    controls = "return document.querySelectorAll('.alarm-act, .ticker-ack, #app-logout, .alarm-tools:not(.hidden)').length"
    assert bare_browser.execute_script(controls) == 0
    assert not bare_browser.find_element("id", "wall-new-order").is_displayed()
    screenshot(bare_browser, "wall-kiosk-3840")
    revoke_kiosk(pool, "wall-left", actor=SETUP)
    wait_for(bare_browser, "return window.location.pathname === '/login'", timeout=30,
             what="a revoked kiosk is sent to the login page")
