"""Alarm performance as the alarm-management standards count it (ISA-18.2 / IEC 62682, EEMUA 191).

An *annunciation* is an alarm put before the dispatcher: the presentation pass writes a 'presented'
event each time an alarm starts ringing (raised and not grouped, re-raised, back from a shelf). The
figures here are of those: per hour and console, flood windows, standing alarms and their age, the
priority mix, and the bad actors (the element-and-cause pairs raised most often).
"""

from __future__ import annotations

import pandas as pd
from psycopg_pool import ConnectionPool

from heattwin.choices import alarm_priority_values

ACCEPTABLE_PER_HOUR = 6          # EEMUA 191: about one every 10 minutes is manageable
FLOOD_WINDOW = "10min"
FLOOD_MORE_THAN = 10             # ISA-18.2: more than 10 in 10 minutes is a flood
STANDING_TARGET = 10
INSTRUMENT_CONSOLE = "instruments"   # the meter technicians' desk (twin.alarm_presentation)

ANNUNCIATION_COLUMNS = ("at", "alarm_id", "asset_id", "cause", "priority", "console")


def list_annunciations(pool: ConnectionPool, *, since, until=None) -> pd.DataFrame:
    """Every time an alarm was put before the dispatcher in [since, until)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT e.at, a.id, a.asset_id, a.cause, a.priority, coalesce(a.console, '') FROM alarm_event e"
            " JOIN alarm a ON a.id = e.alarm_id WHERE e.action = 'presented' AND e.at >= %s"
            " AND (%s::timestamptz IS NULL OR e.at < %s) ORDER BY e.at",
            (pd.Timestamp(since).to_pydatetime(), _ts(until), _ts(until))).fetchall()
    frame = pd.DataFrame(rows, columns=list(ANNUNCIATION_COLUMNS))
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def list_standing(pool: ConnectionPool, *, at=None) -> pd.DataFrame:
    """Presented alarms open now, oldest first, with their age in hours at ``at`` (default now)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT a.id, a.asset_id, coalesce(e.name, ''), a.cause, a.severity::text, a.priority, a.state::text,"
            " a.raised_at, a.message, coalesce(a.console, ''), a.details,"
            " (SELECT count(*) FROM alarm c WHERE c.parent_id = a.id AND c.state <> 'cleared')"
            " FROM alarm a JOIN asset e ON e.id = a.asset_id WHERE a.state <> 'cleared' AND a.presented"
            " ORDER BY a.raised_at").fetchall()
    frame = pd.DataFrame(rows, columns=["id", "asset_id", "name", "cause", "severity", "priority", "state",
                                        "raised_at", "message", "console", "details", "grouped"])
    now = pd.Timestamp.now(tz="UTC") if at is None else pd.Timestamp(at)
    frame["age_h"] = (now - pd.to_datetime(frame["raised_at"], utc=True)).dt.total_seconds() / 3600.0
    return frame


def list_bad_actors(pool: ConnectionPool, *, since, limit: int = 10) -> pd.DataFrame:
    """The element-and-cause pairs raised most often since ``since`` (re-raises included), with how many
    of those rang (annunciations)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT a.asset_id, coalesce(s.name, ''), a.cause, count(*) FILTER (WHERE e.action IN ('raised', 're_raised')),"
            " count(*) FILTER (WHERE e.action = 'presented')"
            " FROM alarm_event e JOIN alarm a ON a.id = e.alarm_id JOIN asset s ON s.id = a.asset_id"
            " WHERE e.at >= %s AND e.action IN ('raised', 're_raised', 'presented')"
            " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 5 DESC, 1 LIMIT %s",
            (pd.Timestamp(since).to_pydatetime(), limit)).fetchall()
    return pd.DataFrame(rows, columns=["asset_id", "name", "cause", "raised", "presented"])


def count_raw_raises(pool: ConnectionPool, *, since, until=None) -> int:
    """Alarm rows raised or re-raised in the span, before any grouping: what the rules saw."""
    with pool.connection() as conn:
        return int(conn.execute(
            "SELECT count(*) FROM alarm_event WHERE action IN ('raised', 're_raised') AND at >= %s"
            " AND (%s::timestamptz IS NULL OR at < %s)",
            (pd.Timestamp(since).to_pydatetime(), _ts(until), _ts(until))).fetchone()[0])


def _ts(value):
    return None if value is None else pd.Timestamp(value).to_pydatetime()


# -- figures (pure: the page and the bench compute the same from the same frames) ----------------------------
def per_hour(annunciations: pd.DataFrame, *, since, until) -> pd.DataFrame:
    """Annunciations per hour (rows) and console (columns), every hour of the span present."""
    hours = pd.date_range(pd.Timestamp(since).floor("h"), pd.Timestamp(until).ceil("h"), freq="h", inclusive="left")
    if annunciations.empty:
        return pd.DataFrame(index=hours)
    counts = annunciations.assign(hour=annunciations["at"].dt.floor("h")).pivot_table(
        index="hour", columns="console", values="alarm_id", aggfunc="count", fill_value=0)
    return counts.reindex(hours, fill_value=0)


def flood_windows(annunciations: pd.DataFrame) -> pd.DataFrame:
    """10-minute windows (by the clock) with more than ten annunciations: start and count."""
    if annunciations.empty:
        return pd.DataFrame(columns=["start", "count"])
    counts = annunciations.groupby(annunciations["at"].dt.floor(FLOOD_WINDOW)).size()
    flooded = counts[counts > FLOOD_MORE_THAN]
    return pd.DataFrame({"start": flooded.index, "count": flooded.to_numpy()})


def priority_shares(annunciations: pd.DataFrame) -> dict[str, float]:
    if annunciations.empty:
        return dict.fromkeys(alarm_priority_values, 0.0)
    shares = annunciations["priority"].value_counts(normalize=True)
    return {p: round(float(shares.get(p, 0.0)), 3) for p in alarm_priority_values}


def summary(annunciations: pd.DataFrame, standing: pd.DataFrame, *, since, until) -> dict:
    """The page's tiles and the bench's keys: presented per hour (mean, max; all consoles together),
    flood windows, standing alarms (the most on any one dispatcher's console: what one person faces; and
    all, the instrument technicians' included), the
    priority mix."""
    hourly = per_hour(annunciations, since=since, until=until).sum(axis=1)
    dispatch = standing.loc[standing["console"] != INSTRUMENT_CONSOLE, "console"]
    return {"presented_per_hour": {"mean": round(float(hourly.mean()) if len(hourly) else 0.0, 2),
                                   "max": int(hourly.max()) if len(hourly) else 0},
            "flood_windows": int(len(flood_windows(annunciations))),
            "standing_alarms": int(dispatch.value_counts().max()) if len(dispatch) else 0,
            "standing_alarms_all": int(len(standing)),
            "standing_by_console": standing["console"].value_counts().to_dict(),
            "standing_oldest_h": round(float(standing["age_h"].max()), 1) if len(standing) else 0.0,
            "priority_shares": priority_shares(annunciations),
            "annunciations": int(len(annunciations))}


def within_targets(figures: dict) -> dict[str, bool]:
    return {"presented_per_hour": figures["presented_per_hour"]["mean"] <= ACCEPTABLE_PER_HOUR,
            "flood_windows": figures["flood_windows"] == 0,
            "standing_alarms": figures["standing_alarms"] <= STANDING_TARGET}

