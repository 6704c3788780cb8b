"""The outbox: every SMS and app push to a crew is a row here first, in the transaction of the change that
caused it, and a gateway drains it (``drain_outbox``). A real SMS or push gateway plugs in as any object
with ``send(channel, recipient, body)``."""

from __future__ import annotations

from typing import Protocol

import pandas as pd
from psycopg_pool import ConnectionPool

from store.db import transaction

OUTBOX_COLUMNS = ("id", "created_at", "channel", "recipient", "team_id", "work_order_id", "body", "sent_at",
                  "attempts", "last_error")
MAX_ATTEMPTS = 5


class Gateway(Protocol):
    def send(self, channel: str, recipient: str, body: str) -> None:
        """Deliver one message; raise to have it tried again later."""


def notify_team(conn, team_id: str, wo_id: int | None, body: str) -> int:
    """Queue a message to a team: an SMS to its duty phone and a push to each of its active members."""
    rows = conn.execute(
        "INSERT INTO notification_outbox (channel, recipient, team_id, work_order_id, body)"
        " SELECT 'sms', phone, id, %s, %s FROM team WHERE id = %s AND phone <> ''"
        " UNION ALL SELECT 'push', username, team_id, %s, %s FROM app_user"
        " WHERE team_id = %s AND disabled_at IS NULL AND 'crew' = ANY(roles) RETURNING id",
        (wo_id, body, team_id, wo_id, body, team_id)).fetchall()
    return len(rows)


def list_outbox(pool: ConnectionPool, *, pending_only: bool = False, limit: int = 100) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, created_at, channel, recipient, team_id, work_order_id, body, sent_at, attempts, last_error"
            " FROM notification_outbox WHERE (NOT %s OR sent_at IS NULL) ORDER BY id DESC LIMIT %s",
            (pending_only, limit)).fetchall()
    return pd.DataFrame(rows, columns=list(OUTBOX_COLUMNS))


def drain_outbox(pool: ConnectionPool, gateway: Gateway, *, limit: int = 100) -> dict[str, int]:
    """Send what is pending through ``gateway``; several drainers may run (rows are claimed with SKIP LOCKED)."""
    counts = {"sent": 0, "failed": 0}
    with transaction(pool) as conn:
        rows = conn.execute(
            "SELECT id, channel, recipient, body FROM notification_outbox WHERE sent_at IS NULL AND attempts < %s"
            " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (MAX_ATTEMPTS, limit)).fetchall()
        for outbox_id, channel, recipient, body in rows:
            try:
                gateway.send(channel, recipient, body)
            except Exception as exc:  # any gateway failure: count it, keep the message for the next drain
                conn.execute("UPDATE notification_outbox SET attempts = attempts + 1, last_error = %s WHERE id = %s",
                             (str(exc)[:500], outbox_id))
                counts["failed"] += 1
                continue
            conn.execute("UPDATE notification_outbox SET attempts = attempts + 1, sent_at = now(), last_error = NULL"
                         " WHERE id = %s", (outbox_id,))
            counts["sent"] += 1
    return counts
