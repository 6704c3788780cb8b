"""The one write path of telemetry: every route (bulk file, HTTP, MQTT, simulator) ends here.

A batch is COPYed into a temporary staging table, validated set-wise in SQL (sensor exists, the
value is finite and inside its kind's physical range, the time is neither in the future nor past
the retention horizon), refused rows go to ``measurement_rejected`` with their reason and raw
payload, and the rest go into ``measurement`` with one ``INSERT … ON CONFLICT DO NOTHING``.
All of it in one transaction, so ``accepted + duplicates + rejected`` always equals the input.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv
from psycopg_pool import ConnectionPool

from heattwin.choices import SENSOR_KINDS
from heattwin.settings import load_settings
from store.db import transaction
from store.telemetry.frames import STAGE_COLUMNS, stage_frame

FUTURE_TOLERANCE_S = 300  # clocks of field devices drift; five minutes ahead is still "now"
_COPY_CHUNK_BYTES = 8 << 20

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS measurement_stage (
    ord bigint, sensor_id text, time_us bigint, value double precision,
    reason text, raw text, origin text
) ON COMMIT DELETE ROWS
"""

# Times travel as integer microseconds since the epoch: formatting and parsing timestamp text
# costs more than the whole validation, and integers convert exactly.
_STAGE_COPY = ("COPY measurement_stage (ord, sensor_id, time_us, value, reason, raw, origin)"
               " FROM STDIN (FORMAT csv)")

# The ranges come from heattwin.choices on every call (a tiny unnest), so choices.py stays the
# single source of truth and no table can drift from it.
_CHECKED = """
WITH kinds (kind, low, high) AS (SELECT * FROM unnest(%(kinds)s::text[], %(lows)s::float8[], %(highs)s::float8[]))
SELECT st.ord, st.sensor_id, st.time, st.value, st.raw, st.origin,
       CASE
           WHEN st.reason IS NOT NULL THEN st.reason
           WHEN s.id IS NULL THEN 'sensor_unknown'
           WHEN st.value IS NULL OR NOT (st.value > '-Infinity' AND st.value < 'Infinity')
               THEN 'value_not_finite'
           WHEN k.kind IS NULL THEN 'sensor_kind_unknown'
           WHEN st.value < k.low OR st.value > k.high THEN 'value_out_of_range'
           WHEN st.time > now() + make_interval(secs => %(future_s)s) THEN 'time_in_future'
           WHEN st.time < now() - make_interval(days => %(keep_days)s) THEN 'time_before_retention'
       END AS reason
FROM (SELECT *, timestamptz 'epoch' + time_us * interval '1 microsecond' AS time
      FROM measurement_stage) st
LEFT JOIN sensor s ON s.id = st.sensor_id
LEFT JOIN kinds k ON k.kind = s.kind
"""

_REJECT = f"""
WITH refused AS (
    INSERT INTO measurement_rejected (origin, sensor_id, time, value, reason, raw)
    SELECT coalesce(c.origin, %(origin)s), c.sensor_id, c.time, c.value, c.reason,
           coalesce(c.raw, concat_ws(',', c.sensor_id, c.time, c.value))
    FROM ({_CHECKED}) c
    WHERE c.reason IS NOT NULL
    RETURNING reason
)
SELECT reason, count(*) FROM refused GROUP BY reason
"""

# Rows go in primary-key order: two batches sharing readings (a resend racing the original)
# then take their key locks in the same order and cannot deadlock. ``ord`` breaks ties so that
# within a batch the first of two readings for the same sensor and time wins.
_ACCEPT = f"""
INSERT INTO measurement (time, sensor_id, value)
SELECT c.time, c.sensor_id, c.value FROM ({_CHECKED}) c
WHERE c.reason IS NULL
ORDER BY c.sensor_id, c.time, c.ord
ON CONFLICT (sensor_id, time) DO NOTHING
"""


