"""How the demo city's work orders travel: 受理 → 派单 → 接单 → 到场 → 办结 → 回访 → 关闭, with
reassignments, hand-overs to a specialist team, cancellations, revisits that do not get through, and
reopenings after a dissatisfied revisit — simulated for whole arrays of orders at once, one stage at a time.

Times are int64 seconds since the epoch (UTC). The event log is the truth: an order's state and its time
columns are read off its events as ``store.work_orders`` stamps them (each the first time: ``replied_at``
at the first dispatch; a reopening clears ``on_site_at`` and ``resolved_at``, so they are the last
round's), so they cannot disagree. An order looked at before it is finished
(``cutoff_s``) keeps only what had happened by then: that is how today's open orders are made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.democity.staff import AGENTS, CREW_PER_TEAM, DISPATCHERS, SUPERVISORS, crew_names

MIN_S = 60
HOUR_S = 3600
LOCAL_OFFSET_S = 8 * HOUR_S

MAX_REOPENS = 2

# Minutes (medians of log-normal delays) from filing to dispatch and from dispatch to acceptance; on a busy
# day (the first week, a cold spell) calls wait longer for a dispatcher: the median grows with the load.
DISPATCH_MIN = {"low": 10.0, "normal": 6.0, "urgent": 3.0}
DISPATCH_LOAD_EXPONENT = 1.5
ACCEPT_MIN = {"low": 10.0, "normal": 8.0, "urgent": 4.0}
# The crew's queue before it sets off, as a multiple of the drive, by the hours the site clock allows:
# emergencies (2 h) go at once, 6-hour jobs wait their turn, the rest are fitted into the day.
QUEUE_FACTOR = ((2.0, 1.3), (6.0, 3.5), (np.inf, 8.0))
# Nobody at home: the crew comes back at an agreed time (rarely for an emergency).
APPOINTMENT_SHARE = ((2.0, 0.02), (np.inf, 0.06))
# Desk matters have no drive: "on site" is when the service desk takes the case up.
NO_DRIVE = ("payment", "invoice", "enquiry", "other")
# Work until resolved, minutes: (median, sigma, share of long jobs, their median, sigma); urgent jobs get
# more hands (URGENT_WORK: the factor on both medians and on the share of long jobs).
WORK_MIN = {"room_cold": (40, 0.6, 0.18, 900, 0.8), "no_heat": (50, 0.7, 0.18, 720, 0.8),
            "leak": (150, 0.6, 0.18, 720, 0.5), "equipment": (120, 0.7, 0.25, 1800, 0.6),
            "payment": (20, 0.7, 0.10, 1440, 0.5), "suspend": (90, 0.7, 0.35, 1200, 0.6),
            "invoice": (30, 0.7, 0.20, 1440, 0.5), "refund": (1440, 0.5, 0.30, 4320, 0.4),
            "enquiry": (10, 0.6, 0.05, 1440, 0.5), "other": (40, 0.8, 0.10, 1440, 0.5)}
URGENT_WORK = 0.6
# Hotline calls the agent answers on the call itself (即时办: new → resolved, no team), by category.
FIRST_CONTACT_SHARE = {"enquiry": 0.7, "payment": 0.5, "invoice": 0.3, "other": 0.3, "suspend": 0.1}
NO_REVISIT_SHARE = {"enquiry": 0.3, "payment": 0.2, "invoice": 0.2, "other": 0.2}  # filed without a call back
REACHED_P = (0.87, 0.75)
REVISIT_LAG_H = {"low": 20.0, "normal": 14.0, "urgent": 6.0}  # median, after the repair (then in daytime)  # first call back, second call back the next day
# Satisfaction 1..5 after an on-time and a late resolution; whether the resident says it is really fixed.
SATISFACTION_P = {"on_time": (0.01, 0.02, 0.05, 0.22, 0.70), "late": (0.07, 0.11, 0.17, 0.30, 0.35)}
FIXED_P = np.array([0.25, 0.45, 0.85, 0.98, 0.995])
REVISIT_NOTES = np.array(["很不满意：问题未解决", "不满意：仍不热", "基本满意", "用户满意", "用户非常满意"])
NEW_NOTES = {"hotline": "受理来电", "platform_12345": "12345平台转办", "app": "微信公众号报修",
             "alarm": "报警转工单", "inspection": "巡检上报", "crew": "班组上报", "dispatch": "调度中心创建"}
# What the crew found and did: (cause, action, materials).
RESOLUTIONS = {
    "room_cold": (("户内散热器积气", "排气并调整户内阀门", []), ("单元平衡阀开度不足", "调节单元平衡阀", []),
                  ("户内过滤器堵塞", "清洗过滤器", ["过滤网×1"]),
                  ("二次网水力失调", "换热站提高二次网供水温度并调整循环泵频率", []),
                  ("顶层散热器失压", "换热站补水并提高二次网压力", [])),
    "no_heat": (("入户阀门未开启", "开栓供暖", []), ("系统积气", "排气恢复循环", []),
                ("单元立管堵塞", "冲洗立管", []), ("换热站循环泵停运", "重启循环泵并检修", ["接触器×1"])),
    "leak": (("散热器接口渗漏", "更换垫片并紧固接口", ["垫片×2"]), ("二次网焊口渗漏", "关阀排水后补焊", ["钢管DN50 0.5 m"]),
             ("阀门填料渗漏", "更换阀门填料", ["盘根×1"]),
             ("直埋管道腐蚀穿孔", "开挖更换管段", ["预制保温管DN150 6 m", "弯头×2"])),
    "equipment": (("循环泵轴承磨损", "更换轴承", ["轴承6310×2"]), ("热计量表通讯模块故障", "更换通讯模块", ["M-Bus模块×1"]),
                  ("电动调节阀执行器故障", "更换执行器", ["执行器×1"]), ("补水泵变频器故障", "更换变频器", ["变频器7.5 kW×1"])),
    "payment": (("线上缴费延迟到账", "核对缴费记录并补录", []), ("缴费标准咨询", "解释收费标准", [])),
    "suspend": (("申请报停", "关栓并铅封", ["铅封×1"]), ("申请恢复供暖", "开栓并试水", [])),
    "invoice": (("需开具发票", "开具电子发票并发送", []),),
    "refund": (("测温不达标", "入户测温，按规定办理退费", []), ("测温达标", "入户测温，室温达标，向用户解释", [])),
    "enquiry": (("咨询供暖时间", "告知供暖期及调试安排", []), ("咨询室温标准", "解释室温标准（18 ℃以上）", [])),
    "other": (("循环泵噪声", "调整循环泵运行频率", []), ("其他诉求", "转相关部门处理", [])),
}


@dataclass
class _Ctx:
    rng: np.random.Generator
    category: np.ndarray
    priority: np.ndarray
    qualified: np.ndarray  # (orders, teams)
    distance_km: np.ndarray  # (orders, teams)
    crew: np.ndarray  # (teams, CREW_PER_TEAM)
    team_names: np.ndarray
    site: np.ndarray  # (orders, 2): where the crew reports "arrived"
    site_allowance_h: np.ndarray  # hours the site clock gives (NaN: it does not run)
    log: list

    @property
    def n(self) -> int:
        return len(self.category)


def _delay_s(rng, median_min, sigma: float, n: int) -> np.ndarray:
    return np.maximum(np.round(np.asarray(median_min) * np.exp(sigma * rng.standard_normal(n)) * MIN_S),
                      MIN_S).astype(np.int64)


def _by(values: np.ndarray, table: dict) -> np.ndarray:
    return pd.Series(values).map(table).to_numpy(dtype=float)


def _by_allowance(allowance_h: np.ndarray, steps) -> np.ndarray:
    """The value of the first ``(up to hours, value)`` step the allowance falls in (NaN: no clock, the last)."""
    allowance_h = np.nan_to_num(allowance_h, nan=np.inf)
    return np.select([allowance_h <= hours for hours, _ in steps], [value for _, value in steps])


def _daytime(t_s: np.ndarray, rng) -> np.ndarray:
    """Calls back happen between 08:30 and 20:30 local: later ones move to the next morning."""
    local = (t_s + LOCAL_OFFSET_S) % 86400
    morning = 8.5 * HOUR_S + rng.integers(0, 2 * HOUR_S, len(t_s))
    shift = np.where(local < 8.5 * HOUR_S, morning - local,
                     np.where(local > 20.5 * HOUR_S, 86400 - local + morning, 0))
    return t_s + shift


def _log(ctx: _Ctx, mask, at, state: str, actor, note, team=-1, details="{}") -> None:
    """Append an event for every order in ``mask``; each value is one for all or an array over all orders."""
    rows = np.flatnonzero(mask)

    def pick(value):
        return np.asarray(value)[rows] if np.ndim(value) else np.full(len(rows), value)

    ctx.log.append(pd.DataFrame({"order": rows, "at": pick(at), "to_state": state, "actor": pick(actor),
                                 "note": pick(note), "team": pick(team), "details": pick(details),
                                 "stage": len(ctx.log)}))


def _pick_team(ctx: _Ctx, exclude=None) -> np.ndarray:
    """A qualified team for each order, the nearer the likelier (exp(-d / 3 km)); other than ``exclude``
    where another is qualified."""
    weight = ctx.qualified * np.exp(-ctx.distance_km / 3.0)
    if exclude is not None:
        others = weight.copy()
        others[np.arange(ctx.n), exclude] = 0.0
        weight = np.where(others.sum(axis=1, keepdims=True) > 0, others, weight)
    cumulative = np.cumsum(weight, axis=1)
    u = ctx.rng.random(ctx.n) * cumulative[:, -1]
    return np.minimum((cumulative <= u[:, None]).sum(axis=1), weight.shape[1] - 1)


def _people(rng, people: tuple, n: int) -> np.ndarray:
    return np.array(people)[rng.integers(0, len(people), n)]


def _dispatch_details(team_ids: np.ndarray, team: np.ndarray) -> np.ndarray:
    return ('{"team_id": "' + pd.Series(team_ids[team]) + '"}').to_numpy()


def _travel_s(ctx: _Ctx, team: np.ndarray) -> np.ndarray:
    rng, n = ctx.rng, ctx.n
    drive_min = 6.0 + 2.5 * ctx.distance_km[np.arange(n), team]
    field = drive_min * _by_allowance(ctx.site_allowance_h, QUEUE_FACTOR)
    desk = 20.0 * _by(ctx.priority, {"low": 2.0, "normal": 1.0, "urgent": 0.5})
    travel = _delay_s(rng, np.where(np.isin(ctx.category, NO_DRIVE), desk, field), 0.6, n)
    late_visit = ((rng.random(n) < _by_allowance(ctx.site_allowance_h, APPOINTMENT_SHARE))
                  & ~np.isin(ctx.category, NO_DRIVE))
    return travel + np.where(late_visit, _delay_s(rng, 240.0, 0.5, n), 0)


def _work_s(ctx: _Ctx, first_round: bool) -> np.ndarray:
    rng, n = ctx.rng, ctx.n
    params = np.array([WORK_MIN[c] for c in WORK_MIN])[pd.Series(ctx.category).map(
        {c: k for k, c in enumerate(WORK_MIN)}).to_numpy()]
    hands = np.where(ctx.priority == "urgent", URGENT_WORK, 1.0)
    long_job = rng.random(n) < params[:, 2] * hands * (1.0 if first_round else 0.5)
    short = np.round(hands * params[:, 0] * np.exp(params[:, 1] * rng.standard_normal(n)) * MIN_S)
    long = np.round(hands * params[:, 3] * np.exp(params[:, 4] * rng.standard_normal(n)) * MIN_S)
    return np.maximum(np.where(long_job, long, short), 5 * MIN_S).astype(np.int64)


def _visit(ctx: _Ctx, mask, t_from, team, first_round: bool, team_ids, res_json, res_action):
    """Accept, go, (hand over to a specialist team), resolve. Returns (still going, resolved at, team)."""
    rng, n = ctx.rng, ctx.n
    member = rng.integers(0, CREW_PER_TEAM, n)
    t_accept = t_from + _delay_s(rng, _by(ctx.priority, ACCEPT_MIN) * (1.0 if first_round else 2.5), 0.9, n)
    _log(ctx, mask, t_accept, "accepted", ctx.crew[team, member], "接单", team)
    if first_round:
        gone = mask & (rng.random(n) < 0.006)
        _log(ctx, gone, t_accept + _delay_s(rng, 30.0, 0.6, n), "cancelled", _people(rng, AGENTS, n),
             "用户来电取消：家中无人，改日再报")
        mask = mask & ~gone
    t_site = t_accept + _travel_s(ctx, team)
    arrived = ('{"lon": ' + pd.Series(ctx.site[:, 0]).astype(str) + ', "lat": '
               + pd.Series(ctx.site[:, 1]).astype(str) + '}').to_numpy()
    _log(ctx, mask, t_site, "on_site", ctx.crew[team, member], "到达现场", team, arrived)
    if first_round:
        handover = (mask & ~np.isin(ctx.category, NO_DRIVE) & (rng.random(n) < 0.03)
                    & (ctx.qualified.sum(axis=1) > 1))
        other = _pick_team(ctx, exclude=team)
        t_hand = t_site + _delay_s(rng, 40.0, 0.5, n)
        _log(ctx, handover, t_hand, "dispatched", _people(rng, DISPATCHERS, n),
             "现场需专业班组，转派" + ctx.team_names[other], other, _dispatch_details(team_ids, other))
        member = np.where(handover, rng.integers(0, CREW_PER_TEAM, n), member)
        team = np.where(handover, other, team)
        t_accept2 = t_hand + _delay_s(rng, _by(ctx.priority, ACCEPT_MIN), 0.9, n)
        _log(ctx, handover, t_accept2, "accepted", ctx.crew[team, member], "接单", team)
        t_site = np.where(handover, t_accept2 + _travel_s(ctx, team), t_site)
        _log(ctx, handover, t_site, "on_site", ctx.crew[team, member], "到达现场", team, arrived)
    t_resolved = t_site + _work_s(ctx, first_round)
    _log(ctx, mask, t_resolved, "resolved", ctx.crew[team, member], res_action, team, res_json)
    return mask, t_resolved, team


def _revisit(ctx: _Ctx, mask, t_resolved, late, lag_h, reopen_allowed: bool, revisits: list):
    """Call the resident back (``lag_h`` after the resolution, in daytime; a second try the next day);
    satisfied → visited → closed, dissatisfied → reopened. ``late`` resolutions please less.
    Returns (reopened, reopened at)."""
    rng, n = ctx.rng, ctx.n
    skip = mask & (rng.random(n) < np.nan_to_num(_by(ctx.category, NO_REVISIT_SHARE), nan=0.03))
    _log(ctx, skip, t_resolved + _delay_s(rng, 90.0, 0.6, n), "closed", _people(rng, SUPERVISORS, n),
         "办结归档（无需回访）")
    calling = mask & ~skip
    first = _daytime(t_resolved + _delay_s(rng, lag_h * 60, 0.7, n), rng)
    second = _daytime(first + _delay_s(rng, 22 * 60, 0.15, n), rng)
    agent1, agent2 = _people(rng, AGENTS, n), _people(rng, AGENTS, n)
    reached1 = rng.random(n) < REACHED_P[0]
    reached2 = rng.random(n) < REACHED_P[1]
    again = calling & ~reached1
    reached = calling & (reached1 | reached2)
    t_reach = np.where(reached1, first, second)
    agent = np.where(reached1, agent1, agent2)
    probabilities = np.where(late[:, None], SATISFACTION_P["late"], SATISFACTION_P["on_time"])
    cumulative = np.cumsum(probabilities, axis=1)
    satisfaction = np.minimum((cumulative < rng.random(n)[:, None]).sum(axis=1), 4) + 1
    fixed = rng.random(n) < FIXED_P[satisfaction - 1]
    note = np.where(fixed, REVISIT_NOTES[satisfaction - 1], "用户反映问题未解决")
    for rows, at, who, got in ((calling, first, agent1, reached1), (again, second, agent2, reached2)):
        rows = np.flatnonzero(rows)
        revisits.append(pd.DataFrame({
            "order": rows, "at": at[rows], "agent": who[rows], "reached": got[rows],
            "satisfaction": pd.array(np.where(got, satisfaction, 0)[rows], dtype="Int64"),
            "fixed": pd.array(fixed[rows], dtype="boolean"), "note": np.where(got, note, "电话无人接听")[rows]}))
        last = revisits[-1]
        last.loc[~last["reached"], ["satisfaction", "fixed"]] = pd.NA
    unreachable = again & ~reached2
    _log(ctx, unreachable, second + _delay_s(rng, 60.0, 0.5, n), "closed", _people(rng, SUPERVISORS, n),
         "两次回访未接通，按期关闭")
    unhappy = reached & ((satisfaction <= 2) | ~fixed) & reopen_allowed
    happy = reached & ~unhappy
    details = ('{"satisfaction": ' + pd.Series(satisfaction).astype(str) + ', "fixed": '
               + pd.Series(np.where(fixed, "true", "false")) + '}').to_numpy()
    _log(ctx, happy, t_reach, "visited", agent, "回访：" + note, details=details)
    _log(ctx, happy, t_reach + _delay_s(rng, 120.0, 0.8, n), "closed", _people(rng, SUPERVISORS, n), "工单关闭")
    t_reopen = t_reach + _delay_s(rng, 5.0, 0.5, n)
    _log(ctx, unhappy, t_reopen, "reopened", agent, "回访不满意，重新处理：" + note, details=details)
    return unhappy, t_reopen


def _resolution_catalogue(category: np.ndarray, rng):
    """Per order, one of its category's resolutions: (``work_order.resolution`` JSON, the action)."""
    flat = [(json.dumps({"cause": cause, "action": action, "materials": "、".join(materials), "notes": "",
                         "resident_confirmed": True}, ensure_ascii=False), action)
            for c in RESOLUTIONS for cause, action, materials in RESOLUTIONS[c]]
    sizes = pd.Series({c: len(options) for c, options in RESOLUTIONS.items()})
    start = sizes.cumsum() - sizes
    pick = start[category].to_numpy() + rng.integers(0, 12, len(category)) % sizes[category].to_numpy()
    return np.array([f[0] for f in flat])[pick], np.array([f[1] for f in flat])[pick]


