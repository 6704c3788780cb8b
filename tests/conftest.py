"""Fixtures shared by the whole suite: a real PostgreSQL started for the session, fresh databases
per test (copied from migrated templates), and the demo city generated once.

Under ``CI=true`` a missing server or browser is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from real_parts import require

from store import cluster
from store.migrate import migrate


@pytest.fixture(scope="session")
def pg_root():
    # pytest's tmp folders are private to root; the server runs as an unprivileged user.
    root = Path(tempfile.mkdtemp(prefix="heattwin-test-pg-"))
    os.chmod(root, 0o755)
    yield root / "pg"
    cluster.down(root / "pg")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(pg_root):
    """URL of the maintenance database of a private cluster started for this test session."""
    try:
        cluster.find_bin_dir()
    except cluster.ClusterError as exc:
        require(False, str(exc))
    url = cluster.up(pg_root, fast=True, timescaledb=False)
    return url.rsplit("/", 1)[0] + "/postgres"


def _admin(pg_server):
    return psycopg.connect(pg_server, autocommit=True)


def _database_url(pg_server: str, name: str) -> str:
    return pg_server.rsplit("/", 1)[0] + "/" + name


def _create_from_template(pg_server: str, template: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def _drop(pg_server: str, name: str) -> None:
    with _admin(pg_server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_template(pg_server):
    name = "ht_template_empty"
    with _admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(_database_url(pg_server, name))
    return name


@pytest.fixture
def db_url(pg_server, migrated_template):
    """A fresh, migrated, empty database for one test."""
    name = _create_from_template(pg_server, migrated_template)
    yield _database_url(pg_server, name)
    from store.db import close_pools

    close_pools()
    _drop(pg_server, name)


@pytest.fixture
def pool(db_url):
    from store.db import get_pool

    return get_pool(db_url)


@pytest.fixture(scope="session")
def drawings_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("drawings")


@pytest.fixture(scope="session")
def demo_city_dir(tmp_path_factory, drawings_dir):
    """The default demo city (150 stations, seed 7), generated once for the session."""
    from data.democity import generate_city

    out = tmp_path_factory.mktemp("demo-city")
    generate_city(out, stations=150, seed=7, drawings_dir=drawings_dir)
    return out


@pytest.fixture(scope="session")
def demo_template(pg_server, migrated_template, demo_city_dir):
    from scripts.loading import load_city

    name = "ht_template_demo"
    with _admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    url = _database_url(pg_server, name)
    load_city(url, demo_city_dir)
    from store.db import close_pools

    close_pools()
    return name


@pytest.fixture
def demo_db_url(pg_server, demo_template):
    """A fresh database holding the imported demo city and its records."""
    name = _create_from_template(pg_server, demo_template)
    yield _database_url(pg_server, name)
    from store.db import close_pools

    close_pools()
    _drop(pg_server, name)
