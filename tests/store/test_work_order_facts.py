"""``work_order_fact`` (kept by triggers as events and revisits are written) against the raw event tables:
random orders whose events arrive one by one, many to a statement, through ``COPY`` and out of time order;
the KPIs' facts read as at moments between them equal what pandas works out from the events themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from test_kpis import _city  # tests/store/test_kpis.py

from store.kpis import REPEAT_WINDOW_DAYS, Period, order_facts

START = datetime(2026, 1, 1, tzinfo=UTC)
STATES = ("dispatched", "accepted", "on_site", "resolved", "reopened", "visited", "closed", "cancelled")
ORIGINS = ("hotline", "platform_12345", "app", "inspection")


def _orders(rng, n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(1, n + 1),
                         "household_id": rng.choice(["H-1", "H-2", "H-3", None], n),
                         "category": rng.choice(["room_cold", "no_heat", "leak"], n),
                         "origin": rng.choice(ORIGINS, n),
                         "created_at": [START + timedelta(hours=float(h)) for h in rng.uniform(0, 24 * 40, n)]})


def _events(rng, orders: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for order in orders.itertuples():
        at = order.created_at
        for state in ["new", *rng.choice(STATES, rng.integers(0, 6))]:
            rows.append((order.id, at, state))
            at = at + timedelta(hours=float(rng.exponential(20.0)))
    return pd.DataFrame(rows, columns=["work_order_id", "at", "to_state"])


def _revisits(rng, orders: pd.DataFrame) -> pd.DataFrame:
    picked = orders.sample(frac=0.6, random_state=1)
    reached = rng.random(len(picked)) < 0.7
    return pd.DataFrame({"work_order_id": picked["id"].to_numpy(),
                         "at": [c + timedelta(hours=float(h)) for c, h in
                                zip(picked["created_at"], rng.uniform(1, 200, len(picked)), strict=True)],
                         "reached": reached,
                         "satisfaction": np.where(reached, rng.integers(1, 6, len(picked)), None)})


def _store(pool, orders, events, revisits) -> None:
    with pool.connection() as conn:
        _city(conn)  # the households H-1, H-2 and H-3
        with conn.cursor().copy("COPY work_order (id, household_id, asset_id, title, category, origin, created_at)"
                                " FROM STDIN") as copy:
            for o in orders.itertuples():
                copy.write_row((int(o.id), o.household_id, None if o.household_id else "C-1", "test", o.category, o.origin, o.created_at))
        # Later events first, so that the latest by time often arrives before an earlier one.
        shuffled = events.sample(frac=1.0, random_state=2)
        thirds = np.array_split(shuffled, 3)
        for e in thirds[0].itertuples():
            conn.execute("INSERT INTO work_order_event (work_order_id, at, actor, to_state) VALUES (%s, %s, 't', %s)",
                         (int(e.work_order_id), e.at, e.to_state))
        conn.cursor().executemany(
            "INSERT INTO work_order_event (work_order_id, at, actor, to_state) VALUES (%s, %s, 't', %s)",
            [(int(e.work_order_id), e.at, e.to_state) for e in thirds[1].itertuples()])
        with conn.cursor().copy("COPY work_order_event (work_order_id, at, actor, to_state) FROM STDIN") as copy:
            for e in thirds[2].itertuples():
                copy.write_row((int(e.work_order_id), e.at, "t", e.to_state))
        for r in revisits.itertuples():
            conn.execute("INSERT INTO work_order_revisit (work_order_id, at, agent, reached, satisfaction)"
                         " VALUES (%s, %s, 'a', %s, %s)", (int(r.work_order_id), r.at, bool(r.reached),
                                                           None if r.satisfaction is None else int(r.satisfaction)))


def _expected(pool, orders: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Each order's facts as at ``as_of`` from the stored events and revisits (with their ids, as stored)."""
    with pool.connection() as conn:
        events = pd.DataFrame(conn.execute("SELECT id, work_order_id, at, to_state::text FROM work_order_event"
                                           " WHERE at < %s", (as_of,)).fetchall(),
                              columns=["id", "work_order_id", "at", "to_state"])
        revisits = pd.DataFrame(conn.execute("SELECT id, work_order_id, at, satisfaction FROM work_order_revisit"
                                             " WHERE reached AND at < %s", (as_of,)).fetchall(),
                                columns=["id", "work_order_id", "at", "satisfaction"])
    by_order = events.sort_values(["at", "id"]).groupby("work_order_id")
    of = events.groupby("work_order_id")
    out = pd.DataFrame({
        "state": by_order["to_state"].last(),
        "signed_at": events[events["to_state"].isin(["dispatched", "accepted", "resolved"])]
        .groupby("work_order_id")["at"].min(),
        "on_site_at": events[events["to_state"] == "on_site"].groupby("work_order_id")["at"].min(),
        "resolved_at": events[events["to_state"] == "resolved"].groupby("work_order_id")["at"].max(),
        "reopened": of["to_state"].apply(lambda s: bool((s == "reopened").any())),
    }).reindex(orders["id"])
    out["state"] = out["state"].fillna("new")
    out["reopened"] = out["reopened"].fillna(False).astype(bool)
    first = revisits.sort_values(["at", "id"]).groupby("work_order_id").first()
    out["revisit_reached"] = out.index.isin(first.index)
    out["first_satisfaction"] = pd.to_numeric(first["satisfaction"].reindex(out.index))
    cancelled = set(events.loc[events["to_state"] == "cancelled", "work_order_id"])
    out["repeat"] = [_is_repeat(o, orders, cancelled) for o in orders.set_index("id").loc[out.index].itertuples()]
    return out


