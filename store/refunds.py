"""The refund ledger (测温退费): seasons computed by ``twin.refunds``, each household's entry with its hours
by kind (``refund_span``) and days with counted hours (``refund_day``), the supervisor's decision, and the
households' suspension periods (报停) the ledger leaves out.

Every write is audited in its own transaction: ``refund.compute`` (a season's ledger, all of it or none),
``refund.review`` (approve or reject an entry, with a note), ``household.suspend`` (a suspension period).
"""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import numpy as np
import pandas as pd
from psycopg import sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from heattwin.choices import refund_state_values
from store.audit import Actor, audited
from store.binary import COPY_HEADER_BYTES, COPY_TRAILER_BYTES, copy_out, element_dtype, read_array
from store.db import transaction
from store.telemetry.queries import _watermark

MAX_NOTE_CHARS = 1000
HOUSEHOLD_COLUMNS = ("household_id", "sensor_id", "community_id", "building", "area_m2", "heating_status",
                     "fee_yuan_per_m2", "address", "name")
SEASON_COLUMNS = ("id", "name", "start_date", "end_date", "timezone", "rule", "summary", "computed_at",
                  "computed_by")
ENTRY_COLUMNS = ("household_id", "sensor_id", "community_id", "building", "area_m2", "fee_yuan_per_m2",
                 "season_hours", "cold_hours", "counted_hours", "suspended_hours", "not_paying_hours",
                 "offline_hours", "tampered_hours", "tamper_jumps", "days_under", "refund_yuan", "state", "note",
                 "reviewed_by", "reviewed_at")
SPAN_COLUMNS = ("kind", "start_at", "hours", "mean_t_c", "min_t_c")
DAY_COLUMNS = ("day", "counted_hours", "under")
_ENTRY_SORTS = {"refund_yuan", "counted_hours", "days_under", "household_id", "tampered_hours", "offline_hours"}

# Per collector its hours with a reading and their hourly means, as two arrays: the hourly rollup up to
# its watermark, raw rows after it (as store.telemetry.get_trend reads them). A collector's array is one row
# of the binary COPY, so a season of 20,000 collectors is 20,000 rows, not 58 million.
_HOURS = """
COPY (
    SELECT k.row, array_agg(((date_part('epoch', r.bucket) - {start_epoch}) / 3600)::int4), array_agg(r.avg::float4)
    FROM (SELECT bucket, sensor_id, avg FROM measurement_1h
          WHERE bucket >= {start} AND bucket < least({end}, {watermark})
          UNION ALL
          SELECT time_bucket(INTERVAL '1 hour', time), sensor_id, avg(value) FROM measurement
          WHERE time >= greatest({start}, {watermark}) AND time < {end}
          GROUP BY 1, 2) r
    JOIN refund_sensor k ON k.sensor_id = r.sensor_id
    GROUP BY k.row
) TO STDOUT (FORMAT binary)
"""
# The same hours from the collectors' days (``room_day``, migration 021), one row of 24 per collector and UTC
# day: every row of the binary COPY has one size, read whole by numpy.
_DAYS = """
COPY (
    SELECT k.row, (d.day - {first})::int4, d.t_c
    FROM room_day d JOIN refund_sensor k ON k.sensor_id = d.sensor_id
    WHERE d.day >= {first} + {start} AND d.day < {first} + {end}
) TO STDOUT (FORMAT binary)
"""
_DAY_ROW = np.dtype([("fields", ">i2"), ("row_length", ">i4"), ("row", ">i4"), ("day_length", ">i4"), ("day", ">i4"),
                     ("array_length", ">i4"), ("ndim", ">i4"), ("has_null", ">i4"), ("element", ">u4"),
                     ("hours", ">i4"), ("lower", ">i4"), ("t_c", element_dtype(">f4"), (24,))])
_READERS = 2          # connections reading at once (a season's read is bound by the server's output)


