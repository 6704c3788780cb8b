"""What a utility pays for the energy the control advice moves: fuel per MWh of heat produced (the main
cost: the rooms' need plus what the pipes lose) and electricity per MWh the pumps draw.

The defaults are the settings' (``HEATTWIN_HEAT_PRICE_CNY_PER_GJ``, ``HEATTWIN_ELECTRICITY_PRICE_CNY_PER_KWH``):
at 40 CNY/GJ and 0.65 CNY/kWh a MWh of pumping costs as much as ~4.5 MWh of heat.
"""

from __future__ import annotations

from dataclasses import dataclass

from heattwin import units
from heattwin.settings import load_settings


@dataclass(frozen=True)
class EnergyPrices:
    heat_cny_per_mwh: float
    electricity_cny_per_mwh: float

    @classmethod
    def from_settings(cls, settings=None) -> EnergyPrices:
        settings = settings or load_settings()
        return cls(heat_cny_per_mwh=float(units.per_gj_to_per_mwh(settings.heat_price_cny_per_gj)),
                   electricity_cny_per_mwh=float(units.per_kwh_to_per_mwh(settings.electricity_price_cny_per_kwh)))

    @property
    def pump_weight(self) -> float:
        """MWh of heat one MWh of pumping is worth."""
        return self.electricity_cny_per_mwh / self.heat_cny_per_mwh

    def cost_cny(self, heat_mwh: float, pump_mwh: float) -> float:
        return self.heat_cny_per_mwh * heat_mwh + self.electricity_cny_per_mwh * pump_mwh
