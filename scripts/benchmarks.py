"""Shared plumbing of ``heattwin bench NAME``: timing, the printed table and the JSON line."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable


def time_call(func: Callable, repeat: int = 1) -> tuple[float, object]:
    """Median wall time of ``repeat`` calls of ``func`` in seconds, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def flatten(figures: dict, prefix: str = "") -> dict:
    """``{"demo": {"bare_s": 1}}`` -> ``{"demo.bare_s": 1}`` for the table."""
    flat = {}
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def print_report(title: str, figures: dict, as_json: bool) -> None:
    """A readable table of every figure; with ``as_json`` one JSON object as the last line."""
    flat = flatten(figures)
    width = max((len(k) for k in flat), default=10)
    print(f"== bench {title} ==")
    for key, value in flat.items():
        print(f"{key:<{width}}  {_format(value)}")
    if as_json:
        print(json.dumps(figures, default=float, ensure_ascii=False))
