"""/scenarios: engineers' what-if runs (情景推演) — pick elements on the map, list changes, run
against a base, read what breaks, save, compare, export; and the N-1 sweep's ranking.

Deep link: ``/scenarios?pipe=P-00123&action=break`` starts with that pipe selected and broken.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import dash
import dash_leaflet as dl
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash_extensions.javascript import Namespace

from app import context
from app.auth.guard import actor, page, requires
from app.auth.principal import current_principal
from app.components import scenario_data as data
from app.components.map import _base_layer, _bounds
from app.i18n import LANGUAGES, t
from store import incidents as store_incidents
from store import scenarios as store
from store.audit import record_event
from twin.scenarios import ScenarioError

dash.register_page(__name__, path="/scenarios", title="HeatTwin — 情景推演", name="scenarios")

ns = Namespace("heattwin", "scn")
LAYERS = ("pipes", "valves", "stations", "sources")
_POINT = {"valves": "pointValve", "stations": "pointStation", "sources": "pointSource"}
QUANTITIES = ("d_p_supply_bar", "d_t_supply_c", "d_flow_t_h", "n1")
FLAGS = ("cut_off", "low_dp", "low_t", "low_p", "unmet")
SHOWN_STATIONS = 60


def _store(id_, data_=None):
    return dcc.Store(id=id_, data=data_)


def _map(geo, settings):
    layers = [_base_layer(geo, settings.tile_url, settings.tile_attribution)]
    for layer in LAYERS:
        options = {"pointToLayer": ns(_POINT[layer])} if layer in _POINT else {"style": ns("stylePipe")}
        layers.append(dl.GeoJSON(id=f"scn-{layer}", data=geo.collections[layer], onEachFeature=ns("onEach"),
                                 bubblingMouseEvents=False, hideout={}, **options))
    bounds = _bounds(geo)
    return dl.Map(id="scn-map", className="scn-map", preferCanvas=True, children=layers, zoomSnap=0.25,
                  trackViewport=False, attributionControl=bool(settings.tile_url), bounds=bounds,
                  style={"width": "100%", "height": "100%"})


def _section(title_id: str, *children, cls: str = ""):
    return html.Section(className=f"scn-section {cls}", children=[html.H3(id=title_id), *children])


def _hidden(principal, action: str) -> str:
    """A control the principal's roles do not allow is not offered (the server refuses it anyway)."""
    return "" if principal is not None and principal.can(action) else " hidden"


def _editor(principal):
    return html.Div(className="scn-editor", children=[
        html.Div(className="scn-row", children=[
            html.Label(id="scn-name-label", htmlFor="scn-name"), dcc.Input(id="scn-name", type="text", debounce=False),
            html.Label(id="scn-author-label", htmlFor="scn-author"),
            html.Span(principal.label if principal else "", id="scn-author", className="scn-author",
                      **{"data-user": principal.username if principal else ""})]),
        html.Div(className="scn-row", children=[
            html.Label(id="scn-base-label"), dcc.RadioItems(id="scn-base", value="design", inline=True, options=[]),
            html.Label(id="scn-outdoor-label", htmlFor="scn-outdoor"),
            dcc.Input(id="scn-outdoor", type="number", value=-7, step=1, className="scn-number")]),
        html.Div(className="scn-selected", children=[html.Span(id="scn-selected-label"),
                                                     html.Strong(id="scn-selected-id")]),
        html.Div(className="scn-row", children=[
            dcc.Dropdown(id="scn-kind", clearable=False, options=[], className="scn-kind"),
            dcc.Input(id="scn-value", type="number", className="scn-number"),
            html.Button(id="scn-add", n_clicks=0, className="scn-button")]),
        html.H4(id="scn-changes-title"), html.Ol(id="scn-changes", className="scn-changes"),
        html.Div(className="scn-row scn-actions", children=[
            html.Button(id="scn-run", n_clicks=0, className="scn-button primary" + _hidden(principal, "scenario.run")),
            html.Button(id="scn-save", n_clicks=0, className="scn-button" + _hidden(principal, "scenario.save")),
            html.Button(id="scn-csv", n_clicks=0, className="scn-button" + _hidden(principal, "scenario.export")),
            html.Button(id="scn-xlsx", n_clicks=0, className="scn-button" + _hidden(principal, "scenario.export"))]),
        html.Div(id="scn-message", className="scn-message"),
    ])


