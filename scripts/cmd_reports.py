"""``heattwin reports make|list|get|schedule``: the supervisor's daily, weekly and monthly reports.

``make --kind monthly --date 2026-01-15`` makes the report of the period holding that day now (default: the last
finished one); ``schedule`` runs APScheduler in the foreground — yesterday's sheet at 06:30, last week's analysis
on Mondays at 07:00, last month's bulletin on the 1st at 07:30 — after making whatever it missed.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from heattwin.choices import report_kind_values


def register(subparsers) -> None:
    parser = subparsers.add_parser("reports", help="daily dispatch sheet, weekly analysis, monthly bulletin")
    sub = parser.add_subparsers(dest="reports_command", required=True)
    make = sub.add_parser("make", help="make a report now and store it")
    make.add_argument("--kind", choices=report_kind_values, required=True)
    make.add_argument("--date", help="a day of the period (YYYY-MM-DD; default: the last finished period)")
    make.add_argument("--lang", choices=("zh-CN", "en"), help="default: HEATTWIN_LANGUAGE")
    make.add_argument("--by", help="the HeatTwin user doing it (default: this OS account, as cli:NAME)")
    make.set_defaults(func=_make)
    listing = sub.add_parser("list", help="the stored reports, newest first")
    listing.add_argument("--kind", choices=report_kind_values)
    listing.set_defaults(func=_list)
    get = sub.add_parser("get", help="write a stored report's file")
    get.add_argument("id", type=int)
    get.add_argument("--format", choices=("xlsx", "pdf"), default="pdf")
    get.add_argument("--out", help="file to write (default: the report's own name, here)")
    get.set_defaults(func=_get)
    sub.add_parser("schedule", help="make the reports on their schedule (APScheduler, foreground)").set_defaults(
        func=_schedule)


def _context():
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool

    settings = load_settings()
    return get_pool(cluster.database_url(settings)), settings


def _make(args) -> int:
    from app.reports.build import make_report
    from app.reports.schedule import last_finished_day
    from scripts.actors import cli_actor

    pool, settings = _context()
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    try:
        day = date.fromisoformat(args.date) if args.date else last_finished_day(args.kind, today)
    except ValueError:
        print(f"--date {args.date!r}: give a day as YYYY-MM-DD", file=sys.stderr)
        return 2
    report_id = make_report(pool, args.kind, day, actor=cli_actor(pool, "report.generate", args.by),
                            timezone=settings.timezone, lang=args.lang or settings.language)
    print(f"report #{report_id} ({args.kind}, the period holding {day}) stored; heattwin reports get {report_id}")
    return 0


def _list(args) -> int:
    from store.reports import list_reports

    pool, _ = _context()
    for r in list_reports(pool, kind=args.kind).itertuples(index=False):
        print(f"#{r.id:<5} {r.kind:<8} {r.label:<25} {r.trigger:<10} {r.generated_at:%Y-%m-%d %H:%M} UTC"
              f"  {r.generated_by}")
    return 0


def _get(args) -> int:
    from store.reports import get_report_file

    pool, _ = _context()
    found = get_report_file(pool, args.id, args.format)
    if found is None:
        print(f"no report #{args.id} (heattwin reports list)", file=sys.stderr)
        return 2
    content, _, name = found
    out = Path(args.out or name)
    out.write_bytes(content)
    print(f"wrote {out} ({len(content):,} bytes)")
    return 0


def _schedule(args) -> int:
    from app.reports.schedule import catch_up, scheduler

    pool, settings = _context()
    made = catch_up(pool, timezone=settings.timezone, lang=settings.language)
    print("caught up: " + ", ".join(f"{k} #{v}" if v else f"{k} already made" for k, v in made.items()), flush=True)
    chosen = scheduler(pool, timezone=settings.timezone, lang=settings.language)
    for job in chosen.get_jobs():
        print(f"{job.id}: {job.trigger}", flush=True)
    try:
        chosen.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0
