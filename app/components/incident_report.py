"""One alarm's incident story as rows (the page, the PDF and the workbook show the same ones), and its
incident report as PDF (reportlab) and Excel (xlsxwriter). Chinese in the PDF is set in Adobe's CID font
STSong-Light (reportlab ships its metrics, the viewer supplies the glyphs): Debian's Noto CJK is CFF-outlined
OpenType, which reportlab cannot embed."""

from __future__ import annotations

import io

import pandas as pd
import xlsxwriter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.components import fmt
from app.components.alarm_text import describe
from app.i18n import t

PDF_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))


# -- the rows every view shares ------------------------------------------------------------------------

def _local(when, timezone: str) -> str:
    return pd.Timestamp(when).tz_convert(timezone).strftime("%Y-%m-%d %H:%M:%S")


def _step_label(step: str, data: dict, lang: str) -> str:
    if step.startswith("wo."):
        state = step[3:]
        return t("incident.step.wo_state", lang).format(id=data.get("work_order_id", ""),
                                                        state=t(f"wo_state.{state}", lang))
    label = t(f"incident.step.{step}", lang)
    return step if label == f"incident.step.{step}" else label


def _step_detail(step: str, detail: str, data: dict, lang: str) -> str:
    if step in ("isolation", "incident_started"):
        reach = t("incident.reach", lang).format(stations=data.get("stations", 0), households=data.get("households", 0))
        valves = ", ".join(data.get("valves") or [])
        return " · ".join(part for part in (detail, reach, valves and t("incident.valves", lang).format(valves=valves))
                          if part)
    if step == "grouped":
        return f"{detail} · {t('cause.' + data['cause'], lang)} · {t('severity.' + data['severity'], lang)}"
    if step == "wo.dispatched" and data.get("team"):
        return " · ".join(part for part in (data["team"], detail) if part)
    return detail or ""


def story_rows(story: dict, lang: str, timezone: str) -> list[dict]:
    """The timeline as the page, the PDF and the workbook show it: time, step, who, detail."""
    return [{"time": _local(s.at, timezone), "step": _step_label(s.step, s.data or {}, lang), "who": s.actor or "",
             "detail": _step_detail(s.step, s.detail, s.data or {}, lang), "key": s.step, "ref": s.ref}
            for s in story["steps"].itertuples(index=False)]


def summary_rows(story: dict, lang: str, timezone: str) -> list[tuple[str, str]]:
    """(label, value) pairs: where, what, severity, raised, cleared, how long, how many grouped under it."""
    a = story["alarm"]
    cleared = a["cleared_at"]
    lasted = (pd.Timestamp(cleared) if cleared is not None else pd.Timestamp.now(tz="UTC")) - pd.Timestamp(a["raised_at"])
    return [
        (t("incident.element", lang), f"{a['name'] or a['asset_id']} ({a['asset_id']})"),
        (t("incident.cause", lang), describe(a["cause"], a["message"], a["details"], lang)),
        (t("incident.severity", lang), t(f"severity.{a['severity']}", lang)),
        (t("incident.raised", lang), _local(a["raised_at"], timezone)),
        (t("incident.cleared", lang), _local(cleared, timezone) if cleared is not None else t("incident.still_open", lang)),
        (t("incident.duration", lang), fmt.span(lasted.total_seconds(), lang)),
        (t("incident.grouped", lang), str(len(story["grouped"]))),
    ]


# -- the report files ------------------------------------------------------------------------------------

