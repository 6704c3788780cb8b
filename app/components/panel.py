"""The detail side panel: identity, live values (measured | twin | residual | age), pipe facts and its
valves, equipment nameplates, maintenance history, repair drawings and work orders.

A click reads the element's whole card in one store call (``store.element_card``); the twin's state and
residuals come from the wall's per-run cache. ``element_panel`` builds every part from that one card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from dash import html

from app import context
from app.components import fmt
from app.components import wall_data as data
from app.components.alarm_text import describe
from app.drawings import drawing_src
from app.i18n import t
from heattwin.choices import (
    EQUIPMENT_KIND,
    EQUIPMENT_RATING,
    MAINTENANCE_KIND,
    PIPE_INSULATION,
    PIPE_MATERIAL,
    SENSOR_KIND,
    kind_of,
)
from heattwin.units import m_to_km
from store.element_card import ElementCard, get_element_card

# Which twin_state column models what a sensor of each kind measures.
TWIN_COLUMN = {"t_supply": "t_supply_c", "t_return": "t_return_c", "p_supply": "p_supply_bar",
               "p_return": "p_return_bar", "p_node": "p_supply_bar", "flow": "flow_t_h", "heat": "heat_mw"}
_TWIN_ONLY = (("t_supply_c", "t_supply", "°C"), ("t_return_c", "t_return", "°C"), ("p_supply_bar", "p_supply", "bar"),
              ("p_return_bar", "p_return", "bar"), ("flow_t_h", "flow", "t/h"), ("heat_mw", "heat", "MW"),
              ("v_m_per_s", "velocity", "m/s"))
NEARBY_M = 500.0


def _section(title: str, children, key: str, element_id: str | None = None) -> html.Section:
    marks = {"data-section": key, **({"data-element": element_id} if element_id else {})}
    return html.Section(className=f"panel-section panel-{key}", **marks,
                        children=[html.H3(title), *(children if isinstance(children, list) else [children])])


def _facts(pairs) -> html.Dl:
    items = []
    for label, value in pairs:
        items += [html.Dt(label), html.Dd(value)]
    return html.Dl(items, className="facts")


def _live_rows(geo, element_id: str, state: pd.Series | None, residual_by_sensor: dict, latest: pd.DataFrame,
               lang: str) -> list:
    """One row per sensor (measured, twin, residual, age), from the card's newest readings and the run's residuals."""
    sensors = geo.sensors_by_element.get(element_id, geo.sensors.iloc[:0])
    header = html.Tr([html.Th(t(k, lang)) for k in ("panel.quantity", "panel.measured", "panel.twin",
                                                  "panel.residual", "panel.freshness")])
    if sensors.empty:
        if state is None:
            return [html.P(t("state.no_data", lang), className="muted")]
        rows = [html.Tr([html.Td(t(f"sensor.{label}", lang) if label != "velocity" else t("quantity.velocity", lang)),
                         html.Td(fmt.DASH), html.Td(fmt.number(state.get(col), unit, 2 if unit != "°C" else 1)),
                         html.Td(fmt.DASH), html.Td(fmt.DASH)])
                for col, label, unit in _TWIN_ONLY if pd.notna(state.get(col))]
        return [html.Table([header, *rows], className="live-table")]
    values = dict(zip(latest["sensor_id"], latest["value"], strict=True)) if not latest.empty else {}
    times = dict(zip(latest["sensor_id"], latest["time"], strict=True)) if not latest.empty else {}
    live = _SensorValues(values, times, state, residual_by_sensor, data.reading_stale_s(), lang)
    rows = []
    for kind, of_kind in sensors.groupby("kind", sort=False, dropna=False):
        if len(of_kind) < MANY_OF_A_KIND:
            rows += [live.row(s) for s in of_kind.itertuples(index=False)]
            continue
        # A community's rooms: one row of the kind's spread, then its lowest readings one by one (forty
        # rows of them were ten times the panel's other components, and every one costs each render).
        lowest = sorted(of_kind.itertuples(index=False), key=lambda s: _sort_key(values.get(s.sensor_id)))
        rows += [live.summary(kind, of_kind), *(live.row(s, named=True) for s in lowest[:LOWEST_SHOWN])]
    return [html.Table([header, *rows], className="live-table")]


MANY_OF_A_KIND = 6   # sensors of one kind shown as the kind's spread and its LOWEST_SHOWN lowest readings
LOWEST_SHOWN = 3


def _sort_key(value) -> float:
    return float("inf") if value is None or pd.isna(value) else float(value)


@dataclass(frozen=True)
class _SensorValues:
    """An element's newest readings, twin state and residuals, as rows of the live table."""
    values: dict
    times: dict
    state: pd.Series | None
    residual: dict
    stale_after_s: float
    lang: str

    def _unit(self, kind: str, fallback: str) -> tuple[str, int]:
        choice = SENSOR_KIND.get(kind)
        unit = choice.unit if choice else fallback
        return unit, 2 if unit == "bar" else 1

    def row(self, s, named: bool = False) -> html.Tr:
        """One sensor's row (``named``: its id after its kind, for one of many of its kind)."""
        lang, unit = self.lang, self._unit(s.kind, s.unit)
        kind = SENSOR_KIND.get(s.kind)
        age = data.age_s(self.times[s.sensor_id]) if s.sensor_id in self.times else None
        column = TWIN_COLUMN.get(s.kind)
        twin = self.state.get(column) if self.state is not None and column else None
        stale = age is not None and age > self.stale_after_s
        return html.Tr(className="stale" if stale else "", **{"data-sensor": s.sensor_id}, children=[
            html.Td((t(kind.label_key, lang) if kind else s.kind) + (f" · {s.sensor_id}" if named else "")),
            html.Td(fmt.number(self.values.get(s.sensor_id), *unit)), html.Td(fmt.number(twin, *unit)),
            html.Td(fmt.number(self.residual.get(s.sensor_id), unit[0], 2)),
            html.Td(fmt.age(age, lang) + (f" · {t('state.stale', lang)}" if stale else ""))])

    def summary(self, kind: str, sensors: pd.DataFrame) -> html.Tr:
        """``室温 ×40``: the median and the lowest to highest reading, residuals' spread, the oldest reading."""
        lang, unit = self.lang, self._unit(kind, sensors["unit"].iloc[0])
        choice = SENSOR_KIND.get(kind)
        ids = sensors["sensor_id"]
        read = pd.Series([self.values.get(i) for i in ids], dtype=float).dropna()
        residual = pd.Series([self.residual.get(i) for i in ids], dtype=float).dropna()
        ages = [data.age_s(self.times[i]) for i in ids if i in self.times]
        stale = sum(a is not None and a > self.stale_after_s for a in ages)

        def spread(values: pd.Series, digits: int) -> str:
            if values.empty:
                return fmt.DASH
            return f"{fmt.number(values.min(), '', digits)} – {fmt.number(values.max(), unit[0], digits)}"
        measured = (fmt.DASH if read.empty else
                    f"{t('trend.median', lang)} {fmt.number(read.median(), *unit)} ({spread(read, unit[1])})")
        column = TWIN_COLUMN.get(kind)
        twin = self.state.get(column) if self.state is not None and column else None
        return html.Tr(className="kind-spread" + (" stale" if stale else ""), **{"data-kind": kind}, children=[
            html.Td(f"{t(choice.label_key, lang) if choice else kind} ×{len(ids)}"), html.Td(measured),
            html.Td(fmt.number(twin, *unit)), html.Td(spread(residual, 2)),
            html.Td((fmt.age(max(ages), lang) if ages else fmt.DASH)
                    + (f" · {stale} {t('state.stale', lang)}" if stale else ""))])


