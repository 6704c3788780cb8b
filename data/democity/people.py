"""Communities (小区) and their households, some with room-temperature collectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from data.democity.grid import BLOCK_M, Grid
from data.democity.network import NetworkTables, block_of

HOUSEHOLDS_PER_STATION = 170
COLLECTOR_SHARE = 0.10
M2_PER_HOUSEHOLD = 90.0
_PREFIX = ("幸福", "金宝", "阳光", "东方", "锦绣", "和平", "翡翠", "银河", "春晖", "盛世", "绿城", "恒信",
           "华都", "鸢都", "泰华", "紫薇", "龙湖", "世纪", "海棠", "御景")
_SUFFIX = ("小区", "花园", "家园", "苑", "新村", "雅居")
_SURNAMES = np.array(list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许"))


# A household's own heating fee per m² is left to the utility's billing data; the refund ledger falls back
# to its rule's default fee where a household has none (the demo has none).
HEATING_FEE_YUAN_PER_M2 = None

def make_communities(grid: Grid, net: NetworkTables, rng) -> pd.DataFrame:
    """About one community per three stations, each in the block beside its station."""
    count = max(3, round(len(net.stations) / 3))
    chosen = np.sort(rng.choice(len(net.stations), size=count, replace=False))
    stations = net.stations.iloc[chosen]
    corner = block_of(grid, stations["grid_node"].to_numpy())
    inset = rng.uniform(35, 55, (count, 2))
    size = BLOCK_M - 2 * inset
    polygons = shapely.box(corner[:, 0] + inset[:, 0], corner[:, 1] + inset[:, 1],
                           corner[:, 0] + inset[:, 0] + size[:, 0], corner[:, 1] + inset[:, 1] + size[:, 1])
    weights = rng.uniform(0.5, 1.5, count)
    households = np.maximum(50, np.round(weights / weights.sum() * HOUSEHOLDS_PER_STATION * len(net.stations)))
    names = [f"{_PREFIX[k % len(_PREFIX)]}{_SUFFIX[(k // len(_PREFIX)) % len(_SUFFIX)]}"
             + ("" if k < len(_PREFIX) * len(_SUFFIX) else f"{k}") for k in range(count)]
    return pd.DataFrame({"id": [f"C-{k + 1:03d}" for k in range(count)], "name": names,
                         "station_id": stations["id"].to_numpy(), "households": households.astype(int),
                         "heated_area_m2": (households * M2_PER_HOUSEHOLD).round(0),
                         "built_year": rng.integers(1990, 2022, count), "geometry": polygons})


def _payment_status(heating: np.ndarray) -> np.ndarray:
    """Cut off for not paying → in arrears; about 1 % of the others exempt (低保、特困), picked by a hash of
    their rank so that the random stream the rest of the city draws from stays as it was."""
    rank = np.arange(len(heating), dtype=np.uint64)
    exempt = (rank * np.uint64(2654435761)) % np.uint64(2**32) < np.uint64(0.01 * 2**32)
    return np.where(heating == "not_paying", "arrears", np.where(exempt, "exempt", "paid"))


def make_households(communities: pd.DataFrame, rng) -> pd.DataFrame:
    """Every household: building, floor, unit, phone; ~10 % with a collector (its sensor id)."""
    counts = communities["households"].to_numpy()
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(communities)), counts)
    rank = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    per_building = 6 * 2 * 2          # 6 floors × 2 units × 2 flats
    building = rank // per_building + 1
    floor = (rank % per_building) // 4 + 1
    unit = (rank % 4) // 2 + 1
    flat = rank % 2 + 1
    ids = np.char.add("H-", np.char.zfill(np.arange(1, total + 1).astype(str), 6))
    community_name = communities["name"].to_numpy()[owner]
    address = [f"{c}{b}号楼{u}单元{f}0{n}室" for c, b, u, f, n in
               zip(community_name, building, unit, floor, flat, strict=True)]
    phone = np.char.add("13", np.char.zfill(rng.integers(0, 10**9, total).astype(str), 9))
    name = np.char.add(_SURNAMES[rng.integers(0, len(_SURNAMES), total)],
                       np.where(rng.random(total) < 0.5, "先生", "女士"))
    collector = rng.random(total) < COLLECTOR_SHARE
    sensor_id = np.where(collector, np.char.add("S-", np.char.add(ids, "-RT")), "")
    area_m2 = rng.uniform(60, 140, total).round(1)  # drawn before the heating status, as always
    heating = np.where(rng.random(total) < 0.97, "heating",
                       np.where(rng.random(total) < 0.5, "suspended", "not_paying"))
    return pd.DataFrame({
        "id": ids, "community_id": communities["id"].to_numpy()[owner],
        "station_id": communities["station_id"].to_numpy()[owner], "name": name, "phone": phone,
        "address": address, "building": building, "floor": floor,
        "area_m2": area_m2, "heating_status": heating,
        "sensor_id": sensor_id, "payment_status": _payment_status(heating),
        "fee_yuan_per_m2": HEATING_FEE_YUAN_PER_M2})
