"""KPI tiles: network totals from the latest twin run, latest readings, alarms and work orders.

A tile whose data is missing says "no data"; one whose data is older than the staleness limit says
"stale" beside the value it has. Nothing is estimated here.
"""

from __future__ import annotations

import pandas as pd
from dash import html

from app.components import fmt
from app.components import wall_data as data
from app.i18n import t
from heattwin.choices import ALARM_PRIORITY
from store import alarms as store_alarms
from store import work_orders as store_orders

_SUMMARY_HEAT_KEYS = ("heat_delivered_mw", "heat_mw", "total_heat_mw")
_SUMMARY_MAKEUP_KEYS = ("makeup_t_h", "makeup_flow_t_h")


def _tile(key: str, label: str, value, lang: str, *, sub=None, age_s: float | None = None,
          stale_after_s: float | None = None, extra_class: str = "") -> html.Div:
    missing = value is None
    stale = not missing and age_s is not None and stale_after_s is not None and age_s > stale_after_s
    badge = t("state.no_data", lang) if missing else t("state.stale", lang) if stale else None
    state = "nodata" if missing else "stale" if stale else "ok"
    children = [html.Div(label, className="kpi-label"),
                html.Div(fmt.DASH if missing else value, className="kpi-value")]
    if sub:
        children.append(html.Div(sub, className="kpi-sub"))
    if badge:
        children.append(html.Div(badge, className="kpi-badge"))
    elif age_s is not None:
        children.append(html.Div(fmt.age(age_s, lang), className="kpi-age"))
    return html.Div(children, className=f"kpi-tile kpi-{state} {extra_class}".strip(),
                    **{"data-kpi": key, "data-state": state})


def _summary_value(run: dict | None, keys: tuple[str, ...]):
    summary = (run or {}).get("summary") or {}
    return next((summary[k] for k in keys if summary.get(k) is not None), None)


def _readings(pool, geo, kind: str, element_id: str | None = None) -> pd.DataFrame | None:
    sensors = geo.sensors[geo.sensors["kind"] == kind]
    if element_id is not None:
        sensors = sensors[sensors["element_id"] == element_id]
    latest = data.latest_readings(pool, sensors["sensor_id"].tolist())
    return None if latest is None or latest.empty else latest


def _run_age(run: dict | None) -> float | None:
    return None if run is None else data.age_s(run.get("finished_at") or run.get("started_at"))


def _heat_tile(run, states, geo, lang) -> html.Div:
    heat = _summary_value(run, _SUMMARY_HEAT_KEYS)
    if heat is None and not states.empty:
        stations = states[states["element_id"].isin(geo.order["stations"])]["heat_mw"].dropna()
        heat = float(stations.sum()) if len(stations) else None
    return _tile("heat", t("kpi.heat", lang), None if heat is None else fmt.number(heat, "MW", 0), lang,
                 sub=t("state.twin", lang), age_s=_run_age(run), stale_after_s=data.twin_stale_s())


def _reading_tile(pool, geo, key: str, label: str, kind: str, unit: str, how: str, lang: str) -> html.Div:
    latest = _readings(pool, geo, kind)
    if latest is None:
        return _tile(key, label, None, lang)
    value = latest["value"].sum() if how == "sum" else latest["value"].mean()
    return _tile(key, label, fmt.number(value, unit), lang, age_s=data.age_s(latest["time"].max()),
                 stale_after_s=data.reading_stale_s())


