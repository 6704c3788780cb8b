"""The store functions behind the wall: alarms, work orders and the panel's record reads."""

from __future__ import annotations

import pandas as pd
import pytest

from store import alarms as store_alarms
from store import records as store_records
from store import work_orders as store_orders
from store.assets import replace_network
from store.audit import Actor
from store.db import transaction

DUTY = Actor("duty", "dispatcher")


@pytest.fixture
def small_network(pool):
    rows = [{"id": i, "kind": k, "name": i, "geometry": {"type": "Point", "coordinates": [lon, 38.0]},
             "lon": lon, "lat": 38.0, "attrs": {}}
            for i, k, lon in (("ST-1", "station", 114.50), ("ST-2", "station", 114.502), ("ST-3", "station", 114.6))]
    replace_network(pool, pd.DataFrame(rows), pd.DataFrame(columns=["kind", "name", "geometry"]), "test")
    return pool


def test_a_re_raised_alarm_stays_one_open_alarm(small_network):
    pool = small_network
    first = store_alarms.add_alarm(pool, asset_id="ST-1", cause="leak", severity="alarm", message="a")
    again = store_alarms.add_alarm(pool, asset_id="ST-1", cause="leak", severity="critical", message="b")
    assert first == again
    alarm = store_alarms.get_alarm(pool, first)
    assert alarm["raise_count"] == 2 and alarm["severity"] == "critical"
    assert store_alarms.count_open_by_severity(pool) == {"info": 0, "warning": 0, "alarm": 0, "critical": 1}
    store_alarms.update_alarm_state(pool, first, "cleared", actor=DUTY, note="checked on site")
    assert store_alarms.list_open_alarms(pool).empty
    with pytest.raises(ValueError, match="not open"):
        store_alarms.update_alarm_state(pool, first, "acknowledged", actor=DUTY)


def test_a_revised_leak_alarm_moves_to_its_new_element_with_an_event(small_network):
    pool = small_network
    alarm_id = store_alarms.add_alarm(pool, asset_id="ST-1", cause="leak", severity="alarm", message="first")
    store_alarms.add_alarm(pool, asset_id="ST-3", cause="leak", severity="alarm", message="another leak")
    store_alarms.revise_alarm(pool, alarm_id, asset_id="ST-2", message="second", details={"revision": 1},
                              actor="sync")
    alarm = store_alarms.get_alarm(pool, alarm_id)
    assert alarm["asset_id"] == "ST-2" and alarm["details"] == {"revision": 1} and alarm["message"] == "second"
    store_alarms.revise_alarm(pool, alarm_id, asset_id="ST-3", message="third", details={"revision": 2},
                              actor="sync")
    assert store_alarms.get_alarm(pool, alarm_id)["asset_id"] == "ST-2"   # ST-3 holds its own leak alarm
    events = store_alarms.list_alarm_events(pool, alarm_id)
    assert events["action"].tolist() == ["raised", "revised", "revised"]
    assert events["note"].tolist()[1:] == ["moved from ST-1 to ST-2", "revised on ST-2"]
    assert (events["actor"].iloc[1:] == "sync").all()
    assert store_alarms.count_raised(pool, "leak") == 2


def test_open_alarms_come_newest_first_with_their_element(small_network):
    pool = small_network
    store_alarms.add_alarm(pool, asset_id="ST-1", cause="leak", severity="alarm", raised_at="2026-11-01T00:00Z")
    store_alarms.add_alarm(pool, asset_id="ST-2", cause="room_t_low", severity="warning",
                           raised_at="2026-11-02T00:00Z")
    alarms = store_alarms.list_open_alarms(pool)
    assert alarms["asset_id"].tolist() == ["ST-2", "ST-1"]
    assert alarms["kind"].tolist() == ["station", "station"] and alarms["lon"].notna().all()


def test_a_households_cold_room_is_kept_but_not_presented_on_the_wall(small_network):
    pool = small_network
    store_alarms.add_alarm(pool, asset_id="ST-1", cause="compliance_low", severity="warning")
    store_alarms.add_alarm(pool, asset_id="ST-2", cause="room_t_low", severity="alarm")
    assert set(store_alarms.list_open_alarms(pool)["cause"]) == {"compliance_low", "room_t_low"}
    assert store_alarms.list_open_alarms(pool, presented_only=True)["cause"].tolist() == ["compliance_low"]
    assert store_alarms.count_open_by_severity(pool, presented_only=True) == \
        {"info": 0, "warning": 1, "alarm": 0, "critical": 0}
    assert store_alarms.count_open_by_severity(pool)["alarm"] == 1
    everything, presented = (store_alarms.open_alarms_signature(pool, presented_only=p) for p in (False, True))
    assert everything[0] == 2 and presented[0] == 1


def test_a_new_work_order_is_located_at_its_element_and_has_its_first_event(small_network):
    pool = small_network
    wo_id = store_orders.add_work_order(pool, title="检查", actor=DUTY, asset_id="ST-1", sla_hours=2.0)
    order = store_orders.get_work_order(pool, wo_id)
    assert (order["lon"], order["lat"], order["state"]) == (114.50, 38.0, "new")
    with transaction(pool) as conn:
        events = conn.execute("SELECT actor, from_state, to_state FROM work_order_event WHERE work_order_id = %s",
                              (wo_id,)).fetchall()
    assert events == [("duty", None, "new")]
    assert store_orders.count_open(pool) == {"open": 1, "overdue": 0}


def test_work_orders_nearby_include_close_elements_only(small_network):
    pool = small_network
    here = store_orders.add_work_order(pool, title="a", actor=DUTY, asset_id="ST-1")
    near = store_orders.add_work_order(pool, title="b", actor=DUTY, asset_id="ST-2")  # ~175 m east
    store_orders.add_work_order(pool, title="c", actor=DUTY, asset_id="ST-3")  # ~9 km east
    found = store_orders.list_work_orders(pool, asset_id="ST-1", near=(114.50, 38.0), radius_m=500)
    assert sorted(found["id"]) == sorted([here, near])
    store_orders.update_work_order_state(pool, near, "cancelled", actor=DUTY)
    found = store_orders.list_work_orders(pool, asset_id="ST-1", near=(114.50, 38.0), radius_m=500)
    assert found["id"].tolist() == [here]
    assert store_orders.get_work_order(pool, near)["closed_at"] is not None


def test_panel_record_reads_return_an_elements_records(small_network):
    pool = small_network
    with transaction(pool) as conn:
        conn.execute("INSERT INTO equipment (id, asset_id, kind, maker, serial, install_year)"
                     " VALUES ('EQ-1', 'ST-1', 'pump', 'Grundfos', 'G-1', 2015)")
        conn.execute("INSERT INTO maintenance_log (equipment_id, done_at, kind) VALUES"
                     " ('EQ-1', '2025-01-01', 'repair'), ('EQ-1', '2026-01-01', 'inspection')")
        conn.execute("INSERT INTO drawing (id, asset_id, title, kind, path) VALUES"
                     " ('D-1', 'ST-1', 't', 'station_schematic', 'stations/ST-1.svg')")
    assert [e["serial"] for e in store_records.get_equipment(pool, "ST-1")] == ["G-1"]
    assert [m["kind"] for m in store_records.get_maintenance(pool, "ST-1")] == ["inspection", "repair"]
    assert store_records.get_drawings(pool, "ST-1")[0]["path"] == "stations/ST-1.svg"
    assert store_records.get_equipment(pool, "ST-2") == []
