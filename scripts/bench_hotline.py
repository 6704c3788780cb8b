"""``heattwin bench hotline``: the agents' desk on the 3,400-station city (about 578,000 households), over real
HTTP against ``heattwin serve``, each agent logged in as themself.

- ``popup_p95_ms``: from the softphone's call event (``POST /api/v1/calls``) to the agent's poll answering
  with the caller's whole pop-up (household, 24 h room temperature, the station, incidents, tickets); p95 of 40.
- ``kb_search_p95_ms``: the knowledge-base search as the agent types (the hotline's Dash callback), p95 of 40.
- ``agents50_calls_per_s``: 50 agents at once, each taking calls end to end (call event → pop-up → order
  filed), for a minute; ``calls_acknowledged`` and ``calls_stored`` must agree (``calls_lost`` = 0).
- ``incident_link_ms``: a call from a household inside a known incident, linked to it as it is stored
  (median of 20 call events).

Targets: pop-up < 300 ms, search < 100 ms, nothing lost.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

from heattwin.settings import load_settings
from scripts import bench_server, wall_load
from store import cluster

BENCH_DB = "heattwin_bench_hotline"
AGENTS = 50
KB_QUERIES = ("不热", "报停", "发票", "退费", "暖气片漏水", "缴费", "室温标准", "开栓", "放气", "过户")


def _p95(values) -> float:
    return float(np.percentile(list(values), 95))


class Desk:
    """One agent's browser on /hotline: the poll, the search and the filing callbacks."""

    def __init__(self, base_url: str, session: requests.Session, deps: list[dict]):
        self.base_url, self.session = base_url, session
        def by_input(component: str) -> dict:
            return next(d for d in deps if any(i["id"] == component for i in d["inputs"]))

        self.deps = {"poll": by_input("hotline-poll"), "search": by_input("hotline-kb-query"),
                     "file": by_input("hotline-file")}

    def _post(self, dep: dict, values: dict, changed: str) -> dict:
        outputs = wall_load._outputs(dep["output"])
        body = {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
                "inputs": [{**i, "value": values.get(i["id"])} for i in dep["inputs"]],
                "state": [{**s, "value": values.get(s["id"])} for s in dep["state"]], "changedPropIds": [changed]}
        response = self.session.post(f"{self.base_url}/_dash-update-component", json=body, timeout=60)
        if response.status_code == 204:
            return {}
        response.raise_for_status()
        return response.json().get("response", {})

    def poll(self) -> dict | None:
        answer = self._post(self.deps["poll"], {"hotline-poll": 1, "hotline-lang": "zh-CN"},
                            "hotline-poll.n_intervals")
        return (answer.get("hotline-call") or {}).get("data")

    def search(self, text: str) -> None:
        self._post(self.deps["search"], {"hotline-kb-query": text, "hotline-category": None,
                                                              "hotline-lang": "zh-CN"}, "hotline-kb-query.value")

    def file(self, call: dict, household: str | None) -> dict:
        return self._post(self.deps["file"], {"hotline-file": 1, "hotline-call": call, "hotline-household": household,
                                              "hotline-category": "room_cold", "hotline-note": "室温偏低",
                                              "hotline-lang": "zh-CN"}, "hotline-file.n_clicks")


def _ring(base_url: str, token: str, phone: str, seat: str) -> dict:
    response = requests.post(f"{base_url}/api/v1/calls", json={"phone": phone, "seat": seat},
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)
    response.raise_for_status()
    return response.json()


def _popup_ms(desk: Desk, base_url: str, token: str, phones: list[str], seat: str) -> list[float]:
    times = []
    for phone in phones:
        started = time.perf_counter()
        _ring(base_url, token, phone, seat)
        call = desk.poll()
        times.append(1000.0 * (time.perf_counter() - started))
        if call is None:
            raise RuntimeError("the call event did not reach the agent's poll")
        desk.file(call, None)  # clear the desk for the next call
    return times


