"""``/field``: a crew member's phone (390×844, thumbs, sunlight) — the team's orders, soonest due first.

The list comes from the server every few seconds; the taps (accept, arrive, pause, resume, resolve,
photos) are handled by ``assets/field.js``, which queues each with its own key on the phone and sends
the queue to ``POST /api/v1/field/actions`` when there is signal, so a tap made in a basement is not lost
and is applied once.
"""

from __future__ import annotations

import hashlib
import json

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from app import context
from app.auth.guard import page, requires
from app.auth.principal import current_principal
from app.components import fmt
from app.i18n import LANGUAGES, t
from heattwin.choices import SLA_CLOCK_STATE, WORK_ORDER_CATEGORY, WORK_ORDER_PRIORITY
from store.work_orders.sla import clock_state

dash.register_page(__name__, path="/field", title="HeatTwin — 我的工单", name="field")

REFRESH_MS = 5_000
PRIORITY_COLOUR = {c.value: c.colour for c in WORK_ORDER_PRIORITY}
CLOCK_COLOUR = {c.value: c.colour for c in SLA_CLOCK_STATE}
# The causes a crew can give, by the order's category: a household's radiators are not a station's sensor.
_HOUSEHOLD_CAUSES = ("field.cause.valve", "field.cause.air", "field.cause.filter", "field.cause.leak",
                     "field.cause.building", "field.cause.meter", "field.cause.pump", "field.cause.other")
_SERVICE_CAUSES = ("field.cause.explained", "field.cause.other")
CAUSES = {
    "room_cold": _HOUSEHOLD_CAUSES, "no_heat": _HOUSEHOLD_CAUSES,
    "leak": ("field.cause.leak", "field.cause.joint", "field.cause.burst", "field.cause.other"),
    "equipment": ("field.cause.sensor", "field.cause.meter", "field.cause.pump", "field.cause.actuator",
                  "field.cause.control", "field.cause.power", "field.cause.joint", "field.cause.other"),
    "suspend": ("field.cause.valve", "field.cause.explained", "field.cause.other"),
    "payment": _SERVICE_CAUSES, "invoice": _SERVICE_CAUSES, "refund": _SERVICE_CAUSES, "enquiry": _SERVICE_CAUSES,
    "other": _HOUSEHOLD_CAUSES,
}
assert set(CAUSES) == {c.value for c in WORK_ORDER_CATEGORY}, "a cause list for every work-order category"


