"""Setpoints as a plant takes them: rows of (valid_from, element_id, kind, value).

Kinds (``heattwin.choices.SETPOINT_KIND``): ``t_supply_c`` per source (°C), ``lift_bar`` of the
pressure-holding source (bar, supply minus return pressure at its outlet), ``heat_ratio`` per station
(the share of its weather-compensated heat the station passes: its balancing setpoint). A setpoint holds
from its ``valid_from`` until the next one of the same element and kind; past ``expires_at`` the plant is
back on its heating curve (a schedule nobody renewed never runs on stale numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from heattwin.choices import SETPOINT_KIND_VALUES

COLUMNS = ["valid_from", "element_id", "kind", "value"]


def check_setpoints(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in their columns and types; a bad row raises ValueError naming it and the field."""
    missing = set(COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"setpoints lack column(s) {sorted(missing)}; need {COLUMNS}")
    out = frame[COLUMNS].copy()
    out["valid_from"] = pd.to_datetime(out["valid_from"], utc=True)
    out["element_id"] = out["element_id"].astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    for row, (kind, value) in enumerate(zip(out["kind"], out["value"], strict=True)):
        if kind not in SETPOINT_KIND_VALUES:
            raise ValueError(f"setpoint row {row}: field kind {kind!r} is not one of {SETPOINT_KIND_VALUES}")
        if not pd.notna(value):
            raise ValueError(f"setpoint row {row}: field value is not a number")
    return out.sort_values("valid_from").reset_index(drop=True)


@dataclass
class ActiveSetpoints:
    """What holds at one instant: supply temperature per source, the lift, heat ratio per station."""
    t_supply_c: pd.Series
    lift_bar: float | None
    heat_ratio: pd.Series


class SetpointTable:
    """The accepted setpoints a plant follows; ``at(when)`` gives the ones holding then."""

    def __init__(self, frame: pd.DataFrame | None = None, *, expires_at=None, schedule_id=None):
        self.frame = check_setpoints(frame) if frame is not None and len(frame) else pd.DataFrame(columns=COLUMNS)
        self.expires_at = pd.Timestamp(expires_at) if expires_at is not None else None
        self.schedule_id = schedule_id

    def at(self, when) -> ActiveSetpoints:
        when = pd.Timestamp(when)
        rows = self.frame
        if self.expires_at is not None and when >= self.expires_at:
            rows = rows.iloc[0:0]
        held = rows[rows["valid_from"] <= when].groupby(["kind", "element_id"])["value"].last()

        def of(kind):
            return held[kind] if kind in held.index.get_level_values(0) else pd.Series(dtype=float)

        lift = of("lift_bar")
        return ActiveSetpoints(of("t_supply_c"), float(lift.iloc[-1]) if len(lift) else None, of("heat_ratio"))
