"""``/alarms``: alarm performance for the dispatcher and the supervisor (ISA-18.2 / EEMUA 191) — alarms
presented per hour and console, floods, standing alarms and their age, the priority mix, the bad actors
with their rule's thresholds; and the dispatcher's hand on it: shelve, unshelve, out of service."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from app import context
from app.auth.guard import actor, current_principal, page, requires
from app.components import fmt
from app.components.alarm_text import describe
from app.components.grid import dark_grid_options, fluid_columns
from app.i18n import LANGUAGES, t
from heattwin.choices import ALARM_PRIORITY, ALARM_PRIORITY_TARGET_SHARE, ALARM_SHELVE_MAX_H
from store import alarm_metrics
from store import alarms as store_alarms
from store.audit import record_event
from twin.alarm_rules import COMMON_FIELDS, RULE_FIELDS, load_config

dash.register_page(__name__, path="/alarms", title="HeatTwin — 报警绩效", name="alarms")

PERIODS_H = (24, 24 * 7)
PRIORITY_COLOUR = {c.value: c.colour for c in ALARM_PRIORITY}


@page("alarm.performance.view")
def layout(lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    return html.Div(className="alarms-page", lang=lang, children=[
        dcc.Store(id="alarms-lang", data=lang), dcc.Store(id="alarms-changed", data=0),
        dcc.Interval(id="alarms-tick", interval=60_000),
        html.Div(className="actions", children=[
            html.H2(t("alarms.title", lang), style={"margin": 0}),
            dcc.RadioItems(id="alarms-period", value=PERIODS_H[0], inline=True,
                           options=[{"label": t(f"alarms.period.{h}", lang), "value": h} for h in PERIODS_H])]),
        html.Div(id="alarms-tiles", className="tiles"),
        dcc.Graph(id="alarms-rate", config={"displaylogo": False}, style={"height": "17em"}),
        html.Div(id="alarms-floods"),
        html.H2(t("alarms.standing", lang)),
        _actions(lang),
        dag.AgGrid(id="alarms-standing", columnDefs=fluid_columns(_standing_columns(lang)), rowData=[],
                   getRowId="params.data.row_id", dashGridOptions=dark_grid_options(lang, rowSelection="single"),
                   style={"height": "22em"}),
        html.H2(t("alarms.shelved", lang)), html.Div(id="alarms-shelved"),
        html.H2(t("alarms.oos", lang)), html.Div(id="alarms-oos"),
        html.H2(t("alarms.bad_actors", lang)), html.Div(id="alarms-bad"),
        html.H2(t("alarms.rules", lang)), _rules_table(lang)])


def _actions(lang: str) -> html.Div:
    principal = current_principal()
    can_shelve = principal is not None and principal.can("alarm.shelve")
    can_oos = principal is not None and principal.can("alarm.out_of_service")
    return html.Div(className="actions" + ("" if can_shelve or can_oos else " hidden"), children=[
        dcc.Input(id="alarms-note", type="text", maxLength=store_alarms.MAX_NOTE_CHARS,
                  placeholder=t("alarm.note", lang)),
        dcc.Input(id="alarms-hours", type="number", min=0.5, max=ALARM_SHELVE_MAX_H, step=0.5, value=4,
                  style={"width": "6em"}, placeholder=t("alarm.shelve_hours", lang)),
        html.Button(t("alarm.shelve", lang), id="alarms-shelve", n_clicks=0, className="alarm-act",
                    disabled=not can_shelve),
        dcc.Input(id="alarms-order", type="number", min=1, step=1, placeholder=t("alarms.order_no", lang),
                  style={"width": "9em"}),
        html.Button(t("alarm.out_of_service", lang), id="alarms-oos-add", n_clicks=0, className="alarm-act",
                    disabled=not can_oos),
        html.Span(id="alarms-msg", className="msg", role="status")])


def _standing_columns(lang: str) -> list[dict]:
    colour = [{"condition": f"params.value === '{t('alarm_priority.' + c.value, lang)}'",
               "style": {"color": c.colour, "fontWeight": 600}} for c in ALARM_PRIORITY]
    return [{"field": "id", "headerName": "#", "width": 80},
            {"field": "priority", "headerName": t("alarms.col.priority", lang), "width": 90,
             "cellStyle": {"styleConditions": colour}},
            # A floor for the two flexible columns: on a phone the grid scrolls sideways in its box rather
            # than squeezing where and what to one character each.
            {"field": "where", "headerName": t("alarms.col.where", lang), "flex": 1, "minWidth": 120},
            {"field": "what", "headerName": t("alarms.col.what", lang), "flex": 3, "minWidth": 220},
            {"field": "grouped", "headerName": t("alarms.col.grouped", lang), "width": 100},
            {"field": "age", "headerName": t("alarms.col.age", lang), "width": 110},
            {"field": "console", "headerName": t("alarms.col.console", lang), "width": 120}]


def _rules_table(lang: str) -> html.Table:
    """Every rule's thresholds as they run now (defaults or the rules file): a bad actor links here."""
    config = load_config()
    rows = []
    for cause, names in RULE_FIELDS.items():
        rows.append(html.Tr(id=f"rule-{cause}", children=[html.Td(t(f"cause.{cause}", lang)), html.Td(cause),
                                                         html.Td(_thresholds(config, names))]))
    rows.append(html.Tr([html.Td(t("alarms.rules.common", lang)), html.Td(""),
                         html.Td(_thresholds(config, COMMON_FIELDS))]))
    return html.Table(className="rules thresholds", children=[
        html.Thead(html.Tr([html.Th(t("alarms.col.rule", lang)), html.Th(""), html.Th(t("alarms.col.thresholds", lang))])),
        html.Tbody(rows)])


