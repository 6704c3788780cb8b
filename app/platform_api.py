"""The city's 12345 platform over HTTP, with a bearer token of its own (no login):

- ``POST /api/v1/platform/12345/tickets`` — one ticket (a JSON object), a list of them, or
  ``{"tickets": [...]}``; fields as in ``store.platform_12345.tickets``. Each is filed on its own: the
  answer lists what was filed, what had been filed before (sent again: nothing changes) and each refused
  ticket with its position, field and rule. 200 unless every ticket was refused (422).
- ``GET /api/v1/platform/12345/replies`` — the handling result of its tickets in the reply format
  (``store.platform_12345.replies``); ``?since=`` (ISO 8601) only those changed since, ``?format=csv``.

The token is a data-source token (``store.tokens``) whose data source names a 12345 platform:
``heattwin token add 12345-<city>``. The path is public in ``app.auth.guard``: this module checks the token.
"""

from __future__ import annotations

import psycopg
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from psycopg_pool import PoolTimeout

from heattwin.settings import load_settings
from store.audit import Actor
from store.db import get_pool
from store.platform_12345 import list_replies, receive_rows, write_replies
from store.platform_12345.tickets import ALIASES
from store.rowfiles import FieldError, parse_time
from store.tokens import get_data_source

PLATFORM_PREFIX = "12345"
MAX_TICKETS_PER_POST = 500
_EXTENSION = "heattwin_platform_12345"

platform_api = Blueprint("heattwin_platform_12345", __name__)


def _error(status: int, message: str):
    return jsonify({"error": message}), status


def _platform() -> tuple[str | None, tuple | None]:
    """The platform the bearer token belongs to, or the refusal to answer with."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    pool = get_pool(current_app.extensions[_EXTENSION]["url"])
    source = get_data_source(pool, token.strip()) if scheme.lower() == "bearer" else None
    if source is None:
        return None, _error(401, "missing or invalid bearer token: send 'Authorization: Bearer <token>' "
                                 f"(create one with `heattwin token add {PLATFORM_PREFIX}-<city>`)")
    if not source.startswith(PLATFORM_PREFIX):
        return None, _error(403, f"the token of data source {source!r} is not a 12345 platform's: its data source "
                                 f"must start with {PLATFORM_PREFIX} (heattwin token add {PLATFORM_PREFIX}-<city>)")
    return source, None


def _tickets(body) -> list:
    if isinstance(body, dict) and isinstance(body.get("tickets"), list):
        return body["tickets"]
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        return body
    raise ValueError("send a ticket (a JSON object), a list of tickets, or {\"tickets\": [...]}")


def _ticket_no(raw) -> str | None:
    if not isinstance(raw, dict):
        return None
    return next((str(raw[k]) for k in ("ticket_no", *ALIASES["ticket_no"]) if raw.get(k)), None)


def _answer(result, tickets: list):
    refused = [{**e.as_dict(), "ticket_no": _ticket_no(tickets[e.row - 1])} for e in result.errors]
    body = {"received": len(tickets),
            "filed": [{k: t[k] for k in ("ticket_no", "work_order_id", "matched_by", "note")} for t in result.added],
            "unchanged": [{k: t[k] for k in ("ticket_no", "work_order_id")} for t in result.unchanged],
            "refused": refused}
    return jsonify(body), (422 if refused and len(refused) == len(tickets) else 200)


@platform_api.post("/api/v1/platform/12345/tickets")
def post_tickets():
    source, refusal = _platform()
    if refusal is not None:
        return refusal
    body = request.get_json(silent=True)
    if body is None:
        return _error(400, "the body is not JSON (Content-Type: application/json)")
    try:
        tickets = _tickets(body)
    except ValueError as exc:
        return _error(400, str(exc))
    if not 0 < len(tickets) <= MAX_TICKETS_PER_POST:
        return _error(400, f"tickets: 1 to {MAX_TICKETS_PER_POST} per request, not {len(tickets)}")
    actor = Actor(f"platform:{source}", role="platform", client_addr=request.remote_addr or "")
    pool = get_pool(current_app.extensions[_EXTENSION]["url"])
    result = receive_rows(pool, enumerate(tickets, start=1), actor=actor, platform=source, name="webhook")
    return _answer(result, tickets)


@platform_api.get("/api/v1/platform/12345/replies")
def get_replies():
    source, refusal = _platform()
    if refusal is not None:
        return refusal
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        return _error(400, f"format: {fmt!r} is not one of json, csv")
    try:
        since = parse_time(request.args.get("since"), "since", timezone=load_settings().timezone)
    except FieldError as exc:
        return _error(400, str(exc))
    pool = get_pool(current_app.extensions[_EXTENSION]["url"])
    text = write_replies(list_replies(pool, platform=source, since=since), fmt, platform=source)
    mimetype = "application/json" if fmt == "json" else "text/csv"
    return Response(text, content_type=f"{mimetype}; charset=utf-8")


@platform_api.errorhandler(psycopg.OperationalError)
@platform_api.errorhandler(PoolTimeout)
def database_unavailable(exc):
    return _error(503, f"database unavailable; send the same tickets again later: a ticket filed before changes "
                       f"nothing ({exc})")


def mount(server: Flask, url: str) -> None:
    """Register the platform's routes on ``server`` (the Dash app's Flask server), storing into ``url``."""
    server.extensions[_EXTENSION] = {"url": url}
    server.register_blueprint(platform_api)