def _source_tiles(pool, geo, run, states, lang) -> list:
    tiles = []
    by_id = states.set_index("element_id") if not states.empty else pd.DataFrame()
    for source_id in geo.order["sources"][:4]:
        name = geo.assets.at[source_id, "name"] or source_id
        values, age, twin = {}, None, False
        for kind in ("t_supply", "t_return", "flow"):
            latest = _readings(pool, geo, kind, source_id)
            if latest is not None:
                values[kind] = latest["value"].mean()
                age = max(age or 0.0, data.age_s(latest["time"].max()) or 0.0)
        if not values and source_id in by_id.index:
            row = by_id.loc[source_id]
            values = {"t_supply": row["t_supply_c"], "t_return": row["t_return_c"], "flow": row["flow_t_h"]}
            age, twin = _run_age(run), True
        has = any(pd.notna(v) for v in values.values())
        text = (f"{fmt.number(values.get('t_supply'), '', 1)} / {fmt.number(values.get('t_return'), '°C', 1)}"
                if has else None)
        sub = f"{fmt.number(values.get('flow'), 't/h', 0)}" + (f" · {t('state.twin', lang)}" if twin else "")
        tiles.append(_tile(f"source-{source_id}", f"{name} {t('kpi.supply_return', lang)}", text, lang,
                           sub=sub if has else None, age_s=age,
                           stale_after_s=data.twin_stale_s() if twin else data.reading_stale_s(),
                           extra_class="kpi-source"))
    return tiles


def _makeup_tile(pool, geo, run, lang) -> html.Div:
    latest = _readings(pool, geo, "makeup_flow")
    if latest is not None:
        return _tile("makeup", t("kpi.makeup", lang), fmt.number(latest["value"].sum(), "t/h"), lang,
                     age_s=data.age_s(latest["time"].max()), stale_after_s=data.reading_stale_s())
    value = _summary_value(run, _SUMMARY_MAKEUP_KEYS)
    return _tile("makeup", t("kpi.makeup", lang), None if value is None else fmt.number(value, "t/h"), lang,
                 sub=t("state.twin", lang) if value is not None else None, age_s=_run_age(run),
                 stale_after_s=data.twin_stale_s())


def _compliance_tile(pool, lang) -> html.Div:
    frame = data.compliance(pool)
    if frame is None or frame.empty or frame["collectors"].sum() == 0:
        return _tile("compliance", t("kpi.compliance", lang), None, lang)
    share = 100.0 * (1.0 - frame["below"].sum() / frame["collectors"].sum())
    return _tile("compliance", t("kpi.compliance", lang), fmt.number(share, "%"), lang,
                 sub=f"{int(frame['collectors'].sum()):,} · ≥ {data.compliance_threshold_c():g} °C")


def _alarm_tile(pool, lang) -> html.Div:
    counts = store_alarms.count_open_by_priority(pool)
    chips = [html.Span(f"{t(c.label_key, lang)} {counts[c.value]}", className="chip",
                       style={"borderColor": c.colour, "color": c.colour}) for c in reversed(ALARM_PRIORITY)]
    return _tile("alarms", t("kpi.alarms", lang), str(sum(counts.values())), lang, sub=chips,
                 extra_class="kpi-alarms")


def _order_tile(pool, lang) -> html.Div:
    counts = store_orders.count_open(pool)
    return _tile("orders", t("kpi.orders", lang), str(counts["open"]), lang,
                 sub=html.Span(f"{t('kpi.overdue', lang)} {counts['overdue']}",
                               className="chip overdue" if counts["overdue"] else "chip"))


def _twin_tile(run, lang) -> html.Div:
    cycle = None if run is None else run.get("cycle_s") or run.get("solve_s")
    return _tile("twin", t("kpi.twin", lang), None if cycle is None else fmt.number(cycle, "s", 2), lang,
                 age_s=_run_age(run), stale_after_s=data.twin_stale_s())


def kpi_tiles(pool, lang: str) -> list:
    geo = data.geometry(pool)
    run = data.latest_run(pool)
    states, _ = data.run_results(pool, run)
    return [
        _heat_tile(run, states, geo, lang),
        _reading_tile(pool, geo, "outdoor", t("kpi.outdoor", lang), "outdoor_t", "°C", "mean", lang),
        *_source_tiles(pool, geo, run, states, lang),
        _makeup_tile(pool, geo, run, lang),
        _compliance_tile(pool, lang),
        _alarm_tile(pool, lang),
        _order_tile(pool, lang),
        _twin_tile(run, lang),
    ]
