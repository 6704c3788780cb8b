"""Fault specifications from the command line and scenario files are checked and timed."""

from __future__ import annotations

import pandas as pd
import pytest

from twin.plant.faults import FaultError, load_fault_file, parse_cli_fault

ORIGIN = pd.Timestamp("2026-12-01 00:00", tz="UTC")


def test_cli_fault_with_offset_and_parameters():
    fault = parse_cli_fault("leak P-00123 start=+2h rate_t_h=20 side=return", ORIGIN)
    assert fault.start_at == ORIGIN + pd.Timedelta(hours=2)
    assert fault.params == {"rate_t_h": 20.0, "side": "return", "position": 0.5}
    assert not fault.active(ORIGIN + pd.Timedelta(hours=1)) and fault.active(ORIGIN + pd.Timedelta(hours=3))


def test_scenario_file_yaml(tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text("faults:\n  - {kind: pump_trip, element_id: SRC-2, start: '2026-12-01T06:00Z', end: '+8h'}\n"
                    "  - {kind: fouling, element_id: ST-0004, start: +30m, capacity_share: 0.5}\n")
    trip, fouling = load_fault_file(path, ORIGIN)
    assert trip.start_at == ORIGIN + pd.Timedelta(hours=6) and trip.end_at == ORIGIN + pd.Timedelta(hours=8)
    assert fouling.params["capacity_share"] == 0.5


@pytest.mark.parametrize("text, message", [
    ("flood P-1", "kind 'flood'"),
    ("leak ST-0001", "starts with P-"),
    ("leak P-1 rate=3", "unknown parameter"),
    ("leak P-1 side=up", "side must be"),
    ("leak P-1 start=tomorrow", "neither an ISO time"),
])
def test_bad_fault_names_what_is_wrong(text, message):
    with pytest.raises(FaultError, match=message):
        parse_cli_fault(text, ORIGIN)