def simulate(calls: pd.DataFrame, teams: pd.DataFrame, rng, cutoff_s: int | None = None):
    """The lifecycle of every call in ``calls`` (``calls.describe_calls``' columns and ``resolve_due_s``)
    worked by ``teams``.

    Returns ``(state, events, revisits)``: per order (``calls``' row order) the state, team, resolution,
    reopen count, site position and the time columns read off the log (seconds, NaN when not reached;
    ``last_resolved_at`` starts the revisit clock), the events (``order, at, from_state, to_state, actor,
    note, details``) and the revisit calls (``order, at, agent, reached, satisfaction, fixed, note``), all
    up to ``cutoff_s`` when given.
    """
    category, priority = calls["category"].to_numpy(), calls["priority"].to_numpy()
    n = len(calls)
    team_ids = teams["id"].to_numpy()
    qualified = np.array([[c in cats for cats in teams["categories"]] for c in RESOLUTIONS])[
        pd.Series(category).map({c: k for k, c in enumerate(RESOLUTIONS)}).to_numpy()]
    lat_rad = np.radians(calls["lat"].to_numpy())[:, None]
    dx_km = (calls["lon"].to_numpy()[:, None] - teams["base_lon"].to_numpy()[None, :]) * 111.32 * np.cos(lat_rad)
    dy_km = (calls["lat"].to_numpy()[:, None] - teams["base_lat"].to_numpy()[None, :]) * 110.57
    site = calls[["lon", "lat"]].to_numpy() + rng.uniform(-0.0003, 0.0003, (n, 2))
    ctx = _Ctx(rng, category, priority, qualified, np.hypot(dx_km, dy_km), crew_names(len(teams)),
               teams["name"].to_numpy(), site.round(6),
               (calls["site_due_s"].to_numpy() - calls["created_s"].to_numpy()) / HOUR_S, [])
    res_json, res_action = _resolution_catalogue(category, rng)
    t0 = calls["created_s"].to_numpy(np.int64)
    every = np.ones(n, bool)
    _log(ctx, every, t0, "new", calls["created_by"].to_numpy(), calls["origin"].map(NEW_NOTES).to_numpy())
    duplicate = rng.random(n) < 0.015
    _log(ctx, duplicate, t0 + _delay_s(rng, 12.0, 0.6, n), "cancelled", _people(rng, AGENTS, n),
         "重复诉求，已并入前单")
    answered = (~duplicate & (calls["origin"].to_numpy() == "hotline")
                & (rng.random(n) < np.nan_to_num(_by(category, FIRST_CONTACT_SHARE), nan=0.0)))
    t_answered = t0 + _delay_s(rng, 4.0, 0.4, n)
    _log(ctx, answered, t_answered, "resolved", calls["created_by"].to_numpy(), "热线即时办结",
         details='{"kb_entry_id": null}')
    going = ~duplicate & ~answered
    team = _pick_team(ctx)
    night = ((t0 + LOCAL_OFFSET_S) % 86400) < 6 * HOUR_S
    day = (t0 + LOCAL_OFFSET_S) // 86400
    per_day = pd.Series(day).map(pd.Series(day).value_counts()).to_numpy()
    load = (per_day / per_day.mean()) ** DISPATCH_LOAD_EXPONENT
    t = t0 + _delay_s(rng, _by(priority, DISPATCH_MIN) * np.where(night, 1.8, 1.0) * load, 1.0, n)
    _log(ctx, going, t, "dispatched", _people(rng, DISPATCHERS, n), "派单：" + ctx.team_names[team], team,
         _dispatch_details(team_ids, team))
    swap = going & (rng.random(n) < 0.05) & (qualified.sum(axis=1) > 1)
    other = _pick_team(ctx, exclude=team)
    t_swap = t + _delay_s(rng, 15.0, 0.6, n)
    _log(ctx, swap, t_swap, "dispatched", _people(rng, DISPATCHERS, n), "改派：原班组抢修未归，改派"
         + ctx.team_names[other], other, _dispatch_details(team_ids, other))
    team, t = np.where(swap, other, team), np.where(swap, t_swap, t)
    withdrawn = going & (rng.random(n) < 0.012)
    _log(ctx, withdrawn, t + _delay_s(rng, 25.0, 0.6, n), "cancelled", _people(rng, AGENTS, n),
         "用户来电撤单：已恢复正常")
    going &= ~withdrawn
    revisits: list = []
    going, t_resolved, team = _visit(ctx, going, t, team, True, team_ids, res_json, res_action)
    has_team = going.copy()
    going, t_resolved = going | answered, np.where(answered, t_answered, t_resolved)
    late = t_resolved > calls["resolve_due_s"].to_numpy()
    reopened, t_reopen = _revisit(ctx, going, t_resolved, late, _by(priority, REVISIT_LAG_H), True, revisits)
    for round_ in range(1, MAX_REOPENS + 1):
        # Back to the same team, or to another; an order answered on the call goes to a team now.
        first_team = reopened & ~has_team
        redispatch = reopened & (((rng.random(n) < 0.3) & (qualified.sum(axis=1) > 1)) | first_team)
        other = np.where(first_team, team, _pick_team(ctx, exclude=team))
        has_team |= reopened
        t_disp = t_reopen + _delay_s(rng, 10.0, 0.6, n)
        _log(ctx, redispatch, t_disp, "dispatched", _people(rng, DISPATCHERS, n),
             "回访不满意，改派" + ctx.team_names[other], other, _dispatch_details(team_ids, other))
        team = np.where(redispatch, other, team)
        _, t_resolved, team = _visit(ctx, reopened, np.where(redispatch, t_disp, t_reopen), team, False,
                                     team_ids, res_json, res_action)
        reopened, t_reopen = _revisit(ctx, reopened, t_resolved, np.zeros(n, bool), 8.0, round_ < MAX_REOPENS,
                                      revisits)
    return _read_off(ctx, team_ids, revisits, cutoff_s)


