"""An element's whole card in one store call: the same records the separate reads give, in one statement."""

from __future__ import annotations

import pandas as pd
import pytest

from store import alarms as store_alarms
from store import records as store_records
from store import telemetry
from store import work_orders as store_orders
from store.assets import replace_network
from store.audit import Actor
from store.db import transaction
from store.element_card import get_element_card

DUTY = Actor("duty", "dispatcher")


@pytest.fixture
def network(pool):
    def point(lon):
        return {"type": "Point", "coordinates": [lon, 38.0]}
    rows = [{"id": i, "kind": k, "name": i, "geometry": point(lon), "lon": lon, "lat": 38.0, "attrs": {}}
            for i, k, lon in (("ST-1", "station", 114.50), ("ST-2", "station", 114.502), ("ST-3", "station", 114.6))]
    rows += [{"id": s, "kind": "sensor", "name": "", "geometry": point(114.5), "lon": 114.5, "lat": 38.0,
              "attrs": {"element_id": "ST-1", "kind": kind, "unit": unit}}
             for s, kind, unit in (("S-ST-1-TS", "t_supply", "°C"), ("S-ST-1-PS", "p_supply", "bar"))]
    replace_network(pool, pd.DataFrame(rows), pd.DataFrame(columns=["kind", "name", "geometry"]), "test")
    with transaction(pool) as conn:
        conn.execute("INSERT INTO equipment (id, asset_id, kind, maker, serial, install_year, rated) VALUES"
                     " ('EQ-1', 'ST-1', 'pump', 'Grundfos', 'G-1', 2015, '{\"head_m\": 32, \"flow_t_h\": 50.7}'),"
                     " ('EQ-2', 'ST-2', 'meter', 'Kamstrup', 'K-2', 2019, '{}')")
        conn.execute("INSERT INTO maintenance_log (equipment_id, done_at, kind, note) VALUES"
                     " ('EQ-1', '2025-01-01', 'repair', 'a'), ('EQ-1', '2026-01-01', 'cleaning', 'b'),"
                     " ('EQ-2', '2026-02-01', 'inspection', 'c')")
        conn.execute("INSERT INTO drawing (id, asset_id, title, kind, path) VALUES"
                     " ('D-1', 'ST-1', 't', 'station_schematic', 'stations/ST-1.svg')")
    return pool


def test_the_card_holds_what_the_separate_reads_give(network):
    pool = network
    now = pd.Timestamp.now(tz="UTC").floor("s")
    telemetry.ingest_rows(pool, pd.DataFrame({"time": [now - pd.Timedelta(minutes=5), now, now],
                                              "sensor_id": ["S-ST-1-TS", "S-ST-1-TS", "S-ST-1-PS"],
                                              "value": [90.0, 91.5, 6.2]}), "test")
    own = store_alarms.add_alarm(pool, asset_id="ST-1", cause="station_dp_low", severity="warning", message="dp")
    on_sensor = store_alarms.add_alarm(pool, asset_id="S-ST-1-TS", cause="sensor_stuck", severity="warning",
                                       message="stuck", details={"value": 91.5})
    store_alarms.add_alarm(pool, asset_id="ST-2", cause="station_dp_low", severity="warning", message="other")
    here = store_orders.add_work_order(pool, title="a", actor=DUTY, asset_id="ST-1")
    near = store_orders.add_work_order(pool, title="b", actor=DUTY, asset_id="ST-2")    # ~175 m east
    store_orders.add_work_order(pool, title="c", actor=DUTY, asset_id="ST-3")           # ~9 km east

    card = get_element_card(pool, "ST-1", sensor_ids=["S-ST-1-TS", "S-ST-1-PS"], near=(114.50, 38.0), radius_m=500)

    assert card.equipment == store_records.get_equipment(pool, "ST-1")
    assert card.equipment[0]["rated"] == {"head_m": 32, "flow_t_h": 50.7}
    assert [m["kind"] for m in card.maintenance] == [m["kind"] for m in store_records.get_maintenance(pool, "ST-1")]
    assert card.maintenance[0]["done_at"] == store_records.get_maintenance(pool, "ST-1")[0]["done_at"]
    assert card.drawings == store_records.get_drawings(pool, "ST-1")
    # Its own alarm and its sensor's, newest first, not a neighbour's.
    assert card.alarms["id"].tolist() == [on_sensor, own]
    assert card.alarms.loc[0, "details"] == {"value": 91.5} and card.alarms.loc[0, "kind"] == "sensor"
    assert str(card.alarms["raised_at"].dtype) == "datetime64[ns, UTC]"
    latest = card.latest.set_index("sensor_id")
    expected = telemetry.get_latest(pool, ["S-ST-1-TS", "S-ST-1-PS"]).set_index("sensor_id")
    assert latest["value"].to_dict() == expected["value"].to_dict() == {"S-ST-1-PS": 6.2, "S-ST-1-TS": 91.5}
    assert (latest["time"] == expected["time"].reindex(latest.index)).all()
    listed = store_orders.list_work_orders(pool, asset_id="ST-1", near=(114.50, 38.0), radius_m=500)
    assert card.orders["id"].tolist() == listed["id"].tolist() and sorted(listed["id"]) == sorted([here, near])
    assert card.orders["photos"].tolist() == [[], []]


def test_an_element_without_records_has_an_empty_card(network):
    card = get_element_card(network, "ST-3", near=(114.6, 38.0))
    assert card.equipment == [] and card.maintenance == [] and card.drawings == []
    assert card.alarms.empty and card.latest.empty and card.orders.empty


def test_evidence_is_kept_off_the_card_unless_asked_for(network):
    pool = network
    store_alarms.add_alarm(pool, asset_id="S-ST-1-TS", cause="room_t_low", severity="warning", message="cold")
    assert get_element_card(pool, "ST-1", sensor_ids=["S-ST-1-TS"]).alarms.empty
    every = get_element_card(pool, "ST-1", sensor_ids=["S-ST-1-TS"], presented_only=False).alarms
    assert every["cause"].tolist() == ["room_t_low"]
