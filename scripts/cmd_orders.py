"""``heattwin orders …`` (the board from the command line) and ``heattwin notify …`` (the outbox's gateway).

``heattwin notify drain --forever`` is the demo's gateway: it "sends" each SMS and push by printing it;
a utility's SMS or push service plugs in as an object with ``send(channel, recipient, body)``.
"""

from __future__ import annotations

import logging
import sys
import time

_BY_HELP = "the HeatTwin user doing it (default: this OS account, as cli:NAME)"
log = logging.getLogger("heattwin.notify")


def register(subparsers) -> None:
    orders = subparsers.add_parser("orders", help="work orders: list, show, suggest a team, dispatch")
    sub = orders.add_subparsers(dest="orders_command", required=True)
    listing = sub.add_parser("list", help="the board, newest first")
    listing.add_argument("--state", action="append", help="repeat for several")
    listing.add_argument("--overdue", action="store_true")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=_list)
    show = sub.add_parser("show", help="an order and its history")
    show.add_argument("id", type=int)
    show.set_defaults(func=_show)
    suggest = sub.add_parser("suggest", help="the teams to send, best first")
    suggest.add_argument("id", type=int)
    suggest.set_defaults(func=_suggest)
    send = sub.add_parser("dispatch", help="send an order to a team (default: the suggested one)")
    send.add_argument("id", type=int)
    send.add_argument("--team")
    send.add_argument("--by", help=_BY_HELP)
    send.set_defaults(func=_dispatch)
    notify = subparsers.add_parser("notify", help="the notification outbox: list, drain")
    nsub = notify.add_subparsers(dest="notify_command", required=True)
    nsub.add_parser("list", help="the latest messages and whether they went").set_defaults(func=_outbox)
    drain = nsub.add_parser("drain", help="send what is pending through the gateway (the demo prints it)")
    drain.add_argument("--forever", action="store_true", help="keep draining every --every seconds")
    drain.add_argument("--every", type=float, default=3.0)
    drain.set_defaults(func=_drain)


def _pool():
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool

    return get_pool(cluster.database_url(load_settings()))


def _list(args) -> int:
    from store.work_orders.core import list_board

    frame, total = list_board(_pool(), limit=args.limit, state=args.state, overdue=args.overdue)
    for r in frame.itertuples(index=False):
        print(f"#{r.id:<7} {r.created_at:%m-%d %H:%M} {r.state:<10} {r.category:<10} {r.priority:<7}"
              f" {r.team_id or '—':<6} {'LATE ' if r.overdue else ''}{r.title}")
    print(f"{len(frame)} of {total} orders")
    return 0


def _show(args) -> int:
    from store.work_orders.core import get_order_detail

    order = get_order_detail(_pool(), args.id)
    if order is None:
        print(f"no work order {args.id}", file=sys.stderr)
        return 2
    print(f"#{order['id']} {order['title']} · {order['state']} · {order['category']} · team {order['team_id'] or '—'}")
    for e in order["events"].itertuples(index=False):
        print(f"  {e.at:%Y-%m-%d %H:%M}  {e.to_state:<10} {e.actor:<14} {e.note}")
    return 0


def _suggest(args) -> int:
    from store.work_orders.dispatch import suggest_teams

    for r in suggest_teams(_pool(), args.id).itertuples(index=False):
        print(f"{r.team_id:<6} {r.name:<10} {r.distance_km:6.2f} km  open {r.open_orders:<3}"
              f" {'qualified' if r.qualified else 'NOT qualified'}  score {r.score:.2f}")
    return 0


def _dispatch(args) -> int:
    from scripts.actors import cli_actor
    from store.work_orders.dispatch import suggest_teams
    from store.work_orders.lifecycle import dispatch

    pool = _pool()
    actor = cli_actor(pool, "work_order.dispatch", args.by)
    try:
        team = args.team or suggest_teams(pool, args.id, limit=1)["team_id"].iloc[0]
        dispatch(pool, args.id, team, actor=actor)
    except ValueError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"work order #{args.id} dispatched to {team}")
    return 0


def _outbox(args) -> int:
    import pandas as pd

    from store.notifications import list_outbox

    for r in list_outbox(_pool()).itertuples(index=False):
        state = "sent" if pd.notna(r.sent_at) else f"pending ({r.attempts} tries)"
        print(f"{r.created_at:%m-%d %H:%M:%S} {r.channel:<5} {r.recipient:<14} {state:<16} {r.body}")
    return 0


class PrintGateway:
    """The demo's gateway: what a real SMS or push service would deliver, printed to the log."""

    def send(self, channel: str, recipient: str, body: str) -> None:
        log.info("%s → %s: %s", channel.upper(), recipient, body)


def _drain(args) -> int:
    from store.notifications import drain_outbox

    pool, gateway = _pool(), PrintGateway()
    while True:
        counts = drain_outbox(pool, gateway)
        if not args.forever:
            print(f"sent {counts['sent']}, failed {counts['failed']}")
            return 0
        time.sleep(args.every)