_PDF_STYLE = {"title": ParagraphStyle("title", fontName=PDF_FONT, fontSize=16, leading=21, spaceAfter=6),
              "h2": ParagraphStyle("h2", fontName=PDF_FONT, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
              "body": ParagraphStyle("body", fontName=PDF_FONT, fontSize=8.5, leading=11),
              "small": ParagraphStyle("small", fontName=PDF_FONT, fontSize=7.5, leading=9.5,
                                      textColor=colors.HexColor("#444444"))}


def _pdf_table(rows: list[list[str]], widths, header: bool) -> Table:
    body = _PDF_STYLE["body"]
    table = Table([[Paragraph(_escape(v), body) for v in r] for r in rows], colWidths=widths, repeatRows=int(header))
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa7b8")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("ROWBACKGROUNDS", (0, int(header)), (-1, -1), [colors.white, colors.HexColor("#f4f7fa")])]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")))
    table.setStyle(TableStyle(style))
    return table


def _escape(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def incident_pdf(story: dict, lang: str, timezone: str) -> bytes:
    """A4: title, the summary, the timeline, the alarms grouped under it."""
    buffer = io.BytesIO()
    alarm = story["alarm"]
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=t("incident.title", lang).format(id=alarm["id"]))
    now = _local(pd.Timestamp.now(tz="UTC"), timezone)
    flow = [Paragraph(_escape(t("incident.title", lang).format(id=alarm["id"])), _PDF_STYLE["title"]),
            Paragraph(_escape(t("incident.generated", lang).format(when=now)), _PDF_STYLE["small"]), Spacer(1, 4 * mm),
            _pdf_table([list(r) for r in summary_rows(story, lang, timezone)], [38 * mm, 144 * mm], header=False),
            Paragraph(_escape(t("incident.timeline", lang)), _PDF_STYLE["h2"])]
    rows = story_rows(story, lang, timezone)
    header = [t(f"incident.col.{c}", lang) for c in ("time", "step", "who", "detail")]
    flow.append(_pdf_table([header, *[[r["time"], r["step"], r["who"], r["detail"]] for r in rows]],
                           [34 * mm, 36 * mm, 26 * mm, 86 * mm], header=True))
    if len(story["grouped"]):
        flow.append(Paragraph(_escape(t("incident.grouped", lang)), _PDF_STYLE["h2"]))
        flow.append(_pdf_table([_grouped_header(lang), *_grouped_rows(story, lang, timezone)],
                               [16 * mm, 48 * mm, 48 * mm, 20 * mm, 25 * mm, 25 * mm], header=True))
    doc.build(flow)
    return buffer.getvalue()


def _grouped_header(lang: str) -> list[str]:
    return ["#", t("incident.element", lang), t("incident.cause", lang), t("incident.severity", lang),
            t("incident.raised", lang), t("incident.cleared", lang)]


def _grouped_rows(story: dict, lang: str, timezone: str) -> list[list[str]]:
    return [[str(g.id), f"{g.name or g.asset_id}", t(f"cause.{g.cause}", lang), t(f"severity.{g.severity}", lang),
             _local(g.raised_at, timezone), "" if g.cleared_at is None or pd.isna(g.cleared_at)
             else _local(g.cleared_at, timezone)] for g in story["grouped"].itertuples(index=False)]


def incident_xlsx(story: dict, lang: str, timezone: str) -> bytes:
    """Sheets: the summary, the timeline (times as Excel dates), the alarms grouped under it."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#dde6f0", "border": 1})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    summary = book.add_worksheet(t("incident.sheet.summary", lang))
    summary.write(0, 0, t("incident.title", lang).format(id=story["alarm"]["id"]), bold)
    for k, (label, value) in enumerate(summary_rows(story, lang, timezone), start=1):
        summary.write(k, 0, label, bold)
        summary.write(k, 1, value)
    summary.set_column(0, 0, 16)
    summary.set_column(1, 1, 70)
    sheet = book.add_worksheet(t("incident.sheet.timeline", lang))
    for c, key in enumerate(("time", "step", "who", "detail")):
        sheet.write(0, c, t(f"incident.col.{key}", lang), bold)
    for r, (step, row) in enumerate(zip(story["steps"].itertuples(index=False), story_rows(story, lang, timezone),
                                        strict=True), start=1):
        sheet.write_datetime(r, 0, pd.Timestamp(step.at).tz_convert(timezone).tz_localize(None).to_pydatetime(), when)
        sheet.write(r, 1, row["step"])
        sheet.write(r, 2, row["who"])
        sheet.write(r, 3, row["detail"], wrap)
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 2, 18)
    sheet.set_column(3, 3, 70)
    sheet.freeze_panes(1, 0)
    grouped = book.add_worksheet(t("incident.sheet.grouped", lang))
    for c, label in enumerate(_grouped_header(lang)):
        grouped.write(0, c, label, bold)
    for r, values in enumerate(_grouped_rows(story, lang, timezone), start=1):
        grouped.write_row(r, 0, values)
    grouped.set_column(1, 2, 24)
    grouped.set_column(4, 5, 20)
    book.close()
    return buffer.getvalue()
