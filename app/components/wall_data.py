"""What the wall reads, with the caching that keeps a refresh cheap.

- Geometry is built once per network version (``geometry(pool)``), never per refresh.
- Twin states/residuals are read once per twin run (a run changes every sync interval, the wall
  polls every few seconds).
- Telemetry functions come from ``store.telemetry`` when that module provides them; until then the
  callers get ``None`` and show "no data" — never an invented value.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import pandas as pd
import psycopg

from app import context
from layers import style
from store import alarms as store_alarms
from store import twin_runs
from store.assets import get_asset_rows, latest_network_version
from twin.alarm_rules import load_config

_LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_CACHE: dict = {}


@dataclass(frozen=True)
class Geometry:
    version: tuple  # (database, network version): caches never mix databases
    collections: dict
    order: dict
    assets: pd.DataFrame  # indexed by id: kind, name, lon, lat, attrs
    sensors: pd.DataFrame  # sensor_id, element_id, kind, unit
    valves_normally_open: pd.Series

    def counts(self) -> dict:
        return {layer: len(ids) for layer, ids in self.order.items()}

    # Lookups a click makes, built once per geometry: a scan of every sensor or valve per click was most of
    # a panel's time outside the store.
    @cached_property
    def sensors_by_element(self) -> dict[str, pd.DataFrame]:
        """Each element's sensors (rows of ``sensors``, in their order)."""
        return dict(tuple(self.sensors.groupby("element_id", sort=False)))

    @cached_property
    def _sensor_rows(self) -> pd.DataFrame:
        """One row per sensor id (the first of a repeated id), indexed by it."""
        return self.sensors.drop_duplicates("sensor_id").set_index("sensor_id")

    @cached_property
    def sensor_hosts(self) -> pd.Series:
        """The element each sensor sits on, for sensors whose element is drawn."""
        hosts = self._sensor_rows["element_id"]
        return hosts[hosts.isin(self.assets.index)]

    @cached_property
    def sensor_units(self) -> pd.Series:
        return self._sensor_rows["unit"]

    @cached_property
    def sensor_kinds(self) -> dict[str, str]:
        return self._sensor_rows["kind"].to_dict()

    @cached_property
    def valves(self) -> tuple[dict, dict]:
        """``(by_pipe, by_node)``: valve ids on each pipe and at each node, in the assets' order."""
        by_pipe, by_node = {}, {}
        valves = self.assets[self.assets["kind"] == "valve"]
        for valve_id, attrs in zip(valves.index, valves["attrs"], strict=True):
            attrs = attrs or {}
            by_pipe.setdefault(attrs.get("pipe_id"), []).append(valve_id)
            by_node.setdefault(attrs.get("node_id"), []).append(valve_id)
        return by_pipe, by_node


def _build_geometry(pool, version: int | None) -> Geometry:
    assets, basemap = get_asset_rows(pool)
    collections, order = style.feature_collections(assets, basemap)
    sensors = assets[assets["kind"] == "sensor"]
    sensor_frame = pd.DataFrame({
        "sensor_id": sensors["id"].to_numpy(),
        "element_id": [a.get("element_id") for a in sensors["attrs"]],
        "kind": [a.get("kind") for a in sensors["attrs"]],
        "unit": [a.get("unit") or "" for a in sensors["attrs"]],
    })
    valves = assets[assets["kind"] == "valve"]
    normally_open = pd.Series([bool(a.get("normally_open", True)) for a in valves["attrs"]],
                              index=valves["id"].to_numpy(), dtype=bool)
    table = assets[assets["kind"] != "sensor"].drop(columns=["geometry", "retired_at"]).set_index("id")
    return Geometry(version, collections, order, table, sensor_frame, normally_open)


LOOKUP_TTL_S = 1.0


def _recent(name: str, pool, compute):
    """``compute()`` asked at most once per ``LOOKUP_TTL_S`` per database: the network version and the latest
    twin run are read by every callback of every screen, and change every few seconds at the most."""
    now = time.monotonic()
    with _LOCK:
        cached = _CACHE.get(("recent", name, pool.conninfo))
    if cached is not None and now - cached[0] < LOOKUP_TTL_S:
        return cached[1]
    value = compute()
    with _LOCK:
        _CACHE[("recent", name, pool.conninfo)] = (now, value)
    return value


def geometry(pool) -> Geometry:
    """The wall's geometry for the current network version (built on first use, then cached)."""
    latest = _recent("network_version", pool, lambda: latest_network_version(pool))
    version = (pool.conninfo, latest["id"] if latest else None)
    with _LOCK:
        cached = _CACHE.get("geometry")
        if cached is not None and cached.version == version:
            return cached
    built = _build_geometry(pool, version)
    with _LOCK:
        _CACHE["geometry"] = built
    return built


