"""Test accounts: one user per role, and logging in through the real login form (Flask client or Chromium)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from heattwin.choices import user_role_values
from heattwin.settings import load_settings
from scripts.wall_browser import client_log_in, log_in
from store.audit import Actor
from store.users import add_user, get_user

SETUP = Actor("test-setup", role="cli", client_addr="cli")
TEST_TEAM = "T-TEST"


def password_of(role: str) -> str:
    return f"pw-for-the-{role}-account"


def app_settings(drawings_dir: Path | None = None, **overrides):
    """Settings for an app under test: a fixed signing key, no tiles, a generous login rate."""
    base = load_settings()
    values = {"drawings_dir": Path(drawings_dir or base.drawings_dir), "tile_url": None,
              "secret_key": "test-signing-key", "login_rate": "1000 per minute", **overrides}
    return dataclasses.replace(base, **values)


def _a_team(pool) -> str:
    with pool.connection() as conn:
        row = conn.execute("SELECT id FROM team ORDER BY id LIMIT 1").fetchone()
        if row is not None:
            return row[0]
        conn.execute("INSERT INTO team (id, name) VALUES (%s, %s)", (TEST_TEAM, "测试班组"))
        conn.commit()
    return TEST_TEAM


def role_users(pool) -> dict[str, tuple[str, str]]:
    """``{role: (username, password)}``: a user per role (created once per database)."""
    team = _a_team(pool)
    users = {}
    for role in user_role_values:
        username = f"t-{role}"
        if get_user(pool, username) is None:
            add_user(pool, username=username, password=password_of(role), roles=[role], actor=SETUP,
                     display_name=f"测试{role}", team_id=team if role == "crew" else None)
        users[role] = (username, password_of(role))
    return users


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the login page has no CSRF token"
    return match.group(1)


client_login = client_log_in
browser_login = log_in
