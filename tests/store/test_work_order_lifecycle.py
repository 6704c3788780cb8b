"""Work orders in a real PostgreSQL: every legal and illegal move of the declared lifecycle, dispatch with its
notifications, the crew's taps applied once, photos, revisits that close or reopen, team suggestions."""

from __future__ import annotations

import base64
import itertools

import pandas as pd
import pytest

from heattwin.choices import WORK_ORDER_TRANSITIONS, work_order_state_values
from store.audit import Actor, list_audit_events
from store.db import transaction
from store.notifications import drain_outbox, list_outbox
from store.users import add_user
from store.work_orders import add_work_order, get_work_order
from store.work_orders.dispatch import great_circle_km, rank_teams
from store.work_orders.field import CrewAction, apply_crew_action, list_photos
from store.work_orders.lifecycle import TransitionError, dispatch, move_on
from store.work_orders.revisits import record_revisit

DESK = Actor("wang", "dispatcher")
CREW = Actor("zhang", "crew")
AGENT = Actor("li", "agent")
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def city(pool):
    with transaction(pool) as conn:
        conn.execute("INSERT INTO network_version (source_path) VALUES ('t')")
        conn.execute("INSERT INTO asset (id, kind, geometry, lon, lat, network_version) VALUES"
                     " ('ST-1', 'station', '{}', 119.10, 36.70, 1)")
        conn.execute("INSERT INTO team (id, name, phone, base_lon, base_lat) VALUES"
                     " ('T-1', '抢修一队', '0536-1', 119.10, 36.71), ('T-2', '抢修二队', '0536-2', 119.30, 36.90)")
    add_user(pool, username="zhang", password="crew password 1", roles=["crew"], team_id="T-1", actor=DESK)
    return pool


def _order(pool, **fields) -> int:
    return add_work_order(pool, title="室温偏低", actor=DESK, asset_id="ST-1", category="room_cold", **fields)


def _force_state(pool, wo_id: int, state: str) -> None:
    with transaction(pool) as conn:
        conn.execute("UPDATE work_order SET state = %s, team_id = 'T-1' WHERE id = %s", (state, wo_id))


def test_every_move_is_allowed_exactly_as_the_lifecycle_declares(city):
    """All 81 pairs of states: the legal ones move, the others are refused naming what is allowed."""
    wrong = []
    for from_state, to_state in itertools.product(work_order_state_values, repeat=2):
        wo_id = _order(city)
        _force_state(city, wo_id, from_state)
        legal = to_state in WORK_ORDER_TRANSITIONS[from_state]
        try:
            with transaction(city) as conn:
                move_on(conn, wo_id, to_state, actor=DESK)
        except TransitionError as refused:
            message = str(refused)
            named = all(s in message for s in WORK_ORDER_TRANSITIONS[from_state]) or "final" in message
            if legal or not (f"is {from_state}" in message and f"not {to_state}" in message and named):
                wrong.append((from_state, to_state, message))
            continue
        if not legal or get_work_order(city, wo_id)["state"] != to_state:
            wrong.append((from_state, to_state, "moved"))
    assert wrong == []


def test_a_double_submitted_form_files_one_order(city):
    first = _order(city, request_key="form-7f3a")
    assert _order(city, request_key="form-7f3a") == first
    with city.connection() as conn:
        assert conn.execute("SELECT count(*) FROM work_order").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM work_order_event").fetchone()[0] == 1


def test_bad_choices_are_refused_by_field(city):
    with pytest.raises(ValueError, match="category: 'cold' is not one of room_cold"):
        add_work_order(city, title="x", actor=DESK, asset_id="ST-1", category="cold")
    with pytest.raises(ValueError, match="origin"):
        add_work_order(city, title="x", actor=DESK, asset_id="ST-1", origin="phone")


def test_dispatch_tells_the_teams_phones_and_the_gateway_drains_once(city):
    wo_id = _order(city)
    dispatch(city, wo_id, "T-1", actor=DESK, note="最近的班组")
    order = get_work_order(city, wo_id)
    assert order["state"] == "dispatched" and order["team_id"] == "T-1"
    outbox = list_outbox(city)
    assert sorted(zip(outbox["channel"], outbox["recipient"], strict=True)) == [("push", "zhang"), ("sms", "0536-1")]
    sent = []

    class Gateway:
        def send(self, channel, recipient, body):
            sent.append((channel, recipient, body))

    assert drain_outbox(city, Gateway()) == {"sent": 2, "failed": 0}
    assert drain_outbox(city, Gateway()) == {"sent": 0, "failed": 0}
    assert all(f"#{wo_id}" in body for _, _, body in sent)
    audit = list_audit_events(city, action="work_order.dispatch")
    assert audit["after"].iloc[0] == {"state": "dispatched", "team_id": "T-1"}


def _tap(key: str, wo_id: int, kind: str, **payload) -> CrewAction:
    return CrewAction(key, wo_id, kind, payload)