@page("scenario.view")
def layout(pipe: str | None = None, action: str | None = None, lang: str | None = None, **_query):
    settings = context.settings()
    principal = current_principal()
    lang = lang if lang in LANGUAGES else settings.language
    geo = data.geometry(context.pool())
    changes = [{"kind": "pipe_break", "element_id": pipe}] if pipe and action == "break" else []
    selected = pipe if pipe and pipe in geo.assets.index else None
    return html.Div(className="scn", id="scn-root", lang=lang, children=[
        _store("scn-lang", lang), _store("scn-selected", selected), _store("scn-change-list", changes),
        _store("scn-result"), _store("scn-saved-sig", 0), _store("scn-sweep-started"), _store("scn-order", {k: geo.order[k] for k in LAYERS}),
        dcc.Download(id="scn-download"), dcc.Interval(id="scn-sweep-interval", interval=2000),
        # A deep link with action=break (the wall's "isolate" link) runs at once.
        dcc.Interval(id="scn-autorun", interval=300, max_intervals=1 if changes else 0),
        html.Header(className="scn-header", children=[
            html.H1(id="scn-title"), dcc.Link(id="scn-back", href="/", className="scn-back")]),
        html.Main(className="scn-main", children=[
            html.Div(className="scn-map-wrap", children=[
                _map(geo, settings), html.Div(id="scn-legend", className="scn-legend")]),
            html.Aside(className="scn-side", children=[
                _section("scn-editor-title", _editor(principal)),
                _section("scn-result-title", html.Div(className="scn-row", children=[
                    html.Span(id="scn-quantity-label"),
                    dcc.RadioItems(id="scn-quantity", value=QUANTITIES[0], inline=True, options=[])]),
                    html.Div(id="scn-kpis", className="scn-kpis"), html.Div(id="scn-isolation"),
                    html.Div(id="scn-sources", className="scn-sources"), html.Div(id="scn-table")),
                _section("scn-saved-title", html.Div(id="scn-saved"), html.Div(id="scn-compare")),
                _section("scn-sweep-title", html.Button(id="scn-sweep-start", n_clicks=0,
                                                                 className="scn-button" + _hidden(principal, "scenario.sweep")),
                         html.Div(id="scn-sweep-progress", className="scn-message"), html.Div(id="scn-ranking")),
            ])]),
    ])


@callback(Output("scn-title", "children"), Output("scn-back", "children"), Output("scn-editor-title", "children"),
          Output("scn-name-label", "children"), Output("scn-author-label", "children"),
          Output("scn-base-label", "children"), Output("scn-base", "options"),
          Output("scn-outdoor-label", "children"), Output("scn-selected-label", "children"),
          Output("scn-add", "children"), Output("scn-changes-title", "children"), Output("scn-run", "children"),
          Output("scn-save", "children"), Output("scn-csv", "children"), Output("scn-xlsx", "children"),
          Output("scn-result-title", "children"), Output("scn-quantity-label", "children"),
          Output("scn-quantity", "options"), Output("scn-saved-title", "children"),
          Output("scn-sweep-title", "children"), Output("scn-sweep-start", "children"), Input("scn-lang", "data"))
