"""The crew's phone talks to these routes: ``POST /api/v1/field/actions`` applies the taps it queued
(each once, by its key), ``GET /photos/<order>/<sha256>`` serves a job's photo. Both need a login and
their action, checked by the request hook (``app.auth.guard.route``)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, jsonify, request

from app import context
from app.auth.guard import route
from app.auth.principal import current_principal
from store.work_orders.field import CrewAction, apply_crew_action, get_photo

MAX_ACTIONS_PER_POST = 50


def _tap(raw: dict, index: int) -> CrewAction:
    try:
        tapped = raw.get("tapped_at")
        return CrewAction(key=str(raw["key"]), work_order_id=int(raw["work_order_id"]), action=str(raw["action"]),
                          payload=dict(raw.get("payload") or {}),
                          tapped_at=datetime.fromisoformat(tapped.replace("Z", "+00:00")) if tapped else None)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"actions[{index}]: needs key, work_order_id, action (and payload, tapped_at): {exc}") from exc


@route("work_order.field")
def post_field_actions():
    """Apply a phone's queued taps in order; each answers on its own (one refused does not stop the rest)."""
    if not request.is_json:  # a cross-site form cannot send JSON: this is also the CSRF guard
        return jsonify({"error": "send the actions as JSON (Content-Type: application/json)"}), 415
    body = request.get_json(silent=True) or {}
    raw = body.get("actions")
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_ACTIONS_PER_POST:
        return jsonify({"error": f"actions: a list of 1 to {MAX_ACTIONS_PER_POST} taps"}), 400
    try:
        taps = [_tap(item, k) for k, item in enumerate(raw)]
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 400
    principal = current_principal()
    actor = principal.actor("work_order.field")
    results = [{"key": tap.key, **apply_crew_action(context.pool(), tap, actor=actor, crew_team=principal.team_id)}
               for tap in taps]
    return jsonify({"results": results})


@route("work_order.view")
def get_work_order_photo(wo_id: int, sha256: str):
    found = get_photo(context.pool(), wo_id, sha256)
    if found is None:
        abort(404)
    content, mime = found
    return Response(content, mimetype=mime, headers={"Cache-Control": "private, max-age=86400"})


def mount(server) -> None:
    server.add_url_rule("/api/v1/field/actions", "heattwin_field_actions", post_field_actions, methods=["POST"])
    server.add_url_rule("/photos/<int:wo_id>/<sha256>", "heattwin_photo", get_work_order_photo)
