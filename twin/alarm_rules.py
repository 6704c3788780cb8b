"""The alarm rules the sync loop runs every cycle: each turns readings, the twin's result and the
residual history into conditions (element, cause, severity, message), and the engine raises,
refreshes and — after a rule's hold-off without its cause — clears them in the store.

Thresholds and severities are ``RuleConfig`` defaults, overridable from a YAML file
(``HEATTWIN_ALARM_RULES``): ``{rule: {field: value}}``; an unknown rule or field is refused with
the file and the name.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from heattwin.clock import local_hour_of
from store import alarms as store_alarms
from store import telemetry, twin_runs
from store.telemetry import health
from twin.drift import drift_per_day
from twin.plant.control import station_heat_mw, supply_setpoint_c

log = logging.getLogger(__name__)
RULES_ENV = "HEATTWIN_ALARM_RULES"
RELATIVE_KINDS = ("flow", "heat", "makeup_flow")   # meters whose accuracy is a share of the reading


@dataclass(frozen=True)
class RuleConfig:
    room_warn_c: float = 18.0
    room_alarm_c: float = 16.0
    room_duration_s: float = 1800.0
    compliance_window_s: float = 3600.0       # a community's or station's share of warm rooms, over this
    compliance_warn_share: float = 0.9
    compliance_alarm_share: float = 0.8
    compliance_min_collectors: int = 5        # fewer reporting rooms say too little about the share
    station_supply_margin_k: float = 12.0     # below the heating curve's setpoint by this much
    station_return_high_c: float = 60.0
    source_p_band_bar: float = 1.0            # around the plant's set supply pressure
    source_supply_margin_k: float = 8.0
    offline_intervals: int = 3                # sync windows without a reading
    stuck_window_s: float = 3 * 3600.0
    stuck_min_readings: int = 6
    drift_min_hours: int = 18                 # hours of the day seen today and yesterday (twin.drift)
    drift_z: float = 4.0                      # the drift against its day-to-day scatter
    drift_k_per_day: float = 1.0              # °C or bar or t/h per day, in the sensor's unit
    drift_share_per_day: float = 0.005        # and, for meters accurate to a share of the reading, that share
    drift_every_s: float = 3600.0             # a statement about days: re-assessed hourly
    # Today's mean outdoor this far from yesterday's: the twin's error moves with the weather, so today
    # against yesterday says nothing new of a meter (the open drift alarms stand, no new one is raised).
    drift_weather_change_k: float = 5.0
    hold_off_s: float = 900.0                 # a cause gone this long clears its alarm
    continuing_s: float = 1800.0              # seen again within this: the same episode
    # Deadbands: an open alarm holds until its value is back past the threshold by this much, so a
    # value wandering on the threshold is one alarm, not one an hour.
    room_deadband_k: float = 0.5
    compliance_deadband_share: float = 0.03
    station_supply_deadband_k: float = 2.0
    station_dp_deadband_bar: float = 0.05
    station_return_deadband_k: float = 2.0
    source_p_deadband_bar: float = 0.2
    source_supply_deadband_k: float = 2.0
    drift_z_clear: float = 3.0
    telemetry_offline_share: float = 0.5      # an element with at least this share of its sensors silent
    source_flow_lost_share: float = 0.1       # a flow-fed plant delivering less than this share of its design
    chattering_per_hour: int = 3              # raised more often than this in an hour: held as chattering
    network_cold_share: float = 0.25          # this share of the stations cold at once: the network is short
    # A station whose heat meter shows much less than its usual share of the curve's heat: a fouled exchanger,
    # a stuck control valve, a failed pump (the twin follows the meter, so no model rule sees it).
    station_heat_short_share: float = 0.6     # of its own usual ratio of metered heat to the curve's
    station_heat_alarm_share: float = 0.3     # under this share of its usual ratio: an alarm, not a warning
    station_heat_deadband_share: float = 0.1
    station_heat_usual_h: float = 24.0        # time constant of the usual ratio (frozen while short)
    station_heat_recent_s: float = 1800.0     # time constant of the ratio compared with it
    station_heat_learn_s: float = 3 * 3600.0  # the usual ratio is learnt this long before the rule speaks


@dataclass
class Condition:
    asset_id: str
    cause: str
    severity: str
    message: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"asset_id": self.asset_id, "cause": self.cause, "severity": self.severity,
                "message": self.message, "details": self.details}


def load_config(path: str | Path | None = None) -> RuleConfig:
    path = path or os.environ.get(RULES_ENV)
    if not path:
        return RuleConfig()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    known = {f.name for f in fields(RuleConfig)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{path}: unknown alarm setting(s) {sorted(unknown)}; known: {sorted(known)}")
    return replace(RuleConfig(), **{k: type(getattr(RuleConfig(), k))(v) for k, v in data.items()})


# Which settings each rule reads (the alarm-performance page links a bad actor to its thresholds).
RULE_FIELDS = {
    "room_t_low": ("room_warn_c", "room_alarm_c", "room_duration_s", "room_deadband_k"),
    "compliance_low": ("room_warn_c", "compliance_window_s", "compliance_warn_share", "compliance_alarm_share",
                       "compliance_min_collectors", "compliance_deadband_share"),
    "station_t_supply_low": ("station_supply_margin_k", "station_supply_deadband_k"),
    "station_dp_low": ("station_dp_deadband_bar",),
    "station_t_return_high": ("station_return_high_c", "station_return_deadband_k"),
    "source_p_out_of_band": ("source_p_band_bar", "source_p_deadband_bar"),
    "source_t_supply_low": ("source_supply_margin_k", "source_supply_deadband_k"),
    "source_tripped": ("source_flow_lost_share",),
    "network_compliance_low": ("room_warn_c", "network_cold_share"),
    "network_supply_low": ("station_supply_margin_k", "network_cold_share"),
    "station_heat_short": ("station_heat_short_share", "station_heat_alarm_share", "station_heat_deadband_share", "station_heat_usual_h",
                           "station_heat_recent_s", "station_heat_learn_s"),
    "sensor_offline": ("offline_intervals",),
    "telemetry_offline": ("offline_intervals", "telemetry_offline_share"),
    "telemetry_stalled": ("offline_intervals",),
    "sensor_stuck": ("stuck_window_s", "stuck_min_readings"),
    "sensor_drift": ("drift_min_hours", "drift_z", "drift_z_clear", "drift_k_per_day", "drift_share_per_day",
                     "drift_weather_change_k"),
}
COMMON_FIELDS = ("hold_off_s", "continuing_s", "chattering_per_hour")

# Every cause the engine owns (it also clears them); "leak" is raised by the leak monitor and cleared here.
COMPLIANCE_HOUSEHOLDS_KEPT = 100   # the coldest rooms named in one alarm (the count is kept whole)

CAUSES = ("room_t_low", "compliance_low", "station_t_supply_low", "station_dp_low", "station_t_return_high",
          "station_heat_short", "source_p_out_of_band", "source_t_supply_low", "source_tripped", "sensor_offline", "sensor_stuck",
          "sensor_drift", "telemetry_offline", "telemetry_stalled", "network_compliance_low", "network_supply_low",
          "twin_not_converged")


class AlarmEngine:
    def __init__(self, pool, network, config: RuleConfig | None = None, *, window_s: float = 300.0):
        self.pool = pool
        self.outdoor_c: float | None = None
        self.config = config or load_config()
        self.window_s = window_s
        sensors = network.sensors
        self.sensors = pd.DataFrame({"kind": sensors["kind"].astype(str).to_numpy(),
                                     "element_id": sensors["element_id"].astype(str).to_numpy()},
                                    index=sensors["id"].astype(str).to_numpy())
        self.stations = network.stations.set_index(network.stations["id"].astype(str))
        self.sources = network.sources.set_index(network.sources["id"].astype(str))
        self.design = network.design   # the network's heating curve and station dp minimum
        self.pressure_source = str(self.sources.index[self.sources["role"] == "pressure"][0])
        self._drift: tuple[pd.Timestamp, list[Condition]] | None = None   # (assessed at, conditions)
        self._stuck: set[str] = set()    # sensors the last sensor-health check found flat
        self._open: set[tuple[str, str]] = set()   # (element, cause) of the alarms open as a cycle starts
        self._newest: tuple[pd.Timestamp, pd.Timestamp] | None = None   # (newest reading, when it last moved)
        self._heat = StationHeatRatios(self.sensors, self.stations, self.design, self.config)

    def evaluate(self, at, *, result=None, measured: pd.Series | None = None, error: str | None = None,
                 outdoor_c: float | None = None) -> dict:
        """Run every rule at ``at``; raise what holds, clear what has been gone the hold-off time."""
        at = pd.Timestamp(at)
        self.outdoor_c = outdoor_c
        measured = measured if measured is not None else pd.Series(dtype=float)
        self._open = store_alarms.list_open_keys(self.pool)
        conditions = [*self.rooms(at), *self.compliance(at), *self.sensor_health(at), *self.drift(at)]
        if result is not None:
            conditions += [*self.stations_rules(result, measured), *self.sources_rules(result, measured)]
        if outdoor_c is not None:
            conditions += self.station_heat(at, measured, outdoor_c)
        if error is not None:
            conditions.append(Condition(self.pressure_source, "twin_not_converged", "alarm",
                                        f"twin did not converge: {error}"))
        counts = store_alarms.upsert_alarms(self.pool, [c.as_dict() for c in conditions], at=at.to_pydatetime(),
                                            continuing_s=self.config.continuing_s, actor="rules")
        active = {}
        for c in conditions:
            active.setdefault(c.cause, set()).add(c.asset_id)
        cleared = []
        # A failed solve says nothing about rules that need the twin's result: keep theirs open. Nor does a
        # heat meter without a reading (or a cycle without the outdoor temperature) about its station's heat.
        needs_result = {"station_t_supply_low", "station_dp_low", "station_t_return_high", "source_p_out_of_band",
                        "source_t_supply_low", "source_tripped", "network_supply_low"}
        unjudged = {"station_heat_short": set(self._heat.unread(measured if outdoor_c is not None else None))}
        for cause in CAUSES:
            if result is None and cause in needs_result:
                continue
            still = active.get(cause, set()) | unjudged.get(cause, set())
            cleared += store_alarms.clear_gone(self.pool, cause, still, at=at.to_pydatetime(),
                                               hold_off_s=self.config.hold_off_s, actor="rules")
        return {**counts, "cleared": len(cleared), "conditions": len(conditions)}

    # -- rules ---------------------------------------------------------------------------------
    def rooms(self, at) -> list[Condition]:
        """Collectors whose every reading of the last ``room_duration_s`` was under the threshold."""
        cfg = self.config
        stats = health.get_window_stats(self.pool, end=at.to_pydatetime(), window_s=cfg.room_duration_s)
        rooms = stats[stats["sensor_id"].isin(self.sensors.index[self.sensors["kind"] == "room_t"])]
        # Readings must cover the duration: at least two, spanning most of it.
        limit = cfg.room_warn_c + self._held("room_t_low", rooms["sensor_id"]) * cfg.room_deadband_k
        low = rooms[(rooms["max"] < limit) & (rooms["n"] >= 2)]
        return [Condition(r.sensor_id, "room_t_low", "alarm" if r.max < cfg.room_alarm_c else "warning",
                          f"room {r.max:.1f} °C or less for {cfg.room_duration_s / 60:.0f} min",
                          {"max_c": round(float(r.max), 2), "household_collector": r.sensor_id,
                           "threshold_c": cfg.room_warn_c, "duration_s": cfg.room_duration_s})
                for r in low.itertuples(index=False)]

    def compliance(self, at) -> list[Condition]:
        """Communities and stations where too few reporting rooms were warm enough (mean over the window)."""
        cfg = self.config
        frame = telemetry.get_compliance(self.pool, end=at.to_pydatetime(), window_s=cfg.compliance_window_s,
                                         threshold_c=cfg.room_warn_c)
        out = []
        for column in ("community_id", "station_id"):
            groups = frame.dropna(subset=[column]).groupby(column)
            counts = groups[["collectors", "below"]].sum().join(groups["worst_c"].min())
            counts["cold"] = groups["cold"].agg(lambda lists: [h for cold in lists for h in cold])
            counts = counts[counts["collectors"] >= cfg.compliance_min_collectors]
            counts["share_ok"] = 1.0 - counts["below"] / counts["collectors"]
            limit = cfg.compliance_warn_share + self._held("compliance_low", counts.index) * cfg.compliance_deadband_share
            low = counts[counts["share_ok"] < limit]
            out += [self._compliance_condition(str(element), r) for element, r in low.iterrows()]
            if column == "station_id":
                out += self._network_short(low, counts)
        return out

    def _network_supply_low(self, cold: pd.DataFrame, stations: int, setpoint: float) -> list[Condition]:
        """Supply under the curve at a large share of the stations at once (a cold wave the plants have not
        caught up with, a curve the plants cannot follow): one alarm on the pressure plant carrying them."""
        cfg = self.config
        held = (self.pressure_source, "network_supply_low") in self._open
        share = len(cold) / stations if stations else 0.0
        if not stations or share < cfg.network_cold_share - (0.05 if held else 0.0):
            return []
        return [Condition(self.pressure_source, "network_supply_low", "alarm" if share >= 0.5 else "warning",
                          f"{len(cold)} of {stations} stations get supply under the curve's {setpoint:.0f} °C"
                          f" (median {float(cold['value'].median()):.1f} °C)",
                          {"stations": int(len(cold)), "of": int(stations), "share": round(share, 3),
                           "setpoint_c": round(setpoint, 1), "median_c": round(float(cold["value"].median()), 1)})]

    def _network_short(self, low: pd.DataFrame, counts: pd.DataFrame) -> list[Condition]:
        """Cold rooms behind a large share of the stations at once: the supply as a whole is short of heat
        (the heating curve, a plant), one alarm on the network's pressure plant that carries the stations'."""
        cfg = self.config
        if not len(counts):
            return []
        share = len(low) / len(counts)
        held = (self.pressure_source, "network_compliance_low") in self._open
        if share < cfg.network_cold_share - (0.05 if held else 0.0):
            return []
        below, collectors = int(low["below"].sum()), int(counts["collectors"].sum())
        return [Condition(self.pressure_source, "network_compliance_low", "alarm" if share >= 0.5 else "warning",
                          f"{len(low)} of {len(counts)} stations have too few warm rooms ({below} of {collectors} rooms"
                          f" under {cfg.room_warn_c:g} °C): the network is short of heat",
                          {"stations": int(len(low)), "of": int(len(counts)), "below": below, "collectors": collectors,
                           "share": round(share, 3), "threshold_c": cfg.room_warn_c})]

    def _compliance_condition(self, element: str, r) -> Condition:
        """One alarm for a community's or station's cold rooms: the households it stands for in its details
        (coldest first), which the hotline and the refund ledger read and the wall does not ring for."""
        cfg = self.config
        return Condition(element, "compliance_low", "alarm" if r.share_ok < cfg.compliance_alarm_share else "warning",
                         f"{int(r.below)} of {int(r.collectors)} rooms under {cfg.room_warn_c:g} °C over "
                         f"{cfg.compliance_window_s / 3600:g} h, worst {r.worst_c:.1f} °C",
                         {"share_ok": round(float(r.share_ok), 3), "collectors": int(r.collectors),
                          "below": int(r.below), "worst_c": round(float(r.worst_c), 1),
                          "households": list(r.cold)[:COMPLIANCE_HOUSEHOLDS_KEPT],
                          "threshold_c": cfg.room_warn_c, "window_s": cfg.compliance_window_s})

    def sensor_health(self, at) -> list[Condition]:
        cfg = self.config
        lookback = max(cfg.stuck_window_s, cfg.offline_intervals * self.window_s) * 4
        last = pd.to_datetime(health.get_last_reading_times(self.pool, end=at.to_pydatetime(), lookback_s=lookback),
                              utc=True)
        out = self._stalled(at, last)
        if out:   # nothing arrives at all: one alarm for the feed, not one per sensor
            return out
        # Silent for N windows before the newest reading anything sent (not before the clock: while the
        # plant backfills its past hours the data is on its way); a sensor never heard within the lookback
        # is not yet commissioned, not offline.
        newest = last.max() if len(last) else at
        silent_for = (min(at, newest) - last).dt.total_seconds() if len(last) else pd.Series(dtype=float)
        offline = silent_for[silent_for > cfg.offline_intervals * self.window_s]
        for sensor_id, seconds in offline.items():
            out.append(Condition(sensor_id, "sensor_offline", "warning", f"no reading for {seconds / 60:.0f} min",
                                 {"silent_s": round(float(seconds))}))
        out += self._silent_elements(offline.index)
        stats = health.get_window_stats(self.pool, end=at.to_pydatetime(), window_s=cfg.stuck_window_s)
        flat = stats[(stats["n"] >= cfg.stuck_min_readings) & (stats["max"] - stats["min"] == 0)]
        flat = flat[~flat["sensor_id"].isin(self.sensors.index[self.sensors["kind"] == "makeup_flow"])]
        self._stuck = set(flat["sensor_id"])
        out += [Condition(r.sensor_id, "sensor_stuck", "warning",
                          f"the same value {r.max:g} for {cfg.stuck_window_s / 3600:.0f} h ({r.n} readings)",
                          {"value": float(r.max), "readings": int(r.n)}) for r in flat.itertuples(index=False)]
        return out

    def _stalled(self, at, last: pd.Series) -> list[Condition]:
        """No reading newer than the last cycle's for N windows of the clock: the feed itself is down."""
        cfg = self.config
        newest = last.max() if len(last) else None
        if newest is None:
            return []
        if self._newest is None or newest > self._newest[0]:
            self._newest = (newest, at)
        still = (at - self._newest[1]).total_seconds()
        if still <= cfg.offline_intervals * self.window_s:
            return []
        return [Condition(self.pressure_source, "telemetry_stalled", "alarm",
                          f"no new reading from any sensor for {still / 60:.0f} min (newest {newest:%H:%M} UTC)",
                          {"newest": newest.isoformat(), "still_s": round(still)})]

    def _silent_elements(self, offline_ids) -> list[Condition]:
        """An element most of whose sensors are silent at once: its outstation or link, one alarm for them all."""
        cfg = self.config
        fitted = self.sensors[self.sensors["kind"] != "room_t"]
        per_element = fitted.groupby("element_id").size()
        silent = fitted[fitted.index.isin(set(offline_ids))].groupby("element_id").size()
        share = (silent / per_element.reindex(silent.index)).dropna()
        hit = share[(share >= cfg.telemetry_offline_share) & (per_element.reindex(share.index) >= 2)]
        return [Condition(str(element), "telemetry_offline", "warning",
                          f"{int(silent[element])} of {int(per_element[element])} sensors silent",
                          {"silent": int(silent[element]), "sensors": int(per_element[element])})
                for element in hit.index]

    def drift(self, at) -> list[Condition]:
        """Sensors whose residual against the twin grew from yesterday to today (``twin.drift``), beyond
        what their kind did together and out of their day-to-day scatter. Assessed every
        ``drift_every_s`` (the conditions stand in between, so their alarms do not clear)."""
        cfg = self.config
        if self._drift is not None and 0 <= (at - self._drift[0]).total_seconds() < cfg.drift_every_s:
            return self._drift[1]
        hourly = twin_runs.get_hourly_residuals(self.pool, end=at.to_pydatetime(), window_s=2 * 86400.0)
        table = drift_per_day(hourly, at, self.sensors["kind"], min_hours=cfg.drift_min_hours)
        kinds = table["sensor_id"].map(self.sensors["kind"])
        # Flow and heat meters are accurate to a share of their reading: so is a drift worth a warning.
        least = np.where(kinds.isin(RELATIVE_KINDS), np.maximum(cfg.drift_k_per_day,
                                                                cfg.drift_share_per_day * table["level"].abs()),
                         cfg.drift_k_per_day)
        # A stuck meter's residual follows the truth, and so does the residual its stuck input leaves on
        # the other meters of its element: that is the stuck alarm's, not drift. The twin has no
        # background losses, so the make-up residual is those losses, not a meter's error.
        stuck_elements = set(self.sensors.loc[self.sensors.index.isin(self._stuck), "element_id"])
        explained = kinds.eq("makeup_flow") | table["sensor_id"].map(self.sensors["element_id"]).isin(stuck_elements)
        z_limit = np.where(self._held("sensor_drift", table["sensor_id"]), cfg.drift_z_clear, cfg.drift_z)
        steady = table[(table["excess"].abs() >= least) & (table["z"] >= z_limit) & ~explained.to_numpy()]
        if self._weather_changed(at):
            steady = steady[self._held("sensor_drift", steady["sensor_id"]).astype(bool)]
        conditions = [Condition(r.sensor_id, "sensor_drift", "warning",
                                f"residual against the twin drifts {r.excess:+.2f} per day (today against yesterday,"
                                f" hour by hour; {r.z:.0f} × its scatter)",
                                {"slope_per_day": round(float(r.excess), 3), "z": round(float(r.z), 1),
                                 "hours": int(r.hours), "kind_common_per_day": round(float(r.common), 3)})
                      for r in steady.itertuples(index=False)]
        self._drift = (at, conditions)
        return conditions

    def _weather_changed(self, at) -> bool:
        """Whether the last 24 h's mean outdoor temperature is ``drift_weather_change_k`` or more from the
        24 h before (hourly means of the outdoor sensors)."""
        outdoor = self.sensors.index[self.sensors["kind"] == "outdoor_t"].tolist()
        if not outdoor:
            return False
        end = at.to_pydatetime()
        trend = telemetry.get_trend(self.pool, outdoor, end - pd.Timedelta(hours=48), end, resolution="1h")
        if trend.empty:
            return False
        today = pd.to_datetime(trend["bucket"], utc=True) >= at - pd.Timedelta(hours=24)
        means = trend.groupby(today)["avg"].mean()
        return len(means) == 2 and abs(means[True] - means[False]) >= self.config.drift_weather_change_k

    def _measured_or_model(self, measured, element_ids, kind, model: pd.Series) -> pd.DataFrame:
        sensors = self.sensors[self.sensors["kind"] == kind]
        by_element = pd.Series(measured.reindex(sensors.index).to_numpy(), index=sensors["element_id"].to_numpy())
        by_element = by_element[~by_element.index.duplicated()].reindex(element_ids)
        value = by_element.where(by_element.notna(), model.reindex(element_ids))
        return pd.DataFrame({"value": value, "measured": by_element.notna()})

    def stations_rules(self, result, measured) -> list[Condition]:
        cfg = self.config
        st = result.stations[result.stations["status"] != "cut_off"]
        out = []
        setpoint = float(supply_setpoint_c(self.outdoor_c, self.design)) if self.outdoor_c is not None \
            else float(np.nanmax(result.sources["t_supply_c"]))
        supply = self._measured_or_model(measured, st.index, "t_supply", st["t_supply_c"])
        limit = setpoint - cfg.station_supply_margin_k + \
            self._held("station_t_supply_low", supply.index) * cfg.station_supply_deadband_k
        cold = supply[supply["value"] < limit]
        for sid, row in cold.iterrows():
            out.append(Condition(sid, "station_t_supply_low", "warning",
                                 f"supply {row.value:.1f} °C, {setpoint - row.value:.0f} K under the curve",
                                 {"value_c": round(float(row.value), 2), "source": _source(row.measured)}))
        out += self._network_supply_low(cold, len(supply), setpoint)
        min_dp = pd.to_numeric(self.stations["min_dp_bar"], errors="coerce").fillna(
            self.design.min_station_dp_bar).reindex(st.index)
        low = st[st["dp_bar"] < min_dp + self._held("station_dp_low", st.index) * cfg.station_dp_deadband_bar]
        for sid, row in low.iterrows():
            out.append(Condition(sid, "station_dp_low", "alarm" if row.dp_bar < 0.5 * min_dp[sid] else "warning",
                                 f"differential pressure {row.dp_bar:.2f} bar under its minimum {min_dp[sid]:.2f}",
                                 {"dp_bar": round(float(row.dp_bar), 3), "source": "model"}))
        ret = self._measured_or_model(measured, st.index, "t_return", st["t_return_c"])
        high = cfg.station_return_high_c - self._held("station_t_return_high", ret.index) * cfg.station_return_deadband_k
        for sid, row in ret[ret["value"] > high].iterrows():
            out.append(Condition(sid, "station_t_return_high", "warning", f"return {row.value:.1f} °C",
                                 {"value_c": round(float(row.value), 2), "source": _source(row.measured)}))
        return out

    def station_heat(self, at, measured: pd.Series, outdoor_c: float) -> list[Condition]:
        """Stations whose metered heat fell under ``station_heat_short_share`` of their usual share of the
        heating curve's heat, for about ``station_heat_recent_s``."""
        cfg = self.config
        held = self._held("station_heat_short", self._heat.station_ids).astype(bool)
        table = self._heat.update(at, measured, outdoor_c, held)
        limit = cfg.station_heat_short_share + held * cfg.station_heat_deadband_share
        short = table[table["learnt"] & (table["recent"] < limit * table["usual"])]
        return [Condition(sid, "station_heat_short", "alarm" if r.recent < cfg.station_heat_alarm_share * r.usual
                          else "warning",
                          f"heat {r.heat_mw:.2f} MW, {100 * r.recent / r.usual:.0f} % of its usual share of the curve's"
                          f" {r.asked_mw:.2f} MW",
                          {"heat_mw": round(float(r.heat_mw), 3), "asked_mw": round(float(r.asked_mw), 3),
                           "share_pct": round(float(100 * r.recent / r.usual)), "source": "measured"})
                for sid, r in short.iterrows()]

    def sources_rules(self, result, measured) -> list[Condition]:
        cfg = self.config
        src = result.sources[result.sources["status"] != "cut_off"]
        set_p = pd.to_numeric(self.sources["p_flow_bar"], errors="coerce").reindex(src.index)
        pressure = self._measured_or_model(measured, src.index, "p_supply", src["p_supply_bar"])
        out = []
        band = cfg.source_p_band_bar - self._held("source_p_out_of_band", pressure.index) * cfg.source_p_deadband_bar
        off = pressure[(pressure["value"] - set_p).abs() > band]
        for sid, row in off.iterrows():
            out.append(Condition(sid, "source_p_out_of_band", "alarm",
                                 f"supply pressure {row.value:.2f} bar, set {set_p[sid]:.2f} ± {cfg.source_p_band_bar}",
                                 {"value_bar": round(float(row.value), 3), "source": _source(row.measured)}))
        if self.outdoor_c is not None:
            setpoint = float(supply_setpoint_c(self.outdoor_c, self.design))
            t = self._measured_or_model(measured, src.index, "t_supply", src["t_supply_c"])
            limit = setpoint - cfg.source_supply_margin_k + \
                self._held("source_t_supply_low", t.index) * cfg.source_supply_deadband_k
            for sid, row in t[t["value"] < limit].iterrows():
                out.append(Condition(sid, "source_t_supply_low", "warning",
                                     f"supply {row.value:.1f} °C under the curve's {setpoint:.0f} °C",
                                     {"value_c": round(float(row.value), 2), "source": _source(row.measured)}))
        return out + self.tripped_sources(measured)

    def tripped_sources(self, measured) -> list[Condition]:
        """Flow-fed plants whose metered flow fell under a share of their design flow: a tripped pump
        (the pressure plant's trip shows as its pressure out of band)."""
        cfg = self.config
        design = pd.to_numeric(self.sources.get("flow_t_h"), errors="coerce") if "flow_t_h" in self.sources \
            else pd.Series(dtype=float)
        design = design[(self.sources["role"] != "pressure").reindex(design.index, fill_value=False) & (design > 0)]
        flow = self._measured_or_model(measured, design.index, "flow", pd.Series(np.nan, index=design.index))
        lost = flow[flow["measured"] & (flow["value"].abs() < cfg.source_flow_lost_share * design)]
        return [Condition(sid, "source_tripped", "alarm",
                          f"flow {row.value:.0f} t/h of a design {design[sid]:.0f} t/h: the plant is not delivering",
                          {"flow_t_h": round(float(row.value), 1), "design_flow_t_h": float(design[sid])})
                for sid, row in lost.iterrows()]

    def _held(self, cause: str, element_ids) -> np.ndarray:
        """1 where ``cause`` is already open on the element (its deadband applies), else 0."""
        ids = np.asarray(list(element_ids), dtype=object)
        return np.fromiter(((str(e), cause) in self._open for e in ids), dtype=float, count=len(ids))


