"""``heattwin import`` / ``heattwin export`` (scripts/cmd_network.py) end to end, on a real PostgreSQL."""

from __future__ import annotations

import argparse

from layer_files import make_network_dir, valid_layers

from layers.read import read_network
from scripts import cmd_network


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="heattwin")
    cmd_network.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def _broken(tmp_path):
    pipes = valid_layers()["pipes"]
    pipes[0]["properties"]["dn_mm"] = 2000
    return make_network_dir(tmp_path / "bad", pipes=pipes)


def test_dry_run_validates_only(tmp_path, capsys):
    assert _cli(["import", str(make_network_dir(tmp_path)), "--dry-run"]) == 0
    assert "valid (0 errors" in capsys.readouterr().out
    assert _cli(["import", str(_broken(tmp_path)), "--dry-run"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("error: pipes P-1 field dn_mm: 2000")
    assert out[-1] == "refused: 1 errors, the store is unchanged"


def test_import_then_export(tmp_path, db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert _cli(["import", str(_broken(tmp_path))]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "refused: 1 errors, the store is unchanged"
    assert _cli(["export", str(tmp_path / "empty.gpkg")]) == 1
    assert "holds no network" in capsys.readouterr().out

    assert _cli(["import", str(make_network_dir(tmp_path))]) == 0
    assert "imported" in capsys.readouterr().out
    assert _cli(["export", str(tmp_path / "out.gpkg")]) == 0
    network, report = read_network(tmp_path / "out.gpkg")
    assert report.ok, report.errors
    assert sorted(network.pipes["id"]) == ["P-1", "P-2", "P-3"] and len(network.streets) == 1


def test_inspect_writes_a_starter_mapping(tmp_path, capsys):
    from foreign_networks import chinese_gpkg

    path = chinese_gpkg(tmp_path)
    assert _cli(["import", str(path), "--inspect", "--write-mapping", str(tmp_path / "m.yaml")]) == 0
    out = capsys.readouterr().out
    assert "layer 管线 (GPKG" in out and "CRS EPSG:4547" in out and "field 管径 (object): 'DN300'" in out
    import yaml

    starter = yaml.safe_load((tmp_path / "m.yaml").read_text(encoding="utf-8"))
    assert starter["layers"]["pipes"][0]["source"] == "管线"
    assert starter["layers"]["pipes"][0]["fields"]["dn_mm"] == {"field": "管径", "extract": r"(\d+)"}
    assert starter["layers"]["stations"][0]["source"] == "换热站" and starter["topology"]["nodes"] == "line_ends"


def test_mapped_import_keeps_design_and_crs_and_replacing_closes_vanished_alarms(tmp_path, db_url, monkeypatch,
                                                                               capsys):
    from foreign_networks import MAPPINGS, chinese_gpkg

    from store.alarms import add_alarm, get_alarm, list_alarm_events
    from store.db import get_pool
    from store.networks import get_design

    monkeypatch.setenv("DATABASE_URL", db_url)
    path = chinese_gpkg(tmp_path / "a")
    assert _cli(["import", str(path), "--mapping", str(MAPPINGS / "chinese_gpkg.yaml")]) == 0
    pool = get_pool(db_url)
    stored = get_design(pool)
    assert stored["source_crs"] == "EPSG:4547" and stored["settings"]["design_supply_c"] == 130.0
    gone = add_alarm(pool, asset_id="ST-HRZ03", cause="station_dp_low", severity="warning")
    kept = add_alarm(pool, asset_id="ST-HRZ01", cause="station_dp_low", severity="warning")
    assert _cli(["export", str(tmp_path / "out.gpkg")]) == 0
    assert "in EPSG:4547" in capsys.readouterr().out
    network, report = read_network(tmp_path / "out.gpkg")
    assert report.ok and network.design.design_supply_c == 130.0
    import geopandas as gpd

    stations = gpd.read_file(tmp_path / "out.gpkg", layer="stations")
    smaller = tmp_path / "b.gpkg"
    import shutil

    shutil.copy(tmp_path / "out.gpkg", smaller)
    stations[stations["id"] != "ST-HRZ03"].to_file(smaller, layer="stations", driver="GPKG")
    assert _cli(["import", str(smaller)]) == 0
    assert "1 open alarms of elements no longer there closed" in capsys.readouterr().out
    assert get_alarm(pool, gone)["state"] == "cleared" and get_alarm(pool, kept)["state"] == "raised"
    event = list_alarm_events(pool, gone).iloc[-1]
    assert event["action"] == "cleared" and "import #2" in event["note"] and str(smaller) in event["note"]
