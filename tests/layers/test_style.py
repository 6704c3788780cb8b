"""layers.style: geometry once, compact arrays per refresh, fixed colour scales."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from heattwin.choices import STATION_STATUS
from layers import style

CODE = {c.value: i for i, c in enumerate(STATION_STATUS)}


def _assets() -> pd.DataFrame:
    def point(lon, lat):
        return {"type": "Point", "coordinates": [lon, lat]}

    rows = [
        ("ST-2", "station", "二号站", point(114.5000012345, 38.0), {}),
        ("ST-1", "station", "一号站", point(114.51, 38.01), {}),
        ("SRC-1", "source", "热源", point(114.49, 38.0), {}),
        ("P-1", "pipe", "", {"type": "LineString", "coordinates": [[114.49, 38.0], [114.5, 38.0]]}, {"dn_mm": 300}),
        ("P-2", "pipe", "", {"type": "LineString", "coordinates": [[114.5, 38.0], [114.51, 38.01]]}, {"dn_mm": 200}),
        ("V-1", "valve", "", point(114.5, 38.0), {"normally_open": False}),
        ("C-1", "community", "小区", {"type": "Polygon", "coordinates": [[[114.5, 38.0], [114.501, 38.0],
                                                                            [114.501, 38.001], [114.5, 38.0]]]}, {}),
        ("S-1", "sensor", "", point(114.5, 38.0), {"element_id": "P-2", "kind": "t_supply"}),
    ]
    return pd.DataFrame([{"id": i, "kind": k, "name": n, "geometry": g, "lon": 0.0, "lat": 0.0, "attrs": a}
                         for i, k, n, g, a in rows])


def _basemap() -> pd.DataFrame:
    return pd.DataFrame([{"kind": "river", "name": "河", "geometry": {
        "type": "LineString", "coordinates": [[114.4, 38.0], [114.6, 38.1]]}}])


def test_feature_collections_hold_every_element_in_id_order_with_only_id_and_index():
    collections, order = style.feature_collections(_assets(), _basemap())
    assert order["stations"] == ["ST-1", "ST-2"] and order["pipes"] == ["P-1", "P-2"]
    assert [f["properties"] for f in collections["stations"]["features"]] == [{"id": "ST-1", "i": 0},
                                                                               {"id": "ST-2", "i": 1}]
    assert len(collections["basemap"]["features"]) == 1
    assert collections["stations"]["features"][1]["geometry"]["coordinates"] == [114.5, 38.0]  # rounded
    assert "sensors" not in collections


def test_palette_runs_from_the_first_to_the_last_stop():
    scale = style.PIPE_SCALES["t_supply"]
    colours = style.palette(scale)
    assert len(colours) == style.PALETTE_SIZE
    assert colours[0] == scale.stops[0] and colours[-1] == scale.stops[-1]


def test_colour_index_clips_to_the_fixed_scale_and_marks_missing_values():
    scale = style.PIPE_SCALES["t_supply"]  # 40..130 °C
    index = style.colour_index([20.0, 40.0, 85.0, 130.0, 200.0, np.nan], scale)
    assert index.tolist() == [0, 0, 16, 31, 31, -1]


def _states():
    return pd.DataFrame({
        "element_id": ["P-2", "P-1", "ST-1", "SRC-1", "V-1"],
        "status": ["normal", "normal", "cut_off", "normal", "normal"],
        "t_supply_c": [95.04, 110.0, 90.0, 120.0, np.nan],
        "p_supply_bar": [8.0, 9.0, np.nan, 12.0, np.nan],
        "v_m_per_s": [1.234, np.nan, np.nan, np.nan, np.nan],
    })


def _arrays(quantity="t_supply", alarms=None, compliance=None, residuals=None):
    _, order = style.feature_collections(_assets(), _basemap())
    alarms = alarms if alarms is not None else pd.DataFrame(columns=["asset_id", "cause", "severity"])
    return style.live_arrays(order, quantity=quantity, aligned=style.align_states(order, _states()),
                             residuals=residuals if residuals is not None else pd.Series(dtype=float),
                             alarms=alarms, valves_normally_open=pd.Series({"V-1": False}), compliance=compliance)


def test_live_arrays_follow_feature_order_scaled_to_integers():
    arrays = _arrays()
    assert arrays["pipes"] == [1100, 950]  # P-1, P-2 in °C x 10
    assert _arrays("velocity")["pipes"] == [None, 123]
    assert arrays["valves"] == [0]  # normally closed
    assert arrays["communities"] == [None]  # no telemetry: no value, not a guess


def _city(n_pipes: int, n_stations: int, n_valves: int, n_communities: int, rng) -> tuple[dict, dict, pd.DataFrame]:
    """A city at the design's scale: geometry collections and one run's states, every value present."""
    def line():
        lon, lat = 114.0 + rng.random() * 0.5, 38.0 + rng.random() * 0.3
        return {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.002, lat + 0.001],
                                                      [lon + 0.004, lat + 0.001]]}
    def point():
        return {"type": "Point", "coordinates": [114.0 + rng.random() * 0.5, 38.0 + rng.random() * 0.3]}
    rows = [(f"P-{k:05d}", "pipe", line()) for k in range(n_pipes)]
    rows += [(f"ST-{k:04d}", "station", point()) for k in range(n_stations)]
    rows += [(f"V-{k:05d}", "valve", point()) for k in range(n_valves)]
    rows += [("SRC-1", "source", point())]
    rows += [(f"C-{k:04d}", "community", {"type": "Polygon", "coordinates": [[[114.1, 38.1], [114.101, 38.1],
                                                                             [114.101, 38.101], [114.1, 38.1]]]})
             for k in range(n_communities)]
    assets = pd.DataFrame([{"id": i, "kind": kd, "name": "", "geometry": g, "lon": 0.0, "lat": 0.0, "attrs": {}}
                           for i, kd, g in rows])
    collections, order = style.feature_collections(assets, _basemap())
    states = pd.DataFrame({"element_id": [r[0] for r in rows], "status": "normal",
                           "t_supply_c": rng.uniform(60.0, 125.0, len(rows))})
    return collections, order, states


def test_live_arrays_carry_no_geometry_and_stay_small():
    payload = json.dumps(_arrays())
    assert "coordinates" not in payload and "geometry" not in payload
    # At the design's scale (10,000 pipes, 3,400 stations: DESIGN.md's wall budget) one refresh is a
    # few bytes per element — at most 4 digits and a separator per value — and a small fraction of the
    # geometry it restyles, which the browser keeps from page load.
    collections, order, states = _city(10_000, 3_400, 2_000, 1_500, np.random.default_rng(0))
    compliance = pd.DataFrame({"community_id": order["communities"], "share_ok": 0.93})
    arrays = style.live_arrays(order, quantity="t_supply", aligned=style.align_states(order, states),
                               residuals=pd.Series(dtype=float), alarms=pd.DataFrame(columns=["asset_id", "cause",
                                                                                               "severity"]),
                               valves_normally_open=pd.Series(True, index=order["valves"]), compliance=compliance)
    values = sum(len(v) for v in arrays.values() if isinstance(v, list))
    assert values == 10_000 + 3_400 + 2_000 + 1 + 1_500 and None not in arrays["pipes"]
    size = len(json.dumps(arrays))
    assert size <= 6 * values + 100, size
    geometry = len(json.dumps({k: v for k, v in collections.items() if k != "basemap"}))
    assert size < geometry / 10, (size, geometry)


def test_station_status_worst_wins_and_without_twin_state_or_alarm_is_unknown():
    alarms = pd.DataFrame({"asset_id": ["ST-2", "ST-2", "ST-1"], "cause": ["room_t_low", "dp_low", "leak"],
                           "severity": ["warning", "alarm", "critical"]})
    arrays = _arrays(alarms=alarms)
    # ST-1: the twin says cut_off, which beats its alarm; ST-2 has no twin state, but its worst open
    # alarm (alarm over warning) is known.
    assert arrays["stations"] == [CODE["cut_off"], CODE["alarm"]]
    offline = pd.DataFrame({"asset_id": ["SRC-1"], "cause": ["sensor_offline"], "severity": ["warning"]})
    assert _arrays(alarms=offline)["sources"] == [CODE["offline"]]
    assert _arrays()["stations"] == [CODE["cut_off"], None]


def test_compliance_in_percent_and_residual_per_element():
    compliance = pd.DataFrame({"community_id": ["C-1"], "share_ok": [0.874]})
    assert _arrays(compliance=compliance)["communities"] == [87]
    residuals = style.element_residuals(
        pd.DataFrame({"sensor_id": ["S-1"], "measured": [96.0], "modelled": [95.0], "residual": [-1.0]}),
        pd.DataFrame({"sensor_id": ["S-1"], "element_id": ["P-2"]}))
    assert _arrays("residual", residuals=residuals)["pipes"] == [None, -100]


@pytest.mark.parametrize("key", list(style.PIPE_SCALES))
def test_every_pipe_scale_is_fixed_and_ordered(key):
    scale = style.PIPE_SCALES[key]
    assert scale.low < scale.high and scale.factor >= 1 and len(scale.stops) >= 2
