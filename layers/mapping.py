"""Import mappings: how a utility's GIS layers and fields become ours (``heattwin import --mapping FILE``).

A mapping is YAML::

    crs: EPSG:25833              # for layers that declare no CRS (a file's own CRS wins)
    topology:                    # see ``Topology``
      nodes: line_ends           # derive nodes from line ends and junctions (default: a nodes layer)
      snap_tolerance_m: 0.5
      dn_min_mm: 20
    design:                      # the network's design conditions (``layers.design.DesignSettings``)
      design_outdoor_c: -14
      heating_curve: [[-14, 85, 55], [15, 60, 40]]   # outdoor, supply, return °C
    layers:
      pipes:
        - source: Vorlauf        # a layer (or file stem) of the input
          side: supply           # supply | return | both (default): separate layers are paired
          fields:
            id: ID               # the utility's id: ours is our prefix + it, the original kept as source_id
            dn_mm: {field: Typ, extract: 'KMR\\s*(\\d+)'}     # a number out of a type string
            length_m: Laenge
            install_year: {field: Baujahr, default: 1995}   # where empty: 1995, marked assumed
          constants: {material: steel}                      # where the file has no field (assumed)
      stations:
        source: Hausanschluss
        geometry: stub_far_end   # lines: a station at the far end; the line stays a pipe
        fields:
          design_heat_mw: {field: Leistung, unit: kW}      # converted to our column's unit (MW)

A field rule is a source field name or a dict with ``field``, ``unit`` (the source's unit; ours is in
the column name), ``scale`` (a factor), ``extract`` (a regular expression, first group), ``values``
(a lookup ``{theirs: ours}``), ``prefix`` (for ids and references), ``default`` (for empty values,
marked assumed). ``apply_layer`` turns one read layer into our layer's columns, reporting every
problem once per rule, with the features it hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml

from layers.report import Report, listing
from layers.schema import DN_MAX_MM, DN_MIN_MM, LAYERS, NUMERIC_COLUMNS, SNAP_TOLERANCE_M

__all__ = ["Mapping", "LayerRule", "FieldRule", "Topology", "MappingError", "load_mapping", "identity_mapping",
           "apply_layer", "convert_unit"]

ASSUMED = "assumed"          # per feature: the columns whose value is a default, not the utility's
SOURCE_ID = "source_id"      # the utility's own id, kept beside ours
REFERENCE_PREFIX = {"node_id": "N-", "pipe_id": "P-", "station_id": "ST-"}
GEOMETRY_RULES = ("as_is", "stub_far_end", "from_to")
SIDES = ("both", "supply", "return")

# Units a source may be in, per quantity: factor and offset to the quantity's base unit.
_UNITS = {
    "length": {"mm": 1e-3, "cm": 1e-2, "dm": 0.1, "m": 1.0, "km": 1e3, "in": 0.0254, "inch": 0.0254},
    "power": {"w": 1.0, "kw": 1e3, "mw": 1e6, "gw": 1e9},
    "pressure": {"pa": 1.0, "hpa": 1e2, "kpa": 1e3, "mpa": 1e6, "bar": 1e5, "mbar": 1e2, "mws": 9806.65,
                 "mh2o": 9806.65},
    "flow": {"t/h": 1.0, "kg/s": 3.6, "kg/h": 1e-3, "m3/h": 1.0, "m³/h": 1.0, "l/s": 3.6},
    "area": {"m2": 1.0, "m²": 1.0, "ha": 1e4, "km2": 1e6, "km²": 1e6},
    "temperature": {"c": (1.0, 0.0), "°c": (1.0, 0.0), "degc": (1.0, 0.0), "k": (1.0, -273.15),
                    "f": (5.0 / 9.0, -32.0 * 5.0 / 9.0), "°f": (5.0 / 9.0, -32.0 * 5.0 / 9.0)},
}
# Our column's unit from its name's ending.
_SUFFIX_UNIT = (("_t_h", "flow", "t/h"), ("_m2", "area", "m2"), ("_mm", "length", "mm"), ("_mw", "power", "mw"),
                ("_bar", "pressure", "bar"), ("_c", "temperature", "c"), ("_m", "length", "m"))


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the key."""