def _agents(base_url: str, token: str, logins: list[tuple[str, str]], phones: list[str], duration_s: float) -> dict:
    """Every agent taking calls end to end for ``duration_s``; what was acknowledged and what was done."""
    deps = wall_load.log_in(base_url, *logins[0]).get(f"{base_url}/_dash-dependencies", timeout=30).json()
    counts, errors, lock = {"acknowledged": 0, "filed": 0}, [], threading.Lock()
    until = time.monotonic() + duration_s

    def work(k: int, login: tuple[str, str]) -> None:
        desk = Desk(base_url, wall_load.log_in(base_url, *login), deps)
        n = 0
        while time.monotonic() < until:
            phone = phones[(k * 7919 + n) % len(phones)]
            n += 1
            try:
                _ring(base_url, token, phone, login[0])
                with lock:
                    counts["acknowledged"] += 1
                call = desk.poll()
                if call is not None:
                    desk.file(call, None)
                    with lock:
                        counts["filed"] += 1
            except requests.RequestException as exc:
                with lock:
                    errors.append(str(exc)[:200])

    threads = [threading.Thread(target=work, args=(k, login), daemon=True) for k, login in enumerate(logins)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {**counts, "elapsed_s": time.monotonic() - started, "errors": len(errors)}


def _incident_link_ms(base_url: str, token: str, phones: list[str]) -> float:
    times = []
    for phone in phones:
        started = time.perf_counter()
        answer = _ring(base_url, token, phone, "nobody")
        times.append(1000.0 * (time.perf_counter() - started))
        if answer["incident_id"] is None:
            raise RuntimeError("a call from inside the incident was not linked to it")
    return statistics.median(times)


def _setup(pool, agents: int) -> tuple[list[tuple[str, str]], str]:
    from store.tokens import add_token

    logins = [bench_server.bench_user(pool, "agent", username=f"bench-agent-{k:02d}") for k in range(agents)]
    return logins, add_token(pool, "bench-cti", actor=bench_server.BENCH_ACTOR)


def run(args) -> dict:
    from scripts.bench_wall import _load_city
    from store.db import close_pools, get_pool
    from store.incidents import add_isolation

    settings = load_settings()
    stations = 600 if args.quick else 3400
    with tempfile.TemporaryDirectory(prefix="heattwin-bench-hotline-") as tmp:
        url = cluster.recreate_database(cluster.database_url(settings), BENCH_DB)
        _load_city(url, stations, Path(tmp))
        pool = get_pool(url)
        with pool.connection() as conn:
            households = conn.execute("SELECT count(*) FROM household").fetchone()[0]
            phones = [r[0] for r in conn.execute("SELECT phone FROM household WHERE phone <> ''"
                                                 " ORDER BY md5(id) LIMIT 4000").fetchall()]
            station = conn.execute("SELECT station_id FROM household GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                                   ).fetchone()[0]
            inside = [r[0] for r in conn.execute("SELECT phone FROM household WHERE station_id = %s LIMIT 20",
                                                 (station,)).fetchall()]
        add_isolation(pool, pipe_id="P-BENCH", stations=[station], valves=[], actor=bench_server.BENCH_ACTOR)
        logins, token = _setup(pool, AGENTS)
        port = bench_server.free_port()
        server = bench_server.serve(url, port, Path(tmp) / "drawings")
        base_url = f"http://127.0.0.1:{port}"
        try:
            deps = wall_load.log_in(base_url, *logins[0]).get(f"{base_url}/_dash-dependencies", timeout=30).json()
            desk = Desk(base_url, wall_load.log_in(base_url, *logins[0]), deps)
            popup = _popup_ms(desk, base_url, token, phones[:40], logins[0][0])
            search = []
            for k in range(40):
                started = time.perf_counter()
                desk.search(KB_QUERIES[k % len(KB_QUERIES)])
                search.append(1000.0 * (time.perf_counter() - started))
            link_ms = _incident_link_ms(base_url, token, inside)
            load = _agents(base_url, token, logins, phones[40:], 20.0 if args.quick else 60.0)
        finally:
            server.terminate()
            server.wait(20)
        with pool.connection() as conn:
            stored = conn.execute("SELECT count(*) FROM call_event WHERE line = 'bench-cti'").fetchone()[0]
        close_pools()
    acknowledged = len(popup) + len(inside) + load["acknowledged"]
    return {"stations": stations, "households": households, "popup_p95_ms": _p95(popup),
            "popup_median_ms": statistics.median(popup), "kb_search_p95_ms": _p95(search),
            "kb_search_median_ms": statistics.median(search), "incident_link_ms": link_ms,
            "agents": AGENTS, "agents50_calls_per_s": load["filed"] / load["elapsed_s"],
            "calls_acknowledged": acknowledged, "calls_stored": stored, "calls_lost": acknowledged - stored,
            "load_errors": load["errors"]}