def _thresholds(config, names) -> list:
    """``name = value; …``, each pair kept on one line (a phone broke ``= 0.2`` off its name)."""
    pairs = [html.Span(f"{n} = {getattr(config, n):g}", className="threshold") for n in names]
    return [part for k, pair in enumerate(pairs) for part in ([pair] if k == 0 else ["; ", pair])]


def _span(hours: float) -> tuple[pd.Timestamp, pd.Timestamp]:
    until = pd.Timestamp.now(tz="UTC")
    return until - pd.Timedelta(hours=hours), until


def _tile(label: str, value: str, target: str, good: bool | None) -> html.Div:
    state = "" if good is None else (" good" if good else " bad")
    return html.Div(className="tile" + state, children=[html.Div(value, className="value"),
                                                      html.Div(label, className="label"),
                                                      html.Div(target, className="target")])


def _tiles(figures: dict, lang: str) -> list:
    ok = alarm_metrics.within_targets(figures)
    shares = figures["priority_shares"]
    mix = " / ".join(f"{round(100 * shares[p])}" for p in ("low", "medium", "high"))
    target_mix = " / ".join(f"{round(100 * ALARM_PRIORITY_TARGET_SHARE[p])}" for p in ("low", "medium", "high"))
    rate = figures["presented_per_hour"]
    return [
        _tile(t("alarms.tile.rate", lang), f"{rate['mean']:.1f} / {rate['max']}",
              t("alarms.target.rate", lang).format(n=alarm_metrics.ACCEPTABLE_PER_HOUR), ok["presented_per_hour"]),
        _tile(t("alarms.tile.floods", lang), str(figures["flood_windows"]),
              t("alarms.target.floods", lang).format(n=alarm_metrics.FLOOD_MORE_THAN), ok["flood_windows"]),
        _tile(t("alarms.tile.standing", lang), f"{figures['standing_alarms']} / {figures['standing_alarms_all']}",
              t("alarms.target.standing", lang).format(n=alarm_metrics.STANDING_TARGET), ok["standing_alarms"]),
        _tile(t("alarms.tile.oldest", lang), fmt.number(figures["standing_oldest_h"], "h"), "", None),
        _tile(t("alarms.tile.mix", lang), mix, t("alarms.target.mix", lang).format(mix=target_mix), None),
        _tile(t("alarms.tile.count", lang), str(figures["annunciations"]), "", None)]


