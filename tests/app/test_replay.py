"""Replay on the wall, in a real headless Chromium: a past hour shows the twin states stored for it, the
alarms and tiles of then, under a banner; Live brings back the current state."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from layers.style import PIPE_SCALES, colour_index, palette
from scripts.wall_browser import open_wall, screenshot, wait_for
from store import alarms as store_alarms
from store import replay as store_replay
from store import twin_runs
from store.assets import get_asset_rows
from store.db import get_pool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_PIPE_COLOURS = "return window.heattwin.refs['wall-pipes'].map(function (l) { return l.options.color; })"
_PIPE_IDS = "return window.heattwin.refs['wall-pipes'].map(function (l) { return l.feature.properties.id; })"
_APPLIED = "return document.getElementById('wall-applied').textContent.indexOf(arguments[0]) === 0"
_BANNER = ("var b = document.getElementById('wall-replay-banner');"
           " return b && b.className.indexOf('hidden') < 0 && b.offsetHeight > 0 && b.textContent")


def _colour(t_supply_c: float) -> str:
    scale = PIPE_SCALES["t_supply"]
    return palette(scale)[int(colour_index([t_supply_c], scale)[0])]


def _run(pool, at: datetime, t_supply_c) -> int:
    assets, _ = get_asset_rows(pool)
    ids = assets.loc[assets["kind"].isin(("pipe", "station", "source")), "id"].reset_index(drop=True)
    values = t_supply_c(ids) if callable(t_supply_c) else t_supply_c
    states = pd.DataFrame({"element_id": ids, "status": "normal", "t_supply_c": values, "p_supply_bar": 8.0})
    return twin_runs.add_run(pool, started_at=at, finished_at=at, converged=True, cycle_s=1.5,
                             summary={"at": at.isoformat()}, states=states)


def _varied(ids: pd.Series) -> pd.Series:
    """A supply temperature per element that differs along the network: 60, 68, … 108 °C."""
    return 60.0 + 8.0 * (pd.Series(range(len(ids))) % 7)


def test_replay_shows_the_stored_state_of_a_past_hour_and_live_brings_back_the_current(wall_url, browser,
                                                                                           city_db_url):
    pool = get_pool(city_db_url)
    now = datetime.now(UTC)
    then = pd.Timestamp(now - timedelta(hours=2)).floor("min").to_pydatetime()
    old_run = _run(pool, then - timedelta(seconds=30), _varied)
    live_run = _run(pool, now, 120.0)
    station = get_asset_rows(pool)[0].query("kind == 'station'")["id"].iloc[0]
    alarm = store_alarms.add_alarm(pool, asset_id=station, cause="station_dp_low", severity="alarm",
                                   message="资用压差偏低", raised_at=then - timedelta(minutes=10))
    store_alarms.clear_gone(pool, "station_dp_low", set(), at=then + timedelta(minutes=20), hold_off_s=60)

    # Live first: every pipe at the current run's 120 °C.
    open_wall(browser, wall_url + "/")
    wait_for(browser, _APPLIED, f"run:{live_run}", what="the live run applied")
    assert set(browser.execute_script(_PIPE_COLOURS)) == {_colour(120.0)}

    # Pick an hour: the bar offers an hour ago as the start; load it.
    browser.find_element("id", "wall-replay-open").click()
    wait_for(browser, "return document.getElementById('wall-replay-start').value", what="a start offered")
    browser.find_element("id", "wall-replay-go").click()
    wait_for(browser, _APPLIED, f"run:replay:run|{old_run}|", what="the stored run of an hour ago applied")
    banner = wait_for(browser, _BANNER, what="the replay banner")
    assert "非实时数据" in banner
    stored = twin_runs.get_run_states(pool, old_run).set_index("element_id")["t_supply_c"]
    drawn = dict(zip(browser.execute_script(_PIPE_IDS), browser.execute_script(_PIPE_COLOURS), strict=True))
    assert drawn and all(colour == _colour(stored[pipe]) for pipe, colour in drawn.items())
    assert len(set(drawn.values())) > 1                     # the pipes differ, as the stored state does

    # Play at 60×: the time shown moves on by about a minute a second.
    shown = browser.find_element("id", "wall-replay-time").text
    browser.find_element("css selector", "#wall-replay-speed input[value='60']").click()
    browser.find_element("id", "wall-replay-play").click()
    wait_for(browser, "return document.getElementById('wall-replay-time').textContent !== arguments[0]", shown,
             what="the replay clock moving")

    # Live: the current state again, no banner.
    browser.find_element("id", "wall-replay-live").click()
    wait_for(browser, _APPLIED, f"run:{live_run}", timeout=20, what="the live run applied again")
    wait_for(browser, "return document.getElementById('wall-replay-banner').className.indexOf('hidden') >= 0",
             what="the banner gone")
    assert set(browser.execute_script(_PIPE_COLOURS)) == {_colour(120.0)}

    # A link to the moment of the alarm: the ticker and the tile show the alarm open then, not now.
    local = pd.Timestamp(then).tz_convert("Asia/Shanghai").strftime("%Y-%m-%dT%H:%M")
    open_wall(browser, f"{wall_url}/?replay={local}&span=1")
    wait_for(browser, _APPLIED, f"run:replay:run|{old_run}|", what="the linked moment applied")
    wait_for(browser, "return document.querySelector('#wall-ticker [data-alarm=\"' + arguments[0] + '\"]')",
             str(alarm), what="the alarm open then, in the ticker")
    open_then = store_replay.list_alarms_at(pool, then)
    tile = browser.find_element("css selector", "[data-kpi='alarms'] .kpi-value").text
    assert tile == str(len(open_then)) and alarm in set(open_then["id"])
    screenshot(browser, "wall-replay-1920")
    assert alarm not in set(store_alarms.list_open_alarms(pool)["id"])



# Counts the server's answers that carry the strip (Dash's requests go through fetch).
_COUNT_STRIP_SENDS = """
window.__stripSends = 0;
var original = window.fetch;
window.fetch = function () {
    return original.apply(this, arguments).then(function (answer) {
        answer.clone().json().then(function (body) {
            if (body && body.response && body.response['wall-strip']) { window.__stripSends += 1; }
        }).catch(function () {});
        return answer;
    });
};
"""
# The strip's outdoor forecast as plotly drew it (decoded: plotly.py sends arrays packed), once its first value
# is arguments[0].
_STRIP_OUTDOOR = ("var g = document.querySelector('#wall-strip .js-plotly-plot');"
                  " var y = g && g._fullData && g._fullData.length ? g._fullData[0].y : null;"
                  " return y && y[0] === arguments[0] ? Array.from(y) : null")


def test_the_forecast_strip_shows_what_was_known_at_the_replayed_hour(wall_url, browser, city_db_url):
    """Issued four hours ago: −5 °C; issued this hour: +3 °C. Live shows +3 °C; the replay of three hours ago
    shows −5 °C (the forecast as it stood then, not the one that came after)."""
    from test_wall_strip import seed_issue  # tests/app/test_wall_strip.py

    pool = get_pool(city_db_url)
    second = pd.Timestamp.now(tz="UTC").floor("h")
    first = second - pd.Timedelta(hours=4)
    seed_issue(pool, first, outdoor_c=-5.0, load_mw=40.0, supply_c=95.0)
    seed_issue(pool, second, outdoor_c=3.0, load_mw=30.0, supply_c=85.0)

    open_wall(browser, wall_url + "/")
    live = wait_for(browser, _STRIP_OUTDOOR, 3.0, what="the live strip, this hour's issue")
    assert set(live) == {3.0}
    # Nothing picked: the strip stands in the trend's place (the trend's placeholder hidden).
    heights = browser.execute_script("return [document.getElementById('wall-strip').offsetHeight,"
                                     " document.getElementById('wall-trend').offsetHeight]")
    assert heights[0] > 100 and heights[1] == 0, heights
    # The wall's 10 s tick asks again, and the server answers "unchanged" until the moment moves on (5 minutes).
    browser.execute_script(_COUNT_STRIP_SENDS)
    time.sleep(25)
    assert browser.execute_script("return window.__stripSends") <= 1     # ≤ 1: a 5-minute boundary may pass
    local = (first + pd.Timedelta(hours=1, minutes=10)).tz_convert("Asia/Shanghai").strftime("%Y-%m-%dT%H:%M")
    open_wall(browser, f"{wall_url}/?replay={local}&span=1")
    then = wait_for(browser, _STRIP_OUTDOOR, -5.0, what="the strip as known then")
    assert set(then) == {-5.0}
    assert "所知" in browser.find_element("id", "wall-strip-title").text
    screenshot(browser, "wall-replay-strip-1920")
