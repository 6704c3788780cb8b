"""Network + live state -> map layers for the wall.

Two kinds of output, kept apart on purpose (DESIGN.md, "the wall refreshes ... by sending style
values, not geometry"):

- ``feature_collections(assets, basemap)``: GeoJSON FeatureCollections, built once per network
  version. Each feature carries only its ``id`` and its index ``i`` in the layer (feature order).
- ``live_arrays(order, ...)``: per refresh, one compact integer array per layer in that same feature
  order (scaled values or status codes). The browser applies them with ``layer.setStyle``.

Colour scales are FIXED (not stretched to the data) so a colour means the same thing all season;
the browser and the legend both use ``palette(scale)``. Pure functions of frames, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from heattwin.choices import STATION_STATUS

# Map layers in drawing order (bottom first) and the asset kind each one shows.
MAP_LAYERS = {"communities": "community", "pipes": "pipe", "valves": "valve", "stations": "station",
              "sources": "source"}
COORD_DIGITS = 5  # ~1 m: finer than a wall pixel, and a third fewer bytes than full precision
STATUS_CODES = {c.value: i for i, c in enumerate(STATION_STATUS)}
NO_VALUE = None  # a missing value travels as JSON null and is drawn grey


@dataclass(frozen=True)
class Scale:
    """A fixed colour scale: values are sent as ``round(value * factor)`` integers."""

    key: str
    column: str  # twin_state column (or "residual")
    unit: str
    low: float
    high: float
    factor: int
    stops: tuple[str, ...]
    label_key: str


_THERMAL = ("#2c7bb6", "#00a6ca", "#00ccbc", "#90eb9d", "#ffff8c", "#f9d057", "#f29e2e", "#e76818", "#d7191c")
_DIVERGING = ("#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b")
PIPE_SCALES = {
    s.key: s for s in (
        Scale("t_supply", "t_supply_c", "°C", 40.0, 130.0, 10, _THERMAL, "quantity.t_supply"),
        Scale("p_supply", "p_supply_bar", "bar", 0.0, 16.0, 100, _THERMAL, "quantity.p_supply"),
        Scale("velocity", "v_m_per_s", "m/s", 0.0, 3.0, 100, _THERMAL, "quantity.velocity"),
        Scale("residual", "residual", "", -5.0, 5.0, 100, _DIVERGING, "quantity.residual"),
    )
}
DEFAULT_QUANTITY = "t_supply"
# Room-temperature compliance (share of collectors >= 18 °C), in percent: red below 80 %, green at 100 %.
COMPLIANCE_SCALE = Scale("compliance", "share_ok", "%", 50.0, 100.0, 1,
                         ("#b2182b", "#ef8a62", "#fddbc7", "#d9f0d3", "#7fbf7b", "#1b7837"),
                         "quantity.compliance")
PALETTE_SIZE = 32


def _hex_to_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def palette(scale: Scale, size: int = PALETTE_SIZE) -> list[str]:
    """``size`` colours evenly spaced from ``scale.low`` to ``scale.high`` (linear between stops)."""
    stops = np.array([_hex_to_rgb(c) for c in scale.stops])
    at = np.linspace(0.0, len(stops) - 1, size)
    rgb = np.stack([np.interp(at, np.arange(len(stops)), stops[:, k]) for k in range(3)], axis=1)
    return ["#{:02x}{:02x}{:02x}".format(*row) for row in np.rint(rgb).astype(int)]


def colour_index(values, scale: Scale, size: int = PALETTE_SIZE) -> np.ndarray:
    """Palette index of each value (clipped to the scale's ends); -1 where the value is missing."""
    values = np.asarray(values, dtype=float)
    position = (values - scale.low) / (scale.high - scale.low)
    index = np.rint(np.clip(position, 0.0, 1.0) * (size - 1))
    return np.where(np.isfinite(values), index, -1).astype(int)


def scale_spec(scale: Scale) -> dict:
    """What the browser needs to colour a scaled integer array: range, factor and palette."""
    return {"low": scale.low, "high": scale.high, "factor": scale.factor, "palette": palette(scale),
            "unit": scale.unit}


def _round_coords(coords):
    if isinstance(coords, (int, float)):
        return round(float(coords), COORD_DIGITS)
    return [_round_coords(c) for c in coords]


def _feature(row_id: str, index: int, geometry: dict) -> dict:
    # Only the id and the index: names and attributes come with the panel, not with 18k features.
    return {"type": "Feature", "properties": {"id": row_id, "i": index},
            "geometry": {"type": geometry["type"], "coordinates": _round_coords(geometry["coordinates"])}}


def feature_collections(assets: pd.DataFrame, basemap: pd.DataFrame) -> tuple[dict, dict]:
    """The wall's geometry, once per network version.

    Returns ``(collections, order)``: ``collections[layer]`` is a FeatureCollection for each of
    ``MAP_LAYERS`` plus ``"basemap"``; ``order[layer]`` the element ids in feature order, which is
    the order of every live array of that layer.
    """
    collections, order = {}, {}
    for layer, kind in MAP_LAYERS.items():
        rows = assets[assets["kind"] == kind].sort_values("id")
        features = [_feature(r.id, i, r.geometry) for i, r in enumerate(rows.itertuples(index=False))]
        collections[layer] = {"type": "FeatureCollection", "features": features}
        order[layer] = rows["id"].tolist()
    collections["basemap"] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": r.kind},
         "geometry": {"type": r.geometry["type"], "coordinates": _round_coords(r.geometry["coordinates"])}}
        for r in basemap.itertuples(index=False)]}
    return collections, order


