"""Repair drawings as SVG: a station schematic, a valve-chamber drawing and a pipe cross-section."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

_HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
         'font-family="Noto Sans CJK SC, sans-serif"><rect width="{w}" height="{h}" fill="#ffffff"/>')
_TITLE = ('<text x="20" y="34" font-size="22" font-weight="bold">{title}</text>'
          '<text x="20" y="58" font-size="14" fill="#555">{subtitle}</text>')


def _svg(w: int, h: int, title: str, subtitle: str, body: str) -> str:
    return (_HEAD.format(w=w, h=h) + _TITLE.format(title=escape(title), subtitle=escape(subtitle)) + body
            + f'<rect x="1" y="1" width="{w - 2}" height="{h - 2}" fill="none" stroke="#333"/></svg>')


def _pump(x: int, y: int, label: str, label_dy: int = 38) -> str:
    return (f'<circle cx="{x}" cy="{y}" r="18" fill="#fff" stroke="#000" stroke-width="2"/>'
            f'<path d="M{x - 10},{y + 8} L{x + 12},{y} L{x - 10},{y - 8} Z" fill="#000"/>'
            f'<text x="{x}" y="{y + label_dy}" font-size="13" text-anchor="middle">{label}</text>')


def _valve(x: int, y: int, label: str) -> str:
    return (f'<path d="M{x - 12},{y - 9} L{x + 12},{y + 9} L{x + 12},{y - 9} L{x - 12},{y + 9} Z" '
            f'fill="#fff" stroke="#000" stroke-width="2"/><text x="{x - 16}" y="{y - 16}" font-size="12">{label}</text>')


def _pipe(points, colour: str, width: int = 4) -> str:
    path = " ".join(f"{x},{y}" for x, y in points)
    return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{width}"/>'


def _tee(x: int, y: int) -> str:
    """A junction dot: lines crossing without one do not connect (P&ID convention)."""
    return f'<circle cx="{x}" cy="{y}" r="5" fill="#000"/>'


def _gauge(x: int, y: int, letter: str, label: str) -> str:
    """A local instrument (T thermometer, P pressure gauge) on a stem above the line."""
    return (f'<line x1="{x}" y1="{y}" x2="{x}" y2="{y - 22}" stroke="#000"/>'
            f'<circle cx="{x}" cy="{y - 34}" r="12" fill="#fff" stroke="#000" stroke-width="1.5"/>'
            f'<text x="{x}" y="{y - 29}" font-size="12" text-anchor="middle">{letter}</text>'
            f'<text x="{x}" y="{y - 52}" font-size="11" text-anchor="middle">{label}</text>')


def _meter(x: int, y: int, label: str) -> str:
    return (f'<rect x="{x - 14}" y="{y - 12}" width="28" height="24" fill="#fff" stroke="#000" stroke-width="2"/>'
            f'<text x="{x}" y="{y + 5}" font-size="11" text-anchor="middle">M</text>'
            f'<text x="{x}" y="{y + 30}" font-size="11" text-anchor="middle">{label}</text>')


def _exchanger(x: int, y: int, label: str) -> str:
    """A plate heat exchanger: primary ports on its left side, secondary ports on its right."""
    return (f'<rect x="{x}" y="{y}" width="60" height="80" fill="#fdebd0" stroke="#000" stroke-width="2"/>'
            + "".join(f'<line x1="{x + dx}" y1="{y + 6}" x2="{x + dx}" y2="{y + 74}" stroke="#b9770e"/>'
                      for dx in (12, 24, 36, 48))
            + f'<text x="{x + 30}" y="{y + 98}" font-size="12" text-anchor="middle">{label}</text>')


_RED, _BLUE, _ORANGE, _CYAN = "#c0392b", "#2471a3", "#e67e22", "#5dade2"


def _primary_side() -> str:
    """Supply in along the top, through valve, meter and control valve to both exchangers in
    parallel; return out along the bottom."""
    return (_pipe([(30, 110), (320, 110), (320, 290), (360, 290)], _RED) + _pipe([(320, 150), (360, 150)], _RED)
            + _pipe([(30, 440), (290, 440), (290, 190), (360, 190)], _BLUE)
            + _pipe([(290, 330), (360, 330)], _BLUE) + _tee(320, 150) + _tee(290, 330)
            + _valve(70, 110, "关断阀 V1") + _meter(130, 110, "热量表 HM") + _valve(200, 110, "调节阀 CV")
            + _gauge(250, 110, "T", "") + _gauge(280, 110, "P", "")
            + _valve(70, 440, "关断阀 V2") + _gauge(140, 440, "T", "") + _gauge(170, 440, "P", "")
            + _arrow(30, 110, _RED, "→") + _arrow(30, 440, _BLUE, "←"))


def _secondary_side() -> str:
    """Supply out to the buildings along the top; return back through two circulation pumps in
    parallel, with make-up water pumped in from the softened-water tank."""
    return (_pipe([(420, 150), (470, 150), (470, 110), (770, 110)], _ORANGE)
            + _pipe([(420, 290), (470, 290), (470, 150)], _ORANGE) + _tee(470, 150)
            + _pipe([(770, 400), (500, 400), (500, 190), (420, 190)], _CYAN)
            + _pipe([(500, 330), (420, 330)], _CYAN) + _tee(500, 330)
            + _pipe([(680, 400), (680, 450), (560, 450), (560, 400)], _CYAN) + _tee(680, 400) + _tee(560, 400)
            + _pump(620, 400, "循环泵 CP1", -26) + _pump(620, 450, "循环泵 CP2")
            + _pipe([(730, 400), (730, 360)], _CYAN, 2) + _tee(730, 400) + _pump(730, 340, "")
            + '<rect x="700" y="250" width="60" height="50" fill="#eaf2f8" stroke="#000"/>'
            + '<line x1="730" y1="300" x2="730" y2="322" stroke="#5dade2" stroke-width="2"/>'
            + '<text x="730" y="244" font-size="11" text-anchor="middle">补水箱 tank</text>'
            + '<text x="706" y="345" font-size="12" text-anchor="end">补水泵 MU</text>'
            + _gauge(530, 110, "T", "") + _gauge(560, 110, "P", "")
            + _arrow(770, 110, _ORANGE, "→") + _arrow(770, 400, _CYAN, "←"))


def _arrow(x: int, y: int, colour: str, arrow: str) -> str:
    return f'<text x="{x}" y="{y - 8}" font-size="16" fill="{colour}" text-anchor="middle">{arrow}</text>'


_LEGEND = (("一次供水 primary supply", _RED), ("一次回水 primary return", _BLUE),
           ("二次供水 secondary supply", _ORANGE), ("二次回水 secondary return", _CYAN))


def _legend(y: int) -> str:
    return "".join(f'<line x1="{30 + 190 * k}" y1="{y}" x2="{60 + 190 * k}" y2="{y}" stroke="{colour}" '
                   f'stroke-width="4"/><text x="{66 + 190 * k}" y="{y + 4}" font-size="12">{label}</text>'
                   for k, (label, colour) in enumerate(_LEGEND))


def station_schematic(station_id: str, name: str, heat_mw: float) -> str:
    """Primary side (left) through two plate heat exchangers in parallel to the secondary side (right)."""
    body = ('<text x="30" y="86" font-size="15" font-weight="bold" fill="#c0392b">一次侧 Primary side '
            '(热网 network)</text>'
            '<text x="770" y="86" font-size="15" font-weight="bold" fill="#2471a3" text-anchor="end">'
            '二次侧 Secondary side (用户 buildings)</text>'
            '<line x1="390" y1="96" x2="390" y2="530" stroke="#999" stroke-dasharray="5,5"/>'
            '<g transform="translate(0,30)">' + _primary_side() + _secondary_side()
            + _exchanger(360, 120, "板换 HX1") + _exchanger(360, 260, "板换 HX2") + '</g>'
            + _legend(548)
            + f'<text x="30" y="576" font-size="13">设计热负荷 design load: {heat_mw:.2f} MW · '
            '一次侧 primary 110/50 °C · 二次侧 secondary 60/45 °C</text>'
            '<text x="30" y="598" font-size="13">M 热量表 heat meter · T 温度计 thermometer · '
            'P 压力表 pressure gauge</text>')
    return _svg(800, 616, f"{station_id} {name} 工艺流程图",
                "Station schematic — heat exchangers, pumps, valves, meters", body)


def valve_chamber(valve_id: str, chamber: str, dn_mm: int) -> str:
    body = ('<rect x="150" y="110" width="400" height="250" fill="#eaeded" stroke="#000" stroke-width="3"/>'
            '<rect x="300" y="80" width="100" height="30" fill="#aab7b8" stroke="#000"/>'
            '<text x="312" y="100" font-size="12">井盖 cover</text>'
            '<line x1="60" y1="200" x2="640" y2="200" stroke="#c0392b" stroke-width="8"/>'
            '<line x1="60" y1="290" x2="640" y2="290" stroke="#2471a3" stroke-width="8"/>'
            + _valve(350, 200, f"供水阀 DN{dn_mm}") + _valve(350, 290, f"回水阀 DN{dn_mm}")
            + '<text x="160" y="385" font-size="13">爬梯 ladder · 排水坑 sump · 尺寸 2.4 m × 1.8 m × 2.0 m</text>')
    return _svg(700, 420, f"{valve_id} {chamber} 阀门井大样图", "Valve chamber — supply and return section valves", body)


def pipe_section(dn_mm: int) -> str:
    radius_casing = 40 + dn_mm / 12
    radius_steel = radius_casing * 0.7
    body = "".join(
        f'<circle cx="{cx}" cy="230" r="{radius_casing:.0f}" fill="#f7dc6f" stroke="#000"/>'
        f'<circle cx="{cx}" cy="230" r="{radius_steel:.0f}" fill="#fff" stroke="#000" stroke-width="3"/>'
        f'<text x="{cx - 30}" y="{230 + radius_casing + 24:.0f}" font-size="13">{label}</text>'
        for cx, label in ((230, "供水 supply"), (500, "回水 return")))
    body += ('<line x1="40" y1="100" x2="690" y2="100" stroke="#7e5109" stroke-dasharray="6,4"/>'
             '<text x="44" y="92" font-size="12">地面 ground · 覆土 cover ≥ 1.0 m</text>'
             f'<text x="40" y="410" font-size="13">钢管 steel DN{dn_mm} · 聚氨酯保温 PUR · 高密度聚乙烯外护管 HDPE casing</text>')
    return _svg(730, 430, f"DN{dn_mm} 直埋管道横断面", "Pre-insulated pipe cross-section", body)


def write_drawings(folder: Path, net, dn_classes) -> None:
    """Write every drawing under ``folder``: one per station and valve, one per pipe DN class."""
    folder.mkdir(parents=True, exist_ok=True)
    for row in net.stations.itertuples():
        (folder / f"{row.id}.svg").write_text(station_schematic(row.id, row.name, row.design_heat_mw), "utf-8")
    for row in net.valves.itertuples():
        (folder / f"{row.id}.svg").write_text(valve_chamber(row.id, row.chamber_id, row.dn_mm), "utf-8")
    for dn in dn_classes:
        (folder / f"pipe-DN{dn}.svg").write_text(pipe_section(int(dn)), "utf-8")
