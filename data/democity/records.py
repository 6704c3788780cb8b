"""Equipment records, maintenance history, crews and work orders for the demo city."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

# (kind, code, makers, model prefix, rated values builder)
STATION_EQUIPMENT = (
    ("heat_exchanger", "HX1", ("阿法拉伐 Alfa Laval", "四平巨元", "兰州兰石"), "M15-BFG"),
    ("heat_exchanger", "HX2", ("阿法拉伐 Alfa Laval", "四平巨元", "兰州兰石"), "M15-BFG"),
    ("pump", "CP1", ("格兰富 Grundfos", "威乐 Wilo"), "NKG 150-125"),
    ("pump", "CP2", ("格兰富 Grundfos", "威乐 Wilo"), "NKG 150-125"),
    ("pump", "MU", ("格兰富 Grundfos", "威乐 Wilo"), "CR 10-6"),
    ("meter", "HM", ("丹佛斯 Danfoss", "兰吉尔 Landis+Gyr"), "SONOMETER 500"),
    ("valve", "CV", ("丹佛斯 Danfoss", "西门子 Siemens"), "VFG2"),
)
SOURCE_EQUIPMENT = (
    ("boiler", "B1", ("哈尔滨锅炉厂", "东方锅炉"), "HG-670/13.7"),
    ("turbine", "T1", ("哈尔滨汽轮机厂", "上海汽轮机厂"), "CC140/N200"),
    ("pump", "MP1", ("沈阳水泵", "KSB"), "RDLO 600-1100"),
    ("pump", "MP2", ("沈阳水泵", "KSB"), "RDLO 600-1100"),
)
MAINTENANCE = (("inspection", "例行巡检，运行正常"), ("repair", "更换机械密封"), ("cleaning", "板片清洗除垢"),
               ("repair", "阀杆填料渗漏，已处理"), ("replacement", "更换压力变送器"), ("inspection", "供暖季前检修"))
TEAMS = ("抢修一队", "抢修二队", "抢修三队", "巡检一队", "巡检二队", "阀门班", "仪表班", "客服回访组")


def _rated(kind: str, size: np.ndarray) -> list[str]:
    keys = {"heat_exchanger": ("heat_mw", 0.6), "pump": ("flow_t_h", 40.0), "meter": ("flow_t_h", 60.0),
            "valve": ("kvs_m3_per_h", 25.0), "boiler": ("heat_mw", 120.0), "turbine": ("power_mw", 40.0)}
    key, scale = keys[kind]
    extra = {"pump": ', "head_m": 32', "heat_exchanger": ', "area_m2": 180'}.get(kind, "")
    return [f'{{"{key}": {round(float(s) * scale, 1)}{extra}}}' for s in size]


def make_equipment(net, rng) -> pd.DataFrame:
    frames = []
    for owners, catalogue, size in ((net.stations, STATION_EQUIPMENT, net.stations["design_heat_mw"] / 4),
                                    (net.sources, SOURCE_EQUIPMENT, net.sources["capacity_mw"] / 200)):
        for kind, code, makers, model in catalogue:
            n = len(owners)
            frames.append(pd.DataFrame({
                "id": "EQ-" + owners["id"].to_numpy() + f"-{code}", "asset_id": owners["id"].to_numpy(),
                "kind": kind, "maker": np.array(makers)[rng.integers(0, len(makers), n)], "model": model,
                "serial": [f"{code}{y}{k:05d}" for k, y in enumerate(rng.integers(2005, 2024, n))],
                "install_year": np.clip(owners.get("install_year", pd.Series(2008, index=owners.index)).to_numpy()
                                        + rng.integers(0, 6, n), 1990, 2025),
                "rated": _rated(kind, np.asarray(size, dtype=float))}))
    valves = net.valves
    frames.append(pd.DataFrame({
        "id": "EQ-" + valves["id"].to_numpy(), "asset_id": valves["id"].to_numpy(), "kind": "valve",
        "maker": np.array(["天津塘沽阀门", "开维喜 KVC", "AVK"])[rng.integers(0, 3, len(valves))],
        "model": [f"D{d}-16 蝶阀" for d in valves["dn_mm"]], "serial": [f"BV{k:06d}" for k in range(len(valves))],
        "install_year": rng.integers(1998, 2024, len(valves)),
        "rated": [json.dumps({"dn_mm": int(d), "pn_bar": 16}) for d in valves["dn_mm"]]}))
    return pd.concat(frames, ignore_index=True)


def make_maintenance(equipment: pd.DataFrame, rng) -> pd.DataFrame:
    per = rng.integers(1, 4, len(equipment))
    owner = np.repeat(np.arange(len(equipment)), per)
    pick = rng.integers(0, len(MAINTENANCE), len(owner))
    done = pd.Timestamp("2026-11-01", tz="UTC") - pd.to_timedelta(rng.integers(1, 1500, len(owner)), unit="D")
    return pd.DataFrame({"equipment_id": equipment["id"].to_numpy()[owner],
                         "done_at": done.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "kind": [MAINTENANCE[k][0] for k in pick], "note": [MAINTENANCE[k][1] for k in pick],
                         "crew": np.array(TEAMS[:5])[rng.integers(0, 5, len(owner))]})


def make_teams(lonlat_centre: tuple[float, float], rng) -> pd.DataFrame:
    n = len(TEAMS)
    return pd.DataFrame({"id": [f"T-{k + 1:02d}" for k in range(n)], "name": TEAMS,
                         "phone": [f"0536-8{k:03d}{k:03d}" for k in range(n)], "members": rng.integers(3, 8, n),
                         "base_lon": lonlat_centre[0] + rng.uniform(-0.03, 0.03, n).round(5),
                         "base_lat": lonlat_centre[1] + rng.uniform(-0.02, 0.02, n).round(5)})


_STATES = ("new", "dispatched", "accepted", "on_site", "resolved", "visited", "closed")
_EVENT_NOTES = {"new": "受理报修", "dispatched": "派单", "accepted": "接单", "on_site": "到达现场",
                "resolved": "处理完毕", "visited": "电话回访，用户满意", "closed": "工单关闭"}
_TITLES = ("用户报修：室温偏低", "阀门井积水", "换热站循环泵异响", "管道保温层破损", "用户报修：暖气不热",
           "热计量表通讯中断", "补水量异常排查")


def make_work_orders(net, households: pd.DataFrame, teams: pd.DataFrame, station_lonlat: pd.DataFrame, rng, now):
    """About 20 work orders (some open, some closed) with a consistent event history each."""
    n = 20
    on_stations = rng.random(n) < 0.6
    station_pick = net.stations.iloc[rng.integers(0, len(net.stations), n)]
    household_pick = households.iloc[rng.integers(0, len(households), n)]
    final = rng.integers(0, len(_STATES), n)
    created = now - pd.to_timedelta(rng.integers(1, 72 * 60, n), unit="min")
    orders, events = [], []
    for k in range(n):
        asset = station_pick["id"].iloc[k] if on_stations[k] else household_pick["station_id"].iloc[k]
        state = _STATES[final[k]]
        orders.append({"id": k + 1, "asset_id": asset,
                       "household_id": "" if on_stations[k] else household_pick["id"].iloc[k],
                       "title": _TITLES[k % len(_TITLES)], "description": "由调度中心创建（演示数据）",
                       "origin": "inspection" if on_stations[k] else "hotline",
                       "priority": ("normal", "urgent", "low")[k % 3], "state": state,
                       "team_id": "" if state == "new" else teams["id"].iloc[k % len(teams)],
                       "lon": round(float(station_lonlat.at[asset, "lon"]), 6),
                       "lat": round(float(station_lonlat.at[asset, "lat"]), 6),
                       "created_at": created[k].strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "sla_due_at": (created[k] + pd.Timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "closed_at": (created[k] + pd.Timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
                       if state == "closed" else "", "alarm_id": ""})
        previous = ""
        for step, to_state in enumerate(_STATES[:final[k] + 1]):
            events.append({"work_order_id": k + 1,
                           "at": (created[k] + pd.Timedelta(minutes=90 * step)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "actor": "调度员" if step < 2 else "抢修队", "from_state": previous,
                           "to_state": to_state, "note": _EVENT_NOTES[to_state]})
            previous = to_state
    return pd.DataFrame(orders), pd.DataFrame(events)
