"""One broken rule at a time: the report names the layer, the feature id and the rule, and refuses."""

from __future__ import annotations

import pytest
from layer_files import feature, line, point, read, valid_layers


def _edit(layer: str, index: int, **props) -> dict:
    """The valid network's ``layer`` with feature ``index``'s properties updated."""
    features = valid_layers()[layer]
    features[index]["properties"].update(props)
    return {layer: features}


def _one(messages: list[str], *words: str) -> str:
    hits = [m for m in messages if all(w in m for w in words)]
    assert hits, f"no message with {words} in {messages}"
    return hits[0]


def test_the_fixture_is_valid(tmp_path):
    network, report = read(tmp_path)
    assert report.ok and not report.warnings and not report.snaps, report
    assert len(network.pipes) == 3 and network.pipes["from_node"].notna().all()


def test_missing_id_names_the_row(tmp_path):
    nodes = valid_layers()["nodes"]
    del nodes[3]["properties"]["id"]
    _, report = read(tmp_path, nodes=nodes)
    assert not report.ok
    _one(report.errors, "nodes row 4", "missing id")


def test_duplicate_id_within_a_layer(tmp_path):
    _, report = read(tmp_path, **_edit("pipes", 2, id="P-1"))
    assert not report.ok
    _one(report.errors, "pipes P-1", "duplicate id")


def test_duplicate_id_across_layers(tmp_path):
    sources = valid_layers()["sources"]
    sources.append(feature(point(2, 0), id="ST-1", name="Twin", node_id="N-3", role="pressure"))
    _, report = read(tmp_path, sources=sources)
    assert not report.ok
    message = _one(report.errors, "ST-1", "duplicate id")
    assert "sources" in message and "stations" in message


def test_wrong_id_prefix(tmp_path):
    _, report = read(tmp_path, **_edit("valves", 0, id="VALVE-1"))
    assert not report.ok
    _one(report.errors, "valves VALVE-1", "must start with 'V-'")


def test_wrong_geometry_type(tmp_path):
    stations = valid_layers()["stations"]
    stations[1]["geometry"] = line((1, -1), (1, -2))
    _, report = read(tmp_path, stations=stations)
    assert not report.ok
    _one(report.errors, "stations ST-2", "geometry is LineString", "Point")


def test_empty_and_invalid_geometry(tmp_path):
    communities = valid_layers()["communities"]
    bowtie = [[116.40, 39.90], [116.41, 39.91], [116.41, 39.90], [116.40, 39.91], [116.40, 39.90]]
    communities.append(feature({"type": "Polygon", "coordinates": [bowtie]}, id="C-2", name="Bow",
                               station_id="ST-1"))
    nodes = valid_layers()["nodes"]
    nodes.append(feature(None, id="N-9"))
    _, report = read(tmp_path, communities=communities, nodes=nodes)
    assert not report.ok
    _one(report.errors, "communities C-2", "invalid geometry", "Self-intersection")
    _one(report.errors, "nodes N-9", "geometry is empty")


def test_pipe_end_beyond_tolerance(tmp_path):
    pipes = valid_layers()["pipes"]
    pipes[1]["geometry"] = line((1, 0), (2, 0.1))  # about 11 m north of N-3
    _, report = read(tmp_path, pipes=pipes)
    assert not report.ok
    message = _one(report.errors, "pipes P-2", "end is", "N-3", "tolerance")
    distance = float(message.split(" is ")[1].split(" m ")[0])
    assert 10 < distance < 12


def test_end_within_tolerance_is_snapped_onto_the_node(tmp_path):
    pipes = valid_layers()["pipes"]
    pipes[1]["geometry"] = line((1, 0), (2, 0.01))  # about 1.1 m off N-3
    network, report = read(tmp_path, pipes=pipes)
    assert report.ok, report.errors
    message = _one(report.snaps, "pipes P-2", "end snapped", "N-3")
    assert 1.0 < float(message.split("snapped ")[1].split(" m")[0]) < 1.2
    pipe = network.pipes.set_index("id").loc["P-2"]
    node = network.nodes.set_index("id").loc["N-3", "geometry"]
    assert pipe["to_node"] == "N-3"
    assert pipe.geometry.coords[-1] == (node.x, node.y)


def test_both_ends_on_one_node(tmp_path):
    pipes = valid_layers()["pipes"]
    pipes.append(feature(line((2, 0), (2.5, 0.5), (2.000005, 0)), id="P-4", dn_mm=100))
    _, report = read(tmp_path, pipes=pipes)
    assert not report.ok
    _one(report.errors, "pipes P-4", "both ends", "N-3")


