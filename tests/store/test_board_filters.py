"""The supervisor's board filters (store.work_orders.core.list_board): community and station reach orders on a
household and on the element itself; an open order with 80 % of its resolve allowance used is about to breach."""

from __future__ import annotations

from test_kpis import _city

from store.audit import Actor
from store.work_orders import add_work_order
from store.work_orders.core import list_board

SETUP = Actor("test-setup", role="cli")


def test_board_filters_by_community_station_and_origin_and_marks_the_about_to_breach(pool):
    with pool.connection() as conn:
        _city(conn)
    on_h1 = add_work_order(pool, title="H-1", actor=SETUP, household_id="H-1", sla_hours=10)
    on_c2 = add_work_order(pool, title="C-2", actor=SETUP, asset_id="C-2", origin="inspection", sla_hours=10)
    on_st = add_work_order(pool, title="ST-1", actor=SETUP, asset_id="ST-1", sla_hours=-1)
    with pool.connection() as conn:  # filed 9 of its 10 hours ago
        conn.execute("UPDATE work_order SET created_at = now() - interval '9 hours', sla_due_at = now() + interval"
                     " '1 hour' WHERE id = %s", (on_h1,))

    def ids(**filters):
        return sorted(list_board(pool, **filters)[0]["id"])

    assert ids(community="C-1") == [on_h1] and ids(community=["C-2"]) == [on_c2]
    assert ids(station="ST-1") == sorted([on_h1, on_c2, on_st])  # C-2 is heated by ST-1
    assert ids(origin="inspection") == [on_c2] and ids(overdue=True) == [on_st]
    frame = list_board(pool)[0].set_index("id")
    assert frame.loc[on_h1, "due_warning"] and not frame.loc[on_c2, "due_warning"]
    assert not frame.loc[on_st, "due_warning"] and frame.loc[on_st, "overdue"]
    assert frame.loc[on_h1, "community"] == "C-1" and frame.loc[on_c2, "community"] == "C-2"
    assert frame.loc[on_st, "station"] == "ST-1" and frame.loc[on_h1, "station"] == "ST-1"
