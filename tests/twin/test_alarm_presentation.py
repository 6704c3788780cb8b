"""The presentation pass on the demo city in PostgreSQL: evidence and consequences stay off the wall,
grouped under their root cause; shelving expires; out of service ends with its work order; a
chattering alarm is held; the rules hold their alarms with a deadband and keep quiet while data is on
its way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from store import alarms, telemetry
from store.audit import Actor, list_audit_events
from store.db import get_pool
from store.incidents import add_isolation
from store.work_orders import add_work_order, update_work_order_state
from twin.alarm_presentation import AlarmPresenter, feeding_source, priority_of
from twin.alarm_rules import AlarmEngine, RuleConfig
from twin.sync import load_network

AT = pd.Timestamp.now(tz="UTC").floor("min")
DISPATCHER = Actor("disp", "dispatcher")


@pytest.fixture
def city(demo_db_url):
    pool = get_pool(demo_db_url)
    network = load_network(pool)
    return pool, network, AlarmPresenter(pool, network)


def _raise(pool, asset_id, cause, severity="warning", at=AT):
    alarms.upsert_alarms(pool, [{"asset_id": asset_id, "cause": cause, "severity": severity, "message": cause}],
                         at=at.to_pydatetime(), continuing_s=1800.0, actor="rules")
    return int(alarms.list_open_alarms(pool, asset_id=asset_id).set_index("cause").loc[cause, "id"])


def _state(pool) -> pd.DataFrame:
    return alarms.list_open_alarms(pool).set_index("id")


def _stations(network, k=2):
    """Stations with communities (the consequences' rules need one)."""
    served = set(network.communities["station_id"].astype(str))
    return [s for s in network.stations["id"].astype(str) if s in served][:k]


def _community_of(network, station):
    return str(network.communities.loc[network.communities["station_id"] == station, "id"].iloc[0])


def test_household_rooms_are_evidence_and_their_community_alarm_rings(city):
    pool, network, presenter = city
    room = str(network.sensors.loc[network.sensors["kind"] == "room_t", "id"].iloc[0])
    community = _community_of(network, _stations(network, 1)[0])
    evidence, rings = _raise(pool, room, "room_t_low"), _raise(pool, community, "compliance_low")
    presenter.present(AT)
    state = _state(pool)
    assert not state.loc[evidence, "presented"] and state.loc[evidence, "suppressed_by"] == "evidence"
    assert state.loc[rings, "presented"] and state.loc[rings, "priority"] == "low"
    assert alarms.list_open_alarms(pool, presented_only=True)["id"].tolist() == [rings]
    assert alarms.list_alarm_events(pool, rings)["action"].tolist() == ["raised", "presented"]


def test_a_leaks_dry_region_is_one_line_that_expands_into_its_consequences(city):
    pool, network, presenter = city
    inside, outside = _stations(network, 2)
    pipe = str(network.pipes["id"].iloc[0])
    leak = _raise(pool, pipe, "leak", "alarm")
    with pool.connection() as conn:   # the incident the sync loop opens for the leak, covering one station
        conn.execute("INSERT INTO incident (kind, cause_element, title, alarm_id, stations, created_by)"
                     " VALUES ('leak', %s, 'leak', %s, %s, 'system')", (pipe, leak, [inside]))
    dp_in, cold_in = _raise(pool, inside, "station_dp_low"), _raise(pool, _community_of(network, inside), "compliance_low")
    dp_out = _raise(pool, outside, "station_dp_low")
    presenter.present(AT)
    state = _state(pool)
    assert state.loc[leak, "presented"] and state.loc[leak, "priority"] == "high"
    for child in (dp_in, cold_in):
        assert not state.loc[child, "presented"] and state.loc[child, "parent_id"] == leak
        assert state.loc[child, "suppressed_by"] == "incident_region"
    assert state.loc[dp_out, "presented"]
    assert state.loc[leak, "grouped"] == 2
    assert sorted(alarms.list_open_alarms(pool, parent_id=leak)["id"]) == sorted([dp_in, cold_in])
    assert alarms.list_alarm_events(pool, dp_in)["note"].iloc[-1] == f"incident_region under #{leak}"


def test_a_planned_isolations_region_does_not_ring_and_comes_back_when_it_ends(city):
    from store.incidents import end_incident

    pool, network, presenter = city
    inside = _stations(network, 1)[0]
    incident = add_isolation(pool, pipe_id=str(network.pipes["id"].iloc[0]), stations=[inside], valves=[],
                             actor=DISPATCHER)
    dp = _raise(pool, inside, "station_dp_low")
    presenter.present(AT)
    assert not _state(pool).loc[dp, "presented"] and _state(pool).loc[dp, "suppressed_by"] == "incident_region"
    end_incident(pool, incident, actor=DISPATCHER)
    presenter.present(AT + pd.Timedelta(minutes=1))
    assert _state(pool).loc[dp, "presented"]
    # Back on the wall is an annunciation of its own (what the rates count and the replay reads).
    assert alarms.list_alarm_events(pool, dp)["action"].tolist()[-2:] == ["suppressed", "presented"]


def test_a_tripped_plant_groups_the_stations_it_feeds_and_no_others(city):
    pool, network, presenter = city
    fed = feeding_source(network)
    plant = next(s for s in network.sources.loc[network.sources["role"] != "pressure", "id"].astype(str)
                 if (fed == s).any() and (fed != s).any())
    mine, other = fed.index[fed == plant][0], fed.index[fed != plant][0]
    trip = _raise(pool, plant, "source_tripped", "alarm")
    dp_mine, dp_other = _raise(pool, mine, "station_dp_low"), _raise(pool, other, "station_dp_low")
    presenter.present(AT)
    state = _state(pool)
    assert state.loc[dp_mine, "parent_id"] == trip and state.loc[dp_mine, "suppressed_by"] == "source_trip"
    assert state.loc[dp_other, "presented"] and state.loc[trip, "presented"]
    assert state.loc[dp_mine, "console"] == plant


def test_a_failed_station_carries_its_communities_cold_rooms(city):
    pool, network, presenter = city
    station = _stations(network, 1)[0]
    fault = _raise(pool, station, "station_t_supply_low")
    cold = _raise(pool, _community_of(network, station), "compliance_low", at=AT + pd.Timedelta(minutes=5))
    presenter.present(AT + pd.Timedelta(minutes=5))
    state = _state(pool)
    assert state.loc[cold, "parent_id"] == fault and state.loc[cold, "suppressed_by"] == "station_fault"
    assert state.loc[fault, "presented"]


def test_an_offline_sensors_derived_alarms_and_a_silent_outstations_sensors_group(city):
    pool, network, presenter = city
    station = _stations(network, 1)[0]
    own = network.sensors.loc[network.sensors["element_id"] == station, "id"].astype(str).tolist()
    drift_parent = _raise(pool, own[0], "sensor_offline")
    drift = _raise(pool, own[0], "sensor_drift")
    presenter.present(AT)
    assert _state(pool).loc[drift, "parent_id"] == drift_parent
    outstation = _raise(pool, station, "telemetry_offline")
    silent = [_raise(pool, s, "sensor_offline") for s in own[1:]]
    presenter.present(AT)
    state = _state(pool)
    assert state.loc[outstation, "presented"]
    assert set(state.loc[silent, "parent_id"]) == {outstation}
    assert state.loc[drift, "parent_id"] == outstation    # the root of the chain: drift → offline → outstation


def test_shelving_needs_a_reason_is_audited_and_expires_by_itself(city):
    pool, network, presenter = city
    alarm = _raise(pool, _stations(network, 1)[0], "station_t_return_high")
    presenter.present(AT)
    with pytest.raises(ValueError, match="reason"):
        alarms.shelve_alarm(pool, alarm, hours=2, reason=" ", actor=DISPATCHER)
    with pytest.raises(ValueError, match="hours"):
        alarms.shelve_alarm(pool, alarm, hours=48, reason="known", actor=DISPATCHER)
    alarms.shelve_alarm(pool, alarm, hours=2, reason="valve being replaced", actor=DISPATCHER)
    now = pd.Timestamp.now(tz="UTC")
    presenter.present(now)
    state = _state(pool)
    assert not state.loc[alarm, "presented"] and state.loc[alarm, "suppressed_by"] == "shelved"
    assert state.loc[alarm, "shelve_reason"] == "valve being replaced"
    assert list_audit_events(pool, action="alarm.shelve")["object_id"].tolist() == [str(alarm)]
    presenter.present(now + pd.Timedelta(hours=2, minutes=1))
    state = _state(pool)
    assert state.loc[alarm, "presented"] and pd.isna(state.loc[alarm, "shelved_until"])
    assert alarms.list_alarm_events(pool, alarm)["action"].tolist()[-3:] == ["shelved", "unshelved", "presented"]


def test_an_element_under_repair_is_out_of_service_until_its_order_is_final(city):
    pool, network, presenter = city
    station = _stations(network, 1)[0]
    sensor = str(network.sensors.loc[network.sensors["element_id"] == station, "id"].iloc[0])
    on_station, on_sensor = _raise(pool, station, "station_t_return_high"), _raise(pool, sensor, "sensor_stuck")
    other = add_work_order(pool, title="elsewhere", actor=DISPATCHER, asset_id=_stations(network, 2)[1])
    with pytest.raises(ValueError, match="not on"):
        alarms.add_out_of_service(pool, station, work_order_id=other, reason="", actor=DISPATCHER)
    order = add_work_order(pool, title="exchanger", actor=DISPATCHER, asset_id=station)
    alarms.add_out_of_service(pool, station, work_order_id=order, reason="exchanger cleaning", actor=DISPATCHER)
    presenter.present(AT)
    state = _state(pool)
    assert set(state.loc[[on_station, on_sensor], "suppressed_by"]) == {"out_of_service"}
    update_work_order_state(pool, order, "cancelled", actor=Actor("admin", "admin"), note="done another way")
    presenter.present(AT + pd.Timedelta(minutes=1))
    assert _state(pool).loc[[on_station, on_sensor], "presented"].all()
    assert alarms.list_out_of_service(pool).empty


def test_an_alarm_raised_again_and_again_is_held_as_chattering(city):
    pool, network, presenter = city
    station = _stations(network, 1)[0]
    for k in range(4):     # raised, gone past the hold-off, raised again: four times in 50 minutes
        at = AT + pd.Timedelta(minutes=12 * k)
        alarm = _raise(pool, station, "station_t_return_high", at=at)
        presenter.present(at)
        if k < 3:
            alarms.clear_gone(pool, "station_t_return_high", set(), at=(at + pd.Timedelta(minutes=11)).to_pydatetime(),
                              hold_off_s=60.0)
    state = _state(pool)
    assert not state.loc[alarm, "presented"] and state.loc[alarm, "suppressed_by"] == "chattering"
    presenter.present(AT + pd.Timedelta(hours=2))   # quiet for an hour: it rings again
    assert _state(pool).loc[alarm, "presented"]


def test_priorities_follow_the_declared_table_with_the_severity_as_fallback():
    got = priority_of(pd.Series(["leak", "compliance_low", "compliance_low", "sensor_offline", "unknown"]),
                      pd.Series(["warning", "warning", "alarm", "alarm", "critical"]))
    assert got.tolist() == ["high", "low", "medium", "low", "high"]


# -- the rules' side: deadbands and data on its way ---------------------------------------------------------------
def _readings(pool, sensor_id, start, end, value):
    times = pd.date_range(start, end, freq="5min")
    telemetry.ingest_rows(pool, pd.DataFrame({"time": times, "sensor_id": sensor_id,
                                              "value": np.full(len(times), float(value))}), "test")


def test_a_cold_room_holds_its_alarm_inside_the_deadband(city):
    pool, network, _ = city
    engine = AlarmEngine(pool, network, RuleConfig(continuing_s=3600.0), window_s=300.0)
    room = str(network.sensors.loc[network.sensors["kind"] == "room_t", "id"].iloc[0])
    start = AT - pd.Timedelta(hours=3)
    _readings(pool, room, start, start + pd.Timedelta(minutes=40), 17.2)
    engine.evaluate(start + pd.Timedelta(minutes=40))
    _readings(pool, room, start + pd.Timedelta(minutes=45), start + pd.Timedelta(minutes=120), 18.3)
    engine.evaluate(start + pd.Timedelta(minutes=120))    # above 18 °C but within 0.5 K of it: still cold
    assert (alarms.list_open_alarms(pool)["cause"] == "room_t_low").sum() == 1
    _readings(pool, room, start + pd.Timedelta(minutes=125), start + pd.Timedelta(minutes=180), 18.7)
    engine.evaluate(start + pd.Timedelta(minutes=180))
    assert (alarms.list_open_alarms(pool)["cause"] == "room_t_low").sum() == 0


def test_no_sensor_is_offline_while_the_past_is_still_arriving_and_a_dead_feed_is_one_alarm(city):
    pool, network, _ = city
    engine = AlarmEngine(pool, network, RuleConfig(), window_s=300.0)
    sensors = network.sensors.loc[network.sensors["kind"] == "t_supply", "id"].astype(str).tolist()[:5]
    backfilled_to = AT - pd.Timedelta(hours=2)            # the plant is still sending its past three hours
    for s in sensors:
        _readings(pool, s, AT - pd.Timedelta(hours=3), backfilled_to, 95.0)
    for k in range(3):
        for s in sensors:
            _readings(pool, s, backfilled_to + pd.Timedelta(minutes=5 * k), backfilled_to + pd.Timedelta(minutes=5 * k), 95.0)
        engine.evaluate(AT + pd.Timedelta(minutes=k))
    causes = alarms.list_open_alarms(pool)["cause"]
    assert not causes.isin(["sensor_offline", "telemetry_offline", "telemetry_stalled"]).any()
    for k in range(1, 6):                                  # nothing new for 25 minutes of the clock
        engine.evaluate(AT + pd.Timedelta(minutes=2 + 5 * k))
    causes = alarms.list_open_alarms(pool)["cause"]
    assert causes.tolist().count("telemetry_stalled") == 1 and not causes.eq("sensor_offline").any()


def test_late_work_orders_ring_once_and_a_households_collector_never_rings(city):
    pool, network, presenter = city
    first, second = _stations(network, 2)
    oldest = _raise(pool, first, "sla_breach", "alarm", at=AT - pd.Timedelta(minutes=5))
    later, warning = _raise(pool, second, "sla_breach", "alarm"), _raise(pool, second, "sla_warning")
    room = str(network.sensors.loc[network.sensors["kind"] == "room_t", "id"].iloc[0])
    flat = _raise(pool, room, "sensor_stuck")
    presenter.present(AT)
    state = _state(pool)
    assert state.loc[oldest, "presented"] and state.loc[oldest, "grouped"] == 2
    assert set(state.loc[[later, warning], "parent_id"]) == {oldest}
    assert state.loc[flat, "suppressed_by"] == "evidence"


def test_a_network_short_of_heat_is_one_alarm_over_its_cold_stations(city):
    pool, network, presenter = city
    plant = presenter.pressure_source
    short = _raise(pool, plant, "network_compliance_low", "alarm")
    station = _stations(network, 1)[0]
    cold_station = _raise(pool, station, "compliance_low")
    cold_community = _raise(pool, _community_of(network, station), "compliance_low")
    presenter.present(AT)
    state = _state(pool)
    assert state.loc[short, "presented"] and state.loc[short, "priority"] == "high"
    assert set(state.loc[[cold_station, cold_community], "parent_id"]) == {short}


def test_a_stations_cold_rooms_carry_its_communities(city):
    pool, network, presenter = city
    station = _stations(network, 1)[0]
    cold_station = _raise(pool, station, "compliance_low")
    cold_community = _raise(pool, _community_of(network, station), "compliance_low", at=AT + pd.Timedelta(minutes=1))
    presenter.present(AT + pd.Timedelta(minutes=1))
    state = _state(pool)
    assert state.loc[cold_community, "parent_id"] == cold_station and state.loc[cold_station, "presented"]


def test_supply_under_the_curve_everywhere_is_one_alarm_over_its_plants_and_stations(city):
    pool, network, presenter = city
    plant = presenter.pressure_source
    cold_network = _raise(pool, plant, "network_supply_low", "warning")
    stations = [_raise(pool, s, "station_t_supply_low") for s in _stations(network, 2)]
    source = str(network.sources.loc[network.sources["role"] != "pressure", "id"].iloc[0])
    cold_source = _raise(pool, source, "source_t_supply_low")
    presenter.present(AT)
    state = _state(pool)
    assert state.loc[cold_network, "presented"] and state.loc[cold_network, "priority"] == "medium"
    assert set(state.loc[[*stations, cold_source], "parent_id"]) == {cold_network}
