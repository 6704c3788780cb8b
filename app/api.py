"""HTTP ingest: ``POST /api/v1/readings`` with a bearer token per data source.

Mounted on the Dash app's Flask server (``mount``) or served on its own (``create_ingest_app``,
``heattwin ingest-server``). The body is a JSON array of readings
``{"sensor_id"|"s", "time"|"t" (ISO 8601 or epoch seconds), "value"|"v"}`` or JSON lines
(``Content-Type: application/x-ndjson``). Every reading goes through ``store.telemetry.ingest_rows``
with origin ``http:<data source>``; the answer counts what was stored, already stored and refused.
"""

from __future__ import annotations

import psycopg
from flask import Blueprint, Flask, current_app, jsonify, request
from psycopg_pool import PoolTimeout

from store.db import get_pool
from store.telemetry import ingest_rows, reject_payload
from store.telemetry.payload import PayloadError, parse_http_body
from store.tokens import get_data_source

MAX_BODY_BYTES = 32 << 20
_EXTENSION = "heattwin_ingest"

api = Blueprint("heattwin_api", __name__)


def _state() -> dict:
    return current_app.extensions[_EXTENSION]


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _error(status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), status


@api.post("/api/v1/readings")
def post_readings():
    state = _state()
    pool = get_pool(state["url"])
    # Looked up on every request (one indexed query): a revoked token stops working at once.
    source = get_data_source(pool, _bearer_token())
    if source is None:
        return _error(401, "missing or invalid bearer token: send 'Authorization: Bearer <token>' "
                           "(create one with `heattwin token add DATA_SOURCE`)")
    origin = f"http:{source}"
    body = request.get_data(cache=False)
    if not body.strip():
        return _error(400, "empty body: send a JSON array of readings or JSON lines")
    try:
        rows = parse_http_body(body, request.content_type or "")
    except PayloadError as exc:
        # Kept for the operator to inspect; nothing of it was stored.
        result = reject_payload(pool, origin=origin, reason="payload_unparseable",
                                raw=body.decode("utf-8", errors="replace"))
        return _error(400, str(exc), **result.as_dict())
    result = ingest_rows(pool, rows, origin)
    return jsonify(result.as_dict()), 200


@api.errorhandler(psycopg.OperationalError)
@api.errorhandler(PoolTimeout)
def database_unavailable(exc):
    # Nothing of the batch was stored (one transaction): the sender should simply send it again.
    return _error(503, f"database unavailable, nothing was stored; retry the same batch later ({exc})")


def mount(server: Flask, url: str) -> None:
    """Register the ingest API on ``server`` (the Dash app's Flask server), storing into ``url``."""
    server.extensions[_EXTENSION] = {"url": url}
    server.config.setdefault("MAX_CONTENT_LENGTH", MAX_BODY_BYTES)
    server.register_blueprint(api)


def create_ingest_app(url: str) -> Flask:
    """A Flask app serving only the ingest API (``heattwin ingest-server``)."""
    server = Flask("heattwin_ingest")
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    mount(server, url)
    return server
