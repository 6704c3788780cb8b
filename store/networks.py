"""A network import's companions: its design settings and source CRS, and the alarms it ends.

``replace_network`` (``store.assets``) calls ``write_design`` and ``close_vanished_alarms`` inside its
own transaction, so a network, its settings and the closing of its vanished elements' alarms are
stored together or not at all.
"""

from __future__ import annotations

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

IMPORT_ACTOR = "import"


def write_design(conn, version: int, design: dict | None, source_crs: str | None = None,
                 mapping_path: str | None = None) -> None:
    """The settings (``DesignSettings.to_dict()``) of network ``version``; nothing when None."""
    if design is None:
        return
    conn.execute("INSERT INTO network_design (network_version, settings, source_crs, mapping_path)"
                 " VALUES (%s, %s, %s, %s)", (version, Jsonb(design), source_crs, mapping_path))


def get_design(pool: ConnectionPool) -> dict | None:
    """The current network's design settings and CRS: ``{"settings", "source_crs", "mapping_path",
    "network_version"}``, or None when the current import stored none."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT d.settings, d.source_crs, d.mapping_path, d.network_version FROM network_design d"
            " WHERE d.network_version = (SELECT max(id) FROM network_version)").fetchone()
    if row is None:
        return None
    return dict(zip(("settings", "source_crs", "mapping_path", "network_version"), row, strict=True))


def close_vanished_alarms(conn, version: int, source_path: str) -> int:
    """Clear the open alarms of elements the import of ``version`` no longer has (retired or gone),
    each with an event naming the import; returns how many. Runs inside the import's transaction,
    after the elements were retired (``asset.retired_at`` set)."""
    note = f"element no longer in the network: import #{version} of {source_path} replaced it"
    closed = conn.execute(
        "UPDATE alarm SET state = 'cleared', cleared_at = now(), cleared_by = %s, clear_note = %s"
        " WHERE state <> 'cleared' AND asset_id IN (SELECT id FROM asset WHERE retired_at IS NOT NULL)"
        " RETURNING id", (f"{IMPORT_ACTOR}:{version}", note)).fetchall()
    ids = [r[0] for r in closed]
    if ids:
        with conn.cursor().copy("COPY alarm_event (alarm_id, actor, action, note) FROM STDIN") as copy:
            for alarm_id in ids:
                copy.write_row((alarm_id, f"{IMPORT_ACTOR}:{version}", "cleared", note))
    return len(ids)
