"""``/hotline``: the agent's desk (客服坐席). A call put through to this agent (``POST /api/v1/calls``, or typed
in) brings up the caller's record on the next poll: household, payment and heating status, the room
temperature of the last 24 h, the station's live state and alarms, any known incident that covers the
household, and its past tickets. The agent answers from the knowledge base (resolved on first contact) or
files an order (with its SLA and the suggested team), which inside a known incident becomes a child ticket.
"""

from __future__ import annotations

import threading

import dash
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from app import context
from app.auth.guard import actor, page, requires
from app.auth.principal import current_principal
from app.components import fmt
from app.components.wall_data import compliance_threshold_c
from app.i18n import LANGUAGES, t
from heattwin.choices import PAYMENT_STATUS, WORK_ORDER_CATEGORY
from heattwin.segment import warm_up
from store import calls as store_calls
from store.audit import record_event
from store.work_orders import get_work_order
from store.work_orders.dispatch import suggest_teams

dash.register_page(__name__, path="/hotline", title="HeatTwin — 热线坐席", name="hotline")

POLL_MS = 700  # a ringing call is on screen within a second
PAYMENT_COLOUR = {c.value: c.colour for c in PAYMENT_STATUS}
# The segmenter's dictionary takes a second or two to load: not on the first caller's search.
threading.Thread(target=warm_up, name="segmenter-warm", daemon=True).start()


def _action_panel(lang: str) -> html.Aside:
    categories = [{"label": t(c.label_key, lang), "value": c.value} for c in WORK_ORDER_CATEGORY]
    return html.Aside(className="hotline-actions", children=[
        html.Label(t("orders.category", lang)),
        dcc.Dropdown(id="hotline-category", options=categories, value="room_cold", clearable=False),
        html.Label(t("hotline.note", lang)),
        dcc.Textarea(id="hotline-note", maxLength=2000, className="hotline-note"),
        # Filing stays in view above the answers, however many the search offers.
        html.Div(className="hotline-buttons", children=[
            html.Button(t("hotline.file", lang), id="hotline-file", n_clicks=0, className="orders-button primary")]),
        html.Div(id="hotline-result", className="hotline-result", role="status"),
        html.Label(t("hotline.kb", lang)),
        dcc.Input(id="hotline-kb-query", type="search", debounce=0.3, maxLength=100, placeholder="不热 / 报停 / 发票",
                  className="hotline-input"),
        html.Div(id="hotline-kb-results", className="hotline-kb")])


