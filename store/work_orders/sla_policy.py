"""The SLA policy: how long each clock of a work order may run, per category × priority.

Read from the YAML file ``HEATTWIN_SLA_FILE`` names, else from ``sla_default.yaml`` beside this module
(its header documents the format and where its numbers come from). A bad file raises ``SlaPolicyError``
naming the file, the key and the rule it broke.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from heattwin.choices import (
    SLA_CLOCK_UNITS,
    SLA_CLOCKS,
    work_order_category_values,
    work_order_priority_values,
)
from heattwin.settings import load_settings

DEFAULT_FILE = Path(__file__).with_name("sla_default.yaml")
_SECONDS = {"hours": 3600.0, "working_days": 86400.0}
_LONGEST = {"hours": 24.0 * 366, "working_days": 250.0}   # a year: anything longer is a typo
_ANY = "any"
_ORDERED = ("reply", "site", "resolve")   # within one unit, none may be due after the next


class SlaPolicyError(ValueError):
    def __init__(self, source: str, key: str, rule: str):
        super().__init__(f"{source}: {key}: {rule}")
        self.source, self.key, self.rule = source, key, rule


@dataclass(frozen=True)
class Clock:
    """One clock's allowance: ``amount`` calendar hours or working days (``unit``)."""

    unit: str
    amount: float

    @property
    def seconds(self) -> float:
        """The allowance in seconds of its own time (calendar seconds, or seconds of working days)."""
        return self.amount * _SECONDS[self.unit]

    def __str__(self) -> str:
        amount = f"{self.amount:g}"
        return f"{amount} h" if self.unit == "hours" else f"{amount} working day{'' if self.amount == 1 else 's'}"


@dataclass(frozen=True)
class SlaPolicy:
    """Every category × priority with its clocks (None: the clock does not run)."""

    source: str
    table: Mapping[tuple[str, str], Mapping[str, Clock | None]]

    def clock(self, category: str, priority: str, name: str) -> Clock | None:
        if (category, priority) not in self.table:
            raise ValueError(f"category/priority {category!r}/{priority!r}: categories are "
                             f"{', '.join(work_order_category_values)}; priorities {', '.join(work_order_priority_values)}")
        if name not in SLA_CLOCKS:
            raise ValueError(f"clock {name!r} is not one of {', '.join(SLA_CLOCKS)}")
        return self.table[(category, priority)][name]


def load_sla_policy(path: Path | str | None = None) -> SlaPolicy:
    """The policy in ``path`` (default: ``HEATTWIN_SLA_FILE``, else the shipped defaults); re-read when
    the file changes."""
    path = Path(path) if path else (load_settings().sla_file or DEFAULT_FILE)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise SlaPolicyError(str(path), "file", f"cannot be read ({exc.strerror}); check HEATTWIN_SLA_FILE") from None
    return _load(str(path), stamp)


@functools.lru_cache(maxsize=8)
def _load(path: str, _stamp: int) -> SlaPolicy:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SlaPolicyError(path, "file", f"not valid YAML ({exc})") from None
    return parse_sla_policy(doc, path)


def parse_sla_policy(doc, source: str) -> SlaPolicy:
    """Validate a parsed policy document and resolve every category × priority."""
    _mapping(doc, source, "file", "priorities, categories")
    _known(doc, source, "", ("priorities", "categories"))
    priorities = _mapping(doc.get("priorities"), source, "priorities", ", ".join(work_order_priority_values))
    _known(priorities, source, "priorities", work_order_priority_values)
    categories = _mapping(doc.get("categories") or {}, source, "categories", "category: {any|priority: clocks}")
    _known(categories, source, "categories", work_order_category_values)
    base = {p: _base_clocks(priorities, p, source) for p in work_order_priority_values}
    overrides = {c: _category_overrides(categories[c], c, source) for c in categories}
    table = {}
    for category in work_order_category_values:
        for priority in work_order_priority_values:
            clocks = dict(base[priority])
            where = {name: f"priorities.{priority}.{name}" for name in SLA_CLOCKS}
            for level in (_ANY, priority):
                for name, clock in overrides.get(category, {}).get(level, {}).items():
                    clocks[name], where[name] = clock, f"categories.{category}.{level}.{name}"
            _check_order(clocks, where, source, category, priority)
            table[(category, priority)] = clocks
    return SlaPolicy(source, table)


def _mapping(value, source: str, key: str, expected: str) -> dict:
    if not isinstance(value, dict):
        raise SlaPolicyError(source, key, f"must be a mapping ({expected})")
    return value


def _known(mapping: dict, source: str, key: str, allowed) -> None:
    for name in mapping:
        if name not in allowed:
            raise SlaPolicyError(source, f"{key}.{name}" if key else str(name),
                                 f"unknown key: use {', '.join(allowed)}")


def _base_clocks(priorities: dict, priority: str, source: str) -> dict[str, Clock | None]:
    key = f"priorities.{priority}"
    if priority not in priorities:
        raise SlaPolicyError(source, key, "missing: every priority lists its clocks")
    rules = _mapping(priorities[priority], source, key, ", ".join(SLA_CLOCKS))
    _known(rules, source, key, SLA_CLOCKS)
    for name in SLA_CLOCKS:
        if name not in rules:
            raise SlaPolicyError(source, f"{key}.{name}", f"missing: every priority lists {', '.join(SLA_CLOCKS)} "
                                 "(null when the clock does not run)")
    return {name: _clock(rules[name], source, f"{key}.{name}") for name in SLA_CLOCKS}


def _category_overrides(rules, category: str, source: str) -> dict[str, dict[str, Clock | None]]:
    key = f"categories.{category}"
    levels = (_ANY, *work_order_priority_values)
    _known(_mapping(rules, source, key, f"{', '.join(levels)}: clocks"), source, key, levels)
    out = {}
    for level, clocks in rules.items():
        level_key = f"{key}.{level}"
        _known(_mapping(clocks, source, level_key, ", ".join(SLA_CLOCKS)), source, level_key, SLA_CLOCKS)
        out[level] = {name: _clock(spec, source, f"{level_key}.{name}") for name, spec in clocks.items()}
    return out


def _clock(spec, source: str, key: str) -> Clock | None:
    if spec is None:
        return None
    units = ", ".join(f"{{{u}: N}}" for u in SLA_CLOCK_UNITS)
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SLA_CLOCK_UNITS:
        raise SlaPolicyError(source, key, f"a clock is one of {units}, or null (got {spec!r})")
    unit, amount = next(iter(spec.items()))
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not 0 < amount <= _LONGEST[unit]:
        raise SlaPolicyError(source, f"{key}.{unit}", f"must be a number above 0 and at most {_LONGEST[unit]:g} "
                             f"(got {amount!r})")
    return Clock(unit, float(amount))


def _check_order(clocks: dict, where: dict, source: str, category: str, priority: str) -> None:
    for i, first in enumerate(_ORDERED):
        for later in _ORDERED[i + 1:]:
            a, b = clocks[first], clocks[later]
            if a is not None and b is not None and a.unit == b.unit and a.amount > b.amount:
                raise SlaPolicyError(source, where[first], f"{first} ({a}) would be due after {later} ({b}, "
                                     f"{where[later]}) for {category}/{priority}: a clock may not be due after the "
                                     "one that follows it")
