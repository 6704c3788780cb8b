"""Faults the virtual plant can inject: from the command line or a scenario file, each with a start.

A scenario file (YAML or JSON) holds ``faults: [{kind, element_id, start, end?, ...params}]``;
``start``/``end`` are ISO times or offsets from the simulation start such as ``+2h``, ``+90m``.
On the command line: ``--fault "leak P-00123 start=+2h rate_t_h=20 side=supply"``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

# kind → (element prefix it applies to, parameters with defaults)
FAULT_KINDS = {
    "leak": ("P-", {"rate_t_h": 10.0, "side": "supply", "position": 0.5}),
    "pump_trip": ("SRC-", {}),
    "valve_closed": ("V-", {}),
    "fouling": ("ST-", {"capacity_share": 0.6}),
    "collector_offline": ("S-", {}),
}
_OFFSET = re.compile(r"^\+(\d+(?:\.\d+)?)\s*(s|m|min|h|d)$")
_UNIT = {"s": "s", "m": "min", "min": "min", "h": "h", "d": "D"}


class FaultError(ValueError):
    pass


@dataclass(frozen=True)
class Fault:
    kind: str
    element_id: str
    start_at: pd.Timestamp
    end_at: pd.Timestamp | None = None
    params: dict = field(default_factory=dict)

    def active(self, at: pd.Timestamp) -> bool:
        return self.start_at <= at and (self.end_at is None or at < self.end_at)


def _when(value, origin: pd.Timestamp, where: str) -> pd.Timestamp | None:
    if value is None:
        return None
    text = str(value).strip()
    match = _OFFSET.match(text)
    if match:
        return origin + pd.Timedelta(float(match.group(1)), unit=_UNIT[match.group(2)])
    try:
        stamp = pd.Timestamp(text)
    except ValueError as exc:
        raise FaultError(f"{where}: {text!r} is neither an ISO time nor an offset like +2h") from exc
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def make_fault(spec: dict, origin: pd.Timestamp, where: str = "fault") -> Fault:
    """A checked ``Fault`` from a mapping with kind, element_id, start, optional end and params."""
    kind = spec.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultError(f"{where}: kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
    prefix, defaults = FAULT_KINDS[kind]
    element_id = str(spec.get("element_id", ""))
    if not element_id.startswith(prefix):
        raise FaultError(f"{where}: a {kind} applies to an element whose id starts with {prefix}, "
                         f"not {element_id!r}")
    unknown = set(spec) - {"kind", "element_id", "start", "end"} - set(defaults)
    if unknown:
        raise FaultError(f"{where}: unknown parameter(s) {sorted(unknown)} for {kind}; "
                         f"known: {sorted(defaults) or 'none'}")
    params = {**defaults, **{k: spec[k] for k in defaults if k in spec}}
    if kind == "leak" and params["side"] not in ("supply", "return"):
        raise FaultError(f"{where}: side must be supply or return, not {params['side']!r}")
    start = _when(spec.get("start", "+0s"), origin, where)
    return Fault(kind, element_id, start, _when(spec.get("end"), origin, where), params)


def parse_cli_fault(text: str, origin: pd.Timestamp) -> Fault:
    """``"leak P-00123 start=+2h rate_t_h=20"`` → Fault."""
    parts = text.split()
    if len(parts) < 2:
        raise FaultError(f"--fault {text!r}: expected 'KIND ELEMENT_ID key=value …'")
    spec = {"kind": parts[0], "element_id": parts[1]}
    for item in parts[2:]:
        key, sep, value = item.partition("=")
        if not sep:
            raise FaultError(f"--fault {text!r}: {item!r} is not key=value")
        spec[key] = _number_or_text(value)
    return make_fault(spec, origin, where=f"--fault {text!r}")


def _number_or_text(value: str):
    try:
        return float(value)
    except ValueError:
        return value


def load_fault_file(path: Path, origin: pd.Timestamp) -> list[Fault]:
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if Path(path).suffix == ".json" else yaml.safe_load(text)
    items = (data or {}).get("faults") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise FaultError(f"{path}: expected a mapping with a list under 'faults'")
    return [make_fault(item, origin, where=f"{path}: faults[{i}]") for i, item in enumerate(items)]
