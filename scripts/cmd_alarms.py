"""``heattwin alarms list|ack|clear|work-order|events``: the alarm desk from the command line."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("alarms", help="open alarms: list, acknowledge, clear, open a work order")
    sub = parser.add_subparsers(dest="alarms_command", required=True)
    sub.add_parser("list", help="open alarms, newest first").set_defaults(func=_list)
    for name, func, text in (("ack", _ack, "acknowledge an alarm"), ("clear", _clear, "clear an alarm by hand"),
                             ("work-order", _work_order, "open a work order for an alarm"),
                             ("events", _events, "every change of an alarm")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("id", type=int)
        if name != "events":
            cmd.add_argument("--by", help="the HeatTwin user doing it (default: this OS account, as cli:NAME)")
        if name == "clear":
            cmd.add_argument("--note", required=True, help="why it is cleared")
        if name == "work-order":
            cmd.add_argument("--team", help="crew id")
        cmd.set_defaults(func=func)


def _pool():
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool

    return get_pool(cluster.database_url(load_settings()))


def _list(args) -> int:
    from store.alarms import list_open_alarms

    frame = list_open_alarms(_pool())
    if frame.empty:
        print("no open alarms")
    for a in frame.itertuples(index=False):
        print(f"#{a.id:<6} {a.severity:<8} {a.state:<12} {a.cause:<22} {a.asset_id:<14} ×{a.raise_count} "
              f"{a.raised_at:%Y-%m-%d %H:%M}  {a.message}")
    return 0


def _state(args, state: str, note: str = "") -> int:
    from scripts.actors import cli_actor
    from store.alarms import update_alarm_state

    pool = _pool()
    actor = cli_actor(pool, "alarm.ack" if state == "acknowledged" else "alarm.clear", args.by)
    try:
        update_alarm_state(pool, args.id, state, actor=actor, note=note)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"alarm #{args.id} {state} by {actor.username}")
    return 0


def _ack(args) -> int:
    return _state(args, "acknowledged")


def _clear(args) -> int:
    return _state(args, "cleared", args.note)


def _work_order(args) -> int:
    from scripts.actors import cli_actor
    from store.alarms import open_work_order_from_alarm

    pool = _pool()
    try:
        wo = open_work_order_from_alarm(pool, args.id, actor=cli_actor(pool, "alarm.work_order", args.by),
                                        team_id=args.team)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"work order #{wo} opened for alarm #{args.id}")
    return 0


def _events(args) -> int:
    from store.alarms import list_alarm_events

    for e in list_alarm_events(_pool(), args.id).itertuples(index=False):
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<12} {e.action:<12} {e.note}")
    return 0
