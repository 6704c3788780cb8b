"""What every page and callback shares: the settings and the database pool of this worker."""

from __future__ import annotations

from heattwin.settings import Settings, load_settings
from store.db import get_pool

_STATE: dict = {}


def configure(url: str, settings: Settings | None = None) -> None:
    _STATE["url"] = url
    _STATE["settings"] = settings or load_settings()


def settings() -> Settings:
    return _STATE.get("settings") or load_settings()


def pool():
    if "url" not in _STATE:
        raise RuntimeError("app.context.configure(url) was not called: the app has no database")
    return get_pool(_STATE["url"])