def _read_off(ctx: _Ctx, team_ids, revisits: list, cutoff_s):
    events = pd.concat(ctx.log, ignore_index=True)
    revisit = pd.concat(revisits, ignore_index=True)
    if cutoff_s is not None:
        events = events[events["at"] <= cutoff_s]
        revisit = revisit[revisit["at"] <= cutoff_s]
    events = events.sort_values(["order", "at", "stage"], kind="stable").reset_index(drop=True)
    events["from_state"] = events.groupby("order")["to_state"].shift()
    by_order = events.groupby("order")
    state = pd.DataFrame(index=pd.RangeIndex(ctx.n))
    state["state"] = by_order["to_state"].last()
    reopened_at = events[events["to_state"] == "reopened"].groupby("order")["at"].max()
    this_round = events[events["at"] > reopened_at.reindex(events["order"]).fillna(-np.inf).to_numpy()]
    for column, rows, to_state, which in (
            ("replied_at", events, "dispatched", "first"), ("on_site_at", this_round, "on_site", "first"),
            ("resolved_at", this_round, "resolved", "first"), ("last_resolved_at", events, "resolved", "last"),
            ("visited_at", events, "visited", "first")):
        state[column] = getattr(rows[rows["to_state"] == to_state].groupby("order")["at"], which)()
    state["closed_at"] = events[events["to_state"].isin(["closed", "cancelled"])].groupby("order")["at"].last()
    state["reopen_count"] = (events["to_state"] == "reopened").groupby(events["order"]).sum()
    held = events[events["team"] >= 0].groupby("order")["team"].last()
    state["team_id"] = pd.Series(team_ids[held.to_numpy()], index=held.index)
    state["team_id"] = state["team_id"].fillna("")
    repaired = events[(events["to_state"] == "resolved") & (events["from_state"] == "on_site")]
    state["resolution"] = repaired.groupby("order")["details"].last().reindex(state.index).fillna("{}")
    state["first_contact"] = events[(events["to_state"] == "resolved") & (events["from_state"] == "new")
                                    ].groupby("order").size().reindex(state.index).notna()
    arrived = state["on_site_at"].notna().to_numpy()[:, None]
    state[["site_lon", "site_lat"]] = np.where(arrived, ctx.site, np.nan)
    revisit = revisit.sort_values(["order", "at"], kind="stable").reset_index(drop=True)
    events = events[["order", "at", "from_state", "to_state", "actor", "note", "details"]]
    return state, events, revisit
