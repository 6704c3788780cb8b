"""12345 tickets filed as work orders (origin ``platform_12345``), each in its own audited transaction,
so that a bad row is refused alone and the rest of a file still goes in.

A ticket finds its place by the address (the household there, or the community the address names)
or by the caller's phone; one that names neither a household nor a community of ours is refused
(field ``address``): the platform sent it to the wrong unit, or it needs an agent to file it by hand.
The ticket number is the key (``request_key`` ``12345:<ticket_no>``): sent again, it files nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from heattwin.settings import load_settings
from store.audit import Actor, audited
from store.platform_12345.tickets import Ticket, check_ticket
from store.rowfiles import FieldError, ImportResult, RowError, read_rows
from store.work_orders.core import insert_work_order

ORIGIN = "platform_12345"
FILE_PLATFORM = "12345"
# A deadline this close (or past) cannot start a clock: the order is filed on our own clocks and says so.
_DEADLINE_MARGIN = timedelta(minutes=1)
_SHORTHAND = re.compile(r"(\d+)\s*(?:号楼|栋|幢|号|-)\s*(\d+)\s*(?:单元|-)\s*(\d+)\s*(?:室|号)?$")


@dataclass(frozen=True)
class Place:
    """Where a ticket is filed: a household, else a community (its asset)."""

    household_id: str | None
    asset_id: str | None
    matched_by: str
    note: str = ""


def _community_in(conn, address: str) -> tuple[str, str] | None:
    """(id, name) of the community whose name the address holds (the longest name, if several)."""
    if not address:
        return None
    return conn.execute("SELECT id, name FROM asset WHERE kind = 'community' AND retired_at IS NULL"
                        " AND name <> '' AND strpos(%s, name) > 0 ORDER BY length(name) DESC, id LIMIT 1",
                        (address,)).fetchone()


def _address_forms(address: str, community: str) -> list[str]:
    """The ways our household table may write the address from the community's name on: as given, with
    室, and the platform's shorthand ``3-1-201`` as ``3号楼1单元201室``."""
    tail = address[address.index(community):]
    forms = [tail, tail + "室"]
    short = _SHORTHAND.search(tail[len(community):])
    if short:
        building, unit, flat = short.groups()
        forms.append(f"{community}{building}号楼{unit}单元{flat}室")
    return forms


def _household_at(conn, community_id: str, forms: list[str]) -> str | None:
    rows = conn.execute("SELECT id FROM household WHERE community_id = %s AND address = ANY(%s) ORDER BY id LIMIT 2",
                        (community_id, forms)).fetchall()
    return rows[0][0] if len(rows) == 1 else None


def _households_of_phone(conn, phone: str) -> list[tuple[str, str]]:
    if not phone:
        return []
    return conn.execute("SELECT id, community_id FROM household WHERE phone = %s ORDER BY id LIMIT 5",
                        (phone,)).fetchall()


def find_place(conn, ticket: Ticket) -> Place | None:
    """The household (or community) a ticket is about, or None."""
    address = re.sub(r"\s+", "", unicodedata.normalize("NFKC", ticket.address))
    community = _community_in(conn, address)
    if community is not None:
        household = _household_at(conn, community[0], _address_forms(address, community[1]))
        if household is not None:
            return Place(household, None, "address")
    by_phone = _households_of_phone(conn, ticket.caller_phone)
    if len(by_phone) == 1 and (community is None or by_phone[0][1] == community[0]):
        return Place(by_phone[0][0], None, "phone")
    if community is not None:
        note = "the caller's phone is of a household elsewhere" if by_phone else ""
        return Place(None, community[0], "community", note)
    if len(by_phone) == 1:
        return Place(by_phone[0][0], None, "phone")
    return None


def _description(ticket: Ticket) -> str:
    lines = [ticket.content, "", f"12345 工单 {ticket.ticket_no}"]
    for label, value in (("来电人", ticket.caller_name), ("联系电话", ticket.caller_phone), ("地址", ticket.address),
                         ("平台分类", ticket.category_hint)):
        if value:
            lines.append(f"{label}：{value}")
    return "\n".join(lines)[:4000]


def _platform_deadline(ticket: Ticket) -> tuple[datetime | None, str]:
    """The deadline the order's clocks may take (None: none, or already past) and a note when past."""
    if ticket.due_at is None:
        return None, ""
    if ticket.due_at <= datetime.now(UTC) + _DEADLINE_MARGIN:
        return None, f"the platform's deadline {ticket.due_at:%Y-%m-%d %H:%M %z} had passed when it arrived"
    return ticket.due_at, ""


_RECORD = (
    "INSERT INTO platform_ticket (ticket_no, platform, work_order_id, accepted_at, due_at, caller_name, caller_phone,"
    " address, content, category_hint, matched_by, source, raw)"
    " VALUES (%(ticket_no)s, %(platform)s, %(work_order_id)s, %(accepted_at)s, %(due_at)s, %(caller_name)s,"
    " %(caller_phone)s, %(address)s, %(content)s, %(category_hint)s, %(matched_by)s, %(source)s, %(raw)s)"
    " ON CONFLICT (ticket_no) DO NOTHING")


