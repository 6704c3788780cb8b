"""Loading a city into the store: network (validated) and records, as `heattwin import`/`demo` do."""

from __future__ import annotations

from pathlib import Path

from layers.read import read_network
from layers.records import network_to_asset_rows
from store import assets, records
from store.db import get_pool
from store.migrate import migrate


class ImportRefused(RuntimeError):
    """A network file with errors: nothing was stored. ``report`` lists every problem."""

    def __init__(self, path, report):
        super().__init__(f"{path}: refused, {len(report.errors)} errors; the store is unchanged")
        self.report = report


def import_network(url: str, path: Path) -> tuple[dict, object]:
    """Validate the network at ``path`` and make it the current one; raises ``ImportRefused``."""
    network, report = read_network(Path(path))
    if not report.ok:
        raise ImportRefused(path, report)
    rows, basemap = network_to_asset_rows(network)
    summary = assets.replace_network(get_pool(url), rows, basemap, str(path))
    return summary, report


def load_city(url: str, city_dir: Path) -> dict:
    """Migrate, import ``city_dir/network.gpkg`` and load ``city_dir/records`` once."""
    city_dir = Path(city_dir)
    migrate(url)
    summary, _ = import_network(url, city_dir / "network.gpkg")
    pool = get_pool(url)
    if not records.has_records(pool) and (city_dir / "records").is_dir():
        summary["records"] = records.load_records(pool, city_dir / "records")
    return summary
