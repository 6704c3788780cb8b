"""Connections: one pool per database URL, and the one transaction helper every write goes through."""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool

_POOLS: dict[str, ConnectionPool] = {}


def _configure(conn: psycopg.Connection) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


def get_pool(url: str, max_size: int = 8) -> ConnectionPool:
    """The process-wide pool for ``url`` (opened on first use, closed at exit)."""
    pool = _POOLS.get(url)
    if pool is None or pool.closed:
        # check: a connection broken by a server restart is replaced, not handed out.
        pool = ConnectionPool(url, min_size=1, max_size=max_size, configure=_configure,
                              check=ConnectionPool.check_connection, open=True,
                              name=f"heattwin-{len(_POOLS)}")
        _POOLS[url] = pool
    return pool


def close_pools() -> None:
    for pool in _POOLS.values():
        pool.close()
    _POOLS.clear()


atexit.register(close_pools)


@contextmanager
def transaction(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A connection inside one transaction: all of a store function's writes or none of them."""
    with pool.connection() as conn, conn.transaction():
        yield conn
