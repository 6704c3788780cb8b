"""Leak signatures at the sensors (``LeakSensitivity``) agree with full twin solves, and the split of a
leak between its pipe's ends conserves mass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from network_factory import make_network  # tests/twin/network_factory.py
from test_twin_physics import meshed

from twin.leaks.sensitivity import LAMBDA_AT_REST, MIN_VELOCITY_M_PER_S, LeakSensitivity, _pipe_conductance
from twin.model import Twin
from twin.observe import SensorMap

RATE_T_H = 0.1   # small: the finite difference stays in the linear range


@pytest.mark.parametrize("side", ["supply", "return"])
@pytest.mark.parametrize("x", [0.0, 0.5, 1.0])
def test_segment_signature_matches_a_full_solve_at_the_sensors(side, x):
    network = meshed()
    twin = Twin(network)
    base = twin.solve()
    ix = twin.index
    pipe = int(np.flatnonzero(ix.pipe_ids == "P-DE")[0])
    # Every pipe-end junction as a "sensor": compare the linear signature with the full solve there.
    sens = LeakSensitivity.from_result(twin, base, SensorMap(network.sensors, network.stations))
    ends = np.unique(np.concatenate([ix.supply_junction, ix.return_junction]))
    sens.sensor_junction = ends
    predicted = sens.segment_signature([pipe], x, side)[:, 0] * RATE_T_H
    twin.set_leaks(pd.DataFrame([{"pipe_id": "P-DE", "side": side, "rate_t_h": RATE_T_H, "position": x}]))
    twin.solve()
    full = (twin.net.res_junction["p_bar"].to_numpy() - _pressures(twin, base))[ends]
    assert np.abs(full).max() > 2e-5
    assert predicted == pytest.approx(full, abs=0.05 * np.abs(full).max() + 2e-5)


def _pressures(twin, base):
    """Junction pressures of the no-leak state (re-solved: the net's result table is overwritten)."""
    twin.set_leaks(None)
    twin.solve()
    p = twin.net.res_junction["p_bar"].to_numpy().copy()
    return p


def test_node_signature_by_side_covers_every_pipe_end():
    network = meshed()
    twin = Twin(network)
    twin.solve()
    sens = LeakSensitivity.from_twin(twin, SensorMap(network.sensors, network.stations))
    ends = np.unique(np.concatenate([twin.index.supply_junction, twin.index.return_junction]))
    sens.sensor_junction = ends
    signature = sens.node_signature("supply")
    assert signature.shape == (len(ends), len(np.unique(twin.index.supply_pipe_ends)))
    # A leak lowers pressure everywhere it reaches (a conductance network with grounds): never raises.
    assert (signature <= 1e-12).all()
    assert (signature < -1e-6).any()


def test_the_leak_split_conserves_mass():
    twin = Twin(meshed())
    twin.set_leaks(pd.DataFrame([{"pipe_id": "P-BC", "side": "return", "rate_t_h": 18.0, "position": 0.6}]))
    ix = twin.index
    pipe = int(np.flatnonzero(ix.pipe_ids == "P-BC")[0])
    sinks = twin.net.sink.set_index("junction")["mdot_kg_per_s"]
    assert sinks[ix.return_pipe_ends[pipe, 0]] == pytest.approx(0.4 * 5.0)
    assert sinks[ix.return_pipe_ends[pipe, 1]] == pytest.approx(0.6 * 5.0)
    assert twin.solve().summary["makeup_t_h"] == pytest.approx(18.0, rel=1e-3)



def test_a_pipe_counts_as_flowing_exactly_when_pandapipes_sees_it_above_the_velocity_floor():
    """Below ``MIN_VELOCITY_M_PER_S`` a pipe's conductance is the at-rest one (λ = 0.025), above it the
    solved ``|m| / 2|dp|``. The floor is a velocity: the mass flow it means depends on the water's density
    in that pipe, which ``sensitivity`` takes from the fluid at the solved temperature. A supply pipe at
    ~110 °C (951 kg/m³) and its return at ~50 °C (988 kg/m³) carry the same mass flow; it is set here so the
    return flows at 0.049 m/s — under the floor — while the supply, lighter, flows above it. A fixed
    density (960 or 983 kg/m³) would count the return as flowing."""
    network = make_network({"N-1": (0, 0), "N-2": (500.0, 0)}, [("P-1", "N-1", "N-2", 100, 500.0)],
                           [("SRC-1", "N-1", "pressure")], [("ST-1", "N-2", 1.0)])
    twin = Twin(network)
    ix = twin.index
    heat_mw = 0.5
    for _ in range(4):   # v ∝ m ∝ heat at a fixed return temperature
        twin.set_station_demand(pd.DataFrame({"heat_mw": [heat_mw], "t_return_c": [50.0]}, index=["ST-1"]))
        twin.solve()
        heat_mw *= 0.049 / abs(float(twin.net.res_pipe["v_mean_m_per_s"].iloc[ix.return_pipe[0]]))
    res = twin.net.res_pipe
    v = res["v_mean_m_per_s"].abs().to_numpy()
    supply, ret = ix.supply_pipe[0], ix.return_pipe[0]
    assert v[ret] == pytest.approx(0.049, abs=5e-4) and v[supply] > MIN_VELOCITY_M_PER_S
    g = _pipe_conductance(twin.net)
    m = res["mdot_from_kg_per_s"].abs().to_numpy()
    dp = (res["p_from_bar"] - res["p_to_bar"]).abs().to_numpy()
    assert g[supply] == pytest.approx(m[supply] / (2.0 * dp[supply]), rel=1e-9)
    d = twin.net.pipe["inner_diameter_mm"].to_numpy() / 1e3
    length = twin.net.pipe["length_km"].to_numpy() * 1e3
    area = np.pi * d ** 2 / 4.0
    # At rest: dp = r·m² with r = λL/(2ρdA²) Pa per (kg/s)², linearized at m = ρ·A·v_floor: ρ cancels.
    at_rest = d[ret] * area[ret] * 1e5 / (LAMBDA_AT_REST * length[ret] * MIN_VELOCITY_M_PER_S)
    assert g[ret] == pytest.approx(at_rest, rel=1e-9)
    assert g[ret] != pytest.approx(m[ret] / (2.0 * dp[ret]), rel=0.05)   # the two regimes differ here
