"""Fixtures shared by the whole suite: a real PostgreSQL started for the session, fresh databases
per test (copied from migrated templates), and the demo city generated once.

The database path is a parameter of the suite, ``HEATTWIN_TEST_DB``:

- ``timescaledb`` — the test cluster preloads the extension and every database is migrated onto
  hypertables and continuous aggregates (the default where the extension is installed, and under CI);
- ``plain`` — a cluster that does not preload it (installed or not): plain PostgreSQL with the
  ``time_bucket`` shim and the rollup tables.

``HEATTWIN_TEST_DATABASE_URL`` (a URL whose role may create databases) runs the suite on that server
instead of a private cluster; on the plain path its databases are migrated with
``HEATTWIN_TIMESCALEDB=off``. Tests marked ``timescaledb`` or ``plain_postgresql`` run on their path
only and are deselected on the other. Under ``CI=true`` a missing server, extension or browser is an
error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql
from real_parts import IN_CI, require

from store import cluster
from store.migrate import has_timescaledb, migrate, timescaledb_usable

DB_PATHS = ("timescaledb", "plain")
PATH_MARKERS = {"timescaledb": "timescaledb", "plain": "plain_postgresql"}
BUILD_HINT = "build it with: bash ../shared/tools/timescaledb/build.sh (make test does)"


def db_path() -> str:
    """The database path this session runs on (``HEATTWIN_TEST_DB``)."""
    chosen = os.environ.get("HEATTWIN_TEST_DB", "").strip().lower()
    if not chosen:
        external = os.environ.get("HEATTWIN_TEST_DATABASE_URL")
        installed = external is not None or _installed_here()
        chosen = "timescaledb" if IN_CI or installed else "plain"
    if chosen not in DB_PATHS:
        raise pytest.UsageError(f"HEATTWIN_TEST_DB must be one of {', '.join(DB_PATHS)}, not {chosen!r}")
    return chosen


def _installed_here() -> bool:
    try:
        return cluster.timescaledb_installed()
    except cluster.ClusterError:
        return False


def pytest_report_header(config):
    server = os.environ.get("HEATTWIN_TEST_DATABASE_URL") or "a private cluster"
    return f"database path: {db_path()} (HEATTWIN_TEST_DB), server: {server}"


def pytest_collection_modifyitems(config, items):
    """Tests of the other path's own features are deselected, visibly, not skipped."""
    other = PATH_MARKERS[next(p for p in DB_PATHS if p != db_path())]
    deselected = [item for item in items if item.get_closest_marker(other)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


@pytest.fixture(scope="session")
def pg_root():
    # pytest's tmp folders are private to root; the server runs as an unprivileged user.
    root = Path(tempfile.mkdtemp(prefix="heattwin-test-pg-"))
    os.chmod(root, 0o755)
    yield root / "pg"
    cluster.down(root / "pg")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(request):
    """URL of the maintenance database of the server this session runs on."""
    path = db_path()
    external = os.environ.get("HEATTWIN_TEST_DATABASE_URL")
    if external:
        return _external_server(external, path)
    try:
        cluster.find_bin_dir()
    except cluster.ClusterError as exc:
        require(False, str(exc))
    if path == "timescaledb":
        require(cluster.timescaledb_installed(), f"TimescaleDB is not installed beside "
                f"{cluster.find_bin_dir()} (HEATTWIN_TEST_DB=timescaledb): {BUILD_HINT}")
    url = cluster.up(request.getfixturevalue("pg_root"), fast=True, timescaledb=path == "timescaledb")
    return _database_url(url, "postgres")


def _external_server(url: str, path: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        usable = timescaledb_usable(conn)
    if path == "timescaledb":
        require(usable, "the server of HEATTWIN_TEST_DATABASE_URL does not offer a preloaded TimescaleDB "
                "(HEATTWIN_TEST_DB=timescaledb)")
    else:
        # Keeps every migration of this session (and of the commands the tests start) on the plain path.
        os.environ["HEATTWIN_TIMESCALEDB"] = "off"
    return url


def _admin(pg_server):
    return psycopg.connect(pg_server, autocommit=True)


def _database_url(pg_server: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``pg_server`` (host, user and options kept)."""
    return urlsplit(pg_server)._replace(path="/" + name).geturl()


def _create_from_template(pg_server: str, template: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin(pg_server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return name


def _drop(pg_server: str, name: str) -> None:
    with _admin(pg_server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _seal(pg_server: str, name: str) -> None:
    """Make ``name`` a template nobody can connect to, and end the sessions it has: TimescaleDB's
    background workers connect to every database that allows it, and ``CREATE DATABASE … TEMPLATE``
    fails (ObjectInUse) while any session is connected to the template."""
    with _admin(pg_server) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE true ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE datname = %s AND pid <> pg_backend_pid()", (name,))


def _drop_template(pg_server: str, name: str) -> None:
    with _admin(pg_server) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(name)))
    _drop(pg_server, name)


def _template_name(kind: str) -> str:
    # Unique per session: two sessions may share one server (HEATTWIN_TEST_DATABASE_URL).
    return f"ht_template_{kind}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def migrated_template(pg_server):
    name = _template_name("empty")
    with _admin(pg_server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _database_url(pg_server, name)
    migrate(url)
    with psycopg.connect(url) as conn:
        on_timescaledb = has_timescaledb(conn)
    if on_timescaledb != (db_path() == "timescaledb"):
        pytest.fail(f"HEATTWIN_TEST_DB={db_path()} but the migrated template is "
                    f"{'on' if on_timescaledb else 'not on'} TimescaleDB (is HEATTWIN_TIMESCALEDB set?)")
    _seal(pg_server, name)
    yield name
    _drop_template(pg_server, name)


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


@pytest.fixture(scope="module")
def demo_network_and_households(demo_city_dir):
    """The demo city's network as read from its GeoPackage and its households (what a plant is built on), once
    per test module (a module may change the network)."""
    import pandas as pd

    from layers.read import read_network

    network, report = read_network(demo_city_dir / "network.gpkg")
    assert report.ok, report.errors
    households = pd.read_csv(demo_city_dir / "records" / "household.csv", dtype={"sensor_id": str})
    return network, households


@pytest.fixture(scope="session")
def demo_template(pg_server, migrated_template, demo_city_dir):
    from scripts.loading import load_city

    name = _create_from_template(pg_server, migrated_template)
    url = _database_url(pg_server, name)
    load_city(url, demo_city_dir)
    from store.db import close_pools, get_pool
    from tests.app.accounts import role_users

    # The browser tests' accounts, hashed once here rather than in every copy (argon2 costs a third of a
    # second a hash, by design).
    role_users(get_pool(url))

    close_pools()
    _seal(pg_server, name)
    yield name
    _drop_template(pg_server, name)


@pytest.fixture
def demo_db_url(pg_server, demo_template):
    """A fresh database holding the imported demo city and its records."""
    name = _create_from_template(pg_server, demo_template)
    yield _database_url(pg_server, name)
    from store.db import close_pools

    close_pools()
    _drop(pg_server, name)
