"""``heattwin tickets import FILE`` and ``heattwin tickets export``: the city's 12345 platform by file.

``import`` files each ticket of a CSV or JSON export (fields: ``store.platform_12345.tickets``) as a work
order, each on its own: refused rows are listed with file, row and field, the rest go in, and a ticket
imported before changes nothing. ``export`` writes every ticket's handling result in the platform's reply
format (``store.platform_12345.replies``). The platform can do both over HTTP instead:
``POST /api/v1/platform/12345/tickets`` and ``GET /api/v1/platform/12345/replies`` with its bearer token
(``heattwin token add 12345-<city>``).
"""

from __future__ import annotations

import sys
from pathlib import Path

_BY_HELP = "the HeatTwin user doing it (default: this OS account, as cli:NAME)"


def register(subparsers) -> None:
    parser = subparsers.add_parser("tickets", help="12345 platform tickets: import them as work orders, export replies")
    sub = parser.add_subparsers(dest="tickets_command", required=True)
    load = sub.add_parser("import", help="file the tickets of a CSV/JSON file as work orders")
    load.add_argument("file")
    load.add_argument("--format", choices=("csv", "json"), help="default: from the file's suffix")
    load.add_argument("--platform", default="12345", help="which platform sent it (default 12345; the data "
                      "source name of its token, so its replies reach it over HTTP too)")
    load.add_argument("--by", help=_BY_HELP)
    load.set_defaults(func=_import)
    export = sub.add_parser("export", help="every ticket's handling result in the platform's reply format")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--since", help="only tickets changed since this time (e.g. 2026-12-01 08:00)")
    export.add_argument("--platform", help="only the tickets of this platform")
    export.add_argument("-o", "--output", help="write to this file (default: standard output)")
    export.add_argument("--by", help=_BY_HELP)
    export.set_defaults(func=_export)


def _pool():
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool

    return get_pool(cluster.database_url(load_settings()))


def _import(args) -> int:
    from scripts.actors import cli_actor
    from store.platform_12345 import import_tickets
    from store.rowfiles import FileRefused

    pool = _pool()
    actor = cli_actor(pool, "ticket.import", args.by)
    try:
        result = import_tickets(pool, Path(args.file), actor=actor, platform=args.platform, fmt=args.format)
    except FileRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    for error in result.errors:
        print(f"refused: {error}", file=sys.stderr)
    for filed in result.added:
        print(f"{filed['ticket_no']}: work order #{filed['work_order_id']} (by {filed['matched_by']})"
              + (f"; {filed['note']}" if filed["note"] else ""))
    print(f"{Path(args.file).name}: {len(result.added)} filed, {len(result.unchanged)} imported before (unchanged), "
          f"{len(result.errors)} refused")
    return 1 if result.errors else 0


def _export(args) -> int:
    from heattwin.settings import load_settings
    from scripts.actors import cli_actor
    from store.platform_12345 import list_replies, write_replies
    from store.rowfiles import FieldError, parse_time

    pool = _pool()
    cli_actor(pool, "ticket.export", args.by)
    try:
        since = parse_time(args.since, "--since", timezone=load_settings().timezone)
    except FieldError as exc:
        print(exc, file=sys.stderr)
        return 2
    frame = list_replies(pool, platform=args.platform, since=since)
    text = write_replies(frame, args.format, platform=args.platform or "12345")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(frame)} replies written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
    return 0