@requires("scenario.view")
def labels(lang):
    quantities = [{"label": t(data.DELTA_FLOOR[q][2] if q != "n1" else "scenario.n1", lang), "value": q}
                  for q in QUANTITIES]
    return (t("scenario.title", lang), t("scenario.back", lang), t("scenario.title", lang), t("scenario.name", lang),
            t("scenario.author", lang), t("scenario.base", lang),
            [{"label": t("scenario.base.design", lang), "value": "design"},
             {"label": t("scenario.base.live", lang), "value": "live"}],
            t("scenario.outdoor", lang), t("scenario.selected", lang), t("scenario.add", lang),
            t("scenario.changes", lang), t("scenario.run", lang), t("scenario.save", lang), t("scenario.csv", lang),
            t("scenario.xlsx", lang), t("scenario.result", lang), t("scenario.map_shows", lang), quantities,
            t("scenario.saved", lang), t("scenario.sweep", lang), t("scenario.sweep.start", lang))


@callback(Output("scn-selected", "data"), *[Input(f"scn-{layer}", "clickData") for layer in LAYERS],
          prevent_initial_call=True)
@requires("scenario.view")
def select(*clicks):
    feature = ctx.triggered[0]["value"] if ctx.triggered else None
    return (feature or {}).get("properties", {}).get("id") or no_update


def _prefix(element_id: str | None) -> str | None:
    return next((p for p in data.KINDS_BY_PREFIX if element_id and element_id.startswith(p)), None)


@callback(Output("scn-selected-id", "children"), Output("scn-kind", "options"), Output("scn-kind", "value"),
          Input("scn-selected", "data"), Input("scn-lang", "data"))
@requires("scenario.view")
def selected_kinds(element_id, lang):
    kinds = [*data.KINDS_BY_PREFIX.get(_prefix(element_id), []), "outdoor"]
    options = [{"label": t(f"scenario.kind.{k}", lang), "value": k} for k in kinds]
    return element_id or t("scenario.none_selected", lang), options, kinds[0]


@callback(Output("scn-value", "value"), Output("scn-value", "disabled"), Input("scn-kind", "value"))
@requires("scenario.view")
def value_default(kind):
    param = data.VALUE_PARAM.get(kind)
    return (param[1], False) if param else (None, True)


@callback(Output("scn-change-list", "data"), Input("scn-add", "n_clicks"),
          Input({"type": "scn-remove", "index": ALL}, "n_clicks"), State("scn-change-list", "data"),
          State("scn-selected", "data"), State("scn-kind", "value"), State("scn-value", "value"),
          prevent_initial_call=True)
@requires("scenario.view")
def edit_changes(_add, _remove, changes, element_id, kind, value):
    changes = list(changes or [])
    trigger = ctx.triggered_id
    if isinstance(trigger, dict):
        if ctx.triggered[0]["value"]:
            changes.pop(trigger["index"])
        return changes
    if not kind or (kind != "outdoor" and not element_id):
        return no_update
    change = {"kind": kind} if kind == "outdoor" else {"kind": kind, "element_id": element_id}
    if kind in data.VALUE_PARAM and value is not None:
        change[data.VALUE_PARAM[kind][0]] = float(value)
    return [c for c in changes if c != change] + [change]


def _describe(change: dict, lang: str) -> str:
    value = next((f" = {change[p]:g}" for p in (data.VALUE_PARAM.get(change["kind"], ("",))[0],) if p in change), "")
    return f"{t('scenario.kind.' + change['kind'], lang)} {change.get('element_id', '')}{value}"


@callback(Output("scn-changes", "children"), Input("scn-change-list", "data"), Input("scn-lang", "data"))
@requires("scenario.view")
def show_changes(changes, lang):
    if not changes:
        return [html.Li(t("scenario.no_changes", lang), className="muted")]
    return [html.Li([_describe(c, lang), html.Button("×", id={"type": "scn-remove", "index": k}, n_clicks=0,
                                                     className="scn-remove")], **{"data-kind": c["kind"]})
            for k, c in enumerate(changes)]


def _spec(name, base, outdoor, changes) -> dict:
    principal = current_principal()
    return {"name": (name or "").strip() or "未命名情景", "author": principal.username if principal else "",
            "base": {"kind": base or "design", **({"outdoor_c": float(outdoor)} if outdoor is not None else {})},
            "changes": changes or []}


