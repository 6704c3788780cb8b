"""The wall's map: offline basemap (or tiles), network layers, alarm and work-order overlays, legend.

Network layers carry geometry only; colours come from the live arrays (see ``assets/wall.js``).
All interactive vector layers share the map's one canvas: with a canvas per pane the top canvas
would swallow clicks meant for the layers below it.
"""

from __future__ import annotations

import dash_leaflet as dl
import geopandas as gpd
import pandas as pd
from dash import html
from dash_extensions.javascript import Namespace

from app.components.wall_data import Geometry, compliance_threshold_c
from app.i18n import t
from heattwin.choices import ALARM_PRIORITY, ALARM_SEVERITY, STATION_STATUS, WORK_ORDER_PRIORITY
from layers import style

ns = Namespace("heattwin", "wall")
NETWORK_LAYERS = ("communities", "pipes", "valves", "stations", "sources")
OVERLAY_LAYERS = ("alarms", "orders", "crews")
TOGGLES = (*NETWORK_LAYERS, *OVERLAY_LAYERS)
_POINT = {"valves": "pointValve", "stations": "pointStation", "sources": "pointSource"}
_STYLE = {"communities": "styleCommunity", "pipes": "stylePipe"}
SEVERITY_COLOUR = {c.value: c.colour for c in ALARM_SEVERITY}
ALARM_PRIORITY_COLOUR = {c.value: c.colour for c in ALARM_PRIORITY}
PRIORITY_COLOUR = {c.value: c.colour for c in WORK_ORDER_PRIORITY}


def scales_spec() -> dict:
    """Everything the browser needs to turn live arrays into colours (sent once, with the layout)."""
    return {"pipes": {key: style.scale_spec(s) for key, s in style.PIPE_SCALES.items()},
            "communities": style.scale_spec(style.COMPLIANCE_SCALE),
            "status": [{"value": c.value, "colour": c.colour} for c in STATION_STATUS]}


def expected_counts(geo: Geometry) -> dict:
    return {f"wall-{layer}": len(geo.order[layer]) for layer in NETWORK_LAYERS}


WORLD_BOUNDS = [[-60.0, -180.0], [75.0, 180.0]]


def _bounds(geo: Geometry):
    """``[[south, west], [north, east]]`` of the network: its stations, sources and pipes, else any
    element with a place, else the offline basemap; with nothing at all, the world (no made-up city)."""
    located = geo.assets.dropna(subset=["lon", "lat"])
    main = located[located["kind"].isin(("station", "source", "pipe"))]
    points = main if len(main) else located
    if len(points):
        return [[points["lat"].min(), points["lon"].min()], [points["lat"].max(), points["lon"].max()]]
    basemap = geo.collections.get("basemap") or {}
    if basemap.get("features"):
        west, south, east, north = gpd.GeoDataFrame.from_features(basemap["features"]).total_bounds
        return [[float(south), float(west)], [float(north), float(east)]]
    return WORLD_BOUNDS


def _base_layer(geo: Geometry, tile_url: str | None, attribution: str):
    if tile_url:
        return dl.TileLayer(url=tile_url, attribution=attribution)
    # Offline: streets, arterials, river and railway from basemap_feature, under the network.
    return dl.Pane(name="basemap", style={"zIndex": 250}, children=[
        dl.GeoJSON(id="wall-basemap", data=geo.collections["basemap"], style=ns("styleBasemap"),
                   interactive=False)])


# A click on a feature selects its element in assets/wall.js (``heattwin.select``); dash-leaflet's own
# handlers would send clickData and hoverData through the renderer on every click and every hover.
_SELECT_IN_JS = {"disableDefaultEventHandlers": True}


def wall_map(geo: Geometry, *, tile_url: str | None, attribution: str, focus: dict | None) -> dl.Map:
    layers = [_base_layer(geo, tile_url, attribution)]
    for layer in NETWORK_LAYERS:
        options = {"pointToLayer": ns(_POINT[layer])} if layer in _POINT else {"style": ns(_STYLE[layer])}
        layers.append(dl.GeoJSON(id=f"wall-{layer}", data=geo.collections[layer], onEachFeature=ns("onEach"),
                                 bubblingMouseEvents=False, **options, **_SELECT_IN_JS))
    empty = {"type": "FeatureCollection", "features": []}
    layers += [
        dl.GeoJSON(id="wall-alarms", data=empty, pointToLayer=ns("pointAlarm"), onEachFeature=ns("onEachOverlay"),
                   **_SELECT_IN_JS),
        dl.GeoJSON(id="wall-orders", data=empty, pointToLayer=ns("pointWorkOrder"),
                   onEachFeature=ns("onEachOverlay"), **_SELECT_IN_JS),
        dl.GeoJSON(id="wall-crews", data=empty, pointToLayer=ns("pointCrew"), onEachFeature=ns("onEachOverlay"),
                   **_SELECT_IN_JS),
        dl.LayerGroup(id="wall-leaks", children=[]),
    ]
    bounds = _bounds(geo)
    middle = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    # Viewport tracking is off: nothing listens to it, and it fails on a bounds-only view.
    view = ({"center": [focus["lat"], focus["lon"]], "zoom": 16} if focus else
            {"bounds": bounds, "center": middle, "zoom": 13})
    return dl.Map(id="wall-map", className="wall-map", preferCanvas=True, children=layers, zoomSnap=0.25, trackViewport=False,
                  attributionControl=bool(tile_url), style={"width": "100%", "height": "100%"}, **view)


