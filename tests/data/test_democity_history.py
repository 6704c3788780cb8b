"""The demo city's past heating season of work orders: its size and Liaoning mix, calls that follow the
cold and the season's start, histories that follow the declared lifecycle and agree with the orders'
time columns, clocks mostly but not always met, revisits and reopenings, today's open orders, and a
database that holds exactly what the files hold."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import psycopg
import pytest

from data.democity import RECORD_NOW
from data.democity.calls import SEASON_END, SEASON_START, season_calls
from data.democity.records import make_teams
from heattwin.choices import WORK_ORDER_OPEN_STATES, WORK_ORDER_TRANSITIONS
from store.calendar import WorkCalendar
from store.work_orders.sla import compute_due_times, compute_revisit_due
from store.work_orders.sla_policy import DEFAULT_FILE, load_sla_policy

TIME_COLUMNS = ("created_at", "sla_due_at", "closed_at", "external_due_at", "reply_due_at", "site_due_at",
                "revisit_due_at", "replied_at", "on_site_at", "resolved_at", "visited_at")


def _read(folder, name) -> pd.DataFrame:
    return pd.read_csv(folder / "records" / f"{name}.csv", dtype=str, keep_default_na=False)


def _times(frame: pd.DataFrame, columns) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column].replace("", None), utc=True)
    return frame


@pytest.fixture(scope="module")
def city(demo_city_dir):
    orders = _times(_read(demo_city_dir, "work_order"), TIME_COLUMNS)
    orders["id"] = orders["id"].astype(int)
    orders["reopen_count"] = orders["reopen_count"].astype(int)
    events = _times(_read(demo_city_dir, "work_order_event"), ["at"])
    events["work_order_id"] = events["work_order_id"].astype(int)
    revisits = _times(_read(demo_city_dir, "work_order_revisit"), ["at"])
    revisits["work_order_id"] = revisits["work_order_id"].astype(int)
    revisits["reached"] = revisits["reached"] == "True"
    revisits["satisfaction"] = pd.to_numeric(revisits["satisfaction"]).astype("Int64")
    season = orders[orders["created_at"] < SEASON_END.tz_convert("UTC")]
    households = len(_read(demo_city_dir, "household"))
    return {"orders": orders, "events": events, "revisits": revisits, "season": season,
            "teams": _read(demo_city_dir, "team"), "households": households}


def _event_at(events: pd.DataFrame, to_state: str, which: str) -> pd.Series:
    return getattr(events[events["to_state"] == to_state].groupby("work_order_id")["at"], which)()


def test_a_season_of_thousands_in_the_liaoning_mix(city):
    season = city["season"]
    assert 0.10 <= len(season) / city["households"] <= 0.14 and len(season) > 2000
    assert season["created_at"].min() >= SEASON_START.tz_convert("UTC")
    assert season["created_at"].max() < SEASON_END.tz_convert("UTC")
    share = season["category"].value_counts(normalize=True)
    assert share["room_cold"] == pytest.approx(0.47, abs=0.025)
    assert share["no_heat"] == pytest.approx(0.37, abs=0.025)
    assert share[["leak", "equipment"]].sum() == pytest.approx(0.09, abs=0.015)
    assert share.drop(["room_cold", "no_heat", "leak", "equipment"]).sum() == pytest.approx(0.07, abs=0.015)
    origins = season["origin"].value_counts(normalize=True)
    assert origins.index[0] == "hotline" and 0.20 <= origins["platform_12345"] <= 0.35
    assert {"app", "inspection", "alarm", "crew"} <= set(origins.index)
    assert set(season["state"]) == {"closed", "cancelled"}
    assert 0.01 <= (season["state"] == "cancelled").mean() <= 0.06


def test_calls_rise_in_the_cold_and_in_the_first_weeks(city):
    season = city["season"]
    day = season["created_at"].dt.tz_convert("Asia/Shanghai").dt.normalize()
    per_day = day.value_counts().sort_index()
    assert per_day.iloc[:14].mean() > 1.5 * per_day.iloc[-30:].mean()
    early = day < SEASON_START + pd.Timedelta(days=14)
    assert (season.loc[early, "category"] == "no_heat").mean() > 1.5 * (season.loc[~early, "category"]
                                                                          == "no_heat").mean()
    # The same generator on a plain town, where the weather it drew is at hand.
    n = 40_000
    households = pd.DataFrame({"id": [f"H-{k}" for k in range(n)], "community_id": "C-1", "station_id": "ST-1",
                               "heating_status": "heating", "floor": np.arange(n) % 6 + 1, "address": "一号楼",
                               "name": "王先生", "phone": "13800000000"})
    places = pd.DataFrame({"lon": [119.1, 119.1, 119.1], "lat": [36.7, 36.7, 36.7]}, index=["ST-1", "P-1", "C-1"])
    calls = season_calls(households, pd.DataFrame({"id": ["C-1"], "built_year": [1995]}), places,
                         np.random.default_rng(3))
    cold = calls[calls["category"] == "room_cold"]
    per_day = np.bincount((cold["created_s"] - int(SEASON_START.timestamp())) // 86400,
                          minlength=len(calls.attrs["outdoor_c"]))
    after_start = slice(21, None)
    assert np.corrcoef(per_day[after_start], calls.attrs["outdoor_c"][after_start])[0, 1] < -0.6


def test_every_history_follows_the_declared_transitions_in_time_order(city):
    events, orders = city["events"], city["orders"].set_index("id")
    first = events["work_order_id"] != events["work_order_id"].shift()
    assert events["work_order_id"].is_monotonic_increasing
    assert (events.loc[first, "from_state"] == "").all() and (events.loc[first, "to_state"] == "new").all()
    later = events[~first]
    assert (later["from_state"] == events["to_state"].shift()[~first]).all()
    assert (later["at"] > events["at"].shift()[~first]).all()
    moves = set(zip(later["from_state"], later["to_state"], strict=True))
    legal = {(a, b) for a, nexts in WORK_ORDER_TRANSITIONS.items() for b in nexts}
    assert moves <= legal, moves - legal
    assert {("new", "resolved"), ("dispatched", "dispatched"), ("on_site", "dispatched"), ("resolved", "reopened"),
            ("reopened", "accepted"), ("reopened", "dispatched"), ("resolved", "closed")} <= moves
    last = events.drop_duplicates("work_order_id", keep="last").set_index("work_order_id")
    assert (last["to_state"] == orders["state"].loc[last.index]).all() and len(last) == len(orders)
    assert (events.loc[first, "at"].to_numpy() == orders["created_at"].to_numpy()).all()


def test_time_columns_agree_with_the_events(city):
    orders, events = city["orders"].set_index("id"), city["events"]
    # Stamped as the store does: reply at the first dispatch; a reopening clears arrival and resolution,
    # so those are the first of the last round.
    reopened_at = events[events["to_state"] == "reopened"].groupby("work_order_id")["at"].max()
    since = pd.Series(reopened_at.reindex(events["work_order_id"]).array, index=events.index)
    last_round = events[since.isna() | (events["at"] > since)]
    expected = {"replied_at": _event_at(events, "dispatched", "first"),
                "on_site_at": _event_at(last_round, "on_site", "first"),
                "resolved_at": _event_at(last_round, "resolved", "first"),
                "visited_at": _event_at(events, "visited", "first"),
                "closed_at": events[events["to_state"].isin(["closed", "cancelled"])].set_index("work_order_id")["at"]}
    for column, at in expected.items():
        assert orders[column].dropna().sort_index().equals(at.sort_index().rename(column)), column
    chain = orders[["created_at", "replied_at", "on_site_at", "resolved_at", "visited_at", "closed_at"]]
    for earlier, later in zip(chain.columns[:-1], chain.columns[1:], strict=True):
        both = chain[earlier].notna() & chain[later].notna()
        assert (chain.loc[both, earlier] <= chain.loc[both, later]).all(), (earlier, later)
    reopened = (events["to_state"] == "reopened").groupby(events["work_order_id"]).sum()
    assert (orders["reopen_count"] == reopened.reindex(orders.index, fill_value=0)).all()
    repaired = events[(events["to_state"] == "resolved") & (events["from_state"] == "on_site")]
    by_crew = orders.index.isin(repaired["work_order_id"])
    assert orders.loc[by_crew, "resolution"].map(lambda r: bool(json.loads(r)["action"])).all()
    assert (orders.loc[~by_crew, "resolution"] == "{}").all()
    answered = events[(events["to_state"] == "resolved") & (events["from_state"] == "new")]["work_order_id"]
    assert ((orders["first_contact"] == "True") == orders.index.isin(answered)).all() and len(answered) > 20
    assert orders.loc[answered, "category"].isin(["enquiry", "payment", "invoice", "other", "suspend"]).all()
    resolved = orders["resolved_at"].notna()
    assert (orders.loc[resolved, "revisit_due_at"] > orders.loc[resolved, "resolved_at"]).all()
    assert orders.loc[~orders.index.isin(events.loc[events["to_state"] == "resolved", "work_order_id"]),
                      "revisit_due_at"].isna().all()
    assert ((orders["site_lon"] != "") == orders["on_site_at"].notna()).all()
    arrivals = events[events["to_state"] == "on_site"].drop_duplicates("work_order_id", keep="last")
    where = arrivals.set_index("work_order_id")["details"].map(json.loads)
    assert (where.map(lambda d: str(d["lon"])) == orders.loc[where.index, "site_lon"]).all()


def test_teams_are_qualified_for_what_they_are_sent_to(city):
    qualified = city["teams"].set_index("id")["categories"].str.strip("{}").str.split(",")
    events, orders = city["events"], city["orders"].set_index("id")
    sent = events[events["to_state"] == "dispatched"]
    team = sent["details"].map(lambda d: json.loads(d)["team_id"])
    category = orders.loc[sent["work_order_id"], "category"].to_numpy()
    assert all(c in qualified[t] for t, c in zip(team, category, strict=True))
    assert set(orders.loc[orders["team_id"] != "", "team_id"]) <= set(qualified.index)
    # A crew accepts only what was dispatched to a team, also after an answer on the call is reopened.
    accepted = events[events["to_state"] == "accepted"]
    first_sent = sent.groupby("work_order_id")["at"].min()
    assert (accepted["at"].to_numpy() > first_sent.reindex(accepted["work_order_id"]).to_numpy()).all()
    assert ((orders["first_contact"] == "True") & (orders["reopen_count"] > 0)).any()
    assert ((orders["team_id"] != "") == orders.index.isin(sent["work_order_id"])).all()


def test_clocks_are_mostly_met_and_urgent_orders_go_faster(city):
    season = city["season"]
    for done, due in (("replied_at", "reply_due_at"), ("on_site_at", "site_due_at"), ("resolved_at", "sla_due_at"),
                      ("visited_at", "revisit_due_at")):
        both = season[done].notna() & season[due].notna()
        on_time = (season.loc[both, done] <= season.loc[both, due]).mean()
        assert 0.88 <= on_time <= 0.99, (done, on_time)
    to_site = (season["on_site_at"] - season["created_at"]).dt.total_seconds()
    assert to_site[season["priority"] == "urgent"].median() < 0.7 * to_site[season["priority"] == "normal"].median()
    ticket = season["origin"] == "platform_12345"
    assert (season.loc[ticket, "external_ref"].str.match(r"^WF12345-\d{8}-\d{6}$")).all()
    assert (season.loc[ticket, "external_due_at"] > season.loc[ticket, "created_at"]).all()
    assert (season.loc[~ticket, "external_ref"] == "").all() and season.loc[~ticket, "external_due_at"].isna().all()


def test_due_times_are_those_the_sla_policy_gives(city):
    """The shipped policy on China's working days (Spring Festival and 调休 inside the season), counted by
    ``store.work_orders.sla`` one order at a time, for a sample of every category × priority × origin."""
    orders = city["orders"]
    sample = orders.groupby(["category", "priority", "origin"]).head(4)
    sample = pd.concat([sample, orders[orders["category"].isin(["invoice", "payment", "suspend", "refund"])]
                        .sample(60, random_state=1)]).drop_duplicates("id")
    calendar, zone = WorkCalendar(), "Asia/Shanghai"
    policy = load_sla_policy(DEFAULT_FILE)

    def moment(value):
        return None if pd.isna(value) else value.to_pydatetime()

    for row in sample.itertuples():
        due = compute_due_times(category=row.category, priority=row.priority, origin=row.origin,
                                created_at=row.created_at.to_pydatetime(), external_due_at=moment(row.external_due_at),
                                calendar=calendar, policy=policy, timezone=zone)
        assert (due.reply, due.site, due.resolve) == (moment(row.reply_due_at), moment(row.site_due_at),
                                                      moment(row.sla_due_at)), row.id
    revisited = orders[orders["reopen_count"] == 0].dropna(subset=["resolved_at"])
    for row in revisited.groupby(["category", "priority"]).head(5).itertuples():
        assert compute_revisit_due(category=row.category, priority=row.priority, resolved_at=moment(row.resolved_at),
                                   calendar=calendar, policy=policy, timezone=zone) == moment(row.revisit_due_at)


def test_revisits_only_on_resolved_orders_mostly_satisfied(city):
    revisits, events, season = city["revisits"], city["events"], city["season"]
    first_resolved = _event_at(events, "resolved", "first")
    assert set(revisits["work_order_id"]) <= set(first_resolved.index)
    assert (revisits["at"] > first_resolved.loc[revisits["work_order_id"]].to_numpy()).all()
    resolved = season[season["resolved_at"].notna()]
    assert resolved["id"].isin(revisits["work_order_id"]).mean() >= 0.85
    reached = revisits[revisits["reached"]]
    assert 0.75 <= revisits["reached"].mean() <= 0.95
    assert reached["satisfaction"].between(1, 5).all() and reached["fixed"].isin(["True", "False"]).all()
    assert revisits.loc[~revisits["reached"], "satisfaction"].isna().all()
    assert (revisits.loc[~revisits["reached"], "fixed"] == "").all()
    assert 4.3 <= reached["satisfaction"].mean() <= 4.8 and 0.85 <= (reached["satisfaction"] >= 4).mean() <= 0.97
    visited = events[events["to_state"] == "visited"]
    calls = set(zip(reached["work_order_id"], reached["at"], strict=True))
    assert all(key in calls for key in zip(visited["work_order_id"], visited["at"], strict=True))


def test_reopened_orders_had_a_dissatisfied_revisit_first(city):
    revisits, events, season = city["revisits"], city["events"], city["season"]
    unhappy = revisits[revisits["reached"] & ((revisits["satisfaction"] <= 2) | (revisits["fixed"] == "False"))]
    assert 0.02 <= season["reopen_count"].gt(0).mean() <= 0.10 and season["reopen_count"].max() >= 2
    reopen = events.loc[events["to_state"] == "reopened", ["work_order_id", "at"]].rename(columns={"at": "reopened"})
    resolved = events.loc[events["to_state"] == "resolved", ["work_order_id", "at"]].rename(columns={"at": "resolved"})
    since = pd.merge_asof(reopen.sort_values("reopened"), resolved.sort_values("resolved"), left_on="reopened",
                          right_on="resolved", by="work_order_id")  # the resolution each reopening undid
    pairs = since.merge(unhappy[["work_order_id", "at"]], on="work_order_id")
    explained = pairs[(pairs["at"] > pairs["resolved"]) & (pairs["at"] <= pairs["reopened"])]
    assert len(explained.drop_duplicates(["work_order_id", "reopened"])) == len(reopen)
    # ... and a dissatisfied revisit of the first resolution always reopens the order.
    never_reopened = season.loc[season["reopen_count"] == 0, "id"]
    assert not unhappy["work_order_id"].isin(never_reopened).any()


def test_today_has_open_orders_for_the_live_wall(city):
    orders, events = city["orders"], city["events"]
    today = orders[orders["created_at"] >= SEASON_END.tz_convert("UTC")]
    assert today["created_at"].between(RECORD_NOW - pd.Timedelta(hours=30), RECORD_NOW).all()
    open_now = today["state"].isin(WORK_ORDER_OPEN_STATES)
    assert 15 <= open_now.sum() <= 25
    assert {"new", "dispatched", "accepted", "on_site", "resolved"} <= set(today["state"])
    assert (events["at"] <= RECORD_NOW).all() and (city["revisits"]["at"] <= RECORD_NOW).all()
    assert today.loc[open_now, "closed_at"].isna().all()
    assert (today.loc[today["state"] == "new", "team_id"] == "").all()


def test_teams_grow_with_the_city_and_cover_every_category():
    rng = np.random.default_rng(1)
    small = make_teams(pd.DataFrame({"lon": np.full(150, 119.1), "lat": np.full(150, 36.7)}), rng, RECORD_NOW)
    big = make_teams(pd.DataFrame({"lon": np.full(3400, 119.1), "lat": np.full(3400, 36.7)}), rng, RECORD_NOW)
    assert small["name"].tolist() == ["抢修一队", "抢修二队", "抢修三队", "巡检一队", "巡检二队", "阀门班", "仪表班",
                                      "客服回访组"]
    assert len(big) > 10 * len(small) and big["name"].is_unique and big["id"].is_unique
    covered = set(",".join(small["categories"].str.strip("{}")).split(","))
    assert covered == {"room_cold", "no_heat", "leak", "equipment", "payment", "suspend", "invoice", "refund",
                       "enquiry", "other"}


def test_the_database_holds_what_the_files_hold(demo_db_url, city):
    orders, season = city["orders"], city["season"]
    with psycopg.connect(demo_db_url) as conn:
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("work_order", "work_order_event", "work_order_revisit")]
        states = dict(conn.execute("SELECT state::text, count(*) FROM work_order GROUP BY 1").fetchall())
        on_time, reopens, notes = conn.execute(
            "SELECT avg((resolved_at <= sla_due_at)::int) FILTER (WHERE resolved_at IS NOT NULL"
            " AND created_at < %s), sum(reopen_count), count(*) FILTER (WHERE sla_note = '') FROM work_order",
            (SEASON_END,)).fetchone()
        satisfaction = conn.execute("SELECT avg(satisfaction) FROM work_order_revisit WHERE reached").fetchone()[0]
        categories = conn.execute("SELECT categories::text[] FROM team WHERE id = 'T-08'").fetchone()[0]
        next_id = conn.execute("SELECT nextval(pg_get_serial_sequence('work_order', 'id'))").fetchone()[0]
    assert counts == [len(orders), len(city["events"]), len(city["revisits"])]
    assert states == orders["state"].value_counts().to_dict()
    resolved = season[season["resolved_at"].notna()]
    assert float(on_time) == pytest.approx((resolved["resolved_at"] <= resolved["sla_due_at"]).mean())
    assert reopens == orders["reopen_count"].sum() and notes == len(orders)
    reached = city["revisits"][city["revisits"]["reached"]]
    assert float(satisfaction) == pytest.approx(reached["satisfaction"].mean())
    assert "payment" in categories and next_id == orders["id"].max() + 1
