"""Logins, roles and kiosks for the web app: ``mount(dash_app, url, settings)`` puts them in front of it.

- sessions: Flask-Login over Flask's signed cookie (HttpOnly, SameSite=Lax, Secure off loopback),
  ending after ``HEATTWIN_SESSION_HOURS``, or at once when the user is disabled or changes password;
- failed logins: the account locks after five in a row (``store.users``), and each client address
  may try ``HEATTWIN_LOGIN_RATE`` (Flask-Limiter);
- kiosks: ``/?kiosk=TOKEN`` sets a cookie and shows the wall read-only;
- every request passes ``guard.check_request`` (see there).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask import make_response, redirect, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

from app import context
from app.auth import guard, login
from app.auth.principal import Anonymous, SessionUser, kiosk_principal, user_principal
from app.i18n import t
from store import kiosks as store_kiosks
from store import users as store_users
from store.audit import Actor, record_event

KIOSK_COOKIE = "heattwin_kiosk"
KIOSK_COOKIE_DAYS = 365

__all__ = ["KIOSK_COOKIE", "guard", "mount", "secret_key"]


def secret_key(settings) -> str:
    """``HEATTWIN_SECRET_KEY``, else a key kept in the state folder (so every worker signs alike)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.state_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def _secure_cookies(settings) -> bool:
    if settings.secure_cookies != "auto":
        return settings.secure_cookies == "on"
    return settings.host not in ("127.0.0.1", "localhost", "::1")


def _load_session_user(user_key: str):
    user_id, _, epoch = (user_key or "").partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    user = store_users.get_session_user(context.pool(), int(user_id), int(epoch))
    return None if user is None else SessionUser(user_principal(user))


class KioskUser(SessionUser):
    def get_id(self) -> str:  # a kiosk is never put in a session
        return ""


def _load_kiosk(req):
    name = store_kiosks.get_kiosk(context.pool(), req.cookies.get(KIOSK_COOKIE, ""))
    return None if name is None else KioskUser(kiosk_principal(name))


def _kiosk_entry():
    """``?kiosk=TOKEN`` on a page: remember it in a cookie and show the page without the token in the URL."""
    token = request.args.get("kiosk")
    if request.method != "GET" or not token:
        return None
    name = store_kiosks.get_kiosk(context.pool(), token)
    actor = Actor(f"kiosk:{name or '?'}", role="kiosk", client_addr=request.remote_addr or "")
    record_event(context.pool(), actor, "login", outcome="ok" if name else "refused", object_type="kiosk",
                 object_id=name or "", detail="kiosk link" if name else "unknown or revoked kiosk token")
    if name is None:
        lang = context.settings().language
        return make_response(f"<h1>{t('auth.kiosk_invalid', lang)}</h1>", 401)
    rest = {k: v for k, v in request.args.items() if k != "kiosk"}
    response = redirect(request.path + ("?" + urlencode(rest) if rest else ""))
    settings = context.settings()
    response.set_cookie(KIOSK_COOKIE, token, max_age=KIOSK_COOKIE_DAYS * 86400, httponly=True, samesite="Strict",
                        secure=_secure_cookies(settings))
    return response


def mount(dash_app, settings) -> None:
    """Put logins, kiosks and the permission check in front of ``dash_app``'s Flask server."""
    server = dash_app.server
    server.secret_key = secret_key(settings)
    server.config.update(
        SESSION_COOKIE_NAME="heattwin_session", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_secure_cookies(settings),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours))
    manager = LoginManager(server)
    manager.anonymous_user = Anonymous
    manager.user_loader(_load_session_user)
    manager.request_loader(_load_kiosk)
    limiter = Limiter(get_remote_address, app=server, storage_uri="memory://", default_limits=[],
                      headers_enabled=False)
    server.register_blueprint(login.blueprint)
    endpoint = "heattwin_login.login_submit"
    server.view_functions[endpoint] = limiter.limit(settings.login_rate, methods=["POST"])(
        server.view_functions[endpoint])
    server.errorhandler(429)(_too_many_logins)
    server.before_request(_kiosk_entry)
    server.before_request(lambda: guard.check_request(dash_app))
    server.after_request(guard.server_timing)


def _too_many_logins(_error):
    lang = context.settings().language
    return make_response(f"<p id='login-message'>{t('login.rate_limited', lang)}</p>", 429)
