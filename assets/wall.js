/* HeatTwin video wall: Leaflet style functions and clientside callbacks.
 *
 * Geometry arrives once (GeoJSON in the layout). Every refresh brings compact arrays in feature
 * order (see layers/style.py); applyLive restyles the layers in place through the refs that
 * onEach keeps, so nothing is rebuilt (dash-leaflet rebuilds a whole layer on any prop change).
 */
(function () {
    "use strict";
    var ht = window.heattwin = window.heattwin || {};
    ht.refs = ht.refs || {};        // GeoJSON component id -> [layer by feature index]
    ht.created = ht.created || 0;   // features created since page load: a rebuild would raise it
    ht.scales = ht.scales || null;
    ht.live = ht.live || null;
    var NO_DATA = "#5b6472";
    // Marker sizes and line widths are in CSS pixels: scale them with the wall (1 at 1920x1080; a 3x1 wall
    // of 5760x1080 is as tall as one screen, so its markers stay the size of one screen's).
    function px(n) { return n * Math.max(1, Math.min(window.innerWidth / 1920, window.innerHeight / 1080)); }
    var VALVE = {open: "#e8f1ff", closed: "#ff3b30"};

    function colourOf(v, spec) {
        if (v === null || v === undefined || !spec) { return NO_DATA; }
        var x = (v / spec.factor - spec.low) / (spec.high - spec.low);
        x = Math.min(1, Math.max(0, x));
        return spec.palette[Math.round(x * (spec.palette.length - 1))];
    }

    // The style one feature gets from the live arrays (null: keep the static style).
    function liveStyle(layerId, i, layer) {
        var live = ht.live, sc = ht.scales;
        if (!live || !sc) { return null; }
        var props = layer.feature.properties;
        if (layerId === "wall-pipes") {
            var v = live.pipes[i];
            var spec = sc.pipes[live.quantity];
            props.value = (v === null || v === undefined) ? null : v / spec.factor;
            props.quantity = live.quantity;
            return {color: colourOf(v, spec)};
        }
        if (layerId === "wall-stations" || layerId === "wall-sources") {
            var code = live[layerId === "wall-stations" ? "stations" : "sources"][i];
            var known = code !== null && code !== undefined && sc.status[code];
            props.status = known ? sc.status[code].value : null;
            return {fillColor: known ? sc.status[code].colour : NO_DATA};
        }
        if (layerId === "wall-valves") {
            var open = live.valves[i] === 1;
            props.open = open;
            return {fillColor: open ? VALVE.open : VALVE.closed, color: open ? "#0b1220" : "#ffd60a"};
        }
        if (layerId === "wall-communities") {
            var share = live.communities[i];
            props.share_ok = (share === null || share === undefined) ? null : share / 100;
            var c = colourOf(share, sc.communities);
            return {fillColor: c, color: c};
        }
        return null;
    }

    function restyle(layerId, i, layer) {
        var style = liveStyle(layerId, i, layer);
        if (!style) { return; }
        var key = JSON.stringify(style);
        if (layer._htKey === key) { return; }  // unchanged: skip the canvas redraw request
        layer._htKey = key;
        layer.setStyle(style);
    }

    function allDrawn() {
        var want = ht.expected || {};
        for (var id in want) {
            if (!ht.refs[id] || ht.refs[id].length !== want[id]) { return false; }
        }
        return Object.keys(want).length > 0;
    }

    ht.counts = function () {
        var out = {};
        for (var id in ht.refs) { out[id] = ht.refs[id].filter(Boolean).length; }
        return out;
    };

    // A click on the map selects the feature's element straight away: one set_props starts the panel's
    // request. Going through dash-leaflet's clickData and a clientside callback cost a whole callback round
    // in the renderer first (80-150 ms at 3840x2160), and a click that left clickData as it was (the same
    // pixel of the same feature, after closing its panel) changed nothing and was lost.
    // An alarm ring selects its sensor: the panel opens the element the sensor sits on. ``fly``: the map
    // flies to the element (a ticker line or a link names it); a feature clicked in view does not fly.
    ht.select = function (elementId, fly) {
        var set = window.dash_clientside.set_props;
        fly = !!fly;
        if ((ht.fly !== false) !== fly) { ht.fly = fly; set("wall-fly", {data: fly}); }
        set("wall-selected", {data: elementId});
    };

    // The panel's and the ticker's buttons, by their pattern ids (app/pages/wall.py, ACTION_GATES): a ticker
    // line or a valve link selects its element; an action button sets its action's gate store, the one
    // Input of that action's callback. As pattern (ALL) Inputs, these buttons made the renderer fire every
    // action's callback whenever a panel or the ticker added or removed some (4-5 requests a panel).
    var SELECTS = {"wall-ticker": true, "wall-goto": true};
    function onButton(event) {
        var button = event.target.closest && event.target.closest("button[id^='{']");
        if (!button || button.disabled || !ht.gates) { return; }
        var id;
        try { id = JSON.parse(button.id); } catch (err) { return; }
        if (SELECTS[id.type] && id.element) { ht.select(id.element, true); return; }
        var gate = ht.gates[id.type];
        if (gate) {
            ht.acts = (ht.acts || 0) + 1;
            window.dash_clientside.set_props(gate, {data: {id: id, n: ht.acts}});
        }
    }
    // Capturing: before React's own click handler, whose n_clicks dispatch would otherwise go first.
    if (!ht.listening) { ht.listening = true; document.addEventListener("click", onButton, true); }
    function selectOnClick(layer) {
        layer.on("click", function () {
            var id = layer.feature && layer.feature.properties.id;
            if (id) { ht.select(id, false); }
        });
    }

    ht.wall = {
        onEach: function (feature, layer, context) {
            var id = context.id;
            ht.map = context.map;
            var i = feature.properties.i;
            if (i === 0 || !ht.refs[id]) { ht.refs[id] = []; }  // a (re)built layer starts afresh
            ht.refs[id][i] = layer;
            ht.created += 1;
            selectOnClick(layer);
            if (!ht.firstEachAt) { ht.firstEachAt = performance.now(); }
            restyle(id, i, layer);
            if (!ht.drawnAt && allDrawn()) {
                if (ht.fitOnDraw) { ht.fitNetwork(); }
                // Stamp after the canvas has painted the last features.
                requestAnimationFrame(function () {
                    requestAnimationFrame(function () {
                        ht.drawnAt = performance.now();
                        window.dash_clientside.set_props("wall-drawn", {data: true});
                    });
                });
            }
        },
        onEachOverlay: function (feature, layer, context) {
            var id = context.id;
            if (feature.properties.i === 0 || !ht.refs[id]) { ht.refs[id] = []; }
            ht.refs[id][feature.properties.i] = layer;
            if (layer.options.interactive !== false) { selectOnClick(layer); }
        },
        pointStation: function (feature, latlng) {
            return L.circleMarker(latlng, {radius: px(6), weight: px(1.5), color: "#0b1220", fillColor: NO_DATA,
                                           fillOpacity: 1});
        },
        pointSource: function (feature, latlng) {
            return L.circleMarker(latlng, {radius: px(13), weight: px(4), color: "#ffb703", fillColor: NO_DATA,
                                           fillOpacity: 1});
        },
        pointValve: function (feature, latlng) {
            return L.circleMarker(latlng, {radius: px(3.5), weight: px(1), color: "#0b1220", fillColor: VALVE.open,
                                           fillOpacity: 1});
        },
        pointAlarm: function (feature, latlng) {
            return L.circleMarker(latlng, {radius: px(11), weight: px(3), color: feature.properties.colour,
                                           fill: false, opacity: 0.95});
        },
        pointWorkOrder: function (feature, latlng) {
            // A badge up and to the right of its element, so the element itself stays visible and clickable.
            var size = px(14);
            var icon = L.divIcon({className: "wo-marker", iconSize: [size, size], iconAnchor: [-0.4 * size, 1.4 * size],
                                  html: "<span style='background:" + feature.properties.colour + "'></span>"});
            return L.marker(latlng, {icon: icon, title: feature.properties.title || ""});
        },
        pointCrew: function (feature, latlng) {
            // A team's tag where its phones last reported it (dimmed at its base), with its open orders.
            var p = feature.properties;
            var icon = L.divIcon({className: "crew-marker" + (p.reported ? "" : " at-base"), iconSize: null,
                                  html: "<span>" + p.name + " · " + p.open + "</span>"});
            return L.marker(latlng, {icon: icon, title: p.name, interactive: false});
        },
        stylePipe: function () { return {color: NO_DATA, weight: px(2.2), opacity: 0.95}; },
        styleCommunity: function () {
            return {color: NO_DATA, weight: px(1), fillColor: NO_DATA, fillOpacity: 0.28, opacity: 0.6};
        },
        styleBasemap: function (feature) {
            var k = feature.properties.kind;
            if (k === "river") { return {color: "#1d4e89", weight: px(7), opacity: 0.9, fillColor: "#163e6e",
                                         fillOpacity: 0.8}; }
            if (k === "railway") { return {color: "#6b7280", weight: px(2), dashArray: "8 6", opacity: 0.9}; }
            if (k === "arterial") { return {color: "#3a4556", weight: px(4), opacity: 0.9}; }
            return {color: "#252e3b", weight: px(1.5), opacity: 0.9};
        }
    };

    function findLayer(elementId) {
        for (var id in ht.refs) {
            var list = ht.refs[id];
            for (var i = 0; i < list.length; i++) {
                if (list[i] && list[i].feature && list[i].feature.properties.id === elementId &&
                    id.indexOf("wall-") === 0 && id !== "wall-alarms" && id !== "wall-orders") {
                    return list[i];
                }
            }
        }
        return null;
    }
    ht.findLayer = findLayer;

    function highlight(elementId) {
        if (!ht.map) { return; }
        if (ht.highlight) { ht.map.removeLayer(ht.highlight); ht.highlight = null; }
        var layer = elementId && findLayer(elementId);
        if (!layer) { return; }
        ht.highlight = L.geoJSON(layer.feature, {
            interactive: false,
            style: {color: "#ffffff", weight: 9, opacity: 0.45, fill: false},
            pointToLayer: function (f, ll) {
                return L.circleMarker(ll, {radius: 18, color: "#ffffff", weight: 3, fill: false,
                                           interactive: false, dashArray: "6 4"});
            }
        }).addTo(ht.map);
    }

    // Where the middle of the map area the open panel leaves visible is, from the map's centre: [dx, dy] in
    // pixels, and that area's [top, bottom] in the map's own pixels. A side panel covers its width on the right;
    // on a phone the panel is a bottom sheet across the whole width and covers the map's lower part (and the
    // page may be scrolled, so only the part of the map on the screen counts).
    function visibleArea() {
        var map = ht.map, size = map.getSize(), panel = document.getElementById("wall-panel");
        var open = panel && panel.className.indexOf("open") >= 0;
        if (!open || panel.offsetWidth < size.x * 0.9) {
            return {offset: [open ? -panel.offsetWidth / 2 : 0, 0], top: 0, bottom: size.y, sheet: false};
        }
        var m = map.getContainer().getBoundingClientRect();
        var top = Math.max(0, -m.top), bottom = Math.min(size.y, window.innerHeight - panel.offsetHeight - m.top);
        if (bottom - top < 40) { return {offset: [0, 0], top: 0, bottom: size.y, sheet: false}; }
        return {offset: [0, (top + bottom) / 2 - size.y / 2], top: top, bottom: bottom, sheet: true};
    }

    // Fly so the element sits in the middle of the map area the open panel leaves visible.
    function flyBeside(focus) {
        var map = ht.map, zoom = Math.max(map.getZoom(), focus.zoom || 15);
        var point = map.project([focus.lat, focus.lon], zoom).subtract(visibleArea().offset);
        map.flyTo(map.unproject(point, zoom), zoom, {duration: 0.8});
    }

    // An element clicked on the map is in view, unless the bottom sheet that opened now covers it.
    function keepAboveSheet(focus) {
        var map = ht.map, area = visibleArea(), p = map.latLngToContainerPoint([focus.lat, focus.lon]);
        if (!area.sheet || (p.y >= area.top + 20 && p.y <= area.bottom - 20)) { return; }
        var centre = map.project([focus.lat, focus.lon]).subtract(area.offset);
        map.panTo(map.unproject(centre), {duration: 0.4});
    }

    // The map (and the element's layer) may not exist yet on a deep link: retry for a while.
    function applyFocus(attempt) {
        var focus = ht.focus;
        if (!focus) { highlight(null); return; }
        if (!ht.map || (!findLayer(focus.id) && attempt < 100)) {
            if (attempt < 100) { setTimeout(function () { applyFocus(attempt + 1); }, 100); }
            return;
        }
        highlight(focus.id);
        if (focus.fly) { flyBeside(focus); } else if (focus.lat !== undefined) { keepAboveSheet(focus); }
    }

    ht.fitNetwork = function () {
        var bounds = null;
        ["wall-pipes", "wall-stations", "wall-sources"].forEach(function (id) {
            (ht.refs[id] || []).forEach(function (l) {
                if (!l) { return; }
                var b = l.getBounds ? l.getBounds() : L.latLngBounds([l.getLatLng()]);
                bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
            });
        });
        if (!bounds || !ht.map) { return; }
        ht.map.invalidateSize();
        var pad = overlayPadding(bounds);
        ht.map.fitBounds(bounds, {paddingTopLeft: [pad[0], pad[1]], paddingBottomRight: [pad[2], pad[3]],
                                  animate: false});
        ht.fittedView = {centre: ht.map.getCenter(), zoom: ht.map.getZoom()};
        watchOverlays();
    };

    // The legend fills in (and a box folds or unfolds) after the network is fitted: fit again, unless the
    // dispatcher has moved the map since.
    function watchOverlays() {
        if (ht.overlayWatch || !window.ResizeObserver) { return; }
        ht.overlayWatch = new ResizeObserver(function () {
            var view = ht.fittedView, map = ht.map;
            if (view && map && map.getZoom() === view.zoom && map.getCenter().equals(view.centre, 1e-9)) {
                ht.fitNetwork();
            }
        });
        overlays().forEach(function (e) { ht.overlayWatch.observe(e); });
    }

    // The boxes drawn over the map (legend, layers, zoom buttons, replay): the network is fitted beside
    // them, never under them. Each box is stepped around either sideways (padding from its left or right
    // edge) or vertically (from its top or bottom edge); of all the choices, the one that draws the
    // network largest wins. Padding [left, top, right, bottom] in pixels.
    function overlays() {
        var wrap = document.getElementById("wall-map-wrap") || ht.map.getContainer();
        return wrap.querySelectorAll(".wall-legend, .wall-layers, .replay-open, .leaflet-control-zoom");
    }
    function overlayPadding(bounds) {
        var map = ht.map, box = map.getContainer().getBoundingClientRect(), size = map.getSize(), gap = 20;
        var nw = map.project(bounds.getNorthWest(), 0), se = map.project(bounds.getSouthEast(), 0);
        var bw = Math.max(se.x - nw.x, 1e-9), bh = Math.max(se.y - nw.y, 1e-9);
        var options = [];
        overlays().forEach(function (e) {
            var r = e.getBoundingClientRect();
            if (!r.width || !r.height) { return; }
            var x0 = r.left - box.left, x1 = r.right - box.left, y0 = r.top - box.top, y1 = r.bottom - box.top;
            var side = (x0 + x1) / 2 < size.x / 2 ? [0, x1] : [2, size.x - x0];
            var end = (y0 + y1) / 2 < size.y / 2 ? [1, y1] : [3, size.y - y0];
            options.push([side, end]);
        });
        var best = null, bestScale = -1;
        for (var mask = 0; mask < (1 << options.length); mask++) {
            var pad = [0, 0, 0, 0];
            options.forEach(function (o, i) { var c = o[(mask >> i) & 1]; pad[c[0]] = Math.max(pad[c[0]], c[1]); });
            var scale = Math.min((size.x - pad[0] - pad[2] - 2 * gap) / bw, (size.y - pad[1] - pad[3] - 2 * gap) / bh);
            if (scale > bestScale) { bestScale = scale; best = pad; }
        }
        return (best || [0, 0, 0, 0]).map(function (p) { return p + gap; });
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        heattwin: {
            setup: function (scales, expected, fit, gates) {
                ht.gates = gates;
                ht.scales = scales;
                ht.expected = expected;
                ht.fitOnDraw = fit;
                return "ready";
            },
            applyLive: function (live, scales) {
                if (!live) { return window.dash_clientside.no_update; }
                var start = performance.now();
                ht.scales = scales;
                ht.live = live;
                ht.liveBytes = JSON.stringify(live).length;
                var n = 0;
                ["wall-pipes", "wall-stations", "wall-sources", "wall-valves", "wall-communities"].forEach(
                    function (id) {
                        (ht.refs[id] || []).forEach(function (layer, i) {
                            if (layer) { restyle(id, i, layer); n += 1; }
                        });
                    });
                ht.applied = (ht.applied || 0) + 1;
                ht.applyMs = performance.now() - start;
                return "run:" + live.run_id + "|q:" + live.quantity + "|n:" + n + "|k:" + ht.applied;
            },
            toggleLayers: function (visible) {
                var on = {};
                (visible || []).forEach(function (v) { on["wall-" + v] = true; });
                for (var id in ht.refs) {
                    var layer = ht.refs[id].find(Boolean);
                    var group = layer && layer._eventParents && Object.values(layer._eventParents)[0];
                    if (!group || !ht.map || id === "wall-basemap") { continue; }
                    var want = !!on[id];
                    if (want && !ht.map.hasLayer(group)) { ht.map.addLayer(group); }
                    if (!want && ht.map.hasLayer(group)) { ht.map.removeLayer(group); }
                }
                var hidden = ["alarms", "orders", "crews"].filter(function (v) { return !on["wall-" + v]; });
                return "wall-map-wrap " + hidden.map(function (v) { return "hide-" + v; }).join(" ");
            },
            focus: function (focus) {
                ht.focus = focus;
                applyFocus(0);
                return focus ? focus.id : null;
            }
        }
    });
})();
