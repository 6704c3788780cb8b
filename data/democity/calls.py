"""Who asks for what, and when: the calls that become the demo city's work orders.

A heating season's count scales with the households (``ORDERS_PER_HOUSEHOLD``); its mix follows the
Liaoning 12345 figures (about 47 % room too cold, 37 % heating started late or not at all, 9 % slow
repairs, the rest desk matters). Calls rise in cold spells and in the first weeks of the season (air in
the radiators, valves not yet opened, payments and restarts), and follow the day: few at night, peaks in
the morning and the evening. Everything is drawn for whole arrays at once; times are int64 seconds since
the epoch (UTC).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.democity.staff import AGENTS, DISPATCHERS, INSPECTORS, REPAIR_CREW

HOUR_S = 3600
DAY_S = 86400
LOCAL_OFFSET_S = 8 * HOUR_S  # Asia/Shanghai, no daylight saving

# Weifang's heating season: 15 November to 15 March (the last day included).
SEASON_START = pd.Timestamp("2025-11-15", tz="Asia/Shanghai")
SEASON_END = pd.Timestamp("2026-03-16", tz="Asia/Shanghai")
ORDERS_PER_HOUSEHOLD = 0.12

CATEGORY_SHARE = {"room_cold": 0.47, "no_heat": 0.37, "leak": 0.05, "equipment": 0.04, "payment": 0.02,
                  "suspend": 0.015, "invoice": 0.01, "refund": 0.01, "enquiry": 0.01, "other": 0.005}
CATEGORIES = tuple(CATEGORY_SHARE)
ORIGINS = ("hotline", "platform_12345", "app", "alarm", "inspection", "crew")
# Per category: the share of each origin above (hotline first, 12345 next; alarms and crews find leaks).
ORIGIN_SHARE = {
    "room_cold": (0.47, 0.30, 0.20, 0.00, 0.03, 0.00),
    "no_heat": (0.44, 0.30, 0.14, 0.05, 0.05, 0.02),
    "leak": (0.33, 0.10, 0.05, 0.17, 0.20, 0.15),
    "equipment": (0.15, 0.05, 0.05, 0.25, 0.30, 0.20),
    **{c: (0.50, 0.15, 0.35, 0.0, 0.0, 0.0) for c in ("payment", "suspend", "invoice", "refund", "enquiry",
                                                     "other")},
}
PRIORITIES = ("low", "normal", "urgent")
PRIORITY_SHARE = {"room_cold": (0.05, 0.85, 0.10), "no_heat": (0.0, 0.62, 0.38), "leak": (0.0, 0.40, 0.60),
                  "equipment": (0.10, 0.60, 0.30),
                  **{c: (0.60, 0.40, 0.0) for c in ("payment", "suspend", "invoice", "refund", "enquiry", "other")}}
# Hours a 12345 ticket gives the utility: heating complaints the same day, the rest five days.
PLATFORM_DUE_H = {**{c: 24.0 for c in ("room_cold", "no_heat", "leak", "equipment")},
                  **{c: 120.0 for c in ("payment", "suspend", "invoice", "refund", "enquiry", "other")}}
# Calls per hour of the local day (relative): quiet nights, a morning and an evening peak.
HOURLY_WEIGHT = np.array([0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 1.0, 1.8, 2.2, 2.0, 1.7, 1.5,
                          1.3, 1.3, 1.3, 1.3, 1.4, 1.6, 2.0, 2.3, 2.2, 1.8, 1.2, 0.6])
TITLES = {
    "room_cold": ("用户报修：室温偏低", "室温不达标，卧室不足18℃", "顶层住户室温低", "把山户室温偏低"),
    "no_heat": ("用户报修：暖气不热", "开栓后暖气仍不热", "整栋楼未供热", "单元立管不热"),
    "leak": ("管道漏水", "暖气片接口滴漏", "阀门井冒汽", "楼道供热管渗水"),
    "equipment": ("换热站循环泵异响", "热计量表通讯中断", "电动调节阀不动作", "补水泵频繁启停"),
    "payment": ("缴费未到账", "供暖费缴费咨询"),
    "suspend": ("申请报停", "申请恢复供暖（开栓）"),
    "invoice": ("开具供暖费发票",),
    "refund": ("测温退费申请",),
    "enquiry": ("咨询供暖时间", "咨询室温标准"),
    "other": ("其他诉求", "循环泵噪声扰民"),
}
_RESIDENT_ORIGINS = ("hotline", "platform_12345", "app")
_NETWORK_PREFIX = {"alarm": "报警转工单：", "inspection": "巡检发现：", "crew": "班组上报："}


def season_days() -> int:
    return int((SEASON_END - SEASON_START) / pd.Timedelta(days=1))


def outdoor_daily_c(days: int, rng) -> np.ndarray:
    """Daily mean outdoor temperature (°C) over a Weifang winter: about +6 at both ends, -3 in January,
    day-to-day weather (AR(1)) and four cold spells of three to six days, 6–9 K colder."""
    d = np.arange(days)
    climate_c = 6.5 - 9.5 * np.sin(np.pi * d / days) ** 1.2
    shocks = rng.normal(0.0, 1.6, days)
    weather = np.zeros(days)
    for k in range(1, days):  # 120 days: a recurrence, not rows
        weather[k] = 0.7 * weather[k - 1] + shocks[k]
    spells = np.zeros(days)
    starts = np.sort(rng.choice(np.arange(int(days * 0.15), int(days * 0.85)), 4, replace=False))
    for start, length, depth in zip(starts, rng.integers(3, 7, 4), rng.uniform(6.0, 9.0, 4), strict=True):
        span = np.arange(start, min(start + length, days))
        spells[span] = np.maximum(spells[span], depth * np.sin(np.pi * (span - start + 0.5) / length))
    return climate_c + weather - spells


def daily_shape(category: str, outdoor_c: np.ndarray) -> np.ndarray:
    """Relative number of calls about ``category`` on each day of the season."""
    d = np.arange(len(outdoor_c))
    heating_degrees = np.maximum(18.0 - outdoor_c, 0.0)
    coldness = heating_degrees / heating_degrees.mean()
    start = np.exp(-d / 7.0)  # the first weeks: late or failed starts
    shape = {
        "room_cold": coldness ** 2.5 + 0.6 * np.exp(-d / 10.0),
        "no_heat": 0.35 + 0.25 * coldness ** 2 + 4.0 * start,
        "leak": 0.4 + 0.6 * coldness ** 2 + 1.2 * np.exp(-d / 5.0),
        "equipment": 0.4 + 0.6 * coldness ** 2 + 1.2 * np.exp(-d / 5.0),
        "payment": 0.3 + 3.0 * np.exp(-d / 12.0),
        "suspend": 0.2 + 3.0 * np.exp(-d / 8.0),
        "invoice": 0.5 + np.exp(-d / 20.0) + d / len(d),
        "refund": 0.2 + d / len(d),
        "enquiry": 1.0 + 1.5 * start,
        "other": 1.0 + 1.5 * start,
    }[category]
    return shape / shape.sum()


def season_calls(households: pd.DataFrame, communities: pd.DataFrame, places: pd.DataFrame, rng) -> pd.DataFrame:
    """Every call of the past season: ``created_s, category, origin, priority, household_id, asset_id, lon,
    lat, title, description, created_by, external_ref, external_due_s``, oldest first."""
    days = season_days()
    outdoor_c = outdoor_daily_c(days, rng)
    total = rng.poisson(ORDERS_PER_HOUSEHOLD * len(households))
    counts = rng.multinomial(total, list(CATEGORY_SHARE.values()))
    category = np.repeat(np.array(CATEGORIES), counts)
    day = np.concatenate([rng.choice(days, size=k, p=daily_shape(c, outdoor_c)) for c, k in
                          zip(CATEGORIES, counts, strict=True)])
    hour = rng.choice(24, size=total, p=HOURLY_WEIGHT / HOURLY_WEIGHT.sum())
    created_s = (int(SEASON_START.timestamp()) + day * DAY_S + hour * HOUR_S
                 + rng.integers(0, HOUR_S, total)).astype(np.int64)
    order = np.argsort(created_s, kind="stable")
    calls = describe_calls(category[order], created_s[order], households, communities, places, rng)
    calls.attrs["outdoor_c"] = outdoor_c
    return calls


def live_calls(count: int, now: pd.Timestamp, households, communities, places, rng) -> pd.DataFrame:
    """``count`` calls of the last day and a half before ``now``, four in five in the last two hours."""
    recent = max(1, round(count * 0.8))
    age_h = np.concatenate([0.02 + 2.0 * rng.random(recent) ** 1.7, rng.uniform(2.0, 30.0, count - recent)])
    created_s = np.sort(int(now.timestamp()) - (age_h * HOUR_S).astype(np.int64))
    category = rng.choice(np.array(CATEGORIES), size=count, p=list(CATEGORY_SHARE.values()))
    return describe_calls(category, created_s, households, communities, places, rng)


def _pick_by_category(category: np.ndarray, options: dict, values: tuple, rng) -> np.ndarray:
    out = np.empty(len(category), dtype=object)
    for name, share in options.items():
        rows = np.flatnonzero(category == name)
        out[rows] = rng.choice(np.array(values), size=len(rows), p=np.array(share) / np.sum(share))
    return out.astype(str)


def _household_weights(category: str, households: pd.DataFrame, built_year: np.ndarray) -> np.ndarray:
    """Who calls: heated flats for heat complaints, top and ground floors and old compounds more often."""
    status = households["heating_status"].to_numpy()
    floor = households["floor"].to_numpy()
    weight = 1.0 + np.clip(2022 - built_year, 0, 40) / 30.0
    if category in ("room_cold", "no_heat", "leak", "refund"):
        weight = weight * (status == "heating") * np.where((floor == 1) | (floor == floor.max()), 1.8, 1.0)
    elif category == "suspend":
        weight = weight * np.where(status == "suspended", 8.0, 1.0)
    elif category == "payment":
        weight = weight * np.where(status == "not_paying", 8.0, 1.0)
    return weight / weight.sum()


def describe_calls(category, created_s, households, communities, places, rng) -> pd.DataFrame:
    """Origin, priority, caller (a household) or element, place, title and 12345 ticket for each call."""
    n = len(category)
    origin = _pick_by_category(category, ORIGIN_SHARE, ORIGINS, rng)
    priority = _pick_by_category(category, PRIORITY_SHARE, PRIORITIES, rng)
    built_year = households["community_id"].map(communities.set_index("id")["built_year"]).to_numpy()
    household = np.full(n, -1)
    for name in CATEGORIES:
        rows = np.flatnonzero(category == name)
        household[rows] = rng.choice(len(households), size=len(rows),
                                     p=_household_weights(name, households, built_year))
    on_network = ~np.isin(origin, _RESIDENT_ORIGINS) & ~((origin == "inspection") & (category == "room_cold"))
    stations = places.index[places.index.str.startswith("ST-")].to_numpy()
    pipes = places.index[places.index.str.startswith("P-")].to_numpy()
    element = np.where(category == "leak", pipes[rng.integers(0, len(pipes), n)],
                       stations[rng.integers(0, len(stations), n)])
    picked = households.iloc[household]
    asset_id = np.where(on_network, element, picked["station_id"].to_numpy())
    where = np.where(on_network, asset_id, picked["community_id"].to_numpy())
    jitter = np.where(on_network, 0.0, 1.0)[:, None] * rng.uniform(-0.0006, 0.0006, (n, 2))
    lonlat = places.loc[where, ["lon", "lat"]].to_numpy() + jitter
    title = _titles(category, rng)
    caller = (picked["address"] + "（" + picked["name"] + "，" + picked["phone"] + "）").to_numpy()
    found = pd.Series(origin).map(_NETWORK_PREFIX).fillna("") + asset_id
    description = (pd.Series(np.where(on_network, found.to_numpy(), caller)) + " " + title).to_numpy()
    ticket = origin == "platform_12345"
    day = pd.to_datetime(created_s + LOCAL_OFFSET_S, unit="s").strftime("%Y%m%d").to_numpy()
    external_ref = np.where(ticket, "WF12345-" + day + "-" + pd.Series(rng.integers(0, 10**6, n)).astype(str)
                            .str.zfill(6).to_numpy(), "")
    due_h = pd.Series(category).map(PLATFORM_DUE_H).to_numpy()
    external_due_s = np.where(ticket, created_s + (due_h * HOUR_S).astype(np.int64), -1)
    return pd.DataFrame({
        "created_s": np.asarray(created_s, dtype=np.int64), "category": category, "origin": origin,
        "priority": priority, "household_id": np.where(on_network, "", picked["id"].to_numpy()),
        "asset_id": asset_id, "lon": lonlat[:, 0].round(6), "lat": lonlat[:, 1].round(6), "title": title,
        "description": description, "created_by": _filed_by(origin, rng), "external_ref": external_ref,
        "external_due_s": external_due_s})


def _titles(category: np.ndarray, rng) -> np.ndarray:
    flat = np.array([t for c in CATEGORIES for t in TITLES[c]])
    sizes = np.array([len(TITLES[c]) for c in CATEGORIES])
    which = pd.Series(category).map({c: k for k, c in enumerate(CATEGORIES)}).to_numpy()
    return flat[(np.cumsum(sizes) - sizes)[which] + rng.integers(0, 12, len(category)) % sizes[which]]


def _filed_by(origin: np.ndarray, rng) -> np.ndarray:
    n = len(origin)
    pools = {"hotline": AGENTS, "platform_12345": ("gw.12345",), "app": ("app.wechat",), "alarm": DISPATCHERS,
             "inspection": INSPECTORS, "crew": REPAIR_CREW}
    out = np.empty(n, dtype=object)
    for name, people in pools.items():
        rows = np.flatnonzero(origin == name)
        out[rows] = np.array(people)[rng.integers(0, len(people), len(rows))]
    return out.astype(str)
