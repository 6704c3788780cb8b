"""A small city for the 12345 platform's tests: two communities, three households, a station and a team."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from store.db import transaction


def _point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def _block(lon: float, lat: float, half_deg: float = 0.002) -> dict:
    ring = [[lon - half_deg, lat - half_deg], [lon + half_deg, lat - half_deg], [lon + half_deg, lat + half_deg],
            [lon - half_deg, lat + half_deg], [lon - half_deg, lat - half_deg]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_city(pool) -> None:
    with transaction(pool) as conn:
        conn.execute("INSERT INTO network_version (source_path) VALUES ('t')")
        conn.execute("INSERT INTO asset (id, kind, name, geometry, lon, lat, network_version) VALUES"
                     " ('ST-1', 'station', '1号站', %s, 119.10, 36.70, 1),"
                     " ('C-001', 'community', '幸福小区', %s, 119.11, 36.71, 1),"
                     " ('C-002', 'community', '金宝花园', %s, 119.12, 36.72, 1)",
                     (Jsonb(_point(119.10, 36.70)), Jsonb(_block(119.11, 36.71)), Jsonb(_block(119.12, 36.72))))
        conn.execute("INSERT INTO household (id, community_id, station_id, name, phone, address) VALUES"
                     " ('H-000001', 'C-001', 'ST-1', '王先生', '13800000001', '幸福小区3号楼1单元201室'),"
                     " ('H-000002', 'C-001', 'ST-1', '李女士', '13800000002', '幸福小区3号楼1单元202室'),"
                     " ('H-000003', 'C-002', 'ST-1', '张先生', '13900000003', '金宝花园1号楼2单元501室')")
        conn.execute("INSERT INTO team (id, name, phone, base_lon, base_lat) VALUES"
                     " ('T-1', '抢修一队', '0536-1', 119.10, 36.71)")
