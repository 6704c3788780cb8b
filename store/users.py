"""Local accounts: argon2id password hashes, roles, teams, disabling, and the lock-out after failed logins.

A password never leaves this module in clear: it is hashed on the way in and only verified against
the hash. Every change is audited (``store.audit.audited``); a login, good or bad, writes its audit
row in the same transaction as the counters it moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg_pool import ConnectionPool

from heattwin.choices import user_role_values
from store.audit import Actor, audited, insert_event
from store.db import transaction

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256  # hashing a megabyte "password" per request would be a denial of service
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
USER_COLUMNS = ("id", "username", "display_name", "roles", "team_id", "demo", "created_at", "disabled_at",
                "failed_logins", "locked_until", "last_login_at", "session_epoch", "external_id")
_SELECT = ("SELECT id, username, display_name, roles::text[], team_id, demo, created_at, disabled_at,"
           " failed_logins, locked_until, last_login_at, session_epoch, external_id FROM app_user")
_HASHER = PasswordHasher()
# Verified when the user is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anybody")


class UserError(ValueError):
    """A user change that cannot be made; the message names the field and the rule."""


@dataclass(frozen=True)
class LoginResult:
    user: dict | None
    reason: str = ""  # '' (logged in) | unknown | wrong_password | disabled | locked | no_password
    locked_until: datetime | None = None


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password: at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UserError(f"password: at most {MAX_PASSWORD_CHARS} characters")


def _check_roles(roles, team_id: str | None) -> list[str]:
    roles = list(dict.fromkeys(roles or ()))
    if not roles:
        raise UserError(f"roles: a user needs at least one of {', '.join(user_role_values)}")
    unknown = [r for r in roles if r not in user_role_values]
    if unknown:
        raise UserError(f"roles: {', '.join(unknown)} is not a role; roles are {', '.join(user_role_values)}")
    if "crew" in roles and not team_id:
        raise UserError("team: a crew member belongs to a team (--team TEAM_ID)")
    return roles


def _public(row) -> dict:
    return dict(zip(USER_COLUMNS, row, strict=True))


def _snapshot(user: dict) -> dict:
    return {k: user[k] for k in ("username", "display_name", "roles", "team_id", "disabled_at")}


def _check_team(conn, team_id: str | None) -> None:
    if team_id and conn.execute("SELECT 1 FROM team WHERE id = %s", (team_id,)).fetchone() is None:
        raise UserError(f"team: {team_id!r} is not a team in the store")


def add_user(pool: ConnectionPool, *, username: str, password: str | None, roles, actor: Actor,
             display_name: str = "", team_id: str | None = None, demo: bool = False,
             external_id: str | None = None) -> int:
    """Create a user; ``password`` None means the user signs in only through single sign-on."""
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise UserError(f"username {username!r}: 2-63 characters of a-z, 0-9, '.', '_' or '-', starting with a"
                        " letter or digit")
    if len(display_name) > 100:
        raise UserError("display name: at most 100 characters")
    roles = _check_roles(roles, team_id)
    if password is not None:
        _check_password(password)
    digest = None if password is None else _HASHER.hash(password)
    with audited(pool, actor, "user.manage", "user") as change:
        _check_team(change.conn, team_id)
        if change.conn.execute("SELECT 1 FROM app_user WHERE username = %s", (username,)).fetchone():
            raise UserError(f"username {username!r} is taken")
        row = change.conn.execute(
            "INSERT INTO app_user (username, display_name, password_hash, roles, team_id, demo, external_id)"
            " VALUES (%s, %s, %s, %s::user_role[], %s, %s, %s) RETURNING id",
            (username, display_name, digest, roles, team_id, demo, external_id)).fetchone()
        change.object_id = username
        change.after = {"username": username, "display_name": display_name, "roles": roles, "team_id": team_id}
        change.detail = "user added"
    return row[0]


def get_user(pool: ConnectionPool, username: str) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute(_SELECT + " WHERE username = %s", ((username or "").lower(),)).fetchone()
    return None if row is None else _public(row)


def get_session_user(pool: ConnectionPool, user_id: int, session_epoch: int) -> dict | None:
    """The user a session belongs to, or None when disabled or when the session predates a password
    change (its epoch is old): read on every request, so both take effect at once."""
    with pool.connection() as conn:
        row = conn.execute(_SELECT + " WHERE id = %s AND disabled_at IS NULL AND session_epoch = %s",
                           (user_id, session_epoch)).fetchone()
    return None if row is None else _public(row)


def get_user_by_external_id(pool: ConnectionPool, external_id: str) -> dict | None:
    """The local user an identity provider's subject maps to (the single sign-on seam)."""
    with pool.connection() as conn:
        row = conn.execute(_SELECT + " WHERE external_id = %s", (external_id,)).fetchone()
    return None if row is None else _public(row)


