"""Migrations run in order, are recorded, and running them twice changes nothing."""

from __future__ import annotations

import psycopg

from heattwin import choices
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


def test_plain_postgresql_has_the_time_bucket_shim_and_rollups(db_url):
    with psycopg.connect(db_url) as conn:
        if has_timescaledb(conn):
            return
        row = conn.execute(
            "SELECT time_bucket(INTERVAL '5 minutes', TIMESTAMPTZ '2026-11-22 10:47:31+00')").fetchone()
        assert row[0].isoformat() == "2026-11-22T10:45:00+00:00"
        for view in ("measurement_5m", "measurement_1h"):
            assert conn.execute("SELECT count(*) FROM pg_matviews WHERE matviewname = %s",
                                (view,)).fetchone()[0] == 1