def host_of(geo: Geometry, asset_id: str) -> str:
    """The element a click on ``asset_id`` opens: a sensor opens the element it sits on (a station, a
    source, a pipe), where the dispatcher can act; anything else opens itself."""
    if asset_id in geo.assets.index:
        return asset_id
    host = geo.sensor_hosts.get(asset_id)
    return asset_id if host is None else str(host)


def with_hosts(geo: Geometry, alarms: pd.DataFrame) -> pd.DataFrame:
    """``alarms`` with ``host_id`` and ``host_name``: the element each alarm's click opens, and its name."""
    host_id = alarms["asset_id"].map(geo.sensor_hosts).fillna(alarms["asset_id"])
    names = geo.assets["name"].reindex(host_id.to_numpy()).to_numpy()
    return with_units(geo, alarms.assign(host_id=host_id,
                                         host_name=pd.Series(names, index=alarms.index).fillna(host_id)))


def with_units(geo: Geometry, alarms: pd.DataFrame) -> pd.DataFrame:
    """``alarms`` whose ``details`` on a sensor carry the sensor's ``unit`` (a drift of "2.43" is read as
    "2.43 °C"); the rules store the numbers, the sensor's kind says what they are in."""
    if alarms.empty or "details" not in alarms.columns:
        return alarms
    units = alarms["asset_id"].map(geo.sensor_units)
    details = [({**(d or {}), "unit": u} if isinstance(u, str) and u and "unit" not in (d or {}) else d)
               for d, u in zip(alarms["details"], units, strict=True)]
    return alarms.assign(details=details)


def sensors_of(geo: Geometry, element_id: str) -> list[str]:
    sensors = geo.sensors_by_element.get(element_id)
    return [] if sensors is None else sensors["sensor_id"].tolist()


def warm(pool) -> None:
    """Build the geometry cache ahead of the first wall load (run in a thread at app start)."""
    try:
        geometry(pool)
    except psycopg.Error as exc:  # an empty or unmigrated store: the first page load will say so
        _LOG.info("wall geometry not built ahead: %s", exc)


