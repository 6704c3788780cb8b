"""``heattwin import --inspect PATH``: what a network file holds, and a starter mapping to edit.

``inspect(path)`` describes every layer (kind, features, geometry types, CRS, extent, fields with
sample values); ``starter_mapping(layers)`` guesses which layer and field is which of ours from
their names (German, Chinese and English words) and writes the guesses as a mapping YAML whose
every guess is marked for review.
"""

from __future__ import annotations

import re

import yaml

from layers.sources import SourceError, describe, list_layers, read_layer

# Words in layer names, per our layer (and pipe side); lower case.
LAYER_WORDS = {
    "return": ("ruecklauf", "rücklauf", "return", "回水", "rl_"),
    "supply": ("vorlauf", "supply", "供水", "vl_"),
    "pipes": ("pipe", "leitung", "rohr", "trasse", "edge", "link", "管"),
    "stations": ("station", "hausanschluss", "übergabe", "uebergabe", "consumer", "building", "换热", "热力站",
                 "用户", "substation"),
    "sources": ("source", "heizwerk", "erzeuger", "kraftwerk", "plant", "hkw", "热源", "电厂"),
    "nodes": ("node", "knoten", "junction", "节点", "vertex"),
    "valves": ("valve", "armatur", "schieber", "阀"),
    "communities": ("communit", "小区", "quartier"),
}
FIELD_WORDS = {
    "id": ("id", "objectid", "nummer", "nr", "编号", "编码", "code", "gid", "fid"),
    "dn_mm": ("dn", "nennweite", "durchmesser", "diameter", "管径", "口径", "typ", "type", "rohrtyp"),
    "length_m": ("length", "laenge", "länge", "长度", "len"),
    "install_year": ("baujahr", "year", "jahr", "年份", "年代", "建设"),
    "material": ("material", "werkstoff", "材质", "材料"),
    "design_heat_mw": ("leistung", "power", "heat", "load", "负荷", "热负荷", "kw", "mw"),
    "name": ("name", "bezeichnung", "名称", "站名"),
    "node_id": ("node", "knoten", "节点"),
    "from_node": ("from", "von", "start", "起点", "source_node", "anfang"),
    "to_node": ("to", "nach", "end", "终点", "target", "ende"),
    "heated_area_m2": ("area", "flaeche", "fläche", "面积"),
    "elevation_m": ("elevation", "hoehe", "höhe", "高程", "z"),
}
GUESSED_FIELDS = {
    "pipes": ("id", "dn_mm", "length_m", "install_year", "material", "from_node", "to_node"),
    "stations": ("id", "name", "design_heat_mw", "node_id", "heated_area_m2"),
    "sources": ("id", "name", "node_id"),
    "nodes": ("id", "elevation_m"),
    "valves": ("id",),
    "communities": ("id", "name"),
}


def inspect(path) -> tuple[list[dict], list[str]]:
    """Every layer at ``path`` described (``layers.sources.describe``), and the warnings of listing them."""
    sources, warnings = list_layers(path)
    layers = []
    for source in sources.values():
        try:
            layers.append(describe(source, read_layer(source)))
        except SourceError as exc:
            warnings.append(str(exc))
    return layers, warnings


def format_inspection(layers: list[dict]) -> list[str]:
    lines = []
    for layer in layers:
        bounds = "no geometry" if layer["bounds"] is None else \
            "extent " + ", ".join(f"{v:.6g}" for v in layer["bounds"])
        lines.append(f"layer {layer['name']} ({layer['driver']}, {layer['file']}): {layer['features']} features, "
                     f"{'/'.join(layer['geometry']) or 'no geometry'}, CRS {layer['crs'] or 'none'}, {bounds}")
        for name, info in layer["fields"].items():
            samples = ", ".join(repr(v) for v in info["samples"])
            lines.append(f"  field {name} ({info['dtype']}): {samples}")
    return lines


