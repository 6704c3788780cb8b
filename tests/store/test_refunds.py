"""The refund ledger (测温退费) on crafted collector series: a cold spell, an offline collector, a suspended
household, a tampered collector — readings ingested through the store, the ledger computed by the rule from
the hourly rollups, stored and read back, reviewed with an audited note."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from heattwin.choices import refund_hour_kind_values, refund_state_values
from store import refunds
from store.assets import replace_network
from store.audit import Actor, list_audit_events
from store.telemetry import ingest_rows, refresh_rollups
from twin.refunds import load_rule, run_season, season_hours

TZ = "Asia/Shanghai"
START, END = date(2026, 11, 20), date(2026, 11, 23)   # a 4-day "season" (the dates are a setting)
SUPERVISOR = Actor("t-supervisor", role="supervisor")
AGENT = Actor("t-agent", role="agent")
# household -> (building, heating status, area m², own fee 元/m² or None)
HOMES = {"H-1": (1, "heating", 87.35, 28.60), "H-2": (1, "heating", 90.0, None), "H-3": (1, "heating", 70.0, None),
         "H-4": (1, "heating", 100.0, None), "H-5": (1, "heating", 80.0, None), "H-6": (2, "suspended", 95.0, None),
         "H-7": (3, "not_paying", 60.0, None)}
# A second community whose one building's readings all step down together (its riser drained for a repair).
TOGETHER = {"H-8": (1, "heating", 80.0, None), "H-9": (1, "heating", 80.0, None), "H-10": (1, "heating", 80.0, None)}
DRAINED = range(70, 80)
SPELL = {30: 19.0, 31: 18.0, 32: 17.0, **{h: 16.0 for h in range(33, 53)}, 53: 17.0, 54: 18.0, 55: 19.0}
COLD_HOURS = range(32, 54)           # under 18 °C: 22 hours, 16 on the season's 2nd day, 6 on its 3rd
OFFLINE = range(40, 60)              # H-2 sends nothing
SUSPENDED = range(10, 70)            # H-3's recorded 报停
TAMPERED = range(60, 80)             # H-4's collector put on a window sill: 12 °C, its neighbours at 20


def _series() -> pd.DataFrame:
    hours = season_hours(START, END, TZ)
    rows = []
    for home in (*HOMES, *TOGETHER):
        for k, at in enumerate(hours):
            t_c = 20.0 + 0.1 * np.sin(k / 5.0)
            if home in ("H-1", "H-2", "H-3", "H-7") and k in SPELL:
                t_c = SPELL[k]
            if home == "H-2" and k in OFFLINE:
                continue
            if home == "H-4" and k in TAMPERED:
                t_c = 12.0
            if home in TOGETHER and k in DRAINED:
                t_c = 13.0
            rows.append((at + pd.Timedelta(minutes=30), f"S-{home}-RT", round(t_c, 2)))
    return pd.DataFrame(rows, columns=["time", "sensor_id", "value"])


@pytest.fixture
def city(pool):
    point = {"type": "Point", "coordinates": [119.1, 36.7]}
    assets = [{"id": "ST-1", "kind": "station", "name": "一号站", "geometry": point, "lon": 119.1, "lat": 36.7,
               "attrs": {}},
              {"id": "C-1", "kind": "community", "name": "幸福小区", "geometry": point, "lon": 119.1, "lat": 36.7,
               "attrs": {}}]
    assets += [{"id": f"S-{h}-RT", "kind": "sensor", "name": "", "geometry": point, "lon": 119.1, "lat": 36.7,
                "attrs": {"element_id": "C-1", "kind": "room_t", "unit": "°C"}} for h in (*HOMES, *TOGETHER)]
    assets.append({**assets[1], "id": "C-2", "name": "阳光花园"})
    replace_network(pool, pd.DataFrame(assets), pd.DataFrame(columns=["kind", "name", "geometry"]), "test")
    with pool.connection() as conn:
        for community, homes in (("C-1", HOMES), ("C-2", TOGETHER)):
            for home, (building, status, area, fee) in homes.items():
                conn.execute("INSERT INTO household (id, community_id, station_id, name, address, building, area_m2,"
                             " heating_status, sensor_id, fee_yuan_per_m2) VALUES (%s, %s, 'ST-1', %s, %s, %s, %s,"
                             " %s, %s, %s)", (home, community, f"住户{home}", f"{community}-{building}号楼{home}",
                                              building, area, status, f"S-{home}-RT", fee))
    result = ingest_rows(pool, _series(), origin="test")
    assert result.rejected == 0
    hours = season_hours(START, END, TZ)
    refunds.add_suspension(pool, "H-3", start_at=hours[SUSPENDED[0]].to_pydatetime(),
                           end_at=hours[SUSPENDED[-1] + 1].to_pydatetime(), note="报停", actor=AGENT)
    return pool


def _ledger(pool, **rule):
    run = run_season(pool, start=START, end=END, actor=SUPERVISOR, rule=load_rule(**rule), timezone=TZ)
    entries = refunds.list_entries(pool, run["season_id"], owed_only=False).set_index("household_id")
    return run, entries


def test_a_cold_spell_counts_its_hours_and_the_days_with_enough_of_them(city):
    run, entries = _ledger(city)
    h1 = entries.loc["H-1"]
    assert (h1.cold_hours, h1.counted_hours, h1.offline_hours, h1.tampered_hours) == (22, 22, 0, 0)
    assert h1.days_under == 1 and h1.tamper_jumps == 0          # 16 h on day 2 (>= 12), 6 h on day 3
    owed = (Decimal("28.60") * Decimal("87.35") * 1 / 4).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal(str(h1.refund_yuan)) == owed == Decimal("624.55")
    entry = refunds.get_entry(city, run["season_id"], "H-1")
    counted = entry["spans"][entry["spans"]["kind"] == "counted"]
    hours = season_hours(START, END, TZ)
    assert counted["start_at"].tolist() == [hours[32]] and counted["hours"].tolist() == [22]
    assert counted["min_t_c"].iloc[0] == pytest.approx(16.0) and counted["mean_t_c"].iloc[0] == pytest.approx(354 / 22, abs=0.01)
    assert entry["days"][["counted_hours", "under"]].values.tolist() == [[16, True], [6, False]]
    # The neighbours who stayed warm while the building cooled slowly are not taken for tampering.
    assert entries.loc["H-5", "tamper_jumps"] == 0 and entries.loc["H-5", "counted_hours"] == 0


def test_the_day_and_the_minimum_are_settings(city):
    _, loose = _ledger(city, day_hours=6)
    assert loose.loc["H-1", "days_under"] == 2 and loose.loc["H-1", "refund_yuan"] == pytest.approx(1249.11)
    _, sixteen = _ledger(city, min_t_c=16.0)
    assert sixteen.loc["H-1", "counted_hours"] == 0 and sixteen.loc["H-1", "refund_yuan"] == 0


def test_an_offline_collector_counts_only_the_cold_hours_it_reported(city):
    run, entries = _ledger(city)
    h2 = entries.loc["H-2"]
    assert (h2.counted_hours, h2.offline_hours, h2.days_under, h2.refund_yuan) == (8, 20, 0, 0)
    spans = refunds.get_entry(city, run["season_id"], "H-2")["spans"]
    assert spans[["kind", "hours"]].values.tolist() == [["counted", 8], ["offline", 20]]
    assert spans["mean_t_c"].isna().tolist() == [False, True]


def test_a_suspended_household_is_left_out_for_its_period_or_the_whole_season(city):
    _, entries = _ledger(city)
    h3 = entries.loc["H-3"]
    assert (h3.cold_hours, h3.counted_hours, h3.suspended_hours, h3.refund_yuan) == (22, 0, 60, 0)
    h6 = entries.loc["H-6"]                   # status 'suspended', no period recorded: the whole season
    assert (h6.suspended_hours, h6.season_hours, h6.counted_hours) == (96, 96, 0)
    h7 = entries.loc["H-7"]                   # cut off for not paying, cold through the spell
    assert (h7.not_paying_hours, h7.counted_hours, h7.refund_yuan) == (96, 0, 0)


def test_a_collector_that_jumps_when_its_neighbours_do_not_is_flagged_and_its_hours_excluded(city):
    run, entries = _ledger(city)
    h4 = entries.loc["H-4"]
    assert (h4.cold_hours, h4.tampered_hours, h4.counted_hours, h4.tamper_jumps) == (20, 20, 0, 1)
    spans = refunds.get_entry(city, run["season_id"], "H-4")["spans"]
    hours = season_hours(START, END, TZ)
    assert spans[["kind", "start_at", "hours"]].values.tolist() == [["tampered", hours[60], 20]]
    assert run["summary"]["tampered_collectors"] == 1
    # A whole building stepping down together is the building's cold, not tampering: counted.
    for home in TOGETHER:
        assert (entries.loc[home, "tamper_jumps"], entries.loc[home, "counted_hours"]) == (0, len(DRAINED))


def test_the_rollups_give_the_same_ledger_as_the_raw_readings(city):
    _, before = _ledger(city)
    refresh_rollups(city)
    _, after = _ledger(city)
    columns = ["counted_hours", "offline_hours", "tampered_hours", "suspended_hours", "days_under", "refund_yuan"]
    pd.testing.assert_frame_equal(before[columns], after[columns])


def test_review_is_audited_and_a_rejection_needs_a_note(city):
    run, _ = _ledger(city)
    season = run["season_id"]
    with pytest.raises(ValueError, match="note"):
        refunds.update_entry(city, season, "H-1", state="rejected", note=" ", actor=SUPERVISOR)
    with pytest.raises(ValueError, match="nothing is owed"):
        refunds.update_entry(city, season, "H-5", state="approved", actor=SUPERVISOR)
    refunds.update_entry(city, season, "H-1", state="approved", note="核实无误", actor=SUPERVISOR)
    approved = refunds.list_entries(city, season, state="approved")
    assert approved["household_id"].tolist() == ["H-1"] and approved["note"].tolist() == ["核实无误"]
    events = list_audit_events(city, action="refund.review")
    assert events["object_id"].tolist() == [f"{season}/H-1"]
    assert events["before"].iloc[0]["state"] == "pending" and events["after"].iloc[0]["state"] == "approved"
    assert len(list_audit_events(city, action="refund.compute")) == 1
    assert refunds.get_season(city, season)["states"]["approved"]["refund_yuan"] == pytest.approx(624.55)


def test_a_bad_rule_setting_is_refused_by_name(tmp_path):
    path = tmp_path / "rule.yaml"
    path.write_text("min_t_c: 16\nday_hourz: 6\n", encoding="utf-8")
    with pytest.raises(ValueError, match="day_hourz"):
        load_rule(path)
    path.write_text("day_hours: 30\n", encoding="utf-8")
    with pytest.raises(ValueError, match="day_hours"):
        load_rule(path)
    path.write_text("min_t_c: 16\nseason_start: '10-15'\n", encoding="utf-8")
    rule = load_rule(path)
    assert rule.min_t_c == 16.0 and rule.season(2026) == (date(2026, 10, 15), date(2027, 3, 15))


def test_the_ledgers_value_lists_match_the_choices_module(pool):
    with pool.connection() as conn:
        checks = dict(conn.execute("SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
                                   " WHERE conrelid::regclass::text IN ('refund_entry', 'refund_span')"
                                   " AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%ANY%'").fetchall())
    assert all(f"'{v}'" in checks["refund_entry"] for v in refund_state_values)
    assert all(f"'{v}'" in checks["refund_span"] for v in refund_hour_kind_values)


def test_the_bench_plants_tampering_and_cold_spells_and_the_ledger_finds_them(pool, db_url):
    from scripts.bench_refunds import _own_city, bench_refund_season

    _own_city(pool, 240)
    figures = bench_refund_season(url=db_url, collectors=240, days=20)
    assert figures["collectors"] == 240 and figures["season_days"] == 20
    assert figures["readings"] > 0.95 * 240 * 20 * 24
    assert figures["refund_season_s"] > 0 and figures["bare_sql_s"] > 0
    assert figures["households_owed"] > 0 and figures["planted_cold_households"] > 0
    assert figures["planted_tampered_flagged"] == figures["planted_tampered"]
