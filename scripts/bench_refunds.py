"""``heattwin bench refunds``: the refund ledger (测温退费) of a whole heating season of 20,000 collectors.

A season (121 days, 2025-11-15 → 2026-03-15, Asia/Shanghai) of hourly room temperatures for every collector
— 58 million readings — goes into ``measurement`` by binary COPY in time order, as the collectors send them,
and the rollups are refreshed (``refresh_rollups``) as the sync loop's housekeeping keeps them. The series:
each room its own level and daily swing; whole buildings cooling slowly through cold spells (1–5 days);
collectors offline for 6–72 hours; collectors put on a window sill (a step down of 6–10 K for 1–7 days);
households suspended for part of the season (recorded periods) or all of it (their status). The refresh
also fills the collectors' days (``room_day``, what the season's read takes); ``room_days`` how many.

- ``refund_season_s``: ``twin.refunds.run_season`` — read the season's hourly means from the store, classify
  every household-hour, count the days, price the refunds and store the ledger with its spans and days
  (audited) — median of 3 runs (1 with ``--quick``); ``read_s``, ``compute_s``, ``write_s`` its parts.
- ``bare_sql_s``: what a competent user would write by hand in SQL for the same season: cold hours and
  days with >= 12 cold hours per household from ``measurement_1h``, without exclusions, tampering or
  spans — the floor; ``refund_over_bare_sql`` the ratio.
- ``planted_*``: how many planted tamperings the ledger flagged, and how many of the cold spells' households
  it owes a refund.

Target: a season's ledger < 60 s. ``bench_refund_season(url=…)`` runs it on an existing database that holds
households with collectors (``heattwin bench supervisor`` passes its own); without ``url`` it builds its own.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

import numpy as np
import pandas as pd

from heattwin.settings import load_settings
from store import cluster

BENCH_DB = "heattwin_bench_refunds"
COLLECTORS = 20_000
SEASON = (date(2025, 11, 15), date(2026, 3, 15))
TIMEZONE = "Asia/Shanghai"
PER_BUILDING = 4                      # collectors per building in the bench's own city
_PG_EPOCH_US = int(pd.Timestamp("2000-01-01", tz="UTC").value // 1000)


def _own_city(pool, collectors: int) -> None:
    """Communities of 60 collectors (15 buildings of 4), one station each, households with collectors."""
    from store.assets import replace_network

    point = {"type": "Point", "coordinates": [119.16, 36.71]}
    communities = max(1, collectors // 60)
    rows = [{"id": f"ST-{c:04d}", "kind": "station", "name": "", "geometry": point, "lon": 119.16, "lat": 36.71,
             "attrs": {}} for c in range(communities)]
    rows += [{"id": f"C-{c:04d}", "kind": "community", "name": f"小区{c}", "geometry": point, "lon": 119.16,
              "lat": 36.71, "attrs": {}} for c in range(communities)]
    homes = pd.DataFrame({"id": [f"H-{k:06d}" for k in range(collectors)]})
    homes["community"] = np.minimum(np.arange(collectors) // 60, communities - 1)
    homes["sensor_id"] = "S-" + homes["id"] + "-RT"
    rows += [{"id": s, "kind": "sensor", "name": "", "geometry": point, "lon": 119.16, "lat": 36.71,
              "attrs": {"element_id": f"C-{c:04d}", "kind": "room_t", "unit": "°C"}}
             for s, c in zip(homes["sensor_id"], homes["community"], strict=True)]
    replace_network(pool, pd.DataFrame(rows), pd.DataFrame(columns=["kind", "name", "geometry"]), "bench refunds")
    rng = np.random.default_rng(3)
    status = np.where(rng.random(collectors) < 0.01, "suspended", np.where(rng.random(collectors) < 0.01,
                                                                            "not_paying", "heating"))
    with pool.connection() as conn:
        with conn.cursor().copy("COPY household (id, community_id, station_id, address, building, area_m2,"
                                " heating_status, sensor_id) FROM STDIN") as copy:
            for k, row in enumerate(homes.itertuples(index=False)):
                copy.write_row((row.id, f"C-{row.community:04d}", f"ST-{row.community:04d}", f"小区{row.community}",
                                (k % 60) // PER_BUILDING + 1, round(float(rng.uniform(60, 140)), 1), status[k],
                                row.sensor_id))
        conn.commit()


def _series(homes: pd.DataFrame, hours: int, rng) -> tuple[np.ndarray, dict]:
    """Hourly room temperatures (collectors × hours, NaN where offline) and what was planted."""
    n = len(homes)
    k = np.arange(hours)
    level = rng.normal(20.4, 0.7, n)[:, None]
    swing = rng.uniform(0.2, 0.8, n)[:, None] * np.sin(2 * np.pi * ((k + 8) % 24) / 24)[None, :]
    t = (level + swing + rng.normal(0, 0.15, (n, hours))).astype(np.float32)
    building = pd.factorize(homes["community_id"].astype(str) + "/" + homes["building"].astype(str))[0]
    spell_buildings = np.flatnonzero(rng.random(building.max() + 1) < 0.12)
    cold = np.zeros(n, dtype=bool)
    for b in spell_buildings:        # a building cools over a day, stays cold, warms again over half a day
        start, length = rng.integers(0, hours - 150), rng.integers(24, 120)
        depth = rng.uniform(2.5, 5.0)
        shape = np.interp(k, [start, start + 20, start + 20 + length, start + 32 + length], [0, 1, 1, 0])
        members = building == b
        t[members] -= (depth * shape).astype(np.float32)
        cold |= members
    tampered = np.flatnonzero(rng.random(n) < 0.005)
    for r in tampered:
        start, length = rng.integers(24, hours - 200), rng.integers(24, 168)
        t[r, start:start + length] -= rng.uniform(6, 10)
    for r in np.flatnonzero(rng.random(n) < 0.03):
        start = rng.integers(0, hours - 80)
        t[r, start:start + rng.integers(6, 72)] = np.nan
    return t, {"cold_households": int(cold.sum()), "tampered": tampered}


def _copy_season(pool, sensors: list[str], t: np.ndarray, first_hour: pd.Timestamp) -> int:
    """Binary COPY into ``measurement``, one day (all collectors) at a time, readings 20 minutes past the hour."""
    width = len(sensors[0])
    if any(len(s) != width for s in sensors):
        raise ValueError("the bench's fast COPY needs sensor ids of one length")
    row = np.dtype([("fields", ">i2"), ("l0", ">i4"), ("time", ">i8"), ("l1", ">i4"), ("sensor", f"S{width}"),
                    ("l2", ">i4"), ("value", ">f8")])
    names = np.array(sensors, dtype=f"S{width}")
    start_us = int(first_hour.value // 1000) - _PG_EPOCH_US + 20 * 60 * 1_000_000
    written = 0
    with pool.connection() as conn:
        with conn.cursor().copy("COPY measurement (time, sensor_id, value) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)
            for day in range(0, t.shape[1], 24):
                block = t[:, day:day + 24].T            # hour-major: as the readings arrive
                hour_index, sensor_index = np.nonzero(~np.isnan(block))
                rows = np.empty(len(hour_index), dtype=row)
                rows["fields"], rows["l0"], rows["l1"], rows["l2"] = 3, 8, width, 8
                rows["time"] = start_us + (day + hour_index).astype(np.int64) * 3_600_000_000
                rows["sensor"] = names[sensor_index]
                rows["value"] = np.round(block[hour_index, sensor_index].astype(np.float64), 2)
                copy.write(rows.tobytes())
                written += len(rows)
            copy.write(b"\xff\xff")
        conn.commit()
    return written


_BARE = """
WITH days AS (
    SELECT sensor_id, (bucket AT TIME ZONE %(tz)s)::date AS day, count(*) FILTER (WHERE avg < 18) AS cold
    FROM measurement_1h WHERE bucket >= %(start)s AND bucket < %(end)s GROUP BY 1, 2
)
SELECT h.id, sum(d.cold), count(*) FILTER (WHERE d.cold >= 12)
FROM days d JOIN household h ON h.sensor_id = d.sensor_id GROUP BY h.id
"""


def bench_refund_season(url: str | None = None, *, collectors: int = COLLECTORS, quick: bool = False,
                        days: int | None = None) -> dict:
    """The season's ledger on ``url`` (its households with collectors, the first ``collectors``) or on a
    database of the bench's own; the figures of the module's text."""
    from scripts.actors import cli_actor
    from store.db import close_pools, get_pool
    from store.refunds import add_suspension, list_collector_households, list_entries
    from store.telemetry import refresh_rollups
    from twin.refunds import load_rule, run_season, season_hours

    start, end = SEASON
    if quick or days:
        end = date.fromordinal(start.toordinal() + (days or 30) - 1)
    if url is None:
        from store.migrate import migrate

        url = cluster.recreate_database(cluster.database_url(load_settings()), BENCH_DB)
        migrate(url)
        _own_city(get_pool(url), collectors)
    pool = get_pool(url)
    figures: dict = {}
    homes = list_collector_households(pool).iloc[:collectors]
    hours = season_hours(start, end, TIMEZONE)
    rng = np.random.default_rng(15)
    clock = time.perf_counter()
    t, planted = _series(homes, len(hours), rng)
    figures["readings"] = _copy_season(pool, homes["sensor_id"].tolist(), t, hours[0])
    del t
    figures["copy_s"] = time.perf_counter() - clock
    actor = cli_actor(pool, "household.suspend")
    for household in homes["household_id"].sample(frac=0.01, random_state=1):
        at = hours[int(rng.integers(0, len(hours) - 400))]
        add_suspension(pool, household, start_at=at.to_pydatetime(),
                       end_at=(at + pd.Timedelta(days=int(rng.integers(3, 15)))).to_pydatetime(), actor=actor)
    clock = time.perf_counter()
    figures["room_days"] = refresh_rollups(pool)["room_days"]
    with pool.connection() as conn:
        conn.execute("ANALYZE")
    figures["rollup_refresh_s"] = time.perf_counter() - clock
    runs = []
    for _ in range(1 if quick else 3):
        runs.append(run_season(pool, start=start, end=end, actor=cli_actor(pool, "refund.compute"), rule=load_rule(),
                               timezone=TIMEZONE))
    best = sorted(runs, key=lambda r: r["total_s"])[len(runs) // 2]
    bare = []
    for _ in range(1 if quick else 3):
        clock = time.perf_counter()
        with pool.connection() as conn:
            conn.execute(_BARE, {"tz": TIMEZONE, "start": hours[0].to_pydatetime(),
                                 "end": (hours[-1] + pd.Timedelta(hours=1)).to_pydatetime()}).fetchall()
        bare.append(time.perf_counter() - clock)
    entries = list_entries(pool, best["season_id"], owed_only=False).set_index("household_id")
    tampered_ids = homes["household_id"].to_numpy()[planted["tampered"]]
    flagged = entries.loc[entries.index.intersection(tampered_ids), "tamper_jumps"]
    refund_s = statistics.median(r["total_s"] for r in runs)
    figures.update({
        "collectors": len(homes), "season_days": best["summary"]["season_days"], "refund_season_s": refund_s,
        "read_s": best["read_s"], "compute_s": best["compute_s"], "write_s": best["write_s"],
        "bare_sql_s": statistics.median(bare), "refund_over_bare_sql": refund_s / statistics.median(bare),
        "households_owed": best["summary"]["refund_households"], "refund_yuan": best["summary"]["refund_yuan"],
        "tampered_flagged": best["summary"]["tampered_collectors"],
        "planted_tampered": len(tampered_ids), "planted_tampered_flagged": int((flagged > 0).sum()),
        "planted_cold_households": planted["cold_households"]})
    close_pools()
    return figures


def run(args) -> dict:
    return bench_refund_season(quick=args.quick, collectors=COLLECTORS // 8 if args.quick else COLLECTORS)
