"""Accepting a schedule: refused without the role (and audited), sent through MQTT to the plant with it,
rolled back to the one before; a send that fails accepts nothing."""

from __future__ import annotations

import pandas as pd
import pytest
from real_parts import require

from scripts.mqtt_ingest import find_mosquitto, local_broker
from store import control
from store.audit import SYSTEM, Actor, list_audit_events
from twin.control.adapter import MqttCommandAdapter, SetpointListener

AT = pd.Timestamp("2026-12-10 08:00", tz="UTC")


class _Plant:
    """Records what the listener hands it (the virtual plant's ``apply_setpoints``)."""

    def __init__(self):
        self.tables = []

    def apply_setpoints(self, table):
        self.tables.append(table)


def _setpoints(t_c: float) -> pd.DataFrame:
    hours = pd.date_range(AT, periods=3, freq="h")
    return pd.concat([
        pd.DataFrame({"valid_from": hours, "element_id": "SRC-1", "kind": "t_supply_c", "value": [t_c, t_c + 2, t_c + 4]}),
        pd.DataFrame({"valid_from": [AT], "element_id": "SRC-1", "kind": "lift_bar", "value": [5.5]}),
        pd.DataFrame({"valid_from": [AT], "element_id": "ST-0001", "kind": "heat_ratio", "value": [0.97]})])


def _propose(pool, t_c: float) -> int:
    stations = pd.DataFrame({"station_id": ["ST-0001"], "ratio_before": [1.0], "ratio": [0.97],
                             "median_before_c": [20.4], "median_after_c": [19.8], "min_before_c": [18.9],
                             "min_after_c": [18.3], "in_band_before": [0.4], "in_band_after": [0.8], "rooms": [12]})
    return control.add_schedule(pool, issued_at=AT, expires_at=AT + pd.Timedelta(hours=48), setpoints=_setpoints(t_c),
                                stations=stations, summary={"note": "test"}, actor=SYSTEM)


@pytest.fixture
def broker():
    require(find_mosquitto() is not None, "mosquitto is not installed")
    with local_broker() as running:
        yield running


def test_acceptance_needs_the_role_is_audited_reaches_the_plant_and_rolls_back(pool, broker):
    plant = _Plant()
    listener = SetpointListener(plant, broker.host, broker.port, username=broker.username, password=broker.password)
    listener.start()
    adapter = MqttCommandAdapter(broker.host, broker.port, username=broker.username, password=broker.password)
    try:
        first, second = _propose(pool, 95.0), _propose(pool, 90.0)
        dispatcher = Actor("li.dispatch", role="dispatcher")
        with pytest.raises(PermissionError, match="control.accept"):
            control.accept_schedule(pool, first, actor=dispatcher, send=adapter.send)
        refused = list_audit_events(pool, action="control.accept", outcome="refused")
        assert refused["username"].tolist() == ["li.dispatch"]
        assert control.get_schedule(pool, first)["state"] == "proposed"

        engineer = Actor("wang.eng", role="engineer")
        control.accept_schedule(pool, first, actor=engineer, send=adapter.send, note="cold night")
        assert listener.applied.wait(5.0)
        held = plant.tables[-1].at(AT + pd.Timedelta(minutes=90))
        assert held.t_supply_c["SRC-1"] == pytest.approx(97.0)
        assert held.lift_bar == pytest.approx(5.5)
        assert held.heat_ratio["ST-0001"] == pytest.approx(0.97)

        listener.applied.clear()
        control.accept_schedule(pool, second, actor=engineer, send=adapter.send)
        assert listener.applied.wait(5.0)
        assert control.get_schedule(pool, first)["state"] == "superseded"
        assert plant.tables[-1].at(AT).t_supply_c["SRC-1"] == pytest.approx(90.0)

        listener.applied.clear()
        result = control.rollback_schedule(pool, second, actor=engineer, send=adapter.send, note="too cool", at=AT)
        assert result["restored"] == first
        assert listener.applied.wait(5.0)
        assert plant.tables[-1].at(AT).t_supply_c["SRC-1"] == pytest.approx(95.0)
        assert control.get_accepted(pool)["id"] == first

        ok = list_audit_events(pool, action="control.accept", outcome="ok")
        assert set(ok["role"]) == {"engineer"} and len(ok) == 3
        moves = control.list_acceptances(pool)
        assert moves["action"].tolist() == ["rollback", "accept", "accept"]
        assert moves["sent_via"].str.startswith("mqtt://").all()
    finally:
        listener.stop()


def test_a_send_that_fails_accepts_nothing(pool):
    schedule_id = _propose(pool, 95.0)
    nowhere = MqttCommandAdapter("127.0.0.1", 1, timeout_s=1.0)
    with pytest.raises(ConnectionError, match="nothing was accepted"):
        control.accept_schedule(pool, schedule_id, actor=Actor("wang.eng", role="engineer"), send=nowhere.send)
    assert control.get_schedule(pool, schedule_id)["state"] == "proposed"
    assert control.list_acceptances(pool).empty
    assert list_audit_events(pool, action="control.accept").empty


def test_a_station_without_room_sensors_is_stored_with_the_others(pool):
    """The demo city has stations whose communities have no room collectors: their room count comes in as NaN,
    which turns the column into floats; it is stored as none, and the others' counts whole."""
    stations = pd.DataFrame({"station_id": ["ST-0001", "ST-0002"], "ratio_before": [1.0, 1.0], "ratio": [0.97, 1.0],
                             "median_before_c": [20.4, None], "median_after_c": [19.8, None],
                             "min_before_c": [18.9, None], "min_after_c": [18.3, None], "in_band_before": [0.4, None],
                             "in_band_after": [0.8, None], "rooms": [69, None]})
    schedule_id = control.add_schedule(pool, issued_at=AT, expires_at=AT + pd.Timedelta(hours=48),
                                       setpoints=_setpoints(95.0), stations=stations, summary={}, actor=SYSTEM)
    stored = control.get_schedule(pool, schedule_id)["stations"].set_index("station_id")
    assert stored.loc["ST-0001", "rooms"] == 69
    assert stored.loc["ST-0002", "rooms"] == 0 and pd.isna(stored.loc["ST-0002", "median_after_c"])
