"""Importing a network into the store: the demo city loads whole; a bad file changes nothing;
a newer version replaces the network and keeps records linked by id."""

from __future__ import annotations

import shutil

import geopandas as gpd
import psycopg
import pytest

from scripts.loading import ImportRefused, import_network, load_city
from store.assets import count_by_kind, get_asset


def _counts(url):
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("asset", "sensor", "equipment", "drawing", "household", "work_order",
                          "basemap_feature", "network_version")}


def test_demo_city_loads_with_its_records(db_url, demo_city_dir):
    summary = load_city(db_url, demo_city_dir)
    counts = _counts(db_url)
    kinds = summary["by_kind"]
    assert kinds["station"] >= 140 and kinds["source"] == 3
    assert counts["equipment"] > kinds["station"]
    assert counts["drawing"] >= kinds["station"]
    assert 20000 <= counts["household"] <= 30000
    assert counts["work_order"] > 0
    assert counts["basemap_feature"] > 0


def _copy_city(demo_city_dir, tmp_path):
    target = tmp_path / "city"
    shutil.copytree(demo_city_dir, target)
    return target / "network.gpkg"


def test_invalid_file_is_refused_and_store_unchanged(demo_db_url, demo_city_dir, tmp_path):
    gpkg = _copy_city(demo_city_dir, tmp_path)
    pipes = gpd.read_file(gpkg, layer="pipes")
    pipes.loc[0, "dn_mm"] = 2000  # outside DN 25–1400
    pipes.to_file(gpkg, layer="pipes", driver="GPKG")
    before = _counts(demo_db_url)
    with pytest.raises(ImportRefused) as refused:
        import_network(demo_db_url, gpkg)
    assert any(pipes.loc[0, "id"] in e and "dn_mm" in e for e in refused.value.report.errors)
    assert _counts(demo_db_url) == before


def test_newer_version_retires_referenced_elements_and_keeps_records(demo_db_url, demo_city_dir, tmp_path):
    gpkg = _copy_city(demo_city_dir, tmp_path)
    layers = {name: gpd.read_file(gpkg, layer=name) for name in ("stations", "sensors", "communities")}
    gone = layers["stations"].iloc[-1]["id"]
    # Drop the station and whatever must go with it for the file to stay valid.
    layers["stations"] = layers["stations"][layers["stations"]["id"] != gone]
    layers["sensors"] = layers["sensors"][layers["sensors"]["element_id"] != gone]
    layers["communities"].loc[layers["communities"]["station_id"] == gone, "station_id"] = \
        layers["stations"].iloc[0]["id"]
    for name, frame in layers.items():
        frame.to_file(gpkg, layer=name, driver="GPKG")
    before = _counts(demo_db_url)
    stations_before = count_by_kind_safe(demo_db_url)
    summary, _ = import_network(demo_db_url, gpkg)
    assert summary["retired"] >= 1
    retired = get_asset_by_url(demo_db_url, gone)
    assert retired is not None and retired["retired_at"] is not None  # its equipment still points at it
    after = _counts(demo_db_url)
    assert after["equipment"] == before["equipment"] and after["work_order"] == before["work_order"]
    assert count_by_kind_safe(demo_db_url)["station"] == stations_before["station"] - 1


def count_by_kind_safe(url):
    from store.db import get_pool

    return count_by_kind(get_pool(url))


def get_asset_by_url(url, asset_id):
    from store.db import get_pool

    return get_asset(get_pool(url), asset_id)