@callback(Output("scn-result", "data"), Output("scn-message", "children"), Input("scn-run", "n_clicks"),
          Input("scn-autorun", "n_intervals"), State("scn-name", "value"), State("scn-base", "value"),
          State("scn-outdoor", "value"), State("scn-change-list", "data"), prevent_initial_call=True)
@requires("scenario.run")
def run(_n, _auto, name, base, outdoor, changes):
    spec = _spec(name, base, outdoor, changes)
    try:
        token, result = data.run(context.pool(), spec)
    except ScenarioError as exc:
        return None, str(exc)
    return {"token": token, "spec": spec, **result.to_dict()}, ""


def _kpi(label: str, value: str, cls: str = "") -> html.Div:
    return html.Div(className=f"scn-kpi {cls}", children=[html.Span(label), html.Strong(value)])


def _kpis(summary: dict, lang: str) -> list:
    if not summary.get("converged"):
        return [html.Div(f"{t('scenario.not_converged', lang)}: {summary.get('error')}", className="scn-warning")]
    kpis = [
        _kpi(t("scenario.kpi.not_delivered", lang), f"{summary['heat_not_delivered_mw']:.1f} MW",
             "bad" if summary["heat_not_delivered_mw"] > 0.05 else ""),
        _kpi(t("scenario.kpi.households", lang), f"{summary['households_affected']:,}"),
        _kpi(t("scenario.kpi.stations", lang), str(summary["stations_affected"])),
        _kpi(t("scenario.kpi.low_dp", lang), str(summary["stations_low_dp"])),
        _kpi(t("scenario.kpi.low_t", lang), str(summary["stations_low_t"])),
        _kpi(t("scenario.kpi.unmet", lang), f"{summary['heat_unmet_mw']:.1f} MW"),
        _kpi(t("scenario.kpi.p_min", lang), f"{summary['p_min_bar']:.2f} bar", "" if summary["feasible"] else "bad"),
    ]
    if not summary["feasible"]:
        kpis.append(html.Div(t("scenario.infeasible", lang), className="scn-warning"))
    return kpis


def _station_rows(stations: pd.DataFrame, lang: str) -> list:
    rows = []
    for r in stations.head(SHOWN_STATIONS).itertuples(index=False):
        why = ", ".join(t(f"scenario.flag.{f}", lang) for f in FLAGS if getattr(r, f))
        rows.append(html.Tr([html.Td(f"{r.id} {r.name}"), html.Td(f"{r.heat_base_mw:.2f} → {r.heat_mw:.2f}"),
                             html.Td(f"{_fmt(r.dp_base_bar)} → {_fmt(r.dp_bar)}"),
                             html.Td("—" if pd.isna(r.t_supply_c) else f"{r.t_supply_c:.1f}"),
                             html.Td(f"{r.households:,}"), html.Td(why)], **{"data-station": r.id}))
    return rows


def _table(result: dict, lang: str):
    stations = pd.DataFrame(result.get("stations") or [])
    if stations.empty or "affected" not in stations:
        return None
    affected = stations[stations["affected"]].sort_values("heat_short_mw", ascending=False)
    head = html.Tr([html.Th(t(f"scenario.col.{c}", lang)) for c in ("station", "heat", "dp", "t", "households",
                                                                     "why")])
    more = [html.P(f"… +{len(affected) - SHOWN_STATIONS}")] if len(affected) > SHOWN_STATIONS else []
    return [html.H4(f"{t('scenario.affected', lang)} ({len(affected)})"),
            html.Table(className="scn-stations", children=[html.Thead(head),
                                                            html.Tbody(_station_rows(affected, lang))]), *more]


def _sources(result: dict, lang: str):
    sources = result.get("sources") or []
    if not sources:
        return None
    return [html.H4(t("scenario.sources", lang)),
            html.Div([html.Span(f"{s['id']}: {s['heat_base_mw']:.0f} → {s['heat_mw']:.0f} MW",
                                className="scn-source") for s in sources])]


