"""Saved scenarios, their results and sweeps in PostgreSQL."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from store import scenarios
from store.audit import Actor

ZHANG, LI = Actor("zhang", "engineer", display_name="张工"), Actor("li", "engineer", display_name="李工")


def _spec(name="北环爆管"):
    return {"name": name, "base": {"kind": "design", "outdoor_c": None, "hour": 19.5},
            "changes": [{"kind": "pipe_break", "element_id": "P-00010"}], "author": "张工", "description": ""}


def test_a_scenario_is_saved_listed_replaced_and_deleted(pool):
    first = scenarios.save_scenario(pool, _spec(), actor=ZHANG)
    second = scenarios.save_scenario(pool, _spec("寒潮 -20"), actor=LI)
    listed = scenarios.list_scenarios(pool)
    assert listed["id"].tolist() == [second, first] and listed["summary"].isna().all()
    scenarios.save_scenario(pool, _spec("北环爆管 v2"), actor=ZHANG, scenario_id=first)
    assert scenarios.get_scenario(pool, first)["spec"]["name"] == "北环爆管 v2"
    assert scenarios.list_scenarios(pool)["id"].iloc[0] == first  # updated moves to the top
    with pytest.raises(scenarios.NotYoursError, match="李工|li"):
        scenarios.delete_scenario(pool, second, actor=ZHANG)
    assert scenarios.get_scenario(pool, second) is not None
    assert scenarios.delete_scenario(pool, second, actor=LI) and not scenarios.delete_scenario(pool, second, actor=LI)
    assert scenarios.get_scenario(pool, second) is None
    with pytest.raises(KeyError):
        scenarios.save_scenario(pool, _spec(), actor=ZHANG, scenario_id=second)


def test_a_result_replaces_the_previous_one_and_nan_is_stored_as_null(pool):
    sid = scenarios.save_scenario(pool, _spec(), actor=ZHANG)
    scenarios.save_result(pool, sid, {"summary": {"heat_not_delivered_mw": 1.0}, "stations": []})
    scenarios.save_result(pool, sid, {"summary": {"heat_not_delivered_mw": 2.5, "p": math.nan},
                                      "stations": [{"id": "ST-1", "dp_bar": math.inf}]})
    stored = scenarios.get_result(pool, sid)
    assert stored["summary"] == {"heat_not_delivered_mw": 2.5, "p": None}
    assert stored["stations"] == [{"id": "ST-1", "dp_bar": None}]
    assert scenarios.list_scenarios(pool)["summary"].iloc[0]["heat_not_delivered_mw"] == 2.5
    scenarios.delete_scenario(pool, sid, actor=ZHANG)
    assert scenarios.get_result(pool, sid) is None


def test_a_sweep_counts_its_rows_and_ranks_them(pool):
    sweep = scenarios.add_sweep(pool, total=3, workers=2, scheduler="LocalCluster", actor=ZHANG)
    rows = pd.DataFrame({"element_id": ["P-1", "P-2"], "converged": [True, True], "feasible": [True, False],
                         "heat_not_delivered_mw": [1.5, 9.0], "households_affected": [10, 300],
                         "stations_cut_off": [0, 2], "valves_to_close": [2, 3]})
    scenarios.save_sweep_rows(pool, sweep, rows)
    assert scenarios.get_sweep(pool, sweep)["done"] == 2 and scenarios.get_sweep(pool)["state"] == "running"
    scenarios.save_sweep_rows(pool, sweep, pd.DataFrame({"element_id": ["P-3"], "converged": [False],
                                                         "error": ["did not converge"]}))
    scenarios.finish_sweep(pool, sweep)
    done = scenarios.get_sweep(pool, sweep)
    assert done["done"] == 3 and done["state"] == "done" and done["finished_at"] is not None
    assert scenarios.get_sweep_ranking(pool, sweep)["element_id"].tolist() == ["P-2", "P-1", "P-3"]