def _valves_of_pipe(geo, pipe_id: str, attrs: dict, flow_t_h) -> list:
    """Valves on the pipe or at its end nodes, labelled upstream/downstream by the twin's flow sign."""
    ends = {attrs.get("from_node"): "panel.upstream", attrs.get("to_node"): "panel.downstream"}
    if flow_t_h is not None and pd.notna(flow_t_h) and flow_t_h < 0:
        ends = {attrs.get("from_node"): "panel.downstream", attrs.get("to_node"): "panel.upstream"}
    by_pipe, by_node = geo.valves
    near = {*by_pipe.get(pipe_id, ()), *(v for node in ends for v in by_node.get(node, ()))}
    found = []
    for valve_id in geo.assets.index[geo.assets.index.isin(near)]:  # in the assets' order, as listed before
        va = geo.assets.at[valve_id, "attrs"] or {}
        node, on_pipe = va.get("node_id"), va.get("pipe_id") == pipe_id
        if on_pipe or node in ends:
            found.append((valve_id, ends.get(node, "panel.on_pipe"), on_pipe, bool(va.get("normally_open", True))))
    return found


def _pipe_section(geo, pipe_id: str, attrs: dict, state, lang: str) -> html.Section:
    year = attrs.get("install_year")
    length = attrs.get("length_m")
    facts = [(t("panel.dn", lang), f"DN{attrs.get('dn_mm', fmt.DASH)}"),
             (t("panel.length", lang), fmt.number(m_to_km(length), "km", 3) if length else fmt.DASH),
             (t("panel.material", lang), _label(PIPE_MATERIAL, attrs.get("material"), lang)),
             (t("panel.insulation", lang), _label(PIPE_INSULATION, attrs.get("insulation"), lang)),
             (t("panel.age", lang), t("panel.years", lang).format(n=datetime.now(UTC).year - int(year))
              if year else fmt.DASH)]
    valves = _valves_of_pipe(geo, pipe_id, attrs, None if state is None else state.get("flow_t_h"))
    items = [html.Li([html.Button(valve_id, id={"type": "wall-goto", "element": valve_id}, className="link"),
                      f" · {t(where, lang)}",
                      " · " + t("legend.valve_open" if open_ else "legend.valve_closed", lang)])
             for valve_id, where, _, open_ in valves]
    return _section(t("panel.pipe", lang), [_facts(facts), html.H4(t("panel.valves", lang)),
                                            html.Ul(items or [html.Li(t("panel.none", lang))], className="valves"),
                                            html.A(t("panel.what_if", lang), className="what-if",
                                                   href=f"/scenarios?pipe={pipe_id}&action=break")],
                    "pipe")


