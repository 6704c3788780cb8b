"""The reports' rhythm (日调度、周分析、月通报) on APScheduler: each morning yesterday's dispatch sheet, each Monday
last week's analysis, on the 1st last month's bulletin (local time, ``HEATTWIN_TIMEZONE``). A period's scheduled
report is made once (``store.reports``: the unique index), so several schedulers, a restart or a catch-up run
never make it twice; a run that was missed (the machine was off) is made by ``catch_up`` at start."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg_pool import ConnectionPool

from app.reports.build import make_report
from heattwin.choices import REPORT_PERIOD
from store import kpis as store_kpis
from store.audit import Actor
from store.reports import has_scheduled

SCHEDULE_ACTOR = Actor("system:report-schedule", role="system", client_addr="schedule")
# When each kind is made (cron fields, local time) and which day of the finished period it is made for.
CRON = {"daily": {"hour": 6, "minute": 30}, "weekly": {"day_of_week": "mon", "hour": 7, "minute": 0},
        "monthly": {"day": 1, "hour": 7, "minute": 30}}


def last_finished_day(kind: str, today: date) -> date:
    """A day of the last whole period of ``kind`` before ``today``."""
    period = store_kpis.Period.of(REPORT_PERIOD[kind], today)
    return (period.start - timedelta(days=1)).date()


def run_scheduled(pool: ConnectionPool, kind: str, *, timezone: str, lang: str, today: date | None = None) -> int | None:
    """Make the ``kind`` report of the last finished period unless the schedule already has; its id or None."""
    today = today or datetime.now(ZoneInfo(timezone)).date()
    day = last_finished_day(kind, today)
    if has_scheduled(pool, kind, store_kpis.Period.of(REPORT_PERIOD[kind], day, timezone).start):
        return None
    return make_report(pool, kind, day, actor=SCHEDULE_ACTOR, timezone=timezone, lang=lang, trigger="schedule")


def catch_up(pool: ConnectionPool, *, timezone: str, lang: str) -> dict[str, int | None]:
    """Every kind's last finished period, made now if the schedule missed it."""
    return {kind: run_scheduled(pool, kind, timezone=timezone, lang=lang) for kind in CRON}


def scheduler(pool: ConnectionPool, *, timezone: str, lang: str, blocking: bool = True):
    """An APScheduler scheduler with the three jobs (not started)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    chosen = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=ZoneInfo(timezone))
    for kind, fields in CRON.items():
        chosen.add_job(run_scheduled, CronTrigger(timezone=ZoneInfo(timezone), **fields), args=(pool, kind),
                       kwargs={"timezone": timezone, "lang": lang}, id=f"report-{kind}", coalesce=True,
                       misfire_grace_time=6 * 3600, max_instances=1)
    return chosen
