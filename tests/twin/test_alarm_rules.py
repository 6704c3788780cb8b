"""Alarm rules on the demo city in PostgreSQL: each rule raises on crafted readings, continues rather
than duplicates, escalates, and clears itself after its hold-off; people's actions carry their names."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from store import alarms, telemetry, twin_runs
from store.audit import Actor
from store.db import get_pool
from twin.alarm_rules import AlarmEngine, RuleConfig, load_config
from twin.model import Twin
from twin.sync import load_network

AT = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(hours=1)


@pytest.fixture
def setup(demo_db_url):
    pool = get_pool(demo_db_url)
    network = load_network(pool)
    # Cycles here are tens of minutes apart; in service they are minutes apart.
    return pool, network, AlarmEngine(pool, network, RuleConfig(continuing_s=3600.0), window_s=300.0)


def _sensor(network, kind: str, k: int = 0) -> str:
    return str(network.sensors.loc[network.sensors["kind"] == kind, "id"].iloc[k])


def _readings(pool, sensor_id: str, start, end, value, every="5min"):
    times = pd.date_range(start, end, freq=every)
    values = value(np.arange(len(times))) if callable(value) else np.full(len(times), float(value))
    telemetry.ingest_rows(pool, pd.DataFrame({"time": times, "sensor_id": sensor_id, "value": values}), "test")


def _open(pool, cause: str) -> pd.DataFrame:
    frame = alarms.list_open_alarms(pool)
    return frame[frame["cause"] == cause]


def test_a_cold_room_warns_escalates_continues_and_clears_after_its_hold_off(setup):
    pool, network, engine = setup
    room = _sensor(network, "room_t")
    _readings(pool, room, AT - pd.Timedelta(minutes=40), AT, 17.2)
    engine.evaluate(AT)
    cold = _open(pool, "room_t_low")
    assert cold["asset_id"].tolist() == [room] and cold["severity"].tolist() == ["warning"]
    _readings(pool, room, AT + pd.Timedelta(minutes=5), AT + pd.Timedelta(minutes=40), 15.1)
    engine.evaluate(AT + pd.Timedelta(minutes=40))                     # all of the last 30 min under 16 °C
    again = _open(pool, "room_t_low")
    assert again["severity"].tolist() == ["alarm"] and again["raise_count"].tolist() == [1]
    events = alarms.list_alarm_events(pool, int(again["id"].iloc[0]))
    assert events["action"].tolist() == ["raised", "severity"]
    _readings(pool, room, AT + pd.Timedelta(minutes=45), AT + pd.Timedelta(minutes=90), 20.5)
    engine.evaluate(AT + pd.Timedelta(minutes=50))                     # warm again, within the hold-off
    assert len(_open(pool, "room_t_low")) == 1
    engine.evaluate(AT + pd.Timedelta(minutes=90))                     # gone for longer than 15 min
    assert _open(pool, "room_t_low").empty
    cleared = alarms.get_alarm(pool, int(again["id"].iloc[0]))
    assert cleared["state"] == "cleared" and cleared["cleared_by"] == "rules"


def test_a_community_with_too_few_warm_rooms_warns_escalates_and_clears(setup):
    from store.households import list_households

    pool, network, engine = setup
    households = list_households(pool, with_collector=True)
    community = households["community_id"].value_counts().index[0]
    rooms = households.loc[households["community_id"] == community, "sensor_id"].astype(str).tolist()[:10]

    def hour(end, cold: int):
        for k, room in enumerate(rooms):
            _readings(pool, room, end - pd.Timedelta(minutes=55), end, 16.5 if k < cold else 21.0)
        engine.evaluate(end)
        return _open(pool, "compliance_low").set_index("asset_id")

    low = hour(AT, cold=2)                                           # 80 % warm: under 90 %
    assert low.loc[community, "severity"] == "warning"
    assert low.loc[community, "raise_count"] == 1
    # One alarm stands for the community's cold rooms: how many, the coldest, and which households.
    details = alarms.get_alarm(pool, int(low.loc[community, "id"]))["details"]
    cold = households.set_index("sensor_id").loc[rooms[:2], "id"].tolist()
    assert details["below"] == 2 and details["worst_c"] == 16.5 and sorted(details["households"]) == sorted(cold)
    assert low.loc[community, "message"].startswith("2 of 10 rooms under 18 °C") and "worst 16.5 °C" in \
        low.loc[community, "message"]
    low = hour(AT + pd.Timedelta(hours=1), cold=4)                   # 60 %: under 80 %
    assert low.loc[community, "severity"] == "alarm" and low.loc[community, "raise_count"] == 1
    low = hour(AT + pd.Timedelta(hours=2), cold=0)                   # all warm, gone for over the hold-off
    assert community not in low.index


def test_a_silent_sensor_goes_offline_and_a_flat_one_is_stuck(setup):
    pool, network, engine = setup
    silent, flat, lively = (_sensor(network, "t_supply", k) for k in range(3))
    _readings(pool, silent, AT - pd.Timedelta(hours=3), AT - pd.Timedelta(minutes=40), lambda k: 95.0 + 0.1 * k)
    _readings(pool, flat, AT - pd.Timedelta(hours=3), AT, 95.0)
    _readings(pool, lively, AT - pd.Timedelta(hours=3), AT, lambda k: 95.0 + 0.1 * np.sin(k))
    engine.evaluate(AT)
    assert _open(pool, "sensor_offline")["asset_id"].tolist() == [silent]
    assert _open(pool, "sensor_stuck")["asset_id"].tolist() == [flat]
    _readings(pool, silent, AT + pd.Timedelta(minutes=5), AT + pd.Timedelta(minutes=50), lambda k: 96.0 + 0.1 * k)
    engine.evaluate(AT + pd.Timedelta(minutes=50))        # heard again for longer than the hold-off
    assert silent not in _open(pool, "sensor_offline")["asset_id"].tolist()
    assert {flat, lively} <= set(_open(pool, "sensor_offline")["asset_id"])   # these two fell silent at AT


def _drifting_runs(pool, network, again_s=(0, 30)) -> str:
    """Two days of runs every 20 minutes (one in each 20-minute slot per ``again_s``) where one station thermometer's residual
    grows 1.5 K a day and another's swings 2 K over the day; the drifting sensor's id."""
    drifting, swinging = _sensor(network, "t_supply", 3), _sensor(network, "t_supply", 4)
    rng = np.random.default_rng(1)
    for k in range(2 * 72):
        at = AT - pd.Timedelta(minutes=20 * (143 - k))
        days = k / 72.0
        residuals = pd.DataFrame({"sensor_id": [drifting, swinging], "measured": [95.0, 95.0],
                                  "modelled": [95.0, 95.0],
                                  "residual": [1.5 * days + rng.normal(0, 0.15),
                                               2.0 * np.sin(2 * np.pi * days) + rng.normal(0, 0.15)]})
        for again in again_s:
            moment = at + pd.Timedelta(seconds=again)
            twin_runs.add_run(pool, started_at=moment, finished_at=moment, converged=True, cycle_s=1.0,
                              summary={"at": moment.isoformat()}, residuals=residuals)
    return drifting


def test_a_residual_that_grows_day_after_day_is_drift_and_one_that_follows_the_day_is_not(setup):
    """Two days of runs every 20 minutes (two of them each 20-minute slot, as a loop cycling faster
    than the rule samples): a supply temperature whose residual grows 1.5 K a day is drifting; one
    that swings 2 K over the day, as a twin's heat-loss error does with the load, is not — though
    any six of its hours make a line of up to 12 K a day."""
    pool, network, engine = setup
    drifting = _drifting_runs(pool, network)
    last_hour = twin_runs.get_hourly_residuals(pool, end=AT.to_pydatetime(), window_s=3600.0)
    # AT − 60 min + 30 s, AT − 40, − 20 and AT: one run per 10-minute slot, not the 7 runs in the hour.
    assert last_hour.groupby("sensor_id")["runs"].sum().tolist() == [4, 4]
    engine.evaluate(AT)
    drift = _open(pool, "sensor_drift")
    assert drift["asset_id"].tolist() == [drifting]
    assert alarms.get_alarm(pool, int(drift["id"].iloc[0]))["details"]["slope_per_day"] == pytest.approx(1.5, abs=0.2)
    engine.evaluate(AT + pd.Timedelta(minutes=20))      # within the hour: the same assessment stands
    assert _open(pool, "sensor_drift")["asset_id"].tolist() == [drifting]


def test_a_day_colder_by_a_cold_wave_raises_no_drift(setup):
    """The same growing residual, but today 9 K colder than yesterday: the twin's error moves with the
    weather, so the day-on-day comparison is not a meter's drift."""
    pool, network, engine = setup
    _drifting_runs(pool, network, again_s=(0,))
    outdoor = _sensor(network, "outdoor_t")
    _readings(pool, outdoor, AT - pd.Timedelta(hours=48), AT - pd.Timedelta(hours=24), 1.0, every="30min")
    _readings(pool, outdoor, AT - pd.Timedelta(hours=23, minutes=30), AT, -8.0, every="30min")
    engine.evaluate(AT)
    assert _open(pool, "sensor_drift").empty