def _label(choices: dict, value, lang: str) -> str:
    """A fixed value's label in ``lang``; a value the list does not know is shown as it is stored."""
    if value is None or value == "":
        return fmt.DASH
    choice = choices.get(value)
    return t(choice.label_key, lang) if choice else str(value)


def rated_text(rated: dict | None, lang: str) -> str:
    """A nameplate's ratings with their names and units: ``扬程 32 m · 流量 50.7 t/h``."""
    parts = []
    for key, value in (rated or {}).items():
        rating = EQUIPMENT_RATING.get(key)
        number = f"{value:g}" if isinstance(value, int | float) else str(value)
        parts.append(f"{t(rating.label_key, lang)} {number} {rating.unit}" if rating else f"{key} {number}")
    return " · ".join(parts) or fmt.DASH


def _equipment_section(card: ElementCard, lang: str) -> html.Section:
    cards = []
    for eq in card.equipment:
        cards.append(html.Div(className="nameplate", **{"data-equipment": eq["id"]}, children=[
            html.Div(f"{_label(EQUIPMENT_KIND, eq['kind'], lang)} · {eq['id']}", className="nameplate-title"),
            _facts([(t("panel.maker", lang), eq["maker"] or fmt.DASH), (t("panel.model", lang), eq["model"] or fmt.DASH),
                    (t("panel.serial", lang), eq["serial"] or fmt.DASH),
                    (t("panel.install_year", lang), str(eq["install_year"] or fmt.DASH)),
                    (t("panel.rated", lang), rated_text(eq.get("rated"), lang))])]))
    return _section(t("panel.equipment", lang), cards or [html.P(t("panel.no_records", lang), className="muted")],
                    "equipment", card.element_id)


