"""How a KPI reads wherever it is shown — a dashboard tile, the Excel report, the PDF — so the three agree to
the digit: rates in per cent with one decimal, hours with one decimal, complaints per 10,000 m² with two."""

from __future__ import annotations

import math

import pandas as pd

from store.kpis import KPI

DASH = "—"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def format_kpi(key: str, value) -> str:
    """``value`` of KPI ``key`` as text: ``96.3%``, ``2.4 h``, ``0.63``; ``—`` when unknown."""
    if _missing(value):
        return DASH
    unit = KPI[key].unit
    if unit == "rate":
        return f"{100.0 * float(value):.1f}%"
    if unit == "hours":
        return f"{float(value):.1f} h"
    return f"{float(value):.2f}"


def format_trend(key: str, delta) -> str:
    """The change against the previous period: ``+1.2 pt`` for rates, ``-0.3 h``, ``+0.05``."""
    if _missing(delta):
        return DASH
    unit = KPI[key].unit
    if unit == "rate":
        return f"{100.0 * float(delta):+.1f} pt"
    if unit == "hours":
        return f"{float(delta):+.1f} h"
    return f"{float(delta):+.2f}"


def trend_is_good(key: str, delta) -> bool | None:
    """Whether the change is for the better (None: no change or unknown)."""
    if _missing(delta) or abs(float(delta)) < 1e-12:
        return None
    return (float(delta) > 0) == KPI[key].higher_is_better


def format_fraction(row: dict, key: str) -> str:
    """``123 / 456`` behind a rate (empty for a KPI that is not a ratio)."""
    n, of = row.get(f"{key}_n"), row.get(f"{key}_of")
    return "" if _missing(n) or _missing(of) else f"{int(n):,} / {int(of):,}"
