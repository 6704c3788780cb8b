"""The network's elements (``asset``, ``sensor``) and the offline basemap.

A newer import replaces the network in one transaction: elements keep their ids (and with them
records, telemetry and work orders); an element that disappeared is retired when something still
refers to it, and deleted otherwise.
"""

from __future__ import annotations

import pandas as pd
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from store import networks
from store.db import transaction

_ASSET_COLUMNS = ("id", "kind", "name", "geometry", "lon", "lat", "attrs")

_REFERENCES_TO_ASSET = """
SELECT cl.relname, att.attname
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
WHERE con.contype = 'f' AND con.confrelid = 'asset'::regclass
"""


def _copy_assets(conn, assets: pd.DataFrame) -> None:
    conn.execute("CREATE TEMP TABLE asset_stage (LIKE asset INCLUDING DEFAULTS, PRIMARY KEY (id)) ON COMMIT DROP")
    with conn.cursor().copy(
        "COPY asset_stage (id, kind, name, geometry, lon, lat, attrs, network_version) FROM STDIN"
    ) as copy:
        for row in assets.itertuples(index=False):
            copy.write_row((row.id, row.kind, row.name or "", Jsonb(row.geometry), float(row.lon),
                            float(row.lat), Jsonb(row.attrs or {}), row.network_version))


def _upsert_assets(conn) -> int:
    cur = conn.execute(
        "INSERT INTO asset (id, kind, name, geometry, lon, lat, attrs, network_version, retired_at)"
        " SELECT id, kind, name, geometry, lon, lat, attrs, network_version, NULL FROM asset_stage"
        " ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,"
        " geometry = EXCLUDED.geometry, lon = EXCLUDED.lon, lat = EXCLUDED.lat, attrs = EXCLUDED.attrs,"
        " network_version = EXCLUDED.network_version, retired_at = NULL"
    )
    return cur.rowcount


def _upsert_sensors(conn) -> None:
    conn.execute(
        "INSERT INTO sensor (id, element_id, kind, unit)"
        " SELECT id, attrs->>'element_id', attrs->>'kind', coalesce(attrs->>'unit', '')"
        " FROM asset_stage WHERE kind = 'sensor'"
        " ON CONFLICT (id) DO UPDATE SET element_id = EXCLUDED.element_id, kind = EXCLUDED.kind,"
        " unit = EXCLUDED.unit"
    )


def _retire_missing(conn) -> tuple[int, int]:
    """Retire elements absent from the new network; delete those nothing refers to."""
    retired = conn.execute(
        "UPDATE asset SET retired_at = now() WHERE retired_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM asset_stage s WHERE s.id = asset.id)"
    ).rowcount
    referenced = [
        sql.SQL("EXISTS (SELECT 1 FROM {} r WHERE r.{} = asset.id)").format(
            sql.Identifier(table), sql.Identifier(column))
        for table, column in conn.execute(_REFERENCES_TO_ASSET).fetchall()
    ]
    deleted = conn.execute(
        sql.SQL("DELETE FROM asset WHERE retired_at IS NOT NULL AND NOT ({})").format(
            sql.SQL(" OR ").join(referenced))
    ).rowcount
    return retired - deleted, deleted


def _replace_basemap(conn, basemap: pd.DataFrame) -> None:
    conn.execute("DELETE FROM basemap_feature")
    with conn.cursor().copy("COPY basemap_feature (kind, name, geometry) FROM STDIN") as copy:
        for row in basemap.itertuples(index=False):
            copy.write_row((row.kind, row.name or "", Jsonb(row.geometry)))


def replace_network(pool: ConnectionPool, assets: pd.DataFrame, basemap: pd.DataFrame,
                    source_path: str, summary: dict | None = None, *, design: dict | None = None,
                    source_crs: str | None = None, mapping_path: str | None = None) -> dict:
    """Make ``assets`` the current network, in one transaction; return what changed.

    ``assets`` has columns ``id, kind, name, geometry (GeoJSON dict), lon, lat, attrs (dict)``;
    ``basemap`` has ``kind, name, geometry``; ``design`` the network's design settings
    (``store.networks``). Open alarms of elements the new network lacks are cleared, naming the import.
    """
    with transaction(pool) as conn:
        version = conn.execute(
            "INSERT INTO network_version (source_path, summary) VALUES (%s, %s) RETURNING id",
            (source_path, Jsonb(summary or {})),
        ).fetchone()[0]
        _copy_assets(conn, assets.assign(network_version=version))
        # Without statistics the planner takes the fresh stage for empty: the anti-joins go quadratic.
        conn.execute("ANALYZE asset_stage")
        upserted = _upsert_assets(conn)
        _upsert_sensors(conn)
        retired, deleted = _retire_missing(conn)
        alarms_closed = networks.close_vanished_alarms(conn, version, source_path)
        networks.write_design(conn, version, design, source_crs, mapping_path)
        _replace_basemap(conn, basemap)
    counts = assets["kind"].value_counts().to_dict()
    return {"network_version": version, "elements": upserted, "retired": retired, "deleted": deleted,
            "alarms_closed": alarms_closed,
            "by_kind": {str(k): int(v) for k, v in counts.items()}, "basemap_features": len(basemap)}


def get_asset_rows(pool: ConnectionPool, include_retired: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The current network as ``(assets, basemap)`` frames, in the shape ``replace_network`` takes."""
    where = "" if include_retired else " WHERE retired_at IS NULL"
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, kind::text, name, geometry, lon, lat, attrs, retired_at FROM asset" + where + " ORDER BY id"
        ).fetchall()
        base = conn.execute("SELECT kind, name, geometry FROM basemap_feature ORDER BY id").fetchall()
    assets = pd.DataFrame(rows, columns=[*_ASSET_COLUMNS, "retired_at"])
    basemap = pd.DataFrame(base, columns=["kind", "name", "geometry"])
    return assets, basemap


def count_by_kind(pool: ConnectionPool) -> dict[str, int]:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT kind::text, count(*) FROM asset WHERE retired_at IS NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
    return dict(rows)


def get_asset(pool: ConnectionPool, asset_id: str) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT id, kind::text, name, geometry, lon, lat, attrs, retired_at FROM asset WHERE id = %s",
            (asset_id,),
        ).fetchone()
    if row is None:
        return None
    return dict(zip([*_ASSET_COLUMNS, "retired_at"], row, strict=True))


def latest_network_version(pool: ConnectionPool) -> dict | None:
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT id, imported_at, source_path, summary FROM network_version ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return None if row is None else dict(zip(("id", "imported_at", "source_path", "summary"), row, strict=True))


