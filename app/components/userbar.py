"""The strip above every page: where one may go, who is logged in (and as what), and log out.
A kiosk sees only that the wall is read-only."""

from __future__ import annotations

from dash import dcc, html

from app.auth.login import csrf_token
from app.auth.principal import Principal
from app.i18n import t

# Pages in the bar, in order: (path, label key, action needed to see it).
NAV = (("/field", "nav.field", "work_order.field"), ("/", "nav.wall", "wall.view"),
       ("/orders", "nav.orders", "work_order.board"), ("/hotline", "nav.hotline", "call.answer"), ("/revisits", "nav.revisits", "work_order.revisit"),
       ("/supervisor", "nav.supervisor", "supervisor.view"), ("/supervisor/refunds", "nav.refunds", "refund.view"),
       ("/alarms", "nav.alarms", "alarm.performance.view"), ("/incident", "nav.incident", "incident.view"),
       ("/control", "nav.control", "control.view"), ("/scenarios", "nav.scenarios", "scenario.view"),
       ("/overview", "nav.overview", "overview.view"), ("/admin/audit", "nav.audit", "audit.view"))


def userbar(principal: Principal | None, lang: str) -> html.Div:
    if principal is None:
        return html.Div(id="app-userbar", className="app-userbar hidden")
    if principal.kiosk is not None:
        return html.Div(id="app-userbar", className="app-userbar kiosk", **{"data-kiosk": principal.kiosk},
                        children=[html.Span(t("auth.kiosk_banner", lang).format(name=principal.kiosk),
                                            className="userbar-who")])
    links = [html.A(t(key, lang), href=path, className="userbar-link") for path, key, action in NAV
             if principal.can(action)]
    roles = " · ".join(t(f"role.{r}", lang) for r in principal.roles)
    logout = html.Form(method="post", action="/logout", className="userbar-logout", children=[
        dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
        html.Button(t("auth.logout", lang), type="submit", id="app-logout")])
    return html.Div(id="app-userbar", className="app-userbar", **{"data-user": principal.username}, children=[
        html.Nav(links, className="userbar-nav"),
        html.Span([html.B(principal.label, id="app-user-name"), f" · {roles}"], className="userbar-who"),
        logout])