def test_dangling_pipe_is_a_warning_only(tmp_path):
    layers = valid_layers()
    layers["nodes"].append(feature(point(3, 0), id="N-5"))
    layers["pipes"].append(feature(line((2, 0), (3, 0)), id="P-4", dn_mm=100))
    _, report = read(tmp_path, nodes=layers["nodes"], pipes=layers["pipes"])
    assert report.ok, report.errors
    assert report.warnings == ["pipes P-4: dangling end at node N-5 (no other pipe, station or source there)"]


def _island(layers, n_nodes=2, station=False):
    for i in range(n_nodes):
        layers["nodes"].append(feature(point(10 + i, 10), id=f"N-{100 + i}"))
    for i in range(n_nodes - 1):
        layers["pipes"].append(feature(line((10 + i, 10), (11 + i, 10)), id=f"P-{100 + i}", dn_mm=100))
    if station:
        layers["stations"].append(feature(point(10, 10), id="ST-9", name="Far", node_id="N-100"))
    return layers


def test_island_without_source(tmp_path):
    layers = _island(valid_layers())
    _, report = read(tmp_path, nodes=layers["nodes"], pipes=layers["pipes"])
    assert not report.ok
    message = _one(report.errors, "island without a source")
    assert message.startswith("nodes N-100") and all(i in message for i in ("N-100", "N-101", "P-100"))


def test_long_island_list_is_truncated(tmp_path):
    layers = _island(valid_layers(), n_nodes=15)
    _, report = read(tmp_path, nodes=layers["nodes"], pipes=layers["pipes"])
    message = _one(report.errors, "island without a source")
    assert "29 elements" in message and "(+19 more)" in message


def test_station_not_reachable_from_a_source(tmp_path):
    layers = _island(valid_layers(), station=True)
    _, report = read(tmp_path, nodes=layers["nodes"], pipes=layers["pipes"], stations=layers["stations"])
    assert not report.ok
    _one(report.errors, "stations ST-9", "N-100", "not connected to any source")


@pytest.mark.parametrize(("dn", "rule"), [(2000, "15–1400"), (10, "15–1400"), ("big", "not a number")])
def test_dn_out_of_range(tmp_path, dn, rule):
    _, report = read(tmp_path, **_edit("pipes", 0, dn_mm=dn))
    assert not report.ok
    _one(report.errors, "pipes P-1", "field dn_mm", rule)


@pytest.mark.parametrize(("layer", "index", "props", "words"), [
    ("stations", 0, {"node_id": "N-99"}, ("stations ST-1", "field node_id", "N-99", "nodes")),
    ("sources", 0, {"node_id": "N-99"}, ("sources SRC-1", "field node_id", "N-99")),
    ("valves", 0, {"pipe_id": "P-99"}, ("valves V-1", "field pipe_id", "P-99", "pipes")),
    ("valves", 0, {"node_id": "N-4"}, ("valves V-1", "field node_id", "N-4", "not an end of pipe P-1")),
    ("sensors", 0, {"element_id": "ST-77"}, ("sensors S-1", "field element_id", "ST-77")),
    ("communities", 0, {"station_id": "ST-77"}, ("communities C-1", "field station_id", "ST-77", "stations")),
    ("sources", 0, {"role": "boiler"}, ("sources SRC-1", "field role", "boiler", "pressure")),
    ("sensors", 0, {"kind": "colour"}, ("sensors S-1", "field kind", "colour", "t_supply")),
    ("sources", 0, {"role": "fixed_head"}, ("sources field role", "exactly one", "'pressure'", "none")),
    ("stations", 1, {"name": None}, ("stations ST-2", "field name", "empty")),
])
def test_bad_reference_or_value(tmp_path, layer, index, props, words):
    _, report = read(tmp_path, **_edit(layer, index, **props))
    assert not report.ok
    _one(report.errors, *words)


def test_sensor_may_measure_a_household(tmp_path):
    _, report = read(tmp_path, **_edit("sensors", 0, element_id="H-1203", kind="room_t"))
    assert report.ok, report.errors


def test_every_problem_is_listed_not_just_the_first(tmp_path):
    layers = valid_layers()
    layers["pipes"][0]["properties"]["dn_mm"] = 5000
    layers["pipes"][1]["properties"]["dn_mm"] = 1
    layers["valves"][0]["properties"]["pipe_id"] = "P-99"
    _, report = read(tmp_path, pipes=layers["pipes"], valves=layers["valves"])
    assert len(report.errors) == 3, report.errors


def test_fixed_flow_source_needs_a_flow(tmp_path):
    sources = valid_layers()["sources"]
    sources.append(feature(point(1, -1), id="SRC-2", name="Peak", node_id="N-4", role="fixed_flow"))
    _, report = read(tmp_path, sources=sources)
    assert report.errors == ["sources SRC-2 field flow_t_h: role fixed_flow needs a flow in t/h above 0"]
    sources[1]["properties"]["flow_t_h"] = 800.0
    _, report = read(tmp_path, sources=sources)
    assert report.ok, report.errors
