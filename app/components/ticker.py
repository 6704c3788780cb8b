"""The alarm ticker: presented alarms newest first, a root cause folding its consequences; a click selects the element."""

from __future__ import annotations

import pandas as pd
from dash import html

from app.components import fmt
from app.components.alarm_text import describe
from app.i18n import t
from heattwin.choices import ALARM_PRIORITY, ALARM_SEVERITY

SEVERITY_COLOUR = {c.value: c.colour for c in ALARM_SEVERITY}
PRIORITY_COLOUR = {c.value: c.colour for c in ALARM_PRIORITY}
TICKER_LIMIT = 40
GROUPED_SHOWN = 30   # consequences listed under a root cause (the count is always whole)


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
    """One alarm's line: when, its priority, where (a sensor's names the element it sits on), what. A
    grouped consequence's line is one component (its text in one run): a root cause folds up to
    ``GROUPED_SHOWN`` of them, and every component the page holds costs each of the renderer's dispatches."""
    colour = PRIORITY_COLOUR.get(getattr(r, "priority", None), SEVERITY_COLOUR.get(r.severity, "#e74c3c"))
    host = getattr(r, "host_id", r.asset_id)
    where = r.name or r.asset_id if host == r.asset_id else f"{getattr(r, 'host_name', host)} · {r.asset_id}"
    priority = getattr(r, "priority", None) or "low"
    parts = (fmt.clock(r.raised_at, timezone, with_date=True), t(f"alarm_priority.{priority}", lang), where,
             describe(r.cause, r.message, getattr(r, "details", None), lang))
    line = {"id": {"type": "wall-ticker", "alarm": int(r.id), "element": r.asset_id}, "n_clicks": 0,
            "className": f"ticker-item prio-{priority} sev-{r.severity}" + (" leak" if r.cause == "leak" else "")
            + (" child" if child else ""), "style": {"borderLeftColor": colour}}
    if child:
        return html.Button(" · ".join(parts), title=r.message or "", **line)
    return html.Button(**line, children=[
        html.Span(parts[0], className="ticker-time"),
        html.Span(parts[1], className="ticker-sev", style={"color": colour}, title=t(f"severity.{r.severity}", lang)),
        html.Span(parts[2], className="ticker-el"), html.Span(parts[3], className="ticker-msg", title=r.message or "")])


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
