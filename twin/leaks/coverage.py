"""Sensor coverage for leak localization: how well each segment's leak can be told apart from the
others with the current pressure sensors, and which extra pressure sensors would help most.

Per candidate (pipe, side) the whitened signature ``s`` (pressure change per t/h at the sensors,
divided by σ, leak at mid-pipe) comes from the twin's linearization. A leak of rate ``q`` on segment
``i`` is confused with segment ``j`` when ``j`` explains it about as well: the χ² left after fitting
``j`` is ``q²·|s_i|²·(1 − cos²θ_ij)``. The *margin* of ``i`` is that per t/h² for its closest
other segment; ``rate_to_separate_t_h`` is the leak rate at which the margin reaches χ² = 4 (2σ).
Candidate new sensors read supply and return pressure at a node; the greedy choice adds the node
that most raises the mean log-margin of the worst-covered segments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from heattwin import units
from twin.leaks.sensitivity import Linearization, pressure_sensor_junctions

CHI2_SEPARATE = 4.0
RATE_CAP_T_H = 1e4          # a segment needing more than this to be separated is reported at the cap
MARGIN_FLOOR = CHI2_SEPARATE / RATE_CAP_T_H ** 2
SIGNAL_WEIGHT = 1e-3        # greedy tie-break: with margins all at the floor, prefer the louder sensor
CHUNK = 1024


def _rows(linear: Linearization, junctions: np.ndarray) -> np.ndarray:
    """(len(junctions), n_junctions): pressure change at each given junction per t/h leak anywhere."""
    out = np.zeros((len(junctions), linear.n_junctions))
    for start in range(0, len(junctions), CHUNK):
        block = np.arange(start, min(start + CHUNK, len(junctions)))
        rhs = np.zeros((linear.n_junctions, len(block)))
        rhs[junctions[block], np.arange(len(block))] = 1.0
        out[block] = (linear.solve(rhs) * -units.t_h_to_kg_per_s(1.0)).T   # G symmetric
    return out


def _segments(twin) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    ix = twin.index
    n = len(ix.pipe_ids)
    frame = pd.DataFrame({"pipe_id": np.tile(ix.pipe_ids.astype(str), 2), "side": np.repeat(["supply", "return"], n)})
    ends = np.vstack([ix.supply_pipe_ends, ix.return_pipe_ends]).astype(int)
    return frame, ends[:, 0], ends[:, 1]


def _mid(rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(segments, sensors) mid-pipe signatures from per-junction rows (sensors, junctions)."""
    return 0.5 * (rows[:, a] + rows[:, b]).T


def _margins(sig: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Margin (χ² per t/h²) of the segments ``which`` against their closest other segment."""
    norm2 = np.einsum("ij,ij->i", sig, sig)
    unit = sig / np.sqrt(np.maximum(norm2, 1e-300))[:, None]
    out = np.empty(len(which))
    for start in range(0, len(which), CHUNK):
        block = which[start:start + CHUNK]
        cos = unit[block] @ unit.T
        cos[np.arange(len(block)), block] = 0.0
        out[start:start + CHUNK] = norm2[block] * (1.0 - np.minimum(np.max(cos * cos, axis=1), 1.0))
    return out


def coverage(twin, sensor_map, *, sigma_bar: float = 0.01, add: int = 0, worst: int = 200,
             max_candidates: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per segment (pipe_id, side, signal_per_t_h, margin, rate_to_separate_t_h), worst first, and the
    ``add`` suggested sensor nodes (node_id, worst_rate_before_t_h, worst_rate_after_t_h, gain).

    ``twin`` must be solved (its linearization point)."""
    linear = Linearization.from_net(twin.net)
    _, junctions = pressure_sensor_junctions(twin, sensor_map)
    frame, a, b = _segments(twin)
    sig = _mid(_rows(linear, junctions), a, b) / sigma_bar
    margin = _margins(sig, np.arange(len(sig)))
    frame["signal_per_t_h"] = np.sqrt(np.einsum("ij,ij->i", sig, sig))
    frame["margin"] = margin
    frame["rate_to_separate_t_h"] = np.sqrt(CHI2_SEPARATE / np.maximum(margin, MARGIN_FLOOR))
    frame = frame.sort_values("rate_to_separate_t_h", ascending=False)
    suggestions = _greedy(twin, linear, sig, frame.index.to_numpy()[:worst], a, b, sigma_bar, add, max_candidates)
    return frame.reset_index(drop=True), suggestions


def _greedy(twin, linear, sig, focus, a, b, sigma_bar, add, max_candidates) -> pd.DataFrame:
    rows = []
    if add <= 0:
        return pd.DataFrame(columns=["node_id", "rate_before_t_h", "rate_after_t_h", "gain"])
    ix = twin.index
    live = (linear.free[ix.supply_junction] >= 0) | (linear.free[ix.return_junction] >= 0)
    nodes = np.flatnonzero(live)
    # Spread the candidates over the network: every k-th node in id order.
    nodes = nodes[np.linspace(0, len(nodes) - 1, min(max_candidates, len(nodes))).astype(int)]
    extra = _rows(linear, np.concatenate([ix.supply_junction[nodes], ix.return_junction[nodes]]).astype(int))
    cand = [np.stack([_mid(extra[[k]], a, b)[:, 0], _mid(extra[[k + len(nodes)]], a, b)[:, 0]], axis=1) / sigma_bar
            for k in range(len(nodes))]

    def objective(s):
        loud = np.einsum("ij,ij->i", s[focus], s[focus])
        return float(np.mean(np.log(np.maximum(_margins(s, focus), MARGIN_FLOOR)))
                     + SIGNAL_WEIGHT * np.mean(np.log(np.maximum(loud, MARGIN_FLOOR))))

    def rate(s):
        return float(np.median(np.sqrt(CHI2_SEPARATE / np.maximum(_margins(s, focus), MARGIN_FLOOR))))

    chosen: list[int] = []
    current = objective(sig)
    for _ in range(min(add, len(nodes))):
        gains = [objective(np.hstack([sig, cand[k]])) - current if k not in chosen else -np.inf
                 for k in range(len(nodes))]
        best = int(np.argmax(gains))
        before = rate(sig)
        sig = np.hstack([sig, cand[best]])
        current += gains[best]
        chosen.append(best)
        rows.append({"node_id": str(ix.node_ids[nodes[best]]), "rate_before_t_h": before,
                     "rate_after_t_h": rate(sig), "gain": gains[best]})
    return pd.DataFrame(rows)
