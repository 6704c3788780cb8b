"""``/overview``: what the store holds — network version, elements by kind, records."""

from __future__ import annotations

import dash
from dash import html

from app import context
from app.auth.guard import page
from app.i18n import t
from store.assets import count_by_kind, latest_network_version
from store.overview import count_records

dash.register_page(__name__, path="/overview", title="HeatTwin — overview")


def _table(title: str, rows: list[tuple[str, int]], lang: str, table_id: str):
    return html.Div(className="overview-card", children=[
        html.H3(title),
        html.Table(id=table_id, className="overview-table", children=[
            html.Tr([html.Th(label), html.Td(f"{count:,}", **{"data-count": str(count)})])
            for label, count in rows
        ]),
    ])


@page("overview.view")
def layout(lang: str = "zh-CN", **_query):
    pool = context.pool()
    version = latest_network_version(pool)
    if version is None:
        return html.Div(className="overview", children=[html.H2(t("overview.title", lang)),
                                                        html.P(t("overview.empty", lang))])
    kinds = count_by_kind(pool)
    records = count_records(pool)
    return html.Div(className="overview", children=[
        html.H2(t("overview.title", lang)),
        html.P(f"{t('overview.network_version', lang)} #{version['id']} · {version['source_path']} · "
               f"{t('overview.imported_at', lang)} {version['imported_at']:%Y-%m-%d %H:%M} UTC"),
        _table(t("overview.elements", lang), [(t(f"kind.{k}", lang), n) for k, n in kinds.items()], lang,
               "overview-elements"),
        _table(t("overview.records", lang), [(t(f"table.{k}", lang), n) for k, n in records.items()], lang,
               "overview-records"),
    ])
