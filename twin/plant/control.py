"""How a utility dispatches heat: the source's heating curve and the stations' heat demand.

The curve and the design temperatures are the network's own (``Network.design``, a
``layers.design.DesignSettings``); without one, ``DEFAULT_DESIGN`` (Weifang's, and so marked
assumed on import). The module constants below are that default's, for callers that have no network.
"""

from __future__ import annotations

import numpy as np

from layers.design import DEFAULT_DESIGN, DesignSettings

DESIGN_OUTDOOR_C = DEFAULT_DESIGN.design_outdoor_c
DESIGN_INDOOR_C = DEFAULT_DESIGN.design_indoor_c
HEATING_LIMIT_C = DEFAULT_DESIGN.heating_limit_c      # above this outdoor temperature heating would stop


def supply_setpoint_c(outdoor_c, design: DesignSettings | None = None):
    """Primary supply temperature from the network's heating curve (outdoor → supply setpoint), °C.

    Piecewise linear through the curve's points and held at its ends. Weifang's (the default) runs
    from 70 °C at the heating limit to 110 °C at the design outdoor temperature, then on, more gently,
    to 130 °C at −20 °C: real curves keep rising below the design point, and with returns near 50 °C
    the wider temperature drop carries a cold wave's ~50 % extra heat with ~10 % more flow instead of 50 %.
    """
    return (design or DEFAULT_DESIGN).supply_c(outdoor_c)


def occupancy_factor(local_hour):
    """Daily demand profile: morning and evening peaks, a lighter afternoon and night set-back."""
    h = np.asarray(local_hour, dtype=float)
    morning = 0.10 * np.exp(-((h - 7.0) ** 2) / 3.0)
    evening = 0.12 * np.exp(-((h - 19.5) ** 2) / 5.0)
    return 0.95 + morning + evening - 0.05 * ((h >= 23) | (h < 5))


def station_heat_mw(design_heat_mw, outdoor_c, local_hour, design: DesignSettings | None = None):
    """Heat demand of stations from their design load, the outdoor temperature and the hour, MW.

    Demand scales with the indoor–outdoor difference (degree-hour method) against the network's
    design difference; a floor of 10 % covers hot water and losses on mild days.
    """
    ratio = np.clip((design or DEFAULT_DESIGN).load_ratio(outdoor_c), 0.10, 1.4)
    return np.asarray(design_heat_mw, dtype=float) * ratio * occupancy_factor(local_hour)


def fixed_flow_dispatch_t_h(design_flow_t_h, load_ratio: float, t_supply_c: float, t_return_c: float,
                            design_delta_t_k: float = 60.0, max_share: float = 1.2, station_cap_ratio: float = 1.0):
    """Flow of plants dispatched on fixed flow: their district's real hydraulic demand — design flow
    scaled by the heat the stations can take and by the temperature drop — t/h.

    A station's exchanger passes at most ``station_cap_ratio`` of its design heat (the twin caps it
    there), so colder than design the load no longer grows while the heating curve widens the drop:
    in a cold wave the district draws *less* flow. Dispatching more would push the surplus across town
    through the small ties to the pressure-holding plant. A plant never pumps more than ``max_share``
    of its design flow.
    """
    delta_t_k = max(float(t_supply_c) - float(t_return_c), 10.0)
    share = min(float(load_ratio), station_cap_ratio) * design_delta_t_k / delta_t_k
    return np.asarray(design_flow_t_h, dtype=float) * min(share, max_share)


def lagged_outdoor_c(previous_c: float, outdoor_c: float, dt_s: float, tau_h: float = 12.0) -> float:
    """Outdoor temperature as weather-compensated controllers see it: smoothed over ``tau_h`` hours."""
    alpha = 1.0 - np.exp(-dt_s / (tau_h * 3600.0))
    return previous_c + alpha * (outdoor_c - previous_c)
