"""Repair drawings (SVG) from ``settings.drawings_dir``: a Flask route, and the ``src`` the panel uses.

``mount(server)`` adds ``GET /drawings/<path>``; the folder is read from the app's settings at
request time, so tests and deployments point it anywhere with ``HEATTWIN_DRAWINGS_DIR``. Until the
route is mounted the panel inlines the SVG as a data URI, so drawings show either way.
"""

from __future__ import annotations

import base64
from pathlib import Path

from flask import abort, send_from_directory

from app import context

ROUTE = "/drawings/<path:name>"
_MOUNTED: set[int] = set()


def mount(server) -> None:
    """Serve drawings under ``/drawings/`` from ``settings.drawings_dir`` (safe joins only)."""

    def serve_drawing(name: str):
        folder = Path(context.settings().drawings_dir)
        if not (folder / name).is_file():
            abort(404)
        return send_from_directory(folder, name, max_age=3600)

    server.add_url_rule(ROUTE, "heattwin_drawing", serve_drawing)
    _MOUNTED.add(id(server))


def drawing_path(relative: str) -> Path | None:
    """The file of a drawing, or None when it is missing or would escape the drawings folder."""
    folder = Path(context.settings().drawings_dir).resolve()
    path = (folder / relative).resolve()
    return path if path.is_file() and folder in path.parents else None


def drawing_src(relative: str, server=None) -> str | None:
    """URL (when the route is mounted) or data URI of a drawing; None when the file is missing."""
    path = drawing_path(relative)
    if path is None:
        return None
    if server is not None and id(server) in _MOUNTED:
        return "/drawings/" + relative
    mime = "image/svg+xml" if path.suffix.lower() == ".svg" else "image/png"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
