"""The supply schedule on two stations at different delays, worked out by hand.

One source; station A 2 h away, station B 6 h away; no heat loss on the way (attenuation 1); returns at
50 °C; valves sized so that a station needs an inlet of ``50 + Q`` °C to pass Q MW. A needs 30 MW all day
(inlet ≥ 80 °C); B needs 30 MW until hour 20, then 40 MW (inlet ≥ 90 °C). Heat loss is the only cost, so the
cheapest schedule is the lowest one that meets both:

- A binds T(h) ≥ 80 for h ≤ 21 (its hour-23 need is met at hour 21);
- B binds T(h) ≥ 90 from h = 20 − 6 = 14 to 23 − 6 = 17; with a ramp of 5 K/h the plant must leave 80 °C
  at hour 12: 85 °C at 13, 90 °C from 14 — six hours before B's load rises, and one more for the ramp;
- after hour 17 nothing in the horizon needs B's water: down at the ramp to 80 by 19 (A), then to 70.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from heattwin import units
from twin.control.schedule import FLOW_SAFETY, PumpModel, SourcePlan, felt_inlet_c, plan_supply
from twin.control.transport import deliverable_mw
from twin.plant.rooms import RoomModel

HOURS = pd.date_range("2026-12-10 00:00", periods=24, freq="h", tz="UTC")
# 1 MW per K of inlet over return at the planned share of the valve.
MAX_FLOW_T_H = units.kg_per_s_to_t_h(1e6 / (units.WATER_CP_J_PER_KGK * FLOW_SAFETY))


def _case():
    paths = pd.DataFrame({"source_id": ["SRC-1", "SRC-1"], "delay_h": [2.0, 6.0], "attenuation": [1.0, 1.0],
                          "t_soil_c": [5.0, 5.0], "t_return_c": [50.0, 50.0]}, index=["ST-A", "ST-B"])
    heat = pd.DataFrame({"ST-A": 30.0, "ST-B": np.where(np.arange(24) >= 20, 40.0, 30.0)}, index=HOURS)
    no_pump = PumpModel(flow0_t_h=1.0, friction0_bar=0.0, margin_bar=0.0)
    plan = SourcePlan(t_now_c=80.0, t_min_c=70.0, t_max_c=130.0, loss_mw_per_k=0.1, pump=no_pump, t_return_c=50.0)
    max_flow = pd.Series(MAX_FLOW_T_H, index=paths.index)
    return paths, heat, {"SRC-1": plan}, max_flow


def test_plant_rises_ahead_of_the_far_station_by_its_delay_and_the_ramp():
    paths, heat, plans, max_flow = _case()
    schedule = plan_supply(paths, max_flow, heat, plans, ramp_k_per_h=5.0, pump_weight=0.0)
    expected = [80.0] * 13 + [85.0] + [90.0] * 4 + [85.0, 80.0, 80.0, 80.0, 75.0, 70.0]
    assert schedule.supply["SRC-1"].to_numpy() == pytest.approx(expected, abs=1e-6)
    assert schedule.shortfall_k.to_numpy().max() == pytest.approx(0.0, abs=1e-6)


def test_schedule_keeps_every_room_of_both_stations_at_or_above_18():
    paths, heat, plans, max_flow = _case()
    schedule = plan_supply(paths, max_flow, heat, plans, ramp_k_per_h=5.0, pump_weight=0.0)
    households = pd.DataFrame({"id": ["H-A1", "H-A2", "H-B1", "H-B2"], "station_id": ["ST-A", "ST-A", "ST-B", "ST-B"],
                               "floor": [1, 6, 1, 6], "floors": [6, 6, 6, 6], "end_wall": [False, False, False, False]})

    def coldest_room_c(supply: pd.DataFrame) -> float:
        inlet = felt_inlet_c(supply, paths, {"SRC-1": 80.0})
        passed = deliverable_mw(inlet, 50.0, FLOW_SAFETY * MAX_FLOW_T_H)
        ratio = np.minimum(passed / heat[inlet.columns].to_numpy(), 1.0)
        rooms = RoomModel(households, seed=1)
        rooms.offset_k = np.array([0.5, -1.5, 0.5, -1.5])   # ground and top floor, no random spread
        rooms.t_c = 20.0 + rooms.offset_k
        coldest = np.inf
        for h in range(len(HOURS)):
            temps = rooms.step(3600.0, -8.0, pd.Series(ratio[h], index=inlet.columns))
            coldest = min(coldest, temps.min())
        return coldest

    assert coldest_room_c(schedule.supply) >= 18.0
    # Raising the plant only when B's load rises (no respect for its 6 h) leaves B's top floor cold.
    late = schedule.supply.copy()
    late["SRC-1"] = np.where(np.arange(24) >= 20, 90.0, 80.0)
    assert coldest_room_c(late) < 18.0
