"""SLA alarms on the wall: which orders, which clocks and when they were due, in the wall's language."""

from __future__ import annotations

from app.components.alarm_text import describe

DETAILS = {"count": 4, "work_order_ids": [12, 15, 16, 17], "orders": [
    {"id": 12, "clocks": ["site"], "due_at": "2026-10-09T07:00:00+00:00"},
    {"id": 15, "clocks": ["reply", "site"], "due_at": "2026-10-09T08:00:00+00:00"},
    {"id": 16, "clocks": ["resolve"], "due_at": "2026-10-09T08:30:00+00:00"},
    {"id": 17, "clocks": ["resolve"], "due_at": "2026-10-09T09:00:00+00:00"}]}


def test_a_breach_names_its_first_orders_clocks_and_local_due_times(monkeypatch):
    monkeypatch.setenv("HEATTWIN_TIMEZONE", "Asia/Shanghai")
    assert describe("sla_breach", "4 work orders past due: …", DETAILS, "zh-CN") == (
        "工单超时 · 4 张工单已超时：#12（到达现场，10-09 15:00 到期）、#15（首次响应/到达现场，10-09 16:00 到期）、"
        "#16（办结，10-09 16:30 到期），另有 1 张")


def test_a_warning_in_english_and_an_alarm_without_orders_falls_back_to_its_message(monkeypatch):
    monkeypatch.setenv("HEATTWIN_TIMEZONE", "UTC")
    text = describe("sla_warning", "", {**DETAILS, "count": 1, "orders": DETAILS["orders"][:1]}, "en")
    assert text == "Work orders near their deadline · 1 at 80 % of their time: #12 (on site, due 10-09 07:00)"
    assert describe("sla_breach", "2 work orders past due", {}, "zh-CN") == "工单超时 · 2 work orders past due"
