"""The crew's phone: accept, arrive, pause, resume, resolve, photos and positions, each applied exactly once.

A phone without signal keeps its taps and sends them later, perhaps twice; every tap carries a key
(``crew_action.key``), and a key already seen returns the result it had the first time without doing
anything again. A tap that is refused (another team's order, a move the lifecycle does not allow) is
kept under its key with its error, and audited as refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from store.audit import Actor, audited, record_event
from store.db import transaction
from store.work_orders.lifecycle import check_crew_team, check_note, locked_order, move_on
from store.work_orders.sla import set_revisit_due_on, shift_clocks_on

FIELD_ACTIONS = ("accept", "arrive", "pause", "resume", "resolve", "photo", "position")
MAX_PHOTO_BYTES = 5 << 20
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
_RESOLUTION_FIELDS = {"cause": 200, "action": 500, "materials": 500, "notes": 2000}
MAX_EVENT_NOTE = 1000


@dataclass(frozen=True)
class CrewAction:
    key: str
    work_order_id: int
    action: str
    payload: dict
    tapped_at: datetime | None = None


class _Replayed(Exception):
    """The key was taken by a concurrent send of the same tap: undo this one's writes."""


def photo_mime(content: bytes) -> str:
    """The type of an uploaded photo from its first bytes (JPEG or PNG only), or a clear error."""
    if not content:
        raise ValueError("photo: the file is empty")
    if len(content) > MAX_PHOTO_BYTES:
        raise ValueError(f"photo: at most {MAX_PHOTO_BYTES >> 20} MB (got {len(content) / 2 ** 20:.1f} MB)")
    for magic, mime in _MAGIC.items():
        if content.startswith(magic):
            return mime
    raise ValueError("photo: only JPEG or PNG pictures are accepted")


def add_photo_on(conn, wo_id: int, content: bytes, *, actor: Actor) -> str:
    """Keep a photo of the job (once per content hash); returns its SHA-256."""
    mime = photo_mime(content)
    digest = hashlib.sha256(content).hexdigest()
    conn.execute("INSERT INTO work_order_photo (work_order_id, sha256, mime, size_bytes, content, uploaded_by)"
                 " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (work_order_id, sha256) DO NOTHING",
                 (wo_id, digest, mime, len(content), content, actor.username))
    return digest


def _decode_photo(payload: dict) -> bytes:
    data = str(payload.get("data") or "")
    if "," in data and data.startswith("data:"):
        data = data.split(",", 1)[1]
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("photo: the picture did not arrive whole (not base64)") from exc


def _resolution(payload: dict) -> dict:
    resolution = {}
    for name, limit in _RESOLUTION_FIELDS.items():
        value = str(payload.get(name) or "").strip()
        if len(value) > limit:
            raise ValueError(f"{name}: at most {limit} characters (got {len(value)})")
        resolution[name] = value
    if not resolution["cause"] or not resolution["action"]:
        raise ValueError("cause and action: say what was wrong and what was done")
    resolution["resident_confirmed"] = bool(payload.get("resident_confirmed"))
    return resolution


def _position(payload: dict) -> tuple[float | None, float | None]:
    lon, lat = payload.get("lon"), payload.get("lat")
    if lon is None or lat is None:
        return None, None
    lon, lat = float(lon), float(lat)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"position: ({lon}, {lat}) is not a longitude/latitude")
    return lon, lat


def _report_position(conn, team_id: str, lon, lat, at) -> None:
    if lon is not None:
        conn.execute("UPDATE team SET last_lon = %s, last_lat = %s, last_seen_at = coalesce(%s, now())"
                     " WHERE id = %s", (lon, lat, at, team_id))


def _apply_on(conn, tap: CrewAction, actor: Actor, crew_team: str) -> dict:
    """Do what the tap says on ``conn``; returns what the phone is told."""
    order = locked_order(conn, tap.work_order_id)
    check_crew_team(order, crew_team)
    payload, at = tap.payload, tap.tapped_at
    lon, lat = _position(payload)
    if tap.action == "accept":
        move_on(conn, order["id"], "accepted", actor=actor, at=at, note=check_note(payload.get("note", "")))
    elif tap.action == "arrive":
        move_on(conn, order["id"], "on_site", actor=actor, at=at, site_lon=lon, site_lat=lat,
                details={"lon": lon, "lat": lat})
    elif tap.action == "resolve":
        resolution = _resolution(payload)
        move_on(conn, order["id"], "resolved", actor=actor, at=at, resolution=resolution,
                note=resolution["notes"][:MAX_EVENT_NOTE], details=resolution)
        set_revisit_due_on(conn, order["id"], at or conn.execute("SELECT now()").fetchone()[0])
    elif tap.action == "photo":
        return {"ok": True, "sha256": add_photo_on(conn, order["id"], _decode_photo(payload), actor=actor)}
    elif tap.action in ("pause", "resume"):
        _pause_on(conn, order, tap.action, actor, at, check_note(payload.get("note", "")))
    _report_position(conn, crew_team, lon, lat, at)
    return {"ok": True, "state": conn.execute("SELECT state::text FROM work_order WHERE id = %s",
                                              (order["id"],)).fetchone()[0]}


