"""``heattwin control``: plan, list, accept and roll back advised supply-temperature schedules.

``accept`` and ``rollback`` send setpoints to the plant through the setpoint adapter (MQTT on the settings'
broker); ``--by USER`` names the HeatTwin user who decides (their roles must allow ``control.accept``)."""

from __future__ import annotations

import pandas as pd

from heattwin.settings import load_settings


def register(subparsers) -> None:
    parser = subparsers.add_parser("control", help="advised supply-temperature schedules: plan, list, accept, rollback")
    sub = parser.add_subparsers(dest="control_command", required=True)
    plan = sub.add_parser("plan", help="plan the next 48 h from the store (a proposal; nothing is sent)")
    plan.add_argument("--at", help="plan as at this time, ISO UTC (default now)")
    plan.add_argument("--by", help="the HeatTwin user planning (default: the operating-system account)")
    sub.add_parser("list", help="the newest schedules and their state")
    for name, text in (("accept", "accept a proposed schedule and send its setpoints to the plant"),
                       ("rollback", "roll back the accepted schedule (the one before runs again, or the curve)")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("schedule_id", type=int)
        cmd.add_argument("--by", help="the HeatTwin user deciding (their roles must allow control.accept)")
        cmd.add_argument("--note", default="", help="why")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    from scripts.actors import cli_actor
    from store import cluster
    from store import control as control_store
    from store.db import get_pool
    from twin.control.adapter import adapter_for

    settings = load_settings()
    pool = get_pool(cluster.database_url(settings))
    command = args.control_command
    if command == "list":
        frame = control_store.list_schedules(pool)
        for r in frame.itertuples(index=False):
            judged = (r.summary or {}).get("judged", {})
            print(f"#{r.id}  {pd.Timestamp(r.issued_at):%Y-%m-%d %H:%M}Z  {r.state:<11}  lift at the heaviest hour "
                  f"{judged.get('lift_bar', float('nan')):.2f} bar  worst shortfall "
                  f"{(r.summary or {}).get('shortfall_k_max', 0):.1f} K")
        return 0
    if command == "plan":
        from twin.control.runner import plan_from_store

        who = cli_actor(pool, "control.plan", args.by)
        try:
            schedule_id = plan_from_store(pool, at=args.at, actor=who)
        except LookupError as exc:
            print(exc)
            return 1
        print(f"schedule #{schedule_id} proposed (nothing sent: accept it with heattwin control accept {schedule_id})")
        return 0
    who = cli_actor(pool, "control.accept", args.by)
    send = adapter_for(settings).send
    try:
        if command == "accept":
            result = control_store.accept_schedule(pool, args.schedule_id, actor=who, send=send, note=args.note)
            print(f"schedule #{args.schedule_id} accepted; setpoints sent via {result['sent_via']}")
        else:
            result = control_store.rollback_schedule(pool, args.schedule_id, actor=who, send=send, note=args.note)
            restored = result["restored"]
            print(f"schedule #{args.schedule_id} rolled back; "
                  + (f"#{restored} runs again" if restored else "the plants are back on their heating curve"))
    except (ValueError, LookupError, ConnectionError, PermissionError) as exc:
        print(exc)
        return 1
    return 0
