"""The hourly supply-temperature schedule per source: a linear programme around the twin's operating point.

Decision: ``T[k, h]``, the supply temperature source k sets at hour h of the horizon (°C; linear between
hours). A station i fed by k feels ``t_soil + a_i (T_k(t − τ_i) − t_soil)`` (``twin.control.transport``) and
must pass its target heat ``Q_i(t)`` with its valve at most wide open:

    t_soil + a_i (T_k(t − τ_i) − t_soil) + s_i(t) ≥ t_return_i + Q_i(t) / (cp · safety · max_flow_i)

for every hour t whose water has not left yet (t − τ_i ≥ 0: what is already in the pipes is history).
The ramp ``|T[k, h] − T[k, h−1]| ≤ ramp`` starts from what the source runs now, within the plant's limits.
Cost per source-hour: heat loss (``loss_mw_per_k`` × T, the twin's sensitivity) + ``pump_weight`` × pump
power (MWh of heat a MWh of pumping is worth: the ratio of their prices, ``twin.control.prices``), convex in T (a colder supply needs more flow, and the lift grows with the flow squared), taken as
its tangents on a grid of temperatures; a shortfall ``s`` costs ``SHORTFALL_COST`` per K so an infeasible
hour (a cold wave beyond the exchangers) is met as well as it can be, and shown.

Because the requirement of hour t binds ``T(t − τ)``, the schedule rises τ hours before the load does, and
the ramp limit starts it earlier still: a cold wave's pre-heat falls out of the constraints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from heattwin import units
from twin.control.transport import required_inlet_c

SHORTFALL_COST = 1e4        # per K·h short at a station: far above any loss or pumping saving
FLOW_SAFETY = 0.95          # plan for 95 % of a valve's travel: the rest absorbs the forecast's error
TANGENT_STEP_K = 2.5


@dataclass
class PumpModel:
    """Pump power of one source, MW(e): its flow (heat over the temperature drop) times the lift, which is a
    fixed station margin plus friction growing with the flow squared (referred to ``flow0_t_h``)."""
    flow0_t_h: float
    friction0_bar: float
    margin_bar: float
    efficiency: float = 0.75

    def flow_t_h(self, heat_mw, t_supply_c, t_return_c) -> np.ndarray:
        lift_k = np.maximum(np.asarray(t_supply_c, dtype=float) - t_return_c, 5.0)
        return units.kg_per_s_to_t_h(units.mdot_for_heat_kg_per_s(units.mw_to_w(np.asarray(heat_mw)), lift_k))

    def lift_bar(self, flow_t_h) -> np.ndarray:
        q = np.asarray(flow_t_h, dtype=float) / max(self.flow0_t_h, 1e-6)
        return self.friction0_bar * q ** 2 + self.margin_bar

    def power_mw(self, heat_mw, t_supply_c, t_return_c) -> np.ndarray:
        flow = self.flow_t_h(heat_mw, t_supply_c, t_return_c)
        m3_s = flow / 3600.0   # t/h of water ≈ m³/h
        return units.w_to_mw(m3_s * units.bar_to_pa(self.lift_bar(flow)) / self.efficiency)


@dataclass
class SourcePlan:
    """What the optimiser needs per source: limits, the temperature it runs now, costs."""
    t_now_c: float
    t_min_c: float
    t_max_c: float
    loss_mw_per_k: float
    pump: PumpModel
    t_return_c: float


@dataclass
class Schedule:
    """``supply``: index valid_at, one column per source (°C). ``inlet``/``required``: index valid_at, one
    column per station (°C). ``shortfall_k``: same shape, K short of the required inlet. ``status``: the
    solver's message."""
    supply: pd.DataFrame
    inlet: pd.DataFrame
    required: pd.DataFrame
    shortfall_k: pd.DataFrame
    status: str


