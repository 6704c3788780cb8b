"""The printable report (reportlab): A4, the KPI table, a stacked bar chart of the categories per day, the
rankings. Chinese text is set in Adobe's CID font STSong-Light (reportlab ships its metrics; a PDF viewer
supplies the glyphs), because Debian's Noto CJK fonts are CFF-outlined OpenType, which reportlab cannot embed."""

from __future__ import annotations

import io

import pandas as pd
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.i18n import t

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
_PALETTE = ("#4dabf7", "#e74c3c", "#ff00ff", "#f39c12", "#95a5a6", "#7f8c8d", "#34495e", "#9b59b6", "#1abc9c",
            "#bdc3c7")
_STYLE = {"title": ParagraphStyle("title", fontName=FONT, fontSize=17, leading=22, spaceAfter=4),
          "h2": ParagraphStyle("h2", fontName=FONT, fontSize=12.5, leading=17, spaceBefore=8, spaceAfter=4),
          "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12),
          "small": ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=9.5, textColor=colors.HexColor(
              "#333333"))}


def local_time(moment, timezone: str) -> str:
    return pd.Timestamp(moment).tz_convert(timezone).strftime("%Y-%m-%d %H:%M")


def _table(header: list[str], rows: list[list], widths=None) -> Table:
    data = [header, *[[Paragraph(str(v), _STYLE["body"]) if isinstance(v, str) and len(v) > 24 else v for v in r]
                      for r in rows]]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, 9), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa7b8")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f7fa")])]))
    return table


def _chart(content) -> Drawing | None:
    frame = content.categories
    if frame.empty:
        return None
    wide = frame.pivot_table(index="day", columns="category", values="orders", aggfunc="sum", fill_value=0)
    drawing = Drawing(170 * mm, 75 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 14 * mm, 118 * mm, 52 * mm
    chart.data = [tuple(int(v) for v in wide[c]) for c in wide.columns]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = [d[5:] if len(wide) <= 10 or k % max(len(wide) // 10, 1) == 0 else ""
                                        for k, d in enumerate(wide.index)]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 45
    chart.categoryAxis.labels.dy = -8
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.barSpacing = 0.5
    for k in range(len(wide.columns)):
        chart.bars[k].fillColor = colors.HexColor(_PALETTE[k % len(_PALETTE)])
        chart.bars[k].strokeColor = None
    legend = Legend()
    legend.x, legend.y = 136 * mm, 66 * mm
    legend.columnMaximum = 12
    legend.fontName, legend.fontSize, legend.alignment = FONT, 7.5, "right"
    legend.colorNamePairs = [(colors.HexColor(_PALETTE[k % len(_PALETTE)]), str(c)) for k, c in
                             enumerate(wide.columns)]
    drawing.add(chart)
    drawing.add(legend)
    drawing.add(String(12 * mm, 70 * mm, t("sup.chart.categories", content.lang), fontName=FONT, fontSize=9))
    return drawing


def report_pdf(content, timezone: str) -> bytes:
    """The report as an A4 PDF."""
    lang, buffer = content.lang, io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"{content.title} {content.period.label}",
                            author="HeatTwin")
    story = [Paragraph(f"{content.title}　{content.period.label}", _STYLE["title"]),
             Paragraph(t("report.as_of", lang).format(as_of=local_time(content.as_of, timezone)), _STYLE["small"]),
             Spacer(1, 4 * mm), Paragraph(t("sup.kpis", lang), _STYLE["h2"])]
    header = [t(k, lang) for k in ("report.col.kpi", "report.col.value", "report.col.previous", "report.col.trend",
                                   "report.col.fraction")]
    story.append(_table(header, [[r["name"], r["value"], r["previous"], r["trend"], r["fraction"]]
                                 for r in content.kpi_rows], widths=[62 * mm, 25 * mm, 25 * mm, 25 * mm, 40 * mm]))
    chart = _chart(content)
    if chart is not None:
        story += [Spacer(1, 4 * mm), chart]
    for title, head, rows in content.tables:
        story += [Paragraph(title, _STYLE["h2"]), _table(head, rows) if rows else Paragraph(
            t("report.no_rows", lang), _STYLE["body"])]
    story += [Paragraph(t("report.definitions", lang), _STYLE["h2"]),
              *[Paragraph(f"<b>{r['name']}</b>：{r['definition']}", _STYLE["small"]) for r in content.kpi_rows]]
    doc.build(story)
    return buffer.getvalue()