def _rate_figure(hourly: pd.DataFrame, lang: str, timezone: str) -> go.Figure:
    fig = go.Figure()
    x = hourly.index.tz_convert(timezone).tz_localize(None) if len(hourly.index) else []
    for console in hourly.columns:
        fig.add_trace(go.Bar(x=x, y=hourly[console], name=console or t("alarms.console.none", lang)))
    fig.add_hline(y=alarm_metrics.ACCEPTABLE_PER_HOUR, line_dash="dot", line_color="#ffd43b",
                  annotation_text=t("alarms.target.rate", lang).format(n=alarm_metrics.ACCEPTABLE_PER_HOUR))
    # The title has a row of its own under plotly's toolbar (top right, 216–264 px wide: on a phone a title beside
    # it ran under it), the consoles' legend goes under the plot (above it, it sat on the title).
    fig.update_layout(template="plotly_dark", barmode="stack", paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="rgba(0,0,0,0)", margin={"l": 40, "r": 10, "t": 68, "b": 30},
                      title={"text": t("alarms.rate_title", lang), "font": {"size": 14}, "x": 0, "xref": "paper",
                             "xanchor": "left", "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 40}},
                      legend={"orientation": "h", "y": -0.18, "yanchor": "top", "x": 0},
                      font={"family": "Noto Sans CJK SC, sans-serif"})
    return fig


@callback(Output("alarms-tiles", "children"), Output("alarms-rate", "figure"), Output("alarms-floods", "children"),
          Output("alarms-standing", "rowData"), Output("alarms-shelved", "children"), Output("alarms-oos", "children"),
          Output("alarms-bad", "children"),
          Input("alarms-tick", "n_intervals"), Input("alarms-period", "value"), Input("alarms-changed", "data"),
          State("alarms-lang", "data"))
@requires("alarm.performance.view")
def refresh(_tick, hours, _changed, lang):
    pool, timezone = context.pool(), context.settings().timezone
    since, until = _span(float(hours or PERIODS_H[0]))
    annunciations = alarm_metrics.list_annunciations(pool, since=since, until=until)
    standing = alarm_metrics.list_standing(pool)
    figures = alarm_metrics.summary(annunciations, standing, since=since, until=until)
    floods = alarm_metrics.flood_windows(annunciations)
    return (_tiles(figures, lang), _rate_figure(alarm_metrics.per_hour(annunciations, since=since, until=until),
                                                lang, timezone),
            _floods(floods, lang, timezone), _standing_rows(standing, lang),
            _shelved(store_alarms.list_shelved(pool), lang, timezone),
            _out_of_service(store_alarms.list_out_of_service(pool), lang, timezone),
            _bad_actors(alarm_metrics.list_bad_actors(pool, since=since), lang))


def _floods(floods: pd.DataFrame, lang: str, timezone: str):
    if floods.empty:
        return html.Div(t("alarms.no_floods", lang), className="muted")
    return html.Div([html.Span(t("alarms.floods", lang), className="muted"), " ",
                     *[html.Span(f"{fmt.clock(r.start, timezone, with_date=True)} ({r.count}) ", className="chip")
                       for r in floods.itertuples(index=False)]])


def _standing_rows(standing: pd.DataFrame, lang: str) -> list[dict]:
    return [{"id": int(r.id), "row_id": str(r.id), "priority": t(f"alarm_priority.{r.priority}", lang),
             "where": r.name or r.asset_id, "what": describe(r.cause, r.message, r.details, lang),
             "grouped": int(r.grouped), "age": fmt.number(r.age_h, "h"), "console": r.console}
            for r in standing.itertuples(index=False)]


def _shelved(shelved: pd.DataFrame, lang: str, timezone: str):
    if shelved.empty:
        return html.Div(t("alarms.none", lang), className="muted")
    return html.Ul([html.Li([f"#{r.id} {r.asset_id} · {t(f'cause.{r.cause}', lang)} · ",
                             t("alarm.shelved_until", lang).format(who=r.shelved_by, reason=r.shelve_reason,
                                                                   until=fmt.clock(r.shelved_until, timezone,
                                                                                   with_date=True)), " ",
                             html.Button(t("alarm.unshelve", lang), id={"type": "alarms-unshelve", "alarm": int(r.id)},
                                         n_clicks=0, className="alarm-act")])
                    for r in shelved.itertuples(index=False)])


def _out_of_service(oos: pd.DataFrame, lang: str, timezone: str):
    if oos.empty:
        return html.Div(t("alarms.none", lang), className="muted")
    return html.Ul([html.Li([f"{r.asset_id} · #{r.work_order_id} · {r.reason or fmt.DASH} · {r.started_by} ",
                             fmt.clock(r.started_at, timezone, with_date=True), " ",
                             html.Button(t("alarms.oos_end", lang), id={"type": "alarms-oos-end", "asset": r.asset_id},
                                         n_clicks=0, className="alarm-act")])
                    for r in oos.itertuples(index=False)])


def _bad_actors(bad: pd.DataFrame, lang: str):
    if bad.empty:
        return html.Div(t("alarms.none", lang), className="muted")
    head = html.Tr([html.Th(t(k, lang)) for k in ("alarms.col.where", "alarms.col.rule", "alarms.col.raised",
                                                  "alarms.col.presented")])
    rows = [html.Tr([html.Td(r.name or r.asset_id), html.Td(html.A(t(f"cause.{r.cause}", lang), href=f"#rule-{r.cause}")),
                     html.Td(int(r.raised)), html.Td(int(r.presented))]) for r in bad.itertuples(index=False)]
    return html.Table(className="rules", children=[html.Thead(head), html.Tbody(rows)])


def _clicked(key: str):
    """The ``key`` of the row button really clicked (a re-rendered list fires too, with no clicks)."""
    if not isinstance(ctx.triggered_id, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        return None
    return ctx.triggered_id[key]


def _selected_alarm(rows) -> int | None:
    return int(rows[0]["id"]) if rows else None


def _done(action: str, do, lang: str):
    pool, who = context.pool(), actor(action)
    try:
        message = do(pool, who)
    except ValueError as exc:
        record_event(pool, who, action, outcome="refused", object_type="alarm", detail=str(exc))
        return no_update, str(exc)
    return pd.Timestamp.now().isoformat(), message


@callback(Output("alarms-changed", "data", allow_duplicate=True), Output("alarms-msg", "children", allow_duplicate=True),
          Input("alarms-shelve", "n_clicks"), State("alarms-standing", "selectedRows"), State("alarms-note", "value"),
          State("alarms-hours", "value"), State("alarms-lang", "data"), prevent_initial_call=True)
@requires("alarm.shelve")
def shelve(_clicks, rows, note, hours, lang):
    alarm_id = _selected_alarm(rows)
    if alarm_id is None:
        return no_update, t("alarms.pick", lang)

    def do(pool, who):
        if not (note or "").strip():
            raise ValueError(t("alarm.shelve_needs_reason", lang))
        store_alarms.shelve_alarm(pool, alarm_id, hours=float(hours or 4), reason=note, actor=who)
        return t("alarm.done.shelved", lang).format(id=alarm_id, hours=hours)
    return _done("alarm.shelve", do, lang)


@callback(Output("alarms-changed", "data", allow_duplicate=True), Output("alarms-msg", "children", allow_duplicate=True),
          Input({"type": "alarms-unshelve", "alarm": ALL}, "n_clicks"), State("alarms-lang", "data"),
          prevent_initial_call=True)
@requires("alarm.shelve")
def unshelve(_clicks, lang):
    alarm_id = _clicked("alarm")
    if alarm_id is None:
        return no_update, no_update
    alarm_id = int(alarm_id)

    def do(pool, who):
        store_alarms.unshelve_alarm(pool, alarm_id, actor=who)
        return t("alarm.done.unshelved", lang).format(id=alarm_id)
    return _done("alarm.shelve", do, lang)


@callback(Output("alarms-changed", "data", allow_duplicate=True), Output("alarms-msg", "children", allow_duplicate=True),
          Input("alarms-oos-add", "n_clicks"), State("alarms-standing", "selectedRows"), State("alarms-order", "value"),
          State("alarms-note", "value"), State("alarms-lang", "data"), prevent_initial_call=True)
@requires("alarm.out_of_service")
def out_of_service(_clicks, rows, order, note, lang):
    alarm_id = _selected_alarm(rows)
    if alarm_id is None:
        return no_update, t("alarms.pick", lang)
    if not order:
        return no_update, t("alarm.oos_needs_order", lang)

    def do(pool, who):
        element = store_alarms.get_alarm(pool, alarm_id)["asset_id"]
        host = context_host(pool, element)
        store_alarms.add_out_of_service(pool, host, work_order_id=int(order), reason=note or "", actor=who)
        return t("alarm.done.out_of_service", lang).format(element=host, order=int(order))
    return _done("alarm.out_of_service", do, lang)


def context_host(pool, element_id: str) -> str:
    """A sensor's alarm takes its element out of service (the work order is on the element)."""
    from app.components import wall_data

    return wall_data.host_of(wall_data.geometry(pool), element_id)


@callback(Output("alarms-changed", "data", allow_duplicate=True), Output("alarms-msg", "children", allow_duplicate=True),
          Input({"type": "alarms-oos-end", "asset": ALL}, "n_clicks"), State("alarms-lang", "data"),
          prevent_initial_call=True)
@requires("alarm.out_of_service")
def end_out_of_service(_clicks, lang):
    asset_id = _clicked("asset")
    if asset_id is None:
        return no_update, no_update

    def do(pool, who):
        store_alarms.end_out_of_service(pool, asset_id, actor=who)
        return t("alarms.oos_ended", lang).format(element=asset_id)
    return _done("alarm.out_of_service", do, lang)
