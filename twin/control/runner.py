"""Advice from what the store holds: the network, the latest readings, the heat-load forecast as issued, the
room temperatures; stored as a proposed schedule (``store.control``). Nothing here reaches a plant."""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin.clock import local_hours
from store import control as control_store
from store import forecasts as forecast_store
from store import telemetry
from store.audit import SYSTEM, Actor
from store.households import list_households
from twin.control.advise import OperatingState, advise, loads_by_station
from twin.control.balance import meter_balance, meter_ratios, station_ratios
from twin.model import Twin
from twin.plant.control import station_heat_mw, supply_setpoint_c

HORIZON_H = 48
STATE_WINDOW_S = 3600.0
ROOM_WINDOW_S = 12 * 3600.0
METER_HISTORY_H = 7 * 24    # a station's usual gain: the median of the last week's hours


def _by_element(network, means: pd.DataFrame, kind: str, prefix: str) -> pd.Series:
    sensors = network.sensors[(network.sensors["kind"] == kind) & network.sensors["element_id"].str.startswith(prefix)]
    values = means.set_index("sensor_id")["value"]
    joined = sensors.assign(value=sensors["id"].map(values)).dropna(subset=["value"])
    return joined.groupby("element_id")["value"].mean()


def _loads(pool, at: pd.Timestamp, network) -> pd.DataFrame:
    stored = forecast_store.list_load_forecast(pool, issued_before=at.to_pydatetime())
    if len(stored) and pd.Timestamp(stored["issued_at"].max()) > at - pd.Timedelta(hours=6):
        return stored
    from twin.forecast.load import forecast_load

    return forecast_load(pool, issued_at=at, network=network)


def current_ratios(pool) -> pd.Series:
    """The station shares of the schedule the plant follows now (empty: none accepted)."""
    accepted = control_store.get_accepted(pool)
    if accepted is None:
        return pd.Series(dtype=float)
    points = accepted["setpoints"]
    shares = points[points["kind"] == "heat_ratio"].sort_values("valid_from")
    return shares.groupby("element_id")["value"].last()


