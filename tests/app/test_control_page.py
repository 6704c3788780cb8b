"""/control in a real headless Chromium against the demo city: an engineer sees an advised schedule (planned by
the real advisor on the city's twin), its 48 h strip and balancing advice, accepts it — the setpoints reach a
plant listening on a real Mosquitto — and rolls it back; a dispatcher is refused the page."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from accounts import app_settings, browser_login, role_users
from real_parts import require

from heattwin.clock import local_hours
from scripts.mqtt_ingest import find_mosquitto, local_broker
from scripts.wall_browser import wait_for
from store import control
from store import forecasts as forecast_store
from store.audit import SYSTEM, list_audit_events
from store.db import get_pool
from twin.control.adapter import SetpointListener
from twin.control.advise import OperatingState, advise
from twin.control.runner import summary_of
from twin.model import Twin
from twin.plant.control import station_heat_mw, supply_setpoint_c
from twin.sync import load_network

AT = pd.Timestamp("2026-12-10 00:00", tz="UTC")


class _Plant:
    def __init__(self):
        self.tables = []

    def apply_setpoints(self, table):
        self.tables.append(table)


def _propose(pool) -> int:
    """The advisor's schedule for a day cooling from −2 to −9 °C (loads from the stations' degree-hour law)."""
    network = load_network(pool)
    hours = pd.date_range(AT, periods=48, freq="h")
    outdoor = np.linspace(-2.0, -9.0, len(hours))
    design = network.stations["design_heat_mw"].astype(float).to_numpy()
    loads = pd.concat([pd.DataFrame({"issued_at": AT, "valid_at": h, "element_id": network.stations["id"].astype(str),
                                     "load_mw": station_heat_mw(design, t, local_hours([h])[0], network.design)})
                       for h, t in zip(hours, outdoor, strict=True)])
    loads["p10_mw"], loads["p90_mw"] = 0.93 * loads["load_mw"], 1.07 * loads["load_mw"]
    sources = network.sources["id"].astype(str)
    curve = float(supply_setpoint_c(-2.0, network.design))
    state = OperatingState(AT, -2.0, pd.Series(curve, index=sources.to_numpy()),
                           pd.Series(pd.to_numeric(network.sources["flow_t_h"], errors="coerce").to_numpy(),
                                     index=sources.to_numpy()))
    stations = pd.DataFrame({"station_id": network.stations["id"].astype(str).iloc[:3], "ratio_before": 1.0,
                             "ratio": [0.96, 1.0, 1.04], "median_before_c": [20.6, 19.3, 18.4],
                             "median_after_c": [19.7, 19.3, 19.3], "min_before_c": [19.1, 18.2, 17.6],
                             "min_after_c": [18.2, 18.2, 18.5], "in_band_before": [0.3, 0.9, 0.5],
                             "in_band_after": [0.8, 0.9, 0.8], "rooms": [12, 10, 9]})
    advice = advise(Twin(network), state, loads, stations.set_index("station_id")["ratio"])
    return control.add_schedule(pool, issued_at=AT, expires_at=AT + pd.Timedelta(hours=48),
                                setpoints=advice.setpoints, stations=stations,
                                summary=summary_of(advice, loads, network), actor=SYSTEM)


@pytest.fixture
def broker():
    require(find_mosquitto() is not None, "mosquitto is not installed")
    with local_broker() as running:
        yield running


@pytest.fixture
def control_url(city_db_url, drawings_dir, broker):
    from waitress.server import create_server

    from app.server import create_app

    settings = app_settings(drawings_dir, mqtt_host=broker.host, mqtt_port=broker.port,
                            mqtt_username=broker.username, mqtt_password=broker.password)
    app = create_app(city_db_url, settings)
    server = create_server(app.server, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)


def _click_first_row(browser):
    wait_for(browser, "return document.querySelector('#control-schedules .ag-row')", what="a schedule row")
    browser.find_element("css selector", "#control-schedules .ag-row .ag-cell").click()


@pytest.mark.browser
def test_an_engineer_accepts_a_schedule_that_reaches_the_plant_and_rolls_it_back(control_url, city_db_url,
                                                                                  bare_browser, broker):
    pool = get_pool(city_db_url)
    users = role_users(pool)
    schedule_id = _propose(pool)
    forecast_store.add_load_model(pool, trained_until=AT.to_pydatetime(), location="network", elements=["ST-0001"],
                                  boosters={}, params={}, actor=SYSTEM,
                                  scores={"hours": 1200, "issues": 5, "days": 5.0, "mape_15_38h": 0.1147,
                                          "persistence_mape": 0.0607, "degree_hour_mape": 0.0927,
                                          "skill_vs_best_baseline": -0.89})
    plant = _Plant()
    listener = SetpointListener(plant, broker.host, broker.port, username=broker.username, password=broker.password)
    listener.start()
    try:
        browser = bare_browser
        browser_login(browser, control_url, *users["dispatcher"], next_path="/control")
        browser.get(f"{control_url}/control")
        wait_for(browser, "return document.querySelector('[data-refused=\"control.view\"]')", what="the refusal")

        browser.delete_all_cookies()
        browser_login(browser, control_url, *users["engineer"], next_path="/control")
        browser.get(f"{control_url}/control?lang=en")
        _click_first_row(browser)
        wait_for(browser, f"return document.getElementById('control-picked').innerText.includes('#{schedule_id}')",
                 what="the picked schedule")
        wait_for(browser, "return document.querySelectorAll('#control-strip .scatterlayer .trace').length >= 3",
                 what="the 48 h strip")
        wait_for(browser, "return document.querySelectorAll('#control-stations .ag-row').length === 3",
                 what="the balancing rows")
        wait_for(browser, "return document.getElementById('control-scores').innerText.includes"
                          "(\"This model's MAPE (sources)\\t11.5 %\")", what="the stored model's backtest scores")
        assert not plant.tables, "nothing may reach the plant before a person accepts"

        browser.find_element("id", "control-note").send_keys("cold night ahead")
        browser.find_element("id", "control-accept").click()
        wait_for(browser, "return document.querySelector('#control-msg [data-schedule]')", what="the acceptance")
        assert listener.applied.wait(10.0)
        sent = plant.tables[-1]
        assert sent.schedule_id == schedule_id
        stored = control.get_schedule(pool, schedule_id)
        assert stored["state"] == "accepted"
        first_hour = stored["setpoints"][stored["setpoints"]["kind"] == "t_supply_c"]["valid_from"].min()
        assert set(sent.at(first_hour).t_supply_c.index) == set(load_network(pool).sources["id"].astype(str))
        ok = list_audit_events(pool, action="control.accept", outcome="ok")
        assert ok["username"].tolist() == [users["engineer"][0]] and ok["role"].tolist() == ["engineer"]

        listener.applied.clear()
        _click_first_row(browser)
        browser.find_element("id", "control-rollback").click()
        wait_for(browser, "return document.getElementById('control-status').innerText.includes('heating curve')",
                 what="the plants back on their curve")
        assert listener.applied.wait(10.0)
        assert plant.tables[-1].frame.empty
        assert control.get_schedule(pool, schedule_id)["state"] == "rolled_back"
    finally:
        listener.stop()
