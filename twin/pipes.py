"""Pipe properties from the GIS attributes: DN → diameters, roughness, heat-loss coefficient.

Pre-insulated bonded steel pipes (EN 253, insulation series 1; GB/T 29047 uses the same steel
service-pipe and casing sizes). The heat-loss coefficient is per m² of the casing's OUTER surface,
referred to the soil temperature, as pandapipes' ``u_w_per_m2k`` with ``outer_diameter_mm``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# DN: (steel outer diameter mm, wall mm, casing outer diameter mm), EN 253 series 1.
EN253_SERIES1 = {
    20: (26.9, 2.6, 90.0), 25: (33.7, 2.6, 90.0), 32: (42.4, 2.6, 110.0), 40: (48.3, 2.6, 110.0),
    50: (60.3, 2.9, 125.0), 65: (76.1, 2.9, 140.0), 80: (88.9, 3.2, 160.0), 100: (114.3, 3.6, 200.0),
    125: (139.7, 3.6, 225.0), 150: (168.3, 4.0, 250.0), 200: (219.1, 4.5, 315.0),
    250: (273.0, 5.0, 400.0), 300: (323.9, 5.6, 450.0), 350: (355.6, 5.6, 500.0),
    400: (406.4, 6.3, 560.0), 450: (457.0, 6.3, 630.0), 500: (508.0, 6.3, 710.0),
    600: (610.0, 7.1, 800.0), 700: (711.0, 8.0, 900.0), 800: (813.0, 8.8, 1000.0),
    900: (914.0, 10.0, 1100.0), 1000: (1016.0, 11.0, 1200.0), 1100: (1118.0, 11.0, 1300.0),
    1200: (1219.0, 12.5, 1400.0), 1400: (1422.0, 14.2, 1600.0),
}
_DN = np.array(sorted(EN253_SERIES1))
_STEEL_OD = np.array([EN253_SERIES1[d][0] for d in _DN])
_WALL = np.array([EN253_SERIES1[d][1] for d in _DN])
_CASING_OD = np.array([EN253_SERIES1[d][2] for d in _DN])

# Heat-loss coefficient of new pipe, W/(m²·K) of casing surface against the soil, including the
# soil's own resistance at ~1 m cover (a DN200 PUR pipe then loses ~0.5 W/(m·K)).
U_NEW_W_PER_M2K = {
    "PUR": 0.5, "PIR": 0.45, "PUR_twin": 0.4, "PE": 0.7, "mineral_wool": 1.0, "rock_wool": 1.0,
    "glass_wool": 1.0, "perlite": 1.4, "none": 5.0,
}
U_DEFAULT_W_PER_M2K = U_NEW_W_PER_M2K["PUR"]
# Insulation ageing (cell-gas diffusion, moisture): +1.5 %/year up to the run's year, at most doubled.
AGEING_PER_YEAR = 0.015
AGEING_MAX_FACTOR = 2.0

# The calibration's pipe age classes (install year from, to): the heat-loss multipliers are fitted
# and applied per class, so the twin and the calibration share this one table and ``age_class``.
AGE_CLASSES = ((0, 2000, "before_2000"), (2000, 2010, "2000s"), (2010, 3000, "since_2010"))


def nearest_dn(dn_mm) -> np.ndarray:
    """The table's DN nearest to each given DN (non-standard GIS values snap to a real size)."""
    dn = np.asarray(dn_mm, dtype=float)
    pos = np.clip(np.searchsorted(_DN, dn), 1, len(_DN) - 1)
    lower, upper = _DN[pos - 1], _DN[pos]
    return np.where(np.abs(dn - lower) <= np.abs(upper - dn), lower, upper)


def diameters_mm(dn_mm) -> tuple[np.ndarray, np.ndarray]:
    """Inner diameter of the steel pipe and outer diameter of the casing, mm, for each DN."""
    idx = np.searchsorted(_DN, nearest_dn(dn_mm))
    return _STEEL_OD[idx] - 2.0 * _WALL[idx], _CASING_OD[idx]


def age_class(install_year) -> np.ndarray:
    """Calibration age class label of each install year (unknown or unreadable years count as the newest)."""
    years = pd.to_numeric(pd.Series(np.asarray(install_year)), errors="coerce").to_numpy(dtype=float)
    labels = np.full(len(years), AGE_CLASSES[-1][2], dtype=object)
    for low, high, name in AGE_CLASSES:
        labels[(years >= low) & (years < high)] = name
    return labels


def u_w_per_m2k(insulation, install_year, *, reference_year: int) -> np.ndarray:
    """Heat-loss coefficient per m² of casing surface, W/(m²·K), from insulation type and its age in
    ``reference_year`` (the run's year; unknown install years count as new)."""
    kind = pd.Series(np.asarray(insulation, dtype=object)).astype(str)
    base = kind.map(U_NEW_W_PER_M2K).fillna(U_DEFAULT_W_PER_M2K).to_numpy(dtype=float)
    years = pd.to_numeric(pd.Series(np.asarray(install_year)), errors="coerce")
    age = (reference_year - years.fillna(reference_year)).clip(lower=0).to_numpy(dtype=float)
    return base * np.minimum(1.0 + AGEING_PER_YEAR * age, AGEING_MAX_FACTOR)


def pipe_parameters(pipes: pd.DataFrame, calibration: dict | None = None, *, reference_year: int) -> pd.DataFrame:
    """Per pipe: length_m, inner/outer diameter mm, k_mm and u_w_per_m2k with calibration applied.

    Parameters
    ----------
    pipes : validated pipes layer (``dn_mm``, ``length_m``, ``roughness_mm``, ``insulation``,
        ``install_year``, ``zone``).
    calibration : ``{"roughness": {zone: factor}, "heat_loss": {age class: factor}}``; missing
        entries mean 1.
    reference_year : the run's year, to which the insulation has aged.
    """
    calibration = calibration or {}
    inner, outer = diameters_mm(pd.to_numeric(pipes["dn_mm"]).to_numpy(dtype=float))
    zone = pipes["zone"].astype(str).to_numpy()
    ages = age_class(pipes["install_year"])
    k_factor = pd.Series(zone).map(calibration.get("roughness", {})).fillna(1.0).to_numpy(dtype=float)
    u_factor = pd.Series(ages).map(calibration.get("heat_loss", {})).fillna(1.0).to_numpy(dtype=float)
    roughness = pd.to_numeric(pipes["roughness_mm"], errors="coerce").fillna(0.1).to_numpy(dtype=float)
    return pd.DataFrame({
        "length_m": pd.to_numeric(pipes["length_m"]).to_numpy(dtype=float),
        "inner_diameter_mm": inner,
        "outer_diameter_mm": outer,
        "k_mm": roughness * k_factor,
        "u_w_per_m2k": u_w_per_m2k(pipes["insulation"], pipes["install_year"], reference_year=reference_year)
        * u_factor,
    }, index=pipes["id"].astype(str).to_numpy())


def soil_temperature_c(outdoor_c: float, design=None) -> float:
    """Soil temperature at pipe depth (~1.2 m) from the outdoor air, °C, by the network's design
    settings (``layers.design.DesignSettings.soil_c``).

    The default (Shandong): the ground damps the air's swings, ~6 °C on a 0 °C day, a third of the
    air's excursion either side, never below 1 °C (frost rarely reaches pipe depth there).
    """
    from layers.design import DEFAULT_DESIGN

    return (design or DEFAULT_DESIGN).soil_c(outdoor_c)
