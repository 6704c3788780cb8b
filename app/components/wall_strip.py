"""The wall's 48 h strip as it was known at a moment: the weather forecast and the heat-load forecast issued by
then, the heating curve at that forecast, and the supply advice of the newest schedule issued by then — live,
the moment is now; in a replay, the replayed time, so the strip never shows what was learned later."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from layers.design import DEFAULT_DESIGN, DesignSettings
from store import control as control_store
from store import forecasts as forecast_store
from store import networks as store_networks
from twin.control.strip import strip_data
from twin.forecast.data import DEFAULT_LOCATION, STALE_WEATHER_H

HORIZON_H = 48


def _station_load(pool, at: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The stations' forecast load summed per valid hour in ``[at, end)``, from each station's newest issue by
    ``at``: load_mw, p10_mw, p90_mw."""
    loads = forecast_store.list_load_forecast(pool, issued_before=at.to_pydatetime())
    if loads.empty:
        return pd.DataFrame(columns=["load_mw", "p10_mw", "p90_mw"])
    valid = pd.to_datetime(loads["valid_at"], utc=True)
    stations = loads[loads["element_id"].astype(str).str.startswith("ST-") & (valid >= at) & (valid < end)]
    summed = stations.groupby(pd.to_datetime(stations["valid_at"], utc=True))[["load_mw", "p10_mw", "p90_mw"]].sum()
    return summed.sort_index()


def _advised_supply(pool, at: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame | None:
    """The newest schedule's advised supply per source for the hours in ``[at, end)`` it covers (None: none)."""
    schedule = control_store.get_schedule_as_of(pool, at.to_pydatetime())
    hourly = ((schedule or {}).get("summary") or {}).get("hourly") or {}
    if not hourly.get("valid_at") or not hourly.get("supply_c"):
        return None
    supply = pd.DataFrame(hourly["supply_c"], index=pd.DatetimeIndex(pd.to_datetime(hourly["valid_at"], utc=True)))
    supply = supply[(supply.index >= at) & (supply.index < end)]
    return supply if len(supply) else None


def strip_as_of(pool, at: datetime) -> dict:
    """``twin.control.strip.strip_data`` for the 48 h from ``at`` with only what had been issued by ``at``."""
    at = pd.Timestamp(at).tz_convert("UTC")
    end = at + pd.Timedelta(hours=HORIZON_H)
    weather = forecast_store.list_weather_forecast(pool, DEFAULT_LOCATION, issued_before=at.to_pydatetime(),
                                                   valid_from=at.to_pydatetime(), valid_to=end.to_pydatetime())
    load = _station_load(pool, at, end)
    supply = _advised_supply(pool, at, end)
    hours = load.index.union(supply.index) if supply is not None else load.index
    hourly = {"valid_at": [h.isoformat() for h in hours],
              "load_mw": [float(v) for v in load["load_mw"].reindex(hours)],
              "p10_mw": [float(v) for v in load["p10_mw"].reindex(hours)],
              "p90_mw": [float(v) for v in load["p90_mw"].reindex(hours)]}
    if supply is not None:
        hourly["supply_c"] = {str(s): [float(v) for v in supply[s].reindex(hours)] for s in supply.columns}
    issued = pd.to_datetime(weather["issued_at"], utc=True)
    # As the load forecast judges it (twin.forecast.load): the newest issue by then is too old.
    stale = bool(len(weather)) and at - issued.max() > pd.Timedelta(hours=STALE_WEATHER_H)
    return strip_data({"hourly": hourly, "weather_fallback": stale}, weather, curve_c=_curve(pool, weather))


def _curve(pool, weather: pd.DataFrame) -> pd.Series | None:
    """The network's heating curve at each forecast hour's outdoor temperature: the supply the plants run
    without advice, beside the advised one."""
    if weather.empty:
        return None
    design = (store_networks.get_design(pool) or {}).get("settings")
    settings = DesignSettings.from_dict(design) if design else DEFAULT_DESIGN
    outdoor = weather["t_outdoor_c"].to_numpy(dtype=float)
    return pd.Series(settings.supply_c(outdoor), index=pd.DatetimeIndex(pd.to_datetime(weather["valid_at"], utc=True)))
