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


def _pump(x: int, y: int, label: str) -> str:
    return (f'<circle cx="{x}" cy="{y}" r="18" fill="#fff" stroke="#000" stroke-width="2"/>'
            f'<path d="M{x - 10},{y + 8} L{x + 12},{y} L{x - 10},{y - 8} Z" fill="#000"/>'
            f'<text x="{x - 28}" y="{y + 38}" font-size="13">{label}</text>')


def _valve(x: int, y: int, label: str) -> str:
    return (f'<path d="M{x - 12},{y - 9} L{x + 12},{y + 9} L{x + 12},{y - 9} L{x - 12},{y + 9} Z" '
            f'fill="#fff" stroke="#000" stroke-width="2"/><text x="{x - 16}" y="{y - 16}" font-size="12">{label}</text>')


def station_schematic(station_id: str, name: str, heat_mw: float) -> str:
    """Primary side (left) through two plate heat exchangers to the secondary side (right)."""
    body = (
        '<text x="40" y="100" font-size="15" fill="#c0392b">一次侧 Primary</text>'
        '<text x="640" y="100" font-size="15" fill="#2471a3">二次侧 Secondary</text>'
        '<line x1="40" y1="150" x2="330" y2="150" stroke="#c0392b" stroke-width="4"/>'
        '<line x1="40" y1="330" x2="330" y2="330" stroke="#2471a3" stroke-width="4"/>'
        '<text x="40" y="140" font-size="12">供水 supply</text><text x="40" y="350" font-size="12">回水 return</text>'
        + _valve(90, 150, "电动调节阀 CV") + _valve(170, 150, "关断阀 V1") + _valve(170, 330, "关断阀 V2")
        + '<rect x="250" y="130" width="16" height="40" fill="#fff" stroke="#000"/>'
        '<text x="232" y="192" font-size="12">热量表 HM</text>'
        + ''.join(f'<rect x="{x}" y="120" width="60" height="240" fill="#fdebd0" stroke="#000" stroke-width="2"/>'
                  f'<text x="{x + 6}" y="245" font-size="13">板换 HX{k}</text>' for k, x in ((1, 340), (2, 430)))
        + '<line x1="490" y1="170" x2="760" y2="170" stroke="#e67e22" stroke-width="4"/>'
        '<line x1="490" y1="310" x2="760" y2="310" stroke="#5dade2" stroke-width="4"/>'
        + _pump(580, 310, "循环泵 CP1") + _pump(660, 310, "循环泵 CP2") + _pump(580, 400, "补水泵 MU")
        + '<line x1="580" y1="382" x2="580" y2="328" stroke="#5dade2" stroke-width="2"/>'
        '<text x="40" y="440" font-size="13">设计热负荷 design load: ' + f'{heat_mw:.2f} MW</text>')
    return _svg(800, 470, f"{station_id} {name} 工艺流程图", "Station schematic — heat exchangers, pumps, valves, meters", body)


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
