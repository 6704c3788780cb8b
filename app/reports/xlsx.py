"""Excel (xlsxwriter): a report's sheets — the KPIs with their definitions, the rankings, the categories per day
with a stacked chart — and the supervisor's filtered board."""

from __future__ import annotations

import io

import pandas as pd
import xlsxwriter

from app.components import fmt
from app.i18n import t
from app.reports.pdf import local_time


def _formats(book) -> dict:
    return {"title": book.add_format({"bold": True, "font_size": 14}), "head": book.add_format(
        {"bold": True, "bg_color": "#DDE6F0", "border": 1}), "wrap": book.add_format({"text_wrap": True,
                                                                                      "valign": "top"})}


def _table(sheet, row: int, header: list[str], rows: list[list], formats: dict) -> int:
    sheet.write_row(row, 0, header, formats["head"])
    for k, values in enumerate(rows, start=1):
        sheet.write_row(row + k, 0, values)
    return row + len(rows) + 2


def report_workbook(content, timezone: str) -> bytes:
    """The report as a workbook: sheet 1 the KPIs, then one sheet per table, then the categories per day."""
    lang, buffer = content.lang, io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    formats = _formats(book)
    sheet = book.add_worksheet(t("report.sheet.kpis", lang))
    sheet.write(0, 0, f"{content.title} · {content.period.label}", formats["title"])
    sheet.write(1, 0, t("report.as_of", lang).format(as_of=local_time(content.as_of, timezone)))
    header = [t(k, lang) for k in ("report.col.kpi", "report.col.value", "report.col.previous", "report.col.trend",
                                   "report.col.fraction", "report.col.definition")]
    sheet.write_row(3, 0, header, formats["head"])
    for k, row in enumerate(content.kpi_rows, start=4):
        sheet.write_row(k, 0, [row["name"], row["value"], row["previous"], row["trend"], row["fraction"]])
        sheet.write(k, 5, row["definition"], formats["wrap"])
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 4, 13)
    sheet.set_column(5, 5, 90)
    for number, (title, head, rows) in enumerate(content.tables, start=1):
        table = book.add_worksheet(f"{number} {title}"[:31])
        table.write(0, 0, title, formats["title"])
        _table(table, 2, head, rows, formats)
        table.set_column(0, 0, 6)
        table.set_column(1, len(head), 16)
    _categories_sheet(book, content, formats)
    book.close()
    return buffer.getvalue()


def _categories_sheet(book, content, formats) -> None:
    lang = content.lang
    sheet = book.add_worksheet(t("report.sheet.categories", lang))
    wide = (content.categories.pivot_table(index="day", columns="category", values="orders", aggfunc="sum",
                                           fill_value=0) if len(content.categories) else pd.DataFrame())
    sheet.write(0, 0, t("sup.chart.categories", lang), formats["title"])
    sheet.write_row(2, 0, [t("report.col.day", lang), *wide.columns.tolist()], formats["head"])
    for k, (day, values) in enumerate(wide.iterrows(), start=3):
        sheet.write(k, 0, day)
        sheet.write_row(k, 1, [int(v) for v in values.tolist()])
    if len(wide):
        chart = book.add_chart({"type": "column", "subtype": "stacked"})
        for col, name in enumerate(wide.columns, start=1):
            chart.add_series({"name": name, "categories": [sheet.name, 3, 0, 2 + len(wide), 0],
                              "values": [sheet.name, 3, col, 2 + len(wide), col]})
        chart.set_title({"name": t("sup.chart.categories", lang)})
        chart.set_size({"width": 900, "height": 380})
        sheet.insert_chart(2, len(wide.columns) + 2, chart)


BOARD_EXPORT_COLUMNS = ("id", "created_at", "title", "category", "origin", "priority", "state", "team_name",
                        "community", "station", "household_id", "asset_id", "sla_due_at", "resolved_at", "overdue")


def board_workbook(frame: pd.DataFrame, total: int, lang: str, timezone: str) -> bytes:
    """The board's filtered orders, one row each, with the labels the board shows."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    formats = _formats(book)
    sheet = book.add_worksheet(t("sup.board", lang)[:31])
    header = [t(f"sup.export.{c}", lang) for c in BOARD_EXPORT_COLUMNS]
    sheet.write_row(0, 0, header, formats["head"])
    for k, r in enumerate(frame.itertuples(index=False), start=1):
        sheet.write_row(k, 0, [
            int(r.id), fmt.clock(r.created_at, timezone, True), r.title, t(f"wo_category.{r.category}", lang),
            t(f"wo_origin.{r.origin}", lang), t(f"priority.{r.priority}", lang), t(f"wo_state.{r.state}", lang),
            r.team_name or "", r.community or "", r.station or "", r.household_id or "", r.asset_id or "",
            "" if pd.isna(r.sla_due_at) else fmt.clock(r.sla_due_at, timezone, True),
            "" if pd.isna(r.resolved_at) else fmt.clock(r.resolved_at, timezone, True),
            t("field.yes" if r.overdue else "field.no", lang)])
    if total > len(frame):
        sheet.write(len(frame) + 2, 0, t("sup.export.cut", lang).format(n=len(frame), total=total))
    sheet.autofilter(0, 0, max(len(frame), 1), len(header) - 1)
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, 9)
    sheet.set_column(1, 1, 17)
    sheet.set_column(2, 2, 32)
    sheet.set_column(3, len(header), 13)
    book.close()
    return buffer.getvalue()
