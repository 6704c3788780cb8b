"""Fixtures of the layers tests; the builders themselves live in ``layer_files``."""

from __future__ import annotations

from pathlib import Path

import pytest
from layer_files import make_network_dir, make_network_gpkg

__all__ = ["make_network_dir", "make_network_gpkg"]


@pytest.fixture
def network_dir(tmp_path) -> Path:
    """The valid network as a folder of ``<layer>.geojson`` files."""
    return make_network_dir(tmp_path)


@pytest.fixture
def network_gpkg(tmp_path) -> Path:
    """The valid network as one GeoPackage."""
    return make_network_gpkg(tmp_path)
