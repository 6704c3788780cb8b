"""The demo city's drawings are legible schematics: labelled in Chinese and English, every
station's with its own id, both sides of the exchangers and the pumps shown."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd

SVG = "{http://www.w3.org/2000/svg}"


def _texts(path) -> str:
    return " ".join(t.text or "" for t in ET.parse(path).getroot().iter(f"{SVG}text"))


def test_station_schematic_names_the_station_and_its_parts(demo_city_dir, drawings_dir):
    drawing = pd.read_csv(demo_city_dir / "records" / "drawing.csv")
    station = drawing[drawing["kind"] == "station_schematic"].iloc[0]
    root = ET.parse(drawings_dir / station["path"]).getroot()
    assert root.get("viewBox") and len(list(root.iter(f"{SVG}polyline"))) >= 8
    texts = _texts(drawings_dir / station["path"])
    for label in (station["asset_id"], "一次侧", "Primary", "二次侧", "Secondary", "HX1", "CP1", "CP2",
                  "补水泵", "热量表", "MW"):
        assert label in texts, label


def test_valve_and_pipe_drawings_state_their_diameter(demo_city_dir, drawings_dir):
    drawing = pd.read_csv(demo_city_dir / "records" / "drawing.csv")
    for kind in ("valve_chamber", "pipe_section"):
        row = drawing[drawing["kind"] == kind].iloc[0]
        assert "DN" in _texts(drawings_dir / row["path"]) and row["title"]
