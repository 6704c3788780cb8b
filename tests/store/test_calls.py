"""Hotline calls against the demo city in a real PostgreSQL: the pop-up of a known number, the search for an
unknown one, calls linked to the incident that covers them, answers on first contact."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from store import alarms as store_alarms
from store import calls, incidents
from store.audit import Actor, list_audit_events
from store.db import get_pool
from store.households import list_households
from store.work_orders import get_work_order

AGENT = Actor("li", "agent", "10.0.0.9", "客服 李敏")
DESK = Actor("wang", "dispatcher")


@pytest.fixture
def city(demo_db_url):
    pool = get_pool(demo_db_url)
    households = list_households(pool, with_collector=True)
    return pool, households


def _a_household(households: pd.DataFrame, k: int = 0) -> SimpleNamespace:
    return SimpleNamespace(**households.iloc[k].to_dict())


def test_a_known_number_brings_up_the_household_its_station_and_its_tickets(city):
    pool, households = city
    h = _a_household(households)
    call = calls.add_call(pool, line="cti-1", phone=f"+86 {h.phone}", seat="li")
    assert call["household_id"] == h.id and call["incident_id"] is None
    assert calls.next_call(pool, "li")["id"] == call["id"]
    popup = calls.get_popup(pool, h.id)
    assert popup["household"]["station_id"] == h.station_id and popup["household"]["address"] == h.address
    assert popup["household"]["payment_status"] in ("paid", "arrears", "exempt")
    assert "alarms" in popup["station"] and popup["incidents"].empty


def test_an_unknown_number_is_found_by_address_and_by_name(city):
    pool, households = city
    h = _a_household(households, 3)
    call = calls.add_call(pool, line="cti-1", phone="13900000000")
    assert call["household_id"] is None
    by_address = calls.search_households(pool, h.address[-8:])
    by_name = calls.search_households(pool, h.name)
    assert h.id in set(by_address["id"]) and h.id in set(by_name["id"])
    assert by_name["name"].iloc[0] == h.name  # the exact name first


def test_a_call_from_inside_a_leak_alarms_dry_region_is_linked_to_it(city):
    pool, households = city
    h = _a_household(households, 5)
    alarm_id = store_alarms.add_alarm(pool, asset_id="P-00010", cause="leak", severity="alarm",
                                      details={"pipe_id": "P-00010", "valves": ["V-00001"], "region": ["P-00010"]})
    opened = incidents.sync_alarm_incidents(pool, store_alarms.list_open_alarms(pool, with_details=True),
                                            lambda pipe: SimpleNamespace(stations_cut_off=[h.station_id]))
    assert opened == {"opened": 1, "ended": 0}
    call = calls.add_call(pool, line="cti-1", phone=h.phone)
    assert call["incident_id"] is not None
    popup = calls.get_popup(pool, h.id)
    assert popup["incidents"]["alarm_id"].tolist() == [alarm_id]
    filed = calls.file_from_call(pool, call["id"], actor=AGENT, category="no_heat", title="暖气不热")
    assert filed["outcome"] == "linked" and get_work_order(pool, filed["work_order_id"])["state"] == "new"
    with pool.connection() as conn:
        assert conn.execute("SELECT incident_id FROM work_order WHERE id = %s",
                            (filed["work_order_id"],)).fetchone()[0] == call["incident_id"]
    store_alarms.update_alarm_state(pool, alarm_id, "cleared", actor=DESK, note="修复")
    assert incidents.sync_alarm_incidents(pool, store_alarms.list_open_alarms(pool, with_details=True)) == \
        {"opened": 0, "ended": 1}
    assert calls.add_call(pool, line="cti-1", phone=h.phone)["incident_id"] is None


def test_a_recorded_isolation_covers_the_stations_it_cuts_off_with_its_expected_return(city):
    pool, households = city
    h = _a_household(households, 7)
    back = pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=6)
    incident_id = incidents.add_isolation(pool, pipe_id="P-00020", stations=[h.station_id], valves=["V-00002"],
                                          actor=DESK, expected_back_at=back.to_pydatetime())
    popup = calls.get_popup(pool, h.id)
    assert popup["incidents"]["id"].tolist() == [incident_id]
    assert popup["incidents"]["households"].iloc[0] >= 1
    assert pd.Timestamp(popup["incidents"]["expected_back_at"].iloc[0]) == back
    assert list_audit_events(pool, action="incident.manage")["username"].tolist() == ["wang"]


def test_an_answer_on_the_call_is_resolved_on_first_contact_and_cannot_be_given_twice(city):
    pool, households = city
    h = _a_household(households, 9)
    call = calls.add_call(pool, line="cti-1", phone=h.phone, external_id="cti-77")
    assert calls.add_call(pool, line="cti-1", phone=h.phone, external_id="cti-77")["id"] == call["id"]
    wo_id = calls.answer_call(pool, call["id"], actor=AGENT, category="payment", note="缴费渠道：营业厅、微信公众号")
    order = get_work_order(pool, wo_id)
    assert order["state"] == "resolved" and order["origin"] == "hotline"
    with pool.connection() as conn:
        assert conn.execute("SELECT first_contact FROM work_order WHERE id = %s", (wo_id,)).fetchone()[0] is True
    assert calls.get_call(pool, call["id"])["outcome"] == "answered"
    with pytest.raises(ValueError, match="answered already"):
        calls.file_from_call(pool, call["id"], actor=AGENT, category="payment", title="x")
    assert list_audit_events(pool, action="call.answer")["username"].tolist() == ["li"]


def test_bad_numbers_are_refused(city):
    pool, _ = city
    with pytest.raises(ValueError, match="not a telephone number"):
        calls.add_call(pool, line="cti-1", phone="abc")
