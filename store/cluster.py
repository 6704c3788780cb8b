"""The embedded default: a private PostgreSQL cluster under the project's state folder.

``up`` finds the server binaries, ``initdb``s a cluster on first use, starts it on a free
loopback port with a private socket directory, and returns its URL; a second ``up`` reuses the
running cluster. As root the server runs as an unprivileged user, as PostgreSQL requires.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

DB_NAME = "heattwin"
DB_USER = "heattwin"
_UNPRIVILEGED_USERS = ("postgres", "nobody")


class ClusterError(RuntimeError):
    pass


@dataclass(frozen=True)
class Cluster:
    """A private cluster in ``root``: ``root/data`` (PGDATA), ``root/run`` (socket), ``root/cluster.json``."""

    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def config_file(self) -> Path:
        return self.root / "cluster.json"

    def port(self) -> int | None:
        if not self.config_file.exists():
            return None
        return json.loads(self.config_file.read_text())["port"]

    def url(self, dbname: str = DB_NAME) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port()}/{dbname}"


def find_bin_dir() -> Path:
    """Where ``initdb``/``pg_ctl``/``postgres`` live: PATH first, then ``/usr/lib/postgresql/*/bin``."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for candidate in reversed(candidates):
        if (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise ClusterError(
        "PostgreSQL server binaries not found (no pg_ctl on PATH or in /usr/lib/postgresql/*/bin); "
        "install them (Debian: apt-get install postgresql) or set DATABASE_URL to an existing server"
    )


def _run_as() -> str | None:
    """The unprivileged user to run the server as, when we are root; None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in _UNPRIVILEGED_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ClusterError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


def _pg(cluster: Cluster, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    command = [str(find_bin_dir() / tool), *args]
    user = _run_as()
    if user:
        command = ["runuser", "-u", user, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd=cluster.root)
    if check and result.returncode != 0:
        raise ClusterError(f"{tool} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As PostgreSQL binds: connections left in TIME_WAIT by a stopped server do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _prepare_root(cluster: Cluster) -> None:
    cluster.socket_dir.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    if user:
        # The server user must reach the folder; the parents of a state folder are usually root's.
        entry = pwd.getpwnam(user)
        for path in (cluster.root, cluster.socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        for parent in cluster.root.resolve().parents:
            if not os.stat(parent).st_mode & 0o001:
                raise ClusterError(
                    f"{parent} is not traversable by user {user!r}: choose a state folder "
                    f"(HEATTWIN_STATE_DIR) whose parents are world-executable"
                )


def _initdb(cluster: Cluster, fast: bool) -> None:
    _prepare_root(cluster)
    _pg(cluster, "initdb", "-D", str(cluster.data_dir), "-U", DB_USER, "--auth=trust",
        "--encoding=UTF8", "--locale=C.UTF-8")
    settings = [
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{cluster.socket_dir}'",
        "max_connections = 200",
        "shared_buffers = 256MB",
        "timezone = 'UTC'",
    ]
    if fast:
        # Test clusters are thrown away: durability costs time and buys nothing.
        settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
    with open(cluster.data_dir / "postgresql.auto.conf", "a") as conf:
        conf.write("\n".join(settings) + "\n")


def is_running(cluster: Cluster) -> bool:
    if not cluster.data_dir.exists():
        return False
    return _pg(cluster, "pg_ctl", "status", "-D", str(cluster.data_dir), check=False).returncode == 0


def timescaledb_installed() -> bool:
    """Whether the TimescaleDB library is installed beside these server binaries."""
    return (find_bin_dir().parent / "lib" / "timescaledb.so").exists()


def _server_options(port: int, timescaledb: bool | None) -> str:
    options = f"-p {port}"
    if timescaledb if timescaledb is not None else timescaledb_installed():
        # Preloaded so CREATE EXTENSION works; telemetry off: these machines reach no outside host.
        options += " -c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off"
    return options


def _start(cluster: Cluster, timescaledb: bool | None = None) -> None:
    port = cluster.port()
    if port is None or not _port_free(port):
        port = _free_port()
    cluster.config_file.write_text(json.dumps({"port": port, "socket_dir": str(cluster.socket_dir)}))
    log = cluster.log_file
    if _run_as():
        log.touch()
        entry = pwd.getpwnam(_run_as())
        os.chown(log, entry.pw_uid, entry.pw_gid)
    _pg(cluster, "pg_ctl", "start", "-w", "-t", "60", "-D", str(cluster.data_dir), "-l", str(log),
        "-o", _server_options(port, timescaledb))


def _ensure_database(cluster: Cluster) -> None:
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def up(root: Path, fast: bool = False, timescaledb: bool | None = None) -> str:
    """Start (creating on first use) the cluster in ``root``; return its database URL.

    ``timescaledb``: preload the extension (None: when it is installed)."""
    cluster = Cluster(Path(root).resolve())
    cluster.root.mkdir(parents=True, exist_ok=True)
    if not (cluster.data_dir / "PG_VERSION").exists():
        _initdb(cluster, fast)
    if not is_running(cluster):
        _start(cluster, timescaledb)
    _ensure_database(cluster)
    return cluster.url()


def down(root: Path) -> bool:
    """Stop the cluster in ``root``; False when it was not running."""
    cluster = Cluster(Path(root).resolve())
    if not is_running(cluster):
        return False
    _pg(cluster, "pg_ctl", "stop", "-w", "-m", "fast", "-D", str(cluster.data_dir))
    return True


def status(root: Path) -> dict:
    cluster = Cluster(Path(root).resolve())
    running = is_running(cluster)
    return {
        "root": str(cluster.root),
        "initialised": (cluster.data_dir / "PG_VERSION").exists(),
        "running": running,
        "url": cluster.url() if running else None,
    }


def database_url(settings) -> str:
    """``DATABASE_URL`` when set, else the embedded cluster's URL (started if needed)."""
    if settings.database_url:
        return settings.database_url
    return up(settings.cluster_dir)


def recreate_database(url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``url`` (benches work in their own); its URL."""
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{server}/{name}"
