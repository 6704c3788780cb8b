"""``heattwin bench control``: the same weeks run twice on an independent plant — the fixed heating curve the
utility runs today, and the advised schedules and station shares applied as the plant takes them.

Weather: a mild week, then a week with a cold wave (seeded, identical in both runs); a warm-up day under the
curve before counting (rooms settle, the advisor sees a day of room temperatures). The plant is
``scripts.bench_plant.IndependentPlant`` (its pipes, demands and returns differ from the twin's) with its hydraulic
imbalance (near stations pass more than their rooms need, far ones less) and the utility's curve shifted warm
enough for the far end (``curve_shift_k``): the advisor's load forecast is that curve's schedule. The advisor
uses only what a utility would have: the twin of the design network, the plant's weather forecasts as issued
(error growing with lead time), a heat-load forecast from them, the measured room temperatures and the
plant's measured supply temperatures and flows. It re-plans every ``REPLAN_H`` hours and re-balances with each plan;
a station whose heat meter showed it short of what it was asked (against its own ratio of the warm-up day) is not
raised (``twin.control.balance.passing_short``). Stations without room sensors (two thirds of them) are re-balanced
on their heat meters to their buildings' design load (``twin.control.balance.meter_ratios``;
``HEATTWIN_BENCH_CONTROL_METERS=0``: they keep the curve's share, as before). ``cost_saved_pct`` prices heat produced and pump energy at the
settings' prices (``twin.control.prices``), the same the advice weighs.

The load forecast here is the plant's own degree-hour law on the issued weather forecast (a stand-in of the
shape of ``twin.forecast.load.forecast_load``: training LightGBM on a season per run would dominate the bench).

``HEATTWIN_BENCH_CONTROL_DAYS`` (default 14: 7 mild + 7 with the cold wave); ``--quick``: 3 days.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from heattwin.clock import local_hours
from scripts.bench_plant import IndependentPlant
from scripts.bench_twin import _democity
from twin.control.advise import OperatingState, advise
from twin.control.balance import BAND_HIGH_C, BAND_LOW_C, FLOOR_C, meter_ratios, passing_short, station_ratios
from twin.control.prices import EnergyPrices
from twin.control.setpoints import SetpointTable
from twin.model import Twin, TwinDidNotConverge
from twin.plant.control import station_heat_mw
from twin.plant.weather import ColdWave, SyntheticWeather

log = logging.getLogger(__name__)
DAYS = int(os.environ.get("HEATTWIN_BENCH_CONTROL_DAYS", "14"))
START = pd.Timestamp("2026-12-14 16:00", tz="UTC")     # local midnight
SEED = 2026
REPLAN_H = 6
BALANCE_H = 6           # re-balance with every plan, from the last ROOM_WINDOW_H of room readings
ROOM_WINDOW_H = 12
WARMUP_H = 24
HORIZON_H = 48
# Stations without room sensors re-balanced on their heat meters (off: they keep the curve's share).
METER_BALANCING = os.environ.get("HEATTWIN_BENCH_CONTROL_METERS", "1") != "0"


def _weather(days: int) -> SyntheticWeather:
    # The cold wave comes in the second half: 10 K below the mild mean within a day, over 4 days.
    wave_start_h = WARMUP_H + (days / 2.0) * 24 + 12
    return SyntheticWeather(START, seed=SEED, mean_c=1.0, cold_waves=[ColdWave(wave_start_h, 10.0, 96.0)],
                            days=days + 4)


def _forecast_loads(plant, weather, at: pd.Timestamp) -> pd.DataFrame:
    """Per station the heat the utility's curve schedules on the weather forecast issued at ``at`` (the plant's
    degree-hour law, shifted as the utility runs it)."""
    issued = weather.issue_forecast(at, horizon_h=HORIZON_H)
    valid = pd.DatetimeIndex(issued["valid_at"])
    hours = local_hours(valid, None)
    rows = []
    for t, t_out, hour in zip(valid, issued["t_outdoor_c"].to_numpy(dtype=float), hours, strict=True):
        load = plant.curve_heat_mw(t_out, hour)
        rows.append(pd.DataFrame({"issued_at": at, "valid_at": t, "element_id": plant.stations.index,
                                  "load_mw": load}))
    return pd.concat(rows, ignore_index=True)


def _pump_mw(result) -> float:
    s = result.sources
    lift_pa = (s["p_supply_bar"] - s["p_return_bar"]).clip(lower=0.0) * 1e5
    return float((s["flow_t_h"].abs() / 3600.0 * lift_pa).sum() / 0.75 / 1e6)


class _Advisor:
    """The product's side of the loop: a twin of the design network, the room readings it received."""

    def __init__(self, network, plant):
        self.twin = Twin(network)
        self.plant = plant
        room = plant.kinds == "room_t"
        self.room_sensors = pd.Series(plant.room_sensor_ids)
        self.households = pd.DataFrame({"household_id": plant.rooms.ids, "station_id": plant.rooms.station_ids,
                                        "sensor_id": plant.room_sensor_ids})
        self.is_room = room
        self.readings: list[pd.DataFrame] = []
        self.ratios = pd.Series(dtype=float)
        self.plan_s: list[float] = []
        sensors = network.sensors
        heat = sensors[(sensors["kind"] == "heat") & sensors["element_id"].str.startswith("ST-")]
        self.heat_meters = heat.drop_duplicates("element_id").set_index("id")["element_id"]
        self.passed: list[pd.Series] = []
        self.gains: list[pd.Series] = []
        self.baseline: pd.Series | None = None   # each station's meter/asked ratio of the warm-up day
        self.failed: list[str] = []
        self.last = None

    def observe(self, readings: pd.DataFrame, at: pd.Timestamp, outdoor_c: float) -> None:
        """Keep the room readings, and how much of what each station was asked for its heat meter shows."""
        plant = self.plant
        meters = readings[readings["sensor_id"].isin(self.heat_meters.index)]
        delivered = meters.groupby(meters["sensor_id"].map(self.heat_meters))["value"].mean()
        asked = pd.Series(plant.curve_heat_mw(outdoor_c, local_hours([at], None)[0]),
                          index=plant.stations.index) * self.ratios.reindex(plant.stations.index).fillna(1.0)
        self.passed.append((delivered / asked).rename(at))
        self.passed = self.passed[-ROOM_WINDOW_H:]
        # A station's heat over what its buildings' design load asks at the share it ran (meter balancing).
        due = pd.Series(station_heat_mw(plant.stations["design_heat_mw"].astype(float).to_numpy(), outdoor_c,
                                        local_hours([at], None)[0], plant.network.design), index=plant.stations.index)
        self.gains.append((delivered / (due * self.ratios.reindex(due.index).fillna(1.0))).rename(at))
        self.gains = self.gains[-ROOM_WINDOW_H:]
        self._rooms(readings)

    def limited(self) -> list[str]:
        """Stations whose heat meter showed less than their usual share of what they were asked."""
        passed = pd.concat(self.passed, axis=1).T
        if self.baseline is None:
            self.baseline = passed.mean(axis=0)
        return passing_short(passed, self.baseline)

    def _rooms(self, readings: pd.DataFrame) -> None:
        self.readings.append(readings[readings["sensor_id"].isin(self.households["sensor_id"])])
        self.readings = self.readings[-ROOM_WINDOW_H:]

    def rebalance(self, outdoor_mean_c: float) -> None:
        seen = pd.concat(self.readings)
        means = seen.groupby("sensor_id")["value"].mean()
        rooms = self.households.assign(t_c=self.households["sensor_id"].map(means))
        limited = self.limited()
        table = station_ratios(rooms, outdoor_mean_c, self.ratios, limited=limited)
        ratios = table["ratio"]
        if METER_BALANCING:
            # Stations without room readings: on their heat meters (``twin.control.balance.meter_ratios``).
            gain = pd.concat(self.gains, axis=1).mean(axis=1)
            blind = gain.index.difference(ratios.index)
            ratios = pd.concat([ratios, meter_ratios(gain[blind], self.ratios, limited=limited)])
        self.ratios = ratios

    def plan(self, at: pd.Timestamp, weather, outdoor_c: float) -> None:
        plant = self.plant
        state = OperatingState(at, outdoor_c, plant.t_supply_set_c.copy(),
                               plant.last_result.sources["flow_t_h"].copy())
        loads = _forecast_loads(plant, weather, at)
        t0 = time.perf_counter()
        try:
            self.last = advise(self.twin, state, loads, self.ratios)
        except TwinDidNotConverge as exc:
            # A plan that cannot be made leaves the accepted one running (it expires into the curve).
            self.failed.append(f"{at}: {exc.reason}")
            return
        self.plan_s.append(time.perf_counter() - t0)
        plant.apply_setpoints(SetpointTable(self.last.setpoints, expires_at=at + pd.Timedelta(hours=HORIZON_H)))


