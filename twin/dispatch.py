"""Plants on fixed flow, dispatched the way their operators run them: each holds its supply pressure.

A plant dispatched on flow pushes exactly that flow into the network; its outlet pressure floats.
Between districts joined by a few small ties the network is stiff: a plant pumping 10 % more
than its district draws has to push the rest through the ties, and the twin then reports 50 bar
outlets and negative returns. No operator runs a plant that way: the pump's speed is trimmed
until the outlet holds its set pressure. ``PressureHoldingDispatch`` does that trim for all such
plants together — their pressures are coupled (two plants feeding one district share its
pressure), so one plant at a time oscillates: a Newton iteration on flows against outlet
pressures, with the Jacobian from finite differences (or the caller's, e.g. the base state's)
and Broyden updates, steps halved when they overshoot, flows kept within the plants' limits
(a derated plant runs at its limit and its pressure floats).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_FLOW_SHARE = 0.2   # a plant's pumps do not run below this share of their first flow
PROBE_T_H = 25.0       # finite-difference step of a plant's flow


@dataclass
class Trim:
    result: object           # the TwinResult at the flows used
    flows: pd.Series         # every source's flow, t/h
    jacobian: np.ndarray     # d outlet pressure / d flow (bar per t/h) of the targeted plants
    solves: int
    held: bool               # every targeted plant within tolerance (or pinned at a limit)


class PressureHoldingDispatch:
    """``tolerance_bar``: the band a plant's pressure control holds (±0.2 bar is a usual setting)."""

    def __init__(self, *, tolerance_bar: float = 0.2, max_solves: int = 12):
        self.tolerance = tolerance_bar
        self.max_solves = max_solves

    def solve(self, solve, flows: pd.Series, target_bar: pd.Series, *, max_flow_t_h: pd.Series | None = None,
              jacobian: np.ndarray | None = None) -> Trim:
        """Solve with ``solve(flows) -> TwinResult`` until the plants in ``target_bar`` hold it.

        ``flows``: every source's flow (t/h); only the targeted plants' change. Plants out of
        service or islanded must not be in ``target_bar``.
        """
        ids = list(target_bar.index)
        flows = flows.astype(float).copy()
        if not ids:
            return Trim(solve(flows), flows, np.zeros((0, 0)), 1, True)
        low = MIN_FLOW_SHARE * flows[ids].to_numpy()
        high = (max_flow_t_h if max_flow_t_h is not None else pd.Series(dtype=float)).reindex(ids).fillna(
            np.inf).to_numpy()
        target = target_bar.to_numpy(dtype=float)
        state = _State(self, solve, flows, ids, target)
        q = np.clip(flows[ids].to_numpy(), low, high)
        err = state.error(q)
        jac = jacobian if jacobian is not None and jacobian.shape == (len(ids), len(ids)) else state.probe(q, err)
        while state.solves < self.max_solves and not state.done(q, err, low, high):
            step = np.linalg.lstsq(jac, -err, rcond=None)[0]
            found = state.line_search(q, err, step, low, high)
            if found is None:
                break  # no better flows along this step: keep the best found so far
            q_new, err_new = found
            dq, de = q_new - q, err_new - err
            if dq @ dq > 1e-9:  # Broyden: the Jacobian learns from every step
                jac = jac + np.outer(de - jac @ dq, dq) / (dq @ dq)
            q, err = q_new, err_new
        return Trim(state.result_at(q), state.flows_at(q), jac, state.solves, state.done(q, err, low, high))


class _State:
    """Solves of one trim, remembered by the flows they were made at."""

    def __init__(self, owner, solve, flows, ids, target):
        self.owner, self.solve_fn, self.flows, self.ids, self.target = owner, solve, flows, ids, target
        self.solves = 0
        self.cache: dict[bytes, object] = {}

    def flows_at(self, q) -> pd.Series:
        flows = self.flows.copy()
        flows[self.ids] = q
        return flows

    def result_at(self, q):
        key = np.round(q, 6).tobytes()
        if key not in self.cache:
            with warnings.catch_warnings():
                # Trial flows may well be infeasible on the way: pandapipes warns of negative
                # pressures there; the kept result carries its p_min_bar for callers to judge.
                warnings.filterwarnings("ignore", message="Pipeflow converged, however")
                self.cache = {key: self.solve_fn(self.flows_at(q))}  # keep the latest: results are big
            self.solves += 1
        return self.cache[key]

    def error(self, q) -> np.ndarray:
        pressure = self.result_at(q).sources["p_supply_bar"].reindex(self.ids).to_numpy(dtype=float)
        return np.where(np.isfinite(pressure), pressure - self.target, 1e3)

    def trial_error(self, q) -> np.ndarray | None:
        """The error at trial flows, or None where the twin finds no solution there."""
        from twin.model import TwinDidNotConverge

        try:
            return self.error(q)
        except TwinDidNotConverge:
            return None

    def probe(self, q, err) -> np.ndarray:
        jac = np.zeros((len(q), len(q)))
        for k in range(len(q)):
            shifted = q.copy()
            shifted[k] -= PROBE_T_H
            jac[:, k] = (err - self.error(shifted)) / PROBE_T_H
        self.result_at(q)  # back to the point the iteration stands on
        return jac

    def line_search(self, q, err, step, low, high):
        """The first of step, step/2, … that lowers the largest error; None if none of four does."""
        for _ in range(4):
            q_new = np.clip(q + step, low, high)
            err_new = self.trial_error(q_new)
            if err_new is not None and np.abs(err_new).max() < np.abs(err).max():
                return q_new, err_new
            step = step / 2.0
        return None

    def done(self, q, err, low, high) -> bool:
        pinned = ((q >= high - 1e-6) & (err < 0)) | ((q <= low + 1e-6) & (err > 0))
        return bool((np.abs(err)[~pinned] < self.owner.tolerance).all())
