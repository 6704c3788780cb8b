"""What Dash's pages router shows for an address no page has (the module name ``not_found_404`` tells it so):
the message in the reader's language, on the dark page the refusals use. It shows no data, so it needs no
permission beyond the login every page needs."""

from __future__ import annotations

import dash
from dash import html

from app import context
from app.i18n import LANGUAGES, t

dash.register_page(__name__, path="/404", title="HeatTwin — 404")


def layout(lang: str | None = None, **_query):
    lang = lang if lang in LANGUAGES else context.settings().language
    return html.Div(className="page-refused page-not-found", lang=lang, children=[
        html.H2(t("notfound.title", lang)), html.P(t("notfound.detail", lang)),
        html.A(t("auth.back_to_wall", lang), href="/")])