def plan_supply(paths: pd.DataFrame, max_flow_t_h: pd.Series, heat_mw: pd.DataFrame, sources: dict[str, SourcePlan],
                *, ramp_k_per_h: float = 5.0, pump_weight: float = 2.5) -> Schedule:
    """The least-cost schedule (see the module's note).

    Parameters
    ----------
    paths : per station id — source_id, delay_h, attenuation, t_soil_c, t_return_c (``station_paths``).
    max_flow_t_h : per station id, its valve's most.
    heat_mw : index the horizon's hours (valid_at, hourly), columns station ids: each station's target heat.
    sources : per source id, its ``SourcePlan``; a source none of the stations is fed by keeps ``t_now_c``.
    """
    hours = pd.DatetimeIndex(heat_mw.index)
    n_h = len(hours)
    src_ids = list(sources)
    n_k = len(src_ids)
    stations = [s for s in heat_mw.columns if s in paths.index and paths.at[s, "source_id"] in sources
                and np.isfinite(paths.at[s, "delay_h"])]
    p = paths.loc[stations]
    n_t = n_k * n_h                    # T[k, h]
    n_p = n_k * n_h                    # pump epigraph
    x_t = np.arange(n_t).reshape(n_k, n_h)
    x_p = n_t + np.arange(n_p).reshape(n_k, n_h)
    rows, cols, vals, rhs = [], [], [], []
    slack_of: list[tuple[str, int]] = []
    req = pd.DataFrame(np.nan, index=hours, columns=stations)
    for s in stations:
        k = src_ids.index(p.at[s, "source_id"])
        a, soil, tau = float(p.at[s, "attenuation"]), float(p.at[s, "t_soil_c"]), float(p.at[s, "delay_h"])
        need = required_inlet_c(heat_mw[s].to_numpy(dtype=float), float(p.at[s, "t_return_c"]),
                                FLOW_SAFETY * float(max_flow_t_h[s]))
        req[s] = need
        for t in range(n_h):
            lag = t - tau
            if lag < 0:
                continue
            j, f = int(np.floor(lag)), lag - np.floor(lag)
            row = len(rhs)
            # −a(1−f)T_j − a f T_{j+1} − s ≤ −(need − soil(1 − a))
            rows += [row, row]
            cols += [x_t[k, j], x_t[k, min(j + 1, n_h - 1)]]
            vals += [-a * (1 - f), -a * f]
            rows.append(row)
            cols.append(n_t + n_p + len(slack_of))
            vals.append(-1.0)
            slack_of.append((s, t))
            rhs.append(-(need[t] - soil * (1 - a)))
    n_s = len(slack_of)
    n_x = n_t + n_p + n_s
    cost = np.zeros(n_x)
    bounds = [(0.0, None)] * n_x
    total_heat = heat_mw[stations].T.groupby(p["source_id"]).sum().T if stations else pd.DataFrame(index=hours)
    for k, sid in enumerate(src_ids):
        plan = sources[sid]
        heat_k = total_heat[sid].to_numpy(dtype=float) if sid in total_heat else np.zeros(n_h)
        for h in range(n_h):
            bounds[x_t[k, h]] = (plan.t_min_c, plan.t_max_c)
            cost[x_t[k, h]] = plan.loss_mw_per_k
            cost[x_p[k, h]] = pump_weight
            # Tangents of the convex pump power: P ≥ P(T_j) + P'(T_j)(T − T_j).
            for t_j in np.arange(plan.t_min_c, plan.t_max_c + TANGENT_STEP_K, TANGENT_STEP_K):
                p0 = float(plan.pump.power_mw(heat_k[h], t_j, plan.t_return_c))
                p1 = float(plan.pump.power_mw(heat_k[h], t_j + 0.1, plan.t_return_c))
                slope = (p1 - p0) / 0.1
                row = len(rhs)
                rows += [row, row]
                cols += [x_t[k, h], x_p[k, h]]
                vals += [slope, -1.0]
                rhs.append(slope * t_j - p0)
            # Ramp from the previous hour (the first from what runs now).
            for sign in (1.0, -1.0):
                row = len(rhs)
                rows.append(row)
                cols.append(x_t[k, h])
                vals.append(sign)
                if h == 0:
                    rhs.append(ramp_k_per_h + sign * plan.t_now_c)
                else:
                    rows.append(row)
                    cols.append(x_t[k, h - 1])
                    vals.append(-sign)
                    rhs.append(ramp_k_per_h)
    cost[n_t + n_p:] = SHORTFALL_COST
    a_ub = coo_matrix((vals, (rows, cols)), shape=(len(rhs), n_x)).tocsr()
    res = linprog(cost, A_ub=a_ub, b_ub=np.asarray(rhs), bounds=bounds, method="highs")
    if res.x is None:
        raise RuntimeError(f"supply schedule: the linear programme failed: {res.message}")
    supply = pd.DataFrame(res.x[x_t].T, index=hours, columns=src_ids)
    shortfall = pd.DataFrame(0.0, index=hours, columns=stations)
    for (s, t), value in zip(slack_of, res.x[n_t + n_p:], strict=True):
        shortfall.iat[t, stations.index(s)] = value
    inlet = felt_inlet_c(supply, p, {sid: sources[sid].t_now_c for sid in src_ids})
    return Schedule(supply, inlet, req, shortfall, str(res.message))


def felt_inlet_c(supply: pd.DataFrame, paths: pd.DataFrame, t_now_c: dict) -> pd.DataFrame:
    """Per station, the inlet temperature the schedule ``supply`` gives it hour by hour (before the water of
    the horizon arrives: what the source runs now), °C."""
    n_h = len(supply)
    out = pd.DataFrame(np.nan, index=supply.index, columns=paths.index)
    steps = np.arange(n_h, dtype=float)
    for s in paths.index:
        sid = paths.at[s, "source_id"]
        if sid not in supply.columns:
            continue
        lag = steps - float(paths.at[s, "delay_h"])
        history = np.concatenate([[t_now_c[sid]], supply[sid].to_numpy(dtype=float)])
        t_src = np.interp(lag, np.arange(-1, n_h, dtype=float), history, left=t_now_c[sid])
        soil, a = float(paths.at[s, "t_soil_c"]), float(paths.at[s, "attenuation"])
        out[s] = soil + a * (t_src - soil)
    return out
