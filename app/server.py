"""The Dash application: multi-page, served by waitress (or any WSGI server via ``server``)."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import html

from app import auth, context
from app.auth.principal import current_principal
from app.components.userbar import userbar
from heattwin.settings import PROJECT_ROOT, Settings, load_settings

ASSETS_DIR = PROJECT_ROOT / "assets"


def create_app(url: str, settings: Settings | None = None) -> dash.Dash:
    """A Dash app reading the store at ``url``; pages are the modules of ``app/pages``."""
    settings = settings or load_settings()
    context.configure(url, settings)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        compress=True,
        suppress_callback_exceptions=True,
        title="HeatTwin",
    )
    app.layout = _root_layout
    auth.mount(app, settings)
    _mount_extras(app, url)
    return app


def _root_layout():
    """Every page: the user bar, the page, and the strip where refusals are shown (``assets/auth.js``)."""
    lang = context.settings().language
    return html.Div(id="page-root", children=[
        userbar(current_principal(), lang), dash.page_container,
        html.Div(id="app-toast", className="app-toast", role="alert", **{"aria-live": "assertive"})])


def _mount_extras(app: dash.Dash, url: str) -> None:
    """Flask routes that live beside the pages: the ingest API and the drawings."""
    from app import api, call_api, drawings, field_api, platform_api
    from app.reports import routes as report_routes

    api.mount(app.server, url)
    drawings.mount(app.server)
    field_api.mount(app.server)
    call_api.mount(app.server)
    platform_api.mount(app.server, url)
    report_routes.mount(app.server)
    app.server.add_url_rule("/healthz", "heattwin_health", _health)


def _health():
    """For a load balancer or a service manager: up, and whether the database answers (no login)."""
    try:
        with context.pool().connection(timeout=2) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure to reach the store means: not healthy
        return {"ok": False, "database": str(exc)[:200]}, 503
    return {"ok": True}


def serve(url: str, settings: Settings | None = None, banner: str = "") -> None:
    """Serve the app with waitress; ``banner`` (how to log in) is printed once it is ready."""
    from waitress import serve as waitress_serve

    settings = settings or load_settings()
    app = create_app(url, settings)
    if banner:
        print(banner, flush=True)
    print(f"HeatTwin is serving on http://{settings.host}:{settings.port}/", flush=True)
    waitress_serve(app.server, host=settings.host, port=settings.port, threads=8)