def _isolation(result: dict, lang: str):
    iso = result.get("isolation")
    if not iso:
        return None
    line = html.P([html.Strong(f"{t('scenario.isolation', lang)} {iso['target']}: "),
                   f"{t('scenario.valves_to_close', lang)} {', '.join(iso['valves_to_close']) or '—'}"],
                  className="scn-isolation")
    principal = current_principal()
    if principal is None or not principal.can("incident.manage"):
        return line
    return html.Div([line, html.Div(className="scn-row", children=[
        html.Label(t("scenario.back_in", lang), htmlFor="scn-back-in"),
        dcc.Input(id="scn-back-in", type="number", min=0, max=240, step=0.5, value=6, className="scn-number"),
        html.Button(t("scenario.record_isolation", lang), id="scn-record-isolation", n_clicks=0,
                    className="scn-button")]), html.Div(id="scn-recorded", className="scn-message")])


@callback(Output("scn-kpis", "children"), Output("scn-table", "children"), Output("scn-sources", "children"),
          Output("scn-isolation", "children"), Input("scn-result", "data"), Input("scn-lang", "data"))
@requires("scenario.view")
def show_result(result, lang):
    if not result:
        return None, None, None, None
    return _kpis(result["summary"], lang), _table(result, lang), _sources(result, lang), _isolation(result, lang)


def _ranking(pool):
    sweep = store.get_sweep(pool)
    return (sweep, store.get_sweep_ranking(pool, sweep["id"])) if sweep else (None, None)


@callback(*[Output(f"scn-{layer}", "hideout") for layer in LAYERS], Output("scn-legend", "children"),
          Input("scn-result", "data"), Input("scn-quantity", "value"), Input("scn-selected", "data"),
          State("scn-order", "data"), State("scn-lang", "data"))
@requires("scenario.view")
def colour_map(result, quantity, selected, order, lang):
    hideouts = {layer: {"selected": selected} for layer in LAYERS}
    legend = None
    if quantity == "n1":
        _, ranking = _ranking(context.pool())
        if ranking is not None and len(ranking):
            hideouts["pipes"]["pipes"] = data.ranking_colours(ranking, order["pipes"])
            legend = _legend(data.CRITICAL_SCALE, lang)
    elif result and result["summary"].get("converged"):
        pipes = pd.DataFrame(result["pipes"]).set_index("id")
        hideouts["pipes"]["pipes"] = data.pipe_colours(pipes, quantity, order["pipes"])
        stations = pd.DataFrame(result["stations"]).set_index("id")
        hideouts["stations"]["stations"] = data.station_colours(stations, order["stations"])
        legend = _legend(data.delta_scale(quantity, pipes[quantity]), lang)
    return *[hideouts[layer] for layer in LAYERS], legend


def _legend(scale, lang: str):
    palette = data.style.palette(scale)
    gradient = f"linear-gradient(90deg, {', '.join(palette)})"
    flags = [html.Span([html.I(style={"background": c}), t(f"scenario.flag.{f}", lang)], className="scn-swatch")
             for f, c in data.STATION_FLAG_COLOURS]
    return [html.Div(t(scale.label_key, lang), className="scn-legend-title"),
            html.Div(className="scn-gradient", style={"background": gradient}),
            html.Div(className="scn-scale", children=[html.Span(f"{scale.low:g}"), html.Span(scale.unit),
                                                      html.Span(f"{scale.high:g}")]),
            html.Div(flags, className="scn-flags")]


@callback(Output("scn-saved-sig", "data"), Output("scn-message", "children", allow_duplicate=True),
          Input("scn-save", "n_clicks"), State("scn-name", "value"),
          State("scn-base", "value"), State("scn-outdoor", "value"), State("scn-change-list", "data"),
          State("scn-result", "data"), State("scn-saved-sig", "data"), State("scn-lang", "data"),
          prevent_initial_call=True)