def list_users(pool: ConnectionPool) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute(_SELECT + " ORDER BY username").fetchall()
    return pd.DataFrame(rows, columns=list(USER_COLUMNS))


def _locked_user(conn, username: str) -> dict:
    row = conn.execute(_SELECT + " WHERE username = %s FOR UPDATE", ((username or "").lower(),)).fetchone()
    if row is None:
        raise UserError(f"user {username!r} does not exist (heattwin user list)")
    return _public(row)


def update_user_password(pool: ConnectionPool, username: str, password: str, *, actor: Actor) -> None:
    """A new password; every open session of the user ends, and a lock-out is lifted."""
    _check_password(password)
    digest = _HASHER.hash(password)
    with audited(pool, actor, "user.manage", "user", username) as change:
        user = _locked_user(change.conn, username)
        change.conn.execute("UPDATE app_user SET password_hash = %s, session_epoch = session_epoch + 1,"
                            " failed_logins = 0, locked_until = NULL WHERE id = %s", (digest, user["id"]))
        change.detail = "password changed"


def update_user_roles(pool: ConnectionPool, username: str, roles, *, actor: Actor,
                      team_id: str | None = None) -> None:
    """Replace the user's roles (and team, when given)."""
    with audited(pool, actor, "user.manage", "user", username) as change:
        user = _locked_user(change.conn, username)
        team = team_id if team_id is not None else user["team_id"]
        roles = _check_roles(roles, team)
        _check_team(change.conn, team)
        change.conn.execute("UPDATE app_user SET roles = %s::user_role[], team_id = %s WHERE id = %s",
                            (roles, team, user["id"]))
        change.before, change.after = _snapshot(user), {**_snapshot(user), "roles": roles, "team_id": team}
        change.detail = "roles changed"


def update_user_disabled(pool: ConnectionPool, username: str, disabled: bool, *, actor: Actor) -> None:
    """Disable (every session ends at once) or enable a user."""
    with audited(pool, actor, "user.manage", "user", username) as change:
        user = _locked_user(change.conn, username)
        change.conn.execute(
            "UPDATE app_user SET disabled_at = CASE WHEN %s THEN coalesce(disabled_at, now()) END,"
            " session_epoch = session_epoch + 1, failed_logins = 0, locked_until = NULL WHERE id = %s",
            (disabled, user["id"]))
        change.before = {"disabled": user["disabled_at"] is not None}
        change.after = {"disabled": disabled}
        change.detail = "disabled" if disabled else "enabled"


def _verify(digest: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(digest or _DUMMY_HASH, password) and digest is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(pool: ConnectionPool, username: str, password: str, *, client_addr: str = "") -> LoginResult:
    """Check a login; count a failure and lock the account after ``MAX_FAILED_LOGINS`` in a row.
    The login's audit row (good or bad) is written in the same transaction."""
    name = (username or "").strip().lower()[:63]
    password = (password or "")[:MAX_PASSWORD_CHARS + 1]
    with transaction(pool) as conn:
        row = conn.execute("SELECT id, password_hash, disabled_at, failed_logins, locked_until, now()"
                           " FROM app_user WHERE username = %s FOR UPDATE", (name,)).fetchone()
        if row is None:
            _verify(None, password)
            return _login_refused(conn, name, client_addr, "unknown")
        user_id, digest, disabled_at, failures, locked_until, now = row
        if disabled_at is not None:
            return _login_refused(conn, name, client_addr, "disabled")
        if locked_until is not None and locked_until > now:
            return _login_refused(conn, name, client_addr, "locked", locked_until)
        if digest is None:
            return _login_refused(conn, name, client_addr, "no_password")
        if not _verify(digest, password):
            failures += 1
            lock = now + LOCKOUT if failures >= MAX_FAILED_LOGINS else None
            conn.execute("UPDATE app_user SET failed_logins = %s, locked_until = %s WHERE id = %s",
                         (0 if lock else failures, lock, user_id))
            return _login_refused(conn, name, client_addr, "locked" if lock else "wrong_password", lock)
        if _HASHER.check_needs_rehash(digest):
            conn.execute("UPDATE app_user SET password_hash = %s WHERE id = %s", (_HASHER.hash(password), user_id))
        conn.execute("UPDATE app_user SET failed_logins = 0, locked_until = NULL, last_login_at = now()"
                     " WHERE id = %s", (user_id,))
        user = _public(conn.execute(_SELECT + " WHERE id = %s", (user_id,)).fetchone())
        insert_event(conn, Actor(name, client_addr=client_addr), "login", object_type="user", object_id=name,
                before=None, after=None, outcome="ok", detail="logged in")
    return LoginResult(user)


def _login_refused(conn, name: str, client_addr: str, reason: str, locked_until=None) -> LoginResult:
    insert_event(conn, Actor(name, client_addr=client_addr), "login", object_type="user", object_id=name, before=None,
            after=None, outcome="refused", detail=reason)
    return LoginResult(None, reason, locked_until)