def telemetry(name: str):
    """``store.telemetry.<name>`` if the telemetry store provides it yet, else None.

    The returned function answers None (shown as "no data") when the query fails, e.g. rollups not
    yet populated: a wall tile or panel must not go blank because one telemetry query did.
    """
    try:
        module = importlib.import_module("store.telemetry")
    except ImportError:
        return None
    func = getattr(module, name, None)
    if func is None:
        return None

    def guarded(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except psycopg.Error as exc:
            _LOG.warning("store.telemetry.%s failed, shown as no data: %s", name, exc)
            return None

    return guarded


def latest_run(pool) -> dict | None:
    return _recent("latest_run", pool, lambda: twin_runs.get_latest_run(pool))


def _run_results(pool, run: dict | None, geo: Geometry) -> tuple:
    """``(states, residuals, aligned, element_residuals)`` of a run, read and prepared once per run."""
    key = (pool.conninfo, None if run is None else run["id"], geo.version)
    with _LOCK:
        cached = _CACHE.get("run")
        if cached is not None and cached[0] == key:
            return cached[1]
    if run is None:
        states = pd.DataFrame(columns=list(twin_runs.STATE_COLUMNS))
        residuals = pd.DataFrame(columns=list(twin_runs.RESIDUAL_COLUMNS))
    else:
        states = twin_runs.get_run_states(pool, run["id"])
        residuals = twin_runs.get_run_residuals(pool, run["id"])
    prepared = (states, residuals, style.align_states(geo.order, states),
                style.element_residuals(residuals, geo.sensors))
    with _LOCK:
        _CACHE["run"] = (key, prepared)
    return prepared


def run_results(pool, run: dict | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(states, residuals)`` of a run (``twin_state`` and ``twin_residual`` rows)."""
    states, residuals, _, _ = _run_results(pool, run, geometry(pool))
    return states, residuals


@dataclass(frozen=True)
class RunLookup:
    """A run's states and residuals indexed for a click: the row of each element, the residual of each sensor."""
    states: pd.DataFrame
    state_row: dict          # element_id -> position in ``states`` (its first row)
    residual: dict           # sensor_id -> residual (its last row)

    def state_of(self, element_id: str) -> pd.Series | None:
        row = self.state_row.get(element_id)
        return None if row is None else self.states.iloc[row]


def run_lookup(pool) -> RunLookup:
    """The latest run's :class:`RunLookup`, built once per run (a click scanned every state and residual)."""
    run, geo = latest_run(pool), geometry(pool)
    states, residuals, _, _ = _run_results(pool, run, geo)
    key = (pool.conninfo, None if run is None else run["id"], geo.version)
    with _LOCK:
        cached = _CACHE.get("run_lookup")
        if cached is not None and cached[0] == key:
            return cached[1]
    rows = {}
    for position, element_id in enumerate(states["element_id"]):
        rows.setdefault(element_id, position)
    lookup = RunLookup(states, rows, dict(zip(residuals["sensor_id"], residuals["residual"], strict=True)))
    with _LOCK:
        _CACHE["run_lookup"] = (key, lookup)
    return lookup


def compliance_threshold_c() -> float:
    """The room temperature that counts as warm: the alarm rules' ``room_warn_c`` (``HEATTWIN_ALARM_RULES``),
    so the wall's compliance and the compliance alarms count the same rooms."""
    return load_config().room_warn_c


def compliance(pool) -> pd.DataFrame | None:
    """Room-temperature compliance per community over the telemetry window; None without telemetry."""
    get_compliance = telemetry("get_compliance")
    if get_compliance is None:
        return None
    window_s = context.settings().telemetry_window_s
    # A new value every 30 s, computed by one request while the others wait (a shared key per half minute).
    return shared("compliance", (pool.conninfo, int(time.time() // 30)),
                  lambda: get_compliance(pool, end=datetime.now(UTC), window_s=max(window_s, 900.0),
                                         threshold_c=compliance_threshold_c()))


_FLIGHTS: dict[str, threading.Lock] = {}


def shared(name: str, key, compute):
    """What every screen asks for at the same moment, computed once: the last value of ``name`` while its
    ``key`` holds, else ``compute()`` — by one request while the others wait for it (a wall of screens and
    browsers refreshing together would otherwise each redo the same work)."""
    with _LOCK:
        flight = _FLIGHTS.setdefault(name, threading.Lock())
    with flight:
        with _LOCK:
            cached = _CACHE.get(("shared", name))
        if cached is not None and cached[0] == key:
            return cached[1]
        value = compute()
        with _LOCK:
            _CACHE[("shared", name)] = (key, value)
        return value


def live_payload(pool, quantity: str) -> dict:
    """One refresh: compact arrays in feature order plus what identifies them (no geometry). The same for
    every screen until the twin run, the open alarms or the compliance change."""
    geo = geometry(pool)
    run = latest_run(pool)
    rooms = compliance(pool)
    key = (pool.conninfo, quantity, geo.version, None if run is None else run["id"],
           store_alarms.open_alarms_signature(pool, presented_only=True), id(rooms))

    def compute() -> dict:
        _, _, aligned, residuals = _run_results(pool, run, geo)
        open_alarms = store_alarms.list_open_alarms(pool, presented_only=True)
        arrays = style.live_arrays(
            geo.order, quantity=quantity, aligned=aligned, residuals=residuals,
            alarms=open_alarms[["asset_id", "cause", "severity"]], valves_normally_open=geo.valves_normally_open,
            compliance=rooms)
        return {"run_id": run["id"] if run else None, "version": geo.version[1], **arrays}

    return shared(f"live:{quantity}", key, compute)


def latest_readings(pool, sensor_ids: list[str]) -> pd.DataFrame | None:
    """``sensor_id, time, value`` of the newest reading of each sensor; None without telemetry."""
    get_latest = telemetry("get_latest")
    if get_latest is None or not sensor_ids:
        return None
    return get_latest(pool, sensor_ids=list(sensor_ids))


def element_trend(pool, element_id: str, hours: float = 24.0) -> pd.DataFrame | None:
    get_trend = telemetry("get_element_trend")
    if get_trend is None:
        return None
    end = datetime.now(UTC)
    return get_trend(pool, element_id, end - timedelta(hours=hours), end)


def age_s(when) -> float | None:
    if when is None or pd.isna(when):
        return None
    when = pd.Timestamp(when)
    if when.tzinfo is None:
        when = when.tz_localize("UTC")
    return (pd.Timestamp.now(tz="UTC") - when).total_seconds()


def reading_stale_s() -> float:
    """A reading older than this is shown as stale: two telemetry windows or three sync cycles."""
    settings = context.settings()
    return max(2.0 * settings.telemetry_window_s, 3.0 * settings.sync_interval_s)


def twin_stale_s() -> float:
    return 3.0 * context.settings().sync_interval_s
