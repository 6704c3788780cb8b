"""Where is the leak: every pipe segment, supply and return side, ranked by how well a leak there
explains the observed change of the pressure readings.

``change`` is, per pressure sensor, the (measured − modelled) residual now minus the same residual
over a recent no-leak window: the twin's standing model error cancels, what the leak did stays.
For a candidate (pipe, side, position x) the signature is ``s = (1 − x)·s_from + x·s_to`` per t/h;
the leak rate that fits best is the weighted least-squares ``q = sᵀWr / sᵀWs`` (with the make-up
excess as a prior when known), and ``χ² = Σ W (r − q s)²``. Positions x = 0, ¼, ½, ¾, 1 are scored
and their likelihoods summed per (pipe, side); the posterior over candidates is normalised to one.
All candidates are scored at once from ``LeakSensitivity``: one linear solve per localization.
``localize_relinearized`` refines with full solves: the leak placed at the best candidate, the twin
re-linearized there, every candidate re-scored (big leaks bend the pressures).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.leaks.sensitivity import LeakSensitivity
from twin.model import TwinDidNotConverge

POSITIONS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
RATE_PRIOR_SHARE = 0.3   # σ of the rate prior, as a share of the make-up excess it comes from


@dataclass
class LeakLocation:
    candidates: pd.DataFrame        # pipe_id, side, position, rate_t_h, score, rank, chi2 (all, best first)
    region: list[str]               # pipes holding ``mass`` of the probability
    valves: list[str] = field(default_factory=list)
    isolation: dict | None = None
    rate_t_h: float | None = None
    top_n: int = 10
    misfit: float = 1.0             # best candidate's χ² per degree of freedom (1: fits to the noise)

    @property
    def top(self) -> pd.Series:
        return self.candidates.iloc[0]

    def to_dict(self, top: int | None = None) -> dict:
        head = self.candidates.head(top or self.top_n)
        return {"candidates": head.round({"position": 2, "rate_t_h": 2, "score": 4, "chi2": 2}).to_dict("records"),
                "region": self.region, "valves": self.valves, "rate_t_h": self.rate_t_h,
                "misfit": round(self.misfit, 2),
                "pipe_id": str(self.top["pipe_id"]), "side": str(self.top["side"])}


def _fit(b: np.ndarray, a: np.ndarray, base: float, rate: float | None):
    """Best rate (≥ 0) and χ² per candidate from sᵀWr (b), sᵀWs (a) and rᵀWr (base)."""
    if rate is not None and rate > 0:
        prior_w = 1.0 / (RATE_PRIOR_SHARE * rate) ** 2
        q = np.maximum((b + prior_w * rate) / (a + prior_w), 0.0)
        chi2 = base - 2.0 * q * b + q * q * a + prior_w * (q - rate) ** 2
    else:
        q = np.maximum(b / np.maximum(a, 1e-30), 0.0)
        chi2 = base - 2.0 * q * b + q * q * a
    return q, chi2


def _less_nuisance(nuisance, side: str, b: np.ndarray, a: np.ndarray, z: np.ndarray):
    """``sᵀΣ⁻¹r`` and ``sᵀΣ⁻¹s`` from their ``W`` forms: what the input errors could explain is taken out."""
    cross = nuisance.cross[side]                      # (n_pipes, 2, m)
    x = POSITIONS[:, None, None]
    c = (1 - x) * cross[None, :, 0, :] + x * cross[None, :, 1, :]    # (positions, n_pipes, m)
    c_solved = np.linalg.solve(nuisance.precision, c.reshape(-1, c.shape[-1]).T).T.reshape(c.shape)
    return b - c_solved @ z, a - np.einsum("xpm,xpm->xp", c, c_solved)


def score(sens: LeakSensitivity, change: pd.Series, *, rate_t_h: float | None = None,
          sides=("supply", "return")) -> pd.DataFrame:
    """Every (pipe, side) with its best position, rate and χ², and the log-likelihood summed over x."""
    r = pd.Series(change, dtype=float).reindex(sens.sensor_ids).to_numpy()
    sens = sens.seeing(np.isfinite(r))
    r = np.where(np.isfinite(r), r, 0.0)
    base, z = sens.explained(r)
    b_ends = sens.correlation(r)
    frames = []
    n_pipes = len(next(iter(sens.ends.values())))
    for side in sides:
        bf, bt = b_ends[side][:, 0], b_ends[side][:, 1]
        g = sens.gram[side]
        x = POSITIONS[:, None]
        b = (1 - x) * bf + x * bt
        a = (1 - x) ** 2 * g[:, 0] + x ** 2 * g[:, 1] + 2 * x * (1 - x) * g[:, 2]
        if sens.nuisance is not None:
            b, a = _less_nuisance(sens.nuisance, side, b, a, z)
        q, chi2 = _fit(b, a, base, rate_t_h)
        best = np.argmin(chi2, axis=0)
        cols = np.arange(n_pipes)
        # Likelihood of the pipe: its positions' likelihoods, averaged (uniform position prior).
        low = chi2.min(axis=0)
        log_like = -0.5 * low + np.log(np.mean(np.exp(-0.5 * (chi2 - low)), axis=0))
        frames.append(pd.DataFrame({"pipe_pos": cols, "side": side, "position": POSITIONS[best],
                                    "rate_t_h": q[best, cols], "chi2": chi2[best, cols], "log_like": log_like}))
    return pd.concat(frames, ignore_index=True)


def localize(sens: LeakSensitivity, change: pd.Series, sigma=None, *, pipe_ids=None, network=None,
             rate_t_h: float | None = None, sides=("supply", "return"), top: int = 10, mass: float = 0.9,
             isolation_graph=None) -> LeakLocation:
    """Rank every candidate; the region is the fewest pipes holding ``mass`` of the probability.

    ``sigma`` (bar) is the sensors' noise ``sens`` was built with (its weights); a scalar different from
    it rescales χ². ``network`` (optional) gives the isolation valves of the top candidate; ``top`` is how
    many candidates ``to_dict`` reports."""
    if pipe_ids is None:
        pipe_ids = sens.pipe_ids
    if sigma is not None and np.isscalar(sigma):
        # Re-weight by a uniform factor: the fit is unchanged, the sharpness of the posterior follows σ.
        scale = float(np.mean(sens.weights)) * float(sigma) ** 2
        change = pd.Series(change, dtype=float) / np.sqrt(scale)
        rate_t_h_scaled = None if rate_t_h is None else rate_t_h / np.sqrt(scale)
        location = localize(sens, change, pipe_ids=pipe_ids, network=network, rate_t_h=rate_t_h_scaled,
                            sides=sides, top=top, mass=mass, isolation_graph=isolation_graph)
        location.candidates["rate_t_h"] *= np.sqrt(scale)
        location.rate_t_h = rate_t_h
        return location
    if isolation_graph is None and network is not None:
        from twin.isolation import IsolationGraph
        isolation_graph = IsolationGraph(network)
    frame = score(sens, change, rate_t_h=rate_t_h, sides=sides)
    inflation = _misfit(frame, sens, change)
    # When even the best candidate leaves more unexplained than the noise allows, the noise model is too
    # optimistic (the twin has errors of its own): σ² is inflated by that factor, so the probabilities
    # and the region stay honest instead of putting 100 % on one segment.
    log_like = frame["log_like"].to_numpy() / inflation
    weight = np.exp(log_like - log_like.max())
    frame["score"] = weight / weight.sum()
    frame["pipe_id"] = np.asarray(pipe_ids, dtype=str)[frame["pipe_pos"].to_numpy()]
    frame = frame.sort_values(["score", "chi2"], ascending=[False, True]).reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    by_pipe = frame.groupby("pipe_id", sort=False)["score"].sum().sort_values(ascending=False)
    needed = int(np.searchsorted(by_pipe.cumsum().to_numpy(), mass) + 1)
    region = by_pipe.index[:needed].tolist()
    location = LeakLocation(frame[["pipe_id", "side", "position", "rate_t_h", "score", "rank", "chi2"]], region,
                            rate_t_h=rate_t_h, top_n=top, misfit=inflation)
    if isolation_graph is not None:
        isolation = isolation_graph.isolate(str(location.top["pipe_id"]))
        location.valves, location.isolation = isolation.valves_to_close, isolation.to_dict()
    return location


def _misfit(frame: pd.DataFrame, sens: LeakSensitivity, change: pd.Series) -> float:
    """χ² of the best candidate per degree of freedom (sensors that saw the change, less the rate), ≥ 1."""
    seen = int(np.isfinite(pd.Series(change, dtype=float).reindex(sens.sensor_ids)).sum())
    return max(1.0, float(frame["chi2"].min()) / max(seen - 1, 1))


def _signature_of(sens: LeakSensitivity, candidate, ends_side: np.ndarray, pipe_pos: int) -> np.ndarray:
    junctions = ends_side[pipe_pos]
    both = sens.node_signature(list(junctions))
    return (1.0 - candidate.position) * both[:, 0] + candidate.position * both[:, 1]


def localize_relinearized(twin, sensor_map, change: pd.Series, *, rate_t_h: float, sigma_bar=0.01,
                          iterations: int = 6, sens: LeakSensitivity | None = None, suspects=(),
                          **options) -> LeakLocation:
    """``localize``, then re-linearized at the state with the leak where it was placed (Gauss–Newton).

    A big leak (several % of the circulating flow) bends the pressures: signatures taken at the no-leak
    state misplace it among its neighbours. Each iteration solves the twin with the leak at the current
    best candidate (rate from the make-up excess), linearizes there and re-scores every candidate
    against what is left of the change, until the best candidate is one it was placed at before (a fixed
    point, or a cycle between neighbours) or after ``iterations`` steps: the bigger the leak, the farther
    the operating point moves and the more steps it takes (the leak bench's 5–10 % leaks needed 3–6).
    ``twin`` must be solved at the no-leak state; it is returned there.
    ``suspects``: stations and plants whose input readings are not trusted (see ``LeakSensitivity``).
    """
    ix = twin.index
    pipe_pos = pd.Index(ix.pipe_ids)
    before = sensor_map.predict(twin.last_result)
    sens = sens or LeakSensitivity.from_twin(twin, sensor_map, sigma_bar, suspects=suspects)
    location = localize(sens, change, pipe_ids=ix.pipe_ids, rate_t_h=rate_t_h, **options)
    placed_at = set()
    try:
        for _ in range(iterations):
            top = location.top
            if (top.pipe_id, top.side, top.position) in placed_at:
                break
            placed_at.add((top.pipe_id, top.side, top.position))
            twin.set_leaks(pd.DataFrame([{"pipe_id": top.pipe_id, "side": top.side, "rate_t_h": rate_t_h,
                                          "position": top.position}]))
            try:
                leaky = twin.solve()
            except TwinDidNotConverge:
                break  # no state with the leak there: keep the linear ranking
            placed = (sensor_map.predict(leaky) - before).reindex(sens.sensor_ids)
            here = LeakSensitivity.from_twin(twin, sensor_map, sigma_bar, suspects=suspects)
            ends = here.ends[top.side]
            own = _signature_of(here, top, ends, pipe_pos.get_loc(top.pipe_id))
            # What is left to explain, seen from the leaky state, plus the placed leak's own share.
            left = change.reindex(here.sensor_ids) - placed + rate_t_h * own
            location = localize(here, left, pipe_ids=ix.pipe_ids, rate_t_h=rate_t_h, **options)
    finally:
        twin.set_leaks(None)
        twin.solve()
    return location


def refine(twin, location: LeakLocation, measured_change: pd.Series, *, sensor_map, sigma_bar=0.01, k: int = 5,
           rate_t_h: float | None = None, sens: LeakSensitivity | None = None) -> LeakLocation:
    """Re-score the top ``k`` candidates with full twin solves (the leak placed by ``set_leaks``).

    ``twin`` must be solved at the no-leak reference state; it is left there. What a full solve leaves
    unexplained is weighed as the linear scoring weighs the change (``sens``' noise and input-error
    directions, built at that state when not given). The k candidates keep their summed probability,
    shared anew by their full-solve χ²; the rest of the ranking is unchanged.
    """
    before = sensor_map.predict(twin.last_result)
    sens = sens or LeakSensitivity.from_twin(twin, sensor_map, sigma_bar)
    head = location.candidates.head(k).copy()
    change = pd.Series(measured_change, dtype=float).reindex(sens.sensor_ids)
    chi2 = np.full(len(head), np.inf)
    try:
        for i, cand in enumerate(head.itertuples()):
            rate = float(rate_t_h if rate_t_h is not None else cand.rate_t_h)
            twin.set_leaks(pd.DataFrame([{"pipe_id": cand.pipe_id, "side": cand.side, "rate_t_h": rate,
                                          "position": cand.position}]))
            try:
                placed = (sensor_map.predict(twin.solve()) - before).reindex(sens.sensor_ids)
            except TwinDidNotConverge:
                continue
            chi2[i] = sens.explained((change - placed).to_numpy())[0]
    finally:
        twin.set_leaks(None)
        twin.solve()
    if np.isfinite(chi2).any():
        like = np.exp(-0.5 * (chi2 - chi2[np.isfinite(chi2)].min()))
        head["score"] = head["score"].sum() * like / like.sum()
        head["chi2"] = chi2
        if rate_t_h is not None:
            head["rate_t_h"] = rate_t_h
    frame = pd.concat([head, location.candidates.iloc[len(head):]], ignore_index=True)
    frame = frame.sort_values(["score", "chi2"], ascending=[False, True]).reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return LeakLocation(frame, location.region, location.valves, location.isolation, location.rate_t_h,
                        location.top_n, location.misfit)
