"""Server side of the /scenarios page: one ScenarioRunner per worker and network version, runs,
results kept for export, colours for the map, and the N-1 sweep started in a thread."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict

import numpy as np
import pandas as pd

from app.components import wall_data
from layers import style
from store import assets as asset_store
from store import twin_runs
from twin.scenarios import LiveBase, ScenarioRunner, scenario_from_dict

# Δ of the map: blue (fell) through dark grey (unchanged, quiet on the dark map) to red (rose); the
# range follows the run (its 95th-percentile change, a nice number), never under a quantity's floor.
_DELTA = ("#2166ac", "#4393c3", "#92c5de", "#3a4556", "#f4a582", "#d6604d", "#b2182b")
DELTA_FLOOR = {"d_p_supply_bar": ("bar", 0.02, "scenario.d_p"), "d_t_supply_c": ("K", 0.5, "scenario.d_t"),
               "d_flow_t_h": ("t/h", 5.0, "scenario.d_flow")}
_NICE = np.array([1.0, 2.0, 2.5, 5.0, 10.0])


def delta_scale(quantity: str, values) -> style.Scale:
    unit, floor, label = DELTA_FLOOR[quantity]
    values = np.abs(np.asarray(values, dtype=float))
    values = values[np.isfinite(values)]
    top = max(float(np.percentile(values, 95)) if len(values) else 0.0, floor)
    magnitude = 10.0 ** np.floor(np.log10(top))
    nice = float(_NICE[np.searchsorted(_NICE, top / magnitude - 1e-9)] * magnitude)
    return style.Scale(quantity, quantity, unit, -nice, nice, 1, _DELTA, label)


CRITICAL_SCALE = style.Scale("n1", "heat_not_delivered_mw", "MW", 0.0, 30.0, 100,
                             ("#1b2a3d", "#3d5a80", "#f9d057", "#f29e2e", "#e76818", "#d7191c"), "scenario.n1")
CUT_OFF = "#111318"
STATION_FLAG_COLOURS = (("cut_off", "#ff2d55"), ("low_p", "#bf5af2"), ("low_dp", "#ff9f0a"),
                        ("low_t", "#64d2ff"), ("unmet", "#ffd60a"))
STATION_OK = "#30d158"
KEPT_RESULTS = 16
# The changes the page offers for a selected element, by id prefix ("outdoor" needs none), and the
# parameter its value box sets, with the value it starts at.
KINDS_BY_PREFIX = {"P-": ["pipe_break", "pipe_leak"], "V-": ["valve_close", "valve_open"],
                   "SRC-": ["source_out", "source_derate", "source_t_supply", "source_pressure"],
                   "ST-": ["station_demand", "station_fouling"], "N-": ["new_station"]}
VALUE_PARAM = {"pipe_leak": ("rate_t_h", 50.0), "source_derate": ("share", 0.7),
               "source_t_supply": ("t_supply_c", 100.0), "source_pressure": ("p_supply_bar", 13.0),
               "station_demand": ("heat_mw", 5.0), "station_fouling": ("capacity_share", 0.6),
               "new_station": ("heat_mw", 6.0), "outdoor": ("t_c", -20.0)}

_LOCK = threading.Lock()
_STATE: dict = {"runner": None, "key": None, "results": OrderedDict(), "sweep": None}


def _live(pool) -> LiveBase | None:
    run = twin_runs.get_latest_run(pool)
    return None if run is None else LiveBase.from_run(run, twin_runs.get_run_states(pool, run["id"]))


def runner(pool) -> ScenarioRunner:
    """This worker's runner for the store's current network, its live base refreshed."""
    version = asset_store.latest_network_version(pool)
    key = (pool.conninfo, version["id"] if version else None)
    if _STATE["key"] != key:
        from twin.sync import load_network  # the network with its own design conditions

        _STATE["runner"], _STATE["key"] = ScenarioRunner(load_network(pool)), key
    _STATE["runner"].live = _live(pool)
    return _STATE["runner"]


def run(pool, spec: dict):
    """Run a scenario dict; returns (token, result). One run at a time per worker: the twin is shared."""
    with _LOCK:
        result = runner(pool).run(scenario_from_dict(spec))
        token = uuid.uuid4().hex
        results = _STATE["results"]
        results[token] = result
        while len(results) > KEPT_RESULTS:
            results.popitem(last=False)
    return token, result


def kept_result(token: str | None):
    return _STATE["results"].get(token) if token else None


def network(pool):
    with _LOCK:
        return runner(pool).network


def _colours(values, scale) -> list:
    index = style.colour_index(values, scale)
    colours = np.array(style.palette(scale), dtype=object)[np.maximum(index, 0)]
    return np.where(index >= 0, colours, None).tolist()


def pipe_colours(pipes: pd.DataFrame, quantity: str, order: list[str]) -> list:
    """Colour per pipe feature (in the map's order) for a Δ quantity; dry pipes near black."""
    frame = pipes.reindex(order)
    colours = np.array(_colours(frame[quantity].to_numpy(dtype=float), delta_scale(quantity, frame[quantity])),
                       dtype=object)
    colours[(frame["status"] == "cut_off").to_numpy()] = CUT_OFF
    return colours.tolist()


def station_colours(stations: pd.DataFrame, order: list[str]) -> list:
    frame = stations.reindex(order)
    colours = np.full(len(frame), STATION_OK, dtype=object)
    for flag, colour in reversed(STATION_FLAG_COLOURS):  # the first flag in the list wins
        colours[frame[flag].fillna(False).to_numpy(dtype=bool) & frame["affected"].fillna(False).to_numpy(bool)] = colour
    return colours.tolist()


def ranking_colours(ranking: pd.DataFrame, order: list[str]) -> list:
    values = ranking.set_index("element_id")["heat_not_delivered_mw"].reindex(order).to_numpy(dtype=float)
    return _colours(values, CRITICAL_SCALE)


def geometry(pool):
    return wall_data.geometry(pool)


def start_sweep(pool, *, actor, workers: int = 2, limit: int | None = None) -> bool:
    """Start the N-1 sweep in a thread (one at a time per worker); False if one is running."""
    from twin.scenarios.sweep import run_stored_sweep

    current = _STATE["sweep"]
    if current is not None and current.is_alive():
        return False
    net = network(pool)
    pipe_ids = net.pipes["id"].astype(str).tolist()[:limit] if limit else None

    def work():
        try:
            run_stored_sweep(net, pool, actor=actor, pipe_ids=pipe_ids, workers=workers)
        except Exception:  # stored as failed by run_stored_sweep; the page shows it
            pass

    thread = threading.Thread(target=work, name="n1-sweep", daemon=True)
    _STATE["sweep"] = thread
    thread.start()
    return True
