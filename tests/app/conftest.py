"""Browser fixtures for the app pages: Debian's Chromium (never a downloaded browser), the app served by
waitress on a free port in a thread, and a database holding a city.

The city is the demo city (``demo_db_url``) when its generator and GIS reader are present, else the
synthetic grid city of ``scripts.wall_city`` loaded through the same store functions.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
import threading
from pathlib import Path

import pytest

from scripts.wall_browser import CHROMEDRIVER, CHROMIUM, chrome_options, start_chrome
from tests.conftest import require


def pytest_setup_options():
    """Chrome options for ``dash[testing]``'s ``dash_duo``: the same system Chromium as ``browser``."""
    return chrome_options()


def _demo_city_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("data.democity", "layers.read", "layers.records"))


@pytest.fixture
def city_db_url(request, drawings_dir, tmp_path):
    """A database holding a city with records and drawings (written to ``drawings_dir``)."""
    if _demo_city_available():
        return request.getfixturevalue("demo_db_url")
    from scripts.wall_city import load_synthetic_city
    from store.db import get_pool

    url = request.getfixturevalue("db_url")
    load_synthetic_city(get_pool(url), stations=150, drawings_dir=drawings_dir, records_dir=tmp_path / "records")
    return url


@pytest.fixture
def wall_url(city_db_url, drawings_dir):
    """Base URL of the app (``create_app``) serving ``city_db_url``, drawings from ``drawings_dir``."""
    from waitress.server import create_server

    from app.components import wall_data
    from app.server import create_app
    from heattwin.settings import load_settings

    wall_data._CACHE.clear()  # a new database: geometry and runs of the previous test do not apply
    settings = dataclasses.replace(load_settings(), drawings_dir=Path(drawings_dir), tile_url=None)
    app = create_app(city_db_url, settings)
    server = create_server(app.server, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    """A headless Debian Chromium driven by the system chromedriver."""
    require(Path(CHROMIUM).exists() and shutil.which(CHROMEDRIVER) is not None,
            "Chromium and chromedriver are needed (apt install chromium chromium-driver)")
    driver = start_chrome()
    yield driver
    driver.quit()
