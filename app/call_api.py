"""``POST /api/v1/calls``: a softphone or CTI system reports a ringing call (bearer token per line, from
``heattwin token add LINE``). The body is ``{"phone": "13800000000", "seat": "agent-username",
"call_id": "CTI id", "at": "ISO time"}``; ``seat`` and ``call_id`` and ``at`` are optional. The answer is
stored at once; the agent's hotline page shows the caller's record on its next poll."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request

from app import context
from store.calls import add_call
from store.tokens import get_data_source

MAX_CALL_BODY = 4096


def _bearer() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def post_call():
    line = get_data_source(context.pool(), _bearer())
    if line is None:
        return jsonify({"error": "missing or invalid bearer token for this line (heattwin token add LINE)"}), 401
    if (request.content_length or 0) > MAX_CALL_BODY or not request.is_json:
        return jsonify({"error": f"send one call as a JSON object of at most {MAX_CALL_BODY} bytes"}), 400
    body = request.get_json(silent=True) or {}
    try:
        at = datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00")) if body.get("at") else None
        call = add_call(context.pool(), line=line, phone=str(body.get("phone", "")), seat=str(body.get("seat", ""))[:63],
                        received_at=at, external_id=str(body["call_id"])[:100] if body.get("call_id") else None)
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify({"call_id": call["id"], "household_id": call["household_id"], "incident_id": call["incident_id"]})


def mount(server) -> None:
    server.add_url_rule("/api/v1/calls", "heattwin_calls", post_call, methods=["POST"])