@requires("scenario.save")
def save(_n, name, base, outdoor, changes, result, sig, lang):
    spec = _spec(name, base, outdoor, changes)
    kept = {k: v for k, v in result.items() if k not in ("token", "spec")} \
        if result and result.get("spec") == spec else None
    try:
        scenario_id = store.save_scenario(context.pool(), spec, actor=actor("scenario.save"), result=kept)
    except ValueError as exc:
        return no_update, str(exc)
    return (sig or 0) + 1, f"{t('scenario.saved_as', lang)} #{scenario_id}"


def _may_delete(principal, author: str) -> bool:
    return principal.can("scenario.delete_any") or (principal.can("scenario.delete") and author == principal.username)


@callback(Output("scn-recorded", "children"), Input("scn-record-isolation", "n_clicks"), State("scn-result", "data"),
          State("scn-back-in", "value"), State("scn-lang", "data"), prevent_initial_call=True)
@requires("incident.manage")
def record_isolation(clicks, result, back_in_h, lang):
    """The valves are being closed now: the stations cut off become an incident the hotline tells callers of."""
    iso = (result or {}).get("isolation")
    if not clicks or not iso:
        return no_update
    back = pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=float(back_in_h)) if back_in_h else None
    incident_id = store_incidents.add_isolation(
        context.pool(), pipe_id=iso["target"], stations=list(iso.get("stations_cut_off", [])),
        valves=list(iso.get("valves_to_close", [])), actor=actor("incident.manage"),
        expected_back_at=None if back is None else back.to_pydatetime())
    return t("scenario.isolation_recorded", lang).format(id=incident_id, n=len(iso.get("stations_cut_off", [])))


@callback(Output("scn-saved", "children"), Input("scn-saved-sig", "data"), Input("scn-lang", "data"))
@requires("scenario.view")
def saved_list(_sig, lang):
    saved = store.list_scenarios(context.pool())
    principal = current_principal()
    items = []
    for row in saved.itertuples(index=False):
        summary = row.summary or {}
        figure = f"{summary['heat_not_delivered_mw']:.1f} MW" if summary.get("heat_not_delivered_mw") is not None \
            else "—"
        items.append(html.Li(className="scn-saved-item", **{"data-scenario": str(row.id)}, children=[
            html.Span(f"#{row.id} {row.name}", className="scn-saved-name"),
            html.Span(f"{row.author or '—'} · {row.updated_at:%m-%d %H:%M} · {figure}", className="muted"),
            html.Button(t("scenario.load", lang), id={"type": "scn-load", "id": int(row.id)}, n_clicks=0),
            *([html.Button(t("scenario.delete", lang), id={"type": "scn-delete", "id": int(row.id)}, n_clicks=0)]
              if _may_delete(principal, row.author) else [])]))
    compare = dcc.Checklist(id="scn-compare-pick", options=[{"label": f"#{i}", "value": int(i)}
                                                            for i in saved["id"]], value=[], inline=True)
    return [html.Ul(items, className="scn-saved-list"), html.Div([html.Span(t("scenario.compare", lang)), compare],
                                                                  className="scn-compare-pick")]


@callback(Output("scn-name", "value"), Output("scn-base", "value"),
          Output("scn-outdoor", "value"), Output("scn-change-list", "data", allow_duplicate=True),
          Input({"type": "scn-load", "id": ALL}, "n_clicks"), prevent_initial_call=True)
@requires("scenario.view")
def load(_load):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
        return (no_update,) * 4
    stored = store.get_scenario(context.pool(), trigger["id"])
    if stored is None:
        return (no_update,) * 4
    spec = stored["spec"]
    base = spec.get("base") or {}
    return spec["name"], base.get("kind", "design"), base.get("outdoor_c"), spec.get("changes", [])