class StationHeatRatios:
    """Each metered station's ratio of metered heat to the heating curve's heat for it, smoothed twice: a
    recent ratio (``station_heat_recent_s``) and its usual one (``station_heat_usual_h``), which a short
    station does not teach. Buildings differ from their design load; each station is compared with itself."""

    def __init__(self, sensors: pd.DataFrame, stations: pd.DataFrame, design, config: RuleConfig):
        meters = sensors[(sensors["kind"] == "heat") & sensors["element_id"].isin(stations.index)]
        meters = meters[~meters["element_id"].duplicated()]
        self.meter_ids = meters.index.to_numpy()
        self.station_ids = meters["element_id"].to_numpy()
        self.design_mw = pd.to_numeric(stations["design_heat_mw"], errors="coerce").reindex(
            self.station_ids).to_numpy(dtype=float) if "design_heat_mw" in stations else np.full(len(meters), np.nan)
        self.design = design
        self.config = config
        n = len(meters)
        self.recent, self.usual, self.seen_s = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
        self.last_at: pd.Timestamp | None = None

    def unread(self, measured: pd.Series | None) -> list[str]:
        """Stations whose heat meter has no reading in ``measured`` (all of them when there is none)."""
        if measured is None:
            return list(self.station_ids)
        return list(self.station_ids[~np.isfinite(measured.reindex(self.meter_ids).to_numpy(dtype=float))])

    def update(self, at: pd.Timestamp, measured: pd.Series, outdoor_c: float, held: np.ndarray) -> pd.DataFrame:
        cfg = self.config
        dt_s = 0.0 if self.last_at is None else max((at - self.last_at).total_seconds(), 0.0)
        self.last_at = at
        heat = measured.reindex(self.meter_ids).to_numpy(dtype=float)
        asked = station_heat_mw(self.design_mw, outdoor_c, local_hour_of(at), self.design)
        ratio = np.where(asked > 0, heat / asked, np.nan)
        ok = np.isfinite(ratio)
        fresh = ok & ~np.isfinite(self.recent)
        self.recent[fresh], self.usual[fresh] = ratio[fresh], ratio[fresh]
        step = ok & ~fresh
        a_recent = 1.0 - np.exp(-dt_s / cfg.station_heat_recent_s)
        self.recent[step] += a_recent * (ratio[step] - self.recent[step])
        learn = step & ~held
        a_usual = 1.0 - np.exp(-dt_s / (cfg.station_heat_usual_h * 3600.0))
        self.usual[learn] += a_usual * (ratio[learn] - self.usual[learn])
        self.seen_s[ok] += dt_s
        return pd.DataFrame({"heat_mw": heat, "asked_mw": asked, "recent": self.recent, "usual": self.usual,
                             "learnt": (self.seen_s >= cfg.station_heat_learn_s) & ok & (self.usual > 0)},
                            index=self.station_ids)


def _source(measured: bool) -> str:
    return "measured" if measured else "model"
