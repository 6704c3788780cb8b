"""Advice for the next 48 h: supply temperature per source, the pressure-holding plant's lift, and each
station's heat share — built around the twin's operating point and judged by the twin's physics.

``advise(twin, state, loads, ratios)``:

1. solves the twin at the state the network runs now (outdoor, supply temperatures, fixed-flow plants'
   flows, the forecast's first hour as the stations' heat) — the operating point;
2. linearises there: each station's source, delay and attenuation (``station_paths``), the heat loss per K
   of supply temperature (a second solve 5 K warmer), each source's pumping (flow, lift, the worst station's
   margin over its minimum differential pressure);
3. plans the supply temperatures (``twin.control.schedule.plan_supply``) for the forecast heat × share, heat
   lost and pump energy weighed by their prices (``twin.control.prices``);
4. sets the lift each hour to what the worst station needs at that hour's flow, and re-solves the twin at the
   horizon's heaviest hour with the advised temperature and lift: if a station's differential pressure falls
   under its minimum there, the lift is raised by what it lacks and checked again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.control.prices import EnergyPrices
from twin.control.schedule import PumpModel, Schedule, SourcePlan, plan_supply
from twin.control.transport import max_flow_t_h, station_paths
from twin.model import TwinDidNotConverge

DP_SAFETY_BAR = 0.3       # kept over the worst station's minimum differential pressure
LOSS_PROBE_K = 5.0
JUDGE_ROUNDS = 3


@dataclass
class OperatingState:
    """What the network runs now: outdoor °C, supply °C and flow t/h per source id."""
    at: pd.Timestamp
    outdoor_c: float
    t_supply_c: pd.Series
    flow_t_h: pd.Series


@dataclass
class Advice:
    """schedule: the LP's result; lift_bar: per hour of the horizon; ratios: per station heat share;
    setpoints: rows (valid_from, element_id, kind, value) as a plant takes them; judged: the twin's check
    at the heaviest hour (heat loss, pump power, stations under their minimum dp, the lift used)."""
    issued_at: pd.Timestamp
    schedule: Schedule
    lift_bar: pd.Series
    ratios: pd.Series
    setpoints: pd.DataFrame
    judged: dict = field(default_factory=dict)
    paths: pd.DataFrame | None = None


def loads_by_station(loads: pd.DataFrame) -> pd.DataFrame:
    """The forecast (issued_at, valid_at, element_id, load_mw …) as hours × stations (MW)."""
    rows = loads[loads["element_id"].astype(str).str.startswith("ST-")]
    frame = rows.pivot_table(index="valid_at", columns="element_id", values="load_mw", aggfunc="last")
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index, utc=True))
    return frame.sort_index()


def _solve_at(twin, state: OperatingState, heat_mw: pd.Series, t_supply_c: pd.Series, lift_bar: float | None):
    twin.set_outdoor(state.outdoor_c)
    frame = pd.DataFrame({"t_supply_c": t_supply_c, "flow_t_h": state.flow_t_h.reindex(t_supply_c.index)})
    # Always set the pressures: a judged solve at another lift must not carry over to the next.
    frame = _with_lift(twin, frame, lift_bar)
    twin.set_sources(frame)
    twin.set_station_demand(pd.DataFrame({"heat_mw": heat_mw}))
    return twin.solve()


def _base_pressures(twin) -> tuple[pd.Series, pd.Series, str]:
    sources = twin.network.sources.set_index(twin.network.sources["id"].astype(str))
    p_sup = pd.to_numeric(sources["p_flow_bar"], errors="coerce").fillna(12.0)
    lift = pd.to_numeric(sources["plift_bar"], errors="coerce").fillna(6.0)
    return p_sup, lift, str(sources.index[sources["role"].astype(str) == "pressure"][0])


def _with_lift(twin, frame: pd.DataFrame, lift_bar: float | None) -> pd.DataFrame:
    """Every source's supply pressure moved with the pressure-holding plant's lift (None: the design lift);
    returns kept."""
    p_sup, lift, main = _base_pressures(twin)
    shift = 0.0 if lift_bar is None else float(lift_bar) - float(lift[main])
    return frame.assign(p_supply_bar=(p_sup + shift).reindex(frame.index),
                        p_return_bar=(p_sup - lift).reindex(frame.index))


def _pump_models(twin, result, paths: pd.DataFrame) -> dict[str, PumpModel]:
    stations = result.stations
    min_dp = pd.Series(twin.min_dp_bar, index=twin.index.station_ids)
    margin = stations["dp_bar"] - min_dp
    out = {}
    for sid, row in result.sources.iterrows():
        lift0 = float(row["p_supply_bar"] - row["p_return_bar"])
        fed = paths.index[paths["source_id"] == sid]
        worst = margin.reindex(fed).idxmin() if len(fed) else margin.idxmin()
        friction0 = max(lift0 - float(stations.at[worst, "dp_bar"]), 0.0)
        out[str(sid)] = PumpModel(flow0_t_h=float(abs(row["flow_t_h"])), friction0_bar=friction0,
                                  margin_bar=float(min_dp[worst]) + DP_SAFETY_BAR)
    return out


def advise(twin, state: OperatingState, loads: pd.DataFrame, ratios: pd.Series | None = None, *,
           ramp_k_per_h: float = 5.0, prices: EnergyPrices | None = None) -> Advice:
    """The 48 h advice (see the module's note). ``loads``: the heat-load forecast frame; ``prices``: what heat
    lost and pumping cost (default: the settings')."""
    pump_weight = (prices or EnergyPrices.from_settings()).pump_weight
    design = twin.network.design
    heat = loads_by_station(loads)
    heat = heat[heat.index >= pd.Timestamp(state.at).floor("h")]
    ratios = (ratios if ratios is not None else pd.Series(dtype=float)).reindex(heat.columns).fillna(1.0)
    target = heat * ratios
    cap = pd.Series(twin.design_heat_w / 1e6 * twin.capacity_share, index=twin.index.station_ids)
    target = target.clip(upper=cap.reindex(target.columns), axis=1)
    t_now = state.t_supply_c.astype(float)
    base = _solve_at(twin, state, target.iloc[0], t_now, None)
    paths = station_paths(twin, base)
    loss_per_k = _loss_per_k(twin, state, target.iloc[0], t_now, base)
    share = base.sources["heat_mw"].clip(lower=0.0)
    share = share / share.sum()
    pumps = _pump_models(twin, base, paths)
    st = twin.network.stations.set_index(twin.network.stations["id"].astype(str))
    max_flow = pd.Series(max_flow_t_h(st["design_heat_mw"].astype(float), st["t_return_c"].astype(float),
                                      t_design_c=design.design_supply_c), index=st.index)
    plans = {sid: SourcePlan(t_now_c=float(t_now[sid]), t_min_c=float(design.min_supply_c),
                             t_max_c=float(design.max_supply_c), loss_mw_per_k=float(loss_per_k * share[sid]),
                             pump=pumps[sid], t_return_c=float(base.sources.at[sid, "t_return_c"]))
             for sid in t_now.index}
    schedule = plan_supply(paths, max_flow, target, plans, ramp_k_per_h=ramp_k_per_h, pump_weight=pump_weight)
    lift, judged = _lift_schedule(twin, state, schedule, target, plans, share)
    setpoints = _setpoints(schedule, lift, ratios, _base_pressures(twin)[2])
    return Advice(pd.Timestamp(state.at), schedule, lift, ratios, setpoints, judged, paths)


def _loss_per_k(twin, state, heat_mw: pd.Series, t_now: pd.Series, base) -> float:
    """The network's heat loss per K of supply temperature, MW/K: a solve LOSS_PROBE_K warmer (or colder, where
    the warmer one does not converge)."""
    for probe_k in (LOSS_PROBE_K, -LOSS_PROBE_K):
        try:
            probe = _solve_at(twin, state, heat_mw, t_now + probe_k, None)
        except TwinDidNotConverge:
            continue
        return (probe.summary["heat_loss_mw"] - base.summary["heat_loss_mw"]) / probe_k
    raise TwinDidNotConverge("the twin does not solve 5 K either side of the operating point")


def _lift_schedule(twin, state, schedule: Schedule, target: pd.DataFrame, plans: dict,
                   share: pd.Series) -> tuple[pd.Series, dict]:
    """The pressure-holding plant's lift per hour: the worst station's minimum (plus a margin) and the
    friction of that hour's flow; then the twin judges the heaviest hour and the lift rises if it must."""
    _, base_lift, main = _base_pressures(twin)
    total = target.sum(axis=1)
    flows = pd.DataFrame({s: plans[s].pump.flow_t_h(total * share[s], schedule.supply[s], plans[s].t_return_c)
                          for s in schedule.supply.columns}, index=target.index)
    flow0 = sum(plans[s].pump.flow0_t_h for s in flows.columns)
    q = flows.sum(axis=1) / max(flow0, 1e-6)
    pump = plans[main].pump
    top = float(base_lift[main]) * 1.2
    lift = pd.Series(pump.lift_bar(q * pump.flow0_t_h), index=target.index).clip(upper=top)
    heaviest = int(np.argmax(q.to_numpy()))
    extra, judged = 0.0, {}
    for _ in range(JUDGE_ROUNDS):
        at_lift = min(float(lift.iloc[heaviest]) + extra, top)
        try:
            result = _solve_at(twin, state, target.iloc[heaviest], schedule.supply.iloc[heaviest], at_lift)
        except TwinDidNotConverge as exc:
            judged = {"converged": False, "reason": exc.reason, "lift_bar": at_lift}
            extra += 1.0
            continue
        lacking = float((pd.Series(twin.min_dp_bar, index=twin.index.station_ids)
                         - result.stations["dp_bar"]).max())
        judged = {"converged": True, "valid_at": target.index[heaviest], "lift_bar": at_lift,
                  "heat_loss_mw": result.summary["heat_loss_mw"],
                  "stations_low_dp": int(result.summary["stations_low_dp"]), "pump_mw": _pump_power_mw(result)}
        if lacking <= 0:
            break
        extra += lacking + DP_SAFETY_BAR
    return (lift + extra).clip(upper=top), judged


def _pump_power_mw(result) -> float:
    s = result.sources
    lift_pa = (s["p_supply_bar"] - s["p_return_bar"]).clip(lower=0.0) * 1e5
    return float((s["flow_t_h"].abs() / 3600.0 * lift_pa).sum() / 0.75 / 1e6)


def _setpoints(schedule: Schedule, lift: pd.Series, ratios: pd.Series, main: str) -> pd.DataFrame:
    supply = schedule.supply.rename_axis("valid_from").reset_index().melt(
        id_vars="valid_from", var_name="element_id", value_name="value").assign(kind="t_supply_c")
    lifts = pd.DataFrame({"valid_from": lift.index, "element_id": main, "kind": "lift_bar", "value": lift.to_numpy()})
    first = schedule.supply.index[0]
    shares = pd.DataFrame({"valid_from": first, "element_id": ratios.index, "kind": "heat_ratio",
                           "value": ratios.to_numpy()})
    frame = pd.concat([supply, lifts, shares], ignore_index=True)
    frame["value"] = frame["value"].round(2)
    return frame[["valid_from", "element_id", "kind", "value"]]
