"""Measuring points: SCADA at plants and stations, pressure at main junctions, weather, collectors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin.choices import SENSOR_KIND

SOURCE_KINDS = (("t_supply", "TS"), ("t_return", "TR"), ("p_supply", "PS"), ("p_return", "PR"), ("flow", "F"),
                ("makeup_flow", "MU"))
STATION_KINDS = (("t_supply", "TS"), ("t_return", "TR"), ("p_supply", "PS"), ("p_return", "PR"), ("flow", "F"),
                 ("heat", "Q"))
NODE_SENSORS_PER_STATION = 0.2   # ~30 for the demo city


def _per_element(elements: pd.DataFrame, kinds) -> pd.DataFrame:
    rows = [pd.DataFrame({"id": "S-" + elements["id"] + f"-{code}", "kind": kind, "element_id": elements["id"],
                          "x": elements["x"], "y": elements["y"]}) for kind, code in kinds]
    return pd.concat(rows, ignore_index=True)


def _spread(nodes: pd.DataFrame, count: int, rng) -> pd.DataFrame:
    """Farthest-point sampling: pressure points spread over the whole network."""
    xy = nodes[["x", "y"]].to_numpy()
    picked = [int(rng.integers(len(xy)))]
    distance = np.linalg.norm(xy - xy[picked[0]], axis=1)
    for _ in range(count - 1):
        picked.append(int(np.argmax(distance)))
        distance = np.minimum(distance, np.linalg.norm(xy - xy[picked[-1]], axis=1))
    return nodes.iloc[sorted(picked)]


def make_sensors(net, households: pd.DataFrame, community_points: pd.DataFrame, rng) -> pd.DataFrame:
    node_points = _spread(net.nodes, max(3, round(NODE_SENSORS_PER_STATION * len(net.stations))), rng)
    main = net.sources.iloc[:1]
    collectors = households[households["sensor_id"] != ""]
    where = community_points.set_index("id").loc[collectors["community_id"]]
    jitter = rng.uniform(-60, 60, (len(collectors), 2))
    parts = [
        _per_element(net.sources, SOURCE_KINDS),
        _per_element(net.stations, STATION_KINDS),
        pd.DataFrame({"id": "S-" + node_points["id"] + "-P", "kind": "p_node", "element_id": node_points["id"],
                      "x": node_points["x"], "y": node_points["y"]}),
        pd.DataFrame({"id": ["S-WEATHER-T"], "kind": "outdoor_t", "element_id": main["id"].to_numpy(),
                      "x": main["x"].to_numpy() + 40, "y": main["y"].to_numpy() + 40}),
        pd.DataFrame({"id": collectors["sensor_id"].to_numpy(), "kind": "room_t",
                      "element_id": collectors["community_id"].to_numpy(),
                      "x": where["x"].to_numpy() + jitter[:, 0], "y": where["y"].to_numpy() + jitter[:, 1]}),
    ]
    sensors = pd.concat(parts, ignore_index=True)
    sensors["unit"] = sensors["kind"].map(lambda k: SENSOR_KIND[k].unit)
    sensors["side"] = np.where(sensors["kind"].isin(["p_node"]), "supply", None)
    return sensors
