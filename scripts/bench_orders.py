"""``heattwin bench orders``: the work-order desks on the 3,400-station city, over real HTTP against
``heattwin serve``, logged in as the users who do each thing.

- ``file_order_p95_ms``: a dispatcher files an order from the wall's form (the Dash callback), p95 of 30.
- ``board_100k_ms``: the first page (100 rows and the count) of the board with 100,000 orders in the
  store, median of 5 (``board_100k_first_ms`` the first, cold); ``board_bare_sql_ms`` the same page and
  count as one hand-written SQL query on the same indexes, the floor a competent user could reach, and
  ``board_over_bare_sql`` the ratio.
- ``crew_sync_p95_ms``: a crew phone's queued taps (accept, arrive, resolve) sent in one POST and applied,
  p95 of 20 batches.
- ``dispatch_suggest_ms``: the suggested teams for an order (store query and ranking), median of 20;
  ``order_detail_ms`` the order's whole panel on the board (history, clocks and the suggestion) over HTTP.

Targets: filing < 200 ms, board < 1 s, suggestion < 200 ms.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from heattwin.choices import work_order_category_values
from heattwin.settings import load_settings
from scripts import bench_server, wall_load
from store import cluster

BENCH_DB = "heattwin_bench_orders"
BOARD_ORDERS = 100_000


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def _history(pool, n: int, rng) -> int:
    """Fill the store up to ``n`` orders (closed history spread over two seasons), through COPY."""
    from store.assets import get_asset_rows
    from store.work_orders.core import copy_work_orders

    with pool.connection() as conn:
        have = conn.execute("SELECT count(*) FROM work_order").fetchone()[0]
        teams = [r[0] for r in conn.execute("SELECT id FROM team").fetchall()]
    missing = n - have
    if missing <= 0:
        return have
    assets, _ = get_asset_rows(pool)
    stations = assets[assets["kind"] == "station"]
    pick = stations.iloc[rng.integers(0, len(stations), missing)]
    created = pd.Timestamp.now(tz="UTC") - pd.to_timedelta(rng.uniform(1, 480, missing), unit="D")
    frame = pd.DataFrame({"asset_id": pick["id"].to_numpy(), "title": "历史工单", "origin": "hotline",
                          "category": rng.choice(work_order_category_values, missing), "priority": "normal",
                          "state": "closed", "team_id": rng.choice(teams, missing), "lon": pick["lon"].to_numpy(),
                          "lat": pick["lat"].to_numpy(), "created_at": created,
                          "sla_due_at": created + pd.Timedelta(hours=24),
                          "closed_at": created + pd.to_timedelta(rng.uniform(1, 30, missing), unit="h"),
                          "created_by": "history"})
    copy_work_orders(pool, frame)
    with pool.connection() as conn:
        conn.execute("ANALYZE work_order")
    return n


def _dash(session, base_url: str, dependencies: list[dict], output_part: str, inputs: dict, states: dict,
          changed: str) -> tuple[float, dict]:
    dep = next(d for d in dependencies if output_part in d["output"])
    outputs = wall_load._outputs(dep["output"])
    body = {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": [{**i, "value": inputs.get(i["id"])} for i in dep["inputs"]],
            "state": [{**s, "value": states.get(s["id"])} for s in dep["state"]], "changedPropIds": [changed]}
    started = time.perf_counter()
    response = session.post(f"{base_url}/_dash-update-component", json=body, timeout=60)
    ms = 1000.0 * (time.perf_counter() - started)
    if response.status_code != 200:
        raise RuntimeError(f"{output_part}: HTTP {response.status_code} {response.text[:300]}")
    return ms, response.json()


def _file_orders(session, base_url: str, deps: list[dict], station: str, n: int = 30) -> list[float]:
    times = []
    for k in range(n):
        ms, _ = _dash(session, base_url, deps, "wall-order-created.data",
                      {"wall-order-file": k + 1},
                      {"wall-selected": station, "wall-order-title": f"基准工单 {k}", "wall-order-category": "leak",
                       "wall-order-priority": "urgent", "wall-order-description": "bench",
                       "wall-order-key": uuid.uuid4().hex, "wall-lang": "zh-CN"}, "wall-order-file.n_clicks")
        times.append(ms)
    return times


def _board(session, base_url: str, deps: list[dict], repeat: int = 6) -> list[float]:
    times = []
    for _ in range(repeat):
        ms, body = _dash(session, base_url, deps, "orders-grid.getRowsResponse",
                         {"orders-grid": {"startRow": 0, "endRow": 100, "sortModel": [], "filterModel": {}}},
                         {"orders-lang": "zh-CN", "orders-overdue": []}, "orders-grid.getRowsRequest")
        assert body["response"]["orders-grid"]["getRowsResponse"]["rowCount"] >= BOARD_ORDERS
        times.append(ms)
    return times


def _bare_board_ms(url: str, repeat: int = 6) -> float:
    """The same first page and count as one query a competent user would write, on a plain connection."""
    import psycopg

    times = []
    with psycopg.connect(url) as conn:
        for _ in range(repeat):
            started = time.perf_counter()
            conn.execute("SELECT w.id, w.created_at, w.title, w.category, w.origin, w.priority, w.state, w.team_id,"
                         " t.name, w.asset_id, w.household_id, w.sla_due_at FROM work_order w"
                         " LEFT JOIN team t ON t.id = w.team_id ORDER BY w.created_at DESC, w.id DESC LIMIT 100"
                         ).fetchall()
            conn.execute("SELECT count(*) FROM work_order").fetchone()
            times.append(1000.0 * (time.perf_counter() - started))
    return statistics.median(times[1:])


def _dispatched_orders(pool, team: str, station: str, n: int) -> list[int]:
    from store.work_orders import add_work_order
    from store.work_orders.lifecycle import dispatch

    ids = []
    for k in range(n):
        wo_id = add_work_order(pool, title=f"班组同步 {k}", actor=bench_server.BENCH_ACTOR, asset_id=station,
                               category="room_cold")
        dispatch(pool, wo_id, team, actor=bench_server.BENCH_ACTOR)
        ids.append(wo_id)
    return ids


def _crew_sync(session, base_url: str, orders: list[int]) -> list[float]:
    times = []
    for wo_id in orders:
        taps = [{"key": uuid.uuid4().hex, "work_order_id": wo_id, "action": action, "payload": payload}
                for action, payload in (("accept", {}), ("arrive", {"lon": 119.1, "lat": 36.7}),
                                        ("resolve", {"cause": "户内阀门未开", "action": "开阀排气"}))]
        started = time.perf_counter()
        response = session.post(f"{base_url}/api/v1/field/actions", json={"actions": taps}, timeout=60)
        times.append(1000.0 * (time.perf_counter() - started))
        results = response.json()["results"]
        if not all(r["ok"] for r in results):
            raise RuntimeError(f"crew sync refused: {results}")
    return times


def _suggest_ms(pool, wo_id: int, repeat: int = 20) -> float:
    from store.work_orders.dispatch import suggest_teams

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        suggest_teams(pool, wo_id)
        times.append(1000.0 * (time.perf_counter() - started))
    return statistics.median(times)


def run(args) -> dict:
    from scripts.bench_wall import _load_city
    from store.db import close_pools, get_pool

    settings = load_settings()
    stations = 600 if args.quick else 3400
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory(prefix="heattwin-bench-orders-") as tmp:
        url = cluster.recreate_database(cluster.database_url(settings), BENCH_DB)
        _load_city(url, stations, Path(tmp))
        pool = get_pool(url)
        orders_in_store = _history(pool, BOARD_ORDERS, rng)
        with pool.connection() as conn:
            team = conn.execute("SELECT id FROM team ORDER BY id LIMIT 1").fetchone()[0]
            station = conn.execute("SELECT id FROM asset WHERE kind = 'station' ORDER BY id LIMIT 1").fetchone()[0]
        dispatcher = bench_server.bench_user(pool, "dispatcher")
        crew = bench_server.bench_user(pool, "crew", team_id=team)
        crew_orders = _dispatched_orders(pool, team, station, 20)
        port = bench_server.free_port()
        server = bench_server.serve(url, port, Path(tmp) / "drawings")
        base_url = f"http://127.0.0.1:{port}"
        try:
            desk = wall_load.log_in(base_url, *dispatcher)
            deps = desk.get(f"{base_url}/_dash-dependencies", timeout=30).json()
            filing = _file_orders(desk, base_url, deps, station)
            board = _board(desk, base_url, deps)
            detail_ms = [_dash(desk, base_url, deps, "orders-detail.children", {"orders-selected": crew_orders[0]},
                               {"orders-lang": "zh-CN"}, "orders-selected.data")[0] for _ in range(5)]
            phone = wall_load.log_in(base_url, *crew)
            crew_ms = _crew_sync(phone, base_url, crew_orders)
        finally:
            server.terminate()
            server.wait(20)
        bare = _bare_board_ms(url)
        suggest = _suggest_ms(pool, crew_orders[0])
        close_pools()
    board_ms = statistics.median(board[1:])
    return {"stations": stations, "orders_in_store": orders_in_store,
            "file_order_p95_ms": _p95(filing), "file_order_median_ms": statistics.median(filing),
            "board_100k_ms": board_ms, "board_100k_first_ms": board[0], "board_bare_sql_ms": bare,
            "board_over_bare_sql": board_ms / bare if bare else float("nan"),
            "crew_sync_p95_ms": _p95(crew_ms), "crew_sync_median_ms": statistics.median(crew_ms),
            "dispatch_suggest_ms": suggest, "order_detail_ms": statistics.median(detail_ms)}
