"""Forged and oversized Dash requests through the real Flask app: another user's object, a field past
its limit. Each is refused with a message naming why, nothing is written, and the refusal is audited."""

from __future__ import annotations

import json

import pytest
from accounts import SETUP, app_settings, client_login, role_users

from store import alarms as store_alarms
from store import scenarios as store_scenarios
from store.audit import Actor, list_audit_events
from store.users import add_user


@pytest.fixture
def app_pool(demo_db_url):
    from app.components import wall_data
    from app.server import create_app
    from store.db import get_pool

    wall_data._CACHE.clear()
    pool = get_pool(demo_db_url)
    return create_app(demo_db_url, app_settings()), pool, role_users(pool)


def _client(app, username: str, password: str):
    client = app.server.test_client()
    assert client_login(client, username, password).status_code == 302
    return client


def _dep_id(dep: dict):
    raw = dep["id"]
    return json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw


def _click(client, app, button: dict, states: dict):
    """Post the callback a click on ``button`` (a pattern id) triggers, as the renderer would: its pattern
    Input, or on the wall the gate store its click sets (``ACTION_GATES``, via assets/wall.js)."""
    from dash._utils import split_callback_id

    from app.components.panel import ACTION_GATES

    gate = ACTION_GATES.get(button["type"])

    def triggered_by(dep) -> bool:
        component = _dep_id(dep)
        return component == gate if gate else isinstance(component, dict) and component.get("type") == button["type"]

    output, entry = next((o, e) for o, e in app.callback_map.items()
                         if e.get("callback") and any(triggered_by(d) for d in e["inputs"]))
    inputs = []
    for dep in entry["inputs"]:
        component = _dep_id(dep)
        if gate and component == gate:
            inputs.append({"id": gate, "property": dep["property"], "value": {"id": button, "n": 1}})
        elif isinstance(component, dict):
            clicked = component.get("type") == button["type"]
            inputs.append([{"id": button, "property": dep["property"], "value": 1}] if clicked else [])
        else:
            inputs.append({"id": component, "property": dep["property"], "value": None})
    state = [{"id": _dep_id(d), "property": d["property"], "value": states.get(_dep_id(d))} for d in entry["state"]]
    specs = split_callback_id(output)
    outputs = [{"id": s["id"], "property": s["property"].split("@")[0]} for s in specs]
    changed = f"{gate}.data" if gate else json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    response = client.post("/_dash-update-component", json={"output": output, "outputs": outputs, "inputs": inputs,
                                                            "state": state, "changedPropIds": [changed]})
    return response


def test_deleting_another_engineers_scenario_is_refused_and_audited(app_pool):
    app, pool, users = app_pool
    add_user(pool, username="t-engineer2", password="second engineer pw", roles=["engineer"], actor=SETUP)
    spec = {"name": "北环爆管", "base": {"kind": "design"}, "changes": []}
    scenario_id = store_scenarios.save_scenario(pool, spec, actor=Actor("t-engineer", "engineer"))
    other = _client(app, "t-engineer2", "second engineer pw")
    response = _click(other, app, {"id": scenario_id, "type": "scn-delete"}, {"scn-lang": "en"})
    assert response.status_code == 200
    assert "only they or an administrator may delete it" in response.get_data(as_text=True)
    assert store_scenarios.get_scenario(pool, scenario_id) is not None
    refused = list_audit_events(pool, action="scenario.delete", outcome="refused")
    assert refused[["username", "object_id"]].values.tolist() == [["t-engineer2", str(scenario_id)]]
    admin = _client(app, *users["admin"])
    assert _click(admin, app, {"id": scenario_id, "type": "scn-delete"}, {"scn-lang": "en"}).status_code == 200
    assert store_scenarios.get_scenario(pool, scenario_id) is None
    done = list_audit_events(pool, action="scenario.delete", outcome="ok")
    assert done["username"].tolist() == ["t-admin"] and done["before"].iloc[0]["author"] == "t-engineer"


def test_an_oversized_note_is_refused_naming_the_field(app_pool):
    app, pool, users = app_pool
    alarm_id = store_alarms.add_alarm(pool, asset_id="ST-0001", cause="station_dp_low", severity="alarm")
    dispatcher = _client(app, *users["dispatcher"])
    response = _click(dispatcher, app, {"alarm": alarm_id, "type": "wall-alarm-comment"},
                      {"wall-alarm-note": "很长" * 3000, "wall-lang": "zh-CN"})
    assert response.status_code == 200 and "note: at most 1000 characters" in response.get_data(as_text=True)
    assert store_alarms.list_alarm_events(pool, alarm_id)["action"].tolist() == ["raised"]
    refused = list_audit_events(pool, action="alarm.comment")
    assert refused["outcome"].tolist() == ["refused"] and "at most 1000" in refused["detail"].iloc[0]


def test_a_click_on_an_alarm_that_does_not_exist_is_refused(app_pool):
    app, pool, users = app_pool
    dispatcher = _client(app, *users["dispatcher"])
    response = _click(dispatcher, app, {"alarm": 987654, "type": "wall-alarm-ack"}, {"wall-lang": "en"})
    assert "alarm 987654 does not exist" in response.get_data(as_text=True)
    assert list_audit_events(pool, action="alarm.ack")["outcome"].tolist() == ["refused"]
