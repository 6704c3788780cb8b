"""Boundary conditions for one twin cycle, from a telemetry window — with every fallback listed.

A quantity comes from its reading when the window has one; otherwise from the last good value
the loop saw; otherwise from the design value (stations: the demand estimated from the outdoor
temperature, flagged as estimated). Each fallback is recorded so the run says what it assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from heattwin import units
from heattwin.clock import local_hour_of
from layers.network import Network
from twin.plant.control import DESIGN_OUTDOOR_C, fixed_flow_dispatch_t_h, station_heat_mw

DEFAULT_OUTDOOR_C = DESIGN_OUTDOOR_C + 7.0  # a typical heating-season day when nothing is known


@dataclass
class Boundary:
    at: pd.Timestamp
    outdoor_c: float
    sources: pd.DataFrame    # index source id: t_supply_c, p_supply_bar, p_return_bar, flow_t_h
    stations: pd.DataFrame   # index station id: heat_mw, t_return_c, estimated
    fallbacks: list[dict] = field(default_factory=list)

    def inputs(self) -> dict:
        """What the run used, compactly, for ``twin_run.inputs``."""
        return {
            "at": self.at.isoformat(),
            "outdoor_c": round(float(self.outdoor_c), 3),
            "sources": {sid: {k: (None if pd.isna(v) else round(float(v), 4)) for k, v in row.items()}
                        for sid, row in self.sources.iterrows()},
            "station_heat_mw": round(float(self.stations["heat_mw"].sum()), 4),
            "stations_estimated": int(self.stations["estimated"].sum()),
        }


class LastGood:
    """The last measured value of each (element, quantity), kept across cycles."""

    def __init__(self):
        self.values: dict[tuple[str, str], float] = {}

    def remember(self, frame: pd.DataFrame) -> None:
        for column in frame.columns:
            measured = frame[column].dropna()
            self.values.update({(eid, column): float(v) for eid, v in measured.items()})

    def lookup(self, ids, column: str) -> pd.Series:
        return pd.Series([self.values.get((i, column), np.nan) for i in ids], index=ids, dtype=float)


def readings_by_element(sensors: pd.DataFrame, means: pd.Series) -> pd.DataFrame:
    """Window means pivoted to one row per element and one column per sensor kind."""
    frame = pd.DataFrame({"element_id": sensors["element_id"].astype(str).to_numpy(),
                          "kind": sensors["kind"].astype(str).to_numpy(),
                          "value": means.reindex(sensors["id"].astype(str)).to_numpy(dtype=float)})
    frame = frame.dropna(subset=["value"])
    return frame.pivot_table(index="element_id", columns="kind", values="value", aggfunc="mean")


def _fill(measured: pd.Series, last_good: pd.Series, design: pd.Series, quantity: str,
          fallbacks: list, needed: pd.Series | None = None) -> pd.Series:
    """measured → last good → design, appending one fallback entry per element that fell back.

    ``needed`` marks the elements whose model needs the quantity; the others keep only readings.
    """
    needed = pd.Series(True, index=measured.index) if needed is None else needed
    value = measured.copy()
    use_last = value.isna() & last_good.notna() & needed
    value[use_last] = last_good[use_last]
    use_design = value.isna() & needed
    value[use_design] = design[use_design]
    for used, mask in (("last_good", use_last), ("design", use_design)):
        fallbacks.extend({"element_id": eid, "quantity": quantity, "reason": "no reading in window",
                          "used": used, "value": None if pd.isna(v) else round(float(v), 4)}
                         for eid, v in value[mask].items())
    return value


def _column(readings: pd.DataFrame, ids, kind: str) -> pd.Series:
    if kind not in readings.columns:
        return pd.Series(np.nan, index=ids, dtype=float)
    return readings[kind].reindex(ids).astype(float)


def _sources(network: Network, readings, last_good, fallbacks, stations: pd.DataFrame) -> pd.DataFrame:
    src = network.sources.set_index(network.sources["id"].astype(str))
    ids = src.index
    t_supply = _column(readings, ids, "t_supply").fillna(src["t_supply_c"].astype(float))
    # Without a flow reading a fixed-flow plant is assumed dispatched to the load, as the plant would be.
    load_ratio = stations["heat_mw"].sum() / network.stations["design_heat_mw"].astype(float).sum()
    design = {
        "t_supply_c": src["t_supply_c"].astype(float),
        "p_supply_bar": src["p_flow_bar"].astype(float),
        "p_return_bar": (src["p_flow_bar"] - src["plift_bar"]).astype(float),
        "flow_t_h": pd.Series(fixed_flow_dispatch_t_h(pd.to_numeric(src["flow_t_h"], errors="coerce"), load_ratio,
                                                      t_supply.mean(), stations["t_return_c"].mean()), index=ids),
    }
    kinds = {"t_supply_c": "t_supply", "p_supply_bar": "p_supply", "p_return_bar": "p_return", "flow_t_h": "flow"}
    # Which sources the model drives by each quantity (the rest are outputs of the solve).
    role = src["role"].astype(str)
    needed = {"t_supply_c": role == role, "p_supply_bar": role.isin(["pressure", "fixed_head"]),
              "p_return_bar": role.isin(["pressure", "fixed_head"]), "flow_t_h": role == "fixed_flow"}
    measured = pd.DataFrame({q: _column(readings, ids, k) for q, k in kinds.items()})
    last_good.remember(measured)
    return pd.DataFrame({q: _fill(measured[q], last_good.lookup(ids, q), design[q], q, fallbacks, needed[q])
                         for q in kinds})


def _measured_station_heat_mw(readings: pd.DataFrame, ids) -> pd.Series:
    """The heat meter's reading, else flow × cp × (supply − return) from the station's own sensors."""
    heat = _column(readings, ids, "heat")
    flow = units.t_h_to_kg_per_s(_column(readings, ids, "flow"))
    delta = _column(readings, ids, "t_supply") - _column(readings, ids, "t_return")
    from_flow = units.w_to_mw(units.heat_w(flow, delta))
    return heat.fillna(from_flow)


def _stations(network: Network, readings, last_good, fallbacks, outdoor_c: float, local_hour: float):
    st = network.stations.set_index(network.stations["id"].astype(str))
    ids = st.index
    measured = pd.DataFrame({"heat_mw": _measured_station_heat_mw(readings, ids),
                             "t_return_c": _column(readings, ids, "t_return")})
    last_good.remember(measured)
    estimate = pd.Series(station_heat_mw(st["design_heat_mw"].astype(float).to_numpy(), outdoor_c, local_hour,
                                         network.design), index=ids)
    heat = _fill(measured["heat_mw"], last_good.lookup(ids, "heat_mw"), estimate, "heat_mw", fallbacks)
    t_return = _fill(measured["t_return_c"], last_good.lookup(ids, "t_return_c"),
                     st["t_return_c"].astype(float), "t_return_c", fallbacks)
    estimated = measured["heat_mw"].isna() & last_good.lookup(ids, "heat_mw").isna()
    return pd.DataFrame({"heat_mw": heat, "t_return_c": t_return, "estimated": estimated})


def _outdoor(network: Network, readings, last_good, fallbacks) -> float:
    outdoor_ids = network.sensors.loc[network.sensors["kind"] == "outdoor_t", "element_id"].astype(str)
    values = _column(readings, outdoor_ids.unique(), "outdoor_t").dropna()
    if len(values):
        last_good.values[("weather", "outdoor_c")] = float(values.mean())
        return float(values.mean())
    value = last_good.values.get(("weather", "outdoor_c"))
    used = "last_good" if value is not None else "design"
    value = network.design.design_outdoor_c + (DEFAULT_OUTDOOR_C - DESIGN_OUTDOOR_C) if value is None else value
    fallbacks.append({"element_id": "weather", "quantity": "outdoor_c", "reason": "no reading in window",
                      "used": used, "value": value})
    return value


def boundary_from_readings(network: Network, means: pd.Series, *, at: pd.Timestamp, last_good: LastGood,
                           timezone: str | None = None) -> Boundary:
    """Boundary conditions at ``at`` from window means (sensor id → value); estimated station demand
    follows the hour of the day in ``timezone`` (default ``HEATTWIN_TIMEZONE``)."""
    readings = readings_by_element(network.sensors, means)
    fallbacks: list[dict] = []
    outdoor_c = _outdoor(network, readings, last_good, fallbacks)
    stations = _stations(network, readings, last_good, fallbacks, outdoor_c, local_hour_of(at, timezone))
    sources = _sources(network, readings, last_good, fallbacks, stations)
    return Boundary(at=at, outdoor_c=outdoor_c, sources=sources, stations=stations, fallbacks=fallbacks)
