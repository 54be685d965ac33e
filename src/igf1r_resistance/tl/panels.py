"""Cell-line panels with drug responses: association of a score with a response, adjusted
for lineage.

Across hundreds of lines, tissue of origin drives both expression and drug response, so an
unadjusted correlation mostly says "these tissues differ". Two adjusted tests, one linear and
one rank-based:

* :func:`linear_association`: ordinary least squares of ``score ~ tissue + response`` and the
  t test of the response coefficient (for genes, the same design goes through limma:
  :func:`igf1r_resistance.tl.linear_model.linear_model` with the contrast ``{"response": 1}``).
* :func:`partial_spearman` with :func:`stratified_permutation_p`: Spearman's rho of the
  within-stratum centred ranks (rank-based partial correlation given the strata), and a
  p value from permuting the response within strata, so the null keeps every stratum's
  composition (Good P. *Permutation, Parametric and Bootstrap Tests of Hypotheses*, 3rd ed.,
  Springer 2005, section 3.6; stratified permutation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps

from .linear_model import DesignError, check_full_rank, design_matrix


@dataclass(frozen=True)
class Association:
    """An adjusted association: estimate (slope or rho), its standard error and p."""

    estimate: float
    se: float
    statistic: float
    df: float
    p_value: float
    n: int


def _usable(x: np.ndarray, y: np.ndarray, strata: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x) & np.isfinite(y) & pd.notna(strata)
    return ok


def linear_association(x: np.ndarray, response: np.ndarray, strata: np.ndarray) -> Association:
    """Slope of ``x ~ 0 + stratum + response`` by least squares, with its t test.

    The slope is the change of ``x`` per unit of response within strata. Strata with one
    line only carry no information on the slope and are kept (they cost a df, as in R's lm).

    Raises
    ------
    DesignError
        Too few lines for the strata, or the response is constant within every stratum.
    """
    x, response, strata = np.asarray(x, float), np.asarray(response, float), np.asarray(strata, object)
    ok = _usable(x, response, strata)
    samples = pd.DataFrame({"stratum": strata[ok].astype(str), "response": response[ok]})
    design = design_matrix(samples, "stratum", ["response"])
    check_full_rank(design)
    xd = design.to_numpy(float)
    y = x[ok]
    q, r = np.linalg.qr(xd)
    beta = np.linalg.solve(r, q.T @ y)
    resid = y - xd @ beta
    df = xd.shape[0] - xd.shape[1]
    s2 = float(resid @ resid) / df
    rinv = np.linalg.inv(r)
    se = math.sqrt(s2 * float(rinv[-1] @ rinv[-1]))
    t = float(beta[-1]) / se if se > 0 else math.copysign(math.inf, float(beta[-1]))
    p = float(2.0 * special.stdtr(df, -abs(t)))
    return Association(float(beta[-1]), se, t, float(df), p, int(ok.sum()))


def _centred_ranks(values: np.ndarray, codes: np.ndarray, n_strata: int) -> np.ndarray:
    ranks = sps.rankdata(values, method="average")
    sums = np.bincount(codes, weights=ranks, minlength=n_strata)
    counts = np.bincount(codes, minlength=n_strata)
    return ranks - (sums / counts)[codes]


def partial_spearman(x: np.ndarray, y: np.ndarray, strata: np.ndarray) -> float:
    """Spearman's rho adjusted for strata: the Pearson correlation of the ranks of x and y
    after subtracting each stratum's mean rank. NaN when either is constant within strata."""
    x, y, strata = np.asarray(x, float), np.asarray(y, float), np.asarray(strata, object)
    ok = _usable(x, y, strata)
    codes = pd.factorize(pd.Series(strata[ok]).astype(str))[0]
    n_strata = int(codes.max()) + 1 if codes.size else 0
    rx = _centred_ranks(x[ok], codes, n_strata)
    ry = _centred_ranks(y[ok], codes, n_strata)
    den = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry) / den if den > 0 else math.nan


def stratified_permutation_p(
    x: np.ndarray, y: np.ndarray, strata: np.ndarray, *, n_permutations: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Partial Spearman rho and its two-sided p from permuting y within strata.

    p = (1 + #{|rho*| >= |rho|}) / (1 + permutations) (Phipson & Smyth 2010: never 0).
    Only the within-stratum centred ranks are permuted, so the null is "no association
    within any stratum" and tissue differences cannot create a signal.
    """
    x, y, strata = np.asarray(x, float), np.asarray(y, float), np.asarray(strata, object)
    ok = _usable(x, y, strata)
    if ok.sum() < 4:
        raise DesignError(f"a stratified permutation test needs >= 4 complete lines, got {int(ok.sum())}")
    codes = pd.factorize(pd.Series(strata[ok]).astype(str))[0]
    n_strata = int(codes.max()) + 1
    rx = _centred_ranks(x[ok], codes, n_strata)
    ry = _centred_ranks(y[ok], codes, n_strata)
    den = math.sqrt(float(rx @ rx) * float(ry @ ry))
    if den == 0:
        return math.nan, math.nan
    observed = float(rx @ ry) / den
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(codes == k) for k in range(n_strata)]
    perm = np.empty((n_permutations, ry.size))
    for idx in members:
        perm[:, idx] = ry[idx][rng.permuted(np.tile(np.arange(idx.size), (n_permutations, 1)), axis=1)]
    null = perm @ rx / den
    # a tolerance so that permutations equal to the observed rho count as reaching it
    hits = int(np.sum(np.abs(null) >= abs(observed) - 1e-12))
    return observed, (1 + hits) / (1 + n_permutations)
