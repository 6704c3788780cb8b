"""What the work-order pages say without a browser: a clock once its target is reached, how late an order is,
the causes a crew is offered for the order's category, and the supervisor's call-back spot checks."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pandas as pd
import pytest
from accounts import app_settings

from heattwin.choices import work_order_category_values
from heattwin.permissions import granting_role

NOW = pd.Timestamp.now(tz="UTC")


@pytest.fixture(scope="module")
def pages():
    """The page modules as the app loads them (``pages.<name>``): imported any other way, they would
    register their paths a second time. The app is never asked for anything, so no database is needed."""
    from app.server import create_app

    create_app("postgresql:///not-used", app_settings())
    return SimpleNamespace(orders=sys.modules["pages.orders"], field=sys.modules["pages.field"])


def test_a_clock_reached_in_time_says_met_and_when_not_a_countdown(pages):
    clock_status = pages.orders.clock_status

    text, state = clock_status(NOW + pd.Timedelta(hours=24), NOW - pd.Timedelta(minutes=5), "zh-CN")
    assert state == "met" and text.startswith("按时") and "后" not in text


def test_a_clock_reached_late_says_by_how_much(pages):
    clock_status = pages.orders.clock_status

    text, state = clock_status(NOW - pd.Timedelta(hours=5), NOW - pd.Timedelta(hours=2), "zh-CN")
    assert state == "missed" and text.startswith("超时 3小时")


def test_an_open_late_clock_says_how_late_without_ago(pages):
    clock_status = pages.orders.clock_status

    text, state = clock_status(NOW - pd.Timedelta(days=11), None, "zh-CN")
    assert (text, state) == ("已超时 11天", "breached")
    assert clock_status(NOW + pd.Timedelta(hours=6, minutes=1), None, "zh-CN") == ("6小时后", "running")


def test_a_cancelled_orders_unreached_clock_shows_nothing(pages):
    clock_status = pages.orders.clock_status

    assert clock_status(NOW - pd.Timedelta(days=2), None, "zh-CN", stopped=True) == ("—", None)


def _order(**fields):
    base = {"id": 7, "state": "on_site", "category": "equipment", "site_due_at": NOW, "sla_due_at": NOW,
            "resolved_at": None, "paused_at": None}
    return SimpleNamespace(**{**base, **fields})


def _texts(component) -> list[str]:
    found = []
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if isinstance(child, str):
            found.append(child)
        elif child is not None:
            found.extend(_texts(child))
    return found


def test_the_phone_says_late_by_eleven_days_not_eleven_days_ago(pages):
    _clock = pages.field._clock

    clock = _clock(_order(state="accepted", site_due_at=NOW - pd.Timedelta(days=11)), "zh-CN")
    assert "已超时 11天" in _texts(clock) and "late" in clock.className


def test_the_phone_shows_a_resolved_order_as_met_not_counting_down(pages):
    _clock = pages.field._clock

    clock = _clock(_order(state="resolved", sla_due_at=NOW + pd.Timedelta(hours=24),
                          resolved_at=NOW - pd.Timedelta(minutes=3)), "zh-CN")
    assert any(text.startswith("按时") for text in _texts(clock)) and "24小时后" not in _texts(clock)


def test_cause_lists_follow_the_orders_category(pages):
    CAUSES, _resolve_form = pages.field.CAUSES, pages.field._resolve_form

    assert set(CAUSES) == set(work_order_category_values)
    equipment = _texts(_resolve_form(_order(category="equipment"), "zh-CN"))
    assert "传感器/变送器故障" in equipment and "暖气片存气" not in equipment
    household = _texts(_resolve_form(_order(category="room_cold"), "zh-CN"))
    assert "暖气片存气" in household and "传感器/变送器故障" not in household


def test_resident_confirmation_starts_unanswered(pages):
    _resolve_form = pages.field._resolve_form

    form = _resolve_form(_order(), "zh-CN")
    select = next(c for c in form.children if getattr(c, "className", "") == "field-confirmed")
    first = select.children[0]
    assert first.value == "" and first.selected and first.disabled and select.required


def test_a_supervisor_spot_checks_revisits():
    assert granting_role(["supervisor"], "work_order.revisit") == "supervisor"
