"""``/admin/audit``: search the audit trail — who did what, as which role, from where, before and after."""

from __future__ import annotations

import json
from datetime import datetime, time
from zoneinfo import ZoneInfo

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, callback, dcc, html

from app import context
from app.auth.guard import page, requires
from app.components.grid import DARK_GRID_THEME
from app.i18n import LANGUAGES, t
from heattwin.choices import AUDIT_OUTCOME
from store.audit import count_audit_events, list_audit_events

dash.register_page(__name__, path="/admin/audit", title="HeatTwin — 操作审计", name="audit")

SHOWN_ROWS = 500


def _filters(lang: str) -> html.Div:
    def field(key: str, control):
        return html.Label([html.Span(t(key, lang)), control], className="audit-field")

    outcomes = [{"label": t(c.label_key, lang), "value": c.value} for c in AUDIT_OUTCOME]
    return html.Div(className="audit-filters", children=[
        field("audit.user", dcc.Input(id="audit-user", type="text", debounce=True, maxLength=80)),
        field("audit.object", dcc.Input(id="audit-object", type="text", debounce=True, maxLength=200,
                                        placeholder="alarm / alarm:42")),
        field("audit.action", dcc.Input(id="audit-action", type="text", debounce=True, maxLength=80,
                                        placeholder="alarm.ack")),
        field("audit.outcome", dcc.Dropdown(id="audit-outcome", options=outcomes, clearable=True)),
        field("audit.since", dcc.DatePickerSingle(id="audit-since", display_format="YYYY-MM-DD")),
        html.Button(t("audit.search", lang), id="audit-search", n_clicks=0, className="audit-search")])


def _columns(lang: str) -> list[dict]:
    return [{"field": "at", "headerName": t("audit.col.at", lang), "width": 170},
            {"field": "username", "headerName": t("audit.user", lang), "width": 140},
            {"field": "role", "headerName": t("audit.col.role", lang), "width": 110},
            {"field": "action", "headerName": t("audit.action", lang), "width": 150},
            {"field": "object", "headerName": t("audit.object", lang), "width": 160},
            {"field": "outcome", "headerName": t("audit.outcome", lang), "width": 90},
            {"field": "detail", "headerName": t("audit.col.detail", lang), "flex": 1, "minWidth": 200},
            {"field": "change", "headerName": t("audit.col.change", lang), "flex": 1, "minWidth": 220},
            {"field": "client_addr", "headerName": t("audit.col.client", lang), "width": 120}]


@page("audit.view")
def layout(lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    return html.Div(className="audit-page", id="audit-root", lang=lang, children=[
        dcc.Store(id="audit-lang", data=lang),
        html.H2(t("audit.title", lang)), _filters(lang), html.Div(id="audit-count", className="audit-count"),
        dag.AgGrid(id="audit-grid", columnDefs=_columns(lang), rowData=[],
                   defaultColDef={"sortable": True, "resizable": True, "filter": True},
                   dashGridOptions={"pagination": True, "paginationPageSize": 50, "enableCellTextSelection": True,
                                    "theme": DARK_GRID_THEME},
                   style={"height": "70vh"})])


def _object_filter(text: str | None) -> tuple[str | None, str | None]:
    """``alarm`` filters on the kind of object, ``alarm:42`` on one object."""
    if not text:
        return None, None
    kind, _, object_id = text.strip().partition(":")
    return kind or None, object_id or None


def _dump(value) -> str:
    return "—" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _change(before, after) -> str:
    return "" if before is None and after is None else f"{_dump(before)} → {_dump(after)}"


@callback(Output("audit-grid", "rowData"), Output("audit-count", "children"),
          Input("audit-search", "n_clicks"), Input("audit-user", "value"), Input("audit-object", "value"),
          Input("audit-action", "value"), Input("audit-outcome", "value"), Input("audit-since", "date"),
          State("audit-lang", "data"))
@requires("audit.view")
def search(_n, username, object_text, action, outcome, since, lang):
    settings = context.settings()
    zone = ZoneInfo(settings.timezone)
    object_type, object_id = _object_filter(object_text)
    start = datetime.combine(datetime.fromisoformat(since).date(), time(), zone) if since else None
    filters = {"username": (username or "").strip() or None, "object_type": object_type, "object_id": object_id,
               "action": (action or "").strip() or None, "outcome": outcome, "since": start}
    pool = context.pool()
    frame = list_audit_events(pool, limit=SHOWN_ROWS, **filters)
    total = count_audit_events(pool, **filters)
    rows = [{"at": f"{r.at.astimezone(zone):%Y-%m-%d %H:%M:%S}", "username": r.username, "role": r.role,
             "action": r.action, "object": f"{r.object_type}:{r.object_id}".strip(":"),
             "outcome": t(f"audit.outcome.{r.outcome}", lang), "detail": r.detail,
             "change": _change(r.before, r.after), "client_addr": r.client_addr}
            for r in frame.itertuples(index=False)]
    return rows, t("audit.count", lang).format(n=f"{total:,}")
