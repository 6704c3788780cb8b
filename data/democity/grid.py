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
# Weifang's plain falls gently from the southern hills towards Laizhou Bay (~2 m per km northwards).
GROUND_CENTRE_M = 35.0
GROUND_SLOPE_M_PER_M = 0.002
GROUND_RANGE_M = (8.0, 90.0)

STREET_NAMES = ("东风街", "胜利街", "健康街", "福寿街", "四平路", "北海路", "潍州路", "新华路", "和平路",
                "樱前街", "向阳路", "虞河路", "金马路", "文化路", "友爱街", "玉清街", "清平路", "卧龙街")


@dataclass
class Grid:
    nx: int
    ny: int
    xy: np.ndarray          # (n, 2) node coordinates, index = j * nx + i
    edges: np.ndarray       # (m, 2) node index pairs of street edges the network may use
    river: shapely.Geometry
    bridge_columns: np.ndarray  # grid columns whose street crosses the river on a bridge

    def node(self, i, j):
        return np.asarray(j) * self.nx + np.asarray(i)


def grid_size(stations: int) -> tuple[int, int]:
    """Intersections enough for the stations (about three per station), a slightly wide district."""
    side = np.sqrt(3.0 * stations)
    return int(np.ceil(side * 1.1)), int(np.ceil(side / 1.1))


def river_block_row(ny: int) -> int:
    """The row of blocks the river runs through (between street rows ``j`` and ``j + 1``)."""
    return ny // 2


def _river_line(nx: int, ny: int, rng: np.random.Generator) -> shapely.LineString:
    """A meandering river crossing the district west to east, between two street rows."""
    x = np.linspace(-BLOCK_M, nx * BLOCK_M, 60)
    base = (river_block_row(ny) + 0.5) * BLOCK_M
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
    return Grid(nx, ny, xy, edges, shapely.buffer(river, RIVER_HALF_WIDTH_M), np.unique(column[bridge]))


def ground_elevation_m(y_m: np.ndarray) -> np.ndarray:
    """Ground level (m above sea) at a northing measured from the city centre."""
    return np.clip(GROUND_CENTRE_M - GROUND_SLOPE_M_PER_M * np.asarray(y_m), *GROUND_RANGE_M)


def _street_kind(index: np.ndarray) -> np.ndarray:
    return np.where(index % ARTERIAL_EVERY == 0, "arterial", "street")


def basemap(grid: Grid, offset_m: np.ndarray) -> list[dict]:
    """Streets (whole rows and columns through the grid's nodes, so the pipes lie on them), the river
    and a railway, for the offline map.

    Grid coordinates are already centred on the city; ``offset_m`` is what was subtracted to centre
    them (the railway is laid out in uncentred grid metres). Streets stop at the river banks except
    where a bridge carries them (and the network) across.
    """
    xy = grid.xy.reshape(grid.ny, grid.nx, 2)
    rows = shapely.linestrings(xy)
    columns = shapely.linestrings(xy.transpose(1, 0, 2))
    no_bridge = ~np.isin(np.arange(grid.nx), grid.bridge_columns)
    columns[no_bridge] = shapely.difference(columns[no_bridge], grid.river)
    features = [{"kind": kind, "name": STREET_NAMES[j % len(STREET_NAMES)], "geometry": line}
                for j, (kind, line) in enumerate(zip(_street_kind(np.arange(grid.ny)), rows, strict=True))]
    features += [{"kind": kind, "name": STREET_NAMES[(i + 7) % len(STREET_NAMES)].replace("街", "路"),
                  "geometry": line}
                 for i, (kind, line) in enumerate(zip(_street_kind(np.arange(grid.nx)), columns, strict=True))]
    # The railway skirts the district's north edge, clear of the blocks and stations.
    x_max, y_top = (grid.nx - 1) * BLOCK_M, (grid.ny - 1) * BLOCK_M
    railway = shapely.LineString([(-200, y_top + 200), (x_max + 200, y_top + 380)])
    features.append({"kind": "railway", "name": "胶济铁路",
                     "geometry": shapely.transform(railway, lambda pts: pts - offset_m)})
    features.append({"kind": "river", "name": "白浪河", "geometry": grid.river})
    return features
