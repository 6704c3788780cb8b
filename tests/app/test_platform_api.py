"""The 12345 platform's webhook and replies through the real app (its request guard included): no login, but
the platform's own bearer token; a ticket sent twice is one order; bad tickets are refused by position and
field while the rest is filed; the replies carry the handling result."""

from __future__ import annotations

import pytest
from accounts import SETUP, app_settings
from platform_city import build_city

from store.tokens import add_token, revoke_tokens

TICKETS = "/api/v1/platform/12345/tickets"
REPLIES = "/api/v1/platform/12345/replies"


@pytest.fixture
def client(pool, db_url):
    from app.server import create_app

    build_city(pool)
    return create_app(db_url, app_settings()).server.test_client()


@pytest.fixture
def token(pool):
    return add_token(pool, "12345-weifang", actor=SETUP)


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _orders(pool) -> list[tuple]:
    with pool.connection() as conn:
        return conn.execute("SELECT external_ref, household_id, origin FROM work_order ORDER BY id").fetchall()


TICKET = {"ticket_no": "WF-20261201-0001", "content": "暖气不热，室温15度", "caller_phone": "13800000001",
          "caller_name": "王先生", "due_at": "2099-01-01T08:00:00+08:00", "category": "室温不达标"}


def test_the_webhook_needs_the_platform_s_token(client, pool, token):
    assert client.post(TICKETS, json=TICKET).status_code == 401
    assert client.post(TICKETS, json=TICKET, headers=_auth("not-a-token")).status_code == 401
    scada = add_token(pool, "scada-north", actor=SETUP)
    refused = client.post(TICKETS, json=TICKET, headers=_auth(scada))
    assert refused.status_code == 403 and "scada-north" in refused.get_json()["error"]
    assert client.get(REPLIES).status_code == 401
    assert _orders(pool) == []
    revoke_tokens(pool, "12345-weifang", actor=SETUP)
    assert client.post(TICKETS, json=TICKET, headers=_auth(token)).status_code == 401


def test_a_ticket_sent_twice_is_filed_once(client, pool, token):
    first = client.post(TICKETS, json=TICKET, headers=_auth(token))
    again = client.post(TICKETS, json={"tickets": [TICKET]}, headers=_auth(token))
    assert first.status_code == again.status_code == 200
    filed = first.get_json()["filed"]
    assert [(t["ticket_no"], t["matched_by"]) for t in filed] == [("WF-20261201-0001", "phone")]
    assert again.get_json()["filed"] == []
    assert again.get_json()["unchanged"] == [{"ticket_no": "WF-20261201-0001", "work_order_id": filed[0]["work_order_id"]}]
    assert _orders(pool) == [("WF-20261201-0001", "H-000001", "platform_12345")]
    with pool.connection() as conn:
        assert conn.execute("SELECT platform, source FROM platform_ticket").fetchall() == [("12345-weifang", "webhook row 1")]


def test_bad_tickets_are_refused_by_position_and_field_and_the_rest_is_filed(client, pool, token):
    batch = [{**TICKET, "ticket_no": "WF-1"}, {"ticket_no": "WF-2", "caller_phone": "13800000002"},
             {**TICKET, "ticket_no": "WF-3", "caller_phone": "", "address": "别的城市某小区"},
             {**TICKET, "ticket_no": "WF-4", "caller_phone": "13900000003"}]
    answer = client.post(TICKETS, json=batch, headers=_auth(token))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["received"] == 4
    assert [(r["file"], r["row"], r["field"], r["ticket_no"]) for r in body["refused"]] == [
        ("webhook", 2, "content", "WF-2"), ("webhook", 3, "address", "WF-3")]
    assert [t["ticket_no"] for t in body["filed"]] == ["WF-1", "WF-4"]
    assert [r[0] for r in _orders(pool)] == ["WF-1", "WF-4"]
    all_bad = client.post(TICKETS, json=[{"ticket_no": "WF-5"}], headers=_auth(token))
    assert all_bad.status_code == 422 and all_bad.get_json()["refused"][0]["field"] == "content"
    assert client.post(TICKETS, data="not json", headers=_auth(token)).status_code == 400


def test_the_replies_carry_each_ticket_s_state_to_the_platform_that_sent_it(client, pool, token):
    client.post(TICKETS, json=TICKET, headers=_auth(token))
    other = add_token(pool, "12345-province", actor=SETUP)
    replies = client.get(REPLIES, headers=_auth(token))
    assert replies.status_code == 200 and replies.content_type.startswith("application/json")
    body = replies.get_json()
    assert body["platform"] == "12345-weifang"
    assert [(r["ticket_no"], r["status"], r["status_text"]) for r in body["replies"]] == [
        ("WF-20261201-0001", "accepted", "已受理")]
    assert body["replies"][0]["due_at"] == "2099-01-01T08:00:00+08:00"
    assert client.get(REPLIES, headers=_auth(other)).get_json()["replies"] == []
    as_csv = client.get(REPLIES + "?format=csv", headers=_auth(token))
    assert as_csv.content_type.startswith("text/csv") and "WF-20261201-0001" in as_csv.get_data(as_text=True)
    assert client.get(REPLIES + "?since=yesterday", headers=_auth(token)).status_code == 400
