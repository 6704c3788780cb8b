"""The ingest bench's baseline is a competent user's binary COPY, and it stores what the product stores."""

from __future__ import annotations

import pandas as pd
import pytest

from scripts import bench_ingest
from store.telemetry import ingest_rows


def _stored(pool) -> pd.DataFrame:
    with pool.connection() as conn:
        rows = conn.execute("SELECT sensor_id, time, value FROM measurement ORDER BY sensor_id, time").fetchall()
    return pd.DataFrame(rows, columns=["sensor_id", "time", "value"])


@pytest.fixture
def readings(pool):
    ids = bench_ingest._network(pool)
    return bench_ingest._readings(ids, 3)


def test_bare_copy_stores_exactly_what_ingest_rows_stores(pool, readings):
    with pool.connection() as conn, conn.transaction():
        bench_ingest.bare_copy(conn, readings)
    copied = _stored(pool)
    bench_ingest._truncate(pool)
    assert ingest_rows(pool, readings, "test").accepted == len(readings)
    ingested = _stored(pool)
    assert len(copied) == len(readings) == 3 * bench_ingest.SENSORS
    pd.testing.assert_frame_equal(copied, ingested)
    # Times keep their microseconds and their instant through the binary format.
    expected = readings.sort_values(["sensor_id", "time"]).reset_index(drop=True)
    assert (pd.to_datetime(copied["time"], utc=True) == expected["time"]).all()


def test_bare_copy_sends_sorted_rows_in_binary(readings):
    assert "FORMAT BINARY" in bench_ingest.BARE_COPY
    rows = list(bench_ingest.key_ordered_rows(readings.sample(frac=1.0, random_state=3)))
    keys = [(sensor_id, time) for time, sensor_id, _ in rows]
    assert keys == sorted(keys) and len(keys) == len(readings)
    assert all(time.tzinfo is not None for time, _, _ in rows[:10])


def test_measure_bulk_times_both_paths_on_the_same_rows(pool, readings):
    figures = bench_ingest.measure_bulk(pool, readings, repeat=2)
    assert len(figures["copy_s"]) == len(figures["bulk_s"]) == 2
    assert figures["bulk_over_copy"] == pytest.approx(figures["bulk_rows_per_s"] / figures["copy_rows_per_s"])
    assert min(figures["bulk_over_copy_runs"]) > 0
    assert len(_stored(pool)) == len(readings)  # the last run leaves the table filled
