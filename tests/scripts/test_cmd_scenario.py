"""``heattwin scenario``: a file run from the command line gives the numbers the API gives, is saved,
listed, shown, deleted; ``sweep`` stores its progress and ranking; ``isolate --solve`` re-solves."""

from __future__ import annotations

import json

import pytest
import yaml

from layers.read import read_network
from scripts.cli import main
from store import scenarios
from store.audit import Actor
from store.db import get_pool
from store.users import add_user
from twin.scenarios import ScenarioRunner, load_scenario


@pytest.fixture
def cli_db(demo_db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", demo_db_url)
    add_user(get_pool(demo_db_url), username="wang", password="a long test password", roles=["engineer"],
             actor=Actor("test-setup", "cli"), display_name="王工")
    return demo_db_url


@pytest.fixture
def scenario_file(tmp_path, demo_city_dir):
    network, _ = read_network(demo_city_dir / "network.gpkg")
    pipe = str(network.pipes["id"].iloc[12])
    path = tmp_path / "break.yaml"
    path.write_text(yaml.safe_dump({
        "name": "12号管段爆管 + 寒潮", "author": "王工", "base": {"kind": "design", "outdoor_c": -10},
        "changes": [{"kind": "pipe_break", "element_id": pipe}, {"kind": "outdoor", "t_c": -15}]},
        allow_unicode=True), encoding="utf-8")
    return path, network


def test_a_file_gives_the_same_numbers_from_the_cli_and_the_api(cli_db, scenario_file, capsys, tmp_path):
    path, network = scenario_file
    assert main(["scenario", "run", str(path), "--json", "--save", "--by", "wang",
                 "--out", str(tmp_path / "t.xlsx")]) == 0
    printed = json.loads(capsys.readouterr().out)
    direct = ScenarioRunner(network).run(load_scenario(path))
    for key, value in direct.summary.items():
        assert printed["summary"][key] == (pytest.approx(value, rel=1e-6, abs=1e-6) if isinstance(value, float)
                                           else value), key
    assert (tmp_path / "t.xlsx").stat().st_size > 0
    saved = scenarios.list_scenarios(get_pool(cli_db))
    assert saved["name"].tolist() == ["12号管段爆管 + 寒潮"] and saved["author"].tolist() == ["wang"]
    stored = scenarios.get_result(get_pool(cli_db), int(saved["id"].iloc[0]))
    assert stored["summary"]["heat_not_delivered_mw"] == pytest.approx(direct.summary["heat_not_delivered_mw"])


def test_list_show_delete_and_the_text_report(cli_db, scenario_file, capsys):
    path, _ = scenario_file
    assert main(["scenario", "run", str(path), "--save", "--by", "wang"]) == 0
    report = capsys.readouterr().out
    assert "heat not delivered:" in report and "stations affected:" in report
    assert main(["scenario", "list"]) == 0
    listing = capsys.readouterr().out
    scenario_id = int(listing.split()[0])
    assert "12号管段爆管" in listing and "MW not delivered" in listing
    assert main(["scenario", "show", str(scenario_id)]) == 0
    assert json.loads(capsys.readouterr().out)["spec"]["author"] == "wang"  # who saved it, not the file's text
    assert main(["scenario", "delete", str(scenario_id)]) == 0
    assert main(["scenario", "show", str(scenario_id)]) == 2


def test_a_bad_file_is_refused_with_its_field(cli_db, tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "x", "changes": [{"kind": "valve_close", "element_id": "P-00001"}]}))
    assert main(["scenario", "run", str(path)]) == 2
    assert "changes[0]: element_id of a valve_close starts with V-" in capsys.readouterr().err


def test_a_serial_sweep_is_stored_with_its_ranking(cli_db, capsys):
    assert main(["scenario", "sweep", "--limit", "6", "--serial", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    pool = get_pool(cli_db)
    sweep = scenarios.get_sweep(pool, out["sweep_id"])
    assert sweep["state"] == "done" and sweep["done"] == sweep["total"] == 6
    ranking = scenarios.get_sweep_ranking(pool, out["sweep_id"])
    assert ranking["element_id"].tolist() == [r["element_id"] for r in out["ranking"]]


def test_isolate_with_solve_reports_what_else_degrades(scenario_file, capsys):
    path, network = scenario_file
    pipe = load_scenario(path).changes[0].element_id
    city = path.parent / "city.gpkg"
    from layers.export import write_geopackage
    write_geopackage(network, city)
    assert main(["isolate", pipe, "--network", str(city), "--solve", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"]["summary"]["stations_cut_off"] == out["counts"]["stations_cut_off"]
    assert set(out["stations_cut_off"]) <= set(out["scenario"]["affected_stations"])


def test_the_page_and_the_command_line_give_the_same_numbers(cli_db, scenario_file, capsys):
    from app.components import scenario_data

    path, _ = scenario_file
    assert main(["scenario", "run", str(path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    _, page = scenario_data.run(get_pool(cli_db), yaml.safe_load(path.read_text(encoding="utf-8")))
    for key, value in page.summary.items():
        assert printed["summary"][key] == (pytest.approx(value, rel=1e-6, abs=1e-6) if isinstance(value, float)
                                           else value), key
    assert [s["id"] for s in printed["stations"] if s["affected"]] == page.stations.index[
        page.stations["affected"]].tolist()