def _scaled(values, factor: int) -> list:
    """Values (already in feature order) scaled to integers; None where missing."""
    scaled = np.rint(np.asarray(values, dtype=float) * factor)
    missing = ~np.isfinite(scaled)
    out = np.where(missing, 0, scaled).astype(np.int64).tolist()  # tolist: plain ints, fast
    for k in np.flatnonzero(missing):
        out[k] = None
    return out


def element_residuals(residuals: pd.DataFrame, sensors: pd.DataFrame) -> pd.Series:
    """Per element: the residual (modelled - measured) of its sensor with the largest |residual|."""
    if residuals.empty or sensors.empty:
        return pd.Series(dtype=float)
    joined = residuals.merge(sensors[["sensor_id", "element_id"]], on="sensor_id").dropna(subset=["residual"])
    if joined.empty:
        return pd.Series(dtype=float)
    joined = joined.assign(magnitude=joined["residual"].abs()).sort_values("magnitude", ascending=False)
    return joined.drop_duplicates("element_id").set_index("element_id")["residual"]


def align_states(order: dict, states: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Twin states of one run in each layer's feature order (all-NaN rows where the twin has none).

    Done once per run: every refresh until the next run reuses it.
    """
    by_id = states.drop_duplicates("element_id").set_index("element_id")
    return {layer: by_id.reindex(ids) for layer, ids in order.items()}


def station_status(ids: list[str], twin_status, alarms: pd.DataFrame) -> list[int | None]:
    """Status code (index into ``STATUS_CODES``) of each station, in feature order; None when unknown.

    ``twin_status`` is the twin's status per station in feature order (missing: no state). Worst
    wins: normal with a twin state; warning / alarm from the open alarms on it; offline with an open
    ``*offline`` alarm; cut_off from the twin. Without a twin state or an alarm nothing is known
    (drawn as "no data", not as a status it may not have).
    """
    twin_status = pd.Series(np.asarray(twin_status, dtype=object))
    codes = np.where(twin_status.isna().to_numpy(), -1, STATUS_CODES["normal"])
    if not alarms.empty:
        at = pd.Index(ids).get_indexer(alarms["asset_id"])
        on = at >= 0
        severity, cause = alarms["severity"].to_numpy()[on], alarms["cause"].astype(str).to_numpy()[on]
        at = at[on]
        codes[at[severity == "warning"]] = STATUS_CODES["warning"]
        codes[at[np.isin(severity, ("alarm", "critical"))]] = STATUS_CODES["alarm"]
        codes[at[np.char.endswith(cause.astype(str), "offline")]] = STATUS_CODES["offline"]
    codes[(twin_status == "cut_off").to_numpy()] = STATUS_CODES["cut_off"]
    return [None if c < 0 else c for c in codes.tolist()]


def valve_open(normally_open, twin_status) -> list[int]:
    """1 where the valve is open: its normal position unless the twin reports it closed/cut off (in feature order)."""
    normally_open = np.asarray(normally_open, dtype=object)
    open_ = np.where(pd.isna(normally_open), True, normally_open).astype(bool)
    closed = pd.Series(np.asarray(twin_status, dtype=object)).isin(("closed", "cut_off")).to_numpy()
    return (open_ & ~closed).astype(int).tolist()


def live_arrays(order: dict, *, quantity: str, aligned: dict[str, pd.DataFrame], residuals: pd.Series,
                alarms: pd.DataFrame, valves_normally_open: pd.Series,
                compliance: pd.DataFrame | None) -> dict:
    """One refresh of the wall: compact arrays in feature order, and nothing else.

    ``aligned``: ``align_states(order, states)`` of the latest run; ``residuals``: per element (see
    ``element_residuals``); ``alarms``: open alarms ``asset_id, cause, severity``; ``compliance``:
    ``community_id, share_ok`` (0..1), or None when there is no telemetry yet.
    """
    scale = PIPE_SCALES[quantity]

    def column(layer: str, name: str):
        frame = aligned.get(layer)
        if frame is None or name not in frame:
            return np.full(len(order[layer]), np.nan, dtype=object)
        return frame[name].to_numpy()

    if scale.column == "residual":
        pipe_values = residuals.reindex(order["pipes"]).to_numpy(dtype=float)
    else:
        pipe_values = pd.to_numeric(pd.Series(column("pipes", scale.column)), errors="coerce").to_numpy()
    share = (compliance.set_index("community_id")["share_ok"].reindex(order["communities"]) * 100.0
             if compliance is not None and not compliance.empty else np.full(len(order["communities"]), np.nan))
    return {
        "quantity": quantity,
        "pipes": _scaled(pipe_values, scale.factor),
        "stations": station_status(order["stations"], column("stations", "status"), alarms),
        "sources": station_status(order["sources"], column("sources", "status"), alarms),
        "valves": valve_open(valves_normally_open.reindex(order["valves"]).to_numpy(), column("valves", "status")),
        "communities": _scaled(share, COMPLIANCE_SCALE.factor),
    }
