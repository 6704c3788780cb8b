"""``/orders``: the work-order board (派单台). Every order, a page at a time from the server, filtered by
state, category, team and lateness; a click opens the order with its clocks, its whole history, photos
and revisits, and the moves the user's roles allow: dispatch (the suggested team first), close, cancel.
``/orders?order=42`` opens order 42.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from app import context
from app.auth.guard import actor, page, requires
from app.auth.principal import current_principal
from app.components import fmt
from app.components.grid import dark_grid_options, fluid_columns
from app.i18n import LANGUAGES, t
from heattwin.choices import (
    SLA_CLOCK_STATE,
    SLA_CLOCKS,
    WORK_ORDER_CATEGORY,
    WORK_ORDER_FINAL_STATES,
    WORK_ORDER_PRIORITY,
    WORK_ORDER_STATE,
    WORK_ORDER_TRANSITIONS,
)
from store.audit import record_event
from store.work_orders import core as store_orders
from store.work_orders import dispatch as store_dispatch
from store.work_orders import lifecycle
from store.work_orders.sla import clock_state

dash.register_page(__name__, path="/orders", title="HeatTwin — 工单调度", name="orders")

PAGE_ROWS = 100
STATE_COLOUR = {c.value: c.colour for c in WORK_ORDER_STATE}
PRIORITY_COLOUR = {c.value: c.colour for c in WORK_ORDER_PRIORITY}
CLOCK_COLOUR = {c.value: c.colour for c in SLA_CLOCK_STATE}
SUGGESTED_TEAMS = 6
STALE_POSITION_S = 3600  # a team position older than this is shown with its age
DUE_COLUMN = {"reply": "reply_due_at", "site": "site_due_at", "resolve": "sla_due_at", "revisit": "revisit_due_at"}
DONE_COLUMN = {"reply": "replied_at", "site": "on_site_at", "resolve": "resolved_at", "revisit": "visited_at"}


def _options(choices, lang: str) -> list[dict]:
    return [{"label": t(c.label_key, lang), "value": c.value} for c in choices]


def _filters(lang: str) -> html.Div:
    def field(label_key: str, control):
        return html.Label([html.Span(t(label_key, lang)), control], className="orders-field")

    return html.Div(className="orders-filters", children=[
        field("orders.state", dcc.Dropdown(id="orders-state", multi=True, options=_options(WORK_ORDER_STATE, lang))),
        field("orders.category", dcc.Dropdown(id="orders-category", multi=True,
                                              options=_options(WORK_ORDER_CATEGORY, lang))),
        field("orders.team", dcc.Dropdown(id="orders-team", multi=True, options=[])),
        field("orders.search", dcc.Input(id="orders-search", type="text", debounce=True, maxLength=100,
                                         placeholder="#42 / ST-0012 / 标题")),
        dcc.Checklist(id="orders-overdue", options=[{"label": t("orders.overdue_only", lang), "value": "overdue"}],
                      value=[], className="orders-overdue"),
        html.Div(id="orders-count", className="orders-count")])


def _columns(lang: str) -> list[dict]:
    return [{"field": "id", "headerName": "#", "width": 90},
            {"field": "created", "headerName": t("orders.col.created", lang), "width": 140, "colId": "created_at"},
            {"field": "title", "headerName": t("orders.col.title", lang), "flex": 2, "minWidth": 180,
             "sortable": False},
            {"field": "category_label", "headerName": t("orders.category", lang), "width": 130, "colId": "category"},
            {"field": "priority_label", "headerName": t("orders.col.priority", lang), "width": 90, "colId": "priority",
             "cellStyle": {"function": "{'color': params.data && params.data.priority_colour}"}},
            {"field": "state_label", "headerName": t("orders.state", lang), "width": 110, "colId": "state",
             "cellStyle": {"function": "{'color': params.data && params.data.state_colour, 'fontWeight': 600}"}},
            {"field": "team_name", "headerName": t("orders.team", lang), "width": 120, "colId": "team_id"},
            {"field": "due", "headerName": t("orders.col.due", lang), "width": 190, "colId": "sla_due_at",
             "cellClassRules": {"orders-late": "params.data && params.data.overdue"},
             "cellStyle": {"function": "{'color': params.data && params.data.due_colour}"}},
            {"field": "where", "headerName": t("orders.col.where", lang), "width": 140, "sortable": False}]


@page("work_order.board")
def layout(order: str | None = None, lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    selected = int(order) if order and order.isdigit() else None
    return html.Div(className="orders", id="orders-root", lang=lang, children=[
        dcc.Store(id="orders-lang", data=lang), dcc.Store(id="orders-selected", data=selected),
        dcc.Store(id="orders-changed", data=0),
        html.Div(className="orders-head", children=[
            html.H2(t("orders.title", lang)),
            html.Div(id="orders-msg", className="action-msg", role="status")]),
        _filters(lang),
        html.Div(className="orders-main", children=[
            dag.AgGrid(id="orders-grid", columnDefs=fluid_columns(_columns(lang)), rowModelType="infinite",
                       defaultColDef={"sortable": True, "resizable": True},
                       dashGridOptions=dark_grid_options(lang, cacheBlockSize=PAGE_ROWS, maxBlocksInCache=20),
                       getRowId="params.data.row_id", className="orders-grid", style={"height": "100%"}),
            html.Aside(id="orders-detail", className="orders-detail", children=[
                html.P(t("orders.pick", lang), className="muted")])]),
        html.Div(id="orders-purged", hidden=True)])





def _missing(value) -> bool:
    return value is None or pd.isna(value)


def clock_status(due, done, lang: str, *, stopped: bool = False) -> tuple[str, str | None]:
    """One clock as (text, ``SLA_CLOCK_STATE`` value): while it runs, the time left or how late it is; once its
    target state is reached (``done``), whether that was in time, and when. ``stopped``: the order ended
    without reaching it (cancelled): no text, no state."""
    if _missing(due) or (stopped and _missing(done)):
        return fmt.DASH, None
    state, seconds = clock_state(pd.Timestamp(due), None if _missing(done) else pd.Timestamp(done),
                                 now=pd.Timestamp.now(tz="UTC"))
    if state == "running":
        return fmt.age(seconds, lang, future=True), state
    if state == "breached":
        return t("wo_clock.breached", lang).format(time=fmt.span(seconds, lang)), state
    at = fmt.clock(done, context.settings().timezone, True)
    return t(f"wo_clock.{state}", lang).format(time=fmt.span(seconds, lang), at=at), state


def _board_rows(frame: pd.DataFrame, lang: str) -> list[dict]:
    timezone = context.settings().timezone
    due = [clock_status(r.sla_due_at, r.resolved_at, lang, stopped=r.state in WORK_ORDER_FINAL_STATES)
           for r in frame.itertuples(index=False)]
    return [{"id": int(r.id), "row_id": str(r.id), "created": fmt.clock(r.created_at, timezone, with_date=True), "title": r.title,
             "category": r.category, "category_label": t(f"wo_category.{r.category}", lang),
             "priority": r.priority, "priority_label": t(f"priority.{r.priority}", lang),
             "priority_colour": PRIORITY_COLOUR.get(r.priority), "state": r.state,
             "state_label": t(f"wo_state.{r.state}", lang), "state_colour": STATE_COLOUR.get(r.state),
             "team_name": r.team_name or fmt.DASH, "due": text, "due_colour": CLOCK_COLOUR.get(state),
             "overdue": bool(r.overdue), "where": r.household_id or r.asset_id or fmt.DASH}
            for r, (text, state) in zip(frame.itertuples(index=False), due, strict=True)]


@callback(Output("orders-team", "options"), Input("orders-lang", "data"))
@requires("work_order.board")
def team_options(_lang):
    teams = store_dispatch.list_teams_with_load(context.pool())
    return [{"label": f"{r.name} ({r.open_orders})", "value": r.team_id} for r in teams.itertuples(index=False)]


@callback(Output("orders-grid", "getRowsResponse"), Output("orders-count", "children"),
          Input("orders-grid", "getRowsRequest"), State("orders-state", "value"), State("orders-category", "value"),
          State("orders-team", "value"), State("orders-search", "value"), State("orders-overdue", "value"),
          State("orders-lang", "data"))
@requires("work_order.board")
def board_page(request, states, categories, teams, search, overdue, lang):
    """One block of rows for the grid, fetched from the store as the user scrolls."""
    if not request:
        return no_update, no_update
    sort = (request.get("sortModel") or [{}])[0]
    start = int(request.get("startRow", 0))
    frame, total = store_orders.list_board(
        context.pool(), offset=start, limit=int(request.get("endRow", start + PAGE_ROWS)) - start,
        sort=sort.get("colId", "created_at") if sort.get("colId") in store_orders._BOARD_SORTS else "created_at",
        descending=sort.get("sort", "desc") != "asc", state=states, category=categories, team_id=teams,
        overdue=bool(overdue), search=(search or "").strip() or None)
    return {"rowData": _board_rows(frame, lang), "rowCount": total}, t("orders.count", lang).format(n=f"{total:,}")


# A changed filter (or a move made here) starts the grid again from its first block.
clientside_callback(
    """function() {
        var api = dash_ag_grid.getApi('orders-grid');
        if (api) { api.purgeInfiniteCache(); }
        return '';
    }""", Output("orders-purged", "children"), Input("orders-state", "value"), Input("orders-category", "value"),
    Input("orders-team", "value"), Input("orders-search", "value"), Input("orders-overdue", "value"),
    Input("orders-changed", "data"), prevent_initial_call=True)


@callback(Output("orders-selected", "data"), Input("orders-grid", "cellClicked"), prevent_initial_call=True)
@requires("work_order.board")
def select_order(cell):
    row = (cell or {}).get("rowId")
    return int(row) if row is not None else no_update


def _clock_rows(order: dict, lang: str) -> html.Table:
    timezone = context.settings().timezone
    stopped = order["state"] in WORK_ORDER_FINAL_STATES
    rows = []
    for clock in SLA_CLOCKS:
        due, done = order.get(DUE_COLUMN[clock]), order.get(DONE_COLUMN[clock])
        text, state = clock_status(due, done, lang, stopped=stopped)
        rows.append(html.Tr(className="late" if state in ("missed", "breached") else "",
                            **{"data-clock": clock, "data-clock-state": state or ""}, children=[
            html.Td(t(f"orders.clock.{clock}", lang)),
            html.Td(fmt.clock(due, timezone, True) if due else fmt.DASH),
            html.Td(text, style={"color": CLOCK_COLOUR.get(state)})]))
    head = html.Tr([html.Th(t(k, lang)) for k in ("orders.clock", "orders.clock.due", "orders.clock.done")])
    return html.Table([head, *rows], className="orders-clocks")


def _history(order: dict, lang: str) -> html.Ol:
    timezone = context.settings().timezone
    return html.Ol(className="orders-history", children=[
        html.Li(**{"data-to": e.to_state, "data-actor": e.actor}, children=[
            html.Span(fmt.clock(e.at, timezone, True), className="when"), " ",
            html.B(t(f"wo_state.{e.to_state}", lang)), f" · {e.actor_name}", f" · {e.note}" if e.note else ""])
        for e in order["events"].itertuples(index=False)])


def _photos(order: dict) -> html.Div | None:
    if order["photos"].empty:
        return None
    return html.Div(className="orders-photos", children=[
        html.A(html.Img(src=f"/photos/{order['id']}/{p.sha256}", className="orders-photo"),
               href=f"/photos/{order['id']}/{p.sha256}", target="_blank")
        for p in order["photos"].itertuples(index=False)])


def _revisits(order: dict, lang: str) -> html.Ul | None:
    if order["revisits"].empty:
        return None
    timezone = context.settings().timezone
    return html.Ul(className="orders-revisits", children=[
        html.Li(f"{fmt.clock(r.at, timezone, True)} · {r.agent_name} · "
                + (t("revisit.not_reached", lang) if not r.reached else
                   t("revisit.summary", lang).format(n=r.satisfaction, fixed=t(
                       "field.yes" if r.fixed else "field.no", lang))) + (f" · {r.note}" if r.note else ""))
        for r in order["revisits"].itertuples(index=False)])


def _position_note(team, lang: str) -> str | None:
    """Where the distance was measured from, when that is not a fresh position: the base, or an old report."""
    if team.position_from == "base":
        return t("orders.from_base", lang)
    if _missing(team.last_seen_at):
        return None
    age_s = (pd.Timestamp.now(tz="UTC") - pd.Timestamp(team.last_seen_at)).total_seconds()
    return t("orders.position_age", lang).format(age=fmt.age(age_s, lang)) if age_s > STALE_POSITION_S else None


def _team_label(team, current: str | None, lang: str) -> str:
    parts = [team.name, f"{team.distance_km:.1f} km", t("orders.open_orders", lang).format(n=team.open_orders),
             t("orders.score", lang).format(score=team.score), _position_note(team, lang),
             None if team.qualified else t("orders.not_qualified", lang),
             t("orders.current_team", lang) if team.team_id == current else None]
    return " · ".join(p for p in parts if p)


def _dispatch_controls(order: dict, principal, lang: str) -> html.Div | None:
    """Offered only where the lifecycle allows a move to dispatched; the order's own team is picked (and the
    button idle) until another team is chosen, so a second click cannot send it anywhere unintended."""
    if "dispatched" not in WORK_ORDER_TRANSITIONS.get(order["state"], ()) or not principal.can("work_order.dispatch"):
        return None
    try:
        ranked = store_dispatch.suggest_teams(context.pool(), order["id"], limit=100)
    except ValueError as exc:
        return html.P(str(exc), className="muted")
    current = order.get("team_id")
    shown = ranked[(ranked.index < SUGGESTED_TEAMS) | (ranked["team_id"] == current)]
    options = [{"label": _team_label(r, current, lang), "value": r.team_id} for r in shown.itertuples(index=False)]
    picked = current if current in set(shown["team_id"]) else (options[0]["value"] if options else None)
    return html.Div(className="orders-dispatch", children=[
        html.H4(t("orders.dispatch_to", lang).format(km=store_dispatch.LOAD_KM_PER_ORDER)),
        dcc.Store(id="orders-current-team", data=current),
        dcc.RadioItems(id="orders-team-pick", options=options, value=picked, className="orders-team-pick"),
        html.Button(t("orders.redispatch" if current else "orders.dispatch", lang),
                    id={"type": "orders-dispatch", "order": order["id"]}, n_clicks=0,
                    disabled=picked is None or picked == current, className="orders-button primary")])


# Dispatching to the team that already has the order would only send it again: the button waits for another pick.
clientside_callback(
    """function(pick, current) {
        var outputs = dash_clientside.callback_context.outputs_list || [];
        return outputs.map(function () { return !pick || pick === current; });
    }""", Output({"type": "orders-dispatch", "order": ALL}, "disabled"), Input("orders-team-pick", "value"),
    State("orders-current-team", "data"), prevent_initial_call=True)


def _moves(order: dict, principal, lang: str) -> html.Div:
    allowed = WORK_ORDER_TRANSITIONS.get(order["state"], ())
    buttons = [html.Button(t(f"orders.move.{to}", lang), id={"type": "orders-move", "order": order["id"], "to": to},
                           n_clicks=0, className="orders-button")
               for to in ("closed", "cancelled") if to in allowed and principal.can(lifecycle.action_for(to))]
    note = dcc.Input(id="orders-note", type="text", maxLength=lifecycle.MAX_NOTE_CHARS,
                     placeholder=t("orders.note", lang), className="orders-note") if buttons else None
    return html.Div([c for c in (_dispatch_controls(order, principal, lang), note, *buttons) if c is not None],
                    className="orders-moves")


@callback(Output("orders-detail", "children"), Input("orders-selected", "data"), Input("orders-changed", "data"),
          State("orders-lang", "data"))
@requires("work_order.board")
def render_detail(wo_id, _changed, lang):
    if not wo_id:
        return html.P(t("orders.pick", lang), className="muted")
    order = store_orders.get_order_detail(context.pool(), int(wo_id))
    if order is None:
        return html.P(t("orders.not_found", lang).format(id=wo_id), className="muted")
    principal = current_principal()
    facts = [(t("orders.category", lang), t(f"wo_category.{order['category']}", lang)),
             (t("orders.col.priority", lang), t(f"priority.{order['priority']}", lang)),
             (t("orders.col.origin", lang), t(f"wo_origin.{order['origin']}", lang)
              + (f" · {order['external_ref']}" if order.get("external_ref") else "")),
             (t("orders.team", lang), order.get("team_name") or fmt.DASH),
             (t("orders.col.where", lang), " · ".join(str(v) for v in (order.get("asset_id"), order.get("household_id"),
                                                                       order.get("address")) if v) or fmt.DASH),
             (t("orders.col.resident", lang), " · ".join(str(v) for v in (order.get("resident"),
                                                                          order.get("resident_phone")) if v) or fmt.DASH)]
    resolution = order.get("resolution") or {}
    return [html.Header(className="orders-detail-head", **{"data-order": str(order["id"]), "data-state": order["state"]},
                        children=[html.H3(f"#{order['id']} {order['title']}"),
                                  html.Span(t(f"wo_state.{order['state']}", lang), className="orders-state",
                                            style={"color": STATE_COLOUR.get(order["state"])})]),
            html.Dl([x for k, v in facts for x in (html.Dt(k), html.Dd(v))], className="facts"),
            html.P(order.get("description") or "", className="orders-description"),
            html.P(order["sla_note"], className="orders-sla-note") if order.get("sla_note") else None,
            _clock_rows(order, lang), _moves(order, principal, lang),
            html.Div(t("orders.resolution", lang).format(**{k: resolution.get(k, "") for k in ("cause", "action")}),
                     className="orders-resolution") if resolution.get("cause") else None,
            _photos(order), _revisits(order, lang),
            html.H4(t("orders.history", lang)), _history(order, lang)]


def _clicked() -> dict | None:
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        return None
    return trigger


def _done(changed, message: str):
    return (changed or 0) + 1, message


def _refusal(exc: ValueError, lang: str) -> str:
    """A refused move in the page's language: the order's state, and what it can do next."""
    if not isinstance(exc, lifecycle.TransitionError):
        return str(exc)
    nexts = "、".join(t(f"wo_state.{s}", lang) for s in exc.allowed) if exc.allowed else t("orders.final", lang)
    return t("orders.refused_move", lang).format(id=exc.wo_id, state=t(f"wo_state.{exc.current}", lang),
                                                 to=t(f"wo_state.{exc.requested}", lang), next=nexts)


@callback(Output("orders-changed", "data", allow_duplicate=True), Output("orders-msg", "children"),
          Input({"type": "orders-dispatch", "order": ALL}, "n_clicks"), State("orders-team-pick", "value"),
          State("orders-changed", "data"), State("orders-lang", "data"), prevent_initial_call=True)
@requires("work_order.dispatch")
def dispatch_order(_clicks, team_id, changed, lang):
    trigger = _clicked()
    if trigger is None or not team_id:
        return no_update, no_update
    pool, who, wo_id = context.pool(), actor("work_order.dispatch"), int(trigger["order"])
    before = store_orders.get_work_order(pool, wo_id)
    if before is not None and before["state"] == "dispatched" and before["team_id"] == team_id:
        return no_update, t("orders.already_dispatched", lang).format(id=wo_id, team=before["team_name"])
    try:
        lifecycle.dispatch(pool, wo_id, team_id, actor=who)
    except ValueError as exc:
        record_event(pool, who, "work_order.dispatch", outcome="refused", object_type="work_order",
                     object_id=trigger["order"], detail=str(exc))
        return no_update, _refusal(exc, lang)
    after = store_orders.get_work_order(pool, wo_id) or {}
    return _done(changed, t("orders.dispatched", lang).format(id=wo_id, team=after.get("team_name") or team_id))


def _move(to_state: str, note, changed, lang):
    trigger = _clicked()
    if trigger is None or trigger["to"] != to_state:
        return no_update, no_update
    action = lifecycle.action_for(to_state)
    pool, who = context.pool(), actor(action)
    try:
        lifecycle.transition(pool, int(trigger["order"]), to_state, actor=who, note=note or "")
    except ValueError as exc:
        record_event(pool, who, action, outcome="refused", object_type="work_order", object_id=trigger["order"],
                     detail=str(exc))
        return no_update, _refusal(exc, lang)
    return _done(changed, t("orders.moved", lang).format(id=trigger["order"], state=t(f"wo_state.{to_state}", lang)))


@callback(Output("orders-changed", "data", allow_duplicate=True), Output("orders-msg", "children", allow_duplicate=True),
          Input({"type": "orders-move", "order": ALL, "to": "closed"}, "n_clicks"), State("orders-note", "value"),
          State("orders-changed", "data"), State("orders-lang", "data"), prevent_initial_call=True)
@requires("work_order.close")
def close_order(_clicks, note, changed, lang):
    return _move("closed", note, changed, lang)


@callback(Output("orders-changed", "data", allow_duplicate=True), Output("orders-msg", "children", allow_duplicate=True),
          Input({"type": "orders-move", "order": ALL, "to": "cancelled"}, "n_clicks"), State("orders-note", "value"),
          State("orders-changed", "data"), State("orders-lang", "data"), prevent_initial_call=True)
@requires("work_order.cancel")
def cancel_order(_clicks, note, changed, lang):
    return _move("cancelled", note, changed, lang)
