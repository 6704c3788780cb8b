"""Versioned migrations, applied in order and recorded in ``schema_migration``.

A migration is ``store/migrations/NNN_name.sql`` or ``NNN_name.py`` (a module with
``apply(conn)``, for steps that depend on what the server offers, such as TimescaleDB).
Each runs in its own transaction; running ``migrate`` twice changes nothing.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import psycopg

from heattwin.settings import load_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.(sql|py)$")


def list_migrations() -> list[Path]:
    files = [p for p in MIGRATIONS_DIR.iterdir() if _NAME.match(p.name)]
    versions = [p.name[:3] for p in files]
    duplicated = {v for v in versions if versions.count(v) > 1}
    if duplicated:
        raise RuntimeError(f"two migrations share a version number: {sorted(duplicated)} in {MIGRATIONS_DIR}")
    return sorted(files, key=lambda p: p.name)


def has_timescaledb(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    return row is not None


def timescaledb_usable(conn: psycopg.Connection) -> bool:
    """Whether ``CREATE EXTENSION timescaledb`` can work here: installed, preloaded, and not turned off
    by ``HEATTWIN_TIMESCALEDB=off`` (which keeps a database on the plain-PostgreSQL path)."""
    if load_settings().timescaledb == "off":
        return False
    available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()[0]
    return available is not None and "timescaledb" in [p.strip() for p in preload.split(",")]


def _load_python(path: Path):
    spec = importlib.util.spec_from_file_location(f"heattwin_migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _apply(conn: psycopg.Connection, path: Path) -> None:
    """Run one migration and record it; a Python one with ``TRANSACTIONAL = False`` manages its own."""
    module = _load_python(path) if path.suffix == ".py" else None
    record = ("INSERT INTO schema_migration (version, name) VALUES (%s, %s)", (path.name[:3], path.name))
    if module is not None and not getattr(module, "TRANSACTIONAL", True):
        module.apply(conn)
        conn.execute(*record)
        return
    with conn.transaction():
        if module is None:
            conn.execute(path.read_text(encoding="utf-8"))
        else:
            module.apply(conn)
        conn.execute(*record)


def migrate(url: str) -> list[str]:
    """Apply every migration not yet recorded; return the names applied now."""
    applied_now = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migration ("
            " version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        # One migrator at a time: two processes starting together must not both apply.
        conn.execute("SELECT pg_advisory_lock(724301)")
        try:
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migration")}
            for path in list_migrations():
                version = path.name[:3]
                if version in done:
                    continue
                _apply(conn, path)
                applied_now.append(path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(724301)")
    return applied_now
