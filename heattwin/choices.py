"""Fixed value lists, declared once with their translation keys and wall colours.

The database enums (``store/migrations``) and every page use these names; a test checks that the
SQL enums and these lists agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    value: str
    label_key: str
    colour: str


def _values(choices: tuple[Choice, ...]) -> tuple[str, ...]:
    return tuple(c.value for c in choices)


# Element kinds and the id prefix that every element of that kind carries (DESIGN.md, "Identity").
ID_PREFIX = {
    "source": "SRC-",
    "station": "ST-",
    "node": "N-",
    "pipe": "P-",
    "valve": "V-",
    "sensor": "S-",
    "community": "C-",
    "household": "H-",
}
ELEMENT_KINDS = tuple(ID_PREFIX)


def kind_of(element_id: str) -> str | None:
    """The element kind an id's prefix names (longest prefix first: ``SRC-`` before ``S-``)."""
    for kind, prefix in sorted(ID_PREFIX.items(), key=lambda kv: -len(kv[1])):
        if element_id.startswith(prefix):
            return kind
    return None


STATION_STATUS = (
    Choice("normal", "status.normal", "#2ecc71"),
    Choice("warning", "status.warning", "#f1c40f"),
    Choice("alarm", "status.alarm", "#e74c3c"),
    Choice("offline", "status.offline", "#7f8c8d"),
    Choice("cut_off", "status.cut_off", "#8e44ad"),
)

ALARM_SEVERITY = (
    Choice("info", "severity.info", "#3498db"),
    Choice("warning", "severity.warning", "#f39c12"),
    Choice("alarm", "severity.alarm", "#e74c3c"),
    Choice("critical", "severity.critical", "#ff00ff"),
)

# Causes that are evidence, not alarms for the dispatcher: one household's cold room is kept (the hotline's
# pop-up and the refund ledger read it) and reaches the wall only through its community's and station's
# compliance alarm ("3 of 10 rooms under 18 °C, worst 16.5 °C"), which carries those households.
ALARM_EVIDENCE_CAUSES = ("room_t_low",)

# What the dispatcher is asked to act on first (ISA-18.2): about 80 % low, 15 % medium, 5 % high of what
# is presented. Each rule's priority is declared in twin.alarm_presentation.PRIORITY.
ALARM_PRIORITY = (
    Choice("low", "alarm_priority.low", "#f0c419"),
    Choice("medium", "alarm_priority.medium", "#ff8c1a"),
    Choice("high", "alarm_priority.high", "#ff3b3b"),
)
ALARM_PRIORITY_TARGET_SHARE = {"low": 0.80, "medium": 0.15, "high": 0.05}

# Why an open alarm is not presented: its root cause rings instead, or a person took it off the wall.
ALARM_SUPPRESSION = (
    Choice("evidence", "suppressed.evidence", "#5c6b7f"),
    Choice("incident_region", "suppressed.incident_region", "#8e44ad"),
    Choice("source_trip", "suppressed.source_trip", "#8e44ad"),
    Choice("station_fault", "suppressed.station_fault", "#8e44ad"),
    Choice("station_heat", "suppressed.station_heat", "#8e44ad"),
    Choice("offline_sensor", "suppressed.offline_sensor", "#5c6b7f"),
    Choice("telemetry_offline", "suppressed.telemetry_offline", "#5c6b7f"),
    Choice("out_of_service", "suppressed.out_of_service", "#3498db"),
    Choice("shelved", "suppressed.shelved", "#3498db"),
    Choice("chattering", "suppressed.chattering", "#f39c12"),
    Choice("work_order_clocks", "suppressed.work_order_clocks", "#5c6b7f"),
    Choice("network_short", "suppressed.network_short", "#8e44ad"),
    Choice("network_supply", "suppressed.network_supply", "#8e44ad"),
    Choice("source_supply", "suppressed.source_supply", "#8e44ad"),
    Choice("station_rooms", "suppressed.station_rooms", "#5c6b7f"),
)
ALARM_SHELVE_MAX_H = 24.0    # a shelved alarm always comes back within a shift or so

ALARM_STATE = (
    Choice("raised", "alarm_state.raised", "#e74c3c"),
    Choice("acknowledged", "alarm_state.acknowledged", "#f39c12"),
    Choice("cleared", "alarm_state.cleared", "#2ecc71"),
)

