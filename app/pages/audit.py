"""``/admin/audit``: search the audit trail — who did what, as which role, from where, before and after.

Rows keep what the code recorded (action keys, English details, JSON before/after); this page shows them in
the reader's language: each action's label, the details the code writes (``audit.detail.*`` keys, whose
English text is what is recorded) translated, and a change as ``key: old → new``.
"""

from __future__ import annotations

import json
import re
import string
from datetime import datetime, time
from zoneinfo import ZoneInfo

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, callback, dcc, html

from app import context
from app.auth.guard import action_label, page, requires
from app.components.grid import dark_grid_options
from app.i18n import LANGUAGES, TRANSLATIONS, t
from heattwin.choices import AUDIT_OUTCOME
from heattwin.permissions import ACTIONS
from store.audit import count_audit_events, list_audit_events

dash.register_page(__name__, path="/admin/audit", title="HeatTwin — 操作审计", name="audit")

SHOWN_ROWS = 500
_LOGIN_ACTIONS = ("login", "logout")
# The refusals the request guard records (app/auth/guard.py) are these messages in English.
_GUARD_DETAILS = ("auth.refused", "auth.undeclared", "auth.login_needed", "auth.expired")


def _filters(lang: str) -> html.Div:
    def field(key: str, control):
        return html.Label([html.Span(t(key, lang)), control], className="audit-field")

    outcomes = [{"label": t(c.label_key, lang), "value": c.value} for c in AUDIT_OUTCOME]
    labels = {name: t(f"audit.dropdown.{name}", lang)
              for name in ("search", "clear_search", "clear_selection", "no_options_found")}
    return html.Div(className="audit-filters", children=[
        field("audit.user", dcc.Input(id="audit-user", type="text", debounce=True, maxLength=80)),
        field("audit.object", dcc.Input(id="audit-object", type="text", debounce=True, maxLength=200,
                                        placeholder="alarm / alarm:42")),
        field("audit.action", dcc.Dropdown(id="audit-action", options=_action_options(lang), clearable=True,
                                           labels=labels)),
        field("audit.outcome", dcc.Dropdown(id="audit-outcome", options=outcomes, clearable=True, labels=labels)),
        field("audit.since", dcc.DatePickerSingle(id="audit-since", display_format="YYYY-MM-DD",
                                                          placeholder="YYYY-MM-DD", first_day_of_week=1)),
        html.Button(t("audit.search", lang), id="audit-search", n_clicks=0, className="audit-search")])


def _action_options(lang: str) -> list[dict]:
    return [{"label": f"{action_label(a, lang)} ({a})", "value": a} for a in (*ACTIONS, *_LOGIN_ACTIONS)]


def _columns(lang: str) -> list[dict]:
    """Widths are shares (flex), so the columns widen with the grid and its viewport-sized text."""
    def column(name: str, key: str, flex: int, min_px: int, **more) -> dict:
        return {"field": name, "headerName": t(key, lang), "flex": flex, "minWidth": min_px, **more}

    return [column("at", "audit.col.at", 17, 150), column("username", "audit.user", 13, 100),
            column("role", "audit.col.role", 14, 100), column("action", "audit.action", 18, 130),
            column("object", "audit.object", 15, 120), column("outcome", "audit.outcome", 10, 90),
            column("detail", "audit.col.detail", 40, 200, tooltipField="detail"),
            column("change", "audit.col.change", 45, 220, tooltipField="change"),
            column("client_addr", "audit.col.client", 11, 90)]


@page("audit.view")
def layout(lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    return html.Div(className="audit-page", id="audit-root", lang=lang, children=[
        dcc.Store(id="audit-lang", data=lang),
        html.H2(t("audit.title", lang)), _filters(lang), html.Div(id="audit-count", className="audit-count"),
        dag.AgGrid(id="audit-grid", columnDefs=_columns(lang), rowData=[],
                   defaultColDef={"sortable": True, "resizable": True, "filter": True},
                   dashGridOptions=dark_grid_options(lang, pagination=True, paginationPageSize=50,
                                                     enableCellTextSelection=True, tooltipShowDelay=400),
                   style={"height": "70vh"})])


def _object_filter(text: str | None) -> tuple[str | None, str | None]:
    """``alarm`` filters on the kind of object, ``alarm:42`` on one object."""
    if not text:
        return None, None
    kind, _, object_id = text.strip().partition(":")
    return kind or None, object_id or None


def _role(role: str, lang: str) -> str:
    """``dispatcher,agent`` as 值班调度 · 客服坐席 (a role without a label as it is)."""
    labels = [t(f"role.{r}", lang) for r in (role or "").split(",") if r]
    return " · ".join(label.removeprefix("role.") for label in labels)


def _detail_pattern(english: str) -> re.Pattern:
    """``{n} token(s) revoked`` as a regular expression that captures ``n``."""
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(english):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("".join(parts))


_DETAILS = [(key, _detail_pattern(TRANSLATIONS[key]["en"]))
            for key in (*(k for k in TRANSLATIONS if k.startswith("audit.detail.")), *_GUARD_DETAILS)]


def _detail(detail: str, lang: str) -> str:
    """A recorded detail in ``lang``; one the table does not know (an error's own text) as recorded."""
    if lang == "en" or not detail:
        return detail
    for key, pattern in _DETAILS:
        match = pattern.fullmatch(detail)
        if match:
            values = match.groupdict()
            if "action" in values:
                values["action"] = action_label(values["action"], lang)
            return t(key, lang).format(**values)
    return detail


def _value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _change(before, after) -> str:
    """``key: old → new`` for each field that changed (``key: new`` for a new object), ``; ``-separated."""
    if before is None and after is None:
        return ""
    if not isinstance(before or {}, dict) or not isinstance(after or {}, dict):
        return f"{_value(before)} → {_value(after)}"
    if before is None:
        return "; ".join(f"{key}: {_value(value)}" for key, value in after.items())
    after = after or {}
    keys = [*after, *(key for key in before if key not in after)]
    return "; ".join(f"{key}: {_value(before.get(key))} → {_value(after.get(key))}"
                     for key in keys if before.get(key) != after.get(key))


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
    rows = [{"at": f"{r.at.astimezone(zone):%Y-%m-%d %H:%M:%S}", "username": r.username,
             "role": _role(r.role, lang), "action": action_label(r.action, lang),
             "object": f"{r.object_type}:{r.object_id}".strip(":"),
             "outcome": t(f"audit.outcome.{r.outcome}", lang), "detail": _detail(r.detail, lang),
             "change": _change(r.before, r.after), "client_addr": r.client_addr}
            for r in frame.itertuples(index=False)]
    return rows, t("audit.count", lang).format(n=f"{total:,}")
