"""``heattwin bench forecast``: the day-ahead heat-load forecast against persistence and the degree-hour
regression, in one rolling-origin backtest per series, on the virtual plant and on measured substations.

- virtual plant: the demo city run hourly by ``VirtualPlant`` under its synthetic weather (cold waves
  included), readings with sensor noise; station loads from the stations' heat meters, source loads
  from flow × (supply − return); its forecasts issued every 6 h by the plant (error growing with lead
  time, warm-biased in cold waves). Scored on the sources and on the stations.
- measured: Niš substations L17 and L4 (``../shared/data/xai4heat_nis``), test season 2023-10-15 …
  2024-03-30 trained on what came before; forecasts: the measured temperature with the plant's forecast
  error (the exports before 2024-25 hold none). MAPE on hours ≥ 31 kWh, WAPE on all.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from heattwin.settings import PROJECT_ROOT
from twin.forecast.backtest import rolling_origin, score
from twin.forecast.data import ForecastData
from twin.forecast.measured import combine, forecast_data, read_measured

NIS = PROJECT_ROOT.parent / "shared" / "data" / "xai4heat_nis"
MIN_LOAD_KWH = 31.0


def _plant_data(days: int, seed: int = 7) -> ForecastData:
    from heattwin import units
    from layers.read import read_network
    from twin.plant.runner import VirtualPlant
    from twin.plant.weather import SyntheticWeather

    city = PROJECT_ROOT / "data" / "build" / "demo-150-7"
    network, _ = read_network(city / "network.gpkg")
    households = pd.read_csv(city / "records" / "household.csv")
    origin = pd.Timestamp("2026-11-20", tz="UTC")
    weather = SyntheticWeather(origin, seed=seed)
    plant = VirtualPlant(network, households, weather, seed=seed)
    sensors = network.sensors.assign(id=network.sensors["id"].astype(str))
    readings = []
    for hour in range(days * 24):
        at = origin + pd.Timedelta(hours=hour)
        readings.append(plant.step(at, 3600.0))
    frame = pd.concat(readings, ignore_index=True).merge(sensors[["id", "kind", "element_id"]], left_on="sensor_id",
                                                         right_on="id")
    wide = frame.pivot_table(index="time", columns=["kind", "element_id"], values="value", aggfunc="mean")
    stations = wide["heat"]
    mdot = units.t_h_to_kg_per_s(wide["flow"])
    sources = units.w_to_mw(units.heat_w(mdot, wide["t_supply"][mdot.columns] - wide["t_return"][mdot.columns]))
    loads = pd.concat([stations, sources[[c for c in sources.columns if str(c).startswith("SRC-")]]], axis=1)
    outdoor = wide["outdoor_t"].mean(axis=1)
    issues = pd.date_range(origin, origin + pd.Timedelta(days=days), freq="6h")
    archive = pd.concat([weather.issue_forecast(at) for at in issues], ignore_index=True)
    return ForecastData(loads=loads, weather=pd.DataFrame({"t_outdoor_c": outdoor}), forecasts=archive,
                        timezone="Asia/Shanghai")


def _plant(quick: bool) -> dict:
    days, test_days = (24, 6) if quick else (45, 15)
    clock = time.perf_counter()
    data = _plant_data(days)
    simulate_s = time.perf_counter() - clock
    start = data.loads.index.min() + pd.Timedelta(days=days - test_days)
    end = data.loads.index.max() - pd.Timedelta(hours=40)
    stations = [c for c in data.elements if c.startswith("ST-")][: 12 if quick else 40]
    sources = [c for c in data.elements if c.startswith("SRC-")]
    clock = time.perf_counter()
    predictions = rolling_origin(data, start=start, end=end, retrain_every_days=7, train_days=days,
                                 elements=sources + stations)
    out = {"sources": score(predictions[predictions["element_id"].isin(sources)]),
           "stations": score(predictions[predictions["element_id"].isin(stations)]),
           "simulated_days": days, "test_days": test_days, "stations_scored": len(stations),
           "simulate_s": round(simulate_s, 1), "backtest_s": round(time.perf_counter() - clock, 1),
           "forecasts": "the plant's own, issued every 6 h (sigma 0.8 K + 0.035 K/h x lead, cold-wave warm bias)"}
    out.update({k: out["sources"][k] for k in ("mape_15_38h", "cvrmse_day_ahead", "nmbe", "persistence_mape",
                                               "degree_hour_mape", "skill_vs_best_baseline")})
    return out


def _measured(name: str, quick: bool) -> dict:
    path = NIS / "original" / f"xai4heat_scada_{name}.csv"
    hourly = combine([read_measured(path)])
    data = forecast_data(hourly, name)
    start, end = pd.Timestamp("2023-10-15", tz="UTC"), pd.Timestamp("2024-03-30", tz="UTC")
    if quick:
        start, end = pd.Timestamp("2024-01-08", tz="UTC"), pd.Timestamp("2024-01-29", tz="UTC")
    clock = time.perf_counter()
    predictions = rolling_origin(data, start=start, end=end, retrain_every_days=14, train_days=540)
    scores = score(predictions, min_load_mw=MIN_LOAD_KWH / 1000.0)
    scores.update(test=f"{start:%Y-%m-%d} … {end:%Y-%m-%d}", backtest_s=round(time.perf_counter() - clock, 1),
                  forecasts="measured temperature + the plant's forecast error (no forecast in these exports)",
                  min_load_kwh=MIN_LOAD_KWH)
    return scores


def run(args) -> dict:
    quick = bool(getattr(args, "quick", False))
    figures = {"virtual_plant": _plant(quick)}
    if Path(NIS).exists():
        for name in ("L17", "L4"):
            figures[f"nis_{name}"] = _measured(name, quick)
    return figures
