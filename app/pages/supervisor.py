"""``/supervisor``: the supervisor's dashboard (主管看板). For a chosen day, week or month: the assessment KPIs
(``store.kpis``: definitions one click away, the trend against the period before) company-wide and per team,
station and community; the work-order board with every filter and its Excel export; where complaints come
from (categories over time, complaints per 10,000 m² beside room-temperature compliance, stations and teams
ranked); 未诉先办 (cold places nobody has called about, an inspection order a click away); the reports.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dash
import dash_ag_grid as dag
import pandas as pd
import plotly.io as pio
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from app import context
from app.auth.guard import actor, page, requires
from app.auth.principal import current_principal
from app.components import fmt
from app.components.grid import dark_grid_options, fluid_columns
from app.i18n import LANGUAGES, t
from app.reports import build as report_build
from app.reports.figures import format_fraction, format_kpi, format_trend, trend_is_good
from app.reports.xlsx import board_workbook
from heattwin.choices import (
    BOARD_ROW_STATE,
    REPORT_KIND,
    WORK_ORDER_CATEGORY,
    WORK_ORDER_ORIGIN,
    WORK_ORDER_STATE,
)
from store import kpis as store_kpis
from store import proactive, reports
from store.telemetry import get_compliance
from store.work_orders import core as store_orders
from store.work_orders import dispatch as store_dispatch

dash.register_page(__name__, path="/supervisor", title="HeatTwin — 主管看板", name="supervisor")

PAGE_ROWS = 100
EXPORT_MAX_ROWS = 100_000
ROW_COLOUR = {c.value: c.colour for c in BOARD_ROW_STATE}
CATEGORY_COLOUR = {c.value: c.colour for c in WORK_ORDER_CATEGORY}
STATE_COLOUR = {c.value: c.colour for c in WORK_ORDER_STATE}
COLD_RULES = {"below_18": 18.0, "below_target": 19.0}  # under the statutory 18 °C, or under the 19 °C target
COMPLIANCE_WINDOW_S = 3600.0
COLD_ROWS = 40
GOOD, BAD = "#2ecc71", "#ff6b6b"


def _options(choices, lang: str) -> list[dict]:
    return [{"label": t(c.label_key, lang), "value": c.value} for c in choices]


def _field(label_key: str, control, lang: str) -> html.Label:
    return html.Label([html.Span(t(label_key, lang)), control], className="sup-field")


def _head(lang: str, today: date, kind: str) -> html.Div:
    return html.Div(className="sup-head", children=[
        html.H2(t("sup.title", lang)),
        _field("sup.period", dcc.RadioItems(id="sup-kind", value=kind, inline=True, options=[
            {"label": t(f"sup.period.{k}", lang), "value": k} for k in store_kpis.PERIOD_KINDS]), lang),
        _field("sup.date", dcc.DatePickerSingle(id="sup-date", date=today.isoformat(), display_format="YYYY-MM-DD",
                                                first_day_of_week=1), lang),
        html.Div(id="sup-period-label", className="sup-period-label"),
        html.Div(id="sup-msg", className="action-msg", role="status")])


def _board(lang: str) -> html.Section:
    def dropdown(id_, options):
        return dcc.Dropdown(id=id_, multi=True, options=options)

    filters = html.Div(className="sup-filters", children=[
        _field("orders.state", dropdown("sup-f-state", _options(WORK_ORDER_STATE, lang)), lang),
        _field("orders.category", dropdown("sup-f-category", _options(WORK_ORDER_CATEGORY, lang)), lang),
        _field("orders.col.origin", dropdown("sup-f-origin", _options(WORK_ORDER_ORIGIN, lang)), lang),
        _field("orders.team", dropdown("sup-f-team", []), lang),
        _field("sup.community", dropdown("sup-f-community", []), lang),
        _field("sup.station", dropdown("sup-f-station", []), lang),
        dcc.Checklist(id="sup-f-overdue", value=[], className="sup-overdue",
                      options=[{"label": t("orders.overdue_only", lang), "value": "overdue"}]),
        html.Button(t("sup.export", lang), id="sup-export", n_clicks=0, className="sup-button"),
        dcc.Download(id="sup-export-file"), html.Div(id="sup-board-count", className="sup-count")])
    columns = [{"field": "id", "headerName": "#", "width": 80},
               {"field": "created", "headerName": t("orders.col.created", lang), "width": 140, "colId": "created_at"},
               {"field": "title", "headerName": t("orders.col.title", lang), "flex": 2, "minWidth": 180,
                "sortable": False},
               {"field": "category_label", "headerName": t("orders.category", lang), "width": 120, "colId": "category"},
               {"field": "origin_label", "headerName": t("orders.col.origin", lang), "width": 110, "colId": "origin"},
               {"field": "state_label", "headerName": t("orders.state", lang), "width": 100, "colId": "state",
                "cellStyle": {"function": "{'color': params.data && params.data.state_colour, 'fontWeight': 600}"}},
               {"field": "team_name", "headerName": t("orders.team", lang), "width": 110, "colId": "team_id"},
               {"field": "community", "headerName": t("sup.community", lang), "width": 110, "sortable": False},
               {"field": "due", "headerName": t("orders.col.due", lang), "width": 150, "colId": "sla_due_at"}]
    legend = html.Div(className="sup-legend", children=[
        html.Span(t(c.label_key, lang), className="sup-swatch", style={"background": c.colour})
        for c in BOARD_ROW_STATE])
    return html.Section(className="sup-section sup-board", children=[
        html.H3(t("sup.board", lang)), filters, legend,
        html.Div(className="sup-board-main", children=[
            dag.AgGrid(id="sup-grid", columnDefs=fluid_columns(columns), rowModelType="infinite",
                       defaultColDef={"sortable": True, "resizable": True},
                       getRowStyle={"function": "params.data && params.data.row_colour ?"
                                                " {background: params.data.row_colour} : null"},
                       dashGridOptions=dark_grid_options(lang, cacheBlockSize=PAGE_ROWS, maxBlocksInCache=10),
                       getRowId="params.data.row_id", className="sup-grid", style={"height": "100%"}),
            html.Aside(id="sup-detail", className="orders-detail sup-detail",
                       children=[html.P(t("orders.pick", lang), className="muted")])]),
        html.Div(id="sup-purged", hidden=True)])


def _grid(id_: str, lang: str, height: str = "16em") -> dag.AgGrid:
    return dag.AgGrid(id=id_, columnDefs=[], rowData=[], defaultColDef={
        "sortable": True, "resizable": True, "wrapHeaderText": True, "autoHeaderHeight": True},
                      columnSize="responsiveSizeToFit", dashGridOptions=dark_grid_options(lang),
                      className="sup-small-grid", style={"height": height})


@page("supervisor.view")
def layout(lang: str | None = None, day: str | None = None, period: str | None = None, **_query):
    """``/supervisor?period=month&day=2026-01-15`` opens January 2026."""
    lang = lang if lang in LANGUAGES else context.settings().language
    try:
        today = date.fromisoformat(day) if day else datetime.now(ZoneInfo(context.settings().timezone)).date()
    except ValueError:
        today = datetime.now(ZoneInfo(context.settings().timezone)).date()
    kind = period if period in store_kpis.PERIOD_KINDS else "month"
    principal = current_principal()
    can_report = principal is not None and principal.can("report.generate")
    return html.Div(className="supervisor", id="sup-root", lang=lang, children=[
        dcc.Store(id="sup-lang", data=lang), dcc.Store(id="sup-selected"), dcc.Store(id="sup-reports-changed", data=0),
        _head(lang, today, kind),
        html.Section(className="sup-section", children=[
            html.Div(className="sup-section-head", children=[
                html.H3(t("sup.kpis", lang)),
                _field("sup.group", dcc.Dropdown(id="sup-group", value="team", clearable=False, options=[
                    {"label": t(f"sup.group.{g}", lang), "value": g} for g in store_kpis.GROUPS]), lang)]),
            dcc.Loading(html.Div(id="sup-tiles", className="sup-tiles")), _grid("sup-groups", lang, "18em")]),
        _board(lang),
        html.Section(className="sup-section", children=[
            html.H3(t("sup.where", lang)),
            html.Div(className="sup-charts", children=[
                dcc.Graph(id="sup-categories", config={"displayModeBar": False}, className="sup-chart"),
                dcc.Graph(id="sup-map", config={"displayModeBar": False}, className="sup-chart"),
                dcc.Graph(id="sup-quadrant", config={"displayModeBar": False}, className="sup-chart")]),
            html.Div(className="sup-rankings", children=[
                html.Div([html.H4(t("sup.rank.stations", lang)), _grid("sup-rank-stations", lang)]),
                html.Div([html.H4(t("sup.rank.teams", lang)), _grid("sup-rank-teams", lang)])])]),
        html.Section(className="sup-section", children=[
            html.Div(className="sup-section-head", children=[
                html.H3(t("sup.proactive", lang)),
                dcc.RadioItems(id="sup-cold-rule", value="below_18", inline=True, options=[
                    {"label": t(f"sup.cold.{k}", lang), "value": k} for k in COLD_RULES]),
                dcc.RadioItems(id="sup-cold-by", value="building", inline=True, options=[
                    {"label": t(f"sup.cold.by.{k}", lang), "value": k} for k in proactive.PLACES])]),
            html.Div(id="sup-cold", className="sup-cold")]),
        html.Section(className="sup-section", children=[
            html.Div(className="sup-section-head", children=[
                html.H3(t("sup.reports", lang)),
                *[html.Button(t("sup.report.make", lang).format(kind=t(c.label_key, lang)),
                              id={"type": "sup-make-report", "kind": c.value}, n_clicks=0, className="sup-button",
                              hidden=not can_report) for c in REPORT_KIND]]),
            html.Div(id="sup-reports")])])


# -- KPIs ------------------------------------------------------------------------------------------------

def _period(kind: str, day: str | None) -> store_kpis.Period:
    settings = context.settings()
    chosen = date.fromisoformat(day[:10]) if day else datetime.now(ZoneInfo(settings.timezone)).date()
    return store_kpis.Period.of(kind or "month", chosen, settings.timezone)


def _tile(kpi: store_kpis.Kpi, report: store_kpis.KpiReport, lang: str) -> html.Div:
    value, delta = report.company.get(kpi.key), report.trend(kpi.key)
    good = trend_is_good(kpi.key, delta)
    arrow = "" if good is None else ("▲ " if delta > 0 else "▼ ")
    return html.Div(className="sup-tile", **{"data-kpi": kpi.key}, children=[
        html.Div(t(f"kpi.{kpi.key}", lang), className="sup-tile-label"),
        html.Div(format_kpi(kpi.key, value), className="sup-tile-value"),
        html.Div(className="sup-tile-foot", children=[
            html.Span(arrow + format_trend(kpi.key, delta), className="sup-trend",
                      style={"color": None if good is None else (GOOD if good else BAD)},
                      title=t("sup.trend", lang)),
            html.Span(format_fraction(report.company, kpi.key), className="sup-fraction")]),
        html.Details(className="sup-definition", children=[
            html.Summary(t("sup.definition", lang)), html.P(t(f"kpi.{kpi.key}.doc", lang))])])


def _group_grid(report: store_kpis.KpiReport, by: str, lang: str) -> tuple[list, list]:
    frame = report.groups.get(by, pd.DataFrame())
    names = _names(by)
    columns = [{"field": "group", "headerName": t(f"sup.group.{by}", lang), "pinned": "left", "minWidth": 140},
               {"field": "orders", "headerName": t("sup.orders", lang), "minWidth": 80}]
    columns += [{"field": k.key, "headerName": t(f"kpi.{k.key}", lang), "minWidth": 110} for k in store_kpis.KPIS]
    rows = [{"group": names.get(r["group"], r["group"]), "orders": int(r["orders"]),
             **{k.key: format_kpi(k.key, r.get(k.key)) for k in store_kpis.KPIS}}
            for r in frame.to_dict("records")]
    return columns, rows


def _names(by: str) -> dict:
    if by == "team":
        teams = store_dispatch.list_teams_with_load(context.pool())
        return dict(zip(teams["team_id"], teams["name"], strict=True))
    areas = store_kpis.heated_areas(context.pool())
    if by == "community":
        return dict(zip(areas["community_id"], areas["name"], strict=True))
    return {}


# The figures are plotly's JSON as dicts, not graph_objects: validating every trace and array on the server cost
# more than making the figures (the tiles' request builds three of them). The template is the one a graph_objects
# figure would have carried.
_TEMPLATE = pio.templates[pio.templates.default].to_plotly_json()


def _layout_figure(title: str, **extra) -> dict:
    return dict(title={"text": title, "font": {"size": 14}}, paper_bgcolor="#0b1422", plot_bgcolor="#0b1422",
                font={"color": "#e6edf5", "family": "Noto Sans CJK SC, sans-serif"},
                margin={"l": 50, "r": 20, "t": 40, "b": 40}, height=340, template=_TEMPLATE, **extra)


def _categories_figure(report: store_kpis.KpiReport, lang: str) -> dict:
    by_day = store_kpis.categories_by_day(report.facts, context.settings().timezone)
    bars = []
    for category, part in by_day.groupby("category"):
        bar = {"type": "bar", "x": part["day"].tolist(), "y": part["orders"].tolist(),
               "name": t(f"wo_category.{category}", lang)}
        if category in CATEGORY_COLOUR:
            bar["marker"] = {"color": CATEGORY_COLOUR[category]}
        bars.append(bar)
    return {"data": bars, "layout": _layout_figure(t("sup.chart.categories", lang), barmode="stack",
                                                   legend={"orientation": "h", "y": -0.2})}


# The rooms' compliance as last read, by database and the moment asked for (now, for a running period), for
# ROOMS_KEPT_S: the hour of 20,000 collectors' readings is most of the tiles' request (0.9 s at full size), and
# the map says which hour it shows.
ROOMS_KEPT_S = 60.0
_ROOMS: dict = {}
_ROOMS_LOCK = threading.Lock()


def _rooms_at(pool, end: datetime) -> tuple[datetime, pd.DataFrame]:
    """The communities' room compliance over the hour before ``end``; with no readings kept then (retention),
    the rooms as they are now. The moment it is of, and the frame (the same for ``ROOMS_KEPT_S``)."""
    # A period still running asks for now: any moment of the last ROOMS_KEPT_S is the same ask.
    recent = datetime.now(ZoneInfo("UTC")) - end < timedelta(seconds=ROOMS_KEPT_S)
    key, now = (pool.conninfo, "now" if recent else end), time.monotonic()
    with _ROOMS_LOCK:
        kept = _ROOMS.get(key)
        if kept is not None and now - kept[0] < ROOMS_KEPT_S:
            return kept[1]
    compliance = get_compliance(pool, end=end, window_s=COMPLIANCE_WINDOW_S)
    if compliance.empty:
        end = datetime.now(ZoneInfo("UTC"))
        compliance = get_compliance(pool, end=end, window_s=COMPLIANCE_WINDOW_S)
    with _ROOMS_LOCK:
        for old in [k for k, (at, _) in _ROOMS.items() if now - at >= ROOMS_KEPT_S]:
            del _ROOMS[old]
        _ROOMS[key] = (now, (end, compliance))
    return end, compliance


def _community_frame(report: store_kpis.KpiReport, rooms: tuple[datetime, pd.DataFrame]) -> pd.DataFrame:
    areas = store_kpis.heated_areas(context.pool())
    per = report.groups.get("community", pd.DataFrame(columns=["group", "complaints_per_10k_m2"]))
    end, compliance = rooms
    frame = areas.merge(per[["group", "complaints", "complaints_per_10k_m2"]], how="left",
                        left_on="community_id", right_on="group")
    frame = frame.merge(compliance[["community_id", "share_ok", "collectors"]], how="left", on="community_id")
    frame["complaints_per_10k_m2"] = frame["complaints_per_10k_m2"].fillna(0.0).astype(float)
    frame.attrs["compliance_end"] = end
    return frame


def _values(series: pd.Series) -> list:
    """A column as plotly's JSON wants it: numbers, None for NaN."""
    return [None if pd.isna(v) else v for v in series.tolist()]