def test_a_crew_tap_sent_twice_is_applied_once(city):
    wo_id = _order(city)
    dispatch(city, wo_id, "T-1", actor=DESK)
    first = apply_crew_action(city, _tap("tap-accept-0001", wo_id, "accept"), actor=CREW, crew_team="T-1")
    again = apply_crew_action(city, _tap("tap-accept-0001", wo_id, "accept"), actor=CREW, crew_team="T-1")
    assert first == {"ok": True, "state": "accepted"} and again == {**first, "replayed": True}
    arrive = _tap("tap-arrive-0002", wo_id, "arrive", lon=119.101, lat=36.702)
    for _ in range(3):
        apply_crew_action(city, arrive, actor=CREW, crew_team="T-1")
    with city.connection() as conn:
        events = conn.execute("SELECT to_state FROM work_order_event WHERE work_order_id = %s ORDER BY id",
                              (wo_id,)).fetchall()
        team = conn.execute("SELECT last_lon, last_lat FROM team WHERE id = 'T-1'").fetchone()
    assert [e[0] for e in events] == ["new", "dispatched", "accepted", "on_site"]
    assert team == (119.101, 36.702)
    assert len(list_audit_events(city, action="work_order.field", outcome="ok")) == 2


def test_a_crew_cannot_touch_another_teams_order_and_it_is_audited(city):
    wo_id = _order(city)
    dispatch(city, wo_id, "T-2", actor=DESK)
    result = apply_crew_action(city, _tap("tap-x-000001", wo_id, "accept"), actor=CREW, crew_team="T-1")
    assert not result["ok"] and "team T-2, not with your team T-1" in result["error"]
    assert get_work_order(city, wo_id)["state"] == "dispatched"
    assert list_audit_events(city, action="work_order.field")["outcome"].tolist() == ["refused"]
    replay = apply_crew_action(city, _tap("tap-x-000001", wo_id, "accept"), actor=CREW, crew_team="T-1")
    assert replay["error"] == result["error"] and replay["replayed"]


def _resolved(city) -> int:
    wo_id = _order(city)
    dispatch(city, wo_id, "T-1", actor=DESK)
    for k, (action, payload) in enumerate((("accept", {}), ("arrive", {"lon": 119.1, "lat": 36.7}),
                                           ("photo", {"data": "data:image/png;base64," + base64.b64encode(PNG).decode()}),
                                           ("resolve", {"cause": "户内阀门未开", "action": "开阀排气",
                                                        "materials": "无", "resident_confirmed": True}))):
        result = apply_crew_action(city, _tap(f"tap-{wo_id}-{k:04d}", wo_id, action, **payload), actor=CREW,
                                   crew_team="T-1")
        assert result["ok"], result
    return wo_id


def test_resolving_keeps_the_cause_the_action_and_the_photo(city):
    wo_id = _resolved(city)
    with city.connection() as conn:
        resolution = conn.execute("SELECT resolution FROM work_order WHERE id = %s", (wo_id,)).fetchone()[0]
    assert resolution["cause"] == "户内阀门未开" and resolution["resident_confirmed"] is True
    photos = list_photos(city, wo_id)
    assert photos["mime"].tolist() == ["image/png"] and len(photos["sha256"].iloc[0]) == 64


def test_a_photo_that_is_not_a_picture_or_too_big_is_refused(city):
    wo_id = _order(city)
    dispatch(city, wo_id, "T-1", actor=DESK)
    text = apply_crew_action(city, _tap("tap-photo-01", wo_id, "photo",
                                        data=base64.b64encode(b"GIF89a not allowed").decode()),
                             actor=CREW, crew_team="T-1")
    assert text["error"] == "photo: only JPEG or PNG pictures are accepted"
    big = apply_crew_action(city, _tap("tap-photo-02", wo_id, "photo",
                                       data=base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * (6 << 20)).decode()),
                            actor=CREW, crew_team="T-1")
    assert "at most 5 MB" in big["error"] and list_photos(city, wo_id).empty


def test_a_dissatisfied_revisit_reopens_to_the_same_team_and_a_satisfied_one_visits(city):
    unhappy, happy = _resolved(city), _resolved(city)
    assert record_revisit(city, unhappy, actor=AGENT, reached=False) == "resolved"
    assert record_revisit(city, unhappy, actor=AGENT, reached=True, satisfaction=2, fixed=True) == "reopened"
    order = get_work_order(city, unhappy)
    assert order["state"] == "reopened" and order["team_id"] == "T-1"
    assert record_revisit(city, happy, actor=AGENT, reached=True, satisfaction=5, fixed=True) == "visited"
    with pytest.raises(ValueError, match="only a resolved order is called back"):
        record_revisit(city, happy, actor=AGENT, reached=True, satisfaction=5, fixed=True)
    reopened = list_outbox(city)
    assert reopened["body"].str.contains(f"#{unhappy} 回访不满意").any()
    retry = apply_crew_action(city, _tap("tap-again-0001", unhappy, "accept"), actor=CREW, crew_team="T-1")
    assert retry == {"ok": True, "state": "accepted"}


