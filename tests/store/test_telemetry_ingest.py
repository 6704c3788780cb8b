"""The one write path: good rows are stored, each class of bad row is quarantined with its
reason and raw payload, duplicates are counted and never doubled, and nothing is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import psycopg
import pytest
from telemetry_net import build_network

from heattwin.choices import SENSOR_KIND
from store.telemetry import IngestResult, ingest_rows, reject_payload

SENSORS = {"S-T1": ("t_supply", "ST-1"), "S-P1": ("p_supply", "ST-1"), "S-R1": ("room_t", "C-1")}


@pytest.fixture
def net(pool):
    build_network(pool, SENSORS)
    return pool


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _stored(db_url) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT sensor_id, time, value FROM measurement ORDER BY sensor_id, time").fetchall()


def _rejected(db_url) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT reason, origin, sensor_id, raw FROM measurement_rejected ORDER BY id").fetchall()


def test_good_rows_are_stored_as_given(net, db_url):
    t = _now() - timedelta(minutes=10)
    rows = pd.DataFrame({"time": [t, t + timedelta(minutes=1)], "sensor_id": ["S-T1", "S-P1"], "value": [95.5, 6.2]})
    result = ingest_rows(net, rows, "direct")
    assert result == IngestResult(accepted=2, duplicates=0, rejected=0, reasons={})
    assert _stored(db_url) == [("S-P1", t + timedelta(minutes=1), 6.2), ("S-T1", t, 95.5)]


@pytest.mark.parametrize(("row", "reason"), [
    ({"sensor_id": "S-NOPE", "value": 50.0}, "sensor_unknown"),
    ({"sensor_id": "", "value": 50.0}, "sensor_missing"),
    ({"sensor_id": "S-T1", "value": float("nan")}, "value_not_finite"),
    ({"sensor_id": "S-T1", "value": float("inf")}, "value_not_finite"),
    ({"sensor_id": "S-T1", "value": "inf"}, "value_not_finite"),
    ({"sensor_id": "S-T1", "value": 250.0}, "value_out_of_range"),    # t_supply: -10..200 °C
    ({"sensor_id": "S-P1", "value": -0.5}, "value_out_of_range"),     # pressure below vacuum
    ({"sensor_id": "S-R1", "value": 51.0}, "value_out_of_range"),     # room_t: -30..50 °C
    ({"sensor_id": "S-T1", "value": "warm"}, "value_unparseable"),
    ({"sensor_id": "S-T1", "value": None}, "value_missing"),
    ({"sensor_id": "S-T1", "value": 70.0, "time": "yesterday-ish"}, "time_unparseable"),
    ({"sensor_id": "S-T1", "value": 70.0, "time": None}, "time_missing"),
    ({"sensor_id": "S-T1", "value": 70.0, "time": "FUTURE"}, "time_in_future"),
    ({"sensor_id": "S-T1", "value": 70.0, "time": "ANCIENT"}, "time_before_retention"),
])
def test_each_bad_row_is_quarantined_with_its_reason(net, db_url, row, reason):
    now = _now()
    special = {"FUTURE": now + timedelta(minutes=6), "ANCIENT": now - timedelta(days=200)}
    time = row.get("time", now - timedelta(minutes=1))
    row = {**row, "time": special.get(time, time) if isinstance(time, str) else time}
    rows = pd.DataFrame([row], columns=["time", "sensor_id", "value"]).astype(object)
    result = ingest_rows(net, rows, "bulk:test.csv", keep_days=183)
    assert (result.accepted, result.duplicates, result.rejected) == (0, 0, 1)
    assert result.reasons == {reason: 1}
    assert _stored(db_url) == []
    (stored_reason, origin, _sensor, raw), = _rejected(db_url)
    assert (stored_reason, origin) == (reason, "bulk:test.csv")
    assert raw  # the payload as received is kept for the operator


def test_value_on_the_range_limits_is_accepted(net, db_url):
    t = _now() - timedelta(minutes=1)
    rows = pd.DataFrame({"time": [t, t], "sensor_id": ["S-T1", "S-P1"], "value": [200.0, 0.0]})
    assert ingest_rows(net, rows, "direct").accepted == 2


def test_a_few_minutes_of_clock_drift_is_not_future(net):
    rows = pd.DataFrame({"time": [_now() + timedelta(minutes=4)], "sensor_id": ["S-T1"], "value": [70.0]})
    assert ingest_rows(net, rows, "direct").accepted == 1


def test_mixed_batch_stores_exactly_the_good_rows(net, db_url):
    t = _now() - timedelta(minutes=30)
    rows = pd.DataFrame({
        "time": [t.isoformat(), "not a time", t.isoformat(), t.timestamp(), t.isoformat(), t.isoformat()],
        "sensor_id": ["S-T1", "S-T1", "S-X", "S-R1", "S-P1", "S-P1"],
        "value": ["80.5", "1", "1", "21.5", "oops", "7.25"],
    })
    result = ingest_rows(net, rows, "bulk:mixed.csv")
    assert (result.accepted, result.duplicates, result.rejected) == (3, 0, 3)
    assert result.reasons == {"time_unparseable": 1, "sensor_unknown": 1, "value_unparseable": 1}
    assert _stored(db_url) == [("S-P1", t, 7.25), ("S-R1", t, 21.5), ("S-T1", t, 80.5)]
    raws = {reason: raw for reason, _o, _s, raw in _rejected(db_url)}
    assert "not a time" in raws["time_unparseable"] and "oops" in raws["value_unparseable"]


def test_duplicates_are_counted_not_doubled_and_first_wins(net, db_url):
    t = _now() - timedelta(minutes=5)
    first = pd.DataFrame({"time": [t, t], "sensor_id": ["S-T1", "S-T1"], "value": [70.0, 99.0]})
    assert ingest_rows(net, first, "direct") == IngestResult(1, 1, 0, {})
    again = pd.DataFrame({"time": [t, t + timedelta(minutes=1)], "sensor_id": ["S-T1", "S-T1"], "value": [71.0, 72.0]})
    assert ingest_rows(net, again, "direct") == IngestResult(1, 1, 0, {})
    assert _stored(db_url) == [("S-T1", t, 70.0), ("S-T1", t + timedelta(minutes=1), 72.0)]


def test_counts_always_add_up_on_a_random_batch(net, db_url):
    rng = np.random.default_rng(3)
    n = 2000
    now = _now()
    offsets_s = rng.integers(-900, 3600, n) // 60 * 60  # whole minutes: repeats happen
    rows = pd.DataFrame({
        "time": [now - timedelta(seconds=int(s)) for s in offsets_s],
        "sensor_id": rng.choice(["S-T1", "S-P1", "S-R1", "S-GHOST"], n),
        "value": rng.normal(30, 60, n),
    })
    result = ingest_rows(net, rows, "direct")
    ranges = {sid: SENSOR_KIND[kind] for sid, (kind, _e) in SENSORS.items()}
    valid = rows[[
        sid in ranges and ranges[sid].low <= v <= ranges[sid].high and t <= now + timedelta(minutes=5)
        for sid, v, t in zip(rows.sensor_id, rows.value, rows.time, strict=True)
    ]]
    expected_accepted = len(valid.drop_duplicates(["sensor_id", "time"]))
    assert result.total == n
    assert (result.accepted, result.duplicates, result.rejected) == (
        expected_accepted, len(valid) - expected_accepted, n - len(valid))
    with psycopg.connect(db_url) as conn:
        stored = conn.execute("SELECT count(*) FROM measurement").fetchone()[0]
        quarantined = conn.execute("SELECT count(*) FROM measurement_rejected").fetchone()[0]
    assert stored == result.accepted and quarantined == result.rejected


def test_overlapping_batches_in_parallel_neither_deadlock_nor_double(net, db_url):
    t = _now() - timedelta(hours=1)
    rows = pd.DataFrame({"time": [t + timedelta(milliseconds=100 * i) for i in range(30000)],
                         "sensor_id": ["S-T1", "S-P1", "S-R1"] * 10000, "value": 20.0})
    batches = [rows, rows.iloc[::-1]] * 3  # the same readings, resent in opposite orders
    with ThreadPoolExecutor(len(batches)) as pool_:
        results = list(pool_.map(lambda batch: ingest_rows(net, batch, "direct"), batches))
    assert sum(r.accepted for r in results) == 30000
    assert sum(r.duplicates for r in results) == 30000 * (len(batches) - 1)
    assert len(_stored(db_url)) == 30000


def test_per_row_origin_overrides_the_batch_origin(net, db_url):
    rows = pd.DataFrame({"time": [_now()], "sensor_id": ["S-GHOST"], "value": [1.0],
                         "origin": ["mqtt:heattwin/plant/S-GHOST"], "raw": ['{"t":1,"v":1}']})
    ingest_rows(net, rows, "mqtt")
    assert _rejected(db_url) == [("sensor_unknown", "mqtt:heattwin/plant/S-GHOST", "S-GHOST", '{"t":1,"v":1}')]


def test_unsplittable_payload_is_kept(net, db_url):
    result = reject_payload(net, origin="http:scada", reason="payload_unparseable", raw="{oops")
    assert result.rejected == 1
    assert _rejected(db_url) == [("payload_unparseable", "http:scada", None, "{oops")]


def test_missing_column_is_an_error_naming_it(net):
    with pytest.raises(ValueError, match="'value' is missing"):
        ingest_rows(net, pd.DataFrame({"time": [_now()], "sensor_id": ["S-T1"]}), "direct")
