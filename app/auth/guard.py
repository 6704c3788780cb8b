"""The server-side check in front of every request: who asks, and may they.

One ``before_request`` hook decides for the whole app. Pages and Dash's own files need a login (or a
kiosk); a Dash callback request is looked up in the app's callback map and allowed only when the
callback's declared action (``requires``) is allowed to the principal. A callback without a
declaration is refused for everyone: nothing new can write by forgetting its permission.
Refusals are answered 401/403 with a message the page shows (``assets/auth.js``) and are audited; people
read the action's label (``action_label``), the audit row keeps its key.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import urlencode

from flask import g, jsonify, redirect, request, session
from flask_login import logout_user

from app import context
from app.auth.principal import Principal, current_principal
from app.i18n import t
from heattwin.permissions import ACTIONS, is_write
from store.audit import Actor
from store.audit import record_event as audit_event

DASH_UPDATE = "/_dash-update-component"
# Dash's own pages router; what each page shows is checked by the page's layout (``page``).
ROUTER_OUTPUT = "_pages_content.children"
ROUTER_ACTION = "page.route"
# The ingest and call APIs authenticate with their own bearer tokens (one per data source or phone line).
_PUBLIC_PREFIXES = ("/login", "/_dash-component-suites/", "/assets/", "/_favicon.ico", "/api/v1/readings",
                    "/api/v1/calls", "/api/v1/platform/12345/", "/healthz")
_PROTECTED_ASSETS = "/assets/drawings/"


def action_label(action: str, lang: str) -> str:
    """What ``action`` (a key of ``ACTIONS``, or ``login``/``logout``) is called in ``lang``; the key itself
    when it has no label."""
    key = f"action.{action}"
    label = t(key, lang)
    return action if label == key else label


def requires(action: str):
    """Declare the action a Dash callback performs; put it under ``@callback``. The request hook checks
    it before Dash runs the callback; the check here is the second lock on the same door."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}: declare it in heattwin.permissions.ACTIONS")

    def decorate(func):
        @functools.wraps(func)
        def guarded(*args, **kwargs):
            principal = current_principal()
            if principal is None or not principal.can(action):
                raise PermissionError(f"{action} is not allowed to {principal.username if principal else 'anonymous'}")
            return func(*args, **kwargs)

        guarded.heattwin_action = action
        return guarded

    return decorate


def actor(action: str) -> Actor:
    """The current principal as the author of ``action`` (inside a callback that ``requires`` it)."""
    principal = current_principal()
    if principal is None:
        raise PermissionError("no principal in this request")
    return principal.actor(action)


def route(action: str):
    """Declare the action a Flask view performs (``@server.route`` above it); the request hook checks it."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}: declare it in heattwin.permissions.ACTIONS")

    def decorate(view):
        view.heattwin_action = action
        return view

    return decorate


def route_action(server) -> str | None:
    """The action the view this request goes to declared, if any."""
    view = server.view_functions.get(request.endpoint or "")
    return getattr(view, "heattwin_action", None)


def page(action: str):
    """Declare what a page's layout needs; a principal without it gets a refusal page instead."""
    def decorate(layout):
        @functools.wraps(layout)
        def guarded(*args, **kwargs):
            principal = current_principal()
            if principal is not None and principal.can(action):
                return layout(*args, **kwargs)
            return _refusal_page(principal, action, kwargs.get("lang"))

        guarded.heattwin_action = action
        return guarded

    return decorate


def _refusal_page(principal: Principal | None, action: str, lang: str | None):
    from dash import html

    lang = lang or context.settings().language
    if principal is not None:
        audit_event(context.pool(), principal.actor(action), action, outcome="refused", object_type="page",
                    detail="page refused")
    return html.Div(className="page-refused", **{"data-refused": action}, children=[
        html.H2(t("auth.page_refused", lang)),
        html.P(t("auth.refused_detail", lang).format(action=action_label(action, lang))),
        html.A(t("auth.back_to_wall", lang), href="/")])


