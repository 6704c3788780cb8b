"""``/revisits``: the agents' call-back list (回访) — resolved orders, the soonest due first. Reached and
satisfied with the problem fixed, the order is visited; otherwise it reopens to the same team."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from app import context
from app.auth.guard import actor, page, requires
from app.components import fmt
from app.components.grid import dark_grid_options, fluid_columns
from app.i18n import LANGUAGES, t
from heattwin.choices import SLA_CLOCK_STATE
from store.audit import record_event
from store.work_orders import revisits as store_revisits

dash.register_page(__name__, path="/revisits", title="HeatTwin — 回访", name="revisits")

# A call-back past its due time takes the clock's breached colour, as late orders do on the board.
OVERDUE_COLOUR = next(c.colour for c in SLA_CLOCK_STATE if c.value == "breached")

def _form(lang: str) -> html.Div:
    return html.Div(className="revisit-form", children=[
        html.H3(id="revisit-order", children=t("revisit.pick", lang)),
        html.Div(id="revisit-facts", className="muted"),
        dcc.RadioItems(id="revisit-reached", value="yes", options=[
            {"label": t("revisit.reached", lang), "value": "yes"},
            {"label": t("revisit.not_reached", lang), "value": "no"}]),
        html.Label(t("revisit.satisfaction", lang)),
        dcc.RadioItems(id="revisit-satisfaction", value=5, inline=True,
                       options=[{"label": f" {n} ", "value": n} for n in range(1, 6)]),
        html.Label(t("revisit.fixed", lang)),
        dcc.RadioItems(id="revisit-fixed", value="yes", inline=True, options=[
            {"label": t("field.yes", lang), "value": "yes"}, {"label": t("field.no", lang), "value": "no"}]),
        html.Label(t("field.notes", lang)),
        dcc.Textarea(id="revisit-note", maxLength=1000, style={"minHeight": "4em"}),
        html.Button(t("revisit.save", lang), id="revisit-save", n_clicks=0, className="revisit-submit"),
        html.Div(id="revisit-msg", role="status")])


@page("work_order.revisit")
def layout(lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    columns = [{"field": "id", "headerName": "#", "width": 80},
               # A floor for the flexible columns: on a phone the grid scrolls in its box instead of
               # squeezing the title to one character.
               {"field": "title", "headerName": t("orders.col.title", lang), "flex": 2, "minWidth": 180},
               {"field": "category", "headerName": t("orders.category", lang), "width": 120},
               {"field": "team", "headerName": t("orders.team", lang), "width": 110},
               {"field": "resident", "headerName": t("orders.col.resident", lang), "flex": 1, "minWidth": 100},
               {"field": "due", "headerName": t("orders.clock.revisit", lang), "width": 140,
                "cellStyle": {"function": f"params.data && params.data.overdue ? {{'color': '{OVERDUE_COLOUR}',"
                                          " 'fontWeight': 600} : null"}},
               {"field": "attempts", "headerName": t("revisit.attempts", lang), "width": 90}]
    return html.Div(className="revisits", id="revisits-root", lang=lang, children=[
        dcc.Store(id="revisit-lang", data=lang), dcc.Store(id="revisit-selected"), dcc.Store(id="revisit-done", data=0),
        dcc.Interval(id="revisit-tick", interval=30_000),
        html.H2(t("revisit.title", lang)),
        html.Div(className="revisits-main", children=[
            dag.AgGrid(id="revisit-grid", columnDefs=fluid_columns(columns), rowData=[], getRowId="params.data.row_id",
                       dashGridOptions=dark_grid_options(lang),
                       style={"height": "100%"}),
            _form(lang)])])


@callback(Output("revisit-grid", "rowData"), Input("revisit-tick", "n_intervals"), Input("revisit-done", "data"),
          State("revisit-lang", "data"))
@requires("work_order.revisit")
def queue(_tick, _done, lang):
    frame = store_revisits.list_revisit_queue(context.pool())
    return [{"id": int(r.id), "row_id": str(r.id), "title": r.title, "category": t(f"wo_category.{r.category}", lang),
             "team": r.team_name or fmt.DASH,
             "resident": " · ".join(str(v) for v in (r.resident, r.phone) if v and not pd.isna(v)) or fmt.DASH,
             **_due(r.revisit_due_at), "attempts": int(r.attempts)}
            for r in frame.itertuples(index=False)]


def _due(due) -> dict:
    """The call-back's due time, and whether it has passed."""
    if due is None or pd.isna(due):
        return {"due": fmt.DASH, "overdue": False}
    return {"due": fmt.clock(due, context.settings().timezone, True),
            "overdue": bool(pd.Timestamp(due) < pd.Timestamp.now(tz="UTC"))}