def meter_gains(pool, network, at: pd.Timestamp, shares: pd.Series) -> tuple[pd.Series, list[str]]:
    """The stations' heat-meter gains over the last ``ROOM_WINDOW_S`` and those passing short of their usual
    (``twin.control.balance.meter_balance``), from the store's hourly means of the heat meters and the outdoor
    sensors over the last ``METER_HISTORY_H`` hours; empty when the store holds none."""
    sensors = network.sensors
    heat = sensors[(sensors["kind"] == "heat") & sensors["element_id"].str.startswith("ST-")].drop_duplicates("element_id")
    outdoor_ids = sensors.loc[sensors["kind"] == "outdoor_t", "id"].astype(str).tolist()
    start = at - pd.Timedelta(hours=METER_HISTORY_H)
    trend = telemetry.get_trend(pool, [*heat["id"].astype(str), *outdoor_ids], start.to_pydatetime(),
                                at.to_pydatetime(), resolution="1h")
    if trend.empty:
        return pd.Series(dtype=float), []
    hourly = trend.pivot_table(index="bucket", columns="sensor_id", values="avg")
    outdoor = hourly.reindex(columns=outdoor_ids).mean(axis=1)
    delivered = hourly.reindex(columns=heat["id"].astype(str)).set_axis(heat["element_id"].astype(str), axis=1)
    design_mw = network.stations.set_index("id")["design_heat_mw"].astype(float).reindex(delivered.columns)
    hours = local_hours(pd.DatetimeIndex(delivered.index), None)
    # Hours down, stations across: the degree-hour law broadcast over the whole week at once.
    due = pd.DataFrame(station_heat_mw(design_mw.to_numpy()[None, :], outdoor.to_numpy()[:, None], hours[:, None],
                                       network.design), index=delivered.index, columns=delivered.columns)
    return meter_balance(delivered, due, shares, recent_h=int(ROOM_WINDOW_S // 3600))


def _balance(pool, network, at: pd.Timestamp, outdoor_c: float, before: pd.Series) -> pd.DataFrame:
    """The stations' new shares: on their rooms where they have collectors, on their heat meters elsewhere;
    neither raises a station whose meter shows it passing short of its usual (valve open, exchanger full)."""
    rooms_window = telemetry.get_window_means(pool, end=at.to_pydatetime(), window_s=ROOM_WINDOW_S)
    households = list_households(pool, with_collector=True)
    room_means = rooms_window.set_index("sensor_id")["value"]
    rooms = pd.DataFrame({"household_id": households["id"], "station_id": households["station_id"],
                          "t_c": households["sensor_id"].map(room_means)})
    gains, limited = meter_gains(pool, network, at, before)
    balance = station_ratios(rooms, outdoor_c, before, limited=limited) if rooms["t_c"].notna().any() else \
        pd.DataFrame(columns=["ratio_before", "ratio"])
    blind = gains.index.difference(balance.index)
    if len(blind):
        by_meter = meter_ratios(gains[blind], before, limited=limited)
        balance = pd.concat([balance, pd.DataFrame({"ratio_before": before.reindex(blind).fillna(1.0),
                                                    "ratio": by_meter})])
    return balance


def plan_from_store(pool, *, at=None, network=None, actor: Actor = SYSTEM) -> int:
    """Plan the next 48 h from the store and keep it as a proposal; returns the schedule id.

    ``LookupError`` when there is no heat-load forecast to plan on (no model trained yet)."""
    from twin.sync import load_network

    at = (pd.Timestamp.now(tz="UTC") if at is None else pd.Timestamp(at)).floor("h")
    network = load_network(pool) if network is None else network
    loads = _loads(pool, at, network)
    means = telemetry.get_window_means(pool, end=at.to_pydatetime(), window_s=STATE_WINDOW_S)
    outdoor = _by_element(network, means, "outdoor_t", "")
    outdoor_c = float(outdoor.mean()) if len(outdoor) else 0.0
    curve_c = float(supply_setpoint_c(outdoor_c, network.design))
    sources = network.sources["id"].astype(str)
    t_supply = _by_element(network, means, "t_supply", "SRC-").reindex(sources).fillna(curve_c)
    flows = _by_element(network, means, "flow", "SRC-").reindex(sources)
    before = current_ratios(pool)
    balance = _balance(pool, network, at, outdoor_c, before)
    state = OperatingState(at, outdoor_c, t_supply, flows)
    advice = advise(Twin(network), state, loads, balance["ratio"] if len(balance) else None)
    return control_store.add_schedule(pool, issued_at=at, expires_at=at + pd.Timedelta(hours=HORIZON_H),
                                      setpoints=advice.setpoints, stations=balance.rename_axis("station_id"),
                                      summary=summary_of(advice, loads, network), actor=actor)


def summary_of(advice, loads: pd.DataFrame, network) -> dict:
    """What the page and the wall strip show of an advice, JSON-able: per hour the forecast load and band,
    the advised supply per source, the lift; the twin's check; how short the worst station is."""
    hours = advice.schedule.supply.index
    by_station = loads_by_station(loads).reindex(hours)
    band = loads[loads["element_id"].astype(str).str.startswith("ST-")].groupby("valid_at")[
        ["load_mw", "p10_mw", "p90_mw"]].sum() if {"p10_mw", "p90_mw"} <= set(loads.columns) else None
    hourly = {"valid_at": [h.isoformat() for h in hours],
              "load_mw": [round(float(v), 2) for v in by_station.sum(axis=1)],
              "supply_c": {s: [round(float(v), 2) for v in advice.schedule.supply[s]]
                           for s in advice.schedule.supply.columns},
              "lift_bar": [round(float(v), 3) for v in advice.lift_bar]}
    if band is not None:
        band.index = pd.DatetimeIndex(pd.to_datetime(band.index, utc=True))
        band = band.reindex(hours)
        hourly["p10_mw"] = [round(float(v), 2) for v in band["p10_mw"]]
        hourly["p90_mw"] = [round(float(v), 2) for v in band["p90_mw"]]
    shortfall = advice.schedule.shortfall_k
    judged = {k: (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in advice.judged.items()}
    return {"hourly": hourly, "judged": judged, "status": advice.schedule.status,
            "shortfall_k_max": round(float(shortfall.to_numpy().max()) if shortfall.size else 0.0, 2),
            "stations_short": int((shortfall.max() > 0.05).sum()) if shortfall.size else 0,
            "weather_fallback": bool(loads.attrs.get("weather_fallback", False)),
            "max_delay_h": round(float(np.nanmax(advice.paths["delay_h"])), 2) if advice.paths is not None else None}
