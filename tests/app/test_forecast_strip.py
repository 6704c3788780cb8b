"""The 48 h strip's notes (cold wave, pre-heat, weather fallback) show whole: one line each above the first
panel's title, a note wider than a phone broken at its spaces, the top margin grown for every line. No weather
forecast at all says so, never "using the one issued —"."""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.components.forecast_strip import NOTE_COLUMNS, _columns, strip_figure


def _data() -> dict:
    hours = pd.date_range("2026-12-03 09:00", periods=48, freq="h", tz="UTC")
    line = pd.Series(np.linspace(0.0, 1.0, 48), index=hours)
    return {"hours": hours, "outdoor": line - 10, "supply": pd.DataFrame({"SRC-1": line + 90}, index=hours),
            "load": line + 500, "p10": line + 450, "p90": line + 550, "curve_c": 90.0,
            "cold_wave_at": hours[30], "coldest_c": -15.2, "preheat_at": hours[20],
            "weather_issued_at": hours[0] - pd.Timedelta(hours=30), "fallback": True}


def _note(fig) -> list[str]:
    notes = [a for a in fig.layout.annotations if a.font.color == "#ffd43b"]
    assert len(notes) == 1, "the notes are one annotation"
    return notes[0].text.split("<br>")


def test_a_note_wider_than_a_phone_goes_on_two_lines_and_the_margin_holds_them():
    fig = strip_figure(_data(), "en", "Asia/Shanghai")
    lines = _note(fig)
    assert len(lines) == 4 and all(_columns(line) <= NOTE_COLUMNS for line in lines), lines
    assert " ".join(lines[2:]) == "No fresh weather forecast: using the one issued 12-02 11:00"
    assert fig.layout.margin.t >= 34 + 18 * len(lines)


def test_the_chinese_notes_are_a_line_each():
    lines = _note(strip_figure(_data(), "zh-CN", "Asia/Shanghai"))
    assert len(lines) == 3 and lines[2].startswith("天气预报缺失"), lines


def test_no_weather_forecast_says_so_and_no_fallback_note():
    hours = pd.date_range("2026-12-03 09:00", periods=48, freq="h", tz="UTC")
    empty = pd.Series(dtype=float)
    data = {**_data(), "outdoor": empty, "cold_wave_at": None, "preheat_at": None, "weather_issued_at": None,
            "no_weather": True, "fallback": False, "hours": hours}
    assert _note(strip_figure(data, "en", "Asia/Shanghai")) == ["No weather forecast"]
    assert _note(strip_figure(data, "zh-CN", "Asia/Shanghai")) == ["没有天气预报"]


def test_nothing_at_all_is_one_message_and_no_note():
    data = {"hours": pd.DatetimeIndex([], tz="UTC"), "outdoor": pd.Series(dtype=float), "supply": None,
            "load": pd.Series(dtype=float), "p10": pd.Series(dtype=float), "p90": pd.Series(dtype=float),
            "curve_c": None, "cold_wave_at": None, "coldest_c": None, "preheat_at": None,
            "weather_issued_at": None, "no_weather": True, "fallback": False}
    fig = strip_figure(data, "zh-CN", "Asia/Shanghai")
    assert not [a for a in fig.layout.annotations if a.font.color == "#ffd43b"], "no note over an empty strip"
    assert "尚无预报与调控建议" in [a.text for a in fig.layout.annotations]


def test_the_walls_strip_puts_the_supply_on_the_loads_panel_and_says_nothing_in_the_plot():
    """The wall's footer strip: two panels (outdoor; load with the supply on a right-hand axis), no legend and no
    notes in the figure (the wall writes them as text), and an empty strip without empty axes."""
    from app.components.forecast_strip import strip_notes, wall_strip_figure
    from twin.control.strip import strip_data

    hours = pd.date_range("2026-12-10 01:00", periods=48, freq="h", tz="UTC")
    data = strip_data({"hourly": {"valid_at": [h.isoformat() for h in hours], "load_mw": [30.0] * 48,
                                  "supply_c": {"SRC-1": [90.0] * 48}}},
                      pd.DataFrame({"issued_at": hours[0], "valid_at": hours,
                                    "t_outdoor_c": [2.0] * 12 + [-9.0] * 36}))
    fig = wall_strip_figure(data, "zh-CN", "Asia/Shanghai")
    curve = [trace for trace in fig.data if trace.name == "当前曲线"]
    assert not curve                              # no curve given, none drawn
    with_curve = strip_data(None, pd.DataFrame({"issued_at": hours[0], "valid_at": hours, "t_outdoor_c": 0.0}),
                            curve_c=pd.Series(80.0, index=hours))
    drawn = [trace for trace in wall_strip_figure(with_curve, "zh-CN", "Asia/Shanghai").data if trace.name == "当前曲线"]
    assert len(drawn) == 1 and len(drawn[0].y) == 48 and drawn[0].yaxis == "y3"
    supply = [trace for trace in fig.data if trace.name.startswith("SRC-1")]
    assert supply and supply[0].yaxis == "y3" and fig.layout.yaxis3.overlaying == "y2"
    assert not fig.layout.showlegend and not fig.layout.annotations
    assert any("寒潮" in note for note in strip_notes(data, "zh-CN", "Asia/Shanghai"))
    empty = wall_strip_figure(strip_data(None, pd.DataFrame()), "zh-CN", "Asia/Shanghai")
    assert empty.layout.xaxis.visible is False and len(empty.layout.annotations) == 1


def test_the_time_axis_is_in_digits_with_the_legend_below_its_two_lines():
    """Plotly's default wrote "Dec 5, 2026" in English under the hours, where the legend's first row sat."""
    fig = strip_figure(_data(), "zh-CN", "Asia/Shanghai")
    assert {axis.tickformat for axis in (fig.layout.xaxis, fig.layout.xaxis2, fig.layout.xaxis3)} == {"%H:%M<br>%m-%d"}
    assert fig.layout.legend.yanchor == "top" and fig.layout.legend.y <= -0.15
