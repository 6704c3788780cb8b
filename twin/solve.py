"""Running pandapipes on a built net: a fresh pipeflow, and the cheaper re-solve between cycles.

A fresh ``pipeflow`` spends most of its set-up in ``initialize_pit``: every component registers
its pit entries and ``PitRegistry`` checks each new UNIQUE entry against all earlier ones with
Python sets (55 % of a fresh run at 3,000 stations). That check guards the net's *structure*
(which component writes which pit cell), and the structure does not change between cycles: only
boundary values do. So a re-solve

1. re-initialises the options and result tables (cheap),
2. rebuilds the lookups and the pit from the net's tables (so every boundary value written to the
   tables is picked up by pandapipes' own code) with the conflict check switched off — it already
   passed on this same structure in the fresh run,
3. warm-starts pressures, mass flows and temperatures from the last converged solution, except
   where a boundary fixes them (pressure/temperature slacks),
4. runs the same Newton solver and result extraction as ``pipeflow``.

After a structural change (a new leak junction, a pump switched in or out of service) the
conflict check runs again (``trusted=False``); the caller (``twin.model.Twin``) tracks that. Only
the first solve, and the one after a failure, start cold with pandapipes' own ``pipeflow``.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

import numpy as np
import pandapipes as pp
from pandapipes.idx_branch import IdxBranch
from pandapipes.idx_node import IdxNode
from pandapipes.pf import pipeflow_setup
from pandapipes.pf.pipeflow_setup import (
    PipeflowNotConverged,
    create_lookups,
    create_old_pit,
    init_all_result_tables,
    init_options,
    initialize_pit,
)
from pandapipes.pf.result_extraction import extract_all_results
from pandapipes.pf.system_index import PitRegistry
from pandapipes.pipeflow import execute_pipeflow

# Tolerances are absolute in pandapipes (kg/s, bar, K). Its defaults (1e-5 kg/s) are far below
# what a city network with 10,000 kg/s at the plant can resolve, and cost many extra iterations;
# these are still well below what any meter reads (1e-3 kg/s = 3.6 kg/h, 1e-4 bar, 0.02 K).
# Colebrook–White rather than pandapipes' default Nikuradse (fully rough): district-heating pipes
# run in the transition zone, where Nikuradse underestimates friction by ~4 %.
# The residual mixes mass (kg/s) and heat-equation rows whose scale is W-like; 10 is tiny there.
SOLVER_OPTIONS = {"mode": "bidirectional", "friction_model": "colebrook", "iter": 40,
                  "tol_m": 1e-3, "tol_p": 1e-4, "tol_T": 2e-2, "tol_res": 10.0}

_PATCH_LOCK = threading.Lock()


class _TrustedPitRegistry(PitRegistry):
    """A PitRegistry without the (row, col) conflict check, for a structure already checked."""

    def _check_conflict(self, entries, bucket) -> None:
        return None


@contextlib.contextmanager
def _trusted_structure():
    # initialize_pit instantiates PitRegistry by its module-global name; swap it only for the
    # duration of one call, under a lock so concurrent twins do not interleave the swap.
    with _PATCH_LOCK:
        original = pipeflow_setup.PitRegistry
        pipeflow_setup.PitRegistry = _TrustedPitRegistry
        try:
            yield
        finally:
            pipeflow_setup.PitRegistry = original


@dataclass
class WarmStart:
    """The converged solution's iteration variables, as pit columns."""
    p: np.ndarray
    t: np.ndarray
    mdot_slack: np.ndarray
    mdot: np.ndarray
    t_out: np.ndarray

    @classmethod
    def from_net(cls, net) -> WarmStart:
        node, branch = net["_pit"]["node"], net["_pit"]["branch"]
        return cls(node[:, IdxNode.PINIT].copy(), node[:, IdxNode.TINIT].copy(),
                   node[:, IdxNode.MDOTSLACKINIT].copy(), branch[:, IdxBranch.MDOTINIT].copy(),
                   branch[:, IdxBranch.TOUTINIT].copy())

    def apply(self, net) -> None:
        node, branch = net["_pit"]["node"], net["_pit"]["branch"]
        if len(node) != len(self.p) or len(branch) != len(self.mdot):
            return
        # Slack nodes keep the boundary values the components just wrote.
        free_p = (node[:, IdxNode.NODE_TYPE] != IdxNode.P) & np.isfinite(self.p)
        free_t = (node[:, IdxNode.NODE_TYPE_T] != IdxNode.T) & np.isfinite(self.t)
        node[free_p, IdxNode.PINIT] = self.p[free_p]
        node[free_t, IdxNode.TINIT] = self.t[free_t]
        slack = np.isfinite(self.mdot_slack)
        node[slack, IdxNode.MDOTSLACKINIT] = self.mdot_slack[slack]
        # Only pipes and valves: pumps and heat consumers carry boundary values (t_flow, t_return)
        # in their branch rows.
        passive = np.zeros(len(branch), dtype=bool)
        for table, (start, end) in net["_lookups"]["branch_from_to"].items():
            if table in ("pipe", "valve"):
                passive[start:end] = True
        flowing = passive & np.isfinite(self.mdot) & np.isfinite(self.t_out)
        branch[flowing, IdxBranch.MDOTINIT] = self.mdot[flowing]
        branch[flowing, IdxBranch.TOUTINIT] = self.t_out[flowing]
        create_old_pit(net, [IdxNode.TINIT], [IdxBranch.TOUTINIT])


def iterations(net) -> int:
    return int(net.get("_internal_results", {}).get("iterations_bidirectional", 0))


def fresh_pipeflow(net, **options) -> None:
    """pandapipes' own ``pipeflow`` with the twin's solver options; raises PipeflowNotConverged."""
    pp.pipeflow(net, **{**SOLVER_OPTIONS, **options})


def resolve(net, warm: WarmStart | None, *, trusted: bool = True, **options) -> None:
    """Re-solve a net solved before, warm-started from ``warm``.

    ``trusted``: the structure is the one solved before (only boundary values changed), so the
    pit's conflict check is skipped; pass False after a structural change (a new leak sink, a pump
    in or out of service) to keep pandapipes' check while still warm-starting.
    Raises ``PipeflowNotConverged`` like ``pipeflow``.
    """
    init_options(net, **{**SOLVER_OPTIONS, **options})
    init_all_result_tables(net)
    create_lookups(net)
    with _trusted_structure() if trusted else contextlib.nullcontext():
        initialize_pit(net)
    if warm is not None:
        warm.apply(net)
    execute_pipeflow(net)
    extract_all_results(net)


__all__ = ["SOLVER_OPTIONS", "PipeflowNotConverged", "WarmStart", "fresh_pipeflow", "iterations", "resolve"]
