"""Stored reports (日调度 / 周分析 / 月通报): the Excel and PDF files as made, the figures they show, who made them
and when. The schedule's report of a period is made once (``report_scheduled_once``); on demand, again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from heattwin.choices import report_kind_values
from store.audit import Actor, audited

REPORT_COLUMNS = ("id", "kind", "period_start", "period_end", "label", "as_of", "trigger", "generated_at",
                  "generated_by", "lang")
FILE_FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "pdf": "application/pdf"}
TRIGGERS = ("schedule", "on_demand")


@dataclass(frozen=True)
class ReportFiles:
    kind: str
    period_start: datetime
    period_end: datetime
    label: str
    as_of: datetime
    figures: dict
    xlsx: bytes
    pdf: bytes
    lang: str = "zh-CN"


def add_report(pool: ConnectionPool, files: ReportFiles, *, actor: Actor, trigger: str = "on_demand") -> int | None:
    """Store a made report (audited ``report.generate``); returns its id, or None when the schedule already
    made this period's report."""
    if files.kind not in report_kind_values:
        raise ValueError(f"kind: {files.kind!r} is not one of {', '.join(report_kind_values)}")
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger: {trigger!r} is not one of {', '.join(TRIGGERS)}")
    with audited(pool, actor, "report.generate", "report") as change:
        row = change.conn.execute(
            "INSERT INTO report (kind, period_start, period_end, label, as_of, trigger, generated_by, lang, figures,"
            " xlsx, pdf) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (kind, period_start) WHERE trigger = 'schedule' DO NOTHING RETURNING id",
            (files.kind, files.period_start, files.period_end, files.label, files.as_of, trigger, actor.username,
             files.lang, Jsonb(files.figures), files.xlsx, files.pdf)).fetchone()
        change.object_id = "" if row is None else str(row[0])
        change.after = {"kind": files.kind, "period": files.label, "trigger": trigger}
        change.detail = "made" if row is not None else "the schedule had already made this period's report"
    return None if row is None else row[0]


def has_scheduled(pool: ConnectionPool, kind: str, period_start: datetime) -> bool:
    with pool.connection() as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM report WHERE kind = %s AND period_start = %s"
                            " AND trigger = 'schedule')", (kind, period_start)).fetchone()[0]


def list_reports(pool: ConnectionPool, *, kind: str | None = None, limit: int = 50) -> pd.DataFrame:
    """The stored reports, newest first (``REPORT_COLUMNS``; the files are fetched one at a time)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, kind, period_start, period_end, label, as_of, trigger, generated_at, generated_by, lang"
            " FROM report WHERE %(kind)s::text IS NULL OR kind = %(kind)s ORDER BY generated_at DESC, id DESC"
            " LIMIT %(limit)s", {"kind": kind, "limit": limit}).fetchall()
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def get_report(pool: ConnectionPool, report_id: int) -> dict | None:
    """A report's row with its figures (no files)."""
    with pool.connection() as conn:
        cur = conn.execute("SELECT id, kind, period_start, period_end, label, as_of, trigger, generated_at,"
                           " generated_by, lang, figures FROM report WHERE id = %s", (report_id,))
        row = cur.fetchone()
    return None if row is None else dict(zip([d.name for d in cur.description], row, strict=True))


def get_report_file(pool: ConnectionPool, report_id: int, file_format: str) -> tuple[bytes, str, str] | None:
    """``(content, mime type, file name)`` of a report's Excel or PDF file; None when there is no such report."""
    if file_format not in FILE_FORMATS:
        raise ValueError(f"format: {file_format!r} is not one of {', '.join(FILE_FORMATS)}")
    with pool.connection() as conn:
        row = conn.execute(sql.SQL("SELECT kind, label, {} FROM report WHERE id = %s").format(
            sql.Identifier(file_format)), (report_id,)).fetchone()
    if row is None:
        return None
    kind, label, content = row
    return bytes(content), FILE_FORMATS[file_format], f"{kind}-{label.replace(' ', '')}.{file_format}"
