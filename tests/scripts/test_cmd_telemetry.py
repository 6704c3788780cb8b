"""``heattwin ingest FILE`` in long and wide form (CSV and Parquet) and ``heattwin token add``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest
from telemetry_net import build_network

from scripts.cmd_telemetry import main, read_readings
from store.tokens import get_data_source

SENSORS = {"S-T1": ("t_supply", "ST-1"), "S-T2": ("t_return", "ST-1")}


@pytest.fixture
def cli_db(pool, db_url, monkeypatch):
    build_network(pool, SENSORS)
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def _iso(minutes_ago: int) -> str:
    return (datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=minutes_ago)).isoformat()


def _counts(url) -> tuple[int, list[tuple]]:
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT count(*) FROM measurement").fetchone()[0]
        rejected = conn.execute("SELECT origin, reason, raw FROM measurement_rejected ORDER BY id").fetchall()
    return stored, rejected


def test_long_csv_stores_good_rows_and_quarantines_bad_cells(cli_db, tmp_path, capsys):
    path = tmp_path / "scada.csv"
    path.write_text("time,sensor_id,value\n"
                    f"{_iso(3)},S-T1,95.5\n{_iso(2)},S-T1,96\n{_iso(2)},S-T2,hot\nnot-a-time,S-T2,50\n")
    assert main(["ingest", str(path)]) == 0
    assert "accepted 2, duplicates 0, rejected 2" in capsys.readouterr().out
    stored, rejected = _counts(cli_db)
    assert stored == 2
    assert [(o, r) for o, r, _raw in rejected] == [("bulk:scada.csv", "value_unparseable"),
                                                  ("bulk:scada.csv", "time_unparseable")]
    assert "hot" in rejected[0][2]


def test_wide_parquet_reads_one_column_per_sensor(cli_db, tmp_path, capsys):
    path = tmp_path / "wide.parquet"
    pd.DataFrame({"time": pd.to_datetime([_iso(2), _iso(1)]), "S-T1": [90.0, 91.0],
                  "S-T2": [50.0, None]}).to_parquet(path)
    assert main(["ingest", str(path), "--origin", "historian"]) == 0
    assert "3 readings; accepted 3" in capsys.readouterr().out  # the empty cell is no reading
    assert _counts(cli_db)[0] == 3


def test_wide_csv_and_long_csv_give_the_same_rows(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("time,S-T1,S-T2\n2026-01-01T00:00:00Z,1,2\n2026-01-01T00:01:00Z,3,\n")
    long = read_readings(wide).sort_values(["sensor_id", "time"]).reset_index(drop=True)
    assert long.values.tolist() == [["2026-01-01T00:00:00Z", "S-T1", "1"], ["2026-01-01T00:01:00Z", "S-T1", "3"],
                                    ["2026-01-01T00:00:00Z", "S-T2", "2"]]


def test_file_without_time_column_is_refused_with_the_columns_found(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("when,S-T1\n1,2\n")
    with pytest.raises(ValueError, match="found when, S-T1"):
        read_readings(path)


def test_token_add_prints_a_token_only_its_hash_is_stored(cli_db, pool, capsys):
    assert main(["token", "add", "scada-north"]) == 0
    token = capsys.readouterr().out.strip()
    assert get_data_source(pool, token) == "scada-north"
    with psycopg.connect(cli_db) as conn:
        stored = conn.execute("SELECT token_sha256 FROM data_source_token").fetchone()[0]
    assert token not in stored and len(stored) == 64
