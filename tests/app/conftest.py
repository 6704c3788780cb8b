"""Browser fixtures for the app pages: Debian's Chromium (never a downloaded browser), the app served by
waitress on a free port in a thread, and a database holding a city.

The city is the demo city (``demo_db_url``) when its generator and GIS reader are present, else the
synthetic grid city of ``scripts.wall_city`` loaded through the same store functions.
"""

from __future__ import annotations

import importlib.util
import shutil
import threading
from pathlib import Path

import pytest
from accounts import app_settings, browser_login, role_users

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
def users(city_db_url):
    """``{role: (username, password)}`` in the city's database."""
    from store.db import get_pool

    return role_users(get_pool(city_db_url))


@pytest.fixture
def wall_url(city_db_url, drawings_dir, users):
    """Base URL of the app (``create_app``) serving ``city_db_url``, drawings from ``drawings_dir``."""
    from waitress.server import create_server

    from app.components import wall_data
    from app.server import create_app

    wall_data._CACHE.clear()  # a new database: geometry and runs of the previous test do not apply
    app = create_app(city_db_url, app_settings(drawings_dir))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)


@pytest.fixture
def bare_browser():
    """A headless Debian Chromium driven by the system chromedriver, logged in as nobody."""
    require(Path(CHROMIUM).exists() and shutil.which(CHROMEDRIVER) is not None,
            "Chromium and chromedriver are needed (apt install chromium chromium-driver)")
    driver = start_chrome()
    yield driver
    driver.quit()


@pytest.fixture
def browser(request, bare_browser):
    """Chromium logged in to ``wall_url`` (when the test uses it) as the role of the test's
    ``pytest.mark.login_as(ROLE)`` marker, a dispatcher by default."""
    if "wall_url" in request.fixturenames:
        marker = request.node.get_closest_marker("login_as")
        username, password = request.getfixturevalue("users")[marker.args[0] if marker else "dispatcher"]
        browser_login(bare_browser, request.getfixturevalue("wall_url"), username, password)
    return bare_browser
