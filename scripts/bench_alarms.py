"""``heattwin bench alarms``: what the dispatcher is presented over a simulated day, by the standards' counts.

The demo city (150 stations) in a fresh database, fed by the independent plant (``scripts.bench_plant``:
its own roughness, losses, demand and drifting or stuck meters, not the twin's) through the store and
the sync loop on simulated time, every rule on (household rooms included: that is where the flood came
from). Two days in one run, so the leak monitor has learned a day before the incidents:

- a normal day: mild weather, no fault;
- an incident day: a cold wave arriving at midnight, a leak on a supply main at 08:00 and a station
  whose exchanger fouls to a quarter of its capacity at 11:00.

Per day: ``presented_per_hour`` (mean and max, all consoles), ``flood_windows`` (10-minute windows with
more than 10 presented), ``standing_alarms`` (presented and open at the day's end), ``raw_alarm_rows``
(alarms raised or re-raised by the rules, before grouping: what the wall showed before) and
``priority_shares``; for each incident, how many alarms were presented in its region and how many
were grouped under its root cause. Targets (ISA-18.2 / EEMUA 191): normal day ≤ 6 an hour and no
flood; each incident one presented alarm with its consequences grouped; standing ≤ 10.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pandas as pd

from scripts.bench_leaks import BACKFILL, _Store
from scripts.bench_twin import _democity

log = logging.getLogger(__name__)
STEP = pd.Timedelta(minutes=5)          # plant step = loop interval = telemetry window
LEAK_AT_H, FOUL_AT_H = 8.0, 11.0
LEAK_SHARE = 0.04                       # of the circulating flow: a leak the monitor is built to catch
FOUL_SHARE = 0.25
COLD_WAVE_K = 9.0
HOURS = float(os.environ.get("HEATTWIN_BENCH_ALARM_HOURS", "24"))   # each day's length (a shorter smoke run)


def _weather(start: pd.Timestamp):
    from twin.plant.weather import ColdWave, SyntheticWeather

    origin = start.floor("D")
    wave_h = (start + pd.Timedelta(days=1) - origin).total_seconds() / 3600.0
    return SyntheticWeather(origin, seed=11, mean_c=-1.0, cold_waves=[ColdWave(wave_h, COLD_WAVE_K, 48.0)])


def _incidents(store: _Store, day2: pd.Timestamp, hours: float) -> list[dict]:
    """The incident day's faults, on elements the plant can carry them on."""
    from twin.plant.faults import make_fault

    network = store.network
    mains = network.pipes.sort_values("dn_mm", ascending=False)
    pipe = str(mains["id"].iloc[len(mains) // 10])
    circulating = float(store.plant.last_result.sources["flow_t_h"].sum())
    served = network.communities["station_id"].astype(str).value_counts()
    station = str(served.index[len(served) // 2])
    scale = min(1.0, hours / 24.0)     # a shorter smoke day keeps the incidents inside it
    leak_at, foul_at = (day2 + pd.Timedelta(hours=h * scale) for h in (LEAK_AT_H, FOUL_AT_H))
    store.plant.faults += [
        make_fault({"kind": "leak", "element_id": pipe, "start": leak_at.isoformat(), "side": "supply",
                    "rate_t_h": round(LEAK_SHARE * circulating, 1), "position": 0.5}, leak_at),
        make_fault({"kind": "fouling", "element_id": station, "start": foul_at.isoformat(),
                    "capacity_share": FOUL_SHARE}, foul_at)]
    return [{"kind": "leak", "element": pipe, "at": leak_at, "rate_t_h": round(LEAK_SHARE * circulating, 1)},
            {"kind": "station_fault", "element": station, "at": foul_at},
            {"kind": "cold_wave", "element": "weather", "at": day2, "depth_k": COLD_WAVE_K}]


def _day_figures(store: _Store, since: pd.Timestamp, until: pd.Timestamp) -> dict:
    from store import alarm_metrics

    annunciations = alarm_metrics.list_annunciations(store.pool, since=since, until=until)
    standing = alarm_metrics.list_standing(store.pool, at=until)
    figures = alarm_metrics.summary(annunciations, standing, since=since, until=until)
    figures["raw_alarm_rows"] = alarm_metrics.count_raw_raises(store.pool, since=since, until=until)
    figures["presented_by_cause"] = annunciations["cause"].value_counts().to_dict()
    figures["within_targets"] = alarm_metrics.within_targets(figures)
    return figures


def _incident_figures(store: _Store, incidents: list[dict], until: pd.Timestamp) -> list[dict]:
    """Per incident: the alarms presented about it (its element, and the stations it affects) after it
    began, and how many alarms were grouped under the root cause the wall showed."""
    from store import alarm_metrics
    from store.incidents import INCIDENT_COLUMNS

    network = store.network
    with store.pool.connection() as conn:
        rows = conn.execute("SELECT " + ", ".join(INCIDENT_COLUMNS) + " FROM incident").fetchall()
        grouped = dict(conn.execute("SELECT parent_id, count(*) FROM alarm WHERE parent_id IS NOT NULL"
                                    " GROUP BY 1").fetchall())
        leak_ids = [r[0] for r in conn.execute("SELECT id FROM alarm WHERE cause = 'leak'").fetchall()]
    opened = pd.DataFrame(rows, columns=list(INCIDENT_COLUMNS))
    host = pd.Series(network.sensors["element_id"].astype(str).to_numpy(), index=network.sensors["id"].astype(str))
    station_of = pd.Series(network.communities["station_id"].astype(str).to_numpy(),
                           index=network.communities["id"].astype(str))
    out = []
    for incident in incidents:
        if incident["kind"] == "cold_wave":
            continue
        shown = alarm_metrics.list_annunciations(store.pool, since=incident["at"], until=until)
        where = shown["asset_id"].map(host).fillna(shown["asset_id"])
        where = where.map(station_of).fillna(where)
        if incident["kind"] == "leak":
            mine = opened[opened["kind"] == "leak"]
            region = {s for stations in mine["stations"] for s in stations}
            related = shown[shown["cause"].eq("leak") | (where.isin(region) & shown["cause"].isin(
                ("station_dp_low", "station_t_supply_low", "compliance_low")))]
            roots = leak_ids
        else:
            region = {incident["element"]}
            related = shown[where.isin(region)]
            roots = related["alarm_id"].tolist()
        out.append({"kind": incident["kind"], "element": incident["element"],
                    "presented": int(related["alarm_id"].nunique()),
                    "presented_causes": sorted(set(related["cause"])),
                    "region_stations": len(region),
                    "grouped_under_root": int(sum(grouped.get(int(r), 0) for r in set(roots))),
                    "detected": bool(len(related))})
    return out


def _loop(store: _Store, start: pd.Timestamp, day2: pd.Timestamp, end: pd.Timestamp, on_day2=None):
    from twin.sync import SyncLoop

    at = start - BACKFILL
    while at < start:
        store.send(at, STEP)
        at += STEP
    loop = SyncLoop(store.pool, window_s=STEP.total_seconds(), network=store.network)
    armed = False
    while at < end:
        if not armed and at >= day2 - STEP and on_day2 is not None:
            on_day2()
            armed = True
        store.send(at, STEP)
        loop.step(at + pd.Timedelta(seconds=1))
        at += STEP
    return loop


def run(args) -> dict:
    logging.getLogger("pandapipes").setLevel(logging.WARNING)
    hours = 3.0 if args.quick else HOURS
    now = pd.Timestamp.now(tz="UTC").floor("D")
    start = now - pd.Timedelta(days=3) - pd.Timedelta(hours=8)       # local midnight (UTC+8)
    day2 = start + pd.Timedelta(hours=hours)
    with tempfile.TemporaryDirectory() as tmp:
        _, city_dir = _democity(150, Path(tmp))
        store = _Store("heattwin_bench_alarms", city_dir, seed=21, start=start)
        store.plant.weather = _weather(start)
        incidents: list[dict] = []

        def arm():
            incidents.extend(_incidents(store, day2, hours))
            log.info("incident day armed: %s", incidents)

        _loop(store, start, day2, day2 + pd.Timedelta(hours=hours), on_day2=arm)
        normal = _day_figures(store, start, day2)
        incident = _day_figures(store, day2, day2 + pd.Timedelta(hours=hours))
        per_incident = _incident_figures(store, incidents, day2 + pd.Timedelta(hours=hours))
        figures = {"hours_per_day": hours, "stations": int(len(store.network.stations)),
                   "presented_per_hour": {"normal": normal["presented_per_hour"],
                                          "incident": incident["presented_per_hour"]},
                   "flood_windows": {"normal": normal["flood_windows"], "incident": incident["flood_windows"]},
                   "standing_alarms": {"normal": normal["standing_alarms"], "incident": incident["standing_alarms"]},
                   "raw_alarm_rows": {"normal": normal["raw_alarm_rows"], "incident": incident["raw_alarm_rows"]},
                   "priority_shares": {"normal": normal["priority_shares"], "incident": incident["priority_shares"]},
                   "presented_by_cause": {"normal": normal["presented_by_cause"],
                                          "incident": incident["presented_by_cause"]},
                   "incidents": per_incident, "database": store.url,
                   "raw_over_presented": {
                       day: round(f["raw_alarm_rows"] / max(f["annunciations"], 1), 1)
                       for day, f in (("normal", normal), ("incident", incident))}}
        figures["targets_met"] = {"normal_rate": normal["presented_per_hour"]["mean"] <= 6,
                                  "normal_no_flood": normal["flood_windows"] == 0,
                                  "standing": max(normal["standing_alarms"], incident["standing_alarms"]) <= 10,
                                  "incidents_one_each": all(i["presented"] == 1 for i in per_incident)}
        store.close()
    return figures