def test_station_and_source_limits_come_from_the_twin_where_nothing_is_measured(setup):
    pool, network, engine = setup
    result = Twin(network).solve()
    station = str(result.stations.index[5])
    stations = result.stations.copy()
    stations.loc[station, "dp_bar"] = 0.1
    stations.loc[result.stations.index[6], "t_return_c"] = 68.0
    sources = result.sources.copy()
    sources.loc["SRC-2", "p_supply_bar"] = 9.0
    engine.evaluate(AT, result=replace(result, stations=stations, sources=sources), outdoor_c=-5.0)
    assert _open(pool, "station_dp_low")["asset_id"].tolist() == [station]
    assert _open(pool, "station_dp_low")["severity"].tolist() == ["alarm"]
    assert _open(pool, "station_t_return_high")["asset_id"].tolist() == [str(result.stations.index[6])]
    assert _open(pool, "source_p_out_of_band")["asset_id"].tolist() == ["SRC-2"]
    # A measured value wins over the model's.
    sensor = network.sensors[(network.sensors["element_id"] == "SRC-2") & (network.sensors["kind"] == "p_supply")]
    measured = pd.Series({str(sensor["id"].iloc[0]): float(network.sources.set_index("id").at["SRC-2", "p_flow_bar"])})
    engine.evaluate(AT + pd.Timedelta(minutes=20), result=replace(result, sources=sources), measured=measured,
                    outdoor_c=-5.0)
    assert _open(pool, "source_p_out_of_band").empty


