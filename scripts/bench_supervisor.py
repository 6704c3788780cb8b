"""``heattwin bench supervisor``: the supervisor's dashboard on a season of 100,000 work orders and 20,000
room-temperature collectors, over real HTTP against ``heattwin serve``, logged in as a supervisor.

The season is the demo city's own (``data.democity``: filing, dispatch, arrival, resolution, revisits and
reopenings simulated order by order, every event and revisit stored), on a city of ~1,200 stations and
~200,000 households (10 % with a collector), with the calls per household raised so the season holds
100,000 orders; the collectors send the last hour of readings (so 未诉先办 and compliance have rooms to read).

- ``kpi_period_ms``: every tile, the per-team/station/community table, the charts and the rankings for the
  season's busiest month (one Dash request, as the page makes it), median of 5; ``kpi_store_ms`` the
  ``store.kpis.compute_kpis`` call alone; ``kpi_bare_sql_ms`` the company-wide rates as one hand-written SQL
  query over the same tables — the floor a competent analyst would reach for just those numbers.
- ``board_page_ms``: the first page (100 rows and the count) of the board filtered to one team's 室温不达标
  orders, median of 5 (the season is closed: none is overdue); ``board_unfiltered_ms`` the first page unfiltered.
- ``monthly_report_s``: the monthly bulletin made on demand (KPIs, Excel, PDF, stored), the click's response.
- ``refund_season_s``: ``scripts.bench_refunds.bench_refund_season`` (the refund ledger's own bench) when present.

Targets: tiles < 500 ms, board page < 300 ms, monthly report < 30 s, refund ledger for a season < 60 s.
"""

from __future__ import annotations

import importlib
import inspect
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from heattwin.settings import load_settings
from scripts import bench_server, wall_load
from scripts.bench_orders import _dash
from store import cluster

BENCH_DB = "heattwin_bench_supervisor"
SEASON_ORDERS = 100_000
COLLECTORS = 20_000
HOUSEHOLDS_PER_STATION = 170  # the demo city's households per station (25,500 for 150)
BUSIEST_MONTH = date(2026, 1, 15)


def _city(url: str, quick: bool, workdir: Path) -> dict:
    """The demo city sized for ``COLLECTORS`` collectors, its season raised to ``SEASON_ORDERS`` orders."""
    from data.democity import calls, generate_city
    from scripts.loading import load_city

    collectors = COLLECTORS // 8 if quick else COLLECTORS
    orders = SEASON_ORDERS // 8 if quick else SEASON_ORDERS
    households = collectors * 10
    stations = max(30, round(households / HOUSEHOLDS_PER_STATION))
    saved = calls.ORDERS_PER_HOUSEHOLD
    calls.ORDERS_PER_HOUSEHOLD = orders / households
    try:
        started = time.perf_counter()
        generate_city(workdir / "city", stations=stations, seed=7, drawings_dir=workdir / "drawings")
        load_city(url, workdir / "city")
    finally:
        calls.ORDERS_PER_HOUSEHOLD = saved
    return {"stations": stations, "city_build_s": time.perf_counter() - started}


def _room_readings(pool, rng) -> int:
    """The last hour of every collector's room temperature, 5-minute readings (a tenth of rooms cold)."""
    from store.telemetry import ingest_rows

    with pool.connection() as conn:
        sensors = [r[0] for r in conn.execute("SELECT sensor_id FROM household WHERE sensor_id IS NOT NULL")]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    level = np.where(rng.random(len(sensors)) < 0.1, rng.normal(16.8, 0.8, len(sensors)),
                     rng.normal(20.2, 0.9, len(sensors)))
    times = [now - timedelta(minutes=5 * k) for k in range(12)]
    frame = pd.DataFrame({"time": np.repeat(times, len(sensors)), "sensor_id": np.tile(sensors, len(times)),
                          "value": np.tile(level, len(times)) + rng.normal(0, 0.15, len(sensors) * len(times))})
    ingest_rows(pool, frame, "bench:room_t")
    return len(sensors)


def _bare_kpi_ms(url: str, repeat: int = 5) -> float:
    """Completion, on-time completion and satisfaction for the month as one query on the current columns."""
    import psycopg

    from store.kpis import Period

    period = Period.of("month", BUSIEST_MONTH)
    times = []
    with psycopg.connect(url) as conn:
        conn.execute("SET jit = off")
        for _ in range(repeat):
            started = time.perf_counter()
            conn.execute(
                "SELECT count(*) FILTER (WHERE state IN ('resolved', 'visited', 'closed')), count(*),"
                " count(*) FILTER (WHERE resolved_at <= sla_due_at), count(*) FILTER (WHERE sla_due_at IS NOT NULL),"
                " (SELECT count(*) FILTER (WHERE satisfaction >= 3) FROM work_order_revisit r JOIN work_order x"
                "  ON x.id = r.work_order_id WHERE x.created_at >= %(s)s AND x.created_at < %(e)s AND r.reached)"
                " FROM work_order WHERE created_at >= %(s)s AND created_at < %(e)s AND state <> 'cancelled'",
                {"s": period.start, "e": period.end}).fetchone()
            times.append(1000.0 * (time.perf_counter() - started))
    return statistics.median(times[1:])


def _kpis_http(session, base_url: str, deps: list[dict], repeat: int = 6) -> list[float]:
    times = []
    for _ in range(repeat):
        ms, body = _dash(session, base_url, deps, "sup-tiles.children",
                         {"sup-kind": "month", "sup-date": BUSIEST_MONTH.isoformat(), "sup-group": "team"},
                         {"sup-lang": "zh-CN"}, "sup-date.date")
        if len(body["response"]["sup-tiles"]["children"]) != 14:
            raise RuntimeError("the dashboard did not answer with its 14 tiles")
        times.append(ms)
    return times


