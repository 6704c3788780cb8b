"""Unit conversions: SI inside the code, display units at the edges. The only place that converts.

Names carry their units (``t_c``, ``t_k``, ``p_bar``, ``flow_t_h``, ``mdot_kg_per_s``, ``heat_mw``).
"""

from __future__ import annotations

KELVIN_OFFSET = 273.15
WATER_CP_J_PER_KGK = 4186.0
# No density here: where one is needed it comes from pandapipes' fluid at the pipe's solved temperature
# (twin.leaks.sensitivity), so there is one value for each operating point, not two constants.


def c_to_k(t_c):
    return t_c + KELVIN_OFFSET


def k_to_c(t_k):
    return t_k - KELVIN_OFFSET


def kg_per_s_to_t_h(mdot_kg_per_s):
    return mdot_kg_per_s * 3.6


def t_h_to_kg_per_s(flow_t_h):
    return flow_t_h / 3.6


def w_to_mw(heat_w):
    return heat_w / 1e6


def mw_to_w(heat_mw):
    return heat_mw * 1e6


def m_to_km(length_m):
    return length_m / 1000.0


def km_to_m(length_km):
    return length_km * 1000.0


def bar_to_pa(p_bar):
    return p_bar * 1e5


def pa_to_bar(p_pa):
    return p_pa / 1e5


def mm_to_m(length_mm):
    return length_mm / 1000.0


def heat_w(mdot_kg_per_s, delta_t_k):
    """Heat carried by a water flow over a temperature difference, in W."""
    return mdot_kg_per_s * WATER_CP_J_PER_KGK * delta_t_k


def mdot_for_heat_kg_per_s(heat_w_value, delta_t_k):
    """Water flow needed to carry ``heat_w_value`` W over ``delta_t_k`` K, in kg/s."""
    return heat_w_value / (WATER_CP_J_PER_KGK * delta_t_k)


def w_to_kw(heat_w_value):
    return heat_w_value / 1e3


def s_to_h(duration_s):
    return duration_s / 3600.0


def per_gj_to_per_mwh(price_per_gj):
    """A price per GJ as a price per MWh (1 MWh = 3.6 GJ)."""
    return price_per_gj * 3.6


def per_kwh_to_per_mwh(price_per_kwh):
    return price_per_kwh * 1e3