def _target_unit(column: str) -> tuple[str, str] | None:
    return next(((q, u) for suffix, q, u in _SUFFIX_UNIT if column.endswith(suffix)), None)


def convert_unit(values: pd.Series, unit: str, column: str) -> pd.Series:
    """``values`` in ``unit`` as ``column``'s unit (kW → MW for ``design_heat_mw``); ``ValueError``
    when the unit does not fit the column."""
    target = _target_unit(column)
    if target is None:
        raise ValueError(f"column {column} has no unit to convert to")
    quantity, ours = target
    table = _UNITS[quantity]
    key = str(unit).strip().lower().replace(" ", "")
    if key not in table:
        raise ValueError(f"unit {unit!r} is not a {quantity} unit ({', '.join(table)})")
    if quantity == "temperature":
        (fa, oa), (fb, ob) = table[key], table[ours]
        return (values * fa + oa - ob) / fb
    return values * (table[key] / table[ours])


@dataclass(frozen=True)
class FieldRule:
    column: str
    field: str | None = None
    unit: str | None = None
    scale: float | None = None
    extract: str | None = None
    values: dict | None = None
    prefix: str | None = None
    default: object = None

    @classmethod
    def parse(cls, column: str, spec, where: str) -> FieldRule:
        if isinstance(spec, str):
            return cls(column, field=spec)
        if not isinstance(spec, dict):
            raise MappingError(f"{where} field {column}: give a source field name or a dict, not {spec!r}")
        unknown = set(spec) - {"field", "unit", "scale", "extract", "values", "prefix", "default"}
        if unknown:
            raise MappingError(f"{where} field {column}: unknown key(s) {', '.join(sorted(unknown))}")
        rule = cls(column, **{k: spec[k] for k in spec})
        if rule.field is None and rule.default is None:
            raise MappingError(f"{where} field {column}: give 'field' (a source field) or 'default'")
        if rule.extract is not None:
            try:
                if re.compile(rule.extract).groups < 1:
                    raise MappingError(f"{where} field {column}: extract {rule.extract!r} needs a (group)")
            except re.error as exc:
                raise MappingError(f"{where} field {column}: extract {rule.extract!r} is not a regular "
                                   f"expression ({exc})") from exc
        if rule.unit is not None:
            try:
                convert_unit(pd.Series([1.0]), rule.unit, column)
            except ValueError as exc:
                raise MappingError(f"{where} field {column}: {exc}") from exc
        return rule


@dataclass(frozen=True)
class LayerRule:
    target: str
    source: str
    side: str = "both"
    geometry: str = "as_is"
    fields: dict = field(default_factory=dict)      # our column -> FieldRule
    constants: dict = field(default_factory=dict)   # our column -> value (assumed)
    keep_fields: bool = False                        # keep unmapped source fields (the identity mapping)
    crs: str | None = None
    x: str | None = None
    y: str | None = None
    wkt: str | None = None
    keep_stub_pipes: bool = True

    @property
    def where(self) -> str:
        return f"{self.target} (source {self.source})"