def _board_http(session, base_url: str, deps: list[dict], states: dict, repeat: int = 6) -> tuple[list[float], int]:
    times, total = [], 0
    for _ in range(repeat):
        ms, body = _dash(session, base_url, deps, "sup-grid.getRowsResponse",
                         {"sup-grid": {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}},
                         {"sup-lang": "zh-CN", **states}, "sup-grid.getRowsRequest")
        total = body["response"]["sup-grid"]["getRowsResponse"]["rowCount"]
        times.append(ms)
    return times, total


def _monthly_http(session, base_url: str, deps: list[dict]) -> float:
    """The supervisor clicks 'make the monthly bulletin': the seconds until the made report is stored."""
    from heattwin.choices import report_kind_values

    dep = next(d for d in deps if any("sup-make-report" in str(i["id"]) for i in d["inputs"]))
    states = {"sup-date": BUSIEST_MONTH.isoformat(), "sup-lang": "zh-CN", "sup-reports-changed": 0}
    body = {"output": dep["output"], "outputs": wall_load._outputs(dep["output"]),
            "inputs": [[{"id": {"kind": kind, "type": "sup-make-report"}, "property": "n_clicks",
                         "value": int(kind == "monthly")} for kind in report_kind_values]],
            "state": [{**s, "value": states.get(s["id"])} for s in dep["state"]],
            "changedPropIds": ['{"kind":"monthly","type":"sup-make-report"}.n_clicks']}
    started = time.perf_counter()
    response = session.post(f"{base_url}/_dash-update-component", json=body, timeout=600)
    seconds = time.perf_counter() - started
    if response.status_code != 200 or "sup-reports-changed" not in response.text:
        raise RuntimeError(f"monthly report: HTTP {response.status_code} {response.text[:300]}")
    return seconds


def _refund_season(url: str, quick: bool) -> float | None:
    """The refund ledger's own bench, when it is there (``scripts.bench_refunds.bench_refund_season``)."""
    try:
        module = importlib.import_module("scripts.bench_refunds")
    except ModuleNotFoundError as exc:
        if exc.name != "scripts.bench_refunds":
            raise
        return None
    function = getattr(module, "bench_refund_season", None)
    if function is None:
        return None
    offered = {"url": url, "quick": quick, "collectors": COLLECTORS // 8 if quick else COLLECTORS}
    accepted = inspect.signature(function).parameters
    result = function(**{k: v for k, v in offered.items() if k in accepted})
    return float(result["refund_season_s"] if isinstance(result, dict) else result)


def run(args) -> dict:
    from store.db import close_pools, get_pool
    from store.kpis import Period, compute_kpis

    settings = load_settings()
    rng = np.random.default_rng(15)
    with tempfile.TemporaryDirectory(prefix="heattwin-bench-supervisor-") as tmp:
        url = cluster.recreate_database(cluster.database_url(settings), BENCH_DB)
        figures = _city(url, args.quick, Path(tmp))
        pool = get_pool(url)
        with pool.connection() as conn:
            figures["orders_in_store"] = conn.execute("SELECT count(*) FROM work_order").fetchone()[0]
            figures["events_in_store"] = conn.execute("SELECT count(*) FROM work_order_event").fetchone()[0]
            conn.execute("ANALYZE")
            team = conn.execute("SELECT team_id FROM work_order WHERE category = 'room_cold' AND team_id IS NOT NULL"
                                " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        figures["collectors"] = _room_readings(pool, rng)
        month = Period.of("month", BUSIEST_MONTH)
        store_ms = []
        for _ in range(4):
            started = time.perf_counter()
            report = compute_kpis(pool, month)
            store_ms.append(1000.0 * (time.perf_counter() - started))
        figures["month_orders"] = int(report.company["orders"] + report.company["cancelled"])
        supervisor = bench_server.bench_user(pool, "supervisor", username=f"bench-sup-{uuid.uuid4().hex[:6]}")
        port = bench_server.free_port()
        server = bench_server.serve(url, port, Path(tmp) / "drawings")
        base_url = f"http://127.0.0.1:{port}"
        try:
            desk = wall_load.log_in(base_url, *supervisor)
            deps = desk.get(f"{base_url}/_dash-dependencies", timeout=30).json()
            kpis = _kpis_http(desk, base_url, deps)
            # The season is over (every order closed): one team's 室温不达标 orders, the filter the test adds overdue to.
            filtered = {"sup-f-category": ["room_cold"], "sup-f-team": [team], "sup-f-overdue": []}
            board, board_total = _board_http(desk, base_url, deps, filtered)
            plain, _ = _board_http(desk, base_url, deps, {})
            monthly_s = _monthly_http(desk, base_url, deps)
        finally:
            server.terminate()
            server.wait(20)
        bare = _bare_kpi_ms(url)
        close_pools()
        refund_s = _refund_season(url, args.quick)
    kpi_ms = statistics.median(kpis[1:])
    figures.update({
        "kpi_period_ms": kpi_ms, "kpi_period_first_ms": kpis[0], "kpi_store_ms": statistics.median(store_ms[1:]),
        "kpi_bare_sql_ms": bare, "board_page_ms": statistics.median(board[1:]), "board_filtered_rows": board_total,
        "board_unfiltered_ms": statistics.median(plain[1:]), "monthly_report_s": monthly_s,
        "refund_season_s": refund_s})
    return figures
