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
