"""Numbers, ages and times as the wall shows them: always with a unit, "—" when there is no value."""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import pandas as pd

from app.i18n import t

DASH = "—"


def number(value, unit: str = "", digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or pd.isna(value):
        return DASH
    text = f"{float(value):,.{digits}f}"
    return f"{text} {unit}".strip()


# (under this many seconds, count in units of, unit's key)
_STEPS = ((90, 1, "time.s"), (5400, 60, "time.min"), (172800, 3600, "time.h"), (float("inf"), 86400, "time.d"))


def _counted(seconds: float, lang: str) -> dict:
    _limit_s, per_s, unit = next(step for step in _STEPS if abs(seconds) < step[0])
    return {"n": int(round(abs(seconds) / per_s)), "unit": t(unit, lang)}


def age(seconds: float | None, lang: str, future: bool = False) -> str:
    """``12 min ago`` / ``12分钟前`` (or ``in 12 min`` with ``future``)."""
    if seconds is None:
        return DASH
    return t("time.in" if future else "time.ago", lang).format(**_counted(seconds, lang))


def span(seconds: float, lang: str) -> str:
    """How long, neither ago nor ahead: ``11天`` / ``11 d``, as in 已超时 11天."""
    return t("time.span", lang).format(**_counted(seconds, lang))


def clock(when, timezone: str, with_date: bool = False) -> str:
    """A UTC timestamp shown in the configured zone."""
    if when is None or pd.isna(when):
        return DASH
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    local = stamp.tz_convert(ZoneInfo(timezone))
    return local.strftime("%m-%d %H:%M" if with_date else "%H:%M:%S")
