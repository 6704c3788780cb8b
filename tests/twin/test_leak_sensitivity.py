"""Leak signatures at the sensors (``LeakSensitivity``) agree with full twin solves, and the split of a
leak between its pipe's ends conserves mass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_twin_physics import meshed

from twin.leaks.sensitivity import LeakSensitivity
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

