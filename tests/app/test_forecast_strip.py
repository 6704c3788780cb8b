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