def callback_action(dash_app, body: dict | None) -> str | None:
    """The action the callback of a Dash request body declared (None: undeclared or unknown)."""
    output = (body or {}).get("output")
    entry = dash_app.callback_map.get(output) if isinstance(output, str) else None
    if entry is None:
        return None
    action = getattr(entry.get("callback"), "heattwin_action", None)
    if action is None and output.startswith(".." + ROUTER_OUTPUT):
        return ROUTER_ACTION
    return action


def _messages(key: str, action: str) -> dict:
    return {lang: t(key, lang).format(action=action_label(action, lang)) for lang in ("zh-CN", "en")}


def _refuse(status: int, key: str, principal: Principal | None, action: str, object_id: str = ""):
    messages = _messages(key, action)
    who = principal.actor(action) if principal else Actor("", client_addr=request.remote_addr or "")
    if principal is not None or is_write(action):
        # The row keeps the action's key (the audit page shows it in the reader's language).
        audit_event(context.pool(), who, action, outcome="refused", object_type="request",
                    object_id=object_id[:200], detail=t(key, "en").format(action=action))
    return jsonify({"error": messages["en"], "messages": messages, "action": action, "refused": True,
                    "login": status == 401}), status


def _is_public(path: str) -> bool:
    return path.startswith(_PUBLIC_PREFIXES) and not path.startswith(_PROTECTED_ASSETS)


def _login_redirect(expired: bool = False):
    query = {"next": request.full_path.rstrip("?")}
    if expired:
        query["expired"] = "1"
    return redirect("/login?" + urlencode(query))


def _session_expired() -> bool:
    started = session.get("login_at")
    hours = context.settings().session_hours
    return started is None or time.time() - float(started) > hours * 3600.0


def check_request(dash_app):
    """The ``before_request`` hook: returns a refusal response, or None to let the request through."""
    if _is_public(request.path):
        return None
    started = time.perf_counter()
    try:
        return _check(dash_app, request.path)
    finally:
        g.auth_ms = (time.perf_counter() - started) * 1000.0


def _check(dash_app, path: str):
    principal = current_principal()
    if principal is not None and principal.kiosk is None and _session_expired():
        logout_user()
        session.clear()
        principal, expired = None, True
    else:
        expired = False
    if path == DASH_UPDATE:
        return _check_callback(dash_app, principal, expired)
    action = route_action(dash_app.server)
    if principal is None:
        if request.method == "GET" and not path.startswith(("/_dash", "/api/")):
            return _login_redirect(expired)
        return _refuse(401, "auth.expired" if expired else "auth.login_needed", None, action or "page.view", path)
    if path.startswith(("/drawings/", _PROTECTED_ASSETS)) and not principal.can("drawing.view"):
        return _refuse(403, "auth.refused", principal, "drawing.view", path)
    if action is not None and not principal.can(action):
        return _refuse(403, "auth.refused", principal, action, path)
    return None


def _check_callback(dash_app, principal: Principal | None, expired: bool):
    body = request.get_json(silent=True)
    action = callback_action(dash_app, body)
    output = str((body or {}).get("output", ""))
    if principal is None:
        return _refuse(401, "auth.expired" if expired else "auth.login_needed", None, action or "page.view", output)
    if action is None:
        return _refuse(403, "auth.undeclared", principal, "page.view", output)
    if action != ROUTER_ACTION and not principal.can(action):
        return _refuse(403, "auth.refused", principal, action, output)
    g.heattwin_action = action
    return None


def server_timing(response):
    """``after_request``: how long the check took, as ``Server-Timing: auth;dur=…`` (ms), for the bench."""
    auth_ms = g.get("auth_ms")
    if auth_ms is not None:
        response.headers.add("Server-Timing", f"auth;dur={auth_ms:.3f}")
    return response
