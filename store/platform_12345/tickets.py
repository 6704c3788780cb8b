"""A 12345 ticket as the platform hands it over (a CSV or JSON row, or the webhook's body), checked.

Fields (English key or the platform's Chinese column name):

=============  ==========================  ===================================================
field          also                        rule
=============  ==========================  ===================================================
ticket_no      工单编号, 工单号            required; letters, digits, ``-_./``; at most 64
content        诉求内容, 工单内容, 内容    required; at most 4000 characters
caller_phone   联系电话, 来电号码          digits (``+86``, spaces and dashes dropped), 7–15
address        诉求地址, 事发地址, 地址    at most 200; phone or address is required
caller_name    来电人, 诉求人, 联系人      at most 50
title          诉求标题, 标题              default: the content's first 60 characters
category       问题分类, 诉求分类          a WORK_ORDER_CATEGORY value or the platform's words
priority       紧急程度                    紧急/特急/加急, 一般/普通, 低 (or urgent/normal/low)
accepted_at    受理时间, 来电时间          when the platform took the call
due_at         办理时限, 截止时间          the platform's deadline; after accepted_at
=============  ==========================  ===================================================

Times are ISO 8601, ``2026-12-01 08:30`` or ``2026/12/01 08:30`` (``HEATTWIN_TIMEZONE`` unless they say);
other columns are kept with the ticket, unread.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from heattwin.choices import (
    PLATFORM_12345_CATEGORY_WORDS,
    PLATFORM_12345_PRIORITY_WORDS,
    work_order_category_values,
    work_order_priority_values,
)
from store.rowfiles import FieldError, parse_time

ALIASES = {
    "ticket_no": ("工单编号", "工单号", "ticket_id"), "content": ("诉求内容", "工单内容", "内容", "text"),
    "caller_phone": ("联系电话", "来电号码", "诉求人电话", "phone"), "address": ("诉求地址", "事发地址", "地址"),
    "caller_name": ("来电人", "诉求人", "联系人", "name"), "title": ("诉求标题", "标题"),
    "category": ("问题分类", "诉求分类", "分类"), "priority": ("紧急程度",),
    "accepted_at": ("受理时间", "来电时间"), "due_at": ("办理时限", "截止时间", "deadline"),
}
_FIELD_OF = {alias: name for name, aliases in ALIASES.items() for alias in (name, *aliases)}
_TICKET_NO = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-./]{0,63}$")
MAX_CONTENT_CHARS = 4000
TITLE_CHARS = 60


@dataclass(frozen=True)
class Ticket:
    ticket_no: str
    content: str
    title: str
    caller_name: str
    caller_phone: str
    address: str
    category: str
    category_hint: str
    priority: str
    accepted_at: datetime | None
    due_at: datetime | None
    raw: dict

    @property
    def request_key(self) -> str:
        """The filing key of its work order: the same ticket sent again files nothing."""
        return f"12345:{self.ticket_no}"


def _text(row: dict, name: str, limit: int) -> str:
    value = row.get(name)
    text = "" if value is None else unicodedata.normalize("NFKC", str(value)).strip()
    if len(text) > limit:
        raise FieldError(name, f"at most {limit} characters (got {len(text)})")
    return text


def normalize_phone(value: str) -> str:
    """Digits only, without the country code: ``+86 138-0000-0000`` → ``13800000000``."""
    digits = re.sub(r"\D", "", value or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits


def _phone(row: dict) -> str:
    raw = _text(row, "caller_phone", 40)
    phone = normalize_phone(raw)
    if raw and not 7 <= len(phone) <= 15:
        raise FieldError("caller_phone", f"{raw!r} is not a phone number (7 to 15 digits)")
    return phone


def guess_category(hint: str, content: str) -> str:
    """Our category for the platform's hint (a value of ours, or its words), else for the ticket's text."""
    if hint in work_order_category_values:
        return hint
    for text in (hint, content):
        for word, category in PLATFORM_12345_CATEGORY_WORDS:
            if word in text:
                return category
    return "other"


def _priority(row: dict) -> str:
    word = _text(row, "priority", 20)
    if word in work_order_priority_values:
        return word
    if word in PLATFORM_12345_PRIORITY_WORDS or not word:
        return PLATFORM_12345_PRIORITY_WORDS.get(word, "normal")
    allowed = ", ".join((*PLATFORM_12345_PRIORITY_WORDS, *work_order_priority_values))
    raise FieldError("priority", f"{word!r} is not one of {allowed}")


def _fields(raw) -> dict:
    if not isinstance(raw, dict):
        raise FieldError("row", f"expected a ticket's fields (ticket_no, content, …), got {type(raw).__name__}")
    return {_FIELD_OF.get(str(k).strip(), str(k).strip()): v for k, v in raw.items()}


def _ticket_no(row: dict) -> str:
    number = _text(row, "ticket_no", 64)
    if not number:
        raise FieldError("ticket_no", "required, and empty: the platform's ticket number (工单编号)")
    if not _TICKET_NO.match(number):
        raise FieldError("ticket_no", f"{number!r}: letters, digits and - _ . / only")
    return number


def _times(row: dict, timezone: str) -> tuple[datetime | None, datetime | None]:
    accepted = parse_time(row.get("accepted_at"), "accepted_at", timezone=timezone)
    due = parse_time(row.get("due_at"), "due_at", timezone=timezone)
    if accepted is not None and due is not None and due <= accepted:
        raise FieldError("due_at", f"{due:%Y-%m-%d %H:%M} is not after accepted_at {accepted:%Y-%m-%d %H:%M}")
    return accepted, due


def check_ticket(raw, *, timezone: str) -> Ticket:
    """The ticket of one row, checked; ``FieldError`` names the field that broke a rule."""
    row = _fields(raw)
    number, content = _ticket_no(row), _text(row, "content", MAX_CONTENT_CHARS)
    if not content:
        raise FieldError("content", "required, and empty: what the caller asked (诉求内容)")
    phone, address = _phone(row), _text(row, "address", 200)
    if not phone and not address:
        raise FieldError("caller_phone", "a ticket needs caller_phone or address to find the household")
    accepted, due = _times(row, timezone)
    hint = _text(row, "category", 40)
    title = _text(row, "title", 200) or content[:TITLE_CHARS]
    return Ticket(ticket_no=number, content=content, title=title, caller_name=_text(row, "caller_name", 50),
                  caller_phone=phone, address=address, category=guess_category(hint, content), category_hint=hint,
                  priority=_priority(row), accepted_at=accepted, due_at=due,
                  raw={str(k): (v if isinstance(v, str | int | float | bool) or v is None else str(v))
                       for k, v in raw.items()})