@page("work_order.field")
def layout(lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    principal = current_principal()
    return html.Div(className="field", id="field-root", lang=lang, **{"data-team": principal.team_id or ""},
                    children=[
        dcc.Store(id="field-lang", data=lang), dcc.Store(id="field-sig"),
        dcc.Interval(id="field-tick", interval=REFRESH_MS),
        html.Button(id="field-refresh", className="hidden", n_clicks=0),
        html.Header(className="field-header", children=[
            html.H1(t("field.title", lang)),
            html.Div(id="field-status", className="field-status", **{"data-online": "1"})]),
        html.Main(id="field-orders", className="field-orders")])



def _clock(order, lang: str) -> html.Div:
    """The clock that matters now: on site before arriving, resolved after; once resolved, whether in time."""
    before_site = order.state in ("dispatched", "accepted", "reopened")
    due = order.site_due_at if before_site else order.sla_due_at
    if due is None or pd.isna(due):
        return html.Div(t("field.no_clock", lang), className="field-clock muted")
    label = "field.site_clock" if before_site else "field.resolve_clock"
    done = None if before_site or pd.isna(order.resolved_at) else pd.Timestamp(order.resolved_at)
    paused = done is None and order.paused_at is not None and not pd.isna(order.paused_at)
    state, seconds = clock_state(pd.Timestamp(due), done, now=pd.Timestamp.now(tz="UTC"))
    if paused:
        text = t("field.paused", lang)
    elif state == "running":
        text = fmt.age(seconds, lang, future=True)
    else:
        text = t(f"wo_clock.{state}", lang).format(time=fmt.span(seconds, lang),
                                                   at=fmt.clock(done, context.settings().timezone, True))
    return html.Div([html.Span(t(label, lang)), html.B(text, style=None if paused else {"color": CLOCK_COLOUR[state]})],
                    className="field-clock" + (" late" if state in ("breached", "missed") else "")
                    + (" paused" if paused else ""), **{"data-clock-state": state})


def _button(label: str, action: str, wo_id: int, cls: str = "") -> html.Button:
    return html.Button(label, className=f"field-act {cls}".strip(), **{"data-action": action, "data-wo": str(wo_id)})


def _resolve_form(order, lang: str) -> html.Div:
    causes = [html.Option(t(key, lang), value=t(key, "zh-CN")) for key in CAUSES.get(order.category, CAUSES["other"])]
    return html.Div(className="field-resolve", children=[
        html.Label(t("field.cause", lang)), html.Select(causes, className="field-cause", name="cause"),
        html.Label(t("field.action", lang)), html.Textarea(className="field-text", name="action", rows=2, maxLength=500),
        html.Label(t("field.materials", lang)),
        html.Textarea(className="field-text", name="materials", rows=1, maxLength=500),
        html.Label(t("field.notes", lang)), html.Textarea(className="field-text", name="notes", rows=2, maxLength=2000),
        html.Label(t("field.confirmed", lang)),
        # No answer until the crew gives one: a default 是 would record a confirmation nobody asked for.
        html.Select([html.Option(t("field.choose", lang), value="", disabled=True, selected=True),
                     html.Option(t("field.yes", lang), value="1"), html.Option(t("field.no", lang), value="0")],
                    required=True, className="field-confirmed", name="resident_confirmed"),
        html.Div(className="field-photos", **{"data-wo": str(order.id)}),
        html.Div(className="field-buttons", children=[
            _button(t("field.photo", lang), "pick-photo", order.id, "secondary"),
            _button(t("field.resolve", lang), "resolve", order.id, "primary")])])


def _actions(order, lang: str) -> list:
    navigate = html.A(t("field.navigate", lang), className="field-act secondary",
                      href=f"geo:{order.lat:.6f},{order.lon:.6f}?q={order.lat:.6f},{order.lon:.6f}") \
        if order.lat is not None and not pd.isna(order.lat) else None
    pause = _button(t("field.resume" if order.paused_at is not None and not pd.isna(order.paused_at)
                      else "field.pause", lang), "resume" if order.paused_at is not None and not pd.isna(order.paused_at)
                    else "pause", order.id, "secondary")
    if order.state in ("dispatched", "reopened"):
        return [_button(t("field.accept", lang), "accept", order.id, "primary"), navigate]
    if order.state == "accepted":
        return [navigate, _button(t("field.arrive", lang), "arrive", order.id, "primary"), pause]
    if order.state == "on_site":
        return [pause, _resolve_form(order, lang)]
    return [html.Div(t("field.done", lang), className="field-done")]


def _card(order, lang: str) -> html.Article:
    resident = " · ".join(str(v) for v in (order.resident, order.address) if v and not pd.isna(v))
    phone = html.A(order.phone, href=f"tel:{order.phone}", className="field-phone") \
        if order.phone and not pd.isna(order.phone) else None
    return html.Article(className=f"field-card state-{order.state}", id=f"field-wo-{order.id}",
                        style={"borderLeftColor": PRIORITY_COLOUR.get(order.priority, "#3498db")},
                        **{"data-wo": str(order.id), "data-state": order.state}, children=[
        html.Div(className="field-card-head", children=[
            html.Span(f"#{order.id}", className="field-id"),
            html.Span(t(f"wo_category.{order.category}", lang), className="field-category"),
            html.Span(t(f"wo_state.{order.state}", lang), className="field-state")]),
        html.H2(order.title, className="field-title"),
        html.P([resident, phone] if phone else resident, className="field-where"),
        html.P(order.description, className="field-description") if order.description else None,
        _clock(order, lang),
        html.Div([a for a in _actions(order, lang) if a is not None], className="field-actions"),
        html.Div(className="field-msg", role="status")])


@callback(Output("field-orders", "children"), Output("field-sig", "data"),
          Input("field-tick", "n_intervals"), Input("field-refresh", "n_clicks"), Input("field-lang", "data"),
          State("field-sig", "data"))
@requires("work_order.field")
def render_orders(_tick, _refresh, lang, previous):
    """The team's orders; nothing is re-sent while they are unchanged (a half-typed resolution survives)."""
    from store.work_orders.field import list_crew_orders

    principal = current_principal()
    if not principal.team_id:
        return html.P(t("field.no_team", lang), className="field-empty"), None
    orders = list_crew_orders(context.pool(), principal.team_id)
    minute = pd.Timestamp.now(tz="UTC").floor("min").isoformat()  # the clocks move on once a minute
    signature = hashlib.sha1(json.dumps([orders[["id", "state", "paused_at"]].astype(str).values.tolist(), minute,
                                         lang]).encode()).hexdigest()
    if signature == previous:
        return no_update, no_update
    if orders.empty:
        return html.P(t("field.none", lang), className="field-empty"), signature
    return [_card(o, lang) for o in orders.itertuples(index=False)], signature