def test_a_failed_solve_raises_and_a_good_one_clears_after_the_hold_off(setup):
    pool, network, engine = setup
    engine.evaluate(AT, error="PipeflowNotConverged")
    engine.evaluate(AT + pd.Timedelta(minutes=5), error="PipeflowNotConverged")
    failed = _open(pool, "twin_not_converged")
    assert len(failed) == 1 and failed["raise_count"].tolist() == [1]
    result = Twin(network).solve()
    engine.evaluate(AT + pd.Timedelta(minutes=10), result=result, outdoor_c=-5.0)
    assert len(_open(pool, "twin_not_converged")) == 1
    engine.evaluate(AT + pd.Timedelta(minutes=30), result=result, outdoor_c=-5.0)
    assert _open(pool, "twin_not_converged").empty


def test_acknowledge_clear_and_work_order_record_who(setup):
    pool, network, engine = setup
    engine.evaluate(AT, error="x")
    alarm_id = int(_open(pool, "twin_not_converged")["id"].iloc[0])
    wang, li = Actor("wang", "dispatcher", display_name="值班员 王"), Actor("li", "dispatcher", display_name="班长 李")
    alarms.update_alarm_state(pool, alarm_id, "acknowledged", actor=wang)
    wo = alarms.open_work_order_from_alarm(pool, alarm_id, actor=wang)
    alarms.update_alarm_state(pool, alarm_id, "cleared", actor=li, note="热源已恢复")
    stored = alarms.get_alarm(pool, alarm_id)
    assert stored["acknowledged_by"] == "wang" and stored["cleared_by"] == "li"
    events = alarms.list_alarm_events(pool, alarm_id)
    assert events[["actor", "action"]].values.tolist() == [["rules", "raised"], ["wang", "acknowledged"],
                                                           ["wang", "work_order"], ["li", "cleared"]]
    from store.work_orders import get_work_order
    order = get_work_order(pool, wo)
    assert order["asset_id"] == "SRC-1" and order["origin"] == "alarm" and order["lon"] is not None


