"""``/login`` and ``/logout``: local accounts by default, with a seam for the utility's single sign-on.

The login form is plain HTML (it must work before any Dash script loads) with a CSRF token kept in
the session. ``complete_login`` is what any way of proving who someone is ends with: the local
password check calls it, and a single-sign-on callback (OIDC through authlib, say) would call it
with the local user its verified subject maps to (``store.users.get_user_by_external_id``).
"""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import UTC
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template_string, request, session
from flask_login import login_user, logout_user

from app import context
from app.auth.principal import SessionUser, current_principal, user_principal
from app.i18n import LANGUAGES, t
from store import users as store_users
from store.audit import record_event

MAX_FIELD_CHARS = 256
blueprint = Blueprint("heattwin_login", __name__)

_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t('login.title') }} — {{ t('app.title') }}</title>
<link rel="stylesheet" href="/assets/login.css"></head>
<body class="login-page">
<main class="login-card">
  <h1>{{ t('app.title') }}</h1>
  <h2>{{ t('login.title') }}</h2>
  {% if message %}<p class="login-message" role="alert" id="login-message">{{ message }}</p>{% endif %}
  <form method="post" action="/login?{{ query }}" id="login-form" autocomplete="on">
    <input type="hidden" name="csrf_token" value="{{ csrf }}">
    <label for="username">{{ t('login.username') }}</label>
    <input id="username" name="username" autocomplete="username" required maxlength="63" value="{{ username }}"
           autofocus>
    <label for="password">{{ t('login.password') }}</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required
           maxlength="256">
    <button type="submit" id="login-submit">{{ t('login.submit') }}</button>
  </form>
  <p class="login-lang"><a href="/login?{{ other_query }}">{{ t('label.language') }}</a></p>
</main></body></html>"""


def _lang() -> str:
    lang = request.args.get("lang")
    return lang if lang in LANGUAGES else context.settings().language


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://…``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _csrf_token() -> str:
    token = session.get("csrf_token")
    if not token:
        token = session["csrf_token"] = secrets.token_urlsafe(24)
    return token


def csrf_ok(form_token: str | None) -> bool:
    expected = session.get("csrf_token")
    return bool(expected and form_token and hmac.compare_digest(expected, form_token))


def _render(message: str = "", username: str = "", status: int = 200):
    lang = _lang()
    next_path = _safe_next(request.args.get("next"))
    other = "en" if lang == "zh-CN" else "zh-CN"
    html = render_template_string(
        _PAGE, lang=lang, t=lambda key: t(key, lang), message=message, username=username, csrf=_csrf_token(),
        query=_query(next_path, lang), other_query=_query(next_path, other))
    return html, status, {"Cache-Control": "no-store"}


def _query(next_path: str, lang: str) -> str:
    return urlencode({"next": next_path, "lang": lang})


def _refusal_message(result: store_users.LoginResult, lang: str) -> str:
    if result.reason == "locked" and result.locked_until is not None:
        until = result.locked_until.astimezone(UTC).astimezone(_zone())
        return t("login.locked", lang).format(until=f"{until:%H:%M}", n=store_users.MAX_FAILED_LOGINS)
    if result.reason == "disabled":
        return t("login.disabled", lang)
    if result.reason == "no_password":
        return t("login.sso_only", lang)
    return t("login.wrong", lang)


def _zone():
    return ZoneInfo(context.settings().timezone)


def complete_login(user: dict) -> None:
    """Start a session for ``user`` (already proven to be who they say): a fresh session id, so a
    session fixed before the login is not carried over."""
    session.clear()
    login_user(SessionUser(user_principal(user)))
    session.permanent = True
    session["login_at"] = time.time()


@blueprint.get("/login")
def login_form():
    message = t("login.expired", _lang()) if request.args.get("expired") else ""
    return _render(message)


@blueprint.post("/login")
def login_submit():
    lang = _lang()
    username = (request.form.get("username") or "")[:MAX_FIELD_CHARS]
    if not csrf_ok(request.form.get("csrf_token")):
        return _render(t("login.csrf", lang), username, 400)
    password = request.form.get("password") or ""
    if len(password) > store_users.MAX_PASSWORD_CHARS or len(request.form.get("username") or "") > 63:
        return _render(t("login.too_long", lang), "", 400)
    result = store_users.authenticate(context.pool(), username, password, client_addr=request.remote_addr or "")
    if result.user is None:
        return _render(_refusal_message(result, lang), username, 401)
    complete_login(result.user)
    return redirect(_safe_next(request.args.get("next")))


@blueprint.post("/logout")
def logout():
    principal = current_principal()
    if principal is not None and principal.kiosk is None and csrf_ok(request.form.get("csrf_token")):
        record_event(context.pool(), principal.actor(), "logout", object_type="user", object_id=principal.username,
                     detail="logged out")
        logout_user()
        session.clear()
    return redirect("/login")


def csrf_token() -> str:
    """The session's CSRF token, for forms Dash pages render (the log-out button)."""
    return _csrf_token()
