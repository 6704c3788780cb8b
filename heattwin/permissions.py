"""Who may do what: one table from role to actions. Pages, callbacks, routes and the command line ask
``granting_role``; nothing else tests role names.

An action is ``<object>.<verb>``. ``*.view`` actions let a page or route be read; every other action
writes and is audited. A user holding several roles may do what any of them allows; the audit row
records the role that allowed it.
"""

from __future__ import annotations

from heattwin.choices import user_role_values

# Every action, with what it lets a user do (shown by `heattwin user roles` and the audit page).
ACTIONS: dict[str, str] = {
    "wall.view": "see the video wall, its panels and trends",
    "drawing.view": "open repair drawings",
    "overview.view": "see what the store holds",
    "scenario.view": "open the scenarios page and saved scenarios",
    "scenario.run": "run a what-if scenario",
    "scenario.save": "save a scenario and its result",
    "scenario.delete": "delete a scenario one saved oneself",
    "scenario.delete_any": "delete anybody's saved scenario",
    "scenario.export": "download a scenario's result (CSV, Excel)",
    "scenario.sweep": "start an N-1 sweep",
    "alarm.ack": "acknowledge an alarm",
    "alarm.comment": "comment on an alarm",
    "alarm.clear": "clear an alarm by hand, with a note",
    "alarm.work_order": "open a work order from an alarm",
    "alarm.shelve": "shelve an alarm for a while, with a reason (it comes back by itself), and unshelve it",
    "alarm.out_of_service": "take an element's alarms off the wall while a work order repairs it",
    "alarm.performance.view": "see the alarm-performance page: rates, floods, standing alarms, bad actors",
    "replay.view": "play back a past hour on the wall: the network, tiles and alarms as they were then",
    "incident.view": "open an alarm's incident story (timeline) and download it as a PDF or Excel report",
    "work_order.view": "see work orders on the wall and their photos",
    "work_order.board": "the work-order board: every order, its history, the outbox",
    "work_order.create": "file a work order",
    "work_order.dispatch": "send a work order to a team (or another team)",
    "work_order.field": "accept, arrive at, pause and resolve one's own team's work orders",
    "work_order.revisit": "call the resident back after a repair and record how it went",
    "work_order.close": "close a work order after its revisit",
    "work_order.cancel": "cancel a work order that needs no repair",
    "call.answer": "take hotline calls: see the caller's record, answer, file or link the call",
    "incident.manage": "record an isolation (valves closed, who is without heat, when it is back) and end it",
    "audit.view": "search the audit trail",
    "user.manage": "add users, set roles and passwords, disable users",
    "kiosk.manage": "add and revoke kiosk tokens for the video wall",
    "token.manage": "add and revoke data-source tokens for the ingest API",
    "calendar.manage": "load the official working-day calendar for a year (heattwin calendar load)",
    "kb.view": "search and read the hotline's knowledge base",
    "kb.manage": "add, change, retire and import knowledge-base entries",
    "ticket.import": "file 12345 platform tickets as work orders (heattwin tickets import)",
    "ticket.export": "export the 12345 tickets' handling results in the platform's reply format",
    "supervisor.view": "the supervisor's dashboard: assessment KPIs, the board, where complaints come from",
    "supervisor.export": "export the supervisor's filtered board to Excel",
    "work_order.proactive": "open a proactive inspection order for a cold place nobody has called about (未诉先办)",
    "report.view": "list and download the daily, weekly and monthly reports",
    "report.generate": "make a daily, weekly or monthly report now",
    "forecast.manage": "load weather forecasts, retrain and issue the heat-load forecast",
    "control.view": "open the control page: advised supply-temperature schedules, station balancing, forecast scores",
    "control.plan": "make a new advised schedule now (it is only a proposal until accepted)",
    "control.accept": "accept an advised schedule, which sends its setpoints to the plant, and roll one back",
    "refund.view": "open the refund ledger (测温退费): seasons, each household's counted and excluded hours",
    "refund.compute": "compute a heating season's refund ledger from the room temperatures",
    "refund.review": "approve or reject a household's refund, with a note",
    "refund.export": "export a ledger's approved refunds to Excel",
    "household.suspend": "record a household's suspension of heating (报停), which the refund ledger leaves out",
}

