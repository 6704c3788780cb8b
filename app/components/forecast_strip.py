"""The wall's 48 h strip: outdoor forecast, forecast load with its band, current and advised supply per source,
the next cold wave and when to start pre-heating; a weather forecast that fell back to an older issue says so,
and no weather forecast at all says that instead."""

from __future__ import annotations

import unicodedata

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.components import fmt
from app.i18n import t

_SOURCE_COLOURS = ("#ff6b6b", "#ffa94d", "#ffd43b", "#da77f2")
_LOAD_COLOUR, _OUTDOOR_COLOUR, _WAVE_COLOUR = "#4dabf7", "#69db7c", "#74c0fc"
# The widest note line, in columns (a Chinese character is two): at the notes' 13 px it fits a phone's 390 px
# beside the plot's left margin.
NOTE_COLUMNS = 44


def strip_figure(data: dict, lang: str, timezone: str, *, scale: float = 1.0) -> go.Figure:
    """``data`` from ``twin.control.strip.strip_data``; ``scale`` grows fonts with the wall (1 at 1920 px)."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=(t("strip.outdoor", lang), t("strip.load", lang), t("strip.supply", lang)))
    fig.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      margin={"l": 48 * scale, "r": 12 * scale, "t": 28 * scale, "b": 24 * scale},
                      font={"size": 12 * scale, "family": "Noto Sans CJK SC, sans-serif"},
                      legend={"orientation": "h", "y": -0.17, "yanchor": "top", "x": 0}, showlegend=True)
    _add_series(fig, data, lang, timezone, scale, supply_row=3)
    outdoor, supply = data["outdoor"], data["supply"]
    _wave_lines(fig, data, timezone)
    notes = strip_notes(data, lang, timezone)
    nothing = not len(outdoor) and supply is None
    if notes:
        # One line per note above the first panel's title, in a top margin grown to hold them (at y=1.12 of
        # the plot a note sat on the title and was cut off by the figure's edge). A note longer than a phone
        # is wide (390 px) goes on two lines: plotly's text never wraps, the figure's edge cut it off.
        lines = [line for note in notes for line in _wrap(note)]
        line_px = 18 * scale
        fig.update_layout(margin={"t": (28 + 6) * scale + line_px * len(lines)})
        fig.add_annotation(text="<br>".join(lines), showarrow=False, xref="paper", yref="paper", x=0, y=1,
                           xanchor="left", yanchor="bottom", yshift=22 * scale, align="left",
                           font={"size": 13 * scale, "color": "#ffd43b"})
    if nothing:
        fig.add_annotation(text=t("strip.none", lang), showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                           font={"size": 15 * scale, "color": "#8b98a9"})
    # The date in digits under each hour (plotly's default wrote "Dec 5, 2026" in English on a Chinese page),
    # and the legend below both lines of it (at -0.08 its first row sat on the dates).
    fig.update_xaxes(gridcolor="#1f2a3a", tickformat="%H:%M<br>%m-%d")
    fig.update_yaxes(gridcolor="#1f2a3a")
    return fig


def _add_series(fig: go.Figure, data: dict, lang: str, timezone: str, scale: float, *, supply_row: int,
                supply_secondary: bool = False) -> None:
    """The outdoor forecast (row 1), the load and its band (row 2), the supply per source and the current curve
    (``supply_row``, on the secondary axis when ``supply_secondary``)."""
    outdoor, hours, supply = data["outdoor"], _local(data["hours"], timezone), data["supply"]
    if len(outdoor):
        fig.add_trace(go.Scatter(x=_local(outdoor.index, timezone), y=outdoor.to_numpy(), name=t("strip.outdoor", lang),
                                 line={"color": _OUTDOOR_COLOUR, "width": 2 * scale}), row=1, col=1)
    if len(data["load"]):
        if data["p90"].notna().any():
            fig.add_trace(go.Scatter(x=hours, y=data["p90"].to_numpy(), line={"width": 0}, showlegend=False,
                                     hoverinfo="skip"), row=2, col=1)
            fig.add_trace(go.Scatter(x=hours, y=data["p10"].to_numpy(), fill="tonexty", line={"width": 0},
                                     fillcolor="rgba(77,171,247,0.25)", name=t("strip.band", lang)), row=2, col=1)
        fig.add_trace(go.Scatter(x=hours, y=data["load"].to_numpy(), name=t("strip.load", lang),
                                 line={"color": _LOAD_COLOUR, "width": 2 * scale}), row=2, col=1)
    where = {"row": supply_row, "col": 1, **({"secondary_y": True} if supply_secondary else {})}
    if supply is not None:
        for k, source in enumerate(supply.columns):
            fig.add_trace(go.Scatter(x=hours, y=supply[source].to_numpy(), name=f"{source} {t('strip.advised', lang)}",
                                     line={"color": _SOURCE_COLOURS[k % len(_SOURCE_COLOURS)], "width": 2 * scale}),
                          **where)
    curve = data.get("curve_c")
    if isinstance(curve, pd.Series) and len(curve):      # the heating curve at each forecast hour
        fig.add_trace(go.Scatter(x=_local(curve.index, timezone), y=curve.to_numpy(), name=t("strip.current", lang),
                                 line={"color": "#adb5bd", "dash": "dot", "width": 1.5 * scale}), **where)
    elif curve is not None and not isinstance(curve, pd.Series) and len(hours):
        fig.add_trace(go.Scatter(x=[hours[0], hours[-1]], y=[curve] * 2, name=t("strip.current", lang),
                                 line={"color": "#adb5bd", "dash": "dot", "width": 1.5 * scale}), **where)


def strip_notes(data: dict, lang: str, timezone: str) -> list[str]:
    """What the strip says in words: the cold wave, when pre-heating starts, and an old or missing forecast."""
    notes = []
    if data.get("cold_wave_at") is not None:
        notes.append(t("strip.cold_wave", lang).format(at=fmt.clock(data["cold_wave_at"], timezone, True),
                                                       t=fmt.number(data["coldest_c"], "°C")))
    if data.get("preheat_at") is not None:
        notes.append(t("strip.preheat", lang).format(at=fmt.clock(data["preheat_at"], timezone, True)))
    nothing = not len(data["outdoor"]) and data["supply"] is None
    if data.get("no_weather") and not nothing:
        notes.append(t("strip.no_weather", lang))
    elif data.get("fallback"):
        notes.append(t("strip.fallback", lang).format(at=fmt.clock(data["weather_issued_at"], timezone, True)))
    return notes


def _wave_lines(fig: go.Figure, data: dict, timezone: str) -> None:
    """The cold wave's start (dashed) and the advice's pre-heat (dotted), across every panel."""
    if data.get("cold_wave_at") is not None:
        fig.add_vline(x=_local(pd.DatetimeIndex([data["cold_wave_at"]]), timezone)[0],
                      line={"color": _WAVE_COLOUR, "dash": "dash"})
    if data.get("preheat_at") is not None:
        fig.add_vline(x=_local(pd.DatetimeIndex([data["preheat_at"]]), timezone)[0],
                      line={"color": "#ffa94d", "dash": "dot"})


def wall_strip_figure(data: dict, lang: str, timezone: str, *, scale: float = 1.0) -> go.Figure:
    """The strip for the wall's footer (a fifth of the screen's height): two panels — the outdoor forecast; the
    load with its band (left axis) under the supply per source (right axis) — each axis titled in its
    series' colour, no legend, no notes (the wall writes them beside it, as text that wraps)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.38, 0.62],
                        specs=[[{}], [{"secondary_y": True}]])
    fig.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      margin={"l": 44 * scale, "r": 44 * scale, "t": 6 * scale, "b": 20 * scale},
                      font={"size": 11 * scale, "family": "Noto Sans CJK SC, sans-serif"}, showlegend=False)
    _add_series(fig, data, lang, timezone, scale, supply_row=2, supply_secondary=True)
    outdoor, supply = data["outdoor"], data["supply"]
    _wave_lines(fig, data, timezone)
    axis = {"gridcolor": "#1f2a3a", "title_font": {"size": 11 * scale}, "title_standoff": 2, "nticks": 4}
    fig.update_yaxes(title_text=t("strip.axis_outdoor", lang), title_font_color=_OUTDOOR_COLOUR, row=1, col=1, **axis)
    fig.update_yaxes(title_text=t("strip.axis_load", lang), title_font_color=_LOAD_COLOUR, row=2, col=1,
                     secondary_y=False, **axis)
    fig.update_yaxes(title_text=t("strip.axis_supply", lang), title_font_color=_SOURCE_COLOURS[0], row=2, col=1,
                     secondary_y=True, showgrid=False, **{k: v for k, v in axis.items() if k != "gridcolor"})
    fig.update_xaxes(gridcolor="#1f2a3a", tickformat="%H:%M\n%m-%d")
    if not len(outdoor) and supply is None and not len(data["load"]):
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.add_annotation(text=t("strip.none", lang), showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                           font={"size": 13 * scale, "color": "#8b98a9"})
    return fig


def _columns(text: str) -> int:
    """How wide ``text`` is in columns: a Chinese character is two, as wide as two Latin ones."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap(note: str, columns: int = NOTE_COLUMNS) -> list[str]:
    """``note`` in lines of at most ``columns`` columns, broken at its spaces (a word longer stays whole)."""
    lines: list[str] = []
    for word in note.split(" "):
        if lines and _columns(lines[-1]) + 1 + _columns(word) <= columns:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _local(index, timezone: str):
    return pd.DatetimeIndex(index).tz_convert(timezone).tz_localize(None) if len(index) else []