def _map_figures(report: store_kpis.KpiReport, rooms: tuple[datetime, pd.DataFrame], lang: str
                 ) -> tuple[dict, dict]:
    frame = _community_frame(report, rooms)
    per_area, compliance = t("kpi.complaints_per_10k_m2", lang), t("sup.compliance", lang)
    text = [f"{name}<br>{per_area}: {value:.2f}<br>{compliance}: {'—' if pd.isna(ok) else f'{100 * ok:.0f}%'}"
            for name, value, ok in zip(frame["name"], frame["complaints_per_10k_m2"], frame["share_ok"], strict=True)]
    size = 8 + 30 * frame["complaints_per_10k_m2"] / max(frame["complaints_per_10k_m2"].max(), 1e-9)
    window = t("sup.compliance_at", lang).format(at=fmt.clock(frame.attrs["compliance_end"],
                                                              context.settings().timezone, True))
    known = frame["share_ok"].notna().to_numpy()
    texts = pd.Series(text, index=frame.index, dtype=object)

    def points(rows) -> dict:
        return {"type": "scatter", "x": _values(frame["lon"][rows]), "y": _values(frame["lat"][rows]),
                "mode": "markers", "hoverinfo": "text", "text": texts[rows].tolist()}

    unknown_points = points(~known) | {"marker": {"size": _values(size[~known]), "color": "#5c6b7f"}}
    known_points = points(known) | {"marker": {
        "size": _values(size[known]), "color": _values(frame["share_ok"][known] * 100), "cmin": 60, "cmax": 100,
        "colorscale": "RdYlGn", "line": {"width": 0.5, "color": "#e6edf5"},
        "colorbar": {"title": {"text": compliance}, "ticksuffix": "%"}}}
    the_map = {"data": [unknown_points, known_points], "layout": _layout_figure(
        f"{t('sup.chart.map', lang)}<br><sup>{window}</sup>", xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"}, showlegend=False)}
    quadrant = {"data": [{"type": "scatter", "x": _values(frame["share_ok"][known] * 100),
                          "y": _values(frame["complaints_per_10k_m2"][known]), "mode": "markers",
                          "text": frame["name"][known].tolist(), "hoverinfo": "text+x+y",
                          "marker": {"size": 9, "color": "#4dabf7"}}],
                "layout": _layout_figure(
                    f"{t('sup.chart.quadrant', lang)}<br><sup>{window}</sup>",
                    xaxis={"title": {"text": compliance}, "ticksuffix": "%", "range": [0, 102]},
                    yaxis={"title": {"text": per_area}},
                    shapes=[{"type": "line", "x0": 90, "x1": 90, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
                             "line": {"dash": "dot", "color": "#8b98a9"}}])}
    return the_map, quadrant


def _ranking(report: store_kpis.KpiReport, by: str, key: str, lang: str) -> tuple[list, list]:
    frame = report.groups.get(by, pd.DataFrame())
    names = _names(by)
    worst_first = store_kpis.KPI[key].higher_is_better
    frame = frame.dropna(subset=[key]).sort_values(key, ascending=worst_first) if len(frame) else frame
    columns = [{"field": "rank", "headerName": "#", "maxWidth": 70}, {"field": "name", "headerName": t(
        f"sup.group.{by}", lang)}, {"field": "value", "headerName": t(f"kpi.{key}", lang)},
        {"field": "orders", "headerName": t("sup.orders", lang)}]
    rows = [{"rank": k + 1, "name": names.get(r["group"], r["group"]), "value": format_kpi(key, r[key]),
             "orders": int(r["orders"])} for k, r in enumerate(frame.head(20).to_dict("records"))]
    return columns, rows


@callback(Output("sup-tiles", "children"), Output("sup-groups", "columnDefs"), Output("sup-groups", "rowData"),
          Output("sup-categories", "figure"), Output("sup-map", "figure"), Output("sup-quadrant", "figure"),
          Output("sup-rank-stations", "columnDefs"), Output("sup-rank-stations", "rowData"),
          Output("sup-rank-teams", "columnDefs"), Output("sup-rank-teams", "rowData"),
          Output("sup-period-label", "children"),
          Input("sup-kind", "value"), Input("sup-date", "date"), Input("sup-group", "value"), State("sup-lang", "data"))
@requires("supervisor.view")
def render_kpis(kind, day, by, lang):
    period, pool = _period(kind, day), context.pool()
    as_of = period.as_of()
    # The rooms' compliance does not wait for the work orders' figures: both are read at once.
    with ThreadPoolExecutor(1) as side:
        rooms = side.submit(_rooms_at, pool, as_of)
        report = store_kpis.compute_kpis(pool, period, as_of=as_of)
        tiles = [_tile(k, report, lang) for k in store_kpis.KPIS]
        group_columns, group_rows = _group_grid(report, by or "team", lang)
        the_map, quadrant = _map_figures(report, rooms.result(), lang)
    as_of = fmt.clock(report.as_of, context.settings().timezone, True)
    label = t("sup.period_label", lang).format(period=period.label, as_of=as_of, n=f"{int(report.company['orders']):,}")
    return (tiles, group_columns, group_rows, _categories_figure(report, lang), the_map, quadrant,
            *_ranking(report, "station", "complaints_per_10k_m2", lang),
            *_ranking(report, "team", "on_time_completion", lang), label)


# -- the board -------------------------------------------------------------------------------------------

def _board_filters(states, categories, origins, teams, communities, stations, overdue) -> dict:
    return {"state": states, "category": categories, "origin": origins, "team_id": teams, "community": communities,
            "station": stations, "overdue": bool(overdue)}


def _board_rows(frame: pd.DataFrame, lang: str) -> list[dict]:
    timezone = context.settings().timezone
    rows = []
    for r in frame.itertuples(index=False):
        row_state = "overdue" if r.overdue else ("warning" if r.due_warning else None)
        rows.append({"id": int(r.id), "row_id": str(r.id), "created": fmt.clock(r.created_at, timezone, True),
                     "title": r.title, "category_label": t(f"wo_category.{r.category}", lang),
                     "origin_label": t(f"wo_origin.{r.origin}", lang), "state_label": t(f"wo_state.{r.state}", lang),
                     "state_colour": STATE_COLOUR.get(r.state), "team_name": r.team_name or fmt.DASH,
                     "community": r.community or fmt.DASH, "overdue": bool(r.overdue),
                     "due": fmt.clock(r.sla_due_at, timezone, True) if not pd.isna(r.sla_due_at) else fmt.DASH,
                     "row_state": row_state, "row_colour": ROW_COLOUR.get(row_state)})
    return rows


_FILTER_STATES = [State("sup-f-state", "value"), State("sup-f-category", "value"), State("sup-f-origin", "value"),
                  State("sup-f-team", "value"), State("sup-f-community", "value"), State("sup-f-station", "value"),
                  State("sup-f-overdue", "value")]


@callback(Output("sup-f-team", "options"), Output("sup-f-community", "options"), Output("sup-f-station", "options"),
          Input("sup-lang", "data"))
@requires("supervisor.view")
def filter_options(_lang):
    teams = store_dispatch.list_teams_with_load(context.pool())
    areas = store_kpis.heated_areas(context.pool())
    stations = sorted(s for s in areas["station_id"].dropna().unique())
    return ([{"label": r.name, "value": r.team_id} for r in teams.itertuples(index=False)],
            [{"label": f"{r.name} ({r.community_id})", "value": r.community_id} for r in areas.itertuples(index=False)],
            [{"label": s, "value": s} for s in stations])


@callback(Output("sup-grid", "getRowsResponse"), Output("sup-board-count", "children"),
          Input("sup-grid", "getRowsRequest"), *_FILTER_STATES, State("sup-lang", "data"))
@requires("supervisor.view")
def board_page(request, states, categories, origins, teams, communities, stations, overdue, lang):
    """One block of the board from the server, filtered and sorted as the grid asks."""
    if not request:
        return no_update, no_update
    sort = (request.get("sortModel") or [{}])[0]
    start = int(request.get("startRow", 0))
    frame, total = store_orders.list_board(
        context.pool(), offset=start, limit=int(request.get("endRow", start + PAGE_ROWS)) - start,
        sort=sort.get("colId") if sort.get("colId") in store_orders._BOARD_SORTS else "created_at",
        descending=sort.get("sort", "desc") != "asc",
        **_board_filters(states, categories, origins, teams, communities, stations, overdue))
    return {"rowData": _board_rows(frame, lang), "rowCount": total}, t("orders.count", lang).format(n=f"{total:,}")


clientside_callback(
    """function() {
        var api = dash_ag_grid.getApi('sup-grid');
        if (api) { api.purgeInfiniteCache(); }
        return '';
    }""", Output("sup-purged", "children"), Input("sup-f-state", "value"), Input("sup-f-category", "value"),
    Input("sup-f-origin", "value"), Input("sup-f-team", "value"), Input("sup-f-community", "value"),
    Input("sup-f-station", "value"), Input("sup-f-overdue", "value"), prevent_initial_call=True)


@callback(Output("sup-export-file", "data"), Input("sup-export", "n_clicks"), *_FILTER_STATES,
          State("sup-lang", "data"), prevent_initial_call=True)
@requires("supervisor.export")
def export_board(clicks, states, categories, origins, teams, communities, stations, overdue, lang):
    """What the board shows with its filters, every row of it (up to ``EXPORT_MAX_ROWS``), as Excel."""
    if not clicks:
        return no_update
    frame, total = store_orders.list_board(context.pool(), offset=0, limit=EXPORT_MAX_ROWS, **_board_filters(
        states, categories, origins, teams, communities, stations, overdue))
    stamp = datetime.now(ZoneInfo(context.settings().timezone)).strftime("%Y%m%d-%H%M")
    return dcc.send_bytes(board_workbook(frame, total, lang, context.settings().timezone), f"工单-{stamp}.xlsx")


@callback(Output("sup-selected", "data"), Input("sup-grid", "cellClicked"), prevent_initial_call=True)
@requires("supervisor.view")
def select_order(cell):
    row = (cell or {}).get("rowId")
    return int(row) if row is not None else no_update


@callback(Output("sup-detail", "children"), Input("sup-selected", "data"), State("sup-lang", "data"))
@requires("supervisor.view")
def render_detail(wo_id, lang):
    """The order as the dispatch board shows it: facts, clocks, photos, revisits and its whole history."""
    if not wo_id:
        return html.P(t("orders.pick", lang), className="muted")
    order = store_orders.get_order_detail(context.pool(), int(wo_id))
    if order is None:
        return html.P(t("orders.not_found", lang).format(id=wo_id), className="muted")
    orders_page = sys.modules["pages.orders"]  # the module as Dash loaded it: importing it again re-registers it
    return [html.Header(className="orders-detail-head", **{"data-order": str(order["id"]), "data-state": order["state"]},
                        children=[html.H3(f"#{order['id']} {order['title']}"),
                                  html.Span(t(f"wo_state.{order['state']}", lang), className="orders-state",
                                            style={"color": STATE_COLOUR.get(order["state"])})]),
            html.P(" · ".join(str(v) for v in (t(f"wo_category.{order['category']}", lang),
                                               t(f"wo_origin.{order['origin']}", lang), order.get("team_name"),
                                               order.get("household_id") or order.get("asset_id"),
                                               order.get("address")) if v), className="muted"),
            html.P(order.get("description") or "", className="orders-description"),
            orders_page._clock_rows(order, lang), orders_page._photos(order), orders_page._revisits(order, lang),
            html.A(t("sup.open_in_board", lang), href=f"/orders?order={order['id']}", className="sup-link"),
            html.H4(t("orders.history", lang)), orders_page._history(order, lang)]


# -- 未诉先办 -------------------------------------------------------------------------------------------

def _cold_table(frame: pd.DataFrame, lang: str, can_file: bool) -> html.Table | html.P:
    if frame.empty:
        return html.P(t("sup.cold.none", lang), className="muted")
    head = html.Tr([html.Th(t(k, lang)) for k in ("sup.community", "sup.cold.building", "sup.cold.rooms",
                                                   "sup.cold.mean", "sup.cold.worst", "")])
    rows = []
    for r in frame.head(COLD_ROWS).itertuples(index=False):
        building = None if pd.isna(r.building) else int(r.building)
        place = f"{r.community_id}|{'' if building is None else building}"
        rows.append(html.Tr(**{"data-place": place}, children=[
            html.Td(f"{r.community} ({r.community_id})"), html.Td(fmt.DASH if building is None else str(building)),
            html.Td(f"{r.cold} / {r.collectors}"), html.Td(f"{r.mean_c:.1f} ℃"), html.Td(f"{r.worst_c:.1f} ℃"),
            html.Td(html.Button(t("sup.cold.inspect", lang), id={"type": "sup-inspect", "place": place}, n_clicks=0,
                                className="sup-button", hidden=not can_file))]))
    return html.Table([head, *rows], className="sup-cold-table")


def _cold(rule: str, by: str) -> pd.DataFrame:
    return proactive.list_cold_without_ticket(context.pool(), end=datetime.now(ZoneInfo("UTC")),
                                              threshold_c=COLD_RULES.get(rule, 18.0), by=by or "building")


@callback(Output("sup-cold", "children"), Input("sup-cold-rule", "value"), Input("sup-cold-by", "value"),
          Input("sup-reports-changed", "data"), State("sup-lang", "data"))
@requires("supervisor.view")
def render_cold(rule, by, _changed, lang):
    principal = current_principal()
    return _cold_table(_cold(rule, by), lang, principal is not None and principal.can("work_order.proactive"))


@callback(Output("sup-msg", "children"), Output("sup-reports-changed", "data", allow_duplicate=True),
          Input({"type": "sup-inspect", "place": ALL}, "n_clicks"), State("sup-cold-rule", "value"),
          State("sup-cold-by", "value"), State("sup-reports-changed", "data"), State("sup-lang", "data"),
          prevent_initial_call=True)
@requires("work_order.proactive")
def file_inspection(_clicks, rule, by, changed, lang):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        return no_update, no_update
    community_id, _, building = trigger["place"].partition("|")
    building = int(building) if building else None
    frame = _cold(rule, by)
    match = frame[(frame["community_id"] == community_id) & (frame["building"].fillna(-1) == (
        -1 if building is None else building))]
    if match.empty:
        return t("sup.cold.gone", lang), no_update
    r = match.iloc[0]
    today = datetime.now(ZoneInfo(context.settings().timezone)).date().isoformat()
    wo_id = proactive.open_inspection(context.pool(), community_id=community_id, building=building,
                                      actor=actor("work_order.proactive"), threshold_c=COLD_RULES.get(rule, 18.0),
                                      collectors=int(r["collectors"]), cold=int(r["cold"]),
                                      worst_c=float(r["worst_c"]), day=today)
    return t("sup.cold.filed", lang).format(id=wo_id), (changed or 0) + 1


# -- reports ---------------------------------------------------------------------------------------------

@callback(Output("sup-reports", "children"), Input("sup-reports-changed", "data"), State("sup-lang", "data"))
@requires("report.view")
def render_reports(_changed, lang):
    listed = reports.list_reports(context.pool(), limit=30)
    if listed.empty:
        return html.P(t("sup.report.none", lang), className="muted")
    timezone = context.settings().timezone
    head = html.Tr([html.Th(t(k, lang)) for k in ("sup.report.kind", "sup.period", "sup.report.made",
                                                   "sup.report.by", "")])
    rows = [html.Tr(**{"data-report": str(r.id), "data-kind": r.kind}, children=[
        html.Td(t(f"report.{r.kind}", lang)), html.Td(r.label), html.Td(fmt.clock(r.generated_at, timezone, True)),
        html.Td(r.generated_by), html.Td([html.A("Excel", href=f"/reports/{r.id}.xlsx", className="sup-link"), " · ",
                                          html.A("PDF", href=f"/reports/{r.id}.pdf", className="sup-link",
                                                 target="_blank")])])
        for r in listed.itertuples(index=False)]
    return html.Table([head, *rows], className="sup-reports-table")


@callback(Output("sup-reports-changed", "data"), Output("sup-msg", "children", allow_duplicate=True),
          Input({"type": "sup-make-report", "kind": ALL}, "n_clicks"), State("sup-date", "date"),
          State("sup-reports-changed", "data"), State("sup-lang", "data"), prevent_initial_call=True)
@requires("report.generate")
def make_report(_clicks, day, changed, lang):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        return no_update, no_update
    chosen = date.fromisoformat(day[:10]) if day else date.today() - timedelta(days=1)
    report_id = report_build.make_report(context.pool(), trigger["kind"], chosen, actor=actor("report.generate"),
                                         timezone=context.settings().timezone, lang=lang)
    return (changed or 0) + 1, t("sup.report.made_msg", lang).format(id=report_id)
