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


def import_network(url: str, path: Path, mapping=None, snap_tolerance_m: float | None = None) -> tuple[dict, object]:
    """Validate the network at ``path`` (through ``mapping``, a mapping file, if given) and make it
    the current one with its design settings; raises ``ImportRefused``."""
    network, report = read_network(Path(path), snap_tolerance_m=snap_tolerance_m, mapping=mapping)
    if not report.ok:
        raise ImportRefused(path, report)
    rows, basemap = network_to_asset_rows(network)
    summary = assets.replace_network(get_pool(url), rows, basemap, str(path), design=network.design.to_dict(),
                                     source_crs=network.source_crs,
                                     mapping_path=str(mapping) if mapping is not None else None)
    return summary, report


def load_city(url: str, city_dir: Path) -> dict:
    """Migrate, import ``city_dir/network.gpkg`` and load ``city_dir/records`` once."""
    city_dir = Path(city_dir)
    migrate(url)
    summary, _ = import_network(url, city_dir / "network.gpkg")
    pool = get_pool(url)
    if not records.has_records(pool) and (city_dir / "records").is_dir():
        summary["records"] = records.load_records(pool, city_dir / "records")
    summary["knowledge"] = load_demo_knowledge(pool)
    return summary


def load_demo_knowledge(pool) -> int:
    """The demo's knowledge base (``data/knowledge/kb_seed.yaml``) into a store that has no entries yet;
    returns how many were added (a store with entries keeps its own)."""
    from data.knowledge import SEED_FILE
    from store.audit import SYSTEM
    from store.knowledge import count_entries, import_entries

    if count_entries(pool):
        return 0
    return len(import_entries(pool, SEED_FILE, actor=SYSTEM).added)


def network_for_command(path: str | None):
    """The network a command works on: the file at ``path`` (with its reader's errors), or the
    store's current network (no errors). Exits with a message when the store has none."""
    if path:
        network, report = read_network(Path(path))
        return network, list(report.errors)
    from heattwin.settings import load_settings
    from layers.records import asset_rows_to_network
    from store import cluster
    from store.networks import get_design

    pool = get_pool(cluster.database_url(load_settings()))
    rows, basemap = assets.get_asset_rows(pool)
    if rows.empty:
        raise SystemExit("the store holds no network: run `heattwin import FILE` or `heattwin demo` first")
    design = get_design(pool) or {}
    return asset_rows_to_network(rows, basemap, design.get("settings"), design.get("source_crs")), []