def list_collector_households(pool: ConnectionPool) -> pd.DataFrame:
    """Every household with a room-temperature collector, with what the ledger needs, by id."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, sensor_id, community_id, building, area_m2, heating_status::text, fee_yuan_per_m2::float8,"
            " address, name FROM household WHERE sensor_id IS NOT NULL ORDER BY id").fetchall()
    frame = pd.DataFrame(rows, columns=list(HOUSEHOLD_COLUMNS))
    frame["fee_yuan_per_m2"] = frame["fee_yuan_per_m2"].astype(float)
    return frame


def get_room_hours(pool: ConnectionPool, sensor_ids: list[str], start: datetime, hours: int) -> pd.DataFrame:
    """The hourly mean room temperature of ``sensor_ids`` for ``hours`` hours from ``start`` (UTC, on the
    hour): ``row`` (position in ``sensor_ids``), ``hour`` (since ``start``), ``t_c``. Hours without a
    reading are absent. Read as one array per collector through binary COPY, by ``_READERS`` connections
    at once, each a part of the season."""
    start = pd.Timestamp(start).tz_convert("UTC")
    cuts = [start + pd.Timedelta(hours=hours * k // _READERS) for k in range(_READERS + 1)]
    with ThreadPoolExecutor(_READERS) as readers:
        parts = list(readers.map(lambda k: _read_part(pool, sensor_ids, start, cuts[k], cuts[k + 1]),
                                 range(_READERS)))
    rows, hour, t_c = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return pd.DataFrame({"row": rows, "hour": hour, "t_c": t_c})


def get_room_temperatures(pool: ConnectionPool, sensor_ids: list[str], start: datetime, hours: int) -> np.ndarray:
    """The hourly mean room temperatures of ``get_room_hours`` as one array, collectors × hours (float32, NaN
    where a collector sent nothing): the days the collectors' day rollup (``room_day``) holds read from it,
    the hours after its watermark from the hourly rollup. ``start`` on a UTC hour (else all from the hours)."""
    start = pd.Timestamp(start).tz_convert("UTC")
    t_c = np.full((len(sensor_ids), hours), np.nan, dtype=np.float32)
    covered = 0
    if start == start.floor("h") and hours:
        with pool.connection() as conn:
            row = conn.execute("SELECT watermark FROM rollup_watermark WHERE name = 'room_day'").fetchone()
        if row is not None:
            covered = int(np.clip((pd.Timestamp(row[0]) - start) // pd.Timedelta(hours=1), 0, hours))
    if covered:
        first_day, lead = start.normalize(), start.hour
        days = (lead + covered + 23) // 24
        cuts = [days * k // _READERS for k in range(_READERS + 1)]
        with ThreadPoolExecutor(_READERS) as readers:
            parts = list(readers.map(lambda k: _read_days(pool, sensor_ids, first_day, cuts[k], cuts[k + 1]),
                                     range(_READERS)))
        records = np.concatenate(parts)
        at = records["day"].astype(np.int64)[:, None] * 24 + np.arange(24) - lead
        rows = np.broadcast_to(records["row"].astype(np.int64)[:, None], at.shape)
        inside = (at >= 0) & (at < covered)
        t_c[rows[inside], at[inside]] = records["t_c"]["value"][inside]
    if covered < hours:
        rest = get_room_hours(pool, sensor_ids, (start + pd.Timedelta(hours=covered)).to_pydatetime(), hours - covered)
        t_c[rest["row"].to_numpy(), covered + rest["hour"].to_numpy()] = rest["t_c"].to_numpy()
    return t_c


def _read_days(pool: ConnectionPool, sensor_ids: list[str], first_day: pd.Timestamp, start: int, end: int) -> np.ndarray:
    """The ``room_day`` rows of days ``[start, end)`` after ``first_day``, as ``_DAY_ROW`` records."""
    with transaction(pool) as conn:
        _sensor_table(conn, sensor_ids)
        query = sql.SQL(_DAYS).format(first=sql.SQL("{}::date").format(sql.Literal(first_day.date().isoformat())),
                                      start=sql.Literal(start), end=sql.Literal(end))
        data = copy_out(conn, query)
    return _parse_days(data)


def _parse_days(data: bytes) -> np.ndarray:
    """Binary COPY rows (row int4, day int4, t_c real[24] without NULLs) as records, checked."""
    body = len(data) - COPY_HEADER_BYTES - COPY_TRAILER_BYTES
    if body % _DAY_ROW.itemsize:
        raise ValueError(f"room_day: {body} bytes of rows are not whole rows of {_DAY_ROW.itemsize}")
    records = np.frombuffer(data, dtype=_DAY_ROW, count=body // _DAY_ROW.itemsize, offset=COPY_HEADER_BYTES)
    if len(records) and not ((records["fields"] == 3).all() and (records["hours"] == 24).all()
                             and (records["t_c"]["length"] == 4).all()):
        raise ValueError("room_day: a row is not (row, day, 24 hourly means without NULLs)")
    return records


def _sensor_table(conn, sensor_ids: list[str]) -> None:
    """The collectors by their position in ``sensor_ids``, for this transaction (``refund_sensor``)."""
    # A hash aggregate over this reader's collectors (never a sort of every hour), no JIT to compile.
    conn.execute("SET LOCAL work_mem = '512MB'")
    conn.execute("SET LOCAL jit = off")
    conn.execute("CREATE TEMP TABLE refund_sensor (row int4, sensor_id text PRIMARY KEY) ON COMMIT DROP")
    with conn.cursor().copy("COPY refund_sensor (row, sensor_id) FROM STDIN") as copy:
        for row, sensor in enumerate(sensor_ids):
            copy.write_row((row, sensor))
    conn.execute("ANALYZE refund_sensor")


def _read_part(pool: ConnectionPool, sensor_ids: list[str], origin: pd.Timestamp, start: pd.Timestamp,
               end: pd.Timestamp):
    """The hours ``[start, end)``, counted from ``origin``."""
    with transaction(pool) as conn:
        _sensor_table(conn, sensor_ids)
        watermark = _watermark(conn, "measurement_1h")
        query = sql.SQL(_HOURS).format(start_epoch=sql.Literal(float(origin.timestamp())),
                                       start=sql.Literal(start.to_pydatetime()), end=sql.Literal(end.to_pydatetime()),
                                       watermark=sql.SQL("{}::timestamptz").format(sql.Literal(str(watermark))))
        data = copy_out(conn, query)
    return _parse_arrays(data)


def _parse_arrays(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary COPY rows (row int4, hours int4[], t_c float4[]) as three flat arrays (one collector at a time:
    a loop over collectors, each array read whole)."""
    rows, hours, temps = [], [], []
    at = COPY_HEADER_BYTES
    while True:
        (fields,) = struct.unpack_from(">h", data, at)
        if fields == -1:
            break
        row = struct.unpack_from(">ii", data, at + 2)[1]
        at += 10
        arrays = []
        for value_dtype in (">i4", ">f4"):
            (length,) = struct.unpack_from(">i", data, at)
            arrays.append(read_array(data, value_dtype, at + 4, what="room hours"))
            at += 4 + length
        rows.append(np.full(len(arrays[0]), row, dtype=np.int64))
        hours.append(arrays[0].astype(np.int64))
        temps.append(arrays[1])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(rows), np.concatenate(hours), np.concatenate(temps)