@page("call.answer")
def layout(lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    return html.Div(className="hotline", id="hotline-root", lang=lang, children=[
        dcc.Store(id="hotline-lang", data=lang), dcc.Store(id="hotline-call"), dcc.Store(id="hotline-household"),
        dcc.Interval(id="hotline-poll", interval=POLL_MS),
        html.Header(className="hotline-header", children=[
            html.H2(t("hotline.title", lang)),
            dcc.Input(id="hotline-typed-phone", type="tel", maxLength=20, placeholder=t("hotline.typed", lang),
                      className="hotline-input"),
            html.Button(t("hotline.take", lang), id="hotline-take", n_clicks=0, className="orders-button"),
            dcc.Input(id="hotline-search", type="search", debounce=0.4, maxLength=60,
                      placeholder=t("hotline.search", lang), className="hotline-input wide"),
            # Found households drop down over the desk instead of pushing the caller's record down.
            html.Div(id="hotline-search-results", className="hotline-search-results")]),
        html.Div(className="hotline-main", children=[
            html.Main(id="hotline-popup", className="hotline-popup",
                      children=html.P(t("hotline.waiting", lang), className="muted")),
            _action_panel(lang)])])


def _fact_list(pairs) -> html.Dl:
    return html.Dl([x for k, v in pairs for x in (html.Dt(k), html.Dd(v))], className="facts")


def _room_strip(room: pd.DataFrame, lang: str) -> html.Div:
    if room.empty:
        return html.P(t("hotline.no_collector", lang), className="muted")
    values = room["avg"].astype(float)
    threshold = compliance_threshold_c()
    bars = [html.Span(className="room-bar" + (" cold" if v < threshold else ""),
                      style={"height": f"{max(8.0, min(100.0, (v - 10.0) * 8.0)):.0f}%"}, title=f"{v:.1f} °C")
            for v in values]
    return html.Div(className="hotline-room", children=[
        html.Div([html.B(fmt.number(values.iloc[-1], "°C", 1)), " ",
                  t("hotline.room_24h", lang).format(low=f"{values.min():.1f}", mean=f"{values.mean():.1f}")]),
        html.Div(bars, className="room-bars", **{"data-latest": f"{values.iloc[-1]:.1f}"})])


def _incident_banner(incidents: pd.DataFrame, lang: str) -> html.Div | None:
    if incidents.empty:
        return None
    timezone = context.settings().timezone
    items = []
    for i in incidents.itertuples(index=False):
        back = fmt.clock(i.expected_back_at, timezone, True) if i.expected_back_at is not None \
            and not pd.isna(i.expected_back_at) else t("hotline.back_unknown", lang)
        items.append(html.Li(t("hotline.incident_line", lang).format(
            title=i.title, since=fmt.clock(i.started_at, timezone, True), back=back, n=f"{int(i.households):,}"),
            **{"data-incident": str(i.id), "data-kind": i.kind}))
    return html.Div(className="hotline-incident", role="alert", children=[html.H3(t("hotline.known_outage", lang)),
                                                                         html.Ul(items)])


def _station_block(station: dict, lang: str) -> html.Div:
    facts = [(t("sensor.t_supply", lang), fmt.number(station.get("t_supply_c"), "°C", 1)),
             (t("hotline.dp", lang), fmt.number((station.get("p_supply_bar") or 0) - (station.get("p_return_bar") or 0)
                                                if station.get("p_supply_bar") is not None else None, "bar", 2)),
             (t("hotline.station_status", lang), t(f"status.{store_calls.station_status(station)}", lang))]
    alarms = [html.Li(f"{t('cause.' + a['cause'], lang)} · {t('severity.' + a['severity'], lang)}")
              for a in station.get("alarms", [])]
    return html.Div(className="hotline-station", children=[_fact_list(facts),
                                                           html.Ul(alarms, className="hotline-alarms") if alarms else None])


def _tickets(tickets: pd.DataFrame, lang: str) -> html.Ul:
    timezone = context.settings().timezone
    if tickets.empty:
        return html.P(t("hotline.no_tickets", lang), className="muted")
    return html.Ul(className="hotline-tickets", children=[
        html.Li([html.A(f"#{r.id}", href=f"/orders?order={r.id}", target="_blank"),
                 f" {fmt.clock(r.created_at, timezone, True)} · {t('wo_category.' + r.category, lang)} · "
                 f"{t('wo_state.' + r.state, lang)} · {r.title}"]) for r in tickets.itertuples(index=False)])


def popup_view(popup: dict | None, phone: str, lang: str) -> list:
    """The pop-up: who calls, the room temperature, the station, known incidents, past tickets."""
    if popup is None:
        return [html.H3(t("hotline.unknown", lang).format(phone=phone), className="hotline-unknown"),
                html.P(t("hotline.search_hint", lang), className="muted")]
    h = popup["household"]
    facts = [(t("hotline.address", lang), h["address"]), (t("hotline.phone", lang), h["phone"]),
             (t("element.community", lang), h["community"] or h["community_id"]),
             (t("element.station", lang), h["station"] or h["station_id"]),
             (t("hotline.area", lang), fmt.number(h["area_m2"], "m²", 0)),
             (t("hotline.heating", lang), t(f"heating.{h['heating_status']}", lang)),
             (t("hotline.payment", lang), html.Span(t(f"payment.{h['payment_status']}", lang),
                                                    style={"color": PAYMENT_COLOUR.get(h["payment_status"])}))]
    return [html.Header(className="hotline-caller", **{"data-household": h["id"]}, children=[
                html.H3(h["name"] or h["id"]), html.Span(h["id"], className="muted")]),
            _incident_banner(popup["incidents"], lang), _fact_list(facts),
            html.H4(t("hotline.room", lang)), _room_strip(popup["room"], lang),
            html.H4(t("hotline.station", lang)), _station_block(popup["station"], lang),
            html.H4(t("hotline.tickets", lang)), _tickets(popup["tickets"], lang)]


@callback(Output("hotline-call", "data"), Output("hotline-household", "data"), Output("hotline-popup", "children"),
          Output("hotline-result", "children", allow_duplicate=True),
          Input("hotline-poll", "n_intervals"), State("hotline-call", "data"), State("hotline-lang", "data"),
          prevent_initial_call="initial_duplicate")
@requires("call.answer")
def poll_calls(_n, current, lang):
    """A new call for this agent: its caller's record, in the same answer (one round trip)."""
    if current:
        return no_update, no_update, no_update, no_update
    call = store_calls.next_call(context.pool(), current_principal().username)
    if call is None:
        return no_update, no_update, no_update, no_update
    return _show(call, lang)


def _show(call: dict, lang: str):
    pool = context.pool()
    popup = store_calls.get_popup(pool, call["household_id"]) if call["household_id"] else None
    # A new call clears what was done with the last one.
    return {"id": call["id"], "phone": call["phone"]}, call["household_id"], popup_view(popup, call["phone"], lang), None


@callback(Output("hotline-call", "data", allow_duplicate=True), Output("hotline-household", "data", allow_duplicate=True),
          Output("hotline-popup", "children", allow_duplicate=True),
          Output("hotline-result", "children", allow_duplicate=True), Input("hotline-take", "n_clicks"),
          State("hotline-typed-phone", "value"), State("hotline-lang", "data"), prevent_initial_call=True)
@requires("call.answer")
def take_typed_call(clicks, phone, lang):
    """A call the agent types in (no softphone on this seat)."""
    if not clicks or not phone:
        return no_update, no_update, no_update, no_update
    try:
        call = store_calls.add_call(context.pool(), line="typed", phone=phone, seat=current_principal().username)
    except ValueError as exc:
        return no_update, no_update, html.P(str(exc), className="bad"), no_update
    return _show(call, lang)


@callback(Output("hotline-search-results", "children"), Input("hotline-search", "value"), State("hotline-lang", "data"))
@requires("call.answer")
def search(text, lang):
    found = store_calls.search_households(context.pool(), text or "")
    if found.empty:
        return None if not text else html.P(t("hotline.none_found", lang), className="muted")
    return html.Ul(className="hotline-found", children=[
        html.Li(html.Button(f"{r.name} · {r.address} · {r.phone}", id={"type": "hotline-pick", "household": r.id},
                            n_clicks=0, className="link")) for r in found.itertuples(index=False)])


@callback(Output("hotline-household", "data", allow_duplicate=True), Output("hotline-popup", "children", allow_duplicate=True),
          Output("hotline-search-results", "children", allow_duplicate=True),
          Input({"type": "hotline-pick", "household": ALL}, "n_clicks"), State("hotline-call", "data"),
          State("hotline-lang", "data"), prevent_initial_call=True)
@requires("call.answer")
def pick_household(_clicks, call, lang):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
        return no_update, no_update, no_update
    popup = store_calls.get_popup(context.pool(), trigger["household"])
    return trigger["household"], popup_view(popup, (call or {}).get("phone", ""), lang), None


@callback(Output("hotline-kb-results", "children"), Input("hotline-kb-query", "value"), Input("hotline-category", "value"),
          State("hotline-lang", "data"))
@requires("call.answer")
def kb_search(text, category, lang):
    from store.knowledge import search_knowledge

    if not (text or "").strip():
        return html.P(t("hotline.kb_hint", lang), className="muted")
    found = search_knowledge(context.pool(), text, limit=6)
    if found.empty:
        return html.P(t("hotline.kb_none", lang), className="muted")
    return [html.Div(className="kb-entry", **{"data-kb": str(r.id)}, children=[
        html.B(r.title), html.P(r.answer),
        html.Button(t("hotline.answer_with", lang), id={"type": "hotline-answer", "kb": int(r.id)}, n_clicks=0,
                    className="orders-button")]) for r in found.itertuples(index=False)]


def _no_call(lang: str):
    return html.P(t("hotline.no_call", lang), className="bad")


@callback(Output("hotline-result", "children"), Output("hotline-call", "data", allow_duplicate=True),
          Output("hotline-popup", "children", allow_duplicate=True),
          Input({"type": "hotline-answer", "kb": ALL}, "n_clicks"), State("hotline-call", "data"),
          State("hotline-household", "data"), State("hotline-category", "value"), State("hotline-note", "value"),
          State("hotline-lang", "data"), prevent_initial_call=True)
@requires("call.answer")
def answer_from_kb(_clicks, call, household, category, note, lang):
    """Answered on the call from a knowledge-base entry: resolved on first contact (即时办)."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
        return no_update, no_update, no_update
    if not call:
        return _no_call(lang), no_update, no_update
    pool, who = context.pool(), actor("call.answer")
    try:
        wo_id = store_calls.answer_call(pool, call["id"], actor=who, category=category, kb_entry_id=trigger["kb"],
                                        note=note or t("hotline.answered_note", lang), household_id=household)
    except ValueError as exc:
        record_event(pool, who, "call.answer", outcome="refused", object_type="call", object_id=call["id"],
                     detail=str(exc))
        return html.P(str(exc), className="bad"), no_update, no_update
    return html.P(t("hotline.answered", lang).format(id=wo_id), className="good", **{"data-order": str(wo_id),
                                                                                    "data-outcome": "answered"}), \
        None, _with_new_ticket(household, call, lang)


@callback(Output("hotline-result", "children", allow_duplicate=True), Output("hotline-call", "data", allow_duplicate=True),
          Output("hotline-popup", "children", allow_duplicate=True), Input("hotline-file", "n_clicks"), State("hotline-call", "data"), State("hotline-household", "data"),
          State("hotline-category", "value"), State("hotline-note", "value"), State("hotline-lang", "data"),
          prevent_initial_call=True)
@requires("call.answer")
def file_order(clicks, call, household, category, note, lang):
    """File the caller's order: its SLA clocks and the team that would be sent are shown at once."""
    if not clicks:
        return no_update, no_update, no_update
    if not call:
        return _no_call(lang), no_update, no_update
    pool, who = context.pool(), actor("call.answer")
    title = t("hotline.order_title", lang).format(category=t(f"wo_category.{category}", lang))
    try:
        filed = store_calls.file_from_call(pool, call["id"], actor=who, category=category, title=title,
                                           note=note or "", household_id=household)
    except ValueError as exc:
        record_event(pool, who, "call.answer", outcome="refused", object_type="call", object_id=call["id"],
                     detail=str(exc))
        return html.P(str(exc), className="bad"), no_update, no_update
    return _filed(pool, filed, lang), None, _with_new_ticket(household, call, lang)


def _with_new_ticket(household: str | None, call: dict, lang: str):
    """The caller's record again, its past tickets now holding the one just answered or filed."""
    if not household:
        return no_update
    return popup_view(store_calls.get_popup(context.pool(), household), call.get("phone", ""), lang)


def _filed(pool, filed: dict, lang: str) -> html.Div:
    timezone = context.settings().timezone
    order = get_work_order(pool, filed["work_order_id"])
    if filed["outcome"] == "linked":
        line = t("hotline.linked", lang).format(id=order["id"], incident=filed["incident_id"])
    else:
        line = t("hotline.filed", lang).format(id=order["id"])
    team = suggest_teams(pool, order["id"], limit=1)
    suggestion = t("hotline.suggested", lang).format(team=team["name"].iloc[0], km=f"{team['distance_km'].iloc[0]:.1f}") \
        if not team.empty and filed["outcome"] == "filed" else ""
    due = t("hotline.due", lang).format(when=fmt.clock(order["sla_due_at"], timezone, True)) \
        if order.get("sla_due_at") is not None else ""
    return html.Div(className="good", **{"data-order": str(order["id"]), "data-outcome": filed["outcome"]},
                    children=[html.P(line), html.P(due), html.P(suggestion),
                              html.A(t("nav.orders", lang) + " →", href=f"/orders?order={order['id']}")])