def _maintenance_section(card: ElementCard, lang: str, timezone: str) -> html.Section:
    rows = [html.Li([html.Span(fmt.clock(m["done_at"], timezone, with_date=True), className="when"),
                     f" {_label(MAINTENANCE_KIND, m['kind'], lang)} · {m['note']} · {m['crew']}"])
            for m in card.maintenance]
    return _section(t("panel.maintenance", lang), html.Ul(rows or [html.Li(t("panel.no_records", lang))]),
                    "maintenance", card.element_id)


def _drawings_section(card: ElementCard, lang: str, server) -> html.Section:
    items = []
    for d in card.drawings:
        src = drawing_src(d["path"], server)
        body = (html.Img(src=src, className="drawing-img", alt=d["title"]) if src else
                html.P(t("panel.drawing_missing", lang) + f": {d['path']}", className="muted"))
        items.append(html.Figure(className="drawing", **{"data-drawing": d["id"]}, children=[
            body, html.Figcaption([d["title"], html.Button(t("panel.open_full", lang), className="open-full",
                                                           id={"type": "wall-drawing", "drawing": d["id"]},
                                                           disabled=src is None)])]))
    return _section(t("panel.drawings", lang), items or [html.P(t("panel.no_records", lang), className="muted")],
                    "drawings", card.element_id)


# The panel's and the ticker's buttons act through assets/wall.js: a click on a button with one of these
# pattern ids sets the gate store of its action to ``{"id": the button's id, "n": a count}``, and the gate
# is the action's Input (app/pages/wall.py). With the pattern ids themselves as (ALL) Inputs, Dash's
# renderer fired every such callback each time a panel or the ticker added or removed buttons of its
# pattern: 4-5 requests of no use per panel opened or closed, beside the click's own.
ACTION_GATES = {"wall-alarm-ack": "wall-act-ack", "wall-ticker-ack": "wall-act-ack",
                "wall-ticker-shelve": "wall-act-shelve", "wall-alarm-clear": "wall-act-clear",
                "wall-alarm-comment": "wall-act-comment", "wall-alarm-order": "wall-act-order",
                "wall-drawing": "wall-act-drawing"}

_ALARM_ACTIONS = (("alarm.ack", "wall-alarm-ack"), ("alarm.comment", "wall-alarm-comment"),
                  ("alarm.clear", "wall-alarm-clear"), ("alarm.work_order", "wall-alarm-order"))


def _alarm_buttons(alarm, principal, lang: str) -> html.Div | None:
    """The actions the principal's roles allow on an open alarm (the server checks again on click)."""
    allowed = [(action, button) for action, button in _ALARM_ACTIONS
               if principal is not None and principal.can(action)
               and not (action == "alarm.ack" and alarm.state == "acknowledged")]
    if not allowed:
        return None
    return html.Div(className="alarm-actions", children=[
        html.Button(t(action, lang), id={"type": button, "alarm": int(alarm.id)}, n_clicks=0,
                    className=f"alarm-act {action.split('.')[1]}") for action, button in allowed])


def _acknowledged(alarm, lang: str, timezone: str) -> html.Div | None:
    if alarm.state != "acknowledged" or not alarm.acknowledged_by:
        return None
    who = alarm.acknowledged_by_name or alarm.acknowledged_by
    return html.Div(t("alarm.acked_by", lang).format(who=who, at=fmt.clock(alarm.acknowledged_at, timezone, True)),
                    className="alarm-acked", **{"data-acked-by": alarm.acknowledged_by})


