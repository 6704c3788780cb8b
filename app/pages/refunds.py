"""``/supervisor/refunds``: the refund ledger (测温退费台账). A supervisor computes a heating season's ledger
(``twin.refunds``: the rule's settings on the form), reads each household's hours — its hourly room
temperature with the counted hours shaded and the excluded ones marked, why each was counted or not, and
the sum the refund comes from — approves or rejects it with a note (audited), and exports the approved list
to Excel. ``/supervisor/refunds?season=3&household=H-000123`` opens that entry.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import dash
import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
import xlsxwriter
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from app import context
from app.auth.guard import actor, page, requires
from app.components import fmt
from app.components.grid import dark_grid_options, fluid_columns
from app.i18n import LANGUAGES, t
from heattwin.choices import REFUND_HOUR_KIND, REFUND_STATE
from store import refunds as store_refunds
from store.audit import record_event
from store.telemetry import get_trend
from twin.refunds import latest_season, load_rule, run_season

dash.register_page(__name__, path="/supervisor/refunds", title="HeatTwin — 测温退费", name="refunds")

STATE_COLOUR = {c.value: c.colour for c in REFUND_STATE}
KIND_COLOUR = {c.value: c.colour for c in REFUND_HOUR_KIND}


def _field(label_key: str, control, lang: str) -> html.Label:
    return html.Label([html.Span(t(label_key, lang)), control], className="refunds-field")


def _compute_form(lang: str) -> html.Details:
    rule = load_rule()
    start, end = latest_season(rule, date.today())
    return html.Details(className="refunds-compute", children=[
        html.Summary(t("refunds.compute", lang)),
        html.Div(className="refunds-form", children=[
            _field("refunds.start", dcc.Input(id="refunds-start", type="text", value=start.isoformat(),
                                              placeholder="YYYY-MM-DD", debounce=False), lang),
            _field("refunds.end", dcc.Input(id="refunds-end", type="text", value=end.isoformat(),
                                            placeholder="YYYY-MM-DD"), lang),
            _field("refunds.min_t", dcc.Input(id="refunds-min-t", type="number", value=rule.min_t_c, step=0.5), lang),
            _field("refunds.day_hours", dcc.Input(id="refunds-day-hours", type="number", value=rule.day_hours,
                                                  min=1, max=24, step=1), lang),
            _field("refunds.fee", dcc.Input(id="refunds-fee", type="number", value=rule.fee_yuan_per_m2,
                                            min=0.01, step=0.01), lang),
            html.Button(t("refunds.compute.go", lang), id="refunds-compute-go", n_clicks=0,
                        className="refunds-button primary")]),
        html.P(t("refunds.rule", lang), className="muted refunds-rule")])


def _columns(lang: str) -> list[dict]:
    return [{"field": "household_id", "headerName": t("refunds.col.household", lang), "width": 120},
            {"field": "address", "headerName": t("refunds.col.address", lang), "flex": 2, "minWidth": 200},
            {"field": "area_m2", "headerName": "m²", "width": 80},
            {"field": "counted_hours", "headerName": t("refunds.col.counted", lang), "width": 90},
            {"field": "excluded", "headerName": t("refunds.col.excluded", lang), "width": 150},
            {"field": "days_under", "headerName": t("refunds.col.days", lang), "width": 90},
            {"field": "refund_yuan", "headerName": t("refunds.col.refund", lang), "width": 110,
             "valueFormatter": {"function": "d3.format(',.2f')(params.value)"}},
            {"field": "state_label", "headerName": t("refunds.col.state", lang), "width": 100,
             "cellStyle": {"function": "{'color': params.data && params.data.state_colour, 'fontWeight': 600}"}},
            {"field": "flag", "headerName": "", "width": 60}]


@page("refund.view")
def layout(season: str | None = None, household: str | None = None, lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    return html.Div(className="refunds", id="refunds-root", lang=lang, children=[
        dcc.Store(id="refunds-lang", data=lang), dcc.Store(id="refunds-computed", data=0),
        dcc.Store(id="refunds-reviewed", data=0),
        dcc.Store(id="refunds-selected", data=household),
        dcc.Store(id="refunds-wanted-season", data=int(season) if season and season.isdigit() else None),
        dcc.Download(id="refunds-download"),
        html.Div(className="refunds-head", children=[
            html.H2(t("refunds.title", lang)),
            html.Div(id="refunds-msg", className="action-msg", role="status")]),
        html.Div(className="refunds-bar", children=[
            _field("refunds.season", dcc.Dropdown(id="refunds-season", clearable=False, options=[]), lang),
            _field("refunds.state", dcc.Dropdown(id="refunds-state", multi=True, options=[
                {"label": t(c.label_key, lang), "value": c.value} for c in REFUND_STATE]), lang),
            dcc.Checklist(id="refunds-flagged", value=[], className="refunds-check",
                          options=[{"label": t("refunds.flagged_only", lang), "value": "flagged"}]),
            html.Button(t("refunds.export", lang), id="refunds-export", n_clicks=0, className="refunds-button"),
            _compute_form(lang)]),
        html.Div(id="refunds-summary", className="refunds-summary muted"),
        html.Div(className="refunds-main", children=[
            dag.AgGrid(id="refunds-grid", columnDefs=fluid_columns(_columns(lang)), rowData=[],
                       getRowId="params.data.household_id", defaultColDef={"sortable": True, "resizable": True},
                       dashGridOptions=dark_grid_options(lang, pagination=True, paginationAutoPageSize=True),
                       className="refunds-grid", style={"height": "100%"}),
            html.Aside(id="refunds-detail", className="refunds-detail", children=[
                html.P(t("refunds.pick", lang), className="muted")])])])


@callback(Output("refunds-season", "options"), Output("refunds-season", "value"),
          Input("refunds-computed", "data"), State("refunds-wanted-season", "data"), State("refunds-season", "value"),
          State("refunds-lang", "data"))
@requires("refund.view")
def seasons(computed, wanted, current, lang):
    frame = store_refunds.list_seasons(context.pool())
    timezone = context.settings().timezone
    options = [{"label": t("refunds.season.label", lang).format(
        name=r.name, id=r.id, start=r.start_date, end=r.end_date, at=fmt.clock(r.computed_at, timezone, True),
        who=r.computed_by), "value": int(r.id)} for r in frame.itertuples(index=False)]
    ids = [o["value"] for o in options]
    if computed and ids:
        return options, ids[0]            # a ledger just computed opens
    for choice in (current, wanted):
        if choice in ids:
            return options, choice
    return options, ids[0] if ids else None


@callback(Output("refunds-computed", "data"), Output("refunds-msg", "children"),
          Input("refunds-compute-go", "n_clicks"), State("refunds-start", "value"), State("refunds-end", "value"),
          State("refunds-min-t", "value"), State("refunds-day-hours", "value"), State("refunds-fee", "value"),
          State("refunds-computed", "data"), State("refunds-lang", "data"), prevent_initial_call=True)
@requires("refund.compute")
def compute(clicks, start, end, min_t_c, day_hours, fee, computed, lang):
    if not clicks:
        return no_update, no_update
    pool, who = context.pool(), actor("refund.compute")
    try:
        first, last = _date("refunds.start", start, lang), _date("refunds.end", end, lang)
        if last < first:
            raise ValueError(t("refunds.bad_range", lang))
        rule = load_rule(min_t_c=min_t_c, day_hours=day_hours, fee_yuan_per_m2=fee)
        run = run_season(pool, start=first, end=last, actor=who, rule=rule, timezone=context.settings().timezone)
    except ValueError as exc:
        record_event(pool, who, "refund.compute", outcome="refused", object_type="refund_season", detail=str(exc))
        return no_update, str(exc)
    summary = run["summary"]
    return (computed or 0) + 1, t("refunds.computed", lang).format(
        households=summary["households"], owed=summary["refund_households"], yuan=f"{summary['refund_yuan']:,.2f}",
        s=f"{run['total_s']:.1f}")


def _date(label_key: str, text, lang: str) -> date:
    try:
        return date.fromisoformat(str(text or "").strip())
    except ValueError as exc:
        raise ValueError(t("refunds.bad_date", lang).format(field=t(label_key, lang), value=text)) from exc


def _excluded(row, lang: str) -> str:
    parts = [(row.suspended_hours, "refund_hours.suspended"), (row.not_paying_hours, "refund_hours.not_paying"),
             (row.offline_hours, "refund_hours.offline"), (row.tampered_hours, "refund_hours.tampered")]
    return " · ".join(f"{t(key, lang)} {int(n)}" for n, key in parts if n) or fmt.DASH


@callback(Output("refunds-grid", "rowData"), Output("refunds-summary", "children"),
          Input("refunds-season", "value"), Input("refunds-state", "value"), Input("refunds-flagged", "value"),
          Input("refunds-reviewed", "data"), State("refunds-lang", "data"))
@requires("refund.view")
def ledger(season_id, states, flagged, _reviewed, lang):
    if not season_id:
        return [], t("refunds.none", lang)
    pool = context.pool()
    frame = store_refunds.list_entries(pool, int(season_id), state=states or None, flagged_only=bool(flagged),
                                       owed_only=not flagged)
    season = store_refunds.get_season(pool, int(season_id))
    rows = [{"household_id": r.household_id, "address": r.address or r.name or fmt.DASH,
             "area_m2": None if pd.isna(r.area_m2) else round(float(r.area_m2), 2),
             "counted_hours": int(r.counted_hours), "excluded": _excluded(r, lang), "days_under": int(r.days_under),
             "refund_yuan": float(r.refund_yuan), "state": r.state, "state_label": t(f"refund_state.{r.state}", lang),
             "state_colour": STATE_COLOUR.get(r.state), "flag": "⚠" if r.tamper_jumps else ""}
            for r in frame.itertuples(index=False)]
    return rows, _summary(season, lang)


def _summary(season: dict, lang: str) -> str:
    s, states = season["summary"], season["states"]
    return t("refunds.summary", lang).format(
        households=s.get("households", 0), owed=s.get("refund_households", 0),
        yuan=f"{s.get('refund_yuan', 0):,.2f}", tampered=s.get("tampered_collectors", 0),
        approved=states.get("approved", {}).get("entries", 0),
        approved_yuan=f"{states.get('approved', {}).get('refund_yuan', 0):,.2f}",
        pending=states.get("pending", {}).get("entries", 0), min_t=season["rule"]["min_t_c"],
        day_hours=season["rule"]["day_hours"])


@callback(Output("refunds-selected", "data", allow_duplicate=True), Input("refunds-grid", "cellClicked"),
          prevent_initial_call=True)
@requires("refund.view")
def pick(cell):
    return (cell or {}).get("rowId") or no_update


@callback(Output("refunds-detail", "children"), Input("refunds-selected", "data"), Input("refunds-season", "value"),
          Input("refunds-reviewed", "data"), State("refunds-lang", "data"))
@requires("refund.view")
def detail(household_id, season_id, _reviewed, lang):
    if not household_id or not season_id:
        return html.P(t("refunds.pick", lang), className="muted")
    pool = context.pool()
    season = store_refunds.get_season(pool, int(season_id))
    entry = store_refunds.get_entry(pool, int(season_id), household_id)
    if entry is None or season is None:
        return html.P(t("refunds.no_entry", lang).format(household=household_id), className="muted")
    timezone = context.settings().timezone
    return html.Div(**{"data-household": household_id, "data-state": entry["state"]}, children=[
        html.Div(className="refunds-detail-head", children=[
            html.H3(f"{household_id} {entry['name'] or ''}"),
            html.Span(t(f"refund_state.{entry['state']}", lang), className="refunds-entry-state",
                      style={"color": STATE_COLOUR.get(entry["state"])})]),
        html.Div(entry["address"] or fmt.DASH, className="muted"),
        html.P(_explanation(entry, season, lang), className="refunds-explain"),
        dcc.Graph(id="refunds-chart", figure=_chart(pool, entry, season, lang), config={"displayModeBar": False},
                  className="refunds-chart"),
        _spans_table(entry["spans"], timezone, lang),
        _review_form(entry, lang)])


def _explanation(entry: dict, season: dict, lang: str) -> str:
    rule, days = season["rule"], season["summary"].get("season_days", 0)
    text = t("refunds.explain", lang).format(
        counted=entry["counted_hours"], cold=entry["cold_hours"], min_t=rule["min_t_c"],
        suspended=entry["suspended_hours"], not_paying=entry["not_paying_hours"], offline=entry["offline_hours"],
        tampered=entry["tampered_hours"], day_hours=rule["day_hours"], days=entry["days_under"], season_days=days,
        fee=f"{entry['fee_yuan_per_m2']:.2f}", area=fmt.number(entry["area_m2"], digits=2),
        refund=f"{entry['refund_yuan']:,.2f}")
    if entry["tamper_jumps"]:
        text += " " + t("refunds.explain.tampered", lang).format(n=entry["tamper_jumps"], k=rule["jump_k"])
    return text


def _chart(pool, entry: dict, season: dict, lang: str) -> go.Figure:
    start = pd.Timestamp(season["start_date"]).tz_localize(season["timezone"]).tz_convert("UTC")
    end = pd.Timestamp(season["end_date"] + timedelta(days=1)).tz_localize(season["timezone"]).tz_convert("UTC")
    trend = get_trend(pool, [entry["sensor_id"]], start.to_pydatetime(), end.to_pydatetime(), "1h")
    local = pd.to_datetime(trend["bucket"], utc=True).dt.tz_convert(season["timezone"]).dt.tz_localize(None)
    figure = go.Figure(go.Scatter(x=local, y=trend["avg"], mode="lines", name=t("refunds.chart.room_t", lang),
                                  line={"color": "#e6edf5", "width": 1.2}, connectgaps=False))
    figure.add_hline(y=season["rule"]["min_t_c"], line={"color": "#ff6b6b", "dash": "dash", "width": 1})
    spans = entry["spans"]
    for kind in spans["kind"].unique() if len(spans) else ():
        runs = spans[spans["kind"] == kind]
        begin = pd.to_datetime(runs["start_at"], utc=True).dt.tz_convert(season["timezone"]).dt.tz_localize(None)
        counted = kind == "counted"
        for x0, hours in zip(begin, runs["hours"], strict=True):
            # Counted hours shaded over the whole height; excluded hours marked in a band along the bottom.
            figure.add_shape(type="rect", x0=x0, x1=x0 + pd.Timedelta(hours=int(hours)), yref="paper",
                             y0=0, y1=1 if counted else 0.08, line={"width": 0},
                             fillcolor=KIND_COLOUR[kind], opacity=0.28 if counted else 0.85, layer="below")
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=t(f"refund_hours.{kind}", lang),
                                    marker={"symbol": "square", "size": 12, "color": KIND_COLOUR[kind]}))
    figure.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                         margin={"l": 40, "r": 10, "t": 10, "b": 30}, height=260,
                         legend={"orientation": "h", "y": -0.18}, yaxis={"title": "°C"})
    return figure


def _spans_table(spans: pd.DataFrame, timezone: str, lang: str) -> html.Table:
    head = html.Tr([html.Th(t(k, lang)) for k in ("refunds.span.kind", "refunds.span.from", "refunds.span.hours",
                                                  "refunds.span.mean", "refunds.span.min")])
    rows = [html.Tr(**{"data-kind": r.kind}, children=[
        html.Td(t(f"refund_hours.{r.kind}", lang), style={"color": KIND_COLOUR[r.kind]}),
        html.Td(fmt.clock(r.start_at, timezone, True)), html.Td(int(r.hours)),
        html.Td(fmt.number(r.mean_t_c, "°C")), html.Td(fmt.number(r.min_t_c, "°C"))])
        for r in spans.itertuples(index=False)]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="refunds-spans")


def _review_form(entry: dict, lang: str) -> html.Div:
    owed = entry["refund_yuan"] > 0
    decided = t("refunds.decided", lang).format(who=entry["reviewed_by"], note=entry["note"]) \
        if entry["reviewed_by"] else ""
    return html.Div(className="refunds-review", children=[
        html.Div(decided, className="muted"),
        dcc.Textarea(id="refunds-note", maxLength=1000, placeholder=t("refunds.note", lang), value=""),
        html.Div(className="refunds-moves", children=[
            html.Button(t("refunds.approve", lang), id="refunds-approve", n_clicks=0, disabled=not owed,
                        className="refunds-button primary"),
            html.Button(t("refunds.reject", lang), id="refunds-reject", n_clicks=0, className="refunds-button")])])


@callback(Output("refunds-reviewed", "data"), Output("refunds-msg", "children", allow_duplicate=True),
          Input("refunds-approve", "n_clicks"), Input("refunds-reject", "n_clicks"), State("refunds-note", "value"),
          State("refunds-selected", "data"), State("refunds-season", "value"), State("refunds-reviewed", "data"),
          State("refunds-lang", "data"), prevent_initial_call=True)
@requires("refund.review")
def review(approve, reject, note, household_id, season_id, reviewed, lang):
    if not (approve or reject) or not household_id or not season_id:
        return no_update, no_update
    state = "approved" if ctx.triggered_id == "refunds-approve" else "rejected"
    pool, who = context.pool(), actor("refund.review")
    try:
        result = store_refunds.update_entry(pool, int(season_id), household_id, state=state, note=note or "",
                                            actor=who)
    except (ValueError, KeyError) as exc:
        record_event(pool, who, "refund.review", outcome="refused", object_type="refund_entry",
                     object_id=f"{season_id}/{household_id}", detail=str(exc))
        return no_update, str(exc)
    return (reviewed or 0) + 1, t(f"refunds.done.{state}", lang).format(household=household_id,
                                                                         yuan=f"{result['refund_yuan']:,.2f}")


@callback(Output("refunds-download", "data"), Input("refunds-export", "n_clicks"), State("refunds-season", "value"),
          State("refunds-lang", "data"), prevent_initial_call=True)
@requires("refund.export")
def export(clicks, season_id, lang):
    if not clicks or not season_id:
        return no_update
    pool = context.pool()
    season = store_refunds.get_season(pool, int(season_id))
    frame = store_refunds.list_entries(pool, int(season_id), state="approved", sort="household_id", descending=False)
    return dcc.send_bytes(approved_workbook(season, frame, lang, context.settings().timezone),
                          f"refunds-{season['name']}-{season['id']}-approved.xlsx")


EXPORT_COLUMNS = (("household_id", "refunds.col.household"), ("name", "refunds.col.name"),
                  ("address", "refunds.col.address"), ("phone", "refunds.col.phone"), ("area_m2", "refunds.col.area"),
                  ("fee_yuan_per_m2", "refunds.col.fee"), ("counted_hours", "refunds.col.counted"),
                  ("days_under", "refunds.col.days"), ("refund_yuan", "refunds.col.refund"),
                  ("reviewed_by", "refunds.col.reviewed_by"), ("reviewed_at", "refunds.col.reviewed_at"),
                  ("note", "refunds.col.note"))


def approved_workbook(season: dict, frame: pd.DataFrame, lang: str, timezone: str) -> bytes:
    """The approved refunds of a ledger as an Excel workbook: the season and rule on top, one row per
    household, the total at the bottom."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "remove_timezone": True})
    sheet = book.add_worksheet(t("refunds.sheet", lang))
    bold, money = book.add_format({"bold": True}), book.add_format({"num_format": "#,##0.00"})
    rule = season["rule"]
    sheet.write(0, 0, t("refunds.export.title", lang).format(name=season["name"], start=season["start_date"],
                                                             end=season["end_date"]), bold)
    sheet.write(1, 0, t("refunds.export.rule", lang).format(min_t=rule["min_t_c"], day_hours=rule["day_hours"],
                                                            days=season["summary"].get("season_days", "")))
    for col, (_, key) in enumerate(EXPORT_COLUMNS):
        sheet.write(3, col, t(key, lang), bold)
    for row, entry in enumerate(frame.itertuples(index=False), start=4):
        for col, (name, _) in enumerate(EXPORT_COLUMNS):
            value = getattr(entry, name)
            if name == "reviewed_at":
                value = fmt.clock(value, timezone, True)
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                sheet.write_blank(row, col, None)
            elif name in ("refund_yuan", "fee_yuan_per_m2"):
                sheet.write_number(row, col, float(value), money)
            elif isinstance(value, str):
                sheet.write_string(row, col, value)
            else:
                sheet.write_number(row, col, float(value))
    total_row = 4 + len(frame)
    sheet.write(total_row, 0, t("refunds.total", lang), bold)
    sheet.write_number(total_row, 8, float(frame["refund_yuan"].sum()) if len(frame) else 0.0, money)
    sheet.set_column(0, 0, 12)
    sheet.set_column(2, 2, 36)
    sheet.set_column(3, 11, 12)
    book.close()
    return out.getvalue()
