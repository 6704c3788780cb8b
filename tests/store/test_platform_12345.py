"""12345 platform tickets in a real PostgreSQL: filed as work orders on the caller's household (by phone or
address) with the platform's deadline, once per ticket number however often they are sent, each bad row
refused with file, row and field while the rest goes in; and the handling result exported in the reply
format."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from platform_city import build_city

from heattwin.choices import PLATFORM_TICKET_MATCH
from store.audit import Actor, list_audit_events
from store.platform_12345 import import_tickets, list_replies, write_replies
from store.users import add_user
from store.work_orders.core import get_order_detail
from store.work_orders.field import CrewAction, apply_crew_action
from store.work_orders.lifecycle import dispatch, transition
from store.work_orders.revisits import record_revisit

AGENT = Actor("agent-zhao", role="agent")
DESK = Actor("desk-wang", role="dispatcher")
CREW = Actor("crew-liu", role="crew")
SOON = datetime.now(UTC) + timedelta(hours=20)
HEADER = "工单编号,受理时间,办理时限,来电人,联系电话,诉求地址,诉求内容,问题分类,紧急程度\n"


@pytest.fixture
def city(pool):
    build_city(pool)
    return pool


def _csv(tmp_path, name: str, *rows: str):
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _orders(pool, ticket_no: str) -> list[dict]:
    with pool.connection() as conn:
        cur = conn.execute("SELECT id, household_id, asset_id, origin, category::text, priority::text, external_ref,"
                           " external_due_at, sla_due_at, request_key, description FROM work_order"
                           " WHERE external_ref = %s", (ticket_no,))
        return [dict(zip([d.name for d in cur.description], r, strict=True)) for r in cur.fetchall()]


def _due(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_each_ticket_is_filed_on_its_household_by_phone_or_address(city, tmp_path):
    path = _csv(tmp_path, "12345-1201.csv",
                f"GD-0001,2026-12-01 08:00,{_due(SOON)},王先生,+86 138-0000-0001,,暖气不热，室温15度,室温不达标,紧急",
                "GD-0002,,,李女士,,潍坊市奎文区 幸福小区3号楼1单元202室,家里暖气片漏水,,",
                "GD-0003,,,张先生,,金宝花园1-2-501,申请开具采暖费发票,,一般",
                "GD-0004,,,赵先生,13700000009,金宝花园9号楼9单元909室,整栋楼都不热,,")
    result = import_tickets(city, path, actor=AGENT)
    assert result.errors == []
    filed = {t["ticket_no"]: t for t in result.added}
    assert {k: (t["household_id"], t["matched_by"]) for k, t in filed.items()} == {
        "GD-0001": ("H-000001", "phone"), "GD-0002": ("H-000002", "address"),
        "GD-0003": ("H-000003", "address"), "GD-0004": (None, "community")}
    first = _orders(city, "GD-0001")[0]
    assert (first["origin"], first["category"], first["priority"]) == ("platform_12345", "room_cold", "urgent")
    assert first["request_key"] == "12345:GD-0001"
    assert abs((first["external_due_at"] - SOON).total_seconds()) < 1
    assert first["sla_due_at"] <= first["external_due_at"]  # the platform's deadline bounds our clock
    assert "王先生" in first["description"] and "暖气不热" in first["description"]
    assert _orders(city, "GD-0002")[0]["category"] == "leak"
    assert _orders(city, "GD-0003")[0]["category"] == "invoice"
    assert _orders(city, "GD-0004")[0]["asset_id"] == "C-002"


def test_importing_the_same_ticket_twice_files_one_order(city, tmp_path):
    row = f"GD-0100,2026-12-01 08:00,{_due(SOON)},王先生,13800000001,,暖气不热,,"
    first = import_tickets(city, _csv(tmp_path, "a.csv", row), actor=AGENT)
    audit_rows = len(list_audit_events(city, action="ticket.import"))
    again = import_tickets(city, _csv(tmp_path, "b.csv", row), actor=AGENT)
    as_json = tmp_path / "c.json"
    as_json.write_text(json.dumps({"tickets": [{"ticket_no": "GD-0100", "content": "内容改了也一样",
                                                "caller_phone": "13900000003"}]}, ensure_ascii=False))
    from_json = import_tickets(city, as_json, actor=AGENT)
    assert (len(first.added), len(again.added), len(from_json.added)) == (1, 0, 0)
    assert [t["work_order_id"] for t in again.unchanged + from_json.unchanged] == [first.added[0]["work_order_id"]] * 2
    orders = _orders(city, "GD-0100")
    assert len(orders) == 1 and orders[0]["household_id"] == "H-000001"
    assert len(list_audit_events(city, action="ticket.import")) == audit_rows
    with city.connection() as conn:
        assert conn.execute("SELECT count(*) FROM platform_ticket").fetchone()[0] == 1


def test_each_bad_row_is_refused_with_file_row_and_field_and_the_rest_imports(city, tmp_path):
    path = _csv(tmp_path, "bad.csv",
                "GD-0201,,,王先生,13800000001,,暖气不热,,",                        # row 2: good
                ",,,李女士,13800000002,,没有编号,,",                                 # row 3
                "GD-0203,,,李女士,13800000002,,,,",                                  # row 4
                "GD-0204,,,李女士,12,,号码太短,,",                                   # row 5
                "GD-0205,2026-12-02 08:00,2026-12-01 08:00,李女士,13800000002,,时限早于受理,,",  # row 6
                "GD-0206,,,李女士,13800000002,,看不懂的紧急程度,,十万火急",           # row 7
                "GD-0207,,,钱先生,13600000000,某某大厦12层,不是我们的用户,,",          # row 8
                "GD-0208,,明天中午,李女士,13800000002,,时限写错,,",                   # row 9
                "GD 0209,,,李女士,13800000002,,编号有空格,,",                         # row 10
                "GD-0210,,,张先生,,金宝花园1号楼2单元501室,暖气漏水,,")               # row 11: good
    result = import_tickets(city, path, actor=AGENT)
    assert [(e.file, e.row, e.field) for e in result.errors] == [
        ("bad.csv", 3, "ticket_no"), ("bad.csv", 4, "content"), ("bad.csv", 5, "caller_phone"),
        ("bad.csv", 6, "due_at"), ("bad.csv", 7, "priority"), ("bad.csv", 8, "address"),
        ("bad.csv", 9, "due_at"), ("bad.csv", 10, "ticket_no")]
    assert str(result.errors[5]).startswith("bad.csv, row 8, field address:")
    assert "十万火急" in result.errors[4].message
    assert sorted(t["ticket_no"] for t in result.added) == ["GD-0201", "GD-0210"]
    with city.connection() as conn:
        assert conn.execute("SELECT count(*) FROM work_order").fetchone()[0] == 2


def test_a_json_file_is_read_row_by_row_too(city, tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps([{"工单编号": "GD-0301", "联系电话": "13800000001", "诉求内容": "暖气不热"},
                                "not a ticket", {"ticket_no": "GD-0303", "caller_phone": "13800000002"}],
                               ensure_ascii=False), encoding="utf-8")
    result = import_tickets(city, path, actor=AGENT)
    assert [(e.file, e.row, e.field) for e in result.errors] == [("tickets.json", 2, "row"),
                                                                  ("tickets.json", 3, "content")]
    assert [t["ticket_no"] for t in result.added] == ["GD-0301"]


def test_each_filed_ticket_is_audited_as_its_importer(city, tmp_path):
    import_tickets(city, _csv(tmp_path, "a.csv", "GD-0401,,,王先生,13800000001,,暖气不热,,"), actor=AGENT)
    event = list_audit_events(city, action="ticket.import").iloc[0]
    assert (event["username"], event["role"], event["object_type"], event["object_id"]) == (
        "agent-zhao", "agent", "platform_ticket", "GD-0401")
    assert event["after"]["household_id"] == "H-000001" and event["after"]["source"] == "a.csv row 2"
    order = get_order_detail(city, _orders(city, "GD-0401")[0]["id"])
    assert order["events"]["actor"].tolist() == ["agent-zhao"]
    assert order["events"]["note"].iloc[0] == "12345 GD-0401 (a.csv row 2)"


def test_a_deadline_already_past_is_filed_on_our_own_clocks_and_said(city, tmp_path):
    past = datetime.now(UTC) - timedelta(hours=2)
    result = import_tickets(city, _csv(tmp_path, "late.csv", f"GD-0501,,{_due(past)},王先生,13800000001,,暖气不热,,"),
                            actor=AGENT)
    assert len(result.added) == 1 and "had passed" in result.added[0]["note"]
    order = _orders(city, "GD-0501")[0]
    assert order["external_due_at"] is None and order["sla_due_at"] is not None
    assert list_replies(city)["on_time"].tolist() == [False]


def _handle_to_closed(pool, wo_id: int) -> None:
    dispatch(pool, wo_id, "T-1", actor=DESK)
    steps = (("accept", {}), ("arrive", {"lon": 119.11, "lat": 36.71}),
             ("resolve", {"cause": "户内阀门未开", "action": "开阀并排气", "notes": "室温升至19度"}))
    for k, (action, payload) in enumerate(steps):
        tap = CrewAction(f"tap-{wo_id}-{k:04d}", wo_id, action, payload)
        assert apply_crew_action(pool, tap, actor=CREW, crew_team="T-1")["ok"]
    assert record_revisit(pool, wo_id, actor=AGENT, reached=True, satisfaction=5, fixed=True) == "visited"
    transition(pool, wo_id, "closed", actor=DESK)


def test_the_export_holds_each_ticket_s_handling_result(city, tmp_path):
    add_user(city, username="crew-liu", password="crew password 1", roles=["crew"], team_id="T-1", actor=DESK)
    import_tickets(city, _csv(tmp_path, "a.csv", f"GD-0601,,{_due(SOON)},王先生,13800000001,,暖气不热,,",
                              "GD-0602,,,张先生,13900000003,,发票抬头开错,,"), actor=AGENT)
    _handle_to_closed(city, _orders(city, "GD-0601")[0]["id"])
    replies = list_replies(city).set_index("ticket_no")
    done, waiting = replies.loc["GD-0601"], replies.loc["GD-0602"]
    assert (done["status"], done["status_text"], done["team"]) == ("closed", "已办结", "抢修一队")
    assert done["resolution"] == "原因：户内阀门未开；处理：开阀并排气；说明：室温升至19度"
    assert (done["satisfaction"], done["satisfaction_text"], done["fixed"], done["revisit_reached"]) == (
        5, "满意", True, True)
    assert done["on_time"] is True and done["resolved_at"] <= done["due_at"]
    assert done["accepted_at"] <= done["replied_at"] <= done["on_site_at"] <= done["resolved_at"] <= done["closed_at"]
    assert (waiting["status"], waiting["status_text"], waiting["resolution"]) == ("accepted", "已受理", "")

    exported = json.loads(write_replies(list_replies(city), "json"))
    assert [r["ticket_no"] for r in exported["replies"]] == ["GD-0601", "GD-0602"]
    assert exported["replies"][0]["closed_at"].endswith("+08:00") and exported["replies"][0]["satisfaction"] == 5
    rows = list(csv.DictReader(io.StringIO(write_replies(list_replies(city), "csv").lstrip("\ufeff"))))
    assert rows[0]["status"] == "closed" and rows[0]["on_time"] == "true" and rows[1]["satisfaction"] == ""
    assert rows[0]["resolution"] == done["resolution"]


def test_the_export_since_a_time_holds_only_the_tickets_changed_since(city, tmp_path):
    import_tickets(city, _csv(tmp_path, "a.csv", "GD-0701,,,王先生,13800000001,,暖气不热,,",
                              "GD-0702,,,张先生,13900000003,,暖气漏水,,"), actor=AGENT)
    later = datetime.now(UTC)
    transition(city, _orders(city, "GD-0702")[0]["id"], "cancelled", actor=DESK, note="住户已自行处理")
    changed = list_replies(city, since=later)
    assert changed["ticket_no"].tolist() == ["GD-0702"]
    assert changed["status"].tolist() == ["cancelled"] and changed["resolution"].tolist() == ["退回：住户已自行处理"]


def test_the_match_kinds_are_the_table_s():
    from pathlib import Path

    sql = (Path(__file__).parents[2] / "store/migrations/010_knowledge_12345.sql").read_text(encoding="utf-8")
    assert "matched_by IN (" + ", ".join(f"'{m}'" for m in PLATFORM_TICKET_MATCH) + ")" in sql


def test_a_gb18030_csv_as_excel_saves_it_is_read(city, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADER + "GD-0801,,,王先生,13800000001,,暖气不热,,\n").encode("gb18030"))
    result = import_tickets(city, path, actor=AGENT)
    assert result.errors == [] and result.added[0]["household_id"] == "H-000001"


def test_the_demo_city_s_households_are_found_by_phone_and_by_address(demo_db_url, tmp_path):
    from store.db import get_pool

    pool = get_pool(demo_db_url)
    with pool.connection() as conn:
        (by_phone, phone), (by_address, address) = conn.execute(
            "SELECT id, CASE WHEN k = 1 THEN phone ELSE address END FROM ("
            " SELECT id, phone, address, row_number() OVER (ORDER BY id) AS k FROM household h"
            " WHERE (SELECT count(*) FROM household o WHERE o.phone = h.phone) = 1 ORDER BY id LIMIT 2) two"
            " ORDER BY k").fetchall()
    path = _csv(tmp_path, "demo.csv", f"DM-1,,,,{phone},,暖气不热,,", f"DM-2,,,,,某市某区{address},暖气漏水,,")
    result = import_tickets(pool, path, actor=AGENT)
    assert result.errors == []
    assert [(t["household_id"], t["matched_by"]) for t in result.added] == [(by_phone, "phone"),
                                                                          (by_address, "address")]


def test_the_same_ticket_sent_by_eight_senders_at_once_is_one_order(city):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from store.platform_12345 import check_ticket, file_ticket

    ticket = check_ticket({"ticket_no": "GD-0900", "content": "暖气不热", "caller_phone": "13800000001"},
                          timezone="Asia/Shanghai")
    start = Barrier(8)

    def send(k: int) -> dict:
        start.wait()
        return file_ticket(city, ticket, actor=AGENT, platform="12345", source=f"sender {k}")

    with ThreadPoolExecutor(8) as senders:
        outcomes = list(senders.map(send, range(8)))
    assert sum(o["new"] for o in outcomes) == 1
    assert len({o["work_order_id"] for o in outcomes}) == 1
    assert len(_orders(city, "GD-0900")) == 1
    with city.connection() as conn:
        assert conn.execute("SELECT count(*) FROM platform_ticket").fetchone()[0] == 1