WORK_ORDER_STATE = (
    Choice("new", "wo_state.new", "#3498db"),
    Choice("dispatched", "wo_state.dispatched", "#9b59b6"),
    Choice("accepted", "wo_state.accepted", "#1abc9c"),
    Choice("on_site", "wo_state.on_site", "#f39c12"),
    Choice("resolved", "wo_state.resolved", "#2ecc71"),
    Choice("visited", "wo_state.visited", "#27ae60"),
    Choice("closed", "wo_state.closed", "#7f8c8d"),
    Choice("cancelled", "wo_state.cancelled", "#95a5a6"),
    Choice("reopened", "wo_state.reopened", "#e67e22"),
)
# Still waiting for the crew (the wall's open orders); resolved ones wait for their revisit.
WORK_ORDER_OPEN_STATES = ("new", "dispatched", "accepted", "on_site", "reopened")
WORK_ORDER_FINAL_STATES = ("closed", "cancelled")

# The lifecycle, declared once: state -> the states it may move to. The permission each move needs is
# ``heattwin.permissions.TRANSITION_ACTIONS``.
WORK_ORDER_TRANSITIONS = {
    "new": ("dispatched", "resolved", "cancelled"),  # resolved: answered on the call itself (即时办)
    "dispatched": ("accepted", "dispatched", "cancelled"),
    "accepted": ("on_site", "dispatched", "cancelled"),
    "on_site": ("resolved", "dispatched"),
    "resolved": ("visited", "reopened", "closed"),
    "visited": ("closed", "reopened"),
    "reopened": ("accepted", "dispatched", "cancelled"),
    "closed": (),
    "cancelled": (),
}

WORK_ORDER_CATEGORY = (
    Choice("room_cold", "wo_category.room_cold", "#4dabf7"),
    Choice("no_heat", "wo_category.no_heat", "#e74c3c"),
    Choice("leak", "wo_category.leak", "#ff00ff"),
    Choice("equipment", "wo_category.equipment", "#f39c12"),
    Choice("payment", "wo_category.payment", "#95a5a6"),
    Choice("suspend", "wo_category.suspend", "#7f8c8d"),
    Choice("invoice", "wo_category.invoice", "#95a5a6"),
    Choice("refund", "wo_category.refund", "#9b59b6"),
    Choice("enquiry", "wo_category.enquiry", "#1abc9c"),
    Choice("other", "wo_category.other", "#bdc3c7"),
)

WORK_ORDER_ORIGIN = (
    Choice("hotline", "wo_origin.hotline", "#3498db"),
    Choice("platform_12345", "wo_origin.platform_12345", "#e74c3c"),
    Choice("app", "wo_origin.app", "#2ecc71"),
    Choice("alarm", "wo_origin.alarm", "#e67e22"),
    Choice("inspection", "wo_origin.inspection", "#9b59b6"),
    Choice("crew", "wo_origin.crew", "#16a085"),
    Choice("dispatch", "wo_origin.dispatch", "#7f8c8d"),
)

WORK_ORDER_PRIORITY = (
    Choice("low", "priority.low", "#95a5a6"),
    Choice("normal", "priority.normal", "#3498db"),
    Choice("urgent", "priority.urgent", "#e74c3c"),
)

# The supervisor's figures (store/kpis.py): the residents' own requests, and which categories are complaints
# about the heating (counted per 10,000 m², as Beijing and Dalian rank companies).
RESIDENT_ORIGINS = ("hotline", "platform_12345", "app")
COMPLAINT_CATEGORIES = ("room_cold", "no_heat", "leak", "equipment", "other")
# The supervisor's board: a row's colour by where its resolve clock stands (about to breach: 80 % used).
BOARD_ROW_STATE = (
    Choice("overdue", "board_row.overdue", "#5c1f1f"),
    Choice("warning", "board_row.warning", "#5a4612"),
)
# The reports (store/reports.py) and when the schedule makes them (local time).
REPORT_KIND = (
    Choice("daily", "report.daily", "#3498db"),
    Choice("weekly", "report.weekly", "#9b59b6"),
    Choice("monthly", "report.monthly", "#e67e22"),
)
REPORT_PERIOD = {"daily": "day", "weekly": "week", "monthly": "month"}
report_kind_values = tuple(c.value for c in REPORT_KIND)

# The city's 12345 platform in its own words (store.platform_12345). A ticket's category hint → our category
# (the first word found in the hint, else in the ticket's text; none: "other").
PLATFORM_12345_CATEGORY_WORDS = (
    ("漏水", "leak"), ("跑水", "leak"), ("渗水", "leak"), ("冒汽", "leak"), ("冒气", "leak"), ("爆管", "leak"),
    ("不供暖", "no_heat"), ("未供暖", "no_heat"), ("没有暖气", "no_heat"), ("没暖气", "no_heat"), ("停暖", "no_heat"),
    ("停热", "no_heat"), ("冰凉", "no_heat"), ("退费", "refund"), ("发票", "invoice"), ("报停", "suspend"),
    ("开栓", "suspend"), ("缴费", "payment"), ("收费", "payment"), ("欠费", "payment"), ("不热", "room_cold"),
    ("不达标", "room_cold"), ("温度低", "room_cold"), ("室温", "room_cold"), ("阀门", "equipment"),
    ("噪音", "equipment"), ("咨询", "enquiry"),
)
# Its urgency words → our priority.
PLATFORM_12345_PRIORITY_WORDS = {"特急": "urgent", "紧急": "urgent", "加急": "urgent", "急": "urgent",
                                 "一般": "normal", "普通": "normal", "低": "low", "不急": "low"}
