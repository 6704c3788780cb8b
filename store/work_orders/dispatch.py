"""Which team to send: qualified for the category, nearest to the job, least loaded.

The score is the great-circle distance from the team's last reported position (its base when it has
reported none) plus ``LOAD_KM_PER_ORDER`` for every order it already has open: a team one order busier
must be that much nearer to be suggested first. Unqualified teams are listed last, never first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import WORK_ORDER_OPEN_STATES

EARTH_RADIUS_KM = 6371.0088
LOAD_KM_PER_ORDER = 2.0
SUGGESTION_COLUMNS = ("team_id", "name", "qualified", "distance_km", "open_orders", "score", "lon", "lat",
                      "position_from", "last_seen_at")


def great_circle_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine distance in km between arrays of points (degrees)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def list_teams_with_load(pool: ConnectionPool) -> pd.DataFrame:
    """Every team with where it is (last report, else base), its categories and its open orders."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT t.id, t.name, t.categories::text[], coalesce(t.last_lon, t.base_lon), coalesce(t.last_lat, t.base_lat),"
            " CASE WHEN t.last_lon IS NULL THEN 'base' ELSE 'reported' END, t.last_seen_at,"
            " count(w.id) FROM team t LEFT JOIN work_order w ON w.team_id = t.id"
            " AND w.state = ANY(%s::work_order_state[]) GROUP BY t.id ORDER BY t.id",
            (list(WORK_ORDER_OPEN_STATES),)).fetchall()
    return pd.DataFrame(rows, columns=["team_id", "name", "categories", "lon", "lat", "position_from",
                                       "last_seen_at", "open_orders"])


def rank_teams(teams: pd.DataFrame, *, lon: float, lat: float, category: str) -> pd.DataFrame:
    """``teams`` (as ``list_teams_with_load`` gives them) ranked for a job at (lon, lat) of ``category``."""
    ranked = teams.assign(
        qualified=[category in (c or ()) for c in teams["categories"]],
        distance_km=great_circle_km(teams["lon"], teams["lat"], lon, lat))
    ranked["score"] = ranked["distance_km"] + LOAD_KM_PER_ORDER * ranked["open_orders"]
    ranked = ranked.sort_values(["qualified", "score"], ascending=[False, True], na_position="last")
    # reindex: a frame without last_seen_at (teams that never reported) still ranks.
    return ranked.reindex(columns=list(SUGGESTION_COLUMNS)).reset_index(drop=True)


def suggest_teams(pool: ConnectionPool, wo_id: int, *, limit: int = 5) -> pd.DataFrame:
    """The teams to offer for a work order, best first."""
    with pool.connection() as conn:
        row = conn.execute("SELECT coalesce(w.lon, a.lon), coalesce(w.lat, a.lat), w.category::text FROM work_order w"
                           " LEFT JOIN asset a ON a.id = w.asset_id WHERE w.id = %s", (wo_id,)).fetchone()
    if row is None:
        raise ValueError(f"work order {wo_id} does not exist")
    lon, lat, category = row
    if lon is None:
        raise ValueError(f"work order #{wo_id} has no location: file it on an element or a household")
    return rank_teams(list_teams_with_load(pool), lon=lon, lat=lat, category=category).head(limit)
