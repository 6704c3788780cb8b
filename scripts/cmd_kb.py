"""``heattwin kb add|import|list|search|retire``: the hotline's knowledge base from the command line.

Changes are by ``--by USER`` (whose roles must allow ``kb.manage``: supervisor, admin) or by this OS
account; each is audited. ``import`` reads YAML, CSV or JSON (``store.knowledge.files``) and lists every
refused row with its file, row and field.
"""

from __future__ import annotations

import sys

_BY_HELP = "the HeatTwin user doing it (default: this OS account, as cli:NAME)"


def register(subparsers) -> None:
    parser = subparsers.add_parser("kb", help="the hotline's knowledge base: add, import, list, search, retire")
    sub = parser.add_subparsers(dest="kb_command", required=True)
    add = sub.add_parser("add", help="a new entry")
    add.add_argument("title", help="the question, e.g. 暖气不热怎么办")
    add.add_argument("answer", help="what the agent reads out")
    add.add_argument("--category", default="enquiry", help="a work-order category (default enquiry)")
    add.add_argument("--keyword", action="append", default=[], help="repeat for several")
    add.add_argument("--valid-from", help="date or time it is offered from (default: now)")
    add.add_argument("--valid-to", help="last day it is offered (default: until retired)")
    add.add_argument("--ref", help="its key in the files it is imported from (e.g. KB-0200)")
    add.add_argument("--by", help=_BY_HELP)
    add.set_defaults(func=_add)
    load = sub.add_parser("import", help="add or update the entries of a YAML/CSV/JSON file")
    load.add_argument("file")
    load.add_argument("--format", choices=("yaml", "csv", "json"), help="default: from the file's suffix")
    load.add_argument("--by", help=_BY_HELP)
    load.set_defaults(func=_import)
    listing = sub.add_parser("list", help="the entries offered now (--all: expired and future ones too)")
    listing.add_argument("--category")
    listing.add_argument("--all", action="store_true")
    listing.set_defaults(func=_list)
    search = sub.add_parser("search", help="what the hotline finds for a caller's words")
    search.add_argument("text")
    search.add_argument("--category")
    search.add_argument("--limit", type=int, default=5)
    search.set_defaults(func=_search)
    retire = sub.add_parser("retire", help="stop offering an entry (it stays for the record)")
    retire.add_argument("id", type=int)
    retire.add_argument("--by", help=_BY_HELP)
    retire.set_defaults(func=_retire)


def _pool():
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool

    return get_pool(cluster.database_url(load_settings()))


def _add(args) -> int:
    from heattwin.settings import load_settings
    from scripts.actors import cli_actor
    from store.knowledge import add_entry
    from store.rowfiles import FieldError, parse_time

    pool = _pool()
    actor = cli_actor(pool, "kb.manage", args.by)
    zone = load_settings().timezone
    try:
        entry_id = add_entry(pool, title=args.title, answer=args.answer, actor=actor, category=args.category,
                             keywords=args.keyword, ref=args.ref,
                             valid_from=parse_time(args.valid_from, "valid_from", timezone=zone),
                             valid_to=parse_time(args.valid_to, "valid_to", timezone=zone, end_of_day=True))
    except FieldError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"entry {entry_id} added by {actor.username}")
    return 0


def _import(args) -> int:
    from scripts.actors import cli_actor
    from store.knowledge import import_entries
    from store.rowfiles import FileRefused

    pool = _pool()
    actor = cli_actor(pool, "kb.manage", args.by)
    try:
        result = import_entries(pool, args.file, actor=actor, fmt=args.format)
    except FileRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    for error in result.errors:
        print(f"refused: {error}", file=sys.stderr)
    print(result.summary())
    return 1 if result.errors else 0


def _list(args) -> int:
    import pandas as pd

    from heattwin.settings import load_settings
    from store.knowledge import list_entries

    zone = load_settings().timezone
    frame = list_entries(_pool(), category=args.category, current_only=not args.all, limit=10_000)
    for r in frame.itertuples(index=False):
        # valid_to is the moment it stops: the last day offered is the local day before that moment
        last_day = pd.Timestamp(r.valid_to).tz_convert(zone) - pd.Timedelta(microseconds=1) if pd.notna(r.valid_to) else None
        until = f" until {last_day:%Y-%m-%d}" if last_day is not None else ""
        print(f"#{r.id:<6} {r.ref or '':<9} {r.category:<10} {r.title}{until}")
    print(f"{len(frame)} entries")
    return 0


def _search(args) -> int:
    from store.knowledge import search_knowledge

    frame = search_knowledge(_pool(), args.text, category=args.category, limit=args.limit)
    for r in frame.itertuples(index=False):
        print(f"#{r.id:<6} {r.score:.2f}  {r.title}\n        {r.answer[:120]}")
    if frame.empty:
        print("nothing found")
    return 0


def _retire(args) -> int:
    from scripts.actors import cli_actor
    from store.knowledge import retire_entry

    pool = _pool()
    try:
        entry = retire_entry(pool, args.id, actor=cli_actor(pool, "kb.manage", args.by))
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"entry {entry['id']} ({entry['title']}) no longer offered")
    return 0