def _alarms_section(geo, card: ElementCard, lang: str, timezone: str, principal=None,
                    picked: str | None = None) -> html.Section | None:
    """The open alarms of the element and of its sensors; ``picked`` (the sensor clicked) is marked."""
    alarms, element_id = card.alarms, card.element_id
    if alarms.empty:
        return None
    alarms = data.with_units(geo, alarms)
    items = []
    for a in alarms.itertuples(index=False):
        on = "" if a.asset_id == element_id else f"{_sensor_label(geo, a.asset_id, lang)} · "
        line = [f"{fmt.clock(a.raised_at, timezone, True)} · {t(f'severity.{a.severity}', lang)} · {on}"
                f"{describe(a.cause, a.message, a.details, lang)}"]
        if a.cause == "leak" and a.details:
            line.append(_leak_details(a.details, lang))
        line += [part for part in (_acknowledged(a, lang, timezone), _alarm_buttons(a, principal, lang)) if part]
        items.append(html.Li(className=f"sev-{a.severity}" + (" picked" if a.asset_id == picked else ""),
                             children=line, **{"data-alarm": str(a.id), "data-asset": a.asset_id}))
    return _section(t("panel.alarms", lang), html.Ul(items), "alarms", element_id)


def _sensor_label(geo, sensor_id: str, lang: str) -> str:
    """``供水压力 S-ST-0086-PS``: what the sensor measures, then its id."""
    choice = SENSOR_KIND.get(geo.sensor_kinds.get(sensor_id))
    return f"{t(choice.label_key, lang)} {sensor_id}" if choice else sensor_id


def _goto(element_id: str) -> html.Button:
    return html.Button(element_id, id={"type": "wall-goto", "element": element_id}, className="link", n_clicks=0)


def _leak_details(details: dict, lang: str) -> html.Div:
    """A leak alarm's ranked candidate segments and the valves that isolate the most likely one."""
    rows = [html.Tr([html.Td(str(c.get("rank", ""))), html.Td(_goto(str(c["pipe_id"]))),
                     html.Td(t(f"leak.side.{c.get('side', 'supply')}", lang)),
                     html.Td(fmt.number(100 * float(c.get("score") or 0), "%")),
                     html.Td(fmt.number(c.get("rate_t_h"), "t/h"))], **{"data-candidate": str(c["pipe_id"])})
            for c in details.get("candidates", [])]
    head = html.Tr([html.Th(x) for x in ("#", t("leak.segment", lang), t("leak.side", lang), t("leak.score", lang),
                                        t("leak.rate", lang))])
    valves = [html.Span(_goto(v), **{"data-valve": v}) for v in details.get("valves", [])]
    return html.Div(className="leak-details", children=[
        html.H4(t("leak.candidates", lang)), html.Table([head, *rows], className="leak-candidates"),
        html.H4(t("leak.valves", lang)), html.Div(valves or fmt.DASH, className="leak-valves"),
        html.A(t("leak.what_if", lang), href=f"/scenarios?pipe={details.get('pipe_id', '')}&action=break",
               className="what-if")])


def _element_state(pool, element_id: str) -> tuple[pd.Series | None, dict]:
    """The element's row of the latest twin run (or None), and the run's residual by sensor (cached per run)."""
    lookup = data.run_lookup(pool)
    return lookup.state_of(element_id), lookup.residual


@dataclass(frozen=True)
class Panel:
    head: list          # identity, open alarms (with the actions the principal may take), live values
    body: list          # pipe or community facts, equipment, maintenance, drawings
    orders: list        # open work orders here and within NEARBY_M
    focus: dict | None  # where the map flies (None: the element is not in the current network)