def _pause_on(conn, order: dict, action: str, actor: Actor, at, note: str) -> None:
    """Waiting for the resident stops every running clock; resuming moves their due times on by the wait."""
    if action == "pause":
        if order["paused_at"] is not None:
            raise ValueError(f"work order #{order['id']} is paused already")
        conn.execute("UPDATE work_order SET paused_at = coalesce(%s, now()) WHERE id = %s", (at, order["id"]))
    else:
        if order["paused_at"] is None:
            raise ValueError(f"work order #{order['id']} is not paused")
        shift_clocks_on(conn, order["id"], resumed_at=at)
    conn.execute("INSERT INTO work_order_event (work_order_id, actor, from_state, to_state, note, details, at)"
                 " VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()))",
                 (order["id"], actor.username, order["state"], order["state"], note or action,
                  Jsonb({"clock": action}), at))


def _stored_result(pool: ConnectionPool, key: str) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute("SELECT result FROM crew_action WHERE key = %s", (key,)).fetchone()
    return None if row is None else {**row[0], "replayed": True}


def apply_crew_action(pool: ConnectionPool, tap: CrewAction, *, actor: Actor, crew_team: str | None) -> dict:
    """Apply one tap once: its change, its key and its audit row commit together."""
    if tap.action not in FIELD_ACTIONS:
        raise ValueError(f"action: {tap.action!r} is not one of {', '.join(FIELD_ACTIONS)}")
    stored = _stored_result(pool, tap.key)
    if stored is not None:
        return stored
    try:
        with audited(pool, actor, "work_order.field", "work_order", tap.work_order_id) as change:
            if change.conn.execute("INSERT INTO crew_action (key, work_order_id, action, username, tapped_at)"
                                   " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING key",
                                   (tap.key, tap.work_order_id, tap.action, actor.username,
                                    tap.tapped_at)).fetchone() is None:
                raise _Replayed
            result = _apply_on(change.conn, tap, actor, crew_team)
            change.conn.execute("UPDATE crew_action SET result = %s WHERE key = %s", (Jsonb(result), tap.key))
            change.detail, change.after = tap.action, {"key": tap.key, **result}
        return result
    except _Replayed:
        return _stored_result(pool, tap.key)
    except (ValueError, PermissionError) as exc:
        return _refused(pool, tap, actor, str(exc))


def _refused(pool: ConnectionPool, tap: CrewAction, actor: Actor, error: str) -> dict:
    result = {"ok": False, "error": error}
    with transaction(pool) as conn:
        conn.execute("INSERT INTO crew_action (key, work_order_id, action, username, tapped_at, result)"
                     " SELECT %s, %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM work_order WHERE id = %s)"
                     " ON CONFLICT (key) DO NOTHING",
                     (tap.key, tap.work_order_id, tap.action, actor.username, tap.tapped_at, Jsonb(result),
                      tap.work_order_id))
    record_event(pool, actor, "work_order.field", outcome="refused", object_type="work_order",
                 object_id=tap.work_order_id, detail=f"{tap.action}: {error}")
    return result


def list_crew_orders(pool: ConnectionPool, team_id: str) -> pd.DataFrame:
    """The team's orders a crew still has to do (or just did), soonest due first."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT w.id, w.title, w.category::text, w.priority::text, w.state::text, w.description,"
            " coalesce(w.lon, a.lon), coalesce(w.lat, a.lat), h.address, h.name, h.phone, w.created_at,"
            " w.site_due_at, w.sla_due_at, w.paused_at, w.reopen_count, w.resolved_at"
            " FROM work_order w LEFT JOIN asset a ON a.id = w.asset_id LEFT JOIN household h ON h.id = w.household_id"
            " WHERE w.team_id = %s AND (w.state IN ('dispatched', 'accepted', 'on_site', 'reopened')"
            "   OR (w.state = 'resolved' AND w.resolved_at > now() - interval '12 hours'))"
            " ORDER BY w.state = 'resolved', coalesce(w.site_due_at, w.sla_due_at) NULLS LAST, w.id",
            (team_id,)).fetchall()
    return pd.DataFrame(rows, columns=["id", "title", "category", "priority", "state", "description", "lon", "lat",
                                       "address", "resident", "phone", "created_at", "site_due_at", "sla_due_at",
                                       "paused_at", "reopen_count", "resolved_at"])


def list_photos(pool: ConnectionPool, wo_id: int) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute("SELECT sha256, mime, size_bytes, uploaded_by, uploaded_at FROM work_order_photo"
                            " WHERE work_order_id = %s ORDER BY uploaded_at", (wo_id,)).fetchall()
    return pd.DataFrame(rows, columns=["sha256", "mime", "size_bytes", "uploaded_by", "uploaded_at"])


def list_photo_hashes(pool: ConnectionPool, wo_ids) -> dict[int, list[str]]:
    """The photos' hashes of several orders at once (the wall's panel shows them beside each order)."""
    with pool.connection() as conn:
        rows = conn.execute("SELECT work_order_id, sha256 FROM work_order_photo WHERE work_order_id = ANY(%s)"
                            " ORDER BY uploaded_at", ([int(i) for i in wo_ids],)).fetchall()
    found: dict[int, list[str]] = {}
    for wo_id, digest in rows:
        found.setdefault(wo_id, []).append(digest)
    return found


def get_photo(pool: ConnectionPool, wo_id: int, sha256: str) -> tuple[bytes, str] | None:
    with pool.connection() as conn:
        row = conn.execute("SELECT content, mime FROM work_order_photo WHERE work_order_id = %s AND sha256 = %s",
                           (wo_id, sha256)).fetchone()
    return None if row is None else (bytes(row[0]), row[1])