def test_the_suggested_team_is_the_nearest_qualified_least_loaded_one():
    job = (119.10, 36.70)
    teams = pd.DataFrame([
        # near but not qualified for leaks
        {"team_id": "A", "name": "a", "categories": ["room_cold"], "lon": 119.100, "lat": 36.701,
         "position_from": "reported", "open_orders": 0},
        # qualified, 1.1 km away, idle
        {"team_id": "B", "name": "b", "categories": ["leak"], "lon": 119.100, "lat": 36.710,
         "position_from": "reported", "open_orders": 0},
        # qualified, 0.2 km away, but four orders open (0.2 + 4 × 2 km)
        {"team_id": "C", "name": "c", "categories": ["leak", "room_cold"], "lon": 119.102, "lat": 36.7,
         "position_from": "base", "open_orders": 4},
        # qualified, 22 km away
        {"team_id": "D", "name": "d", "categories": ["leak"], "lon": 119.30, "lat": 36.80,
         "position_from": "base", "open_orders": 0}])
    ranked = rank_teams(teams, lon=job[0], lat=job[1], category="leak")
    assert ranked["team_id"].tolist() == ["B", "C", "D", "A"]
    assert ranked["distance_km"].iloc[0] == pytest.approx(1.112, abs=0.01)  # 0.01° of latitude


def test_great_circle_matches_a_known_distance():
    # Beijing (116.4074, 39.9042) to Shanghai (121.4737, 31.2304): about 1,067 km.
    assert great_circle_km(116.4074, 39.9042, 121.4737, 31.2304) == pytest.approx(1067, rel=0.005)


def test_filing_starts_the_policys_clocks_and_resolving_starts_the_revisit(city):
    wo_id = _order(city)
    with city.connection() as conn:
        created, reply, site, resolve = conn.execute(
            "SELECT created_at, reply_due_at, site_due_at, sla_due_at FROM work_order WHERE id = %s",
            (wo_id,)).fetchone()
    assert created < reply <= site <= resolve
    resolved = _resolved(city)
    with city.connection() as conn:
        resolved_at, revisit = conn.execute("SELECT resolved_at, revisit_due_at FROM work_order WHERE id = %s",
                                            (resolved,)).fetchone()
    assert revisit is not None and revisit > resolved_at


def test_waiting_for_the_resident_moves_the_open_clocks_by_the_wait(city):
    from datetime import timedelta

    wo_id = _order(city)
    dispatch(city, wo_id, "T-1", actor=DESK)
    apply_crew_action(city, _tap("tap-acc-00001", wo_id, "accept"), actor=CREW, crew_team="T-1")
    with city.connection() as conn:
        before = conn.execute("SELECT site_due_at, sla_due_at, now() FROM work_order WHERE id = %s", (wo_id,)).fetchone()
    start = before[2]
    pause = CrewAction("tap-pause-0001", wo_id, "pause", {"note": "住户不在家"}, start)
    resume = CrewAction("tap-resume-001", wo_id, "resume", {}, start + timedelta(minutes=40))
    assert apply_crew_action(city, pause, actor=CREW, crew_team="T-1")["ok"]
    assert apply_crew_action(city, pause, actor=CREW, crew_team="T-1")["replayed"]
    assert apply_crew_action(city, resume, actor=CREW, crew_team="T-1")["ok"]
    with city.connection() as conn:
        site, resolve, paused_s, paused_at = conn.execute(
            "SELECT site_due_at, sla_due_at, paused_s, paused_at FROM work_order WHERE id = %s", (wo_id,)).fetchone()
    assert paused_at is None and paused_s == pytest.approx(2400)
    assert site - before[0] == timedelta(minutes=40) and resolve - before[1] == timedelta(minutes=40)


def test_a_reopened_order_gets_its_second_rounds_own_stamps(city):
    wo_id = _resolved(city)
    with city.connection() as conn:
        first = conn.execute("SELECT resolved_at FROM work_order WHERE id = %s", (wo_id,)).fetchone()[0]
    record_revisit(city, wo_id, actor=AGENT, reached=True, satisfaction=1, fixed=False)
    with city.connection() as conn:
        assert conn.execute("SELECT on_site_at, resolved_at FROM work_order WHERE id = %s", (wo_id,)).fetchone() \
            == (None, None)
    for k, (kind, payload) in enumerate((("accept", {}), ("arrive", {}),
                                         ("resolve", {"cause": "楼内不平衡", "action": "调节单元阀"}))):
        assert apply_crew_action(city, _tap(f"tap-r2-{wo_id}-{k}", wo_id, kind, **payload), actor=CREW,
                                 crew_team="T-1")["ok"]
    with city.connection() as conn:
        second = conn.execute("SELECT resolved_at FROM work_order WHERE id = %s", (wo_id,)).fetchone()[0]
    assert second > first
