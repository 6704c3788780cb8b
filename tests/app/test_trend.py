"""The element trend's legend: one entry per sensor kind, so many sensors of one kind (a community's room
sensors) do not stack rows of the same name over the plot."""

from __future__ import annotations

import pandas as pd

from app.components.trend import legend_entries, trend_figure


def _trend(sensors: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    times = pd.date_range("2026-01-10 00:00", periods=4, freq="h", tz="UTC")
    trend = pd.concat([pd.DataFrame({"bucket": times, "sensor_id": s, "avg": 20.0 + k})
                       for k, s in enumerate(sensors)])
    return trend, pd.DataFrame({"sensor_id": list(sensors), "kind": list(sensors.values())})


def test_a_communitys_room_sensors_are_one_band_with_the_coldest_room_in_the_hover():
    trend, sensors = _trend({f"S-C-001-R{k:02d}": "room_t" for k in range(12)})
    fig = trend_figure(trend, sensors, "en", "Asia/Shanghai")
    # Lowest to highest room (20.0 .. 31.0 °C) filled, the median (25.5) as the line: 3 traces, not 12.
    high, low, median = fig.data
    assert list(high.y) == [31.0] * 4 and list(low.y) == [20.0] * 4 and list(median.y) == [25.5] * 4
    assert low.fill == "tonexty" and list(low.customdata) == ["S-C-001-R00"] * 4
    assert "lowest %{customdata}" in low.hovertemplate
    assert [tr.showlegend for tr in fig.data].count(True) == 1 and median.name == "Room temp. (°C)"
    assert len({tr.legendgroup for tr in fig.data}) == 1
    assert legend_entries(trend, sensors) == 1


def test_three_sensors_of_one_kind_stay_a_line_each_named_in_the_hover():
    trend, sensors = _trend({f"S-9-T{k}": "t_supply" for k in range(3)})
    fig = trend_figure(trend, sensors, "zh", "Asia/Shanghai")
    assert len(fig.data) == 3 and [tr.showlegend for tr in fig.data].count(True) == 1
    assert "S-9-T1" in fig.data[1].hovertemplate


def test_a_stations_kinds_are_one_entry_each_above_the_plot():
    kinds = {"S-1-TS": "t_supply", "S-1-TR": "t_return", "S-1-PS": "p_supply", "S-1-F": "flow"}
    trend, sensors = _trend(kinds)
    fig = trend_figure(trend, sensors, "zh", "Asia/Shanghai")
    assert all(tr.showlegend for tr in fig.data) and len({tr.line.color for tr in fig.data}) == 4
    assert legend_entries(trend, sensors) == 4
    # Anchored by its bottom above the plot: plotly grows the top margin for its rows.
    assert fig.layout.legend.yanchor == "bottom" and fig.layout.legend.y >= 1


def test_a_sensor_of_unknown_kind_has_its_own_entry():
    trend, sensors = _trend({"X-1": "mystery", "X-2": "mystery"})
    assert legend_entries(trend, sensors) == 2
    assert all(tr.showlegend for tr in trend_figure(trend, sensors, "zh", "Asia/Shanghai").data)
