"""Weifang's design conditions, written into the demo city's GeoPackage as its ``design`` and
``heating_curve`` tables (``layers.design``): the twin, plant, alarms and scenarios read them from
the network, not from code."""

from __future__ import annotations

from pathlib import Path

import pyogrio

from layers.design import CURVE_LAYER, DESIGN_LAYER, DesignSettings, design_tables

# GB 50736 gives Weifang −7.0 °C for heating; its CHP network runs 110/50 °C at that point and the
# curve goes on to the heaters' 130 °C at −20 °C. Soil at pipe depth: ~6 °C at 0 °C air, a third of
# the air's swing, never under 1 °C.
WEIFANG = DesignSettings(
    design_outdoor_c=-7.0, design_indoor_c=20.0, heating_limit_c=12.0, design_supply_c=110.0,
    design_return_c=50.0, max_supply_c=130.0, soil_base_c=6.0, soil_outdoor_factor=1.0 / 3.0, soil_min_c=1.0,
    min_station_dp_bar=0.5, heating_curve=((-20.0, 130.0, 52.0), (-7.0, 110.0, 50.0), (12.0, 70.0, 40.0)))


def write_design(gpkg: Path, settings: DesignSettings = WEIFANG) -> None:
    design, curve = design_tables(settings)
    pyogrio.write_dataframe(design, gpkg, layer=DESIGN_LAYER, driver="GPKG")
    pyogrio.write_dataframe(curve, gpkg, layer=CURVE_LAYER, driver="GPKG")