@dataclass(frozen=True)
class Topology:
    """How the pipe network is built from the lines.

    nodes : ``layer`` (a nodes layer; pipe ends snap onto it) or ``line_ends`` (nodes derived from
        line ends and junctions: ends within the snap tolerance become one node, an end on another
        line's interior splits that line).
    snap_tolerance_m : pipe ends this close to a node (or to each other) join it.
    attach_tolerance_m : stations and sources without a node id join the nearest node this close.
    dn_min_mm, dn_max_mm : the DN range accepted.
    pair_tolerance_m : a supply and a return line whose every point is this close pair into a trench.
    length_tolerance : a supplied ``length_m`` off the drawn length by more than this share is reported.
    """

    nodes: str = "layer"
    snap_tolerance_m: float = SNAP_TOLERANCE_M
    attach_tolerance_m: float = 5.0
    dn_min_mm: float = DN_MIN_MM
    dn_max_mm: float = DN_MAX_MM
    pair_tolerance_m: float = 5.0
    length_tolerance: float = 0.2

    @classmethod
    def parse(cls, spec, where: str) -> Topology:
        spec = dict(spec or {})
        known = set(cls.__dataclass_fields__)
        unknown = set(spec) - known
        if unknown:
            raise MappingError(f"{where} topology: unknown key(s) {', '.join(sorted(unknown))}; "
                               f"known: {', '.join(sorted(known))}")
        if spec.get("nodes", "layer") not in ("layer", "line_ends"):
            raise MappingError(f"{where} topology nodes: {spec['nodes']!r} is not 'layer' or 'line_ends'")
        for key, value in spec.items():
            if key != "nodes" and not (isinstance(value, int | float) and value >= 0):
                raise MappingError(f"{where} topology {key}: {value!r} is not a number ≥ 0")
        return cls(**spec)


@dataclass(frozen=True)
class Mapping:
    layers: tuple[LayerRule, ...]
    topology: Topology = Topology()
    design: dict = field(default_factory=dict)
    crs: str | None = None
    prefix_ids: bool = True
    path: Path | None = None
    identity: bool = False

    def rules(self, target: str) -> list[LayerRule]:
        return [r for r in self.layers if r.target == target]


def identity_mapping(names, topology: Topology | None = None) -> Mapping:
    """Our own layers as they are: each of ``LAYERS`` from the input layer of its name."""
    rules = tuple(LayerRule(n, n, keep_fields=True) for n in LAYERS if n in names)
    return Mapping(rules, topology or Topology(), prefix_ids=False, identity=True)