def element_panel(pool, element_id: str, lang: str, principal=None, server=None) -> Panel:
    """Every part of the panel of the element a click on ``element_id`` opens (a sensor opens the element it
    sits on, the sensor's alarms marked), from one store call."""
    geo = data.geometry(pool)
    picked, element_id = element_id, data.host_of(geo, element_id)
    if element_id not in geo.assets.index:
        return Panel([html.P(t("panel.not_found", lang).format(id=element_id), className="muted")], [], [], None)
    asset = geo.assets.loc[element_id]
    card = get_element_card(pool, element_id, sensor_ids=data.sensors_of(geo, element_id),
                            near=(float(asset["lon"]), float(asset["lat"])), radius_m=NEARBY_M)
    state, residual_by_sensor = _element_state(pool, element_id)
    timezone = context.settings().timezone
    kind = kind_of(element_id) or asset["kind"]
    identity = html.Header(className="panel-head", children=[
        html.Div(t(f"element.{kind}", lang), className="panel-kind"),
        html.H2(asset["name"] or element_id, id="wall-panel-title"),
        html.Div(element_id, className="panel-id", **{"data-element": element_id})])
    head = [identity, _alarms_section(geo, card, lang, timezone, principal, picked if picked != element_id else None),
            _section(t("panel.live", lang), _live_rows(geo, element_id, state, residual_by_sensor, card.latest, lang), "live",
                     element_id)]
    focus = {"id": element_id, "lon": float(asset["lon"]), "lat": float(asset["lat"]), "fly": True}
    return Panel([b for b in head if b is not None], _records(pool, geo, card, kind, state, lang, timezone, server),
                 _orders(card, lang), focus)


def _records(pool, geo, card: ElementCard, kind: str, state, lang: str, timezone: str, server) -> list:
    """Facts of a pipe or community, then equipment, maintenance history and repair drawings."""
    element_id = card.element_id
    attrs = geo.assets.at[element_id, "attrs"] or {}
    body = []
    if kind == "pipe":
        body.append(_pipe_section(geo, element_id, attrs, state, lang))
    if kind == "community":
        share = data.compliance(pool)
        row = share[share["community_id"] == element_id] if share is not None else pd.DataFrame()
        body.append(_section(t("element.community", lang), _facts([
            (t("panel.station", lang), attrs.get("station_id") or fmt.DASH),
            (t("panel.households", lang), str(attrs.get("households", fmt.DASH))),
            (t("panel.compliance", lang), fmt.number(100 * row["share_ok"].iloc[0], "%") if len(row) else
             t("state.no_data", lang))]), "community", element_id))
    return body + [_equipment_section(card, lang), _maintenance_section(card, lang, timezone),
                   _drawings_section(card, lang, server)]


def _orders(card: ElementCard, lang: str) -> list:
    """Open work orders on the element and within ``NEARBY_M`` of it, with their photos."""
    element_id, orders = card.element_id, card.orders
    if orders.empty:
        return [html.P(t("panel.orders_none", lang), className="muted", **{"data-element": element_id})]
    head = html.Tr([html.Th(x) for x in ("#", t("panel.status", lang), t("panel.created", lang),
                                        t("panel.sla_due", lang), t("panel.crew", lang))])
    rows = []
    for o in orders.itertuples(index=False):
        due = data.age_s(o.sla_due_at)
        overdue = due is not None and due > 0
        rows.append(html.Tr(className=("here" if o.asset_id == element_id else "nearby") + (" overdue" if overdue else ""),
                            **{"data-wo": str(o.id)}, children=[
            html.Td(f"#{o.id} {o.title}"), html.Td(t(f"wo_state.{o.state}", lang)),
            html.Td(fmt.age(data.age_s(o.created_at), lang)),
            html.Td(fmt.DASH if due is None else fmt.age(due, lang, future=not overdue)),
            html.Td(o.team_name or fmt.DASH)]))
        if o.photos:
            rows.append(html.Tr(className="order-photos", children=[html.Td(colSpan=5, children=[
                html.A(html.Img(src=f"/photos/{o.id}/{sha}", className="order-photo"), href=f"/photos/{o.id}/{sha}",
                       target="_blank") for sha in o.photos])]))
    return [html.Table([head, *rows], className="orders-table", **{"data-element": element_id}),
            html.A(t("nav.orders", lang) + " →", href="/orders", className="what-if")]
