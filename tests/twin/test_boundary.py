"""Boundary conditions from a telemetry window: what the twin assumes where readings are missing."""

from __future__ import annotations

import pandas as pd
import pytest
from test_twin_physics import meshed

from twin.boundary import LastGood, boundary_from_readings
from twin.plant.control import occupancy_factor


def _estimated_heat_mw(network, at) -> pd.Series:
    boundary = boundary_from_readings(network, pd.Series(dtype=float), at=pd.Timestamp(at), last_good=LastGood())
    assert boundary.stations["estimated"].all()   # no readings: every station's demand is estimated
    return boundary.stations["heat_mw"]


@pytest.mark.parametrize("zone, utc_of_local_evening", [("Asia/Shanghai", "11:30"), ("Europe/Berlin", "18:30")])
def test_estimated_demand_follows_the_hour_in_the_configured_time_zone(monkeypatch, zone, utc_of_local_evening):
    """Without readings a station's demand comes from its design load and the hour of the day where the
    network is (``HEATTWIN_TIMEZONE``): 19:30 there is the evening peak, 02:30 the night set-back."""
    monkeypatch.setenv("HEATTWIN_TIMEZONE", zone)
    network = meshed()
    evening = _estimated_heat_mw(network, f"2026-12-10 {utc_of_local_evening}Z")
    night = _estimated_heat_mw(network, pd.Timestamp(f"2026-12-10 {utc_of_local_evening}Z") + pd.Timedelta(hours=7))
    assert (evening / night).to_numpy() == pytest.approx(occupancy_factor(19.5) / occupancy_factor(2.5))
    assert (evening > night).all()
