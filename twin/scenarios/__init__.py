"""What-if scenarios on the twin: specs and files (``spec``), runs against a base (``run``),
batch sweeps on dask (``sweep``)."""

from twin.scenarios.run import LiveBase, ScenarioResult, ScenarioRunner
from twin.scenarios.spec import Base, Change, Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = ["Base", "Change", "LiveBase", "Scenario", "ScenarioError", "ScenarioResult", "ScenarioRunner",
           "load_scenario", "scenario_from_dict"]
