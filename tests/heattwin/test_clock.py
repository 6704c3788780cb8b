"""Local hours in the network's zone, daylight saving included (the plant's households live by them)."""

from __future__ import annotations

import numpy as np
import pytest

from heattwin.clock import local_hour_of, local_hours


def test_local_hours_follow_the_zone_and_its_daylight_saving():
    assert local_hour_of("2026-12-01T16:30:00Z", "Asia/Shanghai") == pytest.approx(0.5)
    # Berlin is UTC+1 in winter and UTC+2 in summer: the same UTC hour is a different local hour.
    winter, summer = local_hours(["2026-01-15T12:00Z", "2026-07-15T12:00Z"], "Europe/Berlin")
    assert (winter, summer) == (13.0, 14.0)


def test_the_configured_zone_is_the_default(monkeypatch):
    monkeypatch.setenv("HEATTWIN_TIMEZONE", "America/New_York")
    assert np.allclose(local_hours(["2026-12-01T17:15Z"]), [12.25])
