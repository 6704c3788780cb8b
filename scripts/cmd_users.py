"""``heattwin user …``, ``heattwin kiosk …`` and ``heattwin audit list``: accounts, wall kiosks, the audit trail.

Passwords are read from the terminal (asked twice) or, for scripts, from one line of standard input
with ``--password-stdin``; never from the command line, where ``ps`` and shell history would keep them.
"""

from __future__ import annotations

import getpass
import re
import sys
from datetime import UTC, datetime, timedelta

import pandas as pd

from heattwin.choices import audit_outcome_values, user_role_values
from heattwin.permissions import ACTIONS, actions_of

_BY_HELP = "the HeatTwin user doing it (default: this OS account, as cli:NAME)"
_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhd])$")


def register(subparsers) -> None:
    _register_user(subparsers)
    _register_kiosk(subparsers)
    _register_audit(subparsers)


def _register_user(subparsers) -> None:
    parser = subparsers.add_parser("user", help="local accounts: add, passwd, disable, enable, list, roles")
    sub = parser.add_subparsers(dest="user_command", required=True)
    add = sub.add_parser("add", help="add a user (the first admin: heattwin user add NAME --admin)")
    add.add_argument("username")
    add.add_argument("--role", action="append", default=[], choices=user_role_values, help="repeat for several")
    add.add_argument("--admin", action="store_true", help="give the admin role")
    add.add_argument("--team", help="team id (crew members belong to one)")
    add.add_argument("--display-name", default="", help="the name shown on what they sign, e.g. 王建国")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=_user_add)
    passwd = sub.add_parser("passwd", help="set a new password (ends the user's sessions, lifts a lock-out)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=_user_passwd)
    for name, func in (("disable", _user_disable), ("enable", _user_enable)):
        cmd = sub.add_parser(name, help=f"{name} a user" + (" (every session ends at once)" if name == "disable" else ""))
        cmd.add_argument("username")
        cmd.set_defaults(func=func)
    sub.add_parser("list", help="every user with roles and state").set_defaults(func=_user_list)
    roles = sub.add_parser("roles", help="show a user's roles and what they allow, or set them")
    roles.add_argument("username")
    roles.add_argument("roles", nargs="*", metavar="ROLE",
                       help=f"the new roles ({', '.join(user_role_values)}); none: show")
    roles.add_argument("--team", help="team id (crew members belong to one)")
    roles.set_defaults(func=_user_roles)
    for cmd in (add, passwd, roles, *[sub.choices[n] for n in ("disable", "enable")]):
        cmd.add_argument("--by", help=_BY_HELP)


def _register_kiosk(subparsers) -> None:
    parser = subparsers.add_parser("kiosk", help="read-only wall access for the video-wall PCs: add, list, revoke")
    sub = parser.add_subparsers(dest="kiosk_command", required=True)
    add = sub.add_parser("add", help="a new kiosk token; prints the wall URL to open on the PC")
    add.add_argument("name", help="which screen, e.g. wall-left")
    add.set_defaults(func=_kiosk_add)
    revoke = sub.add_parser("revoke", help="revoke a kiosk at once")
    revoke.add_argument("name")
    revoke.set_defaults(func=_kiosk_revoke)
    sub.add_parser("list", help="kiosks and whether they are live").set_defaults(func=_kiosk_list)
    for cmd in (add, revoke):
        cmd.add_argument("--by", help=_BY_HELP)


def _register_audit(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="the audit trail")
    sub = parser.add_subparsers(dest="audit_command", required=True)
    listing = sub.add_parser("list", help="audit rows, newest first")
    listing.add_argument("--user", help="user name (kiosk:NAME, cli:NAME for those)")
    listing.add_argument("--object", help="object kind, or KIND:ID (alarm:42, user:wang)")
    listing.add_argument("--action", help="e.g. alarm.ack, login")
    listing.add_argument("--outcome", choices=audit_outcome_values)
    listing.add_argument("--since", help="ISO time (2026-12-01T08:00) or an age (30m, 12h, 7d)")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(func=_audit_list)


def _pool():
    from heattwin.settings import load_settings
    from store import cluster
    from store.db import get_pool
    from store.migrate import migrate

    url = cluster.database_url(load_settings())
    migrate(url)
    return get_pool(url)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise SystemExit("no terminal to ask the password on: pass --password-stdin and send it on standard input")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the two passwords differ; nothing changed")
    return first


def _guarded(change) -> int:
    """Run a store change; a refused one prints why and changes nothing."""
    from store.users import UserError

    try:
        change()
    except (UserError, ValueError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    return 0


def _user_add(args) -> int:
    from scripts.actors import cli_actor
    from store.users import add_user

    roles = [*args.role, *(["admin"] if args.admin else [])]
    if not roles:
        print(f"refused: give at least one --role ({', '.join(user_role_values)}) or --admin", file=sys.stderr)
        return 2
    pool = _pool()
    actor = cli_actor(pool, "user.manage", args.by)
    password = _password(args.password_stdin)
    code = _guarded(lambda: add_user(pool, username=args.username, password=password, roles=roles, actor=actor,
                                     display_name=args.display_name, team_id=args.team))
    if code == 0:
        print(f"user {args.username.lower()} added ({', '.join(roles)})")
    return code


def _user_passwd(args) -> int:
    from scripts.actors import cli_actor
    from store.users import update_user_password

    pool = _pool()
    actor = cli_actor(pool, "user.manage", args.by)
    password = _password(args.password_stdin)
    code = _guarded(lambda: update_user_password(pool, args.username, password, actor=actor))
    if code == 0:
        print(f"password of {args.username} changed; their open sessions have ended")
    return code


def _set_disabled(args, disabled: bool) -> int:
    from scripts.actors import cli_actor
    from store.users import update_user_disabled

    pool = _pool()
    actor = cli_actor(pool, "user.manage", args.by)
    code = _guarded(lambda: update_user_disabled(pool, args.username, disabled, actor=actor))
    if code == 0:
        print(f"user {args.username} {'disabled: every session has ended' if disabled else 'enabled'}")
    return code


def _user_disable(args) -> int:
    return _set_disabled(args, True)


def _user_enable(args) -> int:
    return _set_disabled(args, False)


def _user_list(args) -> int:
    from store.users import list_users

    users = list_users(_pool())
    if users.empty:
        print("no users yet: heattwin user add NAME --admin")
    for u in users.itertuples(index=False):
        state = "disabled" if pd.notna(u.disabled_at) else ("locked" if pd.notna(u.locked_until) else "active")
        last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if pd.notna(u.last_login_at) else "never"
        print(f"{u.username:<18} {u.display_name:<12} {','.join(u.roles):<28} {u.team_id or '—':<8} {state:<9}"
              f" last login {last}")
    return 0


def _user_roles(args) -> int:
    from scripts.actors import cli_actor
    from store.users import get_user, update_user_roles

    pool = _pool()
    if args.roles:
        actor = cli_actor(pool, "user.manage", args.by)
        code = _guarded(lambda: update_user_roles(pool, args.username, args.roles, actor=actor, team_id=args.team))
        if code:
            return code
    user = get_user(pool, args.username)
    if user is None:
        print(f"no user {args.username!r} (heattwin user list)", file=sys.stderr)
        return 2
    print(f"{user['username']}: {', '.join(user['roles'])}" + (f" (team {user['team_id']})" if user["team_id"] else ""))
    for action in sorted(actions_of(user["roles"])):
        print(f"  {action:<22} {ACTIONS[action]}")
    return 0


def _kiosk_add(args) -> int:
    from heattwin.settings import load_settings
    from scripts.actors import cli_actor
    from store.kiosks import add_kiosk

    pool = _pool()
    try:
        token = add_kiosk(pool, args.name, actor=cli_actor(pool, "kiosk.manage", args.by))
    except ValueError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    print(f"kiosk {args.name}: open http://{settings.host}:{settings.port}/?kiosk={token}")
    print("the token is shown once; revoke it with: heattwin kiosk revoke " + args.name)
    return 0


def _kiosk_revoke(args) -> int:
    from scripts.actors import cli_actor
    from store.kiosks import revoke_kiosk

    pool = _pool()
    revoked = revoke_kiosk(pool, args.name, actor=cli_actor(pool, "kiosk.manage", args.by))
    print(f"kiosk {args.name} revoked" if revoked else f"kiosk {args.name} had no live token")
    return 0 if revoked else 2


def _kiosk_list(args) -> int:
    from store.kiosks import list_kiosks

    for k in list_kiosks(_pool()).itertuples(index=False):
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if pd.notna(k.revoked_at) else "live"
        print(f"{k.name:<20} {state:<24} added {k.created_at:%Y-%m-%d %H:%M} by {k.created_by}")
    return 0


def parse_since(text: str | None) -> datetime | None:
    """``30m`` / ``12h`` / ``7d`` ago, or an ISO time (UTC when it has no zone)."""
    if not text:
        return None
    match = _AGO.match(text.strip())
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        return datetime.now(UTC) - timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SystemExit(f"--since {text!r}: an ISO time (2026-12-01T08:00) or an age (30m, 12h, 7d)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _audit_list(args) -> int:
    from store.audit import list_audit_events

    object_type, _, object_id = (args.object or "").partition(":")
    frame = list_audit_events(_pool(), username=args.user, object_type=object_type or None,
                              object_id=object_id or None, action=args.action, outcome=args.outcome,
                              since=parse_since(args.since), limit=args.limit)
    for e in frame.itertuples(index=False):
        target = f"{e.object_type}:{e.object_id}".strip(":")
        print(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.username:<16} {e.role or '—':<11} {e.action:<18} {e.outcome:<8}"
              f" {target:<22} {e.detail}")
    if frame.empty:
        print("no audit rows match")
    return 0
