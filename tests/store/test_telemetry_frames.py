"""Parsing what ingest routes receive: times in every accepted form, values, pre-parse reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from store.telemetry.frames import parse_times, stage_frame


def test_times_in_every_form_become_utc():
    cells = pd.Series(["2026-01-01T08:00:00+08:00", "2026-01-01 03:00", "1767225600", 1767225600.5,
                       "2026-01-01T01:00Z", "2026-01-01", "2026-01-01T00:00:00.5-01:30"], dtype=object)
    expected = [datetime(2026, 1, 1, 0, 0), datetime(2026, 1, 1, 3, 0), datetime(2026, 1, 1),
                datetime(2026, 1, 1, 0, 0, 0, 500000), datetime(2026, 1, 1, 1, 0), datetime(2026, 1, 1),
                datetime(2026, 1, 1, 1, 30, 0, 500000)]
    assert list(parse_times(cells)) == [pd.Timestamp(t, tz=UTC) for t in expected]


def test_naive_time_is_utc_whatever_comes_before_it():
    # pandas alone would give the second cell the first one's +08:00.
    parsed = parse_times(pd.Series(["2026-01-01T00:00:00+08:00", "2026-01-01 03:00"]))
    assert parsed.iloc[1] == pd.Timestamp("2026-01-01 03:00", tz=UTC)


def test_unreadable_cells_are_labelled_not_dropped():
    rows = pd.DataFrame({"time": ["2026-01-01T00:00Z", "soon", None, "2026-01-01T00:00Z", True],
                         "sensor_id": ["S-1", "S-1", "S-1", None, "S-1"],
                         "value": [1.0, 2.0, 3.0, 4.0, 5.0]})
    staged = stage_frame(rows)
    assert list(staged.reason) == [None, "time_unparseable", "time_missing", "sensor_missing", "time_unparseable"]
    assert list(staged.ord) == [0, 1, 2, 3, 4] and staged.raw.iloc[1] == "S-1,soon,2.0"
