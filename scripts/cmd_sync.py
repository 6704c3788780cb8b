"""``heattwin sync``: the twin sync loop (every HEATTWIN_SYNC_INTERVAL_S seconds, default 60)."""

from __future__ import annotations

import logging
import time

from heattwin.settings import load_settings
from store import cluster
from store.db import get_pool

log = logging.getLogger("heattwin.sync")


def register(subparsers) -> None:
    parser = subparsers.add_parser("sync", help="run the twin sync loop")
    parser.add_argument("--interval", type=float, help="seconds between cycles (HEATTWIN_SYNC_INTERVAL_S)")
    parser.add_argument("--once", action="store_true", help="run one cycle and exit")
    parser.set_defaults(func=_run)


def _start_loop(pool, settings):
    """Build the loop, waiting for the database if it is not up yet."""
    import psycopg
    import psycopg_pool

    from twin.sync import SyncLoop

    while True:
        try:
            return SyncLoop(pool, window_s=settings.telemetry_window_s, retention_days=settings.retention_days)
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            log.warning("database unavailable, retrying in 5 s: %s", exc)
            time.sleep(5)


def _run(args) -> int:
    settings = load_settings()
    pool = get_pool(cluster.database_url(settings))
    loop = _start_loop(pool, settings)
    if args.once:
        outcome = loop.cycle()
        print(outcome)
        return 0 if outcome and outcome.converged else 1
    interval = args.interval or settings.sync_interval_s
    log.info("twin sync loop: every %.0f s, window %.0f s", interval, settings.telemetry_window_s)
    loop.run_forever(interval)
    return 0