def leak_regions(geo: Geometry, regions: dict[int, list[str]]) -> list:
    """The stretch of pipe each leak alarm most likely sits on (its ``details.region``), as highlighted
    lines under the pulsing marker; not interactive, so clicks still reach the pipes."""
    lines = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in geo.collections["pipes"]["features"]}
    return [dl.Polyline(positions=[[lat, lon] for lon, lat in lines[pipe]], interactive=False,
                        pathOptions={"color": "#ff2d55", "weight": 9, "opacity": 0.55, "lineCap": "round"},
                        id={"type": "wall-leak-region", "alarm": alarm_id, "pipe": pipe})
            for alarm_id, pipes in regions.items() for pipe in pipes if pipe in lines]


def alarm_overlays(alarms: pd.DataFrame, regions: list | None = None) -> tuple[dict, list]:
    """Open alarms on the map: leaks as pulsing DOM markers (CSS animation) over their likely stretch
    of pipe (``regions``, from ``leak_regions``), the rest as canvas rings."""
    leaks = alarms[alarms["cause"] == "leak"]
    others = alarms[alarms["cause"] != "leak"].reset_index(drop=True)
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                 "properties": {"i": i, "id": r.asset_id, "host": getattr(r, "host_id", r.asset_id), "alarm_id": int(r.id),
                                "colour": ALARM_PRIORITY_COLOUR.get(getattr(r, "priority", None),
                                                              SEVERITY_COLOUR.get(r.severity, "#e74c3c"))}}
                for i, r in enumerate(others.itertuples(index=False))]
    markers = [dl.DivMarker(id={"type": "wall-leak", "alarm": int(r.id), "element": r.asset_id},
                            position=[r.lat, r.lon], title=r.message or r.asset_id, zIndexOffset=1000,
                            iconOptions={"className": "leak-pulse", "iconSize": [30, 30], "html": "<i></i>"})
               for r in leaks.itertuples(index=False)]
    return {"type": "FeatureCollection", "features": features}, [*(regions or []), *markers]


def order_overlay(orders: pd.DataFrame) -> dict:
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                 "properties": {"i": i, "id": r.asset_id, "wo": int(r.id),
                                "colour": PRIORITY_COLOUR.get(r.priority, "#3498db"), "title": f"#{r.id}"}}
                for i, r in enumerate(orders.reset_index(drop=True).itertuples(index=False))]
    return {"type": "FeatureCollection", "features": features}


def crew_overlay(teams: pd.DataFrame) -> dict:
    """Each team where it was last seen (its base until its phones report), with its open orders."""
    placed = teams.dropna(subset=["lon", "lat"]).reset_index(drop=True)
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                 "properties": {"i": i, "team": r.team_id, "name": r.name, "open": int(r.open_orders),
                                "reported": r.position_from == "reported"}}
                for i, r in enumerate(placed.itertuples(index=False))]
    return {"type": "FeatureCollection", "features": features}


def _gradient(scale: style.Scale) -> str:
    return "linear-gradient(to right, " + ", ".join(style.palette(scale, 12)) + ")"


def _scale_row(scale: style.Scale, lang: str, unit: str | None = None, label: str | None = None) -> html.Div:
    unit = scale.unit if unit is None else unit
    mid = (scale.low + scale.high) / 2
    return html.Div(className="legend-scale", children=[
        html.Div(label or t(scale.label_key, lang), className="legend-label"),
        html.Div(className="legend-bar", style={"background": _gradient(scale)}),
        html.Div(className="legend-ticks", children=[
            html.Span(f"{v:g}") for v in (scale.low, mid, scale.high)] + [html.Span(unit, className="unit")]),
    ])


def _swatch(colour: str, label: str, shape: str = "dot") -> html.Div:
    return html.Div(className="legend-item", children=[
        html.Span(className=f"swatch {shape}", style={"background": colour, "borderColor": colour}),
        html.Span(label)])


def legend(lang: str, quantity: str) -> list:
    scale = style.PIPE_SCALES.get(quantity, style.PIPE_SCALES[style.DEFAULT_QUANTITY])
    return [
        html.Div(t("wall.legend", lang), className="legend-title"),
        _scale_row(scale, lang),
        html.Div(className="legend-grid", children=[
            *[_swatch(c.colour, t(c.label_key, lang)) for c in STATION_STATUS],
            _swatch("#e8f1ff", t("legend.valve_open", lang), "small"),
            _swatch("#ff3b30", t("legend.valve_closed", lang), "small"),
            _swatch("#ff2d55", t("legend.leak", lang), "pulse"),
            _swatch("#f39c12", t("legend.alarm", lang), "ring"),
            _swatch("#3498db", t("legend.work_order", lang), "square"),
            _swatch("#20c997", t("legend.crew", lang), "square"),
            _swatch("#5b6472", t("legend.no_data", lang), "line"),
        ]),
        _scale_row(style.COMPLIANCE_SCALE, lang, label=t(style.COMPLIANCE_SCALE.label_key, lang).format(
            c=f"{compliance_threshold_c():g}")),
    ]