def test_thresholds_come_from_a_file_and_a_typo_is_named(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("room_warn_c: 17.5\nhold_off_s: 600\n")
    assert load_config(path).room_warn_c == 17.5 and load_config(path).hold_off_s == 600.0
    path.write_text("room_warn: 17\n")
    with pytest.raises(ValueError, match=r"rules.yaml: unknown alarm setting\(s\) \['room_warn'\]"):
        load_config(path)



def _heat_readings(engine, at, outdoor_c: float, factor: pd.Series) -> pd.Series:
    """Each metered station's heat meter at ``factor`` × the curve's heat for it."""
    from heattwin.clock import local_hour_of
    from twin.plant.control import station_heat_mw

    heat = engine._heat
    asked = station_heat_mw(heat.design_mw, outdoor_c, local_hour_of(at), engine.design)
    return pd.Series(asked * factor.reindex(heat.station_ids).to_numpy(), index=heat.meter_ids)


def test_a_station_passing_a_quarter_of_its_usual_heat_is_short_and_a_cold_wave_is_not(setup):
    pool, network, engine = setup
    stations = pd.Index(engine._heat.station_ids)
    usual = pd.Series(np.random.default_rng(3).uniform(0.8, 1.2, len(stations)), index=stations)
    fouled = stations[0]
    at = AT - pd.Timedelta(hours=8)
    for _ in range(7 * 6):    # seven hours learning each station's own ratio (buildings differ from design)
        at += pd.Timedelta(minutes=10)
        assert engine.station_heat(at, _heat_readings(engine, at, -2.0, usual), -2.0) == []
    # A cold wave: every exchanger at its limit passes 1/1.4 of the curve's heat. That is not a station fault.
    for _ in range(6):
        at += pd.Timedelta(minutes=10)
        assert engine.station_heat(at, _heat_readings(engine, at, -2.0, usual / 1.4), -2.0) == []
    factor = usual.copy()
    factor[fouled] *= 0.25
    for _ in range(2):
        at += pd.Timedelta(minutes=10)
        engine.station_heat(at, _heat_readings(engine, at, -2.0, factor), -2.0)
    for _ in range(4):
        at += pd.Timedelta(minutes=10)
        engine.evaluate(at, measured=_heat_readings(engine, at, -2.0, factor), outdoor_c=-2.0)
    short = alarms.list_open_alarms(pool, asset_id=fouled, with_details=True)
    short = short[short["cause"] == "station_heat_short"]
    assert _open(pool, "station_heat_short")["asset_id"].tolist() == [fouled]
    assert short["details"].iloc[0]["share_pct"] < 45
    # Failed solves, then the fouled station's meter silent, then a cycle without the outdoor temperature,
    # each longer than the hold-off: none of them says the station is passing its heat again.
    meter = engine._heat.meter_ids[list(engine._heat.station_ids).index(fouled)]
    for error, drop, outdoor_c in (("did not converge", None, -2.0), (None, meter, -2.0), (None, None, None)):
        for _ in range(3):
            at += pd.Timedelta(minutes=10)
            readings = _heat_readings(engine, at, -2.0, factor)
            engine.evaluate(at, measured=readings.drop(drop) if drop else readings, outdoor_c=outdoor_c,
                            error=error)
        assert _open(pool, "station_heat_short")["asset_id"].tolist() == [fouled], (error, drop, outdoor_c)
    for _ in range(6):         # the exchanger cleaned: back over the threshold and its deadband, then cleared
        at += pd.Timedelta(minutes=10)
        engine.evaluate(at, measured=_heat_readings(engine, at, -2.0, usual), outdoor_c=-2.0)
    assert _open(pool, "station_heat_short").empty
