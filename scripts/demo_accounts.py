"""The demo's accounts: one user per role and a kiosk for the wall, with passwords new at every start.

Passwords are printed once to the terminal that started the demo and stored only as argon2 hashes;
an account an administrator made (not flagged ``demo``) is never touched.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from store.audit import Actor
from store.kiosks import add_kiosk, revoke_kiosk
from store.users import add_user, get_user, update_user_password

DEMO_ACTOR = Actor("demo", role="cli", client_addr="cli")
DEMO_KIOSK = "demo-wall"
# (username, role, display name): the people of a dispatch center's shift.
DEMO_USERS = (("dispatcher", "dispatcher", "值班调度 王建国"), ("agent", "agent", "客服坐席 李敏"),
              ("crew", "crew", "维修班 张强"), ("supervisor", "supervisor", "调度主管 刘洋"),
              ("engineer", "engineer", "管网工程师 陈静"), ("admin", "admin", "系统管理员"))


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    display_name: str
    password: str


def _first_team(pool) -> str | None:
    with pool.connection() as conn:
        row = conn.execute("SELECT id FROM team ORDER BY id LIMIT 1").fetchone()
    return None if row is None else row[0]


def ensure_demo_accounts(pool) -> list[DemoAccount]:
    """Create the demo users (or give the existing demo users new passwords); the accounts with passwords."""
    team = _first_team(pool)
    accounts = []
    for username, role, display_name in DEMO_USERS:
        if role == "crew" and team is None:
            continue  # a crew member belongs to a team; a city without teams has no crew account
        password = secrets.token_urlsafe(9)
        existing = get_user(pool, username)
        if existing is None:
            add_user(pool, username=username, password=password, roles=[role], actor=DEMO_ACTOR,
                     display_name=display_name, team_id=team if role == "crew" else None, demo=True)
        elif existing["demo"]:
            update_user_password(pool, username, password, actor=DEMO_ACTOR)
        else:
            continue
        accounts.append(DemoAccount(username, role, display_name, password))
    return accounts


def new_demo_kiosk(pool) -> str:
    """A fresh kiosk token for the demo wall (the previous one is revoked)."""
    revoke_kiosk(pool, DEMO_KIOSK, actor=DEMO_ACTOR)
    return add_kiosk(pool, DEMO_KIOSK, actor=DEMO_ACTOR)


def login_banner(accounts: list[DemoAccount], kiosk_token: str, base_url: str) -> str:
    lines = [f"Log in at {base_url}/login with one of these demo accounts "
             "(new passwords at every start; stored only as hashes):"]
    lines += [f"  {a.username:<11} {a.password:<14} {a.role:<11} {a.display_name}" for a in accounts]
    lines.append(f"Read-only wall for the video-wall PCs, no login: {base_url}/?kiosk={kiosk_token}")
    return "\n".join(lines)