@callback(Output("revisit-selected", "data"), Output("revisit-order", "children"), Output("revisit-facts", "children"),
          Input("revisit-grid", "cellClicked"), State("revisit-grid", "rowData"), State("revisit-lang", "data"),
          prevent_initial_call=True)
@requires("work_order.revisit")
def pick(cell, rows, lang):
    row_id = (cell or {}).get("rowId")
    row = next((r for r in rows or [] if str(r["id"]) == str(row_id)), None)
    if row is None:
        return no_update, no_update, no_update
    return row["id"], f"#{row['id']} {row['title']}", f"{row['resident']} · {row['team']}"


def _summary(reached: bool, satisfaction, fixed, lang: str) -> str:
    if not reached:
        return t("revisit.not_reached", lang)
    return t("revisit.summary", lang).format(n=satisfaction, fixed=t("field.yes" if fixed else "field.no", lang))


# After a save the form is empty again (no order, no note) and says what was saved; the queue reloads.
@callback(Output("revisit-done", "data"), Output("revisit-msg", "children"),
          Output("revisit-selected", "data", allow_duplicate=True),
          Output("revisit-order", "children", allow_duplicate=True),
          Output("revisit-facts", "children", allow_duplicate=True), Output("revisit-note", "value"),
          Output("revisit-reached", "value"), Output("revisit-satisfaction", "value"), Output("revisit-fixed", "value"),
          Input("revisit-save", "n_clicks"), State("revisit-selected", "data"), State("revisit-reached", "value"),
          State("revisit-satisfaction", "value"), State("revisit-fixed", "value"), State("revisit-note", "value"),
          State("revisit-order", "children"), State("revisit-done", "data"), State("revisit-lang", "data"),
          prevent_initial_call=True)
@requires("work_order.revisit")
def save(clicks, wo_id, reached, satisfaction, fixed, note, title, done, lang):
    unchanged = (no_update,) * 6
    if not clicks or not wo_id:
        return no_update, t("revisit.pick", lang), *unchanged
    pool, who = context.pool(), actor("work_order.revisit")
    reached = reached == "yes"
    try:
        state = store_revisits.record_revisit(pool, int(wo_id), actor=who, reached=reached,
                                              satisfaction=int(satisfaction) if reached else None,
                                              fixed=(fixed == "yes") if reached else None, note=note or "")
    except ValueError as exc:
        record_event(pool, who, "work_order.revisit", outcome="refused", object_type="work_order", object_id=wo_id,
                     detail=str(exc))
        return no_update, str(exc), *unchanged
    saved = html.Div(className="revisit-saved", **{"data-order": str(wo_id), "data-state": state}, children=[
        html.B(t(f"revisit.done.{state}", lang).format(id=wo_id)),
        html.Div(t("revisit.saved", lang).format(title=title, summary=_summary(reached, satisfaction, fixed == "yes", lang))
                 + (f" · {note.strip()}" if (note or "").strip() else ""), className="muted")])
    return (done or 0) + 1, saved, None, t("revisit.pick", lang), "", "", "yes", 5, "yes"