def _is_repeat(order, orders: pd.DataFrame, cancelled: set) -> bool:
    resident = ("hotline", "platform_12345", "app")
    if order.household_id is None or order.origin not in resident:
        return False
    earlier = orders[(orders["household_id"] == order.household_id) & (orders["category"] == order.category)
                     & orders["origin"].isin(resident) & (orders["created_at"] < order.created_at)
                     & (orders["created_at"] >= order.created_at - timedelta(days=REPEAT_WINDOW_DAYS))
                     & ~orders["id"].isin(cancelled)]
    return not earlier.empty


@pytest.mark.parametrize("seed", [11, 12])
def test_the_kept_facts_equal_the_events_as_at_any_moment(pool, seed):
    rng = np.random.default_rng(seed)
    orders = _orders(rng, 120)
    _store(pool, orders, _events(rng, orders), _revisits(rng, orders))
    period = Period("month", START, START + timedelta(days=60))
    for hours in (24 * 10, 24 * 25, 24 * 41, 24 * 80):
        as_of = START + timedelta(hours=hours)
        facts = order_facts(pool, period, as_of=as_of).set_index("id")
        filed = orders[orders["created_at"] < as_of]
        expected = _expected(pool, filed, as_of)
        assert len(facts) == len(filed)
        for column in ("state", "reopened", "revisit_reached", "repeat"):
            assert facts[column].loc[expected.index].tolist() == expected[column].tolist(), (column, as_of)
        for column in ("signed_at", "on_site_at", "resolved_at", "first_satisfaction"):
            pd.testing.assert_series_equal(facts[column].loc[expected.index], expected[column],
                                           check_names=False, check_dtype=False, obj=f"{column} at {as_of}")


def test_the_kept_repeat_follows_orders_changed_filed_late_and_cancelled(pool):
    """The repeat test is kept when an order is written, not probed at every read: an earlier order filed late
    (backdated), one whose category or team changes, and a late cancellation each change what is read."""
    def facts(as_of=START + timedelta(days=60)):
        return order_facts(pool, Period("month", START, START + timedelta(days=60)), as_of=as_of).set_index("id")

    with pool.connection() as conn:
        _city(conn)
        insert = ("INSERT INTO work_order (id, household_id, title, category, origin, team_id, created_at)"
                  " VALUES (%s, 'H-1', 'test', %s, 'hotline', %s, %s)")
        conn.execute(insert, (1, "room_cold", "T-A", START + timedelta(days=20)))
        conn.execute(insert, (2, "room_cold", "T-A", START + timedelta(days=45)))
    assert facts()["repeat"].tolist() == [False, True]  # 2 is filed 25 days after 1
    with pool.connection() as conn:
        # Filed late: an order of 10 days before 1 makes 1 a repeat.
        conn.execute(insert, (3, "room_cold", "T-B", START + timedelta(days=10)))
    assert facts().loc[1, "repeat"]
    with pool.connection() as conn:
        conn.execute("UPDATE work_order SET category = 'leak', team_id = 'T-B' WHERE id = 3")
    read = facts()
    assert not read.loc[1, "repeat"] and read.loc[3, "category"] == "leak" and read.loc[3, "team_id"] == "T-B"
    with pool.connection() as conn:
        conn.execute("UPDATE work_order SET category = 'room_cold' WHERE id = 3")
        # Cancelled on day 30 (written later): 1 is a repeat as at day 25, not as at day 35.
        conn.execute("INSERT INTO work_order_event (work_order_id, at, actor, to_state) VALUES (3, %s, 't', 'cancelled')",
                     (START + timedelta(days=30),))
    assert facts(START + timedelta(days=25)).loc[1, "repeat"]
    assert not facts(START + timedelta(days=35)).loc[1, "repeat"]


def test_the_residents_origins_are_the_same_in_the_store_and_in_python(pool):
    from heattwin.choices import RESIDENT_ORIGINS, work_order_origin_values

    with pool.connection() as conn:
        resident = {o for o in work_order_origin_values
                    if conn.execute("SELECT work_order_resident_origin(%s)", (o,)).fetchone()[0]}
    assert resident == set(RESIDENT_ORIGINS)