def _run(network, households, days: int, *, advised: bool) -> dict:
    weather = _weather(days)
    plant = IndependentPlant(network, households, weather, seed=SEED, noise=True, imbalance=True)
    advisor = _Advisor(network, plant) if advised else None
    totals = {"heat_produced_mwh": 0.0, "heat_loss_mwh": 0.0, "pump_mwh": 0.0, "heat_delivered_mwh": 0.0}
    in_band = under = 0
    counted = 0
    under_by_household = np.zeros(len(plant.rooms.ids))
    supply, room_sum = [], 0.0
    outdoor_window: list[float] = []
    for k in range(WARMUP_H + days * 24):
        at = START + pd.Timedelta(hours=k)
        outdoor_c = float(weather.temperature_c([at])[0])
        outdoor_window = (outdoor_window + [outdoor_c])[-ROOM_WINDOW_H:]
        if advisor is not None and k >= WARMUP_H and (k - WARMUP_H) % REPLAN_H == 0:
            if (k - WARMUP_H) % BALANCE_H == 0:
                advisor.rebalance(float(np.mean(outdoor_window)))
            advisor.plan(at, weather, outdoor_c)
        readings = plant.step(at, 3600.0)
        if advisor is not None:
            advisor.observe(readings, at, outdoor_c)
        if k < WARMUP_H:
            continue
        if (k - WARMUP_H) % 24 == 0:
            log.info("bench control (%s): day %d of %d", "advised" if advised else "curve", (k - WARMUP_H) // 24 + 1,
                     days)
        s = plant.last_result.summary
        totals["heat_produced_mwh"] += s["heat_produced_mw"]
        totals["heat_loss_mwh"] += s["heat_loss_mw"]
        totals["heat_delivered_mwh"] += s["heat_delivered_mw"]
        totals["pump_mwh"] += _pump_mw(plant.last_result)
        rooms = plant.rooms.t_c
        in_band += int(((rooms >= BAND_LOW_C) & (rooms <= BAND_HIGH_C)).sum())
        cold = rooms < FLOOR_C
        under += int(cold.sum())
        under_by_household += cold
        counted += len(rooms)
        room_sum += float(rooms.sum())
        supply.append(float(plant.t_supply_set_c.mean()))
    out = {**{key: round(v, 1) for key, v in totals.items()},
           "room_hours_in_band_pct": round(100.0 * in_band / counted, 2),
           "room_hours_under_18_pct": round(100.0 * under / counted, 3),
           "worst_household_hours_under_18": int(under_by_household.max()),
           "mean_supply_c": round(float(np.mean(supply)), 2), "mean_room_c": round(room_sum / counted, 2),
           "curve_shift_k": round(plant.curve_shift_k, 2),
           "hydraulic_factor_range": [round(float(plant.hydraulic_factor.min()), 3),
                                      round(float(plant.hydraulic_factor.max()), 3)]}
    if advisor is not None:
        out["plan_s_median"] = round(float(np.median(advisor.plan_s)), 2)
        out["plans"] = len(advisor.plan_s)
        out["plans_failed"] = len(advisor.failed)
    return out


