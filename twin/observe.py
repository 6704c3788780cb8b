"""What each sensor would read if the twin were the truth: the bridge between a ``TwinResult`` and
telemetry. The sync loop compares it with readings (residuals); the virtual plant sends it (plus
sensor realism) as readings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin.choices import kind_of

# (element kind, sensor kind) → (result frame, column); node-side values read at the element's node.
_PREDICTED = {
    ("station", "t_supply"): ("stations", "t_supply_c"),
    ("station", "t_return"): ("stations", "t_return_c"),
    ("station", "p_supply"): ("station_nodes", "p_supply_bar"),
    ("station", "p_return"): ("station_nodes", "p_return_bar"),
    ("station", "flow"): ("stations", "flow_t_h"),
    ("station", "heat"): ("stations", "heat_mw"),
    ("source", "t_supply"): ("sources", "t_supply_c"),
    ("source", "t_return"): ("sources", "t_return_c"),
    ("source", "p_supply"): ("sources", "p_supply_bar"),
    ("source", "p_return"): ("sources", "p_return_bar"),
    ("source", "flow"): ("sources", "flow_t_h"),
    ("source", "makeup_flow"): ("sources", "makeup_t_h"),
    ("node", "p_node"): ("nodes", "p_supply_bar"),
}


class SensorMap:
    """Which result value each sensor observes; built once per network.

    Parameters
    ----------
    sensors : frame with ``id``, ``kind``, ``element_id`` (and optionally ``side``).
    stations : frame with ``id`` and ``node_id``, to read station pressures at their node.
    """

    def __init__(self, sensors: pd.DataFrame, stations: pd.DataFrame):
        frame = pd.DataFrame({"sensor_id": sensors["id"].astype(str).to_numpy(),
                              "kind": sensors["kind"].astype(str).to_numpy(),
                              "element_id": sensors["element_id"].astype(str).to_numpy()})
        element_kind = frame["element_id"].map(kind_of)
        target = [_PREDICTED.get(key) for key in zip(element_kind, frame["kind"], strict=True)]
        frame["frame"] = [t[0] if t else None for t in target]
        frame["column"] = [t[1] if t else None for t in target]
        if "side" in sensors.columns:
            on_return = (frame["kind"] == "p_node") & (sensors["side"].astype(str).to_numpy() == "return")
            frame.loc[on_return, "column"] = "p_return_bar"
        station_node = stations.set_index(stations["id"].astype(str))["node_id"].astype(str)
        frame["row"] = np.where(frame["frame"] == "station_nodes", frame["element_id"].map(station_node),
                                frame["element_id"])
        self.table = frame
        self.predicted = frame[frame["frame"].notna()].reset_index(drop=True)

    def predict(self, result) -> pd.Series:
        """Modelled value per predicted sensor id (in the sensor's unit), NaN where the model has none."""
        values = np.full(len(self.predicted), np.nan)
        for (frame_name, column), group in self.predicted.groupby(["frame", "column"]):
            source = result.nodes if frame_name in ("nodes", "station_nodes") else getattr(result, frame_name)
            if column not in source.columns:
                continue
            values[group.index.to_numpy()] = source[column].reindex(group["row"]).to_numpy(dtype=float)
        return pd.Series(values, index=self.predicted["sensor_id"].to_numpy(), name="modelled")

    def residuals(self, result, measured: pd.Series) -> pd.DataFrame:
        """Model minus measurement at every sensor that has both."""
        modelled = self.predict(result)
        frame = pd.DataFrame({"modelled": modelled, "measured": measured.reindex(modelled.index)})
        frame = frame.dropna()
        frame["residual"] = frame["modelled"] - frame["measured"]
        return frame.rename_axis("sensor_id").reset_index()[["sensor_id", "measured", "modelled", "residual"]]
