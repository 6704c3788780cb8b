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


# The kinds of team a utility sends, with what each is qualified for; a bigger city has more of each
# (one repair team per 50 stations, …); the 150-station demo has the eight teams of ``TEAMS``.
TEAM_KINDS = (
    ("抢修{}队", 50, 3, ("room_cold", "no_heat", "leak", "equipment")),
    ("巡检{}队", 75, 2, ("room_cold", "no_heat", "equipment", "refund")),
    ("阀门{}班", 400, 1, ("room_cold", "no_heat", "leak", "suspend")),
    ("仪表{}班", 400, 1, ("room_cold", "equipment", "refund")),
    ("客服回访{}组", 300, 1, ("payment", "suspend", "invoice", "refund", "enquiry", "other")),
)
_DIGITS = "零一二三四五六七八九"


def _numeral(k: int) -> str:
    if k >= 100:
        return str(k)
    tens, ones = divmod(k, 10)
    return ((_DIGITS[tens] if tens > 1 else "") + ("十" if tens else "") + (_DIGITS[ones] if ones or not tens else ""))


def make_teams(station_lonlat: pd.DataFrame, rng, now: pd.Timestamp) -> pd.DataFrame:
    """Repair, inspection, valve, meter and service teams, based beside stations, with the categories
    they may be sent to and where their phones last reported (a few minutes before ``now``)."""
    names, categories = [], []
    for pattern, stations_per_team, least, qualified in TEAM_KINDS:
        count = max(least, round(len(station_lonlat) / stations_per_team))
        names += [pattern.format(_numeral(k + 1) if count > 1 or least > 1 else "") for k in range(count)]
        categories += ["{" + ",".join(qualified) + "}"] * count
    n = len(names)
    base = station_lonlat.iloc[rng.choice(len(station_lonlat), n, replace=n > len(station_lonlat))].to_numpy()
    base = (base + rng.uniform(-0.002, 0.002, (n, 2))).round(5)
    last = (base + rng.uniform(-0.004, 0.004, (n, 2))).round(5)
    seen = now - pd.to_timedelta(rng.integers(60, 1800, n), unit="s")
    return pd.DataFrame({"id": [f"T-{k + 1:02d}" for k in range(n)], "name": names,
                         "phone": [f"0536-8{k:03d}{k:03d}" for k in range(n)], "members": rng.integers(3, 8, n),
                         "base_lon": base[:, 0], "base_lat": base[:, 1], "categories": categories,
                         "last_lon": last[:, 0], "last_lat": last[:, 1],
                         "last_seen_at": seen.strftime("%Y-%m-%dT%H:%M:%SZ")})