def _saved_pct(curve: float, advised: float) -> float:
    return round(100.0 * (1.0 - advised / curve), 2) if curve else float("nan")


def run(args) -> dict:
    logging.getLogger("pandapipes").setLevel(logging.WARNING)
    days = 3 if getattr(args, "quick", False) else DAYS
    with tempfile.TemporaryDirectory() as tmp:
        network, city_dir = _democity(150, Path(tmp))
        households = pd.read_csv(city_dir / "records" / "household.csv", dtype={"sensor_id": str})
        t0 = time.perf_counter()
        curve = _run(network, households, days, advised=False)
        advised = _run(network, households, days, advised=True)
        wall_s = time.perf_counter() - t0
    prices = EnergyPrices.from_settings()
    return {
        "cost_saved_pct": _saved_pct(prices.cost_cny(curve["heat_produced_mwh"], curve["pump_mwh"]),
                                     prices.cost_cny(advised["heat_produced_mwh"], advised["pump_mwh"])),
        "heat_saved_pct": _saved_pct(curve["heat_produced_mwh"], advised["heat_produced_mwh"]),
        "loss_saved_pct": _saved_pct(curve["heat_loss_mwh"], advised["heat_loss_mwh"]),
        "pump_saved_pct": _saved_pct(curve["pump_mwh"], advised["pump_mwh"]),
        "room_hours_in_band_pct": {"curve": curve["room_hours_in_band_pct"],
                                   "advised": advised["room_hours_in_band_pct"]},
        "room_hours_under_18_pct": {"curve": curve["room_hours_under_18_pct"],
                                    "advised": advised["room_hours_under_18_pct"]},
        "worst_household_hours_under_18": {"curve": curve["worst_household_hours_under_18"],
                                           "advised": advised["worst_household_hours_under_18"]},
        "curve": curve, "advised": advised,
        "conditions": {"days": days, "stations": int(len(network.stations)), "households": int(len(households)),
                       "replan_h": REPLAN_H, "seed": SEED, "heat_cny_per_mwh": prices.heat_cny_per_mwh,
                       "electricity_cny_per_mwh": prices.electricity_cny_per_mwh, "wall_s": round(wall_s, 1)},
    }