@callback(Output("scn-saved-sig", "data", allow_duplicate=True),
          Output("scn-message", "children", allow_duplicate=True),
          Input({"type": "scn-delete", "id": ALL}, "n_clicks"), State("scn-saved-sig", "data"),
          State("scn-lang", "data"), prevent_initial_call=True)
@requires("scenario.delete")
def delete(_delete, sig, lang):
    """Delete a saved scenario: one's own, or anybody's with ``scenario.delete_any``."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
        return no_update, no_update
    principal, pool = current_principal(), context.pool()
    try:
        store.delete_scenario(pool, int(trigger["id"]), actor=actor("scenario.delete"),
                              anyones=principal.can("scenario.delete_any"))
    except store.NotYoursError as exc:
        record_event(pool, actor("scenario.delete"), "scenario.delete", outcome="refused", object_type="scenario",
                     object_id=exc.scenario_id, detail=str(exc))
        return no_update, t("scenario.not_yours", lang).format(id=exc.scenario_id, author=exc.author)
    return (sig or 0) + 1, t("scenario.deleted", lang).format(id=trigger["id"])


@callback(Output("scn-compare", "children"), Input("scn-compare-pick", "value"), State("scn-lang", "data"))
@requires("scenario.view")
def compare(picked, lang):
    if not picked or len(picked) != 2:
        return None
    pool = context.pool()
    results = [(store.get_scenario(pool, i), store.get_result(pool, i)) for i in picked]
    keys = ("heat_not_delivered_mw", "households_affected", "stations_affected", "stations_low_dp",
            "heat_unmet_mw", "p_min_bar")
    head = html.Tr([html.Th(""), *[html.Th(f"#{s['id']} {s['name']}") for s, _ in results]])
    rows = [html.Tr([html.Td(k), *[html.Td(_fmt((r or {}).get("summary", {}).get(k))) for _, r in results]])
            for k in keys]
    return html.Table(className="scn-compare-table", children=[html.Thead(head), html.Tbody(rows)])


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


@callback(Output("scn-download", "data"), Input("scn-csv", "n_clicks"), Input("scn-xlsx", "n_clicks"),
          State("scn-result", "data"), prevent_initial_call=True)
@requires("scenario.export")
def export(_csv, _xlsx, result):
    kept = data.kept_result((result or {}).get("token"))
    if kept is None:
        return no_update
    suffix = ".xlsx" if ctx.triggered_id == "scn-xlsx" else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        content = kept.write_table(Path(tmp) / f"scenario{suffix}").read_bytes()
    return dcc.send_bytes(content, f"{kept.name}{suffix}")


@callback(Output("scn-sweep-started", "data"), Input("scn-sweep-start", "n_clicks"), prevent_initial_call=True)
@requires("scenario.sweep")
def start_sweep(clicks):
    if not clicks:
        return no_update
    return {"started": data.start_sweep(context.pool(), actor=actor("scenario.sweep"))}


@callback(Output("scn-sweep-progress", "children"), Output("scn-ranking", "children"),
          Input("scn-sweep-started", "data"), Input("scn-sweep-interval", "n_intervals"), State("scn-lang", "data"))
@requires("scenario.view")
def sweep_progress(_started, _tick, lang):
    current, ranking = _ranking(context.pool())
    if current is None:
        return t("scenario.sweep.none", lang), None
    progress = (f"#{current['id']} {t('scenario.sweep.progress', lang)} {current['done']}/{current['total']}"
                f" · {current['state']}" + (f" · {current['error']}" if current.get("error") else ""))
    rows = [html.Tr([html.Td(r.element_id), html.Td(_fmt(r.heat_not_delivered_mw)),
                     html.Td(_fmt(r.households_affected)), html.Td(_fmt(r.stations_cut_off))])
            for r in ranking.head(15).itertuples(index=False)]
    head = html.Tr([html.Th(h) for h in ("pipe", "MW", t("scenario.kpi.households", lang), "cut off")])
    return progress, html.Table(className="scn-stations", children=[html.Thead(head), html.Tbody(rows)])
