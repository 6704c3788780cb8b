"""``heattwin calendar load FILE`` and ``heattwin calendar status``: China's official working days.

``chinesecalendar`` covers the years up to its data's end; the State Council publishes each next year's
holidays and make-up working days in late autumn, and an admin loads that list from a YAML or CSV file
(format: ``store.calendar.read_calendar_file``).
"""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("calendar", help="official working days: load a year's holiday list, status")
    sub = parser.add_subparsers(dest="calendar_command", required=True)
    load = sub.add_parser("load", help="load a YAML/CSV list of days (date, workday, note), in one transaction")
    load.add_argument("file", help="e.g. holidays-2027.yaml (complete_years: [2027] marks the year complete)")
    load.add_argument("--by", help="the HeatTwin user doing it (default: this OS account, as cli:NAME)")
    load.set_defaults(func=_load)
    sub.add_parser("status", help="which years are covered, and from where").set_defaults(func=_status)


def _pool():
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool

    return get_pool(cluster.database_url(load_settings()))


def _load(args) -> int:
    from scripts.actors import cli_actor
    from store.calendar import CalendarFileError, load_calendar_file

    pool = _pool()
    actor = cli_actor(pool, "calendar.manage", args.by)
    try:
        summary = load_calendar_file(pool, args.file, actor=actor)
    except CalendarFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    complete = ", ".join(map(str, summary["complete_years"])) or "none"
    print(f"loaded {summary['days']} days of {', '.join(map(str, summary['years']))} from {summary['file']} "
          f"by {actor.username}; complete years: {complete}")
    return 0


def _status(args) -> int:
    from store.calendar import calendar_status

    frame = calendar_status(_pool())
    library = frame[frame["loaded_by"] == ""]
    if not library.empty:
        print(f"{library['year'].min()}–{library['year'].max()}  {library['source'].iloc[0]}")
    for row in frame[frame["loaded_by"] != ""].itertuples(index=False):
        state = "complete" if row.complete else "NOT complete (days outside the list raise an error)"
        print(f"{row.year}  {state}, {row.days} days listed, from {row.source!r}, loaded by {row.loaded_by} "
              f"at {row.loaded_at:%Y-%m-%d %H:%M} UTC")
    print("other years: no data (a working-day clock reaching one raises an error; load the year's list)")
    return 0
