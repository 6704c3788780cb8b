"""Migrations run in order, are recorded, and running them twice changes nothing."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from real_parts import require

from heattwin import choices
from store import cluster
from store.migrate import has_timescaledb, list_migrations, migrate


def _schema_snapshot(url):
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY 1, 2"
        ).fetchall()
        versions = conn.execute("SELECT version, name FROM schema_migration ORDER BY 1").fetchall()
    return tables, versions


def test_every_migration_is_recorded_in_order(db_url):
    _, versions = _schema_snapshot(db_url)
    assert [name for _, name in versions] == [p.name for p in list_migrations()]


def test_migrating_twice_changes_nothing(db_url):
    before = _schema_snapshot(db_url)
    assert migrate(db_url) == []
    assert _schema_snapshot(db_url) == before


def test_data_model_tables_exist(db_url):
    tables, _ = _schema_snapshot(db_url)
    names = {t for t, _, _ in tables}
    for table in ("asset", "equipment", "maintenance_log", "drawing", "sensor", "household", "team",
                  "work_order", "work_order_event", "alarm", "twin_run", "twin_state", "scenario",
                  "measurement", "measurement_rejected"):
        assert table in names, table


def _enum(conn, name):
    rows = conn.execute(
        "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
        " WHERE t.typname = %s ORDER BY e.enumsortorder", (name,)).fetchall()
    return tuple(r[0] for r in rows)


def test_sql_enums_match_the_choices_module(db_url):
    with psycopg.connect(db_url) as conn:
        assert _enum(conn, "alarm_severity") == choices.alarm_severity_values
        assert _enum(conn, "alarm_state") == choices.alarm_state_values
        assert _enum(conn, "work_order_state") == choices.work_order_state_values
        assert _enum(conn, "element_kind") == choices.ELEMENT_KINDS


def _relkind(conn, name):
    row = conn.execute("SELECT relkind FROM pg_class WHERE relname = %s AND relnamespace = 'public'::regnamespace",
                       (name,)).fetchone()
    return None if row is None else row[0]


def _rollup_columns(conn, name):
    rows = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                        " AND NOT attisdropped ORDER BY attnum", (name,)).fetchall()
    return [r[0] for r in rows]


ROLLUPS = ("measurement_5m", "measurement_1h")
ROLLUP_COLUMNS = ["bucket", "sensor_id", "avg", "min", "max", "n"]


@pytest.mark.plain_postgresql
def test_plain_postgresql_has_the_time_bucket_shim_and_rollup_tables(db_url):
    with psycopg.connect(db_url) as conn:
        assert not has_timescaledb(conn)
        row = conn.execute(
            "SELECT time_bucket(INTERVAL '5 minutes', TIMESTAMPTZ '2026-11-22 10:47:31+00')").fetchone()
        assert row[0].isoformat() == "2026-11-22T10:45:00+00:00"
        for name in ROLLUPS:
            assert _relkind(conn, name) == "r", name  # a table kept by refresh_rollups, not a view
            assert _rollup_columns(conn, name) == ROLLUP_COLUMNS
        triggers = conn.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'measurement'::regclass"
                                " AND NOT tgisinternal ORDER BY 1").fetchall()
        assert [t[0] for t in triggers] == ["measurement_rollup_insert", "measurement_rollup_update"]


@pytest.mark.timescaledb
def test_timescaledb_has_the_hypertable_compression_and_continuous_aggregates(db_url):
    with psycopg.connect(db_url) as conn:
        assert has_timescaledb(conn)
        hypertable = conn.execute("SELECT compression_enabled FROM timescaledb_information.hypertables"
                                  " WHERE hypertable_name = 'measurement'").fetchone()
        assert hypertable == (True,)
        aggregates = conn.execute("SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
                                  " ORDER BY 1").fetchall()
        assert aggregates == [("measurement_1h", False), ("measurement_5m", False)]
        for name in ROLLUPS:
            assert _rollup_columns(conn, name) == ROLLUP_COLUMNS
        jobs = conn.execute("SELECT proc_name, hypertable_name FROM timescaledb_information.jobs"
                            " WHERE hypertable_name IS NOT NULL ORDER BY 1, 2").fetchall()
        assert jobs == [("policy_compression", "measurement"),
                        ("policy_compression", "twin_residual_history"),   # the twin's history (018)
                        ("policy_compression", "twin_run_history"),
                        ("policy_compression", "twin_state_history"),
                        ("policy_refresh_continuous_aggregate", "measurement_1h"),
                        ("policy_refresh_continuous_aggregate", "measurement_5m")]
        assert conn.execute("SELECT current_setting('timescaledb.telemetry_level')").fetchone()[0] == "off"


@pytest.mark.timescaledb
def test_timescaledb_off_keeps_a_preloading_server_on_the_plain_path(pg_server, monkeypatch):
    monkeypatch.setenv("HEATTWIN_TIMESCALEDB", "off")
    with _scratch_database(pg_server) as url:
        migrate(url)
        with psycopg.connect(url) as conn:
            assert not has_timescaledb(conn)
            assert all(_relkind(conn, name) == "r" for name in ROLLUPS)


@contextmanager
def _scratch_database(server_url):
    from tests.conftest import _admin, _database_url, _drop

    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _database_url(server_url, name)
    finally:
        _drop(server_url, name)


@pytest.fixture
def unpreloaded_server():
    """A private cluster on this machine, where TimescaleDB is installed, that does not preload it."""
    try:
        cluster.find_bin_dir()
    except cluster.ClusterError as exc:
        require(False, str(exc))
    require(cluster.timescaledb_installed(), "TimescaleDB is not installed: an installed-but-not-preloaded "
            "server cannot be tried (bash ../shared/tools/timescaledb/build.sh installs it)")
    base = Path(tempfile.mkdtemp(prefix="heattwin-unpreloaded-"))
    os.chmod(base, 0o755)
    url = cluster.up(base / "pg", fast=True, timescaledb=False)
    yield url.rsplit("/", 1)[0] + "/postgres"
    cluster.down(base / "pg")
    shutil.rmtree(base, ignore_errors=True)


def test_a_server_with_timescaledb_installed_but_not_preloaded_migrates_on_the_plain_path(
        unpreloaded_server, monkeypatch):
    monkeypatch.setenv("HEATTWIN_TIMESCALEDB", "auto")
    with _scratch_database(unpreloaded_server) as url:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
        assert migrate(url) == [p.name for p in list_migrations()]
        assert migrate(url) == []  # and stays migratable: the next run finds everything recorded
        _, versions = _schema_snapshot(url)
        assert [name for _, name in versions] == [p.name for p in list_migrations()]
        with psycopg.connect(url) as conn:
            assert not has_timescaledb(conn)
            assert all(_relkind(conn, name) == "r" for name in ROLLUPS)