def load_mapping(path) -> Mapping:
    """The mapping in the YAML file at ``path``; ``MappingError`` names the file and the key at fault."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read the mapping ({exc})") from exc
    return parse_mapping(spec, str(path), path)


def parse_mapping(spec: dict, where: str, path: Path | None = None) -> Mapping:
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: a mapping is a YAML dict with 'layers'")
    unknown = set(spec) - {"crs", "topology", "design", "layers", "prefix_ids"}
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: crs, topology, design, "
                           "layers, prefix_ids")
    layers = spec.get("layers") or {}
    if not isinstance(layers, dict) or not layers:
        raise MappingError(f"{where} layers: map at least the pipes, e.g. layers: {{pipes: {{source: Leitungen}}}}")
    rules = []
    for target, entries in layers.items():
        if target not in LAYERS:
            raise MappingError(f"{where} layers {target}: not one of our layers ({', '.join(LAYERS)})")
        for i, entry in enumerate(entries if isinstance(entries, list) else [entries]):
            rules.append(_layer_rule(target, entry, f"{where} layers {target}[{i}]" if isinstance(entries, list)
                                     else f"{where} layers {target}"))
    design = spec.get("design") or {}
    if not isinstance(design, dict):
        raise MappingError(f"{where} design: give the settings as a dict")
    return Mapping(tuple(rules), Topology.parse(spec.get("topology"), where), dict(design), spec.get("crs"),
                   bool(spec.get("prefix_ids", True)), path)


def _layer_rule(target: str, entry, where: str) -> LayerRule:
    if isinstance(entry, str):
        entry = {"source": entry}
    if not isinstance(entry, dict) or "source" not in entry:
        raise MappingError(f"{where}: give 'source', the input layer to read")
    allowed = {"source", "side", "geometry", "fields", "constants", "crs", "x", "y", "wkt", "keep_stub_pipes"}
    unknown = set(entry) - allowed
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(allowed))}")
    spec = LAYERS[target]
    columns = {*spec.required, *spec.optional, "length_m", SOURCE_ID, "from_node", "to_node"}
    if target == "stations" and entry.get("geometry") == "stub_far_end":
        columns.add("dn_mm")  # the stub pipe's DN
    fields_ = entry.get("fields") or {}
    constants = entry.get("constants") or {}
    for column in [*fields_, *constants]:
        if column not in columns:
            raise MappingError(f"{where} field {column}: not a column of our layer {target} "
                               f"({', '.join(sorted(columns))})")
    side = entry.get("side", "both")
    if side not in SIDES or (side != "both" and target != "pipes"):
        raise MappingError(f"{where} side: {side!r}; pipes take one of {', '.join(SIDES)}")
    geometry = entry.get("geometry", "as_is")
    if geometry not in GEOMETRY_RULES or (geometry == "stub_far_end" and target != "stations") \
            or (geometry == "from_to" and target != "pipes"):
        raise MappingError(f"{where} geometry: {geometry!r}; stations may use stub_far_end, pipes from_to "
                           "(lines drawn between their from_node and to_node)")
    if geometry == "from_to" and not {"from_node", "to_node"} <= set(fields_):
        raise MappingError(f"{where} geometry from_to: map the fields from_node and to_node")
    return LayerRule(target, str(entry["source"]), side, geometry,
                     {c: FieldRule.parse(c, s, where) for c, s in fields_.items()}, dict(constants),
                     crs=entry.get("crs"), x=entry.get("x"), y=entry.get("y"), wkt=entry.get("wkt"),
                     keep_stub_pipes=bool(entry.get("keep_stub_pipes", True)))


# -- applying a rule to a read layer ---------------------------------------------------------------

def _as_text(values: pd.Series) -> pd.Series:
    def text(v):
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    out = values.astype(object).where(values.notna(), None)
    present = out.notna()
    out[present] = out[present].map(text)
    return out.where(out.ne(""), None)


def parse_numbers(values: pd.Series) -> pd.Series:
    """Numbers, also from text ('107.1', '1,5' with a decimal comma); what is no number → NaN."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    text = _as_text(values)
    text = text.where(text.isna(), text.astype(str).str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce")


def _labels(frame: gpd.GeoDataFrame, ids: pd.Series | None) -> pd.Series:
    rows = pd.Series(np.arange(1, len(frame) + 1), index=frame.index).astype(str).radd("row ")
    return rows if ids is None else ids.where(ids.notna(), rows)


def _apply_field(rule: FieldRule, frame, layer: LayerRule, labels, report: Report, prefix_ids: bool):
    """Our column's values from ``rule`` and where they were assumed (default used)."""
    column = rule.column
    if rule.field is not None and rule.field not in frame:
        report.errors.append(f"{layer.where}: the layer has no field '{rule.field}' for {column}; its fields: "
                             f"{', '.join(map(str, frame.columns.drop('geometry')))}")
        return None, None
    raw = frame[rule.field] if rule.field is not None else pd.Series(None, index=frame.index, dtype=object)
    values = raw
    given = raw.notna() & _as_text(raw).notna()
    if rule.extract is not None:
        values = _as_text(raw).str.extract(rule.extract, expand=False)
        bad = given & values.isna()
        if bad.any():
            report.errors.append(f"{layer.where} field {rule.field}: {_sample(raw[bad])} has no match for "
                                 f"/{rule.extract}/ ({column}) in {bad.sum()} features: {listing(labels[bad])}")
    if rule.values is not None:
        lookup = {str(k): v for k, v in rule.values.items()}
        text = _as_text(values)
        mapped = text.map(lambda v: lookup.get(v) if v is not None else None)
        bad = text.notna() & mapped.isna()
        if bad.any():
            report.errors.append(f"{layer.where} field {rule.field}: {_sample(text[bad])} is not in the "
                                 f"mapping's values for {column} ({', '.join(lookup)}) in {bad.sum()} features: "
                                 f"{listing(labels[bad])}")
        values = mapped
    numeric = column in NUMERIC_COLUMNS or rule.unit is not None or rule.scale is not None
    if numeric:
        number = parse_numbers(values)
        bad = values.notna() & _as_text(values).notna() & number.isna()
        if bad.any():
            report.errors.append(f"{layer.where} field {rule.field or column}: {_sample(values[bad])} is not a "
                                 f"number ({column}) in {bad.sum()} features: {listing(labels[bad])}")
        if rule.unit is not None:
            number = convert_unit(number, rule.unit, column)
        if rule.scale is not None:
            number = number * float(rule.scale)
        values = number
    elif column == "id" or column in REFERENCE_PREFIX or column in ("element_id", "from_node", "to_node"):
        values = _as_text(values)
        prefix = rule.prefix if rule.prefix is not None else (
            (LAYERS[layer.target].id_prefix if column == "id" else
             REFERENCE_PREFIX.get(column, "N-" if column in ("from_node", "to_node") else None))
            if prefix_ids else None)
        if prefix:
            has = values.notna()
            values = values.where(~has | values.fillna("").str.startswith(prefix), prefix + values.fillna(""))
    assumed = pd.Series(False, index=frame.index)
    if rule.default is not None:
        empty = pd.isna(values) if numeric else _as_text(pd.Series(values, index=frame.index)).isna()
        values = pd.Series(values, index=frame.index).where(~empty, rule.default)
        assumed = empty
    return pd.Series(values, index=frame.index), assumed


def _sample(values: pd.Series) -> str:
    shown = values.drop_duplicates().head(3).tolist()
    return ", ".join(repr(v) for v in shown) + (" …" if values.nunique() > 3 else "")


def apply_layer(layer: LayerRule, frame: gpd.GeoDataFrame, report: Report, *, prefix_ids: bool = True,
                row_offset: int = 0) -> gpd.GeoDataFrame:
    """``frame`` (a read source layer) as our layer's columns, per ``layer``'s rules.

    Adds ``source_id`` (the utility's id, when ids get our prefix), ``assumed`` (the columns set from a
    default or a constant, comma-separated) and, for pipes, ``side``. The CRS stays the source's.
    """
    if layer.keep_fields:
        out = frame.copy()
        out[ASSUMED] = out[ASSUMED] if ASSUMED in out else None
        return out
    out = gpd.GeoDataFrame(index=frame.index, geometry=frame.geometry.values, crs=frame.crs)
    id_rule = layer.fields.get("id")
    assumed = pd.DataFrame(index=frame.index)
    if id_rule is not None and id_rule.field is not None and id_rule.field in frame:
        original = _as_text(frame[id_rule.field])
        labels = _labels(frame, original)
    else:
        original, labels = None, _labels(frame, None)
    missing = []
    for column, rule in layer.fields.items():
        values, was_assumed = _apply_field(rule, frame, layer, labels, report, prefix_ids)
        if values is None:
            missing.append(column)  # reported once, by the rule
        else:
            column = "source_length_m" if column == "length_m" else column  # ours is the drawn length
            out[column] = values
            assumed[column] = was_assumed
    if "id" not in layer.fields and LAYERS[layer.target].id_prefix is not None:
        # No id in the source: one made from the source layer and the feature's position.
        out["id"] = [f"{LAYERS[layer.target].id_prefix}{layer.source}-{i + 1 + row_offset}" for i in range(len(frame))]
    if "name" in LAYERS[layer.target].required and "name" not in out and "name" not in layer.constants:
        out["name"] = out["id"]  # a name to show: the id, until the utility's names are mapped
    if original is not None and prefix_ids:
        out[SOURCE_ID] = original
    for column, value in layer.constants.items():
        out[column] = value
        assumed[column] = True
    if layer.target == "pipes":
        out["side"] = layer.side
    names = assumed.columns.to_numpy()
    flags = assumed.to_numpy(dtype=bool) if len(names) else np.zeros((len(frame), 0), dtype=bool)
    out[ASSUMED] = [",".join(names[row]) or None for row in flags]
    out.attrs["unmapped"] = missing
    return out


def merge_assumed(*parts) -> pd.Series:
    """Comma-separated column lists joined per feature (None when none)."""
    def join(values):
        names = sorted({n for v in values if isinstance(v, str) and v for n in v.split(",")})
        return ",".join(names) or None
    return pd.Series([join(v) for v in zip(*parts, strict=True)], index=parts[0].index)
