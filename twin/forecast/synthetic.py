"""Weather forecasts made from a known temperature series by adding the error a real forecast has.

Used by the virtual plant (its forecasts of its own weather) and for measured series that have no
forecast archive (the Niš seasons before 2024-25), so both are scored on forecasts, not on hindsight.

The error of an issue is a smooth random walk in lead time — ``σ(L) = 0.8 K + 0.035 K/h · L``: about
1 K at 6 h, 2.5 K at 48 h, correlated from hour to hour (ρ = 0.9) as a forecast's errors are — plus a
warm bias in cold waves: a forecast sees only part of how far a cold front will drop, more so the further
ahead (up to ``COLD_WAVE_MISSED`` of the drop at 48 h).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SIGMA_0_K = 0.8
SIGMA_PER_H_K = 0.035
RHO_PER_H = 0.9
COLD_WAVE_MISSED = 0.3
HORIZON_H = 48


def sigma_k(lead_h) -> np.ndarray:
    """The forecast error's standard deviation at ``lead_h`` hours, K."""
    return SIGMA_0_K + SIGMA_PER_H_K * np.asarray(lead_h, dtype=float)


def lead_errors_k(issued_at: pd.Timestamp, leads_h: np.ndarray, seed: int) -> np.ndarray:
    """One issue's error at each lead: an AR(1) of unit variance scaled by ``sigma_k`` (seeded by the issue
    hour, so the same issue always carries the same error)."""
    hour = int(pd.Timestamp(issued_at).timestamp() // 3600)
    rng = np.random.default_rng([seed, hour])
    z = np.empty(len(leads_h))
    z[0] = rng.standard_normal()
    innovation = np.sqrt(1.0 - RHO_PER_H ** 2)
    for i in range(1, len(leads_h)):
        z[i] = RHO_PER_H * z[i - 1] + innovation * rng.standard_normal()
    return sigma_k(leads_h) * z


def cold_drop_k(temperature_c: pd.Series, window_h: int = 168) -> pd.Series:
    """How far the temperature is below its trailing week's mean: a cold wave's depth, K (≥ 0)."""
    trailing = temperature_c.rolling(window_h, min_periods=24).mean().shift(1)
    return (trailing - temperature_c).clip(lower=0.0).fillna(0.0)


def issue_forecast(truth_c: pd.Series, issued_at, *, horizon_h: int = HORIZON_H, seed: int = 11,
                   cold_drop: pd.Series | None = None, source: str = "synthetic") -> pd.DataFrame:
    """A forecast issued at ``issued_at`` of the true hourly temperature ``truth_c`` (UTC index):
    ``issued_at, valid_at, t_outdoor_c, source`` for leads 0–``horizon_h`` h (hours the truth lacks are left
    out). ``cold_drop`` (K below normal at each hour) sets the cold-wave bias; by default from the truth."""
    issued_at = pd.Timestamp(issued_at)
    leads = np.arange(0, horizon_h + 1)
    valid = pd.DatetimeIndex(issued_at + pd.to_timedelta(leads, unit="h"))
    true = truth_c.reindex(valid).to_numpy(dtype=float)
    drop = (cold_drop if cold_drop is not None else cold_drop_k(truth_c)).reindex(valid).fillna(0.0).to_numpy()
    missed = COLD_WAVE_MISSED * np.minimum(leads / horizon_h, 1.0) * drop
    values = true + missed + lead_errors_k(issued_at, leads, seed)
    ok = np.isfinite(values)
    return pd.DataFrame({"issued_at": issued_at, "valid_at": valid[ok], "t_outdoor_c": np.round(values[ok], 2),
                         "source": source})


def forecast_archive(truth_c: pd.Series, issues, *, horizon_h: int = HORIZON_H, seed: int = 11,
                     source: str = "synthetic") -> pd.DataFrame:
    """Every issue's forecast of ``truth_c`` (see ``issue_forecast``), one frame."""
    drop = cold_drop_k(truth_c)
    parts = [issue_forecast(truth_c, at, horizon_h=horizon_h, seed=seed, cold_drop=drop, source=source)
             for at in issues]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["issued_at", "valid_at", "t_outdoor_c", "source"])
