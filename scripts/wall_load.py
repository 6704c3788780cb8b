"""Browsers on the wall, without the browser: logged-in HTTP sessions that post the wall's clocked Dash
callbacks the way the renderer does (the signatures the server sent come back as state, gzip accepted),
for ``heattwin bench wall``'s concurrent-client figures.
"""

from __future__ import annotations

import os
import re
import statistics
import threading
import time
from dataclasses import dataclass, field

import requests

# The wall's server callbacks on its clocks: (what it refreshes, the output it is found by, period in s).
WALL_CLOCKED = (("live", "wall-live.data", 5.0), ("alarms", "wall-alarms.data", 5.0),
                ("orders", "wall-orders.data", 5.0), ("kpis", "wall-kpis.children", 10.0))
# Inputs and states a wall at rest sends, by component id.
_VALUES = {"wall-quantity": "t_supply", "wall-lang": "zh-CN"}


@dataclass
class Sample:
    kind: str
    ms: float
    status: int
    wire_bytes: int


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile_ms(self, q: float, kind: str | None = None) -> float:
        values = sorted(s.ms for s in self.samples if kind is None or s.kind == kind)
        if not values:
            return float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def log_in(base_url: str, username: str, password: str) -> requests.Session:
    """A session logged in through the login form."""
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = session.post(f"{base_url}/login", data={"username": username, "password": password,
                                                         "csrf_token": token}, allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"bench login as {username} failed: HTTP {response.status_code}")
    return session


def _outputs(output: str) -> list[dict]:
    specs = output[2:-2].split("...") if output.startswith("..") else [output]
    return [{"id": spec.rsplit(".", 1)[0], "property": spec.rsplit(".", 1)[1].split("@")[0]} for spec in specs]


class WallBrowser:
    """One screen with the wall open: its clocked callbacks, state echoed back as the renderer does."""

    def __init__(self, base_url: str, session: requests.Session, dependencies: list[dict]):
        self.base_url, self.session = base_url, session
        self.store: dict[str, object] = {}
        self.callbacks = {}
        for kind, output_id, period_s in WALL_CLOCKED:
            dep = next(d for d in dependencies if output_id in d["output"])
            self.callbacks[kind] = (dep, period_s)
        self.ticks = 0

    def _value(self, dep: dict):
        component = dep["id"]
        if component.endswith("interval"):
            return self.ticks
        return self.store.get(component, _VALUES.get(component))

    def post(self, kind: str) -> Sample:
        dep, _ = self.callbacks[kind]
        outputs = _outputs(dep["output"])
        trigger = dep["inputs"][0]
        body = {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
                "inputs": [{**i, "value": self._value(i)} for i in dep["inputs"]],
                "state": [{**st, "value": self._value(st)} for st in dep["state"]],
                "changedPropIds": [f"{trigger['id']}.{trigger['property']}"]}
        started = time.perf_counter()
        response = self.session.post(f"{self.base_url}/_dash-update-component", json=body, timeout=60)
        ms = 1000.0 * (time.perf_counter() - started)
        if response.status_code == 200:
            for component, props in response.json().get("response", {}).items():
                self.store[component] = next(iter(props.values()))  # each store has one prop, ``data``
        wire = int(response.headers.get("Content-Length") or len(response.content))
        return Sample(kind, ms, response.status_code, wire)

    def run(self, until: float, result: LoadResult, lock: threading.Lock, offset_s: float) -> None:
        """Post each clocked callback on its own period until ``until`` (monotonic seconds)."""
        due = {kind: time.monotonic() + offset_s for kind in self.callbacks}
        while True:
            kind = min(due, key=due.get)
            wait = due[kind] - time.monotonic()
            if due[kind] > until:
                return
            if wait > 0:
                time.sleep(wait)
            self.ticks += 1
            try:
                sample = self.post(kind)
            except requests.RequestException as exc:
                with lock:
                    result.errors.append(f"{kind}: {exc}")
                sample = None
            if sample is not None:
                with lock:
                    result.samples.append(sample)
                    if sample.status not in (200, 204):
                        result.errors.append(f"{kind}: HTTP {sample.status}")
            due[kind] += self.callbacks[kind][1]


def run_load(base_url: str, sessions: list[requests.Session], duration_s: float) -> LoadResult:
    """Every session on the wall at once for ``duration_s``, their clocks spread over one period."""
    dependencies = sessions[0].get(f"{base_url}/_dash-dependencies", timeout=30).json()
    browsers = [WallBrowser(base_url, s, dependencies) for s in sessions]
    result, lock = LoadResult(), threading.Lock()
    until = time.monotonic() + duration_s
    period = min(p for _, _, p in WALL_CLOCKED)
    threads = [threading.Thread(target=b.run, args=(until, result, lock, period * k / len(browsers)), daemon=True)
               for k, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process (and its reaped children) has used, from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")
