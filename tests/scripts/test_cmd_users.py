"""``heattwin user``, ``heattwin kiosk`` and ``heattwin audit list`` against a real PostgreSQL."""

from __future__ import annotations

import io
import sys

import pytest

from scripts.cli import main
from store.kiosks import get_kiosk
from store.users import authenticate, get_user


@pytest.fixture
def cli(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def _with_stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_the_first_admin_then_users_roles_passwords_and_disabling(cli, pool, monkeypatch, capsys):
    _with_stdin(monkeypatch, "first admin password\n")
    assert main(["user", "add", "root-admin", "--admin", "--display-name", "管理员", "--password-stdin"]) == 0
    _with_stdin(monkeypatch, "dispatch desk pw 1\n")
    assert main(["user", "add", "Wang", "--role", "dispatcher", "--role", "agent", "--password-stdin",
                 "--by", "root-admin"]) == 0
    assert get_user(pool, "wang")["roles"] == ["dispatcher", "agent"]
    assert authenticate(pool, "wang", "dispatch desk pw 1").user is not None
    assert main(["user", "roles", "wang", "supervisor"]) == 0
    out = capsys.readouterr().out
    assert "wang: supervisor" in out and "audit.view" in out and "alarm.ack" not in out
    _with_stdin(monkeypatch, "a new desk password\n")
    assert main(["user", "passwd", "wang", "--password-stdin"]) == 0
    assert authenticate(pool, "wang", "dispatch desk pw 1").user is None
    assert main(["user", "disable", "wang"]) == 0
    assert authenticate(pool, "wang", "a new desk password").reason == "disabled"
    assert main(["user", "list"]) == 0
    listing = capsys.readouterr().out
    assert "root-admin" in listing and "disabled" in listing
    assert main(["audit", "list", "--object", "user:wang", "--since", "1h"]) == 0
    trail = capsys.readouterr().out
    assert trail.count("user.manage") == 4 and "root-admin" in trail and "cli:" in trail


def test_bad_input_is_refused_with_the_field_named_and_nothing_stored(cli, pool, monkeypatch, capsys):
    _with_stdin(monkeypatch, "short\n")
    assert main(["user", "add", "li", "--role", "agent", "--password-stdin"]) == 2
    assert "password: at least 10 characters" in capsys.readouterr().err
    _with_stdin(monkeypatch, "long enough password\n")
    assert main(["user", "add", "li", "--role", "crew", "--password-stdin"]) == 2
    assert "team" in capsys.readouterr().err
    assert main(["user", "add", "li"]) == 2
    assert get_user(pool, "li") is None
    _with_stdin(monkeypatch, "long enough password\n")
    with pytest.raises(SystemExit, match="no active HeatTwin user"):
        main(["user", "add", "li", "--role", "agent", "--password-stdin", "--by", "nobody"])


def test_a_kiosk_token_is_shown_once_and_revoked_at_once(cli, pool, capsys):
    assert main(["kiosk", "add", "wall-left"]) == 0
    out = capsys.readouterr().out
    token = out.split("?kiosk=")[1].split()[0]
    assert get_kiosk(pool, token) == "wall-left"
    assert main(["kiosk", "add", "wall-left"]) == 2  # one live token per screen
    assert main(["kiosk", "revoke", "wall-left"]) == 0
    assert get_kiosk(pool, token) is None
    assert main(["kiosk", "list"]) == 0
    assert "revoked" in capsys.readouterr().out
    with pool.connection() as conn:
        stored = conn.execute("SELECT token_sha256 FROM kiosk_token").fetchone()[0]
    assert token not in stored and len(stored) == 64
