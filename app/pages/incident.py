"""``/incident/<alarm_id>`` (or ``/incident?alarm=42``): one alarm's whole story on a timeline — raised, the
alarms grouped under it, acknowledged, its work order and the crew's moves (dispatched, on site, resolved),
the outage and the isolation, cleared — from the stores (``store.replay.get_incident_story``), with a PDF and
an Excel incident report of the same rows, and a link that replays it on the wall. Without an alarm: the
last week's alarms to pick from."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from app import context
from app.auth.guard import page, requires
from app.components import fmt
from app.components.incident_report import incident_pdf, incident_xlsx, story_rows, summary_rows
from app.i18n import LANGUAGES, t
from heattwin.choices import ALARM_SEVERITY
from store import replay as store_replay

dash.register_page(__name__, path="/incident", title="HeatTwin — 报警事件经过", name="incident")

SEVERITY_COLOUR = {c.value: c.colour for c in ALARM_SEVERITY}
RECENT_DAYS = 7


def _lang(lang: str | None) -> str:
    return lang if lang in LANGUAGES else context.settings().language


@page("incident.view")
def layout(alarm_id: str | None = None, alarm: str | None = None, lang: str | None = None, **_query):
    lang = _lang(lang)
    wanted = alarm_id or alarm
    if not wanted:
        return _pick_page(lang)
    story = store_replay.get_incident_story(context.pool(), int(wanted)) if str(wanted).isdigit() else None
    if story is None:
        return html.Div(className="incident-page", lang=lang, children=[
            html.H1(t("incident.not_found", lang).format(id=wanted), **{"data-missing": str(wanted)}),
            _recent(lang)])
    return _story_page(story, lang)


dash.register_page("incident_alarm", path_template="/incident/<alarm_id>", title="HeatTwin — 报警事件经过",
                   name="incident (alarm)", layout=layout)


def _pick_page(lang: str) -> html.Div:
    return html.Div(className="incident-page", lang=lang, children=[html.H1(t("incident.pick_title", lang)),
                                                                    _recent(lang)])


def _recent(lang: str) -> html.Ul:
    timezone = context.settings().timezone
    since = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=RECENT_DAYS)
    alarms = store_replay.list_recent_alarms(context.pool(), since=since.to_pydatetime())
    if alarms.empty:
        return html.Ul(html.Li(t("incident.empty", lang)), className="incident-recent")
    return html.Ul(className="incident-recent", children=[
        html.Li(html.A(f"#{a.id} · {fmt.clock(a.raised_at, timezone, with_date=True)} · "
                       f"{t('severity.' + a.severity, lang)} · {a.name or a.asset_id} · {t('cause.' + a.cause, lang)}",
                       href=f"/incident/{a.id}?lang={lang}")) for a in alarms.itertuples(index=False)])


# -- the page --------------------------------------------------------------------------------------------

def _story_page(story: dict, lang: str) -> html.Div:
    timezone = context.settings().timezone
    alarm = story["alarm"]
    rows = story_rows(story, lang, timezone)
    colour = SEVERITY_COLOUR.get(alarm["severity"], "#e74c3c")
    return html.Div(className="incident-page", lang=lang, **{"data-alarm": str(alarm["id"])}, children=[
        dcc.Store(id="incident-alarm", data=int(alarm["id"])), dcc.Store(id="incident-lang", data=lang),
        dcc.Download(id="incident-download"),
        html.Div(className="incident-head", children=[
            html.H1(t("incident.title", lang).format(id=alarm["id"]), style={"borderLeftColor": colour}),
            html.Div(className="incident-actions", children=[
                html.Button(t("incident.export_pdf", lang), id="incident-pdf", n_clicks=0, className="incident-btn"),
                html.Button(t("incident.export_xlsx", lang), id="incident-xlsx", n_clicks=0, className="incident-btn"),
                html.A(t("incident.replay", lang), href=f"/?replay_alarm={alarm['id']}&lang={lang}",
                       className="incident-btn", id="incident-replay")])]),
        html.Dl(className="incident-summary", children=[
            part for label, value in summary_rows(story, lang, timezone)
            for part in (html.Dt(label), html.Dd(value))]),
        html.Ol(id="incident-timeline", className="incident-timeline", children=[
            html.Li(className=f"step step-{r['key'].replace('.', '-')}", **{"data-step": r["key"]}, children=[
                html.Time(r["time"], className="step-time"), html.Span(r["step"], className="step-name"),
                html.Span(r["who"], className="step-who"), html.Span(r["detail"], className="step-detail")])
            for r in rows] or [html.Li(t("incident.empty", lang))])])


@callback(Output("incident-download", "data"), Input("incident-pdf", "n_clicks"), Input("incident-xlsx", "n_clicks"),
          State("incident-alarm", "data"), State("incident-lang", "data"), prevent_initial_call=True)
@requires("incident.view")
def download_report(_pdf, _xlsx, alarm_id, lang):
    """The incident report of the alarm, as PDF or Excel (the rows the page shows)."""
    story = store_replay.get_incident_story(context.pool(), int(alarm_id))
    if story is None:
        return None
    timezone = context.settings().timezone
    if dash.ctx.triggered_id == "incident-pdf":
        return dcc.send_bytes(incident_pdf(story, lang, timezone), f"incident-{alarm_id}.pdf")
    return dcc.send_bytes(incident_xlsx(story, lang, timezone), f"incident-{alarm_id}.xlsx")