@dataclass
class IngestResult:
    """What became of a batch: stored, already stored (or repeated in the batch), or refused."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.accepted + self.duplicates + self.rejected

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected,
                "reasons": dict(self.reasons)}

    def __add__(self, other: IngestResult) -> IngestResult:
        reasons = dict(self.reasons)
        for reason, count in other.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count
        return IngestResult(self.accepted + other.accepted, self.duplicates + other.duplicates,
                            self.rejected + other.rejected, reasons)


def _ranges() -> dict:
    return {"kinds": [k.value for k in SENSOR_KINDS], "lows": [k.low for k in SENSOR_KINDS],
            "highs": [k.high for k in SENSOR_KINDS]}


def to_csv_bytes(frame: pd.DataFrame, columns: tuple[str, ...]) -> memoryview:
    """``frame[columns]`` as PostgreSQL CSV (NULL = unquoted empty), written by Arrow's C++ writer.

    A ``time`` column is written as timestamp text, a ``time_us`` column as integer microseconds.
    """
    frame = frame[[c if c != "time_us" else "time" for c in columns]]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if "time" in frame.columns:
        index = table.schema.get_field_index("time")
        # PostgreSQL keeps microseconds; nanosecond text would be rounded by the server anyway.
        times = table.column("time").cast(pa.timestamp("us", tz="UTC"), safe=False)
        if "time_us" in columns:
            times = times.cast(pa.int64())
        table = table.set_column(index, "time", times)
    for index, column in enumerate(table.columns):
        if pa.types.is_string(column.type):
            # PostgreSQL text cannot hold NUL; a raw payload may (MQTT is binary). Keep it visible.
            table = table.set_column(index, table.field(index), pa_compute.replace_substring(column, "\x00", "\\x00"))
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink, write_options=pa_csv.WriteOptions(include_header=False))
    return sink.getbuffer()


def copy_csv(conn, statement: str, data: memoryview) -> None:
    with conn.cursor().copy(statement) as copy:
        for start in range(0, len(data), _COPY_CHUNK_BYTES):
            copy.write(data[start:start + _COPY_CHUNK_BYTES])


def _stage(conn, staged: pd.DataFrame) -> None:
    conn.execute(_STAGE)
    # The sort into key order should not spill to disk.
    conn.execute("SET LOCAL work_mem = '128MB'")
    copy_csv(conn, _STAGE_COPY, to_csv_bytes(staged, STAGE_COLUMNS))


def _validate_and_store(conn, params: dict, total: int) -> IngestResult:
    reasons = {reason: int(n) for reason, n in conn.execute(_REJECT, params).fetchall()}
    accepted = conn.execute(_ACCEPT, params).rowcount
    rejected = sum(reasons.values())
    return IngestResult(accepted=accepted, duplicates=total - rejected - accepted, rejected=rejected,
                        reasons=reasons)


def ingest_rows(pool: ConnectionPool, rows: pd.DataFrame, origin: str, raw: pd.Series | None = None,
                *, keep_days: int | None = None) -> IngestResult:
    """Validate and store readings; refused rows are quarantined with their reason, never dropped.

    Parameters
    ----------
    rows : DataFrame with ``time`` (datetime, ISO 8601 text or epoch seconds), ``sensor_id`` and
        ``value`` (in the sensor kind's unit, see ``heattwin.choices.SENSOR_KINDS``); optional
        ``raw`` (the payload as received), ``origin`` (per row, overriding ``origin``) and
        ``reason`` (a route that already knows a row is malformed).
    origin : where the batch came from, e.g. ``bulk:readings.csv``, ``http:<data source>``.
    keep_days : retention horizon in days (default ``settings.retention_days``).
    """
    if not len(rows):
        return IngestResult()
    staged = stage_frame(rows, raw)
    params = {**_ranges(), "origin": origin, "future_s": FUTURE_TOLERANCE_S,
              "keep_days": keep_days if keep_days is not None else load_settings().retention_days}
    with transaction(pool) as conn:
        _stage(conn, staged)
        return _validate_and_store(conn, params, len(staged))


def reject_payload(pool: ConnectionPool, *, origin: str, reason: str, raw: str) -> IngestResult:
    """Quarantine a payload that could not be split into readings at all (e.g. broken JSON)."""
    with transaction(pool) as conn:
        conn.execute("INSERT INTO measurement_rejected (origin, reason, raw) VALUES (%s, %s, %s)",
                     (origin, reason, raw.replace("\x00", "\\x00")))
    return IngestResult(rejected=1, reasons={reason: 1})
