"""The SLA watch: a warning at 80 % of a clock and a breach at 100 %, as alarms on the order's element
(its household's community when it has none), cleared when the orders move on; and the board's clock
states (running / warning / breached / met / missed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from store.alarms import get_alarm, list_open_alarms
from store.db import transaction
from store.work_orders.sla import set_due_times_on
from store.work_orders.sla_policy import load_sla_policy
from store.work_orders.sla_watch import list_sla_states, watch_sla

SHANGHAI = ZoneInfo("Asia/Shanghai")
FILED = datetime(2026, 11, 16, 9, tzinfo=SHANGHAI)   # a Monday in the heating season
POLICY = load_sla_policy()                           # room_cold/normal: reply 1 h, site 6 h, resolve 24 h


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def network(pool):
    with transaction(pool) as conn:
        conn.execute("INSERT INTO network_version (source_path) VALUES ('t')")
        for element, kind in (("ST-1", "station"), ("ST-2", "station"), ("C-1", "community")):
            conn.execute("INSERT INTO asset (id, kind, geometry, lon, lat, network_version)"
                         " VALUES (%s, %s, '{}', 119.1, 36.7, 1)", (element, kind))
        conn.execute("INSERT INTO household (id, community_id, station_id) VALUES ('H-1', 'C-1', 'ST-1')")
    return pool


def file_order(pool, *, created_at=FILED, category="room_cold", priority="normal", **columns) -> int:
    columns = {"title": "室温低", "category": category, "priority": priority, "created_at": created_at,
               **({"household_id": "H-1"} if "asset_id" not in columns else {}), **columns}
    with transaction(pool) as conn:
        wo = conn.execute(f"INSERT INTO work_order ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
                          " RETURNING id", list(columns.values())).fetchone()[0]
        set_due_times_on(conn, wo)
    return wo


def stamp(pool, wo: int, **columns) -> None:
    with transaction(pool) as conn:
        for column, value in columns.items():
            assert column in ("replied_at", "on_site_at", "resolved_at", "visited_at", "state", "paused_at")
            conn.execute(f"UPDATE work_order SET {column} = %s WHERE id = %s", (value, wo))


def sla_alarms(pool) -> dict[tuple[str, str], dict]:
    frame = list_open_alarms(pool, with_details=True)
    frame = frame[frame["cause"].str.startswith("sla_")]
    return {(r.asset_id, r.cause): {"severity": r.severity, "details": r.details, "id": r.id}
            for r in frame.itertuples(index=False)}


def test_a_warning_at_80_percent_and_a_breach_at_100_then_cleared_when_the_crew_arrives(network):
    wo = file_order(network, asset_id="ST-1")
    stamp(network, wo, replied_at=FILED + timedelta(minutes=20), state="dispatched")
    # The site clock (6 h) at 79 %: nothing yet.
    watch_sla(network, at=FILED + timedelta(hours=6 * 0.79))
    assert sla_alarms(network) == {}
    # At 80 %: a warning on the order's station, naming the order and its clock.
    counts = watch_sla(network, at=FILED + timedelta(hours=6 * 0.8))
    alarm = sla_alarms(network)[("ST-1", "sla_warning")]
    assert counts["warning"] == 1 and alarm["severity"] == "warning"
    assert alarm["details"]["work_order_ids"] == [wo] and alarm["details"]["orders"][0]["clocks"] == ["site"]
    # At 100 %: a breach (severity alarm); the warning is gone, since the order is past it.
    watch_sla(network, at=FILED + timedelta(hours=6))
    assert set(sla_alarms(network)) == {("ST-1", "sla_breach")}
    assert sla_alarms(network)[("ST-1", "sla_breach")]["severity"] == "alarm"
    assert get_alarm(network, alarm["id"])["state"] == "cleared"
    # The crew arrives: the site clock stops, the resolve clock (24 h) is at 27 %: no alarm left.
    stamp(network, wo, on_site_at=FILED + timedelta(hours=6.5), state="on_site")
    counts = watch_sla(network, at=FILED + timedelta(hours=6.5))
    assert sla_alarms(network) == {} and counts["cleared"] == 1


def test_an_order_without_an_element_raises_on_its_households_community(network):
    wo = file_order(network)   # household H-1 in community C-1, no asset
    watch_sla(network, at=FILED + timedelta(minutes=50))   # reply (1 h) at 83 %
    alarms = sla_alarms(network)
    assert set(alarms) == {("C-1", "sla_warning")} and alarms[("C-1", "sla_warning")]["details"]["work_order_ids"] == [wo]


def test_one_alarm_per_element_carries_all_its_orders_and_each_order_counts_once_at_its_worst(network):
    # Filed at 04:00: at 09:40 its reply (due 05:00) is breached and its site clock (due 10:00) at 94 %.
    late = file_order(network, asset_id="ST-1", created_at=FILED - timedelta(hours=5))
    near = file_order(network, asset_id="ST-1", created_at=FILED - timedelta(minutes=10))   # reply at 83 %
    other = file_order(network, asset_id="ST-2", created_at=FILED - timedelta(hours=2))
    watch_sla(network, at=FILED + timedelta(minutes=40))
    alarms = sla_alarms(network)
    assert alarms[("ST-1", "sla_breach")]["details"]["work_order_ids"] == [late]
    assert alarms[("ST-1", "sla_breach")]["details"]["orders"][0]["clocks"] == ["reply"]
    assert alarms[("ST-1", "sla_warning")]["details"]["work_order_ids"] == [near]
    assert alarms[("ST-2", "sla_breach")]["details"]["work_order_ids"] == [other]
    # The late order gets its reply: it leaves the breach and joins the warning with its site clock.
    stamp(network, late, replied_at=FILED + timedelta(minutes=41), state="dispatched")
    watch_sla(network, at=FILED + timedelta(minutes=42))
    alarms = sla_alarms(network)
    assert ("ST-1", "sla_breach") not in alarms and ("ST-2", "sla_breach") in alarms
    assert alarms[("ST-1", "sla_warning")]["details"]["work_order_ids"] == [near, late]   # by due time


def test_a_working_day_clock_warns_at_80_percent_of_its_working_time_not_of_the_calendar(network):
    # An invoice filed on 30 September 15:00 is due on 10 October 15:00 (3 working days = 72 h of working
    # time across National Day). On 9 October 00:00 it has used 9 + 24 = 33 h of working time (46 %), though
    # 84 % of the calendar time; on 10 October 05:00 it has used 62 h (86 %).
    wo = file_order(network, category="invoice", created_at=local(2026, 9, 30, 15))
    stamp(network, wo, replied_at=local(2026, 9, 30, 15, 30), state="dispatched")
    watch_sla(network, at=local(2026, 10, 9, 0))
    assert sla_alarms(network) == {}
    watch_sla(network, at=local(2026, 10, 10, 5))
    details = sla_alarms(network)[("C-1", "sla_warning")]["details"]
    assert details["work_order_ids"] == [wo] and details["orders"][0]["share"] == pytest.approx(62 / 72, abs=1e-3)


def test_a_working_day_clock_warns_before_a_holiday_that_its_last_hours_fall_after(network):
    # A payment (1 working day) filed on 30 September 02:00: 22 h of that day, then 2 h after National Day,
    # due on 8 October 02:00. At 23:00 on 30 September 21 of its 24 h are used (88 %): the warning goes up
    # before the holiday, though a week of calendar time is left.
    wo = file_order(network, category="payment", asset_id="ST-2", created_at=local(2026, 9, 30, 2))
    stamp(network, wo, replied_at=local(2026, 9, 30, 2, 30), state="dispatched")
    watch_sla(network, at=local(2026, 9, 30, 20))   # 75 %
    assert sla_alarms(network) == {}
    watch_sla(network, at=local(2026, 9, 30, 23))
    assert sla_alarms(network)[("ST-2", "sla_warning")]["details"]["orders"][0]["share"] == pytest.approx(21 / 24)


def test_a_paused_order_stands_still(network):
    wo = file_order(network, asset_id="ST-1")
    stamp(network, wo, replied_at=FILED + timedelta(minutes=20), paused_at=FILED + timedelta(hours=1), state="accepted")
    watch_sla(network, at=FILED + timedelta(hours=5))   # the site clock stopped at 17 %
    assert sla_alarms(network) == {}


def test_the_board_shows_each_clocks_state_the_most_pressing_first(network):
    at = FILED + timedelta(hours=7)
    met = file_order(network, asset_id="ST-1")
    stamp(network, met, replied_at=FILED + timedelta(minutes=30), on_site_at=FILED + timedelta(hours=5))
    missed = file_order(network, asset_id="ST-1")
    stamp(network, missed, replied_at=FILED + timedelta(hours=2))
    fresh = file_order(network, asset_id="ST-2", created_at=at - timedelta(minutes=10))
    done = file_order(network, asset_id="ST-2", created_at=FILED - timedelta(days=3))
    stamp(network, done, replied_at=FILED - timedelta(days=3), on_site_at=FILED - timedelta(days=3),
          resolved_at=FILED - timedelta(days=2), state="closed")
    board = list_sla_states(network, at=at, policy=POLICY).set_index("id")
    # Next due: site at 15:00 (breached), the new order's reply at 16:50, resolve tomorrow at 09:00.
    assert list(board.index) == [missed, fresh, met]
    assert (board.loc[met, "reply_state"], board.loc[met, "site_state"], board.loc[met, "resolve_state"]) == \
        ("met", "met", "running")
    assert (board.loc[missed, "reply_state"], board.loc[missed, "site_state"]) == ("missed", "breached")
    assert board.loc[missed, "sla_state"] == "breached"
    assert board.loc[fresh, "reply_state"] == "running" and board.loc[fresh, "reply_share"] == pytest.approx(1 / 6)
    everything = list_sla_states(network, at=at, open_only=False, policy=POLICY).set_index("id")
    assert everything.loc[done, "revisit_state"] is None and everything.loc[done, "resolve_state"] == "met"
