/* HeatTwin /scenarios page: Leaflet style functions. Colours come from the GeoJSON `hideout`
 * ({pipes: [colour by feature index], stations: [...], selected: id}); a run changes it once, so
 * the rebuild a hideout change costs (see the dash-leaflet notes) happens once per run, not on a clock.
 * Layers register in window.heattwin.refs like the wall's, so the same browser helpers click them.
 */
(function () {
    "use strict";
    var ht = window.heattwin = window.heattwin || {};
    ht.refs = ht.refs || {};
    var NONE = "#5b6472";
    function px(n) { return n * Math.max(1, window.innerWidth / 1920); }
    function colour(context, layer, i, fallback) {
        var h = (context && context.hideout) || {};
        var list = h[layer];
        return (list && list[i]) || fallback;
    }
    function selected(context, feature) {
        var h = (context && context.hideout) || {};
        return h.selected && h.selected === feature.properties.id;
    }
    ht.scn = {
        onEach: function (feature, layer, context) {
            var id = context.id, i = feature.properties.i;
            ht.map = context.map;
            if (i === 0 || !ht.refs[id]) { ht.refs[id] = []; }
            ht.refs[id][i] = layer;
            layer.bindTooltip(feature.properties.name ? feature.properties.id + " " + feature.properties.name
                                                      : feature.properties.id, {sticky: true});
        },
        stylePipe: function (feature, context) {
            var i = feature.properties.i, on = selected(context, feature);
            return {color: on ? "#ffffff" : colour(context, "pipes", i, NONE), weight: px(on ? 7 : 2.6),
                    opacity: 0.95};
        },
        pointStation: function (feature, latlng, context) {
            var on = selected(context, feature);
            return L.circleMarker(latlng, {radius: px(on ? 10 : 6), weight: px(on ? 3 : 1.5),
                                           color: on ? "#ffffff" : "#0b1220",
                                           fillColor: colour(context, "stations", feature.properties.i, "#8b98a9"),
                                           fillOpacity: 1});
        },
        pointSource: function (feature, latlng, context) {
            return L.circleMarker(latlng, {radius: px(13), weight: px(4), color: "#ffb703",
                                           fillColor: colour(context, "sources", feature.properties.i, "#223"),
                                           fillOpacity: 1});
        },
        pointValve: function (feature, latlng, context) {
            var on = selected(context, feature);
            return L.circleMarker(latlng, {radius: px(on ? 7 : 3.5), weight: px(1), color: "#0b1220",
                                           fillColor: colour(context, "valves", feature.properties.i, "#e8f1ff"),
                                           fillOpacity: 1});
        }
    };
})();
