"""The wall's time control: play back a past span — the map coloured from the twin states stored for that
time, the KPI tiles and the ticker as they were — under a banner that says it is not live.

- Pick a start (and a span) or an alarm to start from, then play / pause at 1×, 10× or 60×, drag the
  scrubber over the span, or press Live. The clock of the replay runs in the browser (``drive``); the
  server answers each time it shows with compact style arrays, the same ones the live wall sends
  (``wall-live``, applied in place by ``assets/wall.js``), and with the alarms and tiles of that time.
- While ``wall-replay`` holds a span, the wall's live refreshes leave the map, the ticker and the tiles
  alone (``is_replaying`` in their callbacks); Live clears it, forgets their signatures and ticks their
  clocks at once, so the current state is back within one refresh.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from dash import Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from app import context
from app.auth.guard import requires
from app.components import fmt
from app.components import map as wall_map
from app.components import wall_data as data
from app.components.ticker import ticker_items
from app.i18n import t
from heattwin.choices import ALARM_SEVERITY
from layers import style
from store import replay as store_replay
from store.alarms import get_alarm

SPANS_H = (1, 3, 6, 12, 24)
SPEEDS = (1, 10, 60)
TICK_MS = 1000
LEAD_IN = timedelta(minutes=10)  # an alarm's replay starts this long before it was raised
_HEAT_KEYS = ("heat_delivered_mw", "heat_mw", "total_heat_mw")
_MAKEUP_KEYS = ("makeup_t_h", "makeup_flow_t_h")


def is_replaying(session) -> bool:
    """Whether the wall shows a past span (its live refreshes must leave the screen alone)."""
    return bool(session)


def controls(principal, lang: str, query: dict | None = None) -> html.Div:
    """The replay bar (for those allowed ``replay.view``) and the banner; the stores exist for everyone, so
    the live refreshes can always ask whether a replay is on.

    The page's link may start one: ``?replay=2026-12-02T05:30`` (the wall's time zone) ``&span=3`` (hours), or
    ``?replay_alarm=42`` (around that alarm)."""
    allowed = principal is not None and principal.can("replay.view")
    session = _linked_session(query or {}) if allowed else None
    marks = None if session is None else _marks(pd.Timestamp(session["start"]), pd.Timestamp(session["end"]))
    return html.Div(id="wall-replay-root", className="replay-root" + ("" if allowed else " hidden"), children=[
        dcc.Store(id="wall-replay", data=session), dcc.Store(id="wall-replay-at"),
        dcc.Interval(id="wall-replay-tick", interval=TICK_MS, disabled=True),
        html.Div(id="wall-replay-banner", className="replay-banner hidden", role="alert"),
        html.Button("⏪ " + t("replay.open", lang), id="wall-replay-open", n_clicks=0, className="replay-open"),
        html.Div(id="wall-replay-bar", className="replay-bar " + ("open" if session else "closed"), children=[
            html.Div(className="replay-pick", children=[
                html.Label(t("replay.start", lang), htmlFor="wall-replay-start"),
                dcc.Input(id="wall-replay-start", type="datetime-local", debounce=True, className="replay-start",
                          value=None if session is None else pd.Timestamp(session["start"]).tz_convert(
                              context.settings().timezone).strftime("%Y-%m-%dT%H:%M")),
                html.Label(t("replay.span", lang)),
                dcc.Dropdown(id="wall-replay-span", value=1, clearable=False, searchable=False,
                             className="replay-span", options=[{"label": f"{h} h", "value": h} for h in SPANS_H]),
                html.Button(t("replay.go", lang), id="wall-replay-go", n_clicks=0, className="replay-btn"),
                dcc.Dropdown(id="wall-replay-alarm", placeholder=t("replay.from_alarm", lang), className="replay-alarm",
                             options=[]),
                html.Span(id="wall-replay-msg", className="replay-msg")]),
            html.Div(className="replay-play", children=[
                html.Button("▶", id="wall-replay-play", n_clicks=0, className="replay-btn",
                            title=t("replay.play", lang)),
                dcc.RadioItems(id="wall-replay-speed", value=SPEEDS[0], inline=True, className="replay-speed",
                               options=[{"label": f"{s}×", "value": s} for s in SPEEDS]),
                html.Div(className="replay-slider", children=[
                    dcc.Slider(id="wall-replay-slider", min=0, max=3600, step=60, value=0, marks=marks,
                               updatemode="mouseup", allow_direct_input=False)]),
                html.Span(id="wall-replay-time", className="replay-time"),
                html.Button(t("replay.live", lang), id="wall-replay-live", n_clicks=0,
                            className="replay-btn replay-live")])])])


def _local(when, timezone: str) -> str:
    return pd.Timestamp(when).tz_convert(timezone).strftime("%Y-%m-%d %H:%M:%S")


def _session(start: pd.Timestamp, end: pd.Timestamp) -> dict:
    return {"start": start.isoformat(), "end": end.isoformat()}


def _marks(start: pd.Timestamp, end: pd.Timestamp) -> dict:
    timezone = context.settings().timezone
    return {0: _local(start, timezone)[5:16], int((end - start).total_seconds()): _local(end, timezone)[5:16]}


def _span(pool, *, start_text=None, span_h=None, alarm_id=None) -> tuple[dict | None, tuple | None]:
    """``(session, None)`` for a start and hours, or for an alarm; ``(None, message key and value)`` if not."""
    now = pd.Timestamp.now(tz="UTC")
    if alarm_id is not None:
        start, end = _alarm_span(pool, int(alarm_id), now)
        if start is None:
            return None, ("incident.not_found", {"id": alarm_id})
    else:
        try:
            if not start_text:
                raise ValueError("no start")
            start = pd.Timestamp(start_text)
            start = start.tz_localize(context.settings().timezone) if start.tzinfo is None else start
            start = start.tz_convert("UTC")
            end = start + pd.Timedelta(hours=min(float(span_h or 1), max(SPANS_H)))
        except (ValueError, TypeError):
            return None, ("replay.bad_start", {"value": start_text or ""})
    if start >= now:
        return None, ("replay.future", {})
    return _session(start, min(end, now)), None


def _linked_session(query: dict) -> dict | None:
    """The span a link asks for (``replay``/``span`` or ``replay_alarm``); None when it asks for none or
    for one that cannot be played."""
    alarm = query.get("replay_alarm")
    if alarm is not None and not str(alarm).isdigit():
        return None
    if alarm is None and not query.get("replay"):
        return None
    session, _problem = _span(context.pool(), start_text=query.get("replay"), span_h=query.get("span"),
                              alarm_id=alarm)
    return session


@requires("replay.view")
def open_bar(_clicks, class_name, lang):
    """Open (or close) the bar, offering the alarms of the last week to start from and an hour ago as start."""
    if "open" in (class_name or ""):
        return "replay-bar closed", no_update, no_update
    settings, pool = context.settings(), context.pool()
    now = pd.Timestamp.now(tz="UTC")
    alarms = store_replay.list_recent_alarms(pool, since=(now - pd.Timedelta(days=7)).to_pydatetime())
    options = [{"label": f"#{a.id} {fmt.clock(a.raised_at, settings.timezone, with_date=True)} "
                         f"{t('severity.' + a.severity, lang)} · {a.name or a.asset_id} · {a.cause}",
                "value": int(a.id)} for a in alarms.itertuples(index=False)]
    start = (now - pd.Timedelta(hours=1)).tz_convert(settings.timezone).strftime("%Y-%m-%dT%H:%M")
    return "replay-bar open", options, start


@requires("replay.view")
def load_span(_go, alarm_id, start_text, span_h, lang):
    """The span to play: from the picked start for the picked hours, or around the picked alarm (from a little
    before it was raised to a little after it cleared, or to now)."""
    if ctx.triggered_id == "wall-replay-alarm":
        if not alarm_id:
            return no_update, no_update, no_update
        session, problem = _span(context.pool(), alarm_id=alarm_id)
    else:
        session, problem = _span(context.pool(), start_text=start_text, span_h=span_h)
    if problem is not None:
        return no_update, t(problem[0], lang).format(**problem[1]), no_update
    return session, "", _marks(pd.Timestamp(session["start"]), pd.Timestamp(session["end"]))


def _alarm_span(pool, alarm_id: int, now: pd.Timestamp) -> tuple:
    alarm = get_alarm(pool, alarm_id)
    if alarm is None:
        return None, None
    start = pd.Timestamp(alarm["raised_at"]) - LEAD_IN
    cleared = alarm.get("cleared_at")
    end = (pd.Timestamp(cleared) + LEAD_IN) if cleared is not None else now
    return start, min(end, start + pd.Timedelta(hours=max(SPANS_H)))


@requires("replay.view")
def show_time(at_text, quantity, lang, session):
    """The wall as it was at the time the replay shows: map, alarms, ticker, tiles, and the banner."""
    if not at_text or not is_replaying(session):
        return (no_update,) * 10
    settings, pool = context.settings(), context.pool()
    at = pd.Timestamp(at_text).tz_convert("UTC").to_pydatetime()
    frame = replay_frame(pool, at, quantity or style.DEFAULT_QUANTITY, lang, settings.timezone)
    when = _local(at, settings.timezone)
    banner = [html.Strong(t("replay.banner", lang).format(when=when)), html.Span(frame["source"], className="replay-source")]
    return (frame["live"], None, frame["rings"], frame["markers"], frame["ticker"], None, frame["tiles"],
            banner, t("replay.ticker_title", lang).format(when=when[11:16]), when)


@requires("replay.view")
def back_to_live(_clicks, n_live, n_kpi, lang):
    """Live again: the replay ends, the live refreshes forget what they last sent and run now (the alarms' refresh
    resends the ticker with its live title)."""
    return None, None, None, (n_live or 0) + 1, (n_kpi or 0) + 1, t("ticker.title", lang), "replay-bar closed"


def register() -> None:
    """Declare the replay's callbacks; called by the wall page's module, which Dash executes for every app it
    makes (a component module is imported once per process, and its callbacks would reach only the first app)."""
    callback(Output("wall-replay-bar", "className"), Output("wall-replay-alarm", "options"),
             Output("wall-replay-start", "value"),
             Input("wall-replay-open", "n_clicks"), State("wall-replay-bar", "className"), State("wall-lang", "data"),
              prevent_initial_call=True)(open_bar)
    callback(Output("wall-replay", "data"), Output("wall-replay-msg", "children"),
             Output("wall-replay-slider", "marks"),
             Input("wall-replay-go", "n_clicks"), Input("wall-replay-alarm", "value"),
             State("wall-replay-start", "value"), State("wall-replay-span", "value"), State("wall-lang", "data"),
              prevent_initial_call=True)(load_span)
    # The replay's clock, in the browser: a loaded span starts paused at its start; play/pause toggles the tick;
    # each tick moves the time shown by the speed; the scrubber sets it; the end of the span pauses.
    clientside_callback(
        """function(tick, play, slider, session, paused, speed, at) {
            var none = window.dash_clientside.no_update;
            var trig = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || '';
            if (!session) { return [null, 0, 3600, true, '▶']; }
            var start = Date.parse(session.start), end = Date.parse(session.end);
            var span = Math.max(60, Math.round((end - start) / 1000));
            var now = at ? Date.parse(at) : start;
            if (trig.indexOf('wall-replay-play') === 0) {
                var resume = paused && now < end;
                return [none, none, none, !resume, resume ? '⏸' : '▶'];
            }
            if (trig.indexOf('wall-replay-slider') === 0) {
                return [new Date(start + slider * 1000).toISOString(), none, none, none, none];
            }
            if (trig.indexOf('wall-replay-tick') !== 0) {  // a span loaded (or in the page's link): paused at its start
                return [new Date(start).toISOString(), 0, span, true, '▶'];
            }
            var next = Math.min(end, now + (speed || 1) * TICK_MS);
            var done = next >= end;
            return [new Date(next).toISOString(), Math.round((next - start) / 1000), none, done ? true : none,
                    done ? '▶' : none];
        }""".replace("TICK_MS", str(TICK_MS)),
        Output("wall-replay-at", "data"), Output("wall-replay-slider", "value"), Output("wall-replay-slider", "max"),
        Output("wall-replay-tick", "disabled"), Output("wall-replay-play", "children"),
        Input("wall-replay-tick", "n_intervals"), Input("wall-replay-play", "n_clicks"),
        Input("wall-replay-slider", "value"), Input("wall-replay", "data"),
        State("wall-replay-tick", "disabled"), State("wall-replay-speed", "value"), State("wall-replay-at", "data"))
    callback(Output("wall-live", "data", allow_duplicate=True), Output("wall-live-sig", "data", allow_duplicate=True),
             Output("wall-alarms", "data", allow_duplicate=True), Output("wall-leaks", "children", allow_duplicate=True),
             Output("wall-ticker", "children", allow_duplicate=True),
             Output("wall-alarm-sig", "data", allow_duplicate=True), Output("wall-kpis", "children", allow_duplicate=True),
             Output("wall-replay-banner", "children"),
             Output("wall-ticker-title", "children", allow_duplicate=True), Output("wall-replay-time", "children"),
             Input("wall-replay-at", "data"), Input("wall-quantity", "value"), Input("wall-lang", "data"),
             State("wall-replay", "data"), prevent_initial_call=True)(show_time)
    callback(Output("wall-replay", "data", allow_duplicate=True), Output("wall-live-sig", "data", allow_duplicate=True),
             Output("wall-alarm-sig", "data", allow_duplicate=True), Output("wall-interval", "n_intervals"),
             Output("wall-kpi-interval", "n_intervals"),
             Output("wall-ticker-title", "children", allow_duplicate=True),
             Output("wall-replay-bar", "className", allow_duplicate=True),
             Input("wall-replay-live", "n_clicks"), State("wall-interval", "n_intervals"),
             State("wall-kpi-interval", "n_intervals"), State("wall-lang", "data"), prevent_initial_call=True)(back_to_live)
    # The banner shows while a replay is loaded and drawn, decided in the browser from the session: a frame
    # whose request was on its way when Live was pressed lands after it, and must not bring the banner back.
    clientside_callback(
        """function(session, banner) {
            return session && banner && banner.length ? 'replay-banner' : 'replay-banner hidden';
        }""",
        Output("wall-replay-banner", "className"), Input("wall-replay", "data"), Input("wall-replay-banner", "children"))


# -- the wall at a past time ---------------------------------------------------------------------------

def replay_frame(pool, at: datetime, quantity: str, lang: str, timezone: str) -> dict:
    """Everything the wall shows at ``at``: ``live`` arrays, alarm ``rings`` and leak ``markers``, the
    ``ticker``, the KPI ``tiles`` and a note on where the twin state comes from (``source``)."""
    geo = data.geometry(pool)
    state = store_replay.get_state_at(pool, at)
    alarms = data.with_hosts(geo, store_replay.list_alarms_at(pool, at))
    rooms = _compliance_at(pool, at)
    arrays = style.live_arrays(
        geo.order, quantity=quantity, aligned=style.align_states(geo.order, state.states),
        residuals=style.element_residuals(state.residuals, geo.sensors),
        alarms=alarms[["asset_id", "cause", "severity"]], valves_normally_open=geo.valves_normally_open,
        compliance=rooms)
    leaks = alarms[alarms["cause"] == "leak"]
    regions = {int(a.id): (a.details or {}).get("region", []) for a in leaks.itertuples(index=False)}
    rings, markers = wall_map.alarm_overlays(alarms, wall_map.leak_regions(geo, regions))
    live = {"run_id": "replay:" + "|".join(str(k) for k in state.key), "version": geo.version[1], **arrays}
    return {"live": live, "rings": rings, "markers": markers, "state": state,
            "ticker": ticker_items(alarms, lang, timezone, can_ack=False),
            "tiles": replay_tiles(pool, at, state, alarms, rooms, lang), "source": _source_note(state, lang, timezone)}


def _source_note(state: store_replay.ReplayState, lang: str, timezone: str) -> str:
    if state.source is None:
        return t("replay.source.none", lang)
    return t(f"replay.source.{state.source}", lang).format(when=_local(state.time, timezone)[11:19])


def _compliance_at(pool, at: datetime) -> pd.DataFrame | None:
    get_compliance = data.telemetry("get_compliance")
    if get_compliance is None:
        return None
    window_s = max(context.settings().telemetry_window_s, 900.0)
    return get_compliance(pool, end=at, window_s=window_s, threshold_c=data.compliance_threshold_c())


def _tile(key: str, label: str, value, lang: str, *, sub=None, when: str | None = None,
          extra_class: str = "") -> html.Div:
    """A KPI tile as the live column draws it (same classes), aged against the replayed time."""
    state = "nodata" if value is None else "ok"
    children = [html.Div(label, className="kpi-label"), html.Div(fmt.DASH if value is None else value,
                                                                 className="kpi-value")]
    if sub:
        children.append(html.Div(sub, className="kpi-sub"))
    children.append(html.Div(t("state.no_data", lang) if value is None else when or "",
                             className="kpi-badge" if value is None else "kpi-age"))
    return html.Div(children, className=f"kpi-tile kpi-{state} kpi-replay {extra_class}".strip(),
                    **{"data-kpi": key, "data-state": state})


def _summary(state: store_replay.ReplayState, keys: tuple[str, ...]):
    return next((state.summary[k] for k in keys if state.summary.get(k) is not None), None)


def replay_tiles(pool, at: datetime, state: store_replay.ReplayState, alarms: pd.DataFrame,
                 rooms: pd.DataFrame | None, lang: str) -> list:
    """The KPI column as it read at ``at``: twin figures from the state of then, readings from the
    telemetry window ending then, alarms and work orders open then."""
    settings = context.settings()
    geo = data.geometry(pool)
    means = store_replay.window_means_at(pool, at, window_s=settings.telemetry_window_s)
    readings = means.merge(geo.sensors, on="sensor_id")
    twin_when = None if state.time is None else fmt.clock(state.time, settings.timezone)

    def reading(kind: str, how: str = "mean", element_id: str | None = None):
        rows = readings[readings["kind"] == kind]
        if element_id is not None:
            rows = rows[rows["element_id"] == element_id]
        values = pd.to_numeric(rows["value"], errors="coerce").dropna()
        return None if values.empty else float(values.sum() if how == "sum" else values.mean())

    heat = _summary(state, _HEAT_KEYS)
    if heat is None and not state.states.empty:
        heat = pd.to_numeric(state.states.loc[state.states["element_id"].isin(geo.order["stations"]), "heat_mw"],
                             errors="coerce").sum(min_count=1)
        heat = None if pd.isna(heat) else float(heat)
    tiles = [_tile("heat", t("kpi.heat", lang), None if heat is None else fmt.number(heat, "MW", 0), lang,
                   sub=t("state.twin", lang), when=twin_when)]
    outdoor = reading("outdoor_t")
    tiles.append(_tile("outdoor", t("kpi.outdoor", lang), None if outdoor is None else fmt.number(outdoor, "°C"), lang))
    by_id = state.states.set_index("element_id") if not state.states.empty else pd.DataFrame()
    for source_id in geo.order["sources"][:4]:
        values = {k: reading(k, element_id=source_id) for k in ("t_supply", "t_return", "flow")}
        if all(v is None for v in values.values()) and source_id in by_id.index:
            row = by_id.loc[source_id]
            values = {"t_supply": row["t_supply_c"], "t_return": row["t_return_c"], "flow": row["flow_t_h"]}
        has = any(v is not None and pd.notna(v) for v in values.values())
        text = f"{fmt.number(values['t_supply'], '', 1)} / {fmt.number(values['t_return'], '°C', 1)}" if has else None
        name = geo.assets.at[source_id, "name"] or source_id
        tiles.append(_tile(f"source-{source_id}", f"{name} {t('kpi.supply_return', lang)}", text, lang,
                           sub=fmt.number(values["flow"], "t/h", 0) if has else None, extra_class="kpi-source"))
    makeup = reading("makeup_flow", "sum")
    makeup = makeup if makeup is not None else _summary(state, _MAKEUP_KEYS)
    tiles.append(_tile("makeup", t("kpi.makeup", lang), None if makeup is None else fmt.number(makeup, "t/h"), lang))
    if rooms is None or rooms.empty or rooms["collectors"].sum() == 0:
        tiles.append(_tile("compliance", t("kpi.compliance", lang), None, lang))
    else:
        share = 100.0 * (1.0 - rooms["below"].sum() / rooms["collectors"].sum())
        tiles.append(_tile("compliance", t("kpi.compliance", lang), fmt.number(share, "%"), lang,
                           sub=f"{int(rooms['collectors'].sum()):,} · ≥ {data.compliance_threshold_c():g} °C"))
    counts = store_replay.count_alarms_at(alarms)
    chips = [html.Span(f"{t(c.label_key, lang)} {counts[c.value]}", className="chip",
                       style={"borderColor": c.colour, "color": c.colour}) for c in reversed(ALARM_SEVERITY)]
    tiles.append(_tile("alarms", t("kpi.alarms", lang), str(sum(counts.values())), lang, sub=chips,
                       extra_class="kpi-alarms"))
    orders = store_replay.count_orders_open_at(pool, at)
    tiles.append(_tile("orders", t("kpi.orders", lang), str(orders["open"]), lang,
                       sub=html.Span(f"{t('kpi.overdue', lang)} {orders['overdue']}",
                                     className="chip overdue" if orders["overdue"] else "chip")))
    tiles.append(_tile("twin", t("kpi.twin", lang),
                       None if state.cycle_s is None else fmt.number(state.cycle_s, "s", 2), lang, when=twin_when))
    return tiles
