"""The 24 h trend of an element's sensors (the panel's graph and the wall's trend strip): one y-axis per
unit, so flow (t/h), pressure (bar), power (MW) and temperature (°C) are each read on their own scale."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app.i18n import t
from heattwin.choices import SENSOR_KIND

_LINE_COLOURS = ("#ff6b6b", "#4dabf7", "#ffd43b", "#69db7c", "#da77f2", "#ffa94d")
# The order units take their axes in: left, right, then shifted further out on each side.
UNIT_ORDER = ("°C", "bar", "t/h", "MW")
_AXIS_SIDES = ("left", "right", "left", "right")
BAND_FROM = 4   # sensors of one kind drawn as a band (lowest, median, highest) instead of a line each


def units_of(trend: pd.DataFrame | None, sensors: pd.DataFrame) -> list[str]:
    """The units the trend's sensors read in, in axis order (known units first)."""
    if trend is None or trend.empty:
        return []
    kinds = _sensor_kinds(sensors)
    found = {_unit(kinds.get(s), trend, s) for s in trend["sensor_id"].unique()}
    return [u for u in UNIT_ORDER if u in found] + sorted(found - set(UNIT_ORDER))


def _unit(kind: str | None, trend: pd.DataFrame, sensor_id: str) -> str:
    choice = SENSOR_KIND.get(kind or "")
    if choice:
        return choice.unit
    if "unit" in trend.columns:
        units = trend.loc[trend["sensor_id"] == sensor_id, "unit"].dropna()
        if len(units):
            return str(units.iloc[0])
    return ""


def _sensor_kinds(sensors: pd.DataFrame) -> dict:
    """Sensor id → kind of the element's sensors."""
    return sensors.set_index("sensor_id")["kind"].to_dict() if not sensors.empty else {}


def _entry(kinds: dict, sensor_id: str) -> str:
    """The legend entry a sensor's line is under: its kind, or the sensor itself when its kind is unknown."""
    return kinds.get(sensor_id) if SENSOR_KIND.get(kinds.get(sensor_id) or "") else sensor_id


def legend_entries(trend: pd.DataFrame | None, sensors: pd.DataFrame) -> int:
    """How many entries the trend's legend has (one per sensor kind): the page sizes the graph by it."""
    if trend is None or trend.empty:
        return 0
    kinds = _sensor_kinds(sensors)
    return len({_entry(kinds, s) for s in trend["sensor_id"].unique()})


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def _add_band(fig: go.Figure, rows: pd.DataFrame, name: str, entry: str, colour: str, yaxis: str, lang: str,
              scale: float) -> None:
    """Many sensors of one kind (a community's forty room sensors) as one band: lowest to highest at each
    time, with the median as its line and the lowest sensor named in the hover. Three traces instead of one
    per sensor: a community's figure was 200-670 KB of JSON, drawn in the panel and in the strip."""
    rows = rows.dropna(subset=["avg"]).reset_index(drop=True)
    per_time = rows.groupby("bucket")["avg"]
    band = pd.DataFrame({"low": per_time.min(), "median": per_time.median(), "high": per_time.max()})
    band["lowest"] = rows.loc[per_time.idxmin(), "sensor_id"].to_numpy()
    common = {"x": band.index, "mode": "lines", "legendgroup": entry, "yaxis": yaxis}
    edge = {"line": {"width": 0, "color": colour}, "showlegend": False}

    def hover(label: str) -> str:
        return f"{label}: %{{y:.4g}}<extra>{name}</extra>"
    fig.add_trace(go.Scatter(y=band["high"], hovertemplate=hover(t("trend.highest", lang)), **edge, **common))
    fig.add_trace(go.Scatter(y=band["low"], fill="tonexty", fillcolor=_rgba(colour, 0.25), customdata=band["lowest"],
                             hovertemplate=hover(t("trend.lowest", lang) + " %{customdata}"), **edge, **common))
    fig.add_trace(go.Scatter(y=band["median"], name=name, showlegend=True, hovertemplate=hover(t("trend.median", lang)),
                             line={"color": colour, "width": 2 * scale}, **common))


