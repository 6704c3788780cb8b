"""The embedded default: `db up` starts a private cluster, a second `up` reuses it, `down` stops it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from store import cluster


@pytest.fixture
def cluster_root():
    base = Path(tempfile.mkdtemp(prefix="heattwin-cluster-test-"))
    os.chmod(base, 0o755)
    yield base / "pg"
    cluster.down(base / "pg")
    shutil.rmtree(base, ignore_errors=True)


def _backend_pid_and_start(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]


def test_up_twice_reuses_the_running_cluster(pg_server, cluster_root):
    first = cluster.up(cluster_root, fast=True)
    started = _backend_pid_and_start(first)
    second = cluster.up(cluster_root, fast=True)
    assert second == first
    assert _backend_pid_and_start(second) == started
    assert cluster.status(cluster_root)["running"] is True


def test_down_stops_and_up_restarts_with_data_kept(pg_server, cluster_root):
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


def test_server_runs_unprivileged_when_started_as_root(pg_server, cluster_root):
    url = cluster.up(cluster_root, fast=True)
    with psycopg.connect(url) as conn:
        data_dir = conn.execute("SHOW data_directory").fetchone()[0]
    owner = Path(data_dir).stat().st_uid
    if os.geteuid() == 0:
        assert owner != 0
