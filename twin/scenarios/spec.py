"""What-if scenarios: a named list of changes applied to a base state, and their files.

A scenario file (YAML or JSON)::

    name: 北环主干管爆管
    author: 张工
    base: {kind: design, outdoor_c: -12}        # or {kind: live}
    changes:
      - {kind: pipe_break, element_id: P-00123}
      - {kind: outdoor, t_c: -20}
      - {kind: source_derate, element_id: SRC-2, share: 0.7}

Every change names its element (by id prefix) and its parameters; anything else is refused with
the file, the change's position and the field.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

# kind → (element id prefix or None, {parameter: default}; a default of None means required)
CHANGE_KINDS: dict[str, tuple[str | None, dict]] = {
    "valve_close": ("V-", {}),
    "valve_open": ("V-", {}),
    "pipe_leak": ("P-", {"rate_t_h": None, "side": "supply", "position": 0.5}),
    "pipe_break": ("P-", {}),
    "source_out": ("SRC-", {}),
    "source_derate": ("SRC-", {"share": None}),
    "source_t_supply": ("SRC-", {"t_supply_c": None}),
    "source_pressure": ("SRC-", {"p_supply_bar": None}),
    "outdoor": (None, {"t_c": None}),
    "station_demand": ("ST-", {"heat_mw": float("nan"), "factor": float("nan")}),
    "station_fouling": ("ST-", {"capacity_share": None}),
    "new_station": ("N-", {"heat_mw": None, "station_id": "", "households": 0}),
}
BASE_KINDS = ("design", "live")
_RANGES = {"rate_t_h": (0.0, 1e5), "position": (0.0, 1.0), "share": (0.0, 1.0), "t_supply_c": (40.0, 150.0),
           "p_supply_bar": (1.0, 25.0), "t_c": (-45.0, 20.0), "heat_mw": (0.0, 500.0), "factor": (0.0, 10.0),
           "capacity_share": (0.0, 1.0), "households": (0, 1e6)}


class ScenarioError(ValueError):
    """A scenario or scenario file that cannot be run; the message names where and what."""


@dataclass(frozen=True)
class Base:
    """The state changes apply to: ``design`` conditions at ``outdoor_c`` (default the design
    outdoor temperature) and ``hour`` (local time: demand follows occupancy), or the ``live``
    state of the latest converged twin run."""
    kind: str = "design"
    outdoor_c: float | None = None
    hour: float = 19.5  # the evening peak: the hour a network is most stretched

    def key(self) -> tuple:
        return (self.kind, self.outdoor_c, self.hour)


@dataclass(frozen=True)
class Change:
    kind: str
    element_id: str | None = None
    params: dict = field(default_factory=dict)

    def describe(self) -> str:
        values = ", ".join(f"{k}={v}" for k, v in self.params.items() if v == v and v not in ("", None))
        return " ".join(part for part in (self.kind, self.element_id or "", values) if part)


@dataclass
class Scenario:
    name: str
    base: Base = field(default_factory=Base)
    changes: list[Change] = field(default_factory=list)
    author: str = ""
    description: str = ""

    def to_dict(self) -> dict:
        out = asdict(self)
        out["changes"] = [{"kind": c.kind, **({"element_id": c.element_id} if c.element_id else {}),
                           **{k: v for k, v in c.params.items() if v == v}} for c in self.changes]
        return out


def _number(value, where: str, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(f"{where}: {name} must be a number, not {value!r}") from None
    low, high = _RANGES.get(name, (-float("inf"), float("inf")))
    if not low <= number <= high:
        raise ScenarioError(f"{where}: {name}={number:g} is outside {low:g} … {high:g}")
    return number


def make_change(spec: dict, where: str = "change") -> Change:
    """A checked ``Change`` from a mapping with ``kind``, ``element_id`` and the kind's parameters."""
    if not isinstance(spec, dict):
        raise ScenarioError(f"{where}: expected a mapping with kind and element_id, not {spec!r}")
    kind = spec.get("kind")
    if kind not in CHANGE_KINDS:
        raise ScenarioError(f"{where}: kind {kind!r} is not one of {', '.join(CHANGE_KINDS)}")
    prefix, defaults = CHANGE_KINDS[kind]
    element_id = spec.get("element_id")
    if prefix is not None and not str(element_id or "").startswith(prefix):
        raise ScenarioError(f"{where}: element_id of a {kind} starts with {prefix}, not {element_id!r}")
    unknown = set(spec) - {"kind", "element_id"} - set(defaults)
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {sorted(unknown)} for {kind}; known: {sorted(defaults) or 'none'}")
    params = {}
    for name, default in defaults.items():
        if name not in spec and default is None:
            raise ScenarioError(f"{where}: a {kind} needs {name}")
        value = spec.get(name, default)
        params[name] = value if isinstance(default, str) else _number(value, where, name) if value == value else value
    if kind == "pipe_leak" and params["side"] not in ("supply", "return"):
        raise ScenarioError(f"{where}: side must be supply or return, not {params['side']!r}")
    if kind == "station_demand" and params["heat_mw"] != params["heat_mw"] and params["factor"] != params["factor"]:
        raise ScenarioError(f"{where}: a station_demand needs heat_mw or factor")
    return Change(kind, str(element_id) if prefix is not None else None, params)


def make_base(spec, where: str = "base") -> Base:
    spec = {"kind": spec} if isinstance(spec, str) else dict(spec or {})
    kind = spec.pop("kind", "design")
    if kind not in BASE_KINDS:
        raise ScenarioError(f"{where}: kind {kind!r} is not one of {', '.join(BASE_KINDS)}")
    unknown = set(spec) - {"outdoor_c", "hour"}
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {sorted(unknown)}; known: hour, kind, outdoor_c")
    outdoor = spec.get("outdoor_c")
    outdoor = None if outdoor is None else _number(outdoor, where, "t_c")
    hour = _number(spec.get("hour", 19.5), where, "hour") % 24.0
    return Base(kind, outdoor, hour)


def scenario_from_dict(data: dict, where: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a mapping with name, base and changes")
    unknown = set(data) - {"name", "base", "changes", "author", "description"}
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {sorted(unknown)}")
    name = str(data.get("name") or "").strip()
    if not name:
        raise ScenarioError(f"{where}: name is missing")
    changes = data.get("changes") or []
    if not isinstance(changes, list):
        raise ScenarioError(f"{where}: changes must be a list")
    return Scenario(name=name, base=make_base(data.get("base"), f"{where}: base"),
                    changes=[make_change(c, f"{where}: changes[{i}]") for i, c in enumerate(changes)],
                    author=str(data.get("author") or ""), description=str(data.get("description") or ""))


def load_scenario(path) -> Scenario:
    """Read a YAML (.yaml/.yml) or JSON (.json) scenario file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}") from None
    return scenario_from_dict(data, where=str(path))