# The reply it is sent (heattwin tickets export): the status for each state of our order, as (code, its text).
PLATFORM_12345_REPLY_STATUS = {
    "new": ("accepted", "已受理"), "dispatched": ("in_progress", "办理中"), "accepted": ("in_progress", "办理中"),
    "on_site": ("in_progress", "办理中"), "reopened": ("in_progress", "办理中"), "resolved": ("resolved", "已处理"),
    "visited": ("visited", "已回访"), "closed": ("closed", "已办结"), "cancelled": ("cancelled", "已退回"),
}
# Revisit satisfaction 1–5 as it records it.
PLATFORM_12345_SATISFACTION = {5: "满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "不满意"}
# How an imported ticket found its place: the household of the caller's phone or of the address, else the
# community the address names (platform_ticket.matched_by).
PLATFORM_TICKET_MATCH = ("phone", "address", "community")

# The clocks of a work order, in the order they run (their due columns are ``<clock>_due_at``).
SLA_CLOCKS = ("reply", "site", "resolve", "revisit")
# How a clock's allowance is counted (the SLA policy file's keys): around the clock, or on China's
# official working days (store/calendar.py).
SLA_CLOCK_UNITS = ("hours", "working_days")
# Where a clock stands: still running (under 80 % of its allowance used), warning (80 % or more),
# breached (past due, still open); stopped in time (met) or late (missed).
SLA_CLOCK_STATE = (
    Choice("running", "sla_state.running", "#3498db"),
    Choice("warning", "sla_state.warning", "#f39c12"),
    Choice("breached", "sla_state.breached", "#e74c3c"),
    Choice("met", "sla_state.met", "#2ecc71"),
    Choice("missed", "sla_state.missed", "#c0392b"),
)

# Who may do what is heattwin.permissions; these are the roles a user can hold (several at once).
USER_ROLE = (
    Choice("dispatcher", "role.dispatcher", "#e67e22"),
    Choice("agent", "role.agent", "#3498db"),
    Choice("crew", "role.crew", "#27ae60"),
    Choice("supervisor", "role.supervisor", "#9b59b6"),
    Choice("engineer", "role.engineer", "#16a085"),
    Choice("admin", "role.admin", "#c0392b"),
)

# How an audited action ended: done, refused by the permission table or by the store's checks, or failed.
AUDIT_OUTCOME = (
    Choice("ok", "audit.outcome.ok", "#2ecc71"),
    Choice("refused", "audit.outcome.refused", "#e74c3c"),
    Choice("failed", "audit.outcome.failed", "#f39c12"),
)

INCIDENT_KIND = (
    Choice("isolation", "incident.isolation", "#8e44ad"),
    Choice("leak", "incident.leak", "#ff00ff"),
    Choice("station_fault", "incident.station_fault", "#e74c3c"),
)

PAYMENT_STATUS = (
    Choice("paid", "payment.paid", "#2ecc71"),
    Choice("arrears", "payment.arrears", "#e74c3c"),
    Choice("exempt", "payment.exempt", "#95a5a6"),
)

HEATING_STATUS = (
    Choice("heating", "heating.heating", "#e67e22"),
    Choice("suspended", "heating.suspended", "#7f8c8d"),
    Choice("not_paying", "heating.not_paying", "#c0392b"),
)

# The refund ledger (测温退费, twin/refunds.py): a household's entry awaits a supervisor's decision; its hours
# are counted (cold, the utility's) or excluded and why (migration 014 checks the same lists).
REFUND_STATE = (
    Choice("pending", "refund_state.pending", "#f39c12"),
    Choice("approved", "refund_state.approved", "#2ecc71"),
    Choice("rejected", "refund_state.rejected", "#95a5a6"),
)
REFUND_HOUR_KIND = (
    Choice("counted", "refund_hours.counted", "#4dabf7"),
    Choice("suspended", "refund_hours.suspended", "#7f8c8d"),
    Choice("not_paying", "refund_hours.not_paying", "#c0392b"),
    Choice("offline", "refund_hours.offline", "#5c6b7f"),
    Choice("tampered", "refund_hours.tampered", "#ff00ff"),
)
refund_state_values = _values(REFUND_STATE)
refund_hour_kind_values = _values(REFUND_HOUR_KIND)

SOURCE_ROLE = (
    Choice("pressure", "source_role.pressure", "#e74c3c"),
    Choice("fixed_head", "source_role.fixed_head", "#e67e22"),
    Choice("fixed_flow", "source_role.fixed_flow", "#f1c40f"),
)

# Control (#18): what a setpoint sets, and where an advised schedule stands.
SETPOINT_KIND = (
    Choice("t_supply_c", "setpoint.t_supply_c", "#e74c3c"),
    Choice("lift_bar", "setpoint.lift_bar", "#3498db"),
    Choice("heat_ratio", "setpoint.heat_ratio", "#2ecc71"),
)
SETPOINT_KIND_VALUES = _values(SETPOINT_KIND)
SCHEDULE_STATE = (
    Choice("proposed", "schedule_state.proposed", "#8b98a9"),
    Choice("accepted", "schedule_state.accepted", "#2ecc71"),
    Choice("rolled_back", "schedule_state.rolled_back", "#e67e22"),
    Choice("superseded", "schedule_state.superseded", "#5c6b7f"),
)
schedule_state_values = _values(SCHEDULE_STATE)


@dataclass(frozen=True)
class SensorKind:
    value: str
    unit: str  # display/storage unit of the reading
    low: float  # physical range: readings outside it are rejected
    high: float
    label_key: str


# Readings are stored in the display units below (°C, bar, t/h, MW), as SCADA sends them.
SENSOR_KINDS = (
    SensorKind("t_supply", "°C", -10.0, 200.0, "sensor.t_supply"),
    SensorKind("t_return", "°C", -10.0, 200.0, "sensor.t_return"),
    SensorKind("p_supply", "bar", 0.0, 40.0, "sensor.p_supply"),
    SensorKind("p_return", "bar", 0.0, 40.0, "sensor.p_return"),
    SensorKind("p_node", "bar", 0.0, 40.0, "sensor.p_node"),
    SensorKind("flow", "t/h", -20000.0, 20000.0, "sensor.flow"),
    SensorKind("makeup_flow", "t/h", 0.0, 2000.0, "sensor.makeup_flow"),
    SensorKind("heat", "MW", -5.0, 2000.0, "sensor.heat"),
    SensorKind("room_t", "°C", -30.0, 50.0, "sensor.room_t"),
    SensorKind("outdoor_t", "°C", -50.0, 50.0, "sensor.outdoor_t"),
)
SENSOR_KIND = {k.value: k for k in SENSOR_KINDS}

# Equipment records (the ``equipment`` and ``maintenance_log`` tables): kinds and what their nameplates rate.
EQUIPMENT_KIND = {k: Choice(k, f"equipment.{k}", "#8b98a9")
                  for k in ("pump", "heat_exchanger", "valve", "meter", "boiler", "turbine")}
MAINTENANCE_KIND = {k: Choice(k, f"maintenance.{k}", "#8b98a9")
                    for k in ("inspection", "cleaning", "repair", "replacement")}


@dataclass(frozen=True)
class Rating:
    value: str      # the key in ``equipment.rated``; its unit is in the name (STYLE.md)
    unit: str       # shown after the number
    label_key: str


EQUIPMENT_RATING = {r.value: r for r in (
    Rating("head_m", "m", "rating.head_m"), Rating("flow_t_h", "t/h", "rating.flow_t_h"),
    Rating("power_mw", "MW", "rating.power_mw"), Rating("heat_mw", "MW", "rating.heat_mw"),
    Rating("area_m2", "m²", "rating.area_m2"), Rating("dn_mm", "mm", "rating.dn_mm"),
    Rating("pn_bar", "bar", "rating.pn_bar"), Rating("kvs_m3_per_h", "m³/h", "rating.kvs_m3_per_h"),
)}
PIPE_MATERIAL = {k: Choice(k, f"material.{k}", "#8b98a9") for k in ("steel", "ductile_iron", "pe")}
PIPE_INSULATION = {k: Choice(k, f"insulation.{k}", "#8b98a9") for k in ("PUR", "rock_wool")}

station_status_values = _values(STATION_STATUS)
alarm_severity_values = _values(ALARM_SEVERITY)
alarm_priority_values = _values(ALARM_PRIORITY)
alarm_suppression_values = _values(ALARM_SUPPRESSION)
alarm_state_values = _values(ALARM_STATE)
work_order_state_values = _values(WORK_ORDER_STATE)
work_order_category_values = _values(WORK_ORDER_CATEGORY)
work_order_origin_values = _values(WORK_ORDER_ORIGIN)
work_order_priority_values = _values(WORK_ORDER_PRIORITY)
user_role_values = _values(USER_ROLE)
incident_kind_values = _values(INCIDENT_KIND)
audit_outcome_values = _values(AUDIT_OUTCOME)
sla_clock_state_values = _values(SLA_CLOCK_STATE)