def add_suspension(pool: ConnectionPool, household_id: str, *, start_at: datetime, end_at: datetime | None = None,
                   note: str = "", actor: Actor) -> int:
    """Record a household's suspension of heating (报停) from ``start_at`` to ``end_at`` (None: open)."""
    if end_at is not None and end_at <= start_at:
        raise ValueError(f"end_at: the suspension of {household_id} must end after it starts ({start_at})")
    with audited(pool, actor, "household.suspend", "household", household_id) as change:
        if change.conn.execute("SELECT 1 FROM household WHERE id = %s", (household_id,)).fetchone() is None:
            raise KeyError(f"household {household_id} does not exist")
        suspension_id = change.conn.execute(
            "INSERT INTO heating_suspension (household_id, start_at, end_at, note, created_by)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (household_id, start_at, end_at, note[:MAX_NOTE_CHARS], actor.username)).fetchone()[0]
        change.after = {"suspension": suspension_id, "start_at": start_at, "end_at": end_at, "note": note}
    return suspension_id


def list_suspensions(pool: ConnectionPool, *, start_at: datetime | None = None,
                     end_at: datetime | None = None) -> pd.DataFrame:
    """Suspension periods overlapping ``[start_at, end_at)`` (all without bounds)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT household_id, start_at, end_at, note FROM heating_suspension"
            " WHERE (%(end)s::timestamptz IS NULL OR start_at < %(end)s)"
            " AND (%(start)s::timestamptz IS NULL OR end_at IS NULL OR end_at > %(start)s) ORDER BY household_id, start_at",
            {"start": start_at, "end": end_at}).fetchall()
    return pd.DataFrame(rows, columns=["household_id", "start_at", "end_at", "note"])


def add_season(pool: ConnectionPool, *, name: str, start_date: date, end_date: date, timezone: str, rule: dict,
               summary: dict, entries: pd.DataFrame, spans: pd.DataFrame, days: pd.DataFrame, actor: Actor) -> int:
    """Store a computed ledger (``twin.refunds.Ledger``) as a new season, all of it or nothing; its id."""
    if not (name or "").strip():
        raise ValueError("name: a season's ledger needs a name")
    with audited(pool, actor, "refund.compute", "refund_season") as change:
        conn = change.conn
        season_id = conn.execute(
            "INSERT INTO refund_season (name, start_date, end_date, timezone, rule, summary, computed_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (name.strip(), start_date, end_date, timezone, Jsonb(rule), Jsonb(_plain(summary)),
             actor.username)).fetchone()[0]
        _copy(conn, "refund_entry", ("season_id", *ENTRY_COLUMNS[:16]), season_id, entries, ENTRY_COLUMNS[:16])
        _copy(conn, "refund_span", ("season_id", "household_id", *SPAN_COLUMNS), season_id, spans,
              ("household_id", *SPAN_COLUMNS))
        _copy(conn, "refund_day", ("season_id", "household_id", *DAY_COLUMNS), season_id, days,
              ("household_id", *DAY_COLUMNS))
        change.object_id = str(season_id)
        change.after = {"name": name, "start_date": start_date, "end_date": end_date, "rule": rule,
                        "summary": _plain(summary)}
    return season_id


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value.item() if hasattr(value, "item") else value


def _copy(conn, table: str, columns: tuple[str, ...], season_id: int, frame: pd.DataFrame, fields) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table),
                                                         sql.SQL(", ").join(map(sql.Identifier, columns)))
    values = frame.loc[:, list(fields)].astype(object).where(frame.loc[:, list(fields)].notna(), None)
    with conn.cursor().copy(statement) as copy:
        for row in values.itertuples(index=False, name=None):
            copy.write_row((season_id, *row))


def list_seasons(pool: ConnectionPool) -> pd.DataFrame:
    """Every computed ledger, newest first."""
    with pool.connection() as conn:
        rows = conn.execute(f"SELECT {', '.join(SEASON_COLUMNS)} FROM refund_season ORDER BY id DESC").fetchall()
    return pd.DataFrame(rows, columns=list(SEASON_COLUMNS))


def get_season(pool: ConnectionPool, season_id: int) -> dict | None:
    """One ledger's season, rule and summary, with its entries counted by state and the approved total."""
    with pool.connection() as conn:
        row = conn.execute(f"SELECT {', '.join(SEASON_COLUMNS)} FROM refund_season WHERE id = %s",
                           (season_id,)).fetchone()
        if row is None:
            return None
        counts = conn.execute("SELECT state, count(*), coalesce(sum(refund_yuan), 0)::float8 FROM refund_entry"
                              " WHERE season_id = %s AND refund_yuan > 0 GROUP BY state", (season_id,)).fetchall()
    season = dict(zip(SEASON_COLUMNS, row, strict=True))
    season["states"] = {state: {"entries": n, "refund_yuan": total} for state, n, total in counts}
    return season


def list_entries(pool: ConnectionPool, season_id: int, *, state: str | list[str] | None = None,
                 owed_only: bool = True, flagged_only: bool = False, search: str | None = None,
                 sort: str = "refund_yuan", descending: bool = True) -> pd.DataFrame:
    """A ledger's entries (with the household's address): by default those owed something, largest first."""
    if sort not in _ENTRY_SORTS:
        raise ValueError(f"sort must be one of {sorted(_ENTRY_SORTS)}, not {sort!r}")
    states = [state] if isinstance(state, str) else list(state or [])
    for value in states:
        _check_state(value)
    clauses = [sql.SQL("e.season_id = %(season)s")]
    if states:
        clauses.append(sql.SQL("e.state = ANY(%(states)s)"))
    if owed_only:
        clauses.append(sql.SQL("e.refund_yuan > 0"))
    if flagged_only:
        clauses.append(sql.SQL("(e.tamper_jumps > 0 OR e.tampered_hours > 0)"))
    if search:
        clauses.append(sql.SQL("(e.household_id ILIKE %(like)s OR h.address ILIKE %(like)s OR h.name ILIKE %(like)s)"))
    query = sql.SQL("SELECT {cols}, h.address, h.name, h.phone FROM refund_entry e JOIN household h"
                    " ON h.id = e.household_id WHERE {where} ORDER BY {sort} {direction}, e.household_id").format(
        cols=sql.SQL(", ").join(sql.SQL("e.") + sql.Identifier(c) for c in ENTRY_COLUMNS),
        where=sql.SQL(" AND ").join(clauses), sort=sql.Identifier("e", sort),
        direction=sql.SQL("DESC" if descending else "ASC"))
    with pool.connection() as conn:
        rows = conn.execute(query, {"season": season_id, "states": states,
                                    "like": f"%{search}%" if search else None}).fetchall()
    frame = pd.DataFrame(rows, columns=[*ENTRY_COLUMNS, "address", "name", "phone"])
    for column in ("refund_yuan", "fee_yuan_per_m2"):
        frame[column] = frame[column].astype(float)
    return frame


def get_entry(pool: ConnectionPool, season_id: int, household_id: str) -> dict | None:
    """One household's entry with its spans (runs of hours by kind) and its days with counted hours."""
    with pool.connection() as conn:
        row = conn.execute(sql.SQL("SELECT {}, h.address, h.name, h.phone FROM refund_entry e JOIN household h"
                                   " ON h.id = e.household_id WHERE e.season_id = %s AND e.household_id = %s").format(
            sql.SQL(", ").join(sql.SQL("e.") + sql.Identifier(c) for c in ENTRY_COLUMNS)),
            (season_id, household_id)).fetchone()
        if row is None:
            return None
        spans = conn.execute("SELECT kind, start_at, hours, mean_t_c, min_t_c FROM refund_span"
                             " WHERE season_id = %s AND household_id = %s ORDER BY start_at",
                             (season_id, household_id)).fetchall()
        days = conn.execute("SELECT day, counted_hours, under FROM refund_day"
                            " WHERE season_id = %s AND household_id = %s ORDER BY day",
                            (season_id, household_id)).fetchall()
    entry = dict(zip((*ENTRY_COLUMNS, "address", "name", "phone"), row, strict=True))
    entry["refund_yuan"], entry["fee_yuan_per_m2"] = float(entry["refund_yuan"]), float(entry["fee_yuan_per_m2"])
    entry["spans"] = pd.DataFrame(spans, columns=list(SPAN_COLUMNS))
    entry["days"] = pd.DataFrame(days, columns=list(DAY_COLUMNS))
    return entry


def _check_state(state: str) -> str:
    if state not in refund_state_values:
        raise ValueError(f"state must be one of {', '.join(refund_state_values)}, not {state!r}")
    return state


def update_entry(pool: ConnectionPool, season_id: int, household_id: str, *, state: str, note: str = "",
                 actor: Actor) -> dict:
    """Approve or reject one household's refund (a rejection needs a note); audited with before and after."""
    _check_state(state)
    note = (note or "").strip()
    if state == "pending":
        raise ValueError("state: a decision is 'approved' or 'rejected'")
    if state == "rejected" and not note:
        raise ValueError(f"note: say why the refund of {household_id} is rejected")
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"note: at most {MAX_NOTE_CHARS} characters")
    with audited(pool, actor, "refund.review", "refund_entry", f"{season_id}/{household_id}") as change:
        before = change.conn.execute(
            "SELECT state, note, refund_yuan::float8, reviewed_by FROM refund_entry"
            " WHERE season_id = %s AND household_id = %s FOR UPDATE", (season_id, household_id)).fetchone()
        if before is None:
            raise KeyError(f"household {household_id} has no entry in ledger {season_id}")
        if state == "approved" and before[2] <= 0:
            raise ValueError(f"state: nothing is owed to {household_id} in ledger {season_id}")
        row = change.conn.execute(
            "UPDATE refund_entry SET state = %s, note = %s, reviewed_by = %s, reviewed_at = now()"
            " WHERE season_id = %s AND household_id = %s RETURNING state, note, refund_yuan::float8, reviewed_at",
            (state, note, actor.username, season_id, household_id)).fetchone()
        change.before = {"state": before[0], "note": before[1], "refund_yuan": before[2], "reviewed_by": before[3]}
        change.after = {"state": row[0], "note": row[1], "refund_yuan": row[2]}
    return {"state": row[0], "note": row[1], "refund_yuan": row[2], "reviewed_at": row[3]}
