"""The network's own design conditions: the heating curve, design temperatures, soil, station dp.

A network carries them as data: in its file (a one-row attribute table ``design`` and an optional
``heating_curve`` table of ``outdoor_c, supply_c, return_c`` rows), in an import mapping's
``design:`` section, or in the store beside the network. The twin, the virtual plant, the alarm
rules and the scenarios read them from ``Network.design``. A network that carries none runs on
``DesignSettings()`` — every value then listed in ``assumed`` and reported by the import.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np
import pandas as pd

DESIGN_LAYER = "design"
CURVE_LAYER = "heating_curve"
CURVE_COLUMNS = ("outdoor_c", "supply_c", "return_c")

# (min, max) a value may take; outside it the file or mapping is refused, naming the setting.
RANGES = {
    "design_outdoor_c": (-50.0, 15.0), "design_indoor_c": (10.0, 30.0), "heating_limit_c": (0.0, 25.0),
    "design_supply_c": (40.0, 180.0), "design_return_c": (15.0, 120.0), "max_supply_c": (40.0, 180.0),
    "soil_base_c": (-5.0, 30.0), "soil_outdoor_factor": (0.0, 1.0), "soil_min_c": (-10.0, 30.0),
    "min_station_dp_bar": (0.0, 10.0),
}


@dataclass(frozen=True)
class DesignSettings:
    """Design conditions of one network (°C, bar).

    ``heating_curve``: ``(outdoor_c, supply_c, return_c)`` points (the defaults: Weifang's, a
    Shandong city's, used only when a network carries none, and then listed in ``assumed``); empty means
    the two-point curve ``design_supply_c`` at ``design_outdoor_c`` → ``min_supply_c`` at the
    heating limit. Soil at pipe depth: ``max(soil_base_c + soil_outdoor_factor × outdoor, soil_min_c)``
    (factor 0: a constant soil temperature).
    """

    design_outdoor_c: float = -7.0
    design_indoor_c: float = 20.0
    heating_limit_c: float = 12.0
    design_supply_c: float = 110.0
    design_return_c: float = 50.0
    max_supply_c: float = 130.0
    soil_base_c: float = 6.0
    soil_outdoor_factor: float = 1.0 / 3.0
    soil_min_c: float = 1.0
    min_station_dp_bar: float = 0.5
    heating_curve: tuple = ((-20.0, 130.0, 52.0), (-7.0, 110.0, 50.0), (12.0, 70.0, 40.0))
    assumed: tuple = field(default=(), compare=False)

    # -- curves ------------------------------------------------------------------------------------
    def curve(self) -> np.ndarray:
        """The heating curve as an (n, 3) array ``outdoor_c, supply_c, return_c``, outdoor ascending."""
        if self.heating_curve:
            points = np.array(self.heating_curve, dtype=float).reshape(-1, 3)
            return points[np.argsort(points[:, 0])]
        return np.array([[self.design_outdoor_c, self.design_supply_c, self.design_return_c],
                         [self.heating_limit_c, self.min_supply_c, self.min_return_c]])

    @property
    def min_supply_c(self) -> float:
        """Supply at the heating limit of a two-point curve: the lowest a network runs hot water at."""
        return max(self.design_return_c + 0.4 * (self.design_supply_c - self.design_return_c), 0.0)

    @property
    def min_return_c(self) -> float:
        return self.design_return_c - 0.3 * (self.design_return_c - self.design_indoor_c)

    def supply_c(self, outdoor_c):
        """Supply temperature of the heating curve at ``outdoor_c``, held at the curve's ends."""
        c = self.curve()
        return np.interp(np.asarray(outdoor_c, dtype=float), c[:, 0], c[:, 1])

    def return_c(self, outdoor_c):
        c = self.curve()
        return np.interp(np.asarray(outdoor_c, dtype=float), c[:, 0], c[:, 2])

    def soil_c(self, outdoor_c: float) -> float:
        return max(self.soil_base_c + self.soil_outdoor_factor * float(outdoor_c), self.soil_min_c)

    def load_ratio(self, outdoor_c):
        """Heat demand against design (degree-hour method): (indoor − outdoor) / (indoor − design outdoor)."""
        span = max(self.design_indoor_c - self.design_outdoor_c, 1.0)
        return (self.design_indoor_c - np.asarray(outdoor_c, dtype=float)) / span

    # -- storage -----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        out = asdict(self)
        out["heating_curve"] = [list(map(float, p)) for p in self.heating_curve]
        out["assumed"] = list(self.assumed)
        return out

    @classmethod
    def from_dict(cls, values: dict | None) -> DesignSettings:
        """Settings from a stored or written dict; unknown keys raise ``ValueError`` naming them."""
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown design setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        extra = {"assumed": tuple(values.pop("assumed", ()) or ())}
        if "heating_curve" in values:
            extra["heating_curve"] = _curve_points(values.pop("heating_curve") or ())
        return cls(**{k: float(v) for k, v in values.items()}, **extra)


DEFAULT_DESIGN = DesignSettings(assumed=tuple(f.name for f in fields(DesignSettings)
                                              if f.name not in ("assumed",)))


def _curve_points(curve) -> tuple:
    points = []
    for p in curve:
        if isinstance(p, dict):
            p = [p.get(c) for c in CURVE_COLUMNS]
        points.append(tuple(float(v) for v in p))
    return tuple(points)


def check_design(settings: DesignSettings, where: str) -> list[str]:
    """Errors of ``settings`` (out of range, a curve that does not fall with outdoor temperature)."""
    errors = []
    for name, (low, high) in RANGES.items():
        value = getattr(settings, name)
        if not (isinstance(value, float) and math.isfinite(value) and low <= value <= high):
            errors.append(f"{where} setting {name}: {value!r} is outside {low:g}…{high:g}")
    if settings.design_return_c >= settings.design_supply_c:
        errors.append(f"{where} setting design_return_c: {settings.design_return_c:g} °C is not below "
                      f"design_supply_c {settings.design_supply_c:g} °C")
    curve = np.array(settings.heating_curve, dtype=float).reshape(-1, 3) if settings.heating_curve else None
    if curve is not None:
        order = curve[np.argsort(curve[:, 0])]
        if len(order) < 2 or np.any(np.diff(order[:, 1]) > 0) or np.any(order[:, 2] >= order[:, 1]):
            errors.append(f"{where} heating_curve: needs two or more points whose supply falls as the outdoor "
                          "temperature rises and whose return stays below the supply")
    return errors


def design_from_tables(design: pd.DataFrame | None, curve: pd.DataFrame | None, where: str,
                       errors: list[str]) -> dict:
    """Settings given by a file's ``design`` (one row) and ``heating_curve`` tables, as a dict."""
    values: dict = {}
    if design is not None and len(design):
        row = design.drop(columns=[c for c in ("geometry",) if c in design]).iloc[0]
        for name, value in row.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
            if name not in RANGES:
                errors.append(f"{where} {DESIGN_LAYER} field {name}: not a design setting; known: "
                              f"{', '.join(RANGES)}")
            elif isinstance(value, str) or pd.isna(number):
                errors.append(f"{where} {DESIGN_LAYER} field {name}: {value!r} is not a number")
            else:
                values[name] = float(number)
    if curve is not None and len(curve):
        missing = [c for c in CURVE_COLUMNS if c not in curve]
        if missing:
            errors.append(f"{where} {CURVE_LAYER}: missing column(s) {', '.join(missing)}")
        else:
            values["heating_curve"] = curve[list(CURVE_COLUMNS)].astype(float).to_numpy().tolist()
    return values


def settle(given: dict, where: str, errors: list[str]) -> DesignSettings:
    """``DesignSettings`` from what the file and mapping gave; the rest assumed (and listed so)."""
    try:
        settings = DesignSettings.from_dict({k: v for k, v in given.items() if k != "assumed"})
    except (TypeError, ValueError) as exc:
        errors.append(f"{where} design: {exc}")
        return DEFAULT_DESIGN
    given_names = set(given)
    if "heating_curve" in given_names and settings.heating_curve:
        # The design temperatures are the curve's at the design outdoor temperature unless given.
        derived = {name: float(f(settings.design_outdoor_c)) for name, f in
                   (("design_supply_c", settings.supply_c), ("design_return_c", settings.return_c))
                   if name not in given_names}
        settings = replace(settings, **derived)
        given_names |= set(derived)
    elif "heating_curve" not in given_names and {"design_supply_c", "design_return_c"} & given_names:
        settings = replace(settings, heating_curve=())  # the two-point curve through the given design point
        given_names.add("heating_curve")
    assumed = tuple(f.name for f in fields(DesignSettings)
                    if f.name not in ("assumed",) and f.name not in given_names)
    settings = replace(settings, assumed=assumed)
    errors.extend(check_design(settings, where))
    return settings


def design_tables(settings: DesignSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``design`` row (given values only) and ``heating_curve`` rows a file stores."""
    given = {k: v for k, v in settings.to_dict().items()
             if k not in ("heating_curve", "assumed") and k not in settings.assumed}
    curve = pd.DataFrame(list(settings.heating_curve), columns=list(CURVE_COLUMNS))
    return pd.DataFrame([given]), curve


def design_json(settings: DesignSettings) -> str:
    return json.dumps(settings.to_dict(), sort_keys=True)