def trend_figure(trend: pd.DataFrame | None, sensors: pd.DataFrame, lang: str, timezone: str,
                 compact: bool = False, scale: float = 1.0, note_key: str = "trend.none") -> go.Figure:
    """Means per sensor of the element over the window (``BAND_FROM`` or more of one kind as one band), each
    on the y-axis of its unit; empty with a note when there are none. ``scale`` grows fonts and lines with the wall (plotly sizes are pixels; 1 at 1920)."""
    fig = go.Figure()
    units = units_of(trend, sensors)
    extra = max(0, len(units) - 2)    # axes beyond the first two are shifted out on either side
    fig.update_layout(
        template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": (48 + 22 * ((extra + 1) // 2)) * scale, "r": (12 + (40 if len(units) > 1 else 0)
                                                                   + 22 * (extra // 2)) * scale,
                "t": (8 if compact else 28) * scale, "b": 28 * scale},
        font={"size": 13 * scale, "family": "Noto Sans CJK SC, sans-serif"},
        # The legend sits above the plot, anchored by its bottom: plotly grows the top margin by its rows,
        # so it wraps upward instead of over the lines and the axis titles (7 sensors are 4 rows in a panel).
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
                "font": {"size": 12 * scale}, "tracegroupgap": 0}, showlegend=True,
        xaxis={"gridcolor": "#1f2a3a", "nticks": 10 if compact else 6})
    if not units:
        fig.add_annotation(text=t(note_key, lang), showarrow=False, font={"size": 16 * scale, "color": "#8b98a9"},
                           xref="paper", yref="paper", x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    kinds = _sensor_kinds(sensors)
    frame = trend.copy()
    frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True).dt.tz_convert(timezone).dt.tz_localize(None)
    frame["entry"] = frame["sensor_id"].map(lambda s: _entry(kinds, s))
    frame = frame.sort_values("bucket")
    axis_colour, entry_colour = {}, {}
    shared = frame.groupby("entry")["sensor_id"].nunique()
    for sensor_id, rows in frame.groupby("sensor_id"):
        kind = SENSOR_KIND.get(kinds.get(sensor_id, ""))
        unit = _unit(kinds.get(sensor_id), trend, sensor_id)
        name = f"{t(kind.label_key, lang)} ({kind.unit})" if kind else sensor_id
        entry = rows["entry"].iloc[0]
        first = entry not in entry_colour
        colour = entry_colour.setdefault(entry, _LINE_COLOURS[len(entry_colour) % len(_LINE_COLOURS)])
        axis_colour.setdefault(unit, colour)
        n = units.index(unit)
        yaxis = "y" if n == 0 else f"y{n + 1}"
        if shared[entry] >= BAND_FROM:
            if first:
                _add_band(fig, frame[frame["entry"] == entry], name, entry, colour, yaxis, lang, scale)
            continue
        # One legend entry per kind; the hover names the sensor when the kind has several.
        hover = {"hovertemplate": f"{sensor_id}: %{{y:.4g}}<extra>{name}</extra>"} if shared[entry] > 1 else {}
        fig.add_trace(go.Scatter(x=rows["bucket"], y=rows["avg"], name=name, mode="lines", legendgroup=entry,
                                 showlegend=first, yaxis=yaxis, line={"color": colour, "width": 2 * scale},
                                 **hover))
    for n, unit in enumerate(units):
        axis = {"title": {"text": unit, "font": {"color": axis_colour[unit]}}, "side": _AXIS_SIDES[n % 4],
                "tickfont": {"color": axis_colour[unit]}, "zeroline": False,
                "gridcolor": "#1f2a3a" if n == 0 else "rgba(0,0,0,0)"}
        if n > 0:
            axis["overlaying"] = "y"
        if n > 1:
            axis.update(anchor="free", autoshift=True)
        fig.update_layout({"yaxis" if n == 0 else f"yaxis{n + 1}": axis})
    return fig
