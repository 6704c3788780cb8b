"""The street grid the network is laid along, the river it crosses at bridges, and the basemap.

Everything here is in UTM 50N metres (EPSG:32650) around Weifang's centre; ``gis.py`` converts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

CENTRE_X_M, CENTRE_Y_M = 688_200.0, 4_064_440.0   # Weifang, 119.107 E 36.707 N
BLOCK_M = 300.0            # local street spacing
ARTERIAL_EVERY = 4         # every 4th street is an arterial (~1.1 km)
RIVER_HALF_WIDTH_M = 35.0
BRIDGE_EVERY = 6           # grid columns between bridges over the river

STREET_NAMES = ("东风街", "胜利街", "健康街", "福寿街", "四平路", "北海路", "潍州路", "新华路", "和平路",
                "樱前街", "向阳路", "虞河路", "金马路", "文化路", "友爱街", "玉清街", "清平路", "卧龙街")


@dataclass
class Grid:
    nx: int
    ny: int
    xy: np.ndarray          # (n, 2) node coordinates, index = j * nx + i
    edges: np.ndarray       # (m, 2) node index pairs of street edges the network may use
    river: shapely.Geometry

    def node(self, i, j):
        return np.asarray(j) * self.nx + np.asarray(i)


def grid_size(stations: int) -> tuple[int, int]:
    """Intersections enough for the stations (about three per station), a slightly wide district."""
    side = np.sqrt(3.0 * stations)
    return int(np.ceil(side * 1.1)), int(np.ceil(side / 1.1))


def _river_line(nx: int, ny: int, rng: np.random.Generator) -> shapely.LineString:
    """A meandering river crossing the district west to east, between two street rows."""
    x = np.linspace(-BLOCK_M, nx * BLOCK_M, 60)
    base = (ny // 2 + 0.5) * BLOCK_M
    phase = rng.uniform(0, 2 * np.pi)
    y = base + 0.25 * BLOCK_M * np.sin(x / (3.1 * BLOCK_M) + phase)
    return shapely.LineString(np.column_stack([x, y]))


def make_grid(stations: int, rng: np.random.Generator) -> Grid:
    nx, ny = grid_size(stations)
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny))
    xy = np.column_stack([ii.ravel() * BLOCK_M, jj.ravel() * BLOCK_M]).astype(float)
    # Street irregularity: real grids are not perfect; jitter nodes a little.
    xy += rng.normal(0.0, 12.0, xy.shape)
    index = (jj * nx + ii)
    horizontal = np.column_stack([index[:, :-1].ravel(), index[:, 1:].ravel()])
    vertical = np.column_stack([index[:-1, :].ravel(), index[1:, :].ravel()])
    edges = np.vstack([horizontal, vertical])
    river = _river_line(nx, ny, rng)
    lines = shapely.linestrings(np.stack([xy[edges[:, 0]], xy[edges[:, 1]]], axis=1))
    crosses = shapely.intersects(lines, river)
    column = np.minimum(edges[:, 0] % nx, edges[:, 1] % nx)
    bridge = crosses & (column % BRIDGE_EVERY == BRIDGE_EVERY // 2)
    edges = edges[~crosses | bridge]
    return Grid(nx, ny, xy, edges, shapely.buffer(river, RIVER_HALF_WIDTH_M))


def basemap(grid: Grid, offset_m: np.ndarray) -> list[dict]:
    """Streets (whole rows and columns), the river and a railway, for the offline map.

    ``offset_m`` is what was subtracted from the grid's coordinates to centre it on the city.
    """
    features = []
    x_max, y_max = (grid.nx - 1) * BLOCK_M, (grid.ny - 1) * BLOCK_M
    for j in range(grid.ny):
        kind = "arterial" if j % ARTERIAL_EVERY == 0 else "street"
        features.append({"kind": kind, "name": STREET_NAMES[j % len(STREET_NAMES)],
                         "geometry": shapely.LineString([(-60, j * BLOCK_M), (x_max + 60, j * BLOCK_M)])})
    for i in range(grid.nx):
        kind = "arterial" if i % ARTERIAL_EVERY == 0 else "street"
        name = STREET_NAMES[(i + 7) % len(STREET_NAMES)].replace("街", "路")
        features.append({"kind": kind, "name": name,
                         "geometry": shapely.LineString([(i * BLOCK_M, -60), (i * BLOCK_M, y_max + 60)])})
    rail_y = (grid.ny - 0.5) * BLOCK_M
    features.append({"kind": "railway", "name": "胶济铁路",
                     "geometry": shapely.LineString([(-200, rail_y - 300), (x_max + 200, rail_y + 200)])})
    for feature in features:
        feature["geometry"] = shapely.transform(feature["geometry"], lambda xy: xy - offset_m)
    features.append({"kind": "river", "name": "白浪河", "geometry": grid.river})
    return features
