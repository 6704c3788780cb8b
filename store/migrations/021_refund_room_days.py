"""The refund ledger's read: each room-temperature collector's hourly means, one row per UTC day.

A season's ledger (``twin.refunds.run_season``) needs every collector's hourly mean for every hour of the
season: 58 million hours for 20,000 collectors over 121 days. Read from ``measurement_1h`` that is 58 million
rows to aggregate; ``room_day`` holds the same numbers as 2.4 million rows of 24 (hour 0–23 of the UTC day,
``NaN`` where the collector sent nothing that hour — the hourly mean is the rollup's ``avg``, as ``real``).
``refresh_rollups`` (the sync loop's housekeeping) keeps it from ``measurement_1h``: the days before the
``room_day`` watermark (``rollup_watermark``) are in it, later hours are read from the hourly rollup.

Days are UTC so that one table serves every season's zone: a season in a zone is a run of whole UTC hours.
The backfill here takes every day the hourly rollup has before its watermark, on either path.
"""

import psycopg

from store.migrate import has_timescaledb

_TABLE = """
CREATE TABLE room_day (
    sensor_id text NOT NULL,
    day       date NOT NULL,              -- UTC day
    t_c       real[] NOT NULL,            -- its 24 hourly means (°C), hour 0 first; NaN: no reading that hour
    PRIMARY KEY (sensor_id, day),
    CHECK (cardinality(t_c) = 24 AND array_position(t_c, NULL) IS NULL)
);

-- The 24 hourly means of a day from the hours that have one (0–23) and their means.
CREATE FUNCTION room_day_hours(hours int[], means float8[]) RETURNS real[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    day real[] := array_fill('NaN'::real, ARRAY[24]);
BEGIN
    FOR i IN 1 .. cardinality(hours) LOOP
        day[hours[i] + 1] := means[i];
    END LOOP;
    RETURN day;
END $$;
"""

_FILL = """
INSERT INTO room_day (sensor_id, day, t_c)
SELECT sensor_id, day, room_day_hours(array_agg(hour), array_agg(avg))
FROM (SELECT m.sensor_id, (m.bucket AT TIME ZONE 'UTC')::date AS day,
             extract(hour FROM m.bucket AT TIME ZONE 'UTC')::int AS hour, m.avg
      FROM measurement_1h m JOIN sensor s ON s.id = m.sensor_id AND s.kind = 'room_t'
      WHERE m.bucket < %(watermark)s) h
GROUP BY 1, 2
"""

_NEWEST = {True: "SELECT time_bucket(INTERVAL '1 hour', max(time)) FROM measurement",
           False: "SELECT watermark FROM rollup_watermark WHERE name = 'measurement_1h'"}


def apply(conn: psycopg.Connection) -> None:
    conn.execute(_TABLE)
    hour = conn.execute(_NEWEST[has_timescaledb(conn)]).fetchone()
    if hour is None or hour[0] is None:
        return
    watermark = conn.execute("SELECT date_trunc('day', %s::timestamptz, 'UTC')", (hour[0],)).fetchone()[0]
    conn.execute(_FILL, {"watermark": watermark})
    conn.execute("INSERT INTO rollup_watermark (name, watermark) VALUES ('room_day', %s)", (watermark,))
