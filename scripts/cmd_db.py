"""``heattwin db up|down|status|migrate``: the embedded PostgreSQL cluster and the schema."""

from __future__ import annotations

from heattwin.settings import load_settings
from store import cluster
from store.migrate import migrate


def register(subparsers) -> None:
    parser = subparsers.add_parser("db", help="the database: embedded cluster and migrations")
    parser.add_argument("action", choices=("up", "down", "status", "migrate"))
    parser.set_defaults(func=_run)


def _run(args) -> int:
    settings = load_settings()
    if args.action == "down":
        if settings.database_url:
            print("DATABASE_URL is set: HeatTwin does not manage that server")
            return 0
        stopped = cluster.down(settings.cluster_dir)
        print("stopped the embedded PostgreSQL cluster" if stopped else "the embedded cluster was not running")
        return 0
    if args.action == "status":
        return _status(settings)
    url = cluster.database_url(settings)
    applied = migrate(url)
    print(f"database: {url}")
    print(f"migrations applied now: {', '.join(applied) if applied else 'none (schema up to date)'}")
    return 0


def _status(settings) -> int:
    if settings.database_url:
        print(f"using DATABASE_URL: {settings.database_url}")
        return 0
    state = cluster.status(settings.cluster_dir)
    if state["running"]:
        print(f"embedded cluster running at {state['url']} (data in {state['root']})")
    elif state["initialised"]:
        print(f"embedded cluster stopped (data in {state['root']}); start it with `heattwin db up`")
    else:
        print("no embedded cluster yet; `heattwin db up` creates one")
    return 0 if state["running"] else 3
