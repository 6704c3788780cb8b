"""The assessment KPIs on a hand-built January: orders on time and late, one reopened after a dissatisfied
revisit, one cancelled, one answered on the call, one spanning the month's end, one filed in December and
resolved in January, a revisit owed only after the Spring Festival — every figure worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from psycopg.types.json import Jsonb

from store.calendar import WorkCalendar
from store.kpis import KPI, Period, categories_by_day, compute_kpis, heated_areas, kpi_table, order_facts
from store.work_orders.sla import compute_revisit_due
from store.work_orders.sla_policy import load_sla_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
JANUARY = Period.of("month", datetime(2026, 1, 15).date())


def L(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def _city(conn) -> None:
    version = conn.execute("INSERT INTO network_version (source_path) VALUES ('test') RETURNING id").fetchone()[0]
    for asset_id, kind, attrs in (("ST-1", "station", {}),
                                  ("C-1", "community", {"station_id": "ST-1", "heated_area_m2": 50_000.0}),
                                  ("C-2", "community", {"station_id": "ST-1", "heated_area_m2": 30_000.0})):
        conn.execute("INSERT INTO asset (id, kind, name, geometry, lon, lat, attrs, network_version)"
                     " VALUES (%s, %s, %s, %s, 119.1, 36.7, %s, %s)",
                     (asset_id, kind, asset_id, Jsonb({"type": "Point", "coordinates": [119.1, 36.7]}),
                      Jsonb(attrs), version))
    for team in ("T-A", "T-B"):
        conn.execute("INSERT INTO team (id, name) VALUES (%s, %s)", (team, team))
    for household, community in (("H-1", "C-1"), ("H-2", "C-2"), ("H-3", "C-2")):
        conn.execute("INSERT INTO household (id, community_id, station_id, area_m2) VALUES (%s, %s, 'ST-1', 80)",
                     (household, community))


def _order(conn, wo_id: int, created: datetime, moves: list[tuple[datetime, str]], *, household="H-1",
           category="room_cold", origin="hotline", team="T-A", reply=1.0, site=6.0, resolve=24.0,
           revisit: datetime | None = None, first_contact=False, revisits=()) -> None:
    """An order filed at ``created`` with its clocks (hours after filing; None: no clock) and its moves."""
    def due(hours):
        return None if hours is None else created + timedelta(hours=hours)

    conn.execute("INSERT INTO work_order (id, household_id, title, category, origin, team_id, created_at,"
                 " reply_due_at, site_due_at, sla_due_at, revisit_due_at, first_contact, state)"
                 " VALUES (%s, %s, 'test', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                 (wo_id, household, category, origin, team, created, due(reply), due(site), due(resolve), revisit,
                  first_contact, moves[-1][1] if moves else "new"))
    state = None
    for at, to_state in [(created, "new"), *moves]:
        conn.execute("INSERT INTO work_order_event (work_order_id, at, actor, from_state, to_state)"
                     " VALUES (%s, %s, 'test', %s, %s)", (wo_id, at, state, to_state))
        state = to_state
    for at, reached, satisfaction in revisits:
        conn.execute("INSERT INTO work_order_revisit (work_order_id, at, agent, reached, satisfaction, fixed)"
                     " VALUES (%s, %s, 'agent', %s, %s, %s)",
                     (wo_id, at, reached, satisfaction if reached else None, (satisfaction >= 3) if reached else None))


def _january(conn) -> None:
    _city(conn)
    # 1: on time all the way, satisfied; a repeat of order 6 (same household and category, 8 days before).
    _order(conn, 1, L(1, 5, 9), [(L(1, 5, 9, 20), "dispatched"), (L(1, 5, 9, 30), "accepted"),
                                 (L(1, 5, 11), "on_site"), (L(1, 5, 14), "resolved"), (L(1, 6, 10), "visited"),
                                 (L(1, 6, 11), "closed")],
           revisit=L(1, 8, 9), revisits=[(L(1, 6, 10), True, 5)])
    # 2: late reply, late arrival, late; dissatisfied revisit reopens it; the second round stands (still late).
    _order(conn, 2, L(1, 10, 8), [(L(1, 10, 9, 30), "dispatched"), (L(1, 10, 16), "on_site"),
                                  (L(1, 12, 8), "resolved"), (L(1, 12, 12), "reopened"), (L(1, 12, 13), "dispatched"),
                                  (L(1, 12, 15), "on_site"), (L(1, 12, 18), "resolved"), (L(1, 13, 10), "visited")],
           revisit=L(1, 14, 9), revisits=[(L(1, 12, 12), True, 2), (L(1, 13, 10), True, 4)])
    # 3: cancelled (a duplicate): in no figure, and not a prior complaint for order 5.
    _order(conn, 3, L(1, 15, 9), [(L(1, 15, 9, 10), "dispatched"), (L(1, 15, 10), "cancelled")],
           household="H-3", category="no_heat")
    # 4: an enquiry answered on the call (即时办), no team, no revisit owed.
    _order(conn, 4, L(1, 20, 10), [(L(1, 20, 10, 5), "resolved")], household="H-2", category="enquiry",
           team=None, site=None, first_contact=True)
    # 5: a 12345 ticket filed on the last evening: signed in January, on site and resolved in February.
    _order(conn, 5, L(1, 31, 20), [(L(1, 31, 20, 30), "dispatched"), (L(1, 31, 20, 40), "accepted"),
                                   (L(2, 1, 0, 30), "on_site"), (L(2, 1, 10), "resolved")],
           household="H-3", category="no_heat", origin="platform_12345")
    # 6: filed in December, resolved in January: December's order.
    _order(conn, 6, L(12, 28, 9, year=2025), [(L(12, 28, 10, year=2025), "dispatched"),
                                             (L(12, 28, 14, year=2025), "on_site"), (L(1, 2, 10), "resolved"),
                                             (L(1, 3, 10), "closed")])
    # 7: a leak from the app, replied late, nobody on site, resolve clock run out by the month's end.
    _order(conn, 7, L(1, 25, 9), [(L(1, 25, 10), "dispatched")], household="H-2", category="leak", origin="app",
           team="T-B", reply=0.5, site=2.0, resolve=12.0)
    # 8: equipment, on time; its call back did not get through and its revisit clock has run out.
    _order(conn, 9, L(1, 18, 9), [(L(1, 18, 9, 10), "dispatched"), (L(1, 18, 9, 15), "accepted"),
                                  (L(1, 18, 10), "on_site"), (L(1, 18, 12), "resolved")],
           household="H-3", category="equipment", team="T-B", revisit=L(1, 20, 12),
           revisits=[(L(1, 19, 10), False, None)])


@pytest.fixture
def january(pool):
    with pool.connection() as conn:
        _january(conn)
    return pool


def _ratio(row: dict, key: str) -> tuple[int, int]:
    return row[f"{key}_n"], row[f"{key}_of"]


def test_januarys_rates_count_what_was_decided_by_the_end_of_january(january):
    report = compute_kpis(january, JANUARY)
    row = report.company
    assert (row["orders"], row["cancelled"]) == (6, 1)
    assert _ratio(row, "on_time_signoff") == (4, 6)
    assert _ratio(row, "on_time_completion") == (3, 5)  # order 5's clock still ran on 31 January
    assert _ratio(row, "completion") == (4, 6)
    assert _ratio(row, "first_contact") == (1, 4)
    assert _ratio(row, "satisfaction") == (1, 2)  # order 2's first verdict stands after its reopening
    assert _ratio(row, "effective_revisit") == (2, 3)
    assert _ratio(row, "repeat_complaint") == (2, 6)  # 1 after December's 6, 2 after 1; not 5 after cancelled 3
    assert row["completion"] == pytest.approx(4 / 6)


def test_complaints_per_10000_square_metres_count_residents_heating_complaints(january):
    row = compute_kpis(january, JANUARY).company
    assert row["complaints"] == 5 and row["area_m2"] == 80_000.0  # the enquiry is not a complaint
    assert row["complaints_per_10k_m2"] == pytest.approx(5 / 8)


def test_times_to_reply_site_and_resolve_are_medians_and_p90s_of_what_happened_in_time(january):
    row = compute_kpis(january, JANUARY).company
    # reply (h): 1/12, 1/6, 1/3, 1/2, 1, 1.5; site: 1, 2, 8 (order 2's first arrival; 5's came in February)
    assert row["reply_median_h"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert row["reply_p90_h"] == pytest.approx(1.25)
    assert (row["site_median_h"], row["site_p90_h"]) == (pytest.approx(2.0), pytest.approx(6.8))
    # resolve: 1/12, 3, 5, 58 (order 2's second resolution)
    assert (row["resolve_median_h"], row["resolve_p90_h"]) == (pytest.approx(4.0), pytest.approx(42.1))


def test_the_groups_quantiles_are_pandas_own():
    import numpy as np
    import pandas as pd

    from store.kpis import _group_quantiles

    rng = np.random.default_rng(15)
    codes = rng.integers(0, 40, 3000)
    hours = np.round(rng.exponential(9.0, 3000), 1)  # ties, and NaN for orders not got there
    hours[rng.random(3000) < 0.3] = np.nan
    hours[codes == 7] = np.nan  # a group with nothing to count
    mine = _group_quantiles(codes, 41, hours, (0.5, 0.9))  # and group 40 with no orders
    for q in (0.5, 0.9):
        theirs = pd.Series(hours).groupby(codes).quantile(q).reindex(range(41)).to_numpy()
        np.testing.assert_array_equal(mine[q], theirs)


def test_per_team_station_and_community(january):
    report = compute_kpis(january, JANUARY)
    teams = report.groups["team"].set_index("group")
    assert _ratio(teams.loc["T-A"], "completion") == (2, 3) and _ratio(teams.loc["T-B"], "completion") == (1, 2)
    assert teams.loc["T-A", "complaints_per_10k_m2"] is None or teams["complaints_per_10k_m2"].isna().all()
    communities = report.groups["community"].set_index("group")
    assert communities.loc["C-1", "complaints_per_10k_m2"] == pytest.approx(2 / 5)
    assert communities.loc["C-2", "complaints_per_10k_m2"] == pytest.approx(3 / 3)
    stations = report.groups["station"].set_index("group")
    assert stations.loc["ST-1", "orders"] == 6 and stations.loc["ST-1", "complaints_per_10k_m2"] == pytest.approx(5 / 8)


def test_the_trend_is_against_december_read_at_decembers_end(january):
    report = compute_kpis(january, JANUARY)
    # December: order 6 alone, not completed by 31 December and past its due time.
    assert _ratio(report.previous, "completion") == (0, 1)
    assert _ratio(report.previous, "on_time_completion") == (0, 1)
    assert report.trend("completion") == pytest.approx(4 / 6)


def test_decembers_row_is_kept_until_a_late_event_or_a_change_to_its_orders_lands(january, monkeypatch):
    import store.kpis as kpis

    reads = []
    read = kpis.order_facts
    monkeypatch.setattr(kpis, "order_facts", lambda pool, period, **kw: reads.append(period.start) or read(
        pool, period, **kw))
    first = compute_kpis(january, JANUARY)
    assert _ratio(first.previous, "completion") == (0, 1) and first.previous["complaints"] == 1
    assert compute_kpis(january, JANUARY).previous == first.previous
    assert sorted(reads) == [JANUARY.previous().start, JANUARY.start, JANUARY.start]  # December read once, kept
    with january.connection() as conn:  # written now: order 6 had been resolved on 30 December
        conn.execute("INSERT INTO work_order_event (work_order_id, at, actor, from_state, to_state)"
                     " VALUES (6, %s, 'test', 'on_site', 'resolved')", (L(12, 30, 9, year=2025),))
    late = compute_kpis(january, JANUARY)
    assert _ratio(late.previous, "completion") == (1, 1)
    assert late.trend("completion") == pytest.approx(4 / 6 - 1)
    with january.connection() as conn:  # December's order was an enquiry, not a complaint
        conn.execute("UPDATE work_order SET category = 'enquiry' WHERE id = 6")
    assert compute_kpis(january, JANUARY).previous["complaints"] == 0
    assert reads.count(JANUARY.previous().start) == 3


def test_a_past_periods_figures_do_not_change_with_what_happens_later(january):
    before = compute_kpis(january, JANUARY).company
    with january.connection() as conn:  # February: order 7 is resolved at last
        conn.execute("INSERT INTO work_order_event (work_order_id, at, actor, from_state, to_state)"
                     " VALUES (7, %s, 'test', 'dispatched', 'resolved')", (L(2, 3, 9),))
    assert compute_kpis(january, JANUARY).company == before
    february_view = order_facts(january, JANUARY, as_of=L(2, 5, 0)).set_index("id")
    assert february_view.loc[7, "state"] == "resolved"


def test_the_residents_orders_per_local_day_and_category(january):
    with january.connection() as conn:  # 03:00 in Shanghai is the evening before in UTC
        _order(conn, 20, L(1, 6, 3), [(L(1, 6, 4), "dispatched")], household="H-2", category="no_heat")
    frame = categories_by_day(order_facts(january, JANUARY))
    assert list(frame.itertuples(index=False, name=None)) == [
        ("2026-01-05", "room_cold", 1), ("2026-01-06", "no_heat", 1), ("2026-01-10", "room_cold", 1),
        ("2026-01-18", "equipment", 1), ("2026-01-20", "enquiry", 1), ("2026-01-25", "leak", 1),
        ("2026-01-31", "no_heat", 1)]  # order 3 was cancelled


def test_a_revisit_due_after_the_spring_festival_is_not_yet_owed(pool):
    calendar, policy = WorkCalendar(), load_sla_policy()
    resolved = L(2, 13, 10)  # the Friday before the holiday (15–23 February 2026)
    due = compute_revisit_due(category="room_cold", priority="normal", resolved_at=resolved, calendar=calendar,
                              policy=policy)
    week = Period.of("week", resolved.date())
    assert week.end == L(2, 16, 0) and due > week.end  # two working days: 14 February and after the holiday
    assert resolved + timedelta(hours=48) < week.end  # counted in calendar hours it would have been owed
    with pool.connection() as conn:
        _city(conn)
        moves = [(L(2, 13, 8, 10), "dispatched"), (L(2, 13, 9), "on_site"), (resolved, "resolved")]
        _order(conn, 11, L(2, 13, 8), moves, revisit=due)
        _order(conn, 12, L(2, 13, 8), moves, revisit=resolved + timedelta(hours=24), household="H-2")
    row = kpi_table(order_facts(pool, week), heated_areas(pool)).iloc[0]
    assert _ratio(row, "effective_revisit") == (0, 1)


def test_every_kpi_has_its_definition_and_a_label():
    from app.i18n import t

    for kpi in KPI.values():
        assert len(kpi.doc) > 40, kpi.key
        for lang in ("zh-CN", "en"):
            assert t(f"kpi.{kpi.key}", lang) != f"kpi.{kpi.key}"
            assert t(f"kpi.{kpi.key}.doc", lang) != f"kpi.{kpi.key}.doc"


def test_a_cold_building_nobody_called_about_gets_an_inspection_order_once(pool):
    from datetime import UTC

    from store.audit import Actor, list_audit_events
    from store.proactive import list_cold_without_ticket, open_inspection
    from store.work_orders import add_work_order

    now = datetime.now(UTC)
    with pool.connection() as conn:
        _city(conn)
        version = conn.execute("SELECT max(id) FROM network_version").fetchone()[0]
        rooms = (("H-10", "C-1", 1, 16.0, "heating"), ("H-11", "C-1", 1, 17.0, "heating"),
                 ("H-12", "C-1", 2, 20.0, "heating"), ("H-13", "C-2", 1, 15.0, "suspended"),
                 ("H-14", "C-2", 3, 16.0, "heating"))
        for household, community, building, t_c, status in rooms:
            sensor = f"S-{household}-RT"
            conn.execute("INSERT INTO asset (id, kind, geometry, lon, lat, network_version) VALUES"
                         " (%s, 'sensor', '{}', 119.1, 36.7, %s)", (sensor, version))
            conn.execute("INSERT INTO sensor (id, element_id, kind, unit) VALUES (%s, %s, 'room_t', '°C')",
                         (sensor, community))
            conn.execute("INSERT INTO household (id, community_id, station_id, building, heating_status, sensor_id)"
                         " VALUES (%s, %s, 'ST-1', %s, %s, %s)", (household, community, building, status, sensor))
            for minutes in (5, 20, 40):
                conn.execute("INSERT INTO measurement (time, sensor_id, value) VALUES (%s, %s, %s)",
                             (now - timedelta(minutes=minutes), sensor, t_c))
    supervisor = Actor("t-supervisor", role="supervisor")
    add_work_order(pool, title="14 号住户不热", actor=supervisor, household_id="H-14", category="room_cold")
    cold = list_cold_without_ticket(pool, end=now)
    # C-1 building 1: both rooms cold; building 2 warm; H-13 suspended itself; H-14's building has a ticket.
    assert cold[["community_id", "building", "collectors", "cold"]].values.tolist() == [["C-1", 1, 2, 2]]
    assert cold["worst_c"].iloc[0] == pytest.approx(16.0) and cold["households"].iloc[0] == ["H-10", "H-11"]
    assert list_cold_without_ticket(pool, end=now, by="community")["community_id"].tolist() == ["C-1"]
    assert len(list_cold_without_ticket(pool, end=now, threshold_c=15.5)) == 0
    wo_id = open_inspection(pool, community_id="C-1", building=1, actor=supervisor, threshold_c=18.0, collectors=2,
                            cold=2, worst_c=16.0, day="2026-12-02")
    again = open_inspection(pool, community_id="C-1", building=1, actor=supervisor, threshold_c=18.0, collectors=2,
                            cold=2, worst_c=16.0, day="2026-12-02")
    assert again == wo_id
    with pool.connection() as conn:
        order = conn.execute("SELECT origin, category::text, asset_id, title FROM work_order WHERE id = %s",
                             (wo_id,)).fetchone()
    assert order[:3] == ("inspection", "room_cold", "C-1") and "未诉先办" in order[3]
    assert list_cold_without_ticket(pool, end=now).empty  # the inspection is the open ticket now
    assert str(wo_id) in list_audit_events(pool, action="work_order.create")["object_id"].tolist()
