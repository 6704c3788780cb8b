"""``heattwin serve``: the web app (wall, dashboards, APIs) on HEATTWIN_HOST:HEATTWIN_PORT."""

from __future__ import annotations

from heattwin.settings import load_settings
from store import cluster
from store.migrate import migrate


def register(subparsers) -> None:
    parser = subparsers.add_parser("serve", help="serve the web app")
    parser.add_argument("--port", type=int, help="override HEATTWIN_PORT")
    parser.set_defaults(func=_run)


def _run(args) -> int:
    import dataclasses

    from app.server import serve

    settings = load_settings()
    if args.port:
        settings = dataclasses.replace(settings, port=args.port)
    url = cluster.database_url(settings)
    migrate(url)
    serve(url, settings)
    return 0
