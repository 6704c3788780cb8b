"""What the 12345 platform is told about each ticket it handed over: the reply (办理结果反馈).

One reply per ticket, in JSON (``{"platform": …, "exported_at": …, "replies": [...]}``) or CSV (one row
per ticket, the same field names as the header, UTF-8 with a BOM so Excel reads the Chinese). Fields:

==================  ========================================================================
ticket_no           the platform's ticket number (工单编号)
work_order_id       our order
status              accepted | in_progress | resolved | visited | closed | cancelled
status_text         the platform's words: 已受理, 办理中, 已处理, 已回访, 已办结, 已退回
accepted_at         when we filed it; replied_at: first contact; on_site_at; resolved_at; closed_at
due_at              the platform's deadline
on_time             resolved by due_at (true/false); while open: false once past due, else empty
team                the crew that handled it
resolution          cause, action and notes of the repair (原因/处理/说明), or why it was cancelled
revisit_at          the call back; revisit_reached, satisfaction (1–5), satisfaction_text (满意 …), fixed
updated_at          the last change; ``--since`` sends only tickets changed since then
==================  ========================================================================

Times are ISO 8601 in ``HEATTWIN_TIMEZONE`` (``2026-12-01T08:30:00+08:00``).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import PLATFORM_12345_REPLY_STATUS, PLATFORM_12345_SATISFACTION
from heattwin.settings import load_settings

REPLY_FIELDS = ("ticket_no", "work_order_id", "status", "status_text", "accepted_at", "replied_at", "on_site_at",
                "resolved_at", "closed_at", "due_at", "on_time", "team", "resolution", "revisit_at",
                "revisit_reached", "satisfaction", "satisfaction_text", "fixed", "updated_at")
_TIMES = ("accepted_at", "replied_at", "on_site_at", "resolved_at", "closed_at", "due_at", "revisit_at", "updated_at")
_COLUMNS = ("ticket_no", "work_order_id", "state", "accepted_at", "replied_at", "on_site_at", "resolved_at",
            "closed_at", "due_at", "team", "resolution", "cancel_note", "revisit_at", "revisit_reached",
            "satisfaction", "fixed", "updated_at")
_REPLIES = """
SELECT p.ticket_no, w.id, w.state::text, w.created_at, w.replied_at, w.on_site_at, w.resolved_at, w.closed_at,
       p.due_at, t.name, w.resolution,
       (SELECT e.note FROM work_order_event e WHERE e.work_order_id = w.id AND e.to_state = 'cancelled'
        ORDER BY e.at DESC LIMIT 1),
       r.at, r.reached, r.satisfaction, r.fixed, greatest(ev.last_at, r.at, p.imported_at)
FROM platform_ticket p
JOIN work_order w ON w.id = p.work_order_id
LEFT JOIN team t ON t.id = w.team_id
LEFT JOIN LATERAL (SELECT max(e.at) AS last_at FROM work_order_event e WHERE e.work_order_id = w.id) ev ON true
LEFT JOIN LATERAL (SELECT v.at, v.reached, v.satisfaction, v.fixed FROM work_order_revisit v
                   WHERE v.work_order_id = w.id ORDER BY v.at DESC LIMIT 1) r ON true
WHERE (%(platform)s::text IS NULL OR p.platform = %(platform)s)
  AND (%(since)s::timestamptz IS NULL OR greatest(ev.last_at, r.at, p.imported_at) >= %(since)s)
  AND (%(tickets)s::text[] IS NULL OR p.ticket_no = ANY(%(tickets)s))
ORDER BY p.imported_at, p.ticket_no
"""


def _resolution_text(resolution: dict | None, cancel_note: str | None) -> str:
    parts = [f"{label}：{(resolution or {}).get(key)}" for key, label in
             (("cause", "原因"), ("action", "处理"), ("notes", "说明")) if (resolution or {}).get(key)]
    if cancel_note:
        parts.append(f"退回：{cancel_note}")
    return "；".join(parts)


def _on_time(row: dict, now: datetime) -> bool | None:
    due = row["due_at"]
    if due is None:
        return None
    if row["resolved_at"] is not None:
        return bool(row["resolved_at"] <= due)
    return False if now > due and row["state"] != "cancelled" else None


def _reply(row: dict, now: datetime) -> dict:
    status, status_text = PLATFORM_12345_REPLY_STATUS[row["state"]]
    satisfaction = row["satisfaction"]
    return {"ticket_no": row["ticket_no"], "work_order_id": row["work_order_id"], "status": status,
            "status_text": status_text, **{k: row[k] for k in _TIMES if k in row}, "on_time": _on_time(row, now),
            "team": row["team"] or "", "resolution": _resolution_text(row["resolution"], row["cancel_note"]),
            "revisit_reached": row["revisit_reached"], "satisfaction": satisfaction,
            "satisfaction_text": PLATFORM_12345_SATISFACTION.get(satisfaction, "") if satisfaction else "",
            "fixed": row["fixed"]}


def list_replies(pool: ConnectionPool, *, platform: str | None = None, since: datetime | None = None,
                 tickets: list[str] | None = None) -> pd.DataFrame:
    """The reply of every ticket (of ``platform``; changed since ``since``; or only ``tickets``), in the
    order they came in: the columns of ``REPLY_FIELDS``, times as UTC timestamps."""
    with pool.connection() as conn:
        rows = conn.execute(_REPLIES, {"platform": platform, "since": since, "tickets": tickets}).fetchall()
    now = datetime.now(UTC)
    replies = [_reply(dict(zip(_COLUMNS, r, strict=True)), now) for r in rows]
    return pd.DataFrame(replies, columns=list(REPLY_FIELDS))


def _local(value, zone: ZoneInfo):
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat(timespec="seconds")
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame, zone: ZoneInfo) -> list[dict]:
    return [{k: _local(v, zone) for k, v in zip(REPLY_FIELDS, row, strict=True)}
            for row in frame[list(REPLY_FIELDS)].astype(object).itertuples(index=False, name=None)]


def write_replies(frame: pd.DataFrame, fmt: str = "json", *, platform: str = "12345") -> str:
    """The replies as the platform reads them: ``fmt`` ``json`` or ``csv`` (see the module's docstring)."""
    zone = ZoneInfo(load_settings().timezone)
    records = _records(frame, zone)
    if fmt == "json":
        return json.dumps({"platform": platform, "exported_at": datetime.now(zone).isoformat(timespec="seconds"),
                           "replies": records}, ensure_ascii=False, indent=2)
    if fmt != "csv":
        raise ValueError(f"format: {fmt!r} is not one of json, csv")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(REPLY_FIELDS), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if v is None else ("true" if v is True else "false" if v is False else v)
                         for k, v in record.items()})
    return "\ufeff" + out.getvalue()
