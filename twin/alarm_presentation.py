"""What the dispatcher is presented: the presentation pass the sync loop runs after every alarm writer.

The rules raise conditions on every element they see (``twin.alarm_rules``); most of those are
consequences of one cause or evidence for another alarm. Following ISA-18.2 / EEMUA 191, each open
alarm here is either *presented* (it rings, the ticker and the tile show it) or kept off the wall
with the reason why (``heattwin.choices.ALARM_SUPPRESSION``):

- evidence: one household's room (the community's compliance alarm carries it);
- grouped under a root cause, by the rules in ``GROUPING`` (a leak's or an isolation's dry region, a
  tripped plant, a failed station, an offline sensor, an element whose telemetry is silent) — the
  cause is one line on the wall that expands into its consequences;
- out of service: the element is under repair on a work order;
- shelved by a dispatcher, with a reason, until its expiry;
- chattering: raised more than ``chattering_per_hour`` times in the last hour, held until it settles.

Every open alarm also gets a priority (``PRIORITY``) and a console (the desk of the plant feeding it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from heattwin.choices import ALARM_EVIDENCE_CAUSES
from store import alarms as store_alarms
from store.incidents import list_active_incidents

# The station alarms that are consequences when the heat does not reach a station.
STATION_CONSEQUENCES = ("station_dp_low", "station_t_supply_low", "station_t_return_high", "station_heat_short",
                        "compliance_low")
INSTRUMENT_CAUSES = ("sensor_offline", "sensor_stuck", "sensor_drift", "telemetry_offline")
INSTRUMENT_CONSOLE = "instruments"
SOURCE_CAUSES = ("source_p_out_of_band", "source_t_supply_low", "source_tripped")


@dataclass(frozen=True)
class GroupRule:
    """Alarms of ``child_causes`` within ``scope`` of an open alarm of ``parent_causes`` are grouped under it."""
    name: str
    parent_causes: tuple[str, ...]
    child_causes: tuple[str, ...]
    scope: str   # incident_stations | fed_stations | same_station | same_sensor | host_element | everywhere
    parent_severities: tuple[str, ...] = ("warning", "alarm", "critical")


# Most upstream first: an alarm groups under the first rule that claims it.
GROUPING = (
    GroupRule("incident_region", ("leak", "station_t_supply_low", "station_dp_low"),
              (*STATION_CONSEQUENCES, "sensor_offline", "sensor_stuck", "sensor_drift"), "incident_stations"),
    GroupRule("source_trip", SOURCE_CAUSES, STATION_CONSEQUENCES, "fed_stations", ("alarm", "critical")),
    GroupRule("network_short", ("network_compliance_low",), ("compliance_low",), "everywhere"),
    GroupRule("network_supply", ("network_supply_low",), ("station_t_supply_low", "source_t_supply_low"),
              "everywhere"),
    GroupRule("source_supply", ("source_t_supply_low",), ("station_t_supply_low",), "fed_stations"),
    GroupRule("station_fault", ("station_t_supply_low", "station_dp_low"), STATION_CONSEQUENCES, "same_station"),
    GroupRule("station_heat", ("station_heat_short",), ("station_t_return_high", "compliance_low"), "same_station"),
    GroupRule("station_rooms", ("compliance_low",), ("compliance_low",), "same_station"),
    GroupRule("telemetry_offline", ("telemetry_offline",), ("sensor_offline", "sensor_stuck", "sensor_drift"),
              "host_element"),
    GroupRule("offline_sensor", ("sensor_offline",), ("sensor_stuck", "sensor_drift"), "same_sensor"),
    # Late work orders are one job for the dispatcher (chase the crews), not one alarm per order's element.
    GroupRule("work_order_clocks", ("sla_breach",), ("sla_breach", "sla_warning"), "everywhere"),
    GroupRule("work_order_clocks", ("sla_warning",), ("sla_warning",), "everywhere"),
)

# cause → severity → priority; a cause not listed takes its severity's.
BY_SEVERITY = {"info": "low", "warning": "low", "alarm": "medium", "critical": "high"}
PRIORITY = {
    "leak": {"warning": "high", "alarm": "high", "critical": "high"},
    "source_p_out_of_band": {"warning": "medium", "alarm": "high", "critical": "high"},
    "source_tripped": {"warning": "high", "alarm": "high", "critical": "high"},
    "telemetry_stalled": {"warning": "high", "alarm": "high", "critical": "high"},
    "twin_not_converged": {"warning": "low", "alarm": "medium", "critical": "medium"},
    "sensor_offline": {"warning": "low", "alarm": "low"},
    "sensor_stuck": {"warning": "low", "alarm": "low"},
    "sensor_drift": {"warning": "low", "alarm": "low"},
    "telemetry_offline": {"warning": "low", "alarm": "medium"},
    "network_compliance_low": {"warning": "medium", "alarm": "high"},
    "network_supply_low": {"warning": "medium", "alarm": "high"},
}


def priority_of(cause: pd.Series, severity: pd.Series) -> np.ndarray:
    by_cause = [PRIORITY.get(c, {}).get(s) for c, s in zip(cause, severity, strict=True)]
    fallback = severity.map(BY_SEVERITY).fillna("low").to_numpy()
    return np.where(pd.isna(np.asarray(by_cause, dtype=object)), fallback, np.asarray(by_cause, dtype=object))


def feeding_source(network) -> pd.Series:
    """The plant each station is fed from: the nearest source along the pipes (by length)."""
    nodes = pd.Index(network.nodes["id"].astype(str))
    pipes = network.pipes
    a, b = nodes.get_indexer(pipes["from_node"].astype(str)), nodes.get_indexer(pipes["to_node"].astype(str))
    length = pd.to_numeric(pipes["length_m"], errors="coerce").fillna(1.0).to_numpy() \
        if "length_m" in pipes else np.ones(len(pipes))
    keep = (a >= 0) & (b >= 0)
    graph = csr_matrix((np.maximum(length[keep], 1e-3), (a[keep], b[keep])), shape=(len(nodes), len(nodes)))
    source_nodes = nodes.get_indexer(network.sources["node_id"].astype(str))
    stations = network.stations
    if (source_nodes < 0).any() or not len(stations):
        return pd.Series(str(network.sources["id"].iloc[0]), index=stations["id"].astype(str))
    _, _, reached_from = dijkstra(graph, directed=False, indices=source_nodes, min_only=True,
                                  return_predecessors=True)
    source_by_node = pd.Series(network.sources["id"].astype(str).to_numpy(), index=source_nodes)
    at = nodes.get_indexer(stations["node_id"].astype(str))
    fed = np.where(at >= 0, reached_from[np.maximum(at, 0)], -9999)
    names = source_by_node.reindex(fed).to_numpy()
    pressure = str(network.sources.loc[network.sources["role"] == "pressure", "id"].iloc[0])
    return pd.Series(names, index=stations["id"].astype(str)).fillna(pressure)


class AlarmPresenter:
    """Runs the presentation pass over the store's open alarms for one network."""

    def __init__(self, pool, network, *, chattering_per_hour: int = 3):
        self.pool = pool
        self.chattering_per_hour = chattering_per_hour
        self.pressure_source = str(network.sources.loc[network.sources["role"] == "pressure", "id"].iloc[0])
        self.fed_by = feeding_source(network)
        sensors = network.sensors
        self.sensor_host = pd.Series(sensors["element_id"].astype(str).to_numpy(), index=sensors["id"].astype(str))
        self.room_sensors = set(sensors.loc[sensors["kind"].astype(str) == "room_t", "id"].astype(str))
        communities = network.communities
        self.station_of = pd.concat([
            pd.Series(network.stations["id"].astype(str).to_numpy(), index=network.stations["id"].astype(str)),
            pd.Series(communities["station_id"].astype(str).to_numpy(), index=communities["id"].astype(str))])
        self.station_of = self.station_of[~self.station_of.index.duplicated()]

    # -- the pass --------------------------------------------------------------------------------
    def present(self, at) -> dict:
        """Decide, for every open alarm at ``at``, presented or why not, its root cause, priority and
        console; write what changed (with its events). Returns counts."""
        at = pd.Timestamp(at)
        alarms = store_alarms.list_open_for_presentation(self.pool)
        if alarms.empty:
            return {"open": 0, "presented": 0, "changed": 0}
        decided = self.decide(alarms, at, incidents=list_active_incidents(self.pool),
                              out_of_service=store_alarms.list_out_of_service(self.pool)["asset_id"],
                              episodes=store_alarms.count_recent_episodes(self.pool, since=at - pd.Timedelta(hours=1)))
        changed = store_alarms.apply_presentation(self.pool, alarms, decided, at=at.to_pydatetime())
        return {"open": len(alarms), "presented": int(decided["presented"].sum()), "changed": changed}

    def decide(self, alarms: pd.DataFrame, at: pd.Timestamp, *, incidents: pd.DataFrame,
               out_of_service: pd.Series, episodes: pd.DataFrame) -> pd.DataFrame:
        """The decision for each alarm (index as ``alarms``): presented, parent_id, suppressed_by,
        priority, console. Pure: everything it reads is passed in."""
        frame = alarms.copy()
        frame["host"] = frame["asset_id"].map(self.sensor_host).fillna(frame["asset_id"])
        frame["station"] = frame["host"].map(self.station_of)
        console = frame["station"].map(self.fed_by)
        frame["console"] = console.where(console.notna(), self.pressure_source)
        # Instrument diagnostics are the meter technicians' desk (ISA-18.2 alarm classes), not a plant's.
        frame.loc[frame["cause"].isin(INSTRUMENT_CAUSES), "console"] = INSTRUMENT_CONSOLE
        parent, rule = self._group(frame, incidents)
        suppressed = pd.Series(rule, index=frame.index, dtype=object)
        chattering = self._chattering(frame, episodes)
        suppressed = suppressed.where(~chattering | suppressed.notna(), "chattering")
        shelved = frame["shelved_until"].notna() & (pd.to_datetime(frame["shelved_until"], utc=True) > at)
        suppressed = suppressed.mask(shelved, "shelved")
        repair = frame["asset_id"].isin(set(out_of_service)) | frame["host"].isin(set(out_of_service))
        suppressed = suppressed.mask(repair, "out_of_service")
        # A household's collector (cold, silent, flat, drifting) is the refund ledger's and the hotline's.
        evidence = frame["cause"].isin(ALARM_EVIDENCE_CAUSES) | frame["asset_id"].isin(self.room_sensors)
        suppressed = suppressed.mask(evidence, "evidence")
        return pd.DataFrame({"presented": suppressed.isna(), "parent_id": parent, "suppressed_by": suppressed,
                             "priority": priority_of(frame["cause"], frame["severity"]),
                             "console": frame["console"]}, index=frame.index)

    def _group(self, frame: pd.DataFrame, incidents: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """Each alarm's root cause (an alarm id, or none for a planned isolation) and the rule that found it."""
        parent = pd.Series(np.nan, index=frame.index, dtype=float)
        rule = pd.Series(None, index=frame.index, dtype=object)
        for group in GROUPING:
            claims = self._claims(group, frame, incidents)
            take = rule.isna() & frame.index.isin(claims.index)
            parent[take] = claims.reindex(frame.index)[take]
            rule[take] = group.name
        # The parent of a parent is the root: follow the chain, never onto itself, never round a loop.
        up = dict(zip(frame["id"].astype(int), parent, strict=True))
        roots = []
        for own, first in zip(frame["id"].astype(int), parent, strict=True):
            seen, at = {own}, first
            while not pd.isna(at) and not pd.isna(up.get(int(at), np.nan)) and int(up[int(at)]) not in seen:
                seen.add(int(at))
                at = up[int(at)]
            roots.append(np.nan if pd.isna(at) or int(at) == own else float(at))
        parent = pd.Series(roots, index=frame.index, dtype=float)
        return parent.astype("Int64"), rule

    def _claims(self, group: GroupRule, frame: pd.DataFrame, incidents: pd.DataFrame) -> pd.Series:
        """For the alarms ``group`` groups: the id of the alarm they go under (NaN: under an incident
        without an alarm, a planned isolation); index: the claimed alarms' index."""
        children = frame[frame["cause"].isin(group.child_causes)]
        if group.scope == "incident_stations":
            return self._claims_by_incident(frame, children, incidents)
        parents = frame[frame["cause"].isin(group.parent_causes) & frame["severity"].isin(group.parent_severities)]
        if parents.empty or children.empty:
            return pd.Series(dtype=float)
        oldest = parents.sort_values(["raised_at", "id"])
        if group.scope == "fed_stations":
            keys = pd.Series(oldest["id"].to_numpy(), index=oldest["asset_id"].to_numpy())
            keys = keys[~keys.index.duplicated()]
            # The pressure plant holds the whole network's pressure: its trip is every station's cause. Its
            # supply temperature reaches only the stations it feeds.
            network_wide = keys.get(self.pressure_source) if group.name == "source_trip" else None
            found = children["console"].map(keys)
            if network_wide is not None:
                found = found.fillna(network_wide)
            return found[children["station"].notna()].dropna()
        if group.scope == "same_station":
            keys = pd.Series(oldest["id"].to_numpy(), index=oldest["station"].to_numpy())
            keys = keys[~keys.index.duplicated()]
            found = children["station"].map(keys)
            return found[found.notna() & (found.to_numpy() != children["id"].to_numpy())]
        if group.scope == "everywhere":
            root = oldest["id"].iloc[0]
            return pd.Series(float(root), index=children.index[children["id"] != root])
        column = "host" if group.scope == "host_element" else "asset_id"
        keys = pd.Series(oldest["id"].to_numpy(), index=oldest["asset_id"].to_numpy())
        keys = keys[~keys.index.duplicated()]
        return children[column].map(keys).dropna()

    def _claims_by_incident(self, frame: pd.DataFrame, children: pd.DataFrame, incidents: pd.DataFrame) -> pd.Series:
        if incidents.empty or children.empty:
            return pd.Series(dtype=float)
        covered = incidents[["alarm_id", "stations", "started_at"]].explode("stations").dropna(subset=["stations"])
        covered = covered.sort_values("started_at").drop_duplicates("stations")
        under = pd.Series(covered["alarm_id"].to_numpy(dtype=float), index=covered["stations"].astype(str).to_numpy())
        inside = children["station"].isin(under.index)
        found = children.loc[inside, "station"].map(under)
        found = found[found.to_numpy() != children.loc[inside, "id"].to_numpy()]
        # NaN stays NaN: the region of a planned isolation, grouped under no alarm.
        return found

    def _chattering(self, frame: pd.DataFrame, episodes: pd.DataFrame) -> pd.Series:
        if episodes.empty:
            return pd.Series(False, index=frame.index)
        counts = episodes.set_index(["asset_id", "cause"])["episodes"]
        keys = pd.MultiIndex.from_arrays([frame["asset_id"], frame["cause"]])
        seen = counts.reindex(keys).fillna(0).to_numpy()
        return pd.Series(seen > self.chattering_per_hour, index=frame.index)
