"""Making a report: the KPIs of its period (``store.kpis.compute_kpis``, the dashboard's own call), the tables and
charts each kind shows, written as Excel and PDF and stored (``store.reports``).

- daily dispatch sheet (日调度): yesterday's figures, the teams, the orders late right now;
- weekly analysis (周分析): the week against the one before, categories per day, teams and stations ranked;
- monthly bulletin (月通报): the month against the one before, teams, stations and communities ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from psycopg_pool import ConnectionPool

from app.i18n import t
from app.reports.figures import format_fraction, format_kpi, format_trend
from heattwin.choices import REPORT_PERIOD, report_kind_values
from store import kpis as store_kpis
from store import reports as store_reports
from store.audit import Actor
from store.work_orders import core as store_orders
from store.work_orders.dispatch import list_teams_with_load

RANKED = 15
LATE_ROWS = 50


@dataclass
class ReportContent:
    """Everything a report shows, already in words and formatted numbers (the Excel and the PDF lay it out)."""

    kind: str
    lang: str
    title: str
    period: store_kpis.Period
    as_of: object
    kpi_rows: list[dict]  # key, name, value, trend, fraction, definition
    categories: pd.DataFrame  # day, category (label), orders
    tables: list[tuple[str, list[str], list[list]]]  # title, header, rows
    report: store_kpis.KpiReport


def _kpi_rows(report: store_kpis.KpiReport, lang: str) -> list[dict]:
    return [{"key": k.key, "name": t(f"kpi.{k.key}", lang), "value": format_kpi(k.key, report.company.get(k.key)),
             "previous": format_kpi(k.key, report.previous.get(k.key)),
             "trend": format_trend(k.key, report.trend(k.key)), "fraction": format_fraction(report.company, k.key),
             "definition": t(f"kpi.{k.key}.doc", lang)} for k in store_kpis.KPIS]


def _ranked(report: store_kpis.KpiReport, by: str, keys: tuple[str, ...], sort_key: str, names: dict, lang: str,
            limit: int = RANKED) -> tuple[str, list[str], list[list]]:
    frame = report.groups.get(by, pd.DataFrame())
    if len(frame):
        worst_first = store_kpis.KPI[sort_key].higher_is_better  # the supervisor looks for who needs help
        frame = frame.sort_values(sort_key, ascending=worst_first, na_position="last").head(limit)
    header = ["#", t(f"sup.group.{by}", lang), t("sup.orders", lang), *[t(f"kpi.{k}", lang) for k in keys]]
    rows = [[k + 1, names.get(r["group"], r["group"]), int(r["orders"]), *[format_kpi(key, r.get(key)) for key in keys]]
            for k, r in enumerate(frame.to_dict("records"))]
    title = t("report.ranked", lang).format(group=t(f"sup.group.{by}", lang), kpi=t(f"kpi.{sort_key}", lang))
    return title, header, rows


def _late_now(pool: ConnectionPool, lang: str, timezone: str) -> tuple[str, list[str], list[list]]:
    from app.components import fmt

    frame, total = store_orders.list_board(pool, limit=LATE_ROWS, sort="sla_due_at", descending=False, overdue=True)
    header = ["#", t("orders.col.title", lang), t("orders.category", lang), t("orders.team", lang),
              t("orders.col.due", lang)]
    rows = [[int(r.id), r.title, t(f"wo_category.{r.category}", lang), r.team_name or "—",
             fmt.clock(r.sla_due_at, timezone, True)] for r in frame.itertuples(index=False)]
    return t("report.late_now", lang).format(n=total), header, rows


def report_content(pool: ConnectionPool, kind: str, day: date, *, timezone: str = "Asia/Shanghai",
                   lang: str = "zh-CN", as_of=None) -> ReportContent:
    """What the ``kind`` report of the period holding ``day`` shows."""
    if kind not in report_kind_values:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(report_kind_values)}")
    period = store_kpis.Period.of(REPORT_PERIOD[kind], day, timezone)
    report = store_kpis.compute_kpis(pool, period, as_of=as_of)
    teams = list_teams_with_load(pool)
    team_names = dict(zip(teams["team_id"], teams["name"], strict=True))
    areas = store_kpis.heated_areas(pool)
    community_names = dict(zip(areas["community_id"], areas["name"], strict=True))
    team_keys = ("on_time_signoff", "on_time_completion", "completion", "satisfaction", "resolve_median_h")
    tables = [_ranked(report, "team", team_keys, "on_time_completion", team_names, lang)]
    if kind in ("weekly", "monthly"):
        tables.append(_ranked(report, "station", ("complaints_per_10k_m2", "completion", "repeat_complaint"),
                              "complaints_per_10k_m2", {}, lang))
    if kind == "monthly":
        tables.append(_ranked(report, "community", ("complaints_per_10k_m2", "satisfaction", "repeat_complaint"),
                              "complaints_per_10k_m2", community_names, lang))
    if kind == "daily":
        tables.append(_late_now(pool, lang, timezone))
    categories = store_kpis.categories_by_day(report.facts, timezone)
    categories["category"] = [t(f"wo_category.{c}", lang) for c in categories["category"]]
    title = t(f"report.title.{kind}", lang)
    return ReportContent(kind, lang, title, period, report.as_of, _kpi_rows(report, lang), categories, tables, report)


def _figures(content: ReportContent) -> dict:
    """The company-wide figures as stored with the report (JSON numbers)."""
    out = {}
    for key, value in content.report.company.items():
        out[key] = None if value is None or (isinstance(value, float) and pd.isna(value)) else (
            float(value) if isinstance(value, int | float | np.number) else str(value))
    return out


def build_files(pool: ConnectionPool, kind: str, day: date, *, timezone: str = "Asia/Shanghai",
                lang: str = "zh-CN", as_of=None) -> store_reports.ReportFiles:
    from app.reports.pdf import report_pdf
    from app.reports.xlsx import report_workbook

    content = report_content(pool, kind, day, timezone=timezone, lang=lang, as_of=as_of)
    return store_reports.ReportFiles(kind, content.period.start, content.period.end, content.period.label,
                                     content.as_of, _figures(content), report_workbook(content, timezone),
                                     report_pdf(content, timezone), lang)


def make_report(pool: ConnectionPool, kind: str, day: date, *, actor: Actor, timezone: str = "Asia/Shanghai",
                lang: str = "zh-CN", trigger: str = "on_demand") -> int | None:
    """Make and store the ``kind`` report of the period holding ``day``; its id (None: the schedule had made it)."""
    files = build_files(pool, kind, day, timezone=timezone, lang=lang)
    return store_reports.add_report(pool, files, actor=actor, trigger=trigger)
