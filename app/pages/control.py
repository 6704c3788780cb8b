"""``/control``: the engineer's control desk (供热调控) — advised 48 h supply-temperature schedules per source
and the pressure plant's lift, station balancing with the rooms before and after, the load forecast's
backtest scores; accept a schedule (its setpoints go to the plant through the setpoint adapter) or roll the
accepted one back. Nothing reaches a plant without an acceptance here (or ``heattwin control accept``)."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from app import context
from app.auth.guard import actor, page, requires
from app.components import fmt
from app.components.forecast_strip import strip_figure
from app.components.grid import dark_grid_options, fluid_columns
from app.i18n import LANGUAGES, t
from heattwin.choices import SCHEDULE_STATE
from store import control as control_store
from store import forecasts as forecast_store
from store.audit import record_event
from twin.control.adapter import adapter_for
from twin.control.strip import strip_data
from twin.forecast.data import DEFAULT_LOCATION

dash.register_page(__name__, path="/control", title="HeatTwin — 供热调控", name="control")

_STATE_COLOUR = {c.value: c.colour for c in SCHEDULE_STATE}


@page("control.view")
def layout(lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    schedules = [{"field": "id", "headerName": "#", "width": 70},
                 {"field": "issued", "headerName": t("control.col.issued", lang), "width": 130},
                 {"field": "state_label", "headerName": t("control.col.state", lang), "width": 110,
                  "cellStyle": {"function": "params.data ? {'color': params.data.colour} : null"}},
                 {"field": "supply", "headerName": t("control.col.supply", lang), "width": 150},
                 {"field": "lift", "headerName": t("control.col.lift", lang), "width": 130},
                 {"field": "short", "headerName": t("control.col.short", lang), "width": 120},
                 {"field": "by", "headerName": t("control.col.by", lang), "width": 120}]
    stations = [{"field": "station_id", "headerName": t("control.col.station", lang), "width": 110},
                {"field": "ratio", "headerName": t("control.col.ratio", lang), "width": 130},
                {"field": "median", "headerName": t("control.col.median", lang), "width": 150},
                {"field": "coldest", "headerName": t("control.col.coldest", lang), "width": 150},
                {"field": "in_band", "headerName": t("control.col.in_band", lang), "width": 150},
                {"field": "rooms", "headerName": t("control.col.rooms", lang), "width": 80}]
    return html.Div(className="control-desk", id="control-root", lang=lang, children=[
        dcc.Store(id="control-lang", data=lang), dcc.Store(id="control-done", data=0),
        dcc.Interval(id="control-tick", interval=60_000),
        html.H2(t("control.title", lang)),
        html.Div(id="control-status", className="control-status", role="status"),
        html.Div(className="control-actions", children=[
            html.Button(t("control.plan", lang), id="control-plan", n_clicks=0),
            dcc.Input(id="control-note", placeholder=t("control.note", lang), maxLength=500, debounce=False),
            html.Button(t("control.accept", lang), id="control-accept", n_clicks=0, className="control-accept"),
            html.Button(t("control.rollback", lang), id="control-rollback", n_clicks=0),
            html.Div(id="control-msg", role="status")]),
        dag.AgGrid(id="control-schedules", columnDefs=fluid_columns(schedules), rowData=[],
                   getRowId="params.data.row_id", dashGridOptions=dark_grid_options(lang, rowSelection="single"),
                   style={"height": "14em"}),
        html.H3(id="control-picked", children=t("control.pick", lang)),
        dcc.Graph(id="control-strip", config={"displayModeBar": False}, style={"height": "26em"}),
        html.Div(className="control-lower", children=[
            html.Div(children=[html.H3(t("control.balancing", lang)),
                               dag.AgGrid(id="control-stations", columnDefs=fluid_columns(stations), rowData=[],
                                          dashGridOptions=dark_grid_options(lang), style={"height": "18em"})]),
            html.Div(children=[html.H3(t("control.scores", lang)), html.Div(id="control-scores")])])])


def _row(r, timezone: str, lang: str) -> dict:
    hourly = (r.summary or {}).get("hourly", {})
    supply = [v for values in hourly.get("supply_c", {}).values() for v in values]
    lift = hourly.get("lift_bar", [])
    return {"id": int(r.id), "row_id": str(r.id), "issued": fmt.clock(r.issued_at, timezone, True),
            "state": r.state, "state_label": t(f"schedule_state.{r.state}", lang),
            "colour": _STATE_COLOUR.get(r.state, "#8b98a9"),
            "supply": f"{min(supply):.0f}–{max(supply):.0f} °C" if supply else fmt.DASH,
            "lift": f"{min(lift):.1f}–{max(lift):.1f} bar" if lift else fmt.DASH,
            "short": fmt.number((r.summary or {}).get("shortfall_k_max"), "K"), "by": r.created_by or fmt.DASH}


@callback(Output("control-schedules", "rowData"), Output("control-status", "children"),
          Input("control-tick", "n_intervals"), Input("control-done", "data"), State("control-lang", "data"))
@requires("control.view")
def schedules(_tick, _done, lang):
    pool, timezone = context.pool(), context.settings().timezone
    frame = control_store.list_schedules(pool)
    accepted = control_store.get_accepted(pool)
    if accepted is None:
        status = t("control.on_curve", lang)
    else:
        moves = control_store.list_acceptances(pool, schedule_id=accepted["id"], limit=1)
        who = moves.iloc[0] if len(moves) else None
        status = t("control.following", lang).format(
            id=accepted["id"], by=who["username"] if who is not None else fmt.DASH,
            at=fmt.clock(who["at"], timezone, True) if who is not None else fmt.DASH,
            until=fmt.clock(accepted["expires_at"], timezone, True))
    return [_row(r, timezone, lang) for r in frame.itertuples(index=False)], status


@callback(Output("control-strip", "figure"), Output("control-stations", "rowData"), Output("control-picked", "children"),
          Output("control-scores", "children"), Input("control-schedules", "selectedRows"),
          Input("control-schedules", "rowData"), State("control-lang", "data"))
@requires("control.view")
def show(selected, rows, lang):
    pool, timezone = context.pool(), context.settings().timezone
    picked = (selected or [None])[0] or (rows[0] if rows else None)
    scores = _scores(pool, lang)
    if picked is None:
        return strip_figure(strip_data(None, pd.DataFrame()), lang, timezone), [], t("control.none", lang), scores
    schedule = control_store.get_schedule(pool, int(picked["id"]))
    issued = pd.Timestamp(schedule["issued_at"])
    weather = forecast_store.list_weather_forecast(pool, DEFAULT_LOCATION, issued_before=issued.to_pydatetime(),
                                                   valid_from=issued.to_pydatetime(),
                                                   valid_to=(issued + pd.Timedelta(hours=48)).to_pydatetime())
    figure = strip_figure(strip_data(schedule["summary"], weather), lang, timezone)
    stations = [{"station_id": s.station_id, "ratio": f"{s.ratio_before:.2f} → {s.ratio:.2f}",
                 "median": f"{fmt.number(s.median_before_c, '°C')} → {fmt.number(s.median_after_c, '°C')}",
                 "coldest": f"{fmt.number(s.min_before_c, '°C')} → {fmt.number(s.min_after_c, '°C')}",
                 "in_band": f"{fmt.number(100 * s.in_band_before, '%', 0)} → {fmt.number(100 * s.in_band_after, '%', 0)}",
                 "rooms": int(s.rooms)} for s in schedule["stations"].itertuples(index=False)]
    title = t("control.picked", lang).format(id=schedule["id"], state=t(f"schedule_state.{schedule['state']}", lang),
                                             issued=fmt.clock(issued, timezone, True))
    return figure, stations, title, scores


# The backtest's figures the page shows, in order: (key, label key, shown as a percentage).
SCORE_ROWS = (("mape_15_38h", "score.mape", True), ("persistence_mape", "score.persistence_mape", True),
              ("degree_hour_mape", "score.degree_hour_mape", True), ("skill_vs_best_baseline", "score.skill", False),
              ("cvrmse_day_ahead", "score.cvrmse", True), ("nmbe", "score.nmbe", True),
              ("band_p10_p90_coverage", "score.band", True), ("stations_mape_15_38h", "score.stations_mape", True),
              ("stations_skill_vs_best_baseline", "score.stations_skill", False), ("issues", "score.issues", False))


def _scores(pool, lang: str):
    model = forecast_store.get_latest_load_model(pool)
    scores = (model or {}).get("scores") or {}
    if not scores.get("hours"):
        return html.P(t("control.no_scores", lang), className="muted", title=scores.get("why", ""))
    rows = [html.Tr([html.Td(t(label, lang)),
                     html.Td(fmt.number(100.0 * scores[key], "%", 1) if percent else fmt.number(scores[key], "", 0 if isinstance(scores[key], int) else 2))])
            for key, label, percent in SCORE_ROWS if isinstance(scores.get(key), int | float)]
    trained = fmt.clock(pd.Timestamp(model["trained_until"]), context.settings().timezone, True)
    caption = t("score.caption", lang).format(days=fmt.number(scores.get("days", 0), "", 0), trained=trained)
    return html.Div([html.P(caption, className="muted"), html.Table(className="control-score-table", children=rows)])


@callback(Output("control-done", "data", allow_duplicate=True), Output("control-msg", "children", allow_duplicate=True),
          Input("control-plan", "n_clicks"), State("control-done", "data"), State("control-lang", "data"),
          prevent_initial_call=True)
@requires("control.plan")
def plan(clicks, done, lang):
    if not clicks:
        return no_update, no_update
    from twin.control.runner import plan_from_store

    pool, who = context.pool(), actor("control.plan")
    try:
        schedule_id = plan_from_store(pool, actor=who)
    except LookupError as exc:
        record_event(pool, who, "control.plan", outcome="failed", object_type="control_schedule", detail=str(exc))
        return no_update, str(exc)
    return (done or 0) + 1, t("control.planned", lang).format(id=schedule_id)


@callback(Output("control-done", "data"), Output("control-msg", "children"), Input("control-accept", "n_clicks"),
          Input("control-rollback", "n_clicks"), State("control-schedules", "selectedRows"),
          State("control-note", "value"), State("control-done", "data"), State("control-lang", "data"),
          prevent_initial_call=True)
@requires("control.accept")
def accept_or_rollback(_accept, _rollback, selected, note, done, lang):
    picked = (selected or [None])[0]
    if picked is None:
        return no_update, t("control.pick", lang)
    pool, who, settings = context.pool(), actor("control.accept"), context.settings()
    send = adapter_for(settings).send
    try:
        if ctx.triggered_id == "control-rollback":
            result = control_store.rollback_schedule(pool, int(picked["id"]), actor=who, send=send, note=note or "")
            text = t("control.rolled_back", lang).format(id=picked["id"], restored=result["restored"] or fmt.DASH)
        else:
            result = control_store.accept_schedule(pool, int(picked["id"]), actor=who, send=send, note=note or "")
            text = t("control.accepted", lang).format(id=picked["id"], via=result["sent_via"])
    except (ValueError, LookupError, ConnectionError) as exc:
        record_event(pool, who, "control.accept", outcome="failed", object_type="control_schedule",
                     object_id=picked["id"], detail=str(exc))
        return no_update, str(exc)
    return (done or 0) + 1, html.Span(text, **{"data-schedule": str(picked["id"])})
