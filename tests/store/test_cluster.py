"""The embedded default: `db up` starts a private cluster, a second `up` reuses it, `down` stops it."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
from real_parts import require

from store import cluster


@pytest.fixture
def cluster_root():
    try:
        cluster.find_bin_dir()
    except cluster.ClusterError as exc:
        require(False, str(exc))
    base = Path(tempfile.mkdtemp(prefix="heattwin-cluster-test-"))
    os.chmod(base, 0o755)
    yield base / "pg"
    cluster.down(base / "pg")
    shutil.rmtree(base, ignore_errors=True)


def _backend_pid_and_start(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]


def test_up_twice_reuses_the_running_cluster(cluster_root):
    first = cluster.up(cluster_root, fast=True)
    started = _backend_pid_and_start(first)
    second = cluster.up(cluster_root, fast=True)
    assert second == first
    assert _backend_pid_and_start(second) == started
    assert cluster.status(cluster_root)["running"] is True


def test_down_stops_and_up_restarts_with_data_kept(cluster_root):
    url = cluster.up(cluster_root, fast=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (x int)")
    assert cluster.down(cluster_root) is True
    assert cluster.status(cluster_root)["running"] is False
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    assert cluster.down(cluster_root) is False
    url = cluster.up(cluster_root, fast=True)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('kept') IS NOT NULL").fetchone()[0]


def _postmaster_uid(url) -> int:
    with psycopg.connect(url) as conn:
        data_dir = conn.execute("SHOW data_directory").fetchone()[0]
    # The first line of postmaster.pid is the server's process id.
    pid = int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    return os.stat(f"/proc/{pid}").st_uid


def test_server_runs_unprivileged(cluster_root):
    """As root the server runs as an unprivileged user (PostgreSQL refuses root); otherwise as us."""
    url = cluster.up(cluster_root, fast=True)
    expected = pwd.getpwnam(cluster._run_as()).pw_uid if os.geteuid() == 0 else os.geteuid()
    assert expected != 0
    assert _postmaster_uid(url) == expected
    assert (cluster_root / "data").stat().st_uid == expected


def _preloaded(url) -> list[str]:
    with psycopg.connect(url) as conn:
        value = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()[0]
    return [part.strip() for part in value.split(",") if part.strip()]


def test_the_cluster_preloads_timescaledb_when_installed_unless_told_not_to(cluster_root):
    require(cluster.timescaledb_installed(), "TimescaleDB is not installed: nothing to preload "
            "(bash ../shared/tools/timescaledb/build.sh installs it)")
    url = cluster.up(cluster_root, fast=True)
    assert _preloaded(url) == ["timescaledb"]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_setting('timescaledb.telemetry_level')").fetchone()[0] == "off"
    cluster.down(cluster_root)
    assert _preloaded(cluster.up(cluster_root, fast=True, timescaledb=False)) == []
