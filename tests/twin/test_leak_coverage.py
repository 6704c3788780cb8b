"""Sensor coverage for leak localization: a new pressure sensor where nothing is measured helps,
and ``heattwin leaks coverage`` names nodes."""

from __future__ import annotations

import json
from argparse import Namespace

import numpy as np
from test_twin_physics import meshed

from scripts.cmd_leaks import _coverage
from twin.leaks.coverage import coverage
from twin.model import Twin
from twin.observe import SensorMap


def test_coverage_scores_every_segment_and_an_added_sensor_improves_the_worst():
    network = meshed()
    twin = Twin(network)
    twin.solve()
    segments, nodes = coverage(twin, SensorMap(network.sensors, network.stations), add=2)
    assert len(segments) == 2 * len(network.pipes)
    assert segments["rate_to_separate_t_h"].is_monotonic_decreasing
    assert np.isfinite(segments["signal_per_t_h"]).all()
    assert len(nodes) == 2
    assert set(nodes["node_id"]) <= set(network.nodes["id"])
    assert (nodes["gain"] > 0).all()
    assert (nodes["rate_after_t_h"] <= nodes["rate_before_t_h"] + 1e-9).all()


def test_the_coverage_command_names_nodes(demo_city_dir, capsys):
    args = Namespace(json=True, network=str(demo_city_dir / "network.gpkg"), add=2, sigma_bar=0.01)
    assert _coverage(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["suggested_nodes"]) == 2
    assert all(n["node_id"].startswith("N-") for n in out["suggested_nodes"])
    assert out["segments"][0]["rate_to_separate_t_h"] >= out["segments"][-1]["rate_to_separate_t_h"]