_READ_EVERYWHERE = {"wall.view", "drawing.view", "overview.view", "work_order.view"}

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "dispatcher": frozenset(_READ_EVERYWHERE | {
        "alarm.ack", "alarm.comment", "alarm.clear", "alarm.work_order", "alarm.shelve", "alarm.out_of_service",
        "alarm.performance.view", "replay.view", "incident.view", "work_order.create",
        "work_order.board", "work_order.dispatch", "work_order.close", "work_order.cancel", "call.answer",
        "incident.manage", "kb.view", "scenario.view",
        "scenario.run",
        "scenario.export"}),
    "agent": frozenset(_READ_EVERYWHERE | {"work_order.create", "work_order.board", "work_order.revisit",
                                           "work_order.cancel", "call.answer", "kb.view", "ticket.import",
                                           "ticket.export", "household.suspend"}),
    "crew": frozenset(_READ_EVERYWHERE | {"work_order.field", "work_order.create"}),
    "supervisor": frozenset(_READ_EVERYWHERE | {"scenario.view", "scenario.export", "audit.view",
                                                "alarm.performance.view", "replay.view", "incident.view",
                                                "work_order.board", "work_order.close", "work_order.revisit",
                                                "kb.view", "kb.manage",
                                                "ticket.import", "ticket.export", "supervisor.view",
                                                "supervisor.export", "work_order.proactive", "report.view",
                                                "report.generate", "refund.view", "refund.compute",
                                                "refund.review", "refund.export", "household.suspend"}),
    "engineer": frozenset(_READ_EVERYWHERE | {
        "scenario.view", "scenario.run", "scenario.save", "scenario.delete", "scenario.export", "scenario.sweep",
        "forecast.manage", "replay.view", "incident.view", "control.view", "control.plan", "control.accept"}),
    "admin": frozenset(ACTIONS),
}

# Which action each move of the lifecycle (heattwin.choices.WORK_ORDER_TRANSITIONS) needs.
TRANSITION_ACTIONS = {"dispatched": "work_order.dispatch", "accepted": "work_order.field",
                      "on_site": "work_order.field", "resolved": "work_order.field",
                      "visited": "work_order.revisit", "reopened": "work_order.revisit",
                      "closed": "work_order.close", "cancelled": "work_order.cancel"}

# A kiosk (the video-wall PCs, no login) sees the wall and nothing else, and writes nothing.
KIOSK_ACTIONS = frozenset({"wall.view", "drawing.view"})


def is_write(action: str) -> bool:
    return not action.endswith(".view")


def granting_role(roles, action: str) -> str | None:
    """The first of ``roles`` (in the order the user holds them) that allows ``action``; None if none does."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}: declare it in heattwin.permissions.ACTIONS")
    for role in roles:
        if action in ROLE_ACTIONS.get(role, ()):
            return role
    return None


def actions_of(roles) -> frozenset[str]:
    """Everything any of ``roles`` allows."""
    allowed: set[str] = set()
    for role in roles:
        allowed |= ROLE_ACTIONS.get(role, frozenset())
    return frozenset(allowed)


def _check_table() -> None:
    unknown = ({a for actions in ROLE_ACTIONS.values() for a in actions} | set(TRANSITION_ACTIONS.values())) \
        - set(ACTIONS)
    if unknown or set(ROLE_ACTIONS) != set(user_role_values) or not KIOSK_ACTIONS <= set(ACTIONS):
        raise RuntimeError(f"permission table out of step with ACTIONS/USER_ROLE: {sorted(unknown)}")


_check_table()
