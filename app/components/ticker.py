"""The alarm ticker (newest first; a click selects the element) and the 24 h trend figure."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import html

from app.components import fmt
from app.components.alarm_text import describe
from app.i18n import t
from heattwin.choices import ALARM_PRIORITY, ALARM_SEVERITY, SENSOR_KIND

SEVERITY_COLOUR = {c.value: c.colour for c in ALARM_SEVERITY}
PRIORITY_COLOUR = {c.value: c.colour for c in ALARM_PRIORITY}
TICKER_LIMIT = 40
GROUPED_SHOWN = 30   # consequences listed under a root cause (the count is always whole)
_LINE_COLOURS = ("#ff6b6b", "#4dabf7", "#ffd43b", "#69db7c", "#da77f2", "#ffa94d")


def _ack_button(r, lang: str, can_ack: bool):
    if r.state == "acknowledged":
        who = getattr(r, "acknowledged_by_name", None) or r.acknowledged_by or ""
        return html.Span("✓ " + who, className="ticker-acked", title=t("alarm_state.acknowledged", lang))
    if not can_ack:
        return None
    return html.Button("✓ " + t("alarm.ack", lang), id={"type": "wall-ticker-ack", "alarm": int(r.id)}, n_clicks=0,
                       className="ticker-ack")


def _shelve_button(r, lang: str, can_shelve: bool):
    if not can_shelve:
        return None
    return html.Button(t("alarm.shelve", lang), id={"type": "wall-ticker-shelve", "alarm": int(r.id)},
                       n_clicks=0, className="ticker-shelve", title=t("alarm.shelve_needs_reason", lang))


def _line(r, lang: str, timezone: str, *, child: bool = False) -> html.Button:
    """One alarm's line: when, its priority, where (a sensor's names the element it sits on), what."""
    colour = PRIORITY_COLOUR.get(getattr(r, "priority", None), SEVERITY_COLOUR.get(r.severity, "#e74c3c"))
    host = getattr(r, "host_id", r.asset_id)
    where = r.name or r.asset_id if host == r.asset_id else f"{getattr(r, 'host_name', host)} · {r.asset_id}"
    priority = getattr(r, "priority", None) or "low"
    return html.Button(
        id={"type": "wall-ticker", "alarm": int(r.id), "element": r.asset_id},
        className=f"ticker-item prio-{priority} sev-{r.severity}" + (" leak" if r.cause == "leak" else "")
        + (" child" if child else ""),
        style={"borderLeftColor": colour}, n_clicks=0,
        children=[html.Span(fmt.clock(r.raised_at, timezone, with_date=True), className="ticker-time"),
                  html.Span(t(f"alarm_priority.{priority}", lang), className="ticker-sev", style={"color": colour},
                            title=t(f"severity.{r.severity}", lang)),
                  html.Span(where, className="ticker-el"),
                  html.Span(describe(r.cause, r.message, getattr(r, "details", None), lang),
                            className="ticker-msg", title=r.message or "")])


def _grouped(r, children: pd.DataFrame | None, lang: str, timezone: str):
    """A root cause's consequences, folded: one line that expands (they do not ring on their own)."""
    count = int(getattr(r, "grouped", 0) or 0)
    if not count:
        return None
    mine = children[children["parent_id"] == r.id] if children is not None and len(children) else children
    lines = [] if mine is None else [_line(c, lang, timezone, child=True)
                                     for c in mine.head(GROUPED_SHOWN).itertuples(index=False)]
    return html.Details(className="ticker-group", children=[
        html.Summary(t("alarm.grouped", lang).format(n=count), title=t("alarm.grouped_title", lang)), *lines])


def ticker_items(alarms: pd.DataFrame, lang: str, timezone: str, can_ack: bool = False,
                 children: pd.DataFrame | None = None, can_shelve: bool = False) -> list:
    """Presented alarms, newest first; each line selects its element, and (for those allowed) acknowledges
    or shelves it; a root cause folds its grouped consequences (``children``) under it."""
    if alarms.empty:
        return [html.Div(t("ticker.empty", lang), className="ticker-empty")]
    items = []
    for r in alarms.head(TICKER_LIMIT).itertuples(index=False):
        extras = [x for x in (_ack_button(r, lang, can_ack), _shelve_button(r, lang, can_shelve)) if x is not None]
        group = _grouped(r, children, lang, timezone)
        items.append(html.Div([_line(r, lang, timezone), *extras, *([group] if group is not None else [])],
                              className="ticker-row", **{"data-alarm": str(r.id)}))
    return items


def trend_figure(trend: pd.DataFrame | None, sensors: pd.DataFrame, lang: str, timezone: str,
                 compact: bool = False, scale: float = 1.0, note_key: str = "trend.none") -> go.Figure:
    """Means per sensor of the element over the window; empty with a note when there are none.

    ``scale`` grows fonts and lines with the wall (plotly sizes are pixels; 1 at 1920 px wide).
    """
    fig = go.Figure()
    fig.update_layout(
        template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 48 * scale, "r": 12 * scale, "t": (8 if compact else 28) * scale, "b": 28 * scale},
        font={"size": 13 * scale, "family": "Noto Sans CJK SC, sans-serif"},
        legend={"orientation": "h", "y": 1.15 if not compact else 1.25, "x": 0}, showlegend=True,
        xaxis={"gridcolor": "#1f2a3a", "nticks": 10 if compact else 6}, yaxis={"gridcolor": "#1f2a3a"})
    if trend is None or trend.empty:
        fig.add_annotation(text=t(note_key, lang), showarrow=False, font={"size": 16 * scale, "color": "#8b98a9"},
                           xref="paper", yref="paper", x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    kinds = sensors.set_index("sensor_id")["kind"].to_dict() if not sensors.empty else {}
    frame = trend.copy()
    frame["bucket"] = pd.to_datetime(frame["bucket"], utc=True).dt.tz_convert(timezone).dt.tz_localize(None)
    for k, (sensor_id, rows) in enumerate(frame.sort_values("bucket").groupby("sensor_id")):
        kind = SENSOR_KIND.get(kinds.get(sensor_id, ""))
        name = f"{t(kind.label_key, lang)} ({kind.unit})" if kind else sensor_id
        colour = _LINE_COLOURS[k % len(_LINE_COLOURS)]
        fig.add_trace(go.Scatter(x=rows["bucket"], y=rows["avg"], name=name, mode="lines",
                                 line={"color": colour, "width": 2 * scale}))
    return fig