def _filed_before(pool: ConnectionPool, ticket_no: str) -> int | None:
    with pool.connection() as conn:
        row = conn.execute("SELECT work_order_id FROM platform_ticket WHERE ticket_no = %s", (ticket_no,)).fetchone()
    return None if row is None else row[0]


def _file(conn, ticket: Ticket, place: Place, *, actor: Actor, platform: str, source: str) -> tuple[int, bool, str]:
    deadline, late = _platform_deadline(ticket)
    remarks = "; ".join(n for n in (place.note, late) if n)
    note = "; ".join(n for n in (f"12345 {ticket.ticket_no} ({source})", remarks) if n)
    wo_id, new = insert_work_order(
        conn, title=ticket.title, actor=actor, category=ticket.category, origin=ORIGIN, priority=ticket.priority,
        household_id=place.household_id, asset_id=place.asset_id, description=_description(ticket), note=note,
        request_key=ticket.request_key, external_ref=ticket.ticket_no, external_due_at=deadline)
    conn.execute(_RECORD, {"ticket_no": ticket.ticket_no, "platform": platform, "work_order_id": wo_id,
                           "accepted_at": ticket.accepted_at, "due_at": ticket.due_at, "caller_name": ticket.caller_name,
                           "caller_phone": ticket.caller_phone, "address": ticket.address, "content": ticket.content,
                           "category_hint": ticket.category_hint, "matched_by": place.matched_by, "source": source,
                           "raw": Jsonb(ticket.raw)})
    return wo_id, new, remarks


def file_ticket(pool: ConnectionPool, ticket: Ticket, *, actor: Actor, platform: str, source: str) -> dict:
    """File one checked ticket as a work order (audited ``ticket.import``); a ticket filed before is left as
    it is. Returns ``ticket_no, work_order_id, new, matched_by, household_id, note`` (what the operator
    should know: a deadline already past, a phone of a household elsewhere); ``FieldError`` when it names
    no place of ours."""
    known = _filed_before(pool, ticket.ticket_no)
    if known is not None:
        return {"ticket_no": ticket.ticket_no, "work_order_id": known, "new": False, "matched_by": None,
                "household_id": None, "note": "filed before: nothing changed"}
    with audited(pool, actor, "ticket.import", "platform_ticket", ticket.ticket_no) as change:
        place = find_place(change.conn, ticket)
        if place is None:
            raise FieldError("address", f"{ticket.address or '(none)'} / phone {ticket.caller_phone or '(none)'}:"
                             " no household or community of ours; return it to the platform or file it by hand")
        wo_id, new, remarks = _file(change.conn, ticket, place, actor=actor, platform=platform, source=source)
        change.after = {"work_order_id": wo_id, "matched_by": place.matched_by, "household_id": place.household_id,
                        "asset_id": place.asset_id, "due_at": ticket.due_at, "source": source}
        # Sent twice at once: both passed the look-up above; the order's filing key lets one file it.
        change.detail = (f"12345 ticket filed as work order {wo_id}" if new else
                         f"12345 ticket sent again while it was being filed: work order {wo_id} is kept")
    return {"ticket_no": ticket.ticket_no, "work_order_id": wo_id, "new": new, "matched_by": place.matched_by,
            "household_id": place.household_id, "note": remarks}


def receive_rows(pool: ConnectionPool, rows, *, actor: Actor, platform: str, name: str) -> ImportResult:
    """Check and file every ``(row number, raw row)``; refused rows are listed with ``name``, row and field."""
    timezone = load_settings().timezone
    result = ImportResult(name)
    for row_no, raw in rows:
        try:
            ticket = check_ticket(raw, timezone=timezone)
            outcome = file_ticket(pool, ticket, actor=actor, platform=platform, source=f"{name} row {row_no}")
        except FieldError as exc:
            result.errors.append(RowError(name, row_no, exc.field, exc.message))
            continue
        except ValueError as exc:  # a rule of the work order itself (store.work_orders): "field: rule"
            field_name, _, message = str(exc).partition(": ")
            result.errors.append(RowError(name, row_no, field_name if message else "row", message or str(exc)))
            continue
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
            result.errors.append(RowError(name, row_no, "row", f"refused by the database: {exc.diag.message_primary}"))
            continue
        (result.added if outcome["new"] else result.unchanged).append(outcome)
    return result


def import_tickets(pool: ConnectionPool, path: Path, *, actor: Actor, platform: str = FILE_PLATFORM,
                   fmt: str | None = None) -> ImportResult:
    """File the tickets of a CSV or JSON file (``heattwin tickets import``); see ``receive_rows``."""
    return receive_rows(pool, read_rows(path, "tickets", fmt), actor=actor, platform=platform, name=Path(path).name)