def _has(name: str, words) -> bool:
    name = name.lower()
    return any(w in name for w in words)


def _guess_layer(layer: dict) -> tuple[str | None, str]:
    name, geometry = layer["name"], set(layer["geometry"])
    lines = bool(geometry & {"LineString", "MultiLineString"})
    side = "return" if _has(name, LAYER_WORDS["return"]) else "supply" if _has(name, LAYER_WORDS["supply"]) \
        else "both"
    for target in ("stations", "sources", "nodes", "valves", "communities", "pipes"):
        if _has(name, LAYER_WORDS[target]):
            return target, side
    if lines or side != "both":
        return "pipes", side
    return None, side


def _guess_field(column: str, fields: dict) -> tuple[str | None, dict]:
    words = FIELD_WORDS[column]
    exact = [f for f in fields if f.lower() in words]
    loose = [f for f in fields if any(re.search(rf"(^|[_\W]){re.escape(w)}($|[_\W\d])", f.lower()) or
                                      (not w.isascii() and w in f) for w in words)]
    found = (exact or loose or [None])[0]
    if found is None:
        return None, {}
    extra = {}
    samples = fields[found]["samples"]
    if column == "dn_mm" and any(isinstance(v, str) and not _number(v) for v in samples):
        extra["extract"] = r"(\d+)"
    if column == "design_heat_mw" and samples and all(_number(v) for v in samples) \
            and max(float(str(v).replace(",", ".")) for v in samples) > 50:
        extra["unit"] = "kW"
    return found, extra


def _number(v) -> bool:
    try:
        float(str(v).replace(",", "."))
    except ValueError:
        return False
    return True


def starter_mapping(layers: list[dict]) -> str:
    """A mapping YAML with this file's layers and fields guessed onto ours; review every line."""
    mapping: dict = {"layers": {}}
    skipped = []
    has_nodes = False
    for layer in layers:
        if layer["name"] in ("design", "heating_curve"):
            continue
        target, side = _guess_layer(layer)
        if target is None:
            skipped.append(layer["name"])
            continue
        has_nodes |= target == "nodes"
        entry: dict = {"source": layer["name"]}
        if target == "pipes" and side != "both":
            entry["side"] = side
        if target == "stations" and set(layer["geometry"]) & {"LineString", "MultiLineString"}:
            entry["geometry"] = "stub_far_end"
        fields = {}
        for column in GUESSED_FIELDS.get(target, ()):
            found, extra = _guess_field(column, layer["fields"])
            if found is not None:
                fields[column] = {"field": found, **extra} if extra else found
        if target == "pipes" and not layer["geometry"] and {"from_node", "to_node"} <= set(fields):
            entry["geometry"] = "from_to"
        if target == "sources":
            entry["constants"] = {"role": "pressure"}
        entry["fields"] = fields
        mapping["layers"].setdefault(target, []).append(entry)
    if not has_nodes:
        mapping["topology"] = {"nodes": "line_ends", "snap_tolerance_m": 0.5}
    if any(layer["crs"] is None and layer["bounds"] is not None for layer in layers):
        mapping["crs"] = "EPSG:????"
    mapping["design"] = {"design_outdoor_c": None, "design_supply_c": None, "design_return_c": None,
                         "soil_base_c": None, "soil_outdoor_factor": 0.0, "min_station_dp_bar": None}
    header = ["# heattwin import mapping — a starter written by `heattwin import --inspect`: every line is a guess;",
              "# check the sources and fields, fill the design conditions (null = remove the line to assume",
              "# the default), then: heattwin import PATH --mapping THIS_FILE --dry-run"]
    if skipped:
        header.append(f"# layers not guessed (map them by hand or leave them out): {', '.join(skipped)}")
    if "crs" in mapping:
        header.append("# some layers declare no CRS: put the EPSG code they are drawn in at crs:")
    body = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False, default_flow_style=False)
    return "\n".join(header) + "\n" + body
