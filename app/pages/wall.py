"""``/`` and ``/wall``: the dispatch center's video wall.

Geometry goes out once, inside the layout. Every ``LIVE_INTERVAL_MS`` the server sends compact
style arrays (``wall-live``) that ``assets/wall.js`` applies in place; alarms, work orders, KPI
tiles and the ticker refresh on the same clock and are skipped when unchanged. Clicking any
element (map, ticker, leak marker, valve link) sets ``wall-selected``, which opens the panel.
``/?element=ST-0042`` opens the wall with that element selected; ``?lang=en`` picks the language.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid

import dash
import pandas as pd
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from app import context
from app.auth.guard import actor, page, requires
from app.auth.principal import current_principal
from app.components import fmt, panel, replay
from app.components import kpi as kpi_tiles
from app.components import map as wall_map
from app.components import wall_data as data
from app.components.forecast_strip import strip_notes, wall_strip_figure
from app.components.ticker import ticker_items
from app.components.trend import legend_entries, trend_figure
from app.components.wall_strip import strip_as_of
from app.drawings import drawing_src
from app.i18n import LANGUAGES, t
from heattwin.choices import WORK_ORDER_CATEGORY, WORK_ORDER_PRIORITY
from layers.style import DEFAULT_QUANTITY, PIPE_SCALES
from store import alarms as store_alarms
from store import work_orders as store_orders
from store.audit import record_event
from store.records import get_drawings
from store.work_orders import core as store_orders_core
from store.work_orders.dispatch import list_teams_with_load

dash.register_page(__name__, path="/", title="HeatTwin — 调度大屏", name="wall")

LIVE_INTERVAL_MS = 5_000
KPI_INTERVAL_MS = 10_000


def _warm_ahead() -> None:
    """The first wall load should not pay for building the geometry: build it while the server starts."""
    try:
        pool = context.pool()
    except RuntimeError:  # imported without an app (no database configured): nothing to warm
        return
    threading.Thread(target=data.warm, args=(pool,), name="wall-warm", daemon=True).start()


_warm_ahead()


def _store(id_, data_=None):
    return dcc.Store(id=id_, data=data_)


def _alarm_tools(principal, lang: str) -> html.Div:
    """The note a dispatcher writes before clearing or commenting an alarm; outside the panel's head,
    which refreshes on the clock and would wipe what is being typed."""
    can_note = principal is not None and (principal.can("alarm.comment") or principal.can("alarm.clear")
                                          or principal.can("alarm.shelve"))
    return html.Div(id="wall-alarm-tools", className="alarm-tools" + ("" if can_note else " hidden"), children=[
        dcc.Input(id="wall-alarm-note", type="text", maxLength=store_alarms.MAX_NOTE_CHARS, debounce=False,
                  placeholder=t("alarm.note", lang), className="alarm-note"),
        dcc.Dropdown(id="wall-shelve-hours", options=[{"label": f"{h} h", "value": h} for h in SHELVE_HOURS],
                     value=SHELVE_HOURS[1], clearable=False, searchable=False, className="shelve-hours",
                     placeholder=t("alarm.shelve_hours", lang))])


SHELVE_HOURS = (1, 4, 8, 24)


def _order_form(lang: str) -> html.Div:
    """The new work order: title, category, priority, description; located at the selected element."""
    return html.Div(id="wall-order-form", className="order-form closed", children=[
        dcc.Store(id="wall-order-key"),
        html.H4(t("panel.new_order_form", lang)),
        dcc.Input(id="wall-order-title", type="text", maxLength=store_orders_core.MAX_TITLE_CHARS,
                  className="order-input"),
        html.Label(t("panel.order_category", lang)),
        dcc.Dropdown(id="wall-order-category", clearable=False, value="equipment", className="order-dropdown",
                     options=[{"label": t(c.label_key, lang), "value": c.value} for c in WORK_ORDER_CATEGORY]),
        html.Label(t("panel.order_priority", lang)),
        dcc.RadioItems(id="wall-order-priority", value="normal", inline=True,
                       options=[{"label": t(c.label_key, lang), "value": c.value} for c in WORK_ORDER_PRIORITY]),
        dcc.Textarea(id="wall-order-description", maxLength=store_orders_core.MAX_DESCRIPTION_CHARS,
                     placeholder=t("panel.order_description", lang), className="order-input"),
        html.Div(className="order-form-buttons", children=[
            html.Button(t("panel.order_file", lang), id="wall-order-file", n_clicks=0, className="alarm-act ack"),
            html.Button(t("panel.order_cancel", lang), id="wall-order-cancel", n_clicks=0, className="alarm-act")])])


def _panel(principal, lang: str) -> html.Aside:
    can_file = principal is not None and principal.can("work_order.create")
    return html.Aside(id="wall-panel", className="wall-panel closed", children=[
        html.Button("×", id="wall-panel-close", className="panel-close", n_clicks=0),
        html.Div(id="wall-panel-head", className="panel-body"),
        _alarm_tools(principal, lang),
        html.Section(id="wall-panel-trend", className="panel-section"),
        html.Div(id="wall-panel-body", className="panel-body"),
        html.Section(className="panel-section panel-orders", **{"data-section": "orders"}, children=[
            html.H3(id="wall-orders-title"), html.Div(id="wall-panel-orders"),
            html.Button(id="wall-new-order", className="new-order" + ("" if can_file else " hidden"), n_clicks=0),
            _order_form(lang) if can_file else None,
            html.Div(id="wall-order-msg", className="order-msg")]),
    ])


@page("wall.view")
def layout(element: str | None = None, lang: str | None = None, **_query):
    settings = context.settings()
    lang = lang if lang in LANGUAGES else settings.language
    geo = data.geometry(context.pool())
    focus = None
    if element and element in geo.assets.index:
        focus = {"lon": float(geo.assets.at[element, "lon"]), "lat": float(geo.assets.at[element, "lat"])}
    return html.Div(className="wall", id="wall-root", lang=lang, children=[
        # Language (toggled), colour scales, expected feature counts, time zone, view and size settings.
        _store("wall-lang", lang), _store("wall-scales", wall_map.scales_spec()),
        _store("wall-expected", wall_map.expected_counts(geo)), _store("wall-tz", settings.timezone),
        _store("wall-fit", focus is None), _store("wall-px", 1.0), _store("wall-drawn", False),
        # What is selected (and whether to fly there), live arrays and the signatures that skip resends.
        _store("wall-selected", element), _store("wall-fly", True), _store("wall-focus"),
        _store("wall-live"), _store("wall-live-sig"), _store("wall-alarm-sig"), _store("wall-order-sig"),
        _store("wall-order-created"), _store("wall-alarm-changed"), _store("wall-panel-shown"),
        # The gates start as {}: a memory Store mounted with None sets its data itself, which fired every
        # action's callback on each page load (an engineer's load wrote five refusals into the audit).
        _store("wall-gates", panel.ACTION_GATES), *(_store(g, {}) for g in sorted(set(panel.ACTION_GATES.values()))),
        dcc.Interval(id="wall-interval", interval=LIVE_INTERVAL_MS),
        dcc.Interval(id="wall-kpi-interval", interval=KPI_INTERVAL_MS),
        html.Div(id="wall-applied", className="hidden", **{"data-counts": json.dumps(geo.counts())}),
        html.Div(id="wall-setup", className="hidden"), html.Div(id="wall-focused", className="hidden"),
        html.Header(className="wall-header", children=[
            html.H1(id="wall-title"), html.Div(id="wall-clock", className="wall-clock"),
            html.Div(className="wall-quantity", children=[
                html.Span(id="wall-quantity-label"),
                dcc.RadioItems(id="wall-quantity", value=DEFAULT_QUANTITY, inline=True, options=[])]),
            html.Button(id="wall-lang-toggle", className="lang-toggle", n_clicks=0)]),
        html.Main(className="wall-main", children=[
            html.Div(id="wall-map-wrap", className="wall-map-wrap", children=[
                wall_map.wall_map(geo, tile_url=settings.tile_url, attribution=settings.tile_attribution,
                                  focus=focus),
                # Both boxes fold to their title on a click (folded at first on a phone, see wall.css).
                html.Div(id="wall-legend", className="wall-legend", n_clicks=0),
                replay.controls(current_principal(), lang, _query),
                html.Div(id="wall-layers-box", className="wall-layers", children=[
                    html.Div(id="wall-layers-title", className="legend-title", n_clicks=0),
                    dcc.Checklist(id="wall-layers", value=list(wall_map.TOGGLES), options=[])]),
                _panel(current_principal(), lang)]),
            html.Aside(id="wall-kpis", className="wall-kpis")]),
        html.Footer(className="wall-footer", children=[
            html.Div(id="wall-action-msg", className="action-msg", role="status"),
            html.Div(id="wall-action-flash", className="hidden"),
            html.Div(className="wall-ticker", children=[html.H3(id="wall-ticker-title"),
                                                        html.Div(id="wall-ticker", className="ticker-list")]),
            html.Div(className="wall-trend", children=[
                html.H3(id="wall-trend-title"), html.Div(id="wall-trend", className="trend-box")]),
            html.Div(className="wall-strip", children=[
                html.H3(id="wall-strip-title"), _store("wall-strip-hour"), _store("wall-strip-sig"),
                html.Div(id="wall-strip", className="strip-box")])]),
        html.Div(id="wall-drawing-overlay", className="drawing-overlay closed", children=[
            html.Button("×", id="wall-drawing-close", className="panel-close", n_clicks=0),
            html.Div(id="wall-drawing-full")]),
    ])


dash.register_page("wall_alias", path="/wall", title="HeatTwin — 调度大屏", name="wall (alias)", layout=layout)
replay.register()  # the time control's callbacks, for this app


def _signature(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


@callback(Output("wall-title", "children"), Output("wall-quantity-label", "children"),
          Output("wall-quantity", "options"), Output("wall-layers-title", "children"),
          Output("wall-layers", "options"), Output("wall-lang-toggle", "children"),
          Output("wall-ticker-title", "children"), Output("wall-trend-title", "children"),
          Output("wall-orders-title", "children"), Output("wall-new-order", "children"),
          Input("wall-lang", "data"))
@requires("wall.view")
def render_chrome(lang):
    """Every fixed label of the page, in the chosen language (the map is not re-sent)."""
    quantities = [{"label": t(s.label_key, lang), "value": key} for key, s in PIPE_SCALES.items()]
    layers = [{"label": t(f"layer.{name}", lang), "value": name} for name in wall_map.TOGGLES]
    return (t("app.title", lang), t("wall.quantity", lang), quantities, t("wall.layers", lang), layers,
            t("label.language", lang), t("ticker.title", lang), t("trend.title", lang), t("panel.orders", lang),
            "＋ " + t("panel.new_order", lang))


@callback(Output("wall-lang", "data"), Input("wall-lang-toggle", "n_clicks"), State("wall-lang", "data"),
          prevent_initial_call=True)
@requires("wall.view")
def toggle_language(_clicks, lang):
    return "en" if lang == "zh-CN" else "zh-CN"


@callback(Output("wall-legend", "children"), Input("wall-lang", "data"), Input("wall-quantity", "value"))
@requires("wall.view")
def render_legend(lang, quantity):
    return wall_map.legend(lang, quantity)


@callback(Output("wall-live", "data"), Output("wall-live-sig", "data"),
          Input("wall-interval", "n_intervals"), Input("wall-quantity", "value"), State("wall-live-sig", "data"),
          State("wall-replay", "data"))
@requires("wall.view")
def refresh_live(_n, quantity, previous, replaying=None):
    """Compact style arrays for the network layers; nothing is sent when they have not changed (nor while a
    replay shows the past)."""
    if replay.is_replaying(replaying):
        return no_update, no_update
    payload = data.live_payload(context.pool(), quantity or DEFAULT_QUANTITY)
    signature = _signature(payload)
    if signature == previous:
        return no_update, no_update
    return payload, signature


@callback(Output("wall-alarms", "data"), Output("wall-leaks", "children"), Output("wall-ticker", "children"),
          Output("wall-alarm-sig", "data"), Output("wall-ticker-title", "children", allow_duplicate=True),
          Input("wall-interval", "n_intervals"), Input("wall-lang", "data"), Input("wall-alarm-changed", "data"),
          State("wall-alarm-sig", "data"), State("wall-replay", "data"), prevent_initial_call="initial_duplicate")
@requires("wall.view")
def refresh_alarms(_n, lang, _changed, previous, replaying=None):
    """The live alarms: rings, leak markers and the ticker with its live title (a replay frame that landed after
    Live had put the replay's title there), resent only when they changed."""
    if replay.is_replaying(replaying):
        return no_update, no_update, no_update, no_update, no_update
    pool = context.pool()
    principal = current_principal()
    signature = _signature(store_alarms.open_alarms_signature(pool, presented_only=True), lang, principal.can("alarm.ack"),
                           principal.can("alarm.shelve"))
    if signature == previous:
        return no_update, no_update, no_update, no_update, no_update

    def compute():
        geo = data.geometry(pool)
        alarms = data.with_hosts(geo, store_alarms.list_open_alarms(pool, with_details=True, presented_only=True))
        leaks = alarms[alarms["cause"] == "leak"]
        regions = {int(a.id): (a.details or {}).get("region", []) for a in leaks.itertuples(index=False)}
        rings, markers = wall_map.alarm_overlays(alarms, wall_map.leak_regions(geo, regions))
        roots = alarms.loc[alarms["grouped"] > 0, "id"].astype(int).tolist()
        children = data.with_hosts(geo, store_alarms.list_open_alarms(pool, with_details=True, parent_id=roots)) \
            if roots else None
        items = ticker_items(alarms, lang, context.settings().timezone, can_ack=principal.can("alarm.ack"),
                             children=children, can_shelve=principal.can("alarm.shelve"))
        return rings, markers, items

    return (*data.shared("alarms", (pool.conninfo, signature), compute), signature, t("ticker.title", lang))


@callback(Output("wall-orders", "data"), Output("wall-crews", "data"), Output("wall-order-sig", "data"),
          Input("wall-interval", "n_intervals"), Input("wall-order-created", "data"), State("wall-order-sig", "data"))
@requires("wall.view")
def refresh_orders(_n, _created, previous):
    """Open orders and the crews (where they are, how many orders they have): for the dispatcher's pick."""
    pool = context.pool()
    orders = store_orders.list_open_locations(pool)
    teams = list_teams_with_load(pool).drop(columns=["categories", "last_seen_at"])
    signature = _signature(orders.to_dict("split"), teams.to_dict("split"))
    if signature == previous:
        return no_update, no_update, no_update
    return wall_map.order_overlay(orders), wall_map.crew_overlay(teams), signature


@callback(Output("wall-kpis", "children"), Input("wall-kpi-interval", "n_intervals"), Input("wall-lang", "data"),
          State("wall-replay", "data"))
@requires("wall.view")
def refresh_kpis(_n, lang, replaying=None):
    """The same tiles for every screen within a few seconds (they move with the twin's runs)."""
    if replay.is_replaying(replaying):
        return no_update
    pool = context.pool()
    return data.shared(f"kpis:{lang}", (pool.conninfo, int(time.time() // 5)), lambda: kpi_tiles.kpi_tiles(pool, lang))


@callback(Output("wall-panel-head", "children"), Output("wall-panel-body", "children"),
          Output("wall-panel-orders", "children"), Output("wall-panel", "className"), Output("wall-focus", "data"),
          Output("wall-panel-shown", "data"),
          Input("wall-selected", "data"), Input("wall-lang", "data"), Input("wall-kpi-interval", "n_intervals"),
          Input("wall-alarm-changed", "data"), Input("wall-order-created", "data"), State("wall-fly", "data"),
          State("wall-panel-shown", "data"))
@requires("wall.view")
def render_panel(element_id, lang, _tick, changed, created, fly, shown):
    """The whole panel from one store call (``panel.element_panel``); its trend graphs come from
    ``render_trend`` so plotly never delays the text.

    On the clock or after an alarm action only the head (identity, open alarms, live values) is sent, and
    after a new order the orders too: the map must not fly again. ``shown`` says which element (and
    language) the panel holds: a click whose answer was overtaken by the clock is rendered whole, not lost.
    """
    if not element_id:
        return [], [], [], "wall-panel closed", None, None
    card = panel.element_panel(context.pool(), element_id, lang, current_principal(), dash.get_app().server)
    trigger, whole = ctx.triggered_id, shown == [element_id, lang]
    if whole and (trigger == "wall-kpi-interval" or (trigger == "wall-alarm-changed" and changed)):
        return card.head, no_update, no_update, no_update, no_update, no_update
    if whole and trigger == "wall-order-created" and created:
        return card.head, no_update, card.orders, no_update, no_update, no_update
    focus = card.focus
    if focus:
        focus["fly"] = fly is not False  # clicked on the map: it is in view already, flying would only stall
    return card.head, card.body, card.orders, "wall-panel open", focus, [element_id, lang]


@callback(Output("wall-panel-trend", "children"), Output("wall-trend", "children"),
          Input("wall-panel-shown", "data"), Input("wall-lang", "data"), Input("wall-drawn", "data"),
          State("wall-px", "data"))
@requires("wall.view")
def render_trend(shown, lang, drawn, scale):
    """The 24 h trend in the panel and in the strip, once the panel's text is in (``wall-panel-shown``): a
    click's trend neither shares the server with its panel nor draws (plotly) before it. Empty until the
    map is drawn: loading plotly (4.8 MB of JS to parse) must not delay the first draw of the network."""
    element_id = shown[0] if shown else None
    if ctx.triggered_id == "wall-lang" and element_id:
        return no_update, no_update  # the panel re-renders in the new language, and its trend after it
    if not element_id and not drawn:
        return [], []
    settings, pool = context.settings(), context.pool()
    scale = scale or 1.0
    sensors = data.geometry(pool).sensors
    config = {"displayModeBar": False}
    if not element_id:
        strip = trend_figure(None, sensors, lang, settings.timezone, compact=True, scale=scale, note_key="trend.pick")
        # Idle: the footer shows the 48 h forecast in the trend's place (assets/wall.css, .trend-idle).
        return [], dcc.Graph(figure=strip, config=config, className="trend-graph trend-idle")
    element_id = data.host_of(data.geometry(pool), element_id)
    trend = data.element_trend(pool, element_id)
    sensors = sensors[sensors["element_id"] == element_id]
    # The graph grows by its legend's entries (assets/wall.css), so the legend's rows above the plot leave
    # the plot its height.
    entries = {"--trend-entries": legend_entries(trend, sensors)}
    return ([html.H3(t("trend.title", lang), **{"data-element": element_id}),
             dcc.Graph(figure=trend_figure(trend, sensors, lang, settings.timezone, scale=scale), config=config,
                       className="panel-trend", style=entries)],
            dcc.Graph(figure=trend_figure(trend, sensors, lang, settings.timezone, compact=True, scale=scale),
                      config=config, className="trend-graph", style=entries))


# The replay's clock moves every second; the strip changes with the hour's issues: pass it on by the hour.
clientside_callback(
    """function(at, current) {
        var hour = at ? new Date(Date.parse(at)).toISOString().slice(0, 13) : null;
        return hour === current ? window.dash_clientside.no_update : hour;
    }""", Output("wall-strip-hour", "data"), Input("wall-replay-at", "data"), State("wall-strip-hour", "data"))


@callback(Output("wall-strip", "children"), Output("wall-strip-title", "children"), Output("wall-strip-sig", "data"),
          Input("wall-kpi-interval", "n_intervals"), Input("wall-strip-hour", "data"), Input("wall-lang", "data"),
          Input("wall-drawn", "data"), State("wall-replay", "data"), State("wall-px", "data"),
          State("wall-strip-sig", "data"))
@requires("wall.view")
def refresh_strip(_n, hour, lang, drawn, replaying, scale, previous):
    """The 48 h strip as known now (to 5 minutes), or as known at the replayed hour (never with hindsight); drawn
    after the map, like the trend (plotly's script must not hold up the network's first draw), and resent only
    when the moment, the language or the size changed (the wall's 10 s tick must not redraw it)."""
    title = t("strip.title", lang)
    if not drawn:
        return [], title, None
    replaying = replay.is_replaying(replaying)
    if replaying and not hour:
        return no_update, no_update, no_update
    if not replaying and ctx.triggered_id == "wall-strip-hour":
        return no_update, no_update, no_update     # the replay's hour cleared by Live: the next tick redraws
    pool, timezone = context.pool(), context.settings().timezone
    at = pd.Timestamp(f"{hour}:00:00", tz="UTC") if replaying else pd.Timestamp.now(tz="UTC").floor("5min")
    signature = _signature(at.isoformat(), lang, scale, replaying)
    if signature == previous:
        return no_update, no_update, no_update
    if replaying:
        title = t("strip.title_then", lang).format(when=fmt.clock(at, timezone, True))
    known = data.shared(f"strip:{'replay' if replaying else 'live'}", (pool.conninfo, at),
                        lambda: strip_as_of(pool, at.to_pydatetime()))
    if not len(known["outdoor"]) and not len(known["load"]) and known["supply"] is None:
        return html.Div(t("strip.none", lang), className="strip-empty"), title, signature
    notes = [html.Span(note) for note in strip_notes(known, lang, timezone)]
    return ([html.Div(notes, className="strip-notes") if notes else None,
             dcc.Graph(figure=wall_strip_figure(known, lang, timezone, scale=scale or 1.0),
                       config={"displayModeBar": False}, className="strip-graph")], title, signature)


@callback(Output("wall-order-form", "className"), Output("wall-order-title", "value"),
          Output("wall-order-key", "data"), Input("wall-new-order", "n_clicks"), Input("wall-order-cancel", "n_clicks"),
          State("wall-selected", "data"), State("wall-lang", "data"), prevent_initial_call=True)
@requires("work_order.create")
def open_order_form(_open, _cancel, element_id, lang):
    """Open the form with the element's name as its title, and a fresh key so that the form files once."""
    if ctx.triggered_id == "wall-order-cancel" or not element_id:
        return "order-form closed", no_update, None
    geo = data.geometry(context.pool())
    element_id = data.host_of(geo, element_id)
    name = geo.assets.at[element_id, "name"] if element_id in geo.assets.index else element_id
    return "order-form open", t("panel.order_title", lang).format(name=name or element_id), uuid.uuid4().hex


@callback(Output("wall-order-created", "data"), Output("wall-order-msg", "children"),
          Output("wall-order-form", "className", allow_duplicate=True),
          Input("wall-order-file", "n_clicks"), State("wall-selected", "data"), State("wall-order-title", "value"),
          State("wall-order-category", "value"), State("wall-order-priority", "value"),
          State("wall-order-description", "value"), State("wall-order-key", "data"), State("wall-lang", "data"),
          prevent_initial_call=True)
@requires("work_order.create")
def new_work_order(clicks, element_id, title, category, priority, description, key, lang):
    """File the order on the selected element (work_order + its first event); the form's key makes a double
    click file it once."""
    if not clicks or not element_id or not key:
        return no_update, no_update, no_update
    pool, who = context.pool(), actor("work_order.create")
    element_id = data.host_of(data.geometry(pool), element_id)   # an order on a sensor's alarm is the element's
    try:
        wo_id = store_orders.add_work_order(pool, title=title or "", actor=who, asset_id=element_id,
                                            origin="dispatch", category=category or "other",
                                            priority=priority or "normal", description=description or "",
                                            request_key=key)
    except ValueError as exc:
        record_event(pool, who, "work_order.create", outcome="refused", object_type="work_order", detail=str(exc))
        return no_update, str(exc), no_update
    return {"id": wo_id, "element": element_id}, t("panel.order_created", lang).format(id=wo_id), "order-form closed"


def _clicked(gate: dict | None, key: str):
    """The ``key`` of the button whose click set ``gate`` (``panel.ACTION_GATES``), or None."""
    button = (gate or {}).get("id")
    return button.get(key) if isinstance(button, dict) else None


def _act_on_alarm(action: str, gate: dict | None, do, lang: str):
    """Run ``do(pool, alarm_id, actor)`` for the clicked alarm; a store refusal is shown and audited."""
    alarm_id = _clicked(gate, "alarm")
    if not isinstance(alarm_id, int):
        return no_update, no_update, no_update
    pool, who = context.pool(), actor(action)
    try:
        message = do(pool, alarm_id, who)
    except ValueError as exc:
        record_event(pool, who, action, outcome="refused", object_type="alarm", object_id=alarm_id, detail=str(exc))
        return no_update, f"#{alarm_id}: {exc}", no_update
    return {"alarm": alarm_id, "action": action, "by": who.username}, message, ""


_ALARM_OUTPUTS = (Output("wall-alarm-changed", "data", allow_duplicate=True),
                  Output("wall-action-msg", "children", allow_duplicate=True),
                  Output("wall-alarm-note", "value", allow_duplicate=True))


@callback(*_ALARM_OUTPUTS, Input("wall-act-ack", "data"), State("wall-lang", "data"), prevent_initial_call=True)
@requires("alarm.ack")
def acknowledge_alarm(gate, lang):
    """From the panel's or the ticker's button."""
    def do(pool, alarm_id, who):
        store_alarms.update_alarm_state(pool, alarm_id, "acknowledged", actor=who)
        return t("alarm.done.acknowledged", lang).format(id=alarm_id)
    return _act_on_alarm("alarm.ack", gate, do, lang)


@callback(*_ALARM_OUTPUTS, Input("wall-act-shelve", "data"), State("wall-alarm-note", "value"),
          State("wall-shelve-hours", "value"), State("wall-lang", "data"), prevent_initial_call=True)
@requires("alarm.shelve")
def shelve_alarm(gate, note, hours, lang):
    """Off the wall for a while, with the note as its reason; it comes back by itself."""
    def do(pool, alarm_id, who):
        if not (note or "").strip():
            raise ValueError(t("alarm.shelve_needs_reason", lang))
        store_alarms.shelve_alarm(pool, alarm_id, hours=float(hours or SHELVE_HOURS[1]), reason=note, actor=who)
        return t("alarm.done.shelved", lang).format(id=alarm_id, hours=hours)
    return _act_on_alarm("alarm.shelve", gate, do, lang)


@callback(*_ALARM_OUTPUTS, Input("wall-act-clear", "data"), State("wall-alarm-note", "value"),
          State("wall-lang", "data"), prevent_initial_call=True)
@requires("alarm.clear")
def clear_alarm(gate, note, lang):
    def do(pool, alarm_id, who):
        if not (note or "").strip():
            raise ValueError(t("alarm.note_needed", lang))
        store_alarms.update_alarm_state(pool, alarm_id, "cleared", actor=who, note=note)
        return t("alarm.done.cleared", lang).format(id=alarm_id)
    return _act_on_alarm("alarm.clear", gate, do, lang)


@callback(*_ALARM_OUTPUTS, Input("wall-act-comment", "data"), State("wall-alarm-note", "value"),
          State("wall-lang", "data"), prevent_initial_call=True)
@requires("alarm.comment")
def comment_alarm(gate, note, lang):
    def do(pool, alarm_id, who):
        if not (note or "").strip():
            raise ValueError(t("alarm.note_needed", lang))
        store_alarms.comment_alarm(pool, alarm_id, note, actor=who)
        return t("alarm.done.comment", lang).format(id=alarm_id)
    return _act_on_alarm("alarm.comment", gate, do, lang)


@callback(*_ALARM_OUTPUTS, Output("wall-order-created", "data", allow_duplicate=True),
          Input("wall-act-order", "data"), State("wall-lang", "data"), prevent_initial_call=True)
@requires("alarm.work_order")
def work_order_from_alarm(gate, lang):
    created = {}

    def do(pool, alarm_id, who):
        created["id"] = store_alarms.open_work_order_from_alarm(pool, alarm_id, actor=who)
        return t("alarm.done.work_order", lang).format(id=alarm_id, wo=created["id"])
    changed, message, note = _act_on_alarm("alarm.work_order", gate, do, lang)
    return changed, message, note, ({"id": created["id"]} if created else no_update)


@callback(Output("wall-drawing-full", "children"), Output("wall-drawing-overlay", "className"),
          Input("wall-act-drawing", "data"), Input("wall-drawing-close", "n_clicks"),
          State("wall-selected", "data"), prevent_initial_call=True)
@requires("drawing.view")
def show_drawing(gate, _close, element_id):
    drawing_id = _clicked(gate, "drawing")
    if ctx.triggered_id != "wall-act-drawing" or drawing_id is None:
        return [], "drawing-overlay closed"
    found = [d for d in get_drawings(context.pool(), element_id or "") if d["id"] == drawing_id]
    if not found:
        return [], "drawing-overlay closed"
    src = drawing_src(found[0]["path"], dash.get_app().server)
    return [html.H2(found[0]["title"]), html.Img(src=src, className="drawing-full")], "drawing-overlay open"


clientside_callback("function(s, e, f, g) { return window.dash_clientside.heattwin.setup(s, e, f, g); }",
                    Output("wall-setup", "children"), Input("wall-scales", "data"), Input("wall-expected", "data"),
                    State("wall-fit", "data"), State("wall-gates", "data"))
# Selecting is clientside: a click costs no server round trip before the panel's own request. A click on a
# map feature, a ticker line or a valve link selects in assets/wall.js (``heattwin.select``; the map flies to
# what the ticker and the links name, not to what was clicked in view); a leak marker (a dash-leaflet
# marker: it only reports its clicks to Dash) selects here, in view.
clientside_callback(
    """function() {
        var t = window.dash_clientside.callback_context.triggered[0];
        var none = window.dash_clientside.no_update;
        if (!t || !t.value) { return [none, none]; }
        var source = t.prop_id.slice(0, t.prop_id.lastIndexOf('.'));
        if (source === 'wall-panel-close') { return [null, none]; }
        window.heattwin.fly = false;
        return [JSON.parse(source).element, false];
    }""",
    Output("wall-selected", "data"), Output("wall-fly", "data"),
    Input({"type": "wall-leak", "alarm": ALL, "element": ALL}, "n_clicks"),
    Input("wall-panel-close", "n_clicks"), prevent_initial_call=True)
# Each new message fades in and out again: restart the animation when the text changes.
clientside_callback(
    """function(msg) {
        var e = document.getElementById('wall-action-msg');
        if (e) { e.style.animation = 'none'; void e.offsetHeight; e.style.animation = ''; }
        return '';
    }""", Output("wall-action-flash", "children"), Input("wall-action-msg", "children"), prevent_initial_call=True)
clientside_callback("function(ready) { return Math.max(1, Math.min(innerWidth / 1920, innerHeight / 1080)); }",
                    Output("wall-px", "data"), Input("wall-setup", "children"))
# A click flips the box from its screen's default (open on a wall, folded on a phone) to the other state.
_TOGGLE_FOLD = "function(n, cls) { return / toggled/.test(cls) ? cls.replace(' toggled', '') : cls + ' toggled'; }"
clientside_callback(_TOGGLE_FOLD, Output("wall-legend", "className"), Input("wall-legend", "n_clicks"),
                    State("wall-legend", "className"), prevent_initial_call=True)
clientside_callback(_TOGGLE_FOLD, Output("wall-layers-box", "className"), Input("wall-layers-title", "n_clicks"),
                    State("wall-layers-box", "className"), prevent_initial_call=True)
clientside_callback("function(live, scales) { return window.dash_clientside.heattwin.applyLive(live, scales); }",
                    Output("wall-applied", "children"), Input("wall-live", "data"), State("wall-scales", "data"))
clientside_callback("function(v) { return window.dash_clientside.heattwin.toggleLayers(v); }",
                    Output("wall-map-wrap", "className"), Input("wall-layers", "value"))
clientside_callback("function(f) { return window.dash_clientside.heattwin.focus(f); }",
                    Output("wall-focused", "children"), Input("wall-focus", "data"))
clientside_callback(
    """function(n, lang, tz) {
        return new Date().toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', {timeZone: tz, hour12: false});
    }""", Output("wall-clock", "children"), Input("wall-interval", "n_intervals"), Input("wall-lang", "data"),
    State("wall-tz", "data"))
