"""Random-effects meta-analysis estimators, equal to metafor 3.8 (Viechtbauer 2010, J Stat Softw 36:3).

The one home of the pooling statistics used by :mod:`igf1r_resistance.tl.meta`:

- :func:`rma`: intercept-only random-effects model, ``rma(yi, vi, method, test)`` with
  tau^2 by REML (Fisher scoring, metafor's iterations, start and convergence rule), Paule-Mandel
  (``uniroot`` of the generalised Q, reproduced step by step through :func:`zeroin`, R's Brent
  root finder) or DerSimonian-Laird (:func:`igf1r_resistance.tl.stats.random_effects_dl`, the home
  of that estimator); Wald (``test = "z"``) or Hartung-Knapp-Sidik-Jonkman (``test = "knha"``)
  inference; the 95% prediction interval of ``predict()``; Q, I^2 and the Q-profile CI of tau^2
  and I^2 of ``confint()``.
- :func:`leave_one_out`: ``leave1out()``.

Hartung-Knapp-Sidik-Jonkman (Hartung & Knapp 2001, Stat Med 20:3875; Sidik & Jonkman 2002,
Stat Med 21:3153): the variance of the pooled estimate is multiplied by
s2w = sum w_i (y_i - mu)^2 / (k - 1) with w_i = 1/(v_i + tau^2), and the CI and p use a t
distribution on k - 1 degrees of freedom. Like metafor's ``test = "knha"`` the factor is NOT
truncated at 1 (truncation is metafor's ``test = "adhoc"``, Knapp & Hartung 2003): when the
effects agree more closely than their variances imply (s2w < 1) the CI is narrower than the
Wald CI would be on the same t quantile. The prediction interval of a knha fit is
mu -/+ t_{k-1, 0.975} sqrt(se^2 + tau^2) (IntHout et al. 2016, BMJ Open 6:e010247, metafor
``predict()``).

Cochrane's Handbook (v6.4, 2023, section 10.10.4) recommends REML for tau^2 and HKSJ
intervals; ``benchmarks/meta_coverage.py`` measures the coverage of each combination on
simulated data (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from . import stats

__all__ = ["TAU2_METHODS", "TESTS", "RmaResult", "rma", "leave_one_out", "zeroin"]

TAU2_METHODS = ("REML", "PM", "DL")
TESTS = ("knha", "z")

# metafor's rma.uni control defaults (metafor 3.8, rma.uni.r)
_THRESHOLD = 1e-5  # Fisher scoring: stop when tau^2 changes by less
_MAXITER = 100
_TAU2_MAX = 100.0  # upper end of the Paule-Mandel search
_UNIROOT_TOL = sys.float_info.epsilon**0.25  # R's uniroot default tolerance
_DBL_EPS = sys.float_info.epsilon


@dataclass(frozen=True)
class RmaResult:
    """A random-effects fit, named as metafor's ``rma`` / ``predict`` / ``confint`` output.

    Attributes:
        method: tau^2 estimator (REML, PM, DL); test: "knha" or "z".
        k: number of studies; estimate (``beta``), se, ci_low/ci_high (``ci.lb/ci.ub``),
        stat (``zval``: z, or t for knha), p_value (``pval``), df (k - 1 for knha, NaN for z);
        tau2, i2 (percent), h2, q (``QE``), q_p (``QEp``); s2w: the Knapp-Hartung factor
        (1 for the Wald test); pi_low/pi_high: 95% prediction interval (``predict()``);
        tau2_ci_low/high and i2_ci_low/high: Q-profile CI (``confint()``); weights: percent,
        aligned with the input (NaN for dropped studies).
    """

    method: str
    test: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    stat: float
    p_value: float
    df: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_p: float
    s2w: float
    pi_low: float
    pi_high: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2_ci_low: float
    i2_ci_high: float
    weights: np.ndarray


def zeroin(f: Callable[[float], float], ax: float, bx: float, fa: float, fb: float,
           tol: float = _UNIROOT_TOL, maxit: int = 1000) -> float:
    """Brent's root finder exactly as R's ``uniroot`` runs it (R_zeroin2, src/library/stats/src/zeroin.c).

    Reproduced step for step because metafor's Paule-Mandel estimate and Q-profile CI are
    ``uniroot`` roots at a loose tolerance (eps^0.25 = 1.2e-4): another root finder lands
    elsewhere inside that tolerance and differs from metafor by more than 1e-6.

    Parameters:
        f: function whose root is sought; ax, bx: interval ends with fa = f(ax), fb = f(bx)
        of opposite signs (or zero); tol: R's ``tol``; maxit: R's ``maxiter``.

    Returns:
        The root approximation R returns (also after ``maxit`` iterations, as R does with a
        warning).
    """
    from ._squeeze_var import (
        _zeroin2,  # the one port of R_zeroin2 (limma's fitFDistRobustly uses it too)
    )

    return _zeroin2(f, ax, bx, fa, fb, tol, maxit)

def _generalised_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Q(tau^2) = sum w_i (y_i - mu_w)^2 with w_i = 1/(v_i + tau^2) (metafor .QE.func)."""
    w = 1.0 / (v + tau2)
    mu = float((w * y).sum() / w.sum())
    return float((w * (y - mu) ** 2).sum())


def _p_matrix_traces(w: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """For P = W - w w'/sum w: y'PPy, tr(P), tr(PP) (metafor's REML Fisher scoring)."""
    sw = float(w.sum())
    r = w * (y - float((w * y).sum()) / sw)  # P y
    tr_p = sw - float((w**2).sum()) / sw
    tr_pp = float((w**2).sum()) - 2 * float((w**3).sum()) / sw + float((w**2).sum()) ** 2 / sw**2
    return float((r**2).sum()), tr_p, tr_pp


def _reml_tau2(y: np.ndarray, v: np.ndarray) -> float:
    """REML tau^2 by metafor's Fisher scoring.

    Start: the Hedges (HE) estimate max(0, (sum (y - ybar)^2 - (1 - 1/k) sum v) / (k - 1));
    step: (y'PPy - tr P) / tr(PP), halved while it would make tau^2 negative; stop when tau^2
    changes by <= 1e-5 (error after 100 iterations). Then metafor's ``ll0check``: if the
    restricted log-likelihood at tau^2 = 0 is higher by more than eps^0.25, tau^2 = 0.
    """
    k = y.size
    ymc = y - y.mean()
    he = (float((ymc**2).sum()) - float(v.sum()) * (1 - 1 / k)) / (k - 1)
    tau2 = max(0.0, he)
    change = _THRESHOLD + 1
    iteration = 0
    while change > _THRESHOLD:
        iteration += 1
        old = tau2
        ypp_y, tr_p, tr_pp = _p_matrix_traces(1.0 / (v + tau2), ymc)
        adj = (ypp_y - tr_p) / tr_pp
        if math.isnan(adj):
            adj = 0.0
        while tau2 + adj < 0:
            adj /= 2
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if iteration > _MAXITER:
            raise ArithmeticError("REML Fisher scoring did not converge in 100 iterations (metafor's limit)")

    def reml_loglik(t2: float) -> float:
        w = 1.0 / (v + t2)
        mu = float((w * ymc).sum() / w.sum())
        rss = float((w * (ymc - mu) ** 2).sum())
        return -0.5 * (k - 1) * math.log(2 * math.pi) - 0.5 * float(np.log(v + t2).sum()) \
            - 0.5 * math.log(float(w.sum())) - 0.5 * rss

    if reml_loglik(0.0) - reml_loglik(tau2) > _UNIROOT_TOL and tau2 > _THRESHOLD:
        tau2 = 0.0
    return tau2


def _pm_tau2(y: np.ndarray, v: np.ndarray) -> float:
    """Paule-Mandel tau^2 (Paule & Mandel 1982): the root of Q(tau^2) = k - 1 on [0, 100] by uniroot.

    0 when Q(0) < k - 1; an error when Q(100) > k - 1 (metafor: "Value of 'tau2.max' too low").
    """
    k = y.size
    ymc = y - y.mean()
    target = k - 1

    def f(t2: float) -> float:
        return _generalised_q(t2, ymc, v) - target

    f0, fmax = f(0.0), f(_TAU2_MAX)
    if f0 < 0:
        return 0.0
    if fmax > 0:
        raise ArithmeticError("Paule-Mandel: Q(tau^2 = 100) still exceeds k - 1 (metafor's tau2.max)")
    return zeroin(f, 0.0, _TAU2_MAX, f0, fmax, maxit=_MAXITER)


def _q_profile_ci(y: np.ndarray, v: np.ndarray, tau2: float, level: float = 0.05) -> tuple[float, float]:
    """Q-profile CI of tau^2 (Viechtbauer 2007, Stat Med 26:37), metafor ``confint(fit)``.

    Bounds solve Q(tau^2) = chi^2_{k-1} quantiles (upper bound at the lower quantile) on
    [0, max(100, 10 tau^2)]; a bound whose equation has no root there is the interval's end.
    """
    k = y.size
    tau2_max = max(100.0, 10 * tau2)
    crit_u = float(sps.chi2.isf(level / 2, k - 1))
    crit_l = float(sps.chi2.ppf(level / 2, k - 1))
    q_max = _generalised_q(tau2_max, y, v)
    q_min = _generalised_q(0.0, y, v)

    def root(objective: float) -> float:
        def f(t2: float) -> float:
            return _generalised_q(t2, y, v) - objective

        return zeroin(f, 0.0, tau2_max, q_min - objective, q_max - objective)

    if q_min < crit_l:
        lb = ub = 0.0
    elif q_max > crit_l:
        ub = tau2_max
    else:
        ub = root(crit_l)
    if q_max > crit_u:
        lb = ub = tau2_max
    elif q_min < crit_u:
        lb = 0.0
    else:
        lb = root(crit_u)
    return lb, ub


def _complete_studies(effects: np.ndarray, variances: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask of the complete studies, their effects, their variances), checked: the same
    length, at least 2 complete studies, finite values, positive variances."""
    y_all = np.asarray(effects, dtype=float).ravel()
    v_all = np.asarray(variances, dtype=float).ravel()
    if y_all.size != v_all.size:
        raise ValueError(f"effects and variances must have the same length, got {y_all.size} and {v_all.size}")
    ok = ~(np.isnan(y_all) | np.isnan(v_all))
    y, v = y_all[ok], v_all[ok]
    k = int(y.size)
    if k < 2:
        raise ValueError(f"a random-effects meta-analysis needs at least 2 studies, got {k}")
    if not (np.isfinite(y).all() and np.isfinite(v).all()):
        raise ValueError("effects and variances must be finite")
    if (v <= 0).any():
        raise ValueError(f"sampling variances must be > 0, got {v[v <= 0].tolist()}")
    return ok, y, v


def _heterogeneity(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float, float, float, float]:
    """Heterogeneity from the fixed-effect weights 1/v (metafor QE, vt, I2, H2): Q, its p on
    k - 1 df, the typical within-study variance vt = (k - 1) / tr P, I^2 and H^2 at `tau2`."""
    k = int(y.size)
    w_fe = 1.0 / v
    q = _generalised_q(0.0, y, v)
    q_p = float(sps.chi2.sf(q, k - 1))
    tr_p = float(w_fe.sum()) - float((w_fe**2).sum()) / float(w_fe.sum())
    vt = (k - 1) / tr_p
    i2 = 100 * tau2 / (vt + tau2)
    h2 = tau2 / vt + 1
    return q, q_p, vt, i2, h2


def rma(effects: np.ndarray, variances: np.ndarray, *, method: str = "REML", test: str = "knha",
        level: float = 0.95, heterogeneity_ci: bool = True) -> RmaResult:
    """Random-effects meta-analysis, equal to metafor ``rma(yi, vi, method=, test=)`` with
    ``predict()`` and ``confint()`` (to 1e-6 on tests/data/reference/meta_rma_*.tsv).

    Parameters:
        effects, variances: per-study estimates and sampling variances (NaN pairs dropped,
            as metafor's na.omit; their weight is NaN).
        method: "REML" (default; Fisher scoring), "PM" (Paule-Mandel) or "DL"
            (DerSimonian-Laird).
        test: "knha" (Hartung-Knapp-Sidik-Jonkman: t on k - 1 df, s2w not truncated) or "z"
            (Wald, normal quantile).
        level: confidence level of the CI, PI and the tau^2 / I^2 CI.
        heterogeneity_ci: compute the Q-profile CI of tau^2 and I^2 (False: NaN, for
            simulations that need only the pooled estimate).

    Returns:
        :class:`RmaResult`. I^2 = 100 tau^2 / (tau^2 + (k - 1)/tr P) with P from the weights
        1/v_i (metafor's definition), Q and its p on k - 1 df from the same weights.

    Raises:
        ValueError: unknown method or test, fewer than 2 complete studies, non-finite values
            or non-positive variances.
        ArithmeticError: the tau^2 estimate does not converge (metafor stops there too).
    """
    if method not in TAU2_METHODS:
        raise ValueError(f"tau^2 method must be one of {list(TAU2_METHODS)}, got {method!r}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {list(TESTS)}, got {test!r}")
    ok, y, v = _complete_studies(effects, variances)
    k = int(y.size)
    if method == "REML":
        tau2 = _reml_tau2(y, v)
    elif method == "PM":
        tau2 = _pm_tau2(y, v)
    else:
        tau2 = stats.random_effects_dl(y, v).tau2
    q, q_p, vt, i2, h2 = _heterogeneity(y, v, tau2)

    w = 1.0 / (v + tau2)
    sw = float(w.sum())
    mu = float((w * y).sum() / sw)
    vb = 1.0 / sw
    alpha = 1 - level
    if test == "knha":
        rss = float((w * (y - mu) ** 2).sum())
        s2w = 0.0 if rss <= _DBL_EPS else rss / (k - 1)
        df = float(k - 1)
        vb *= s2w
        crit = float(sps.t.isf(alpha / 2, df))
    else:
        s2w, df = 1.0, math.nan
        crit = float(sps.norm.isf(alpha / 2))
    se = math.sqrt(vb)
    stat = mu / se if se > 0 else math.copysign(math.inf, mu) if mu != 0 else math.nan
    if test == "knha":
        p_value = float(2 * sps.t.sf(abs(stat), df))
    else:
        p_value = float(2 * sps.norm.sf(abs(stat)))
    pi_half = crit * math.sqrt(vb + tau2)
    tau2_lb, tau2_ub = _q_profile_ci(y, v, tau2, alpha) if heterogeneity_ci else (math.nan, math.nan)
    weights = np.full(ok.size, np.nan)
    weights[ok] = 100 * w / sw
    return RmaResult(
        method=method, test=test, k=k, estimate=mu, se=se, ci_low=mu - crit * se, ci_high=mu + crit * se,
        stat=stat, p_value=p_value, df=df, tau2=float(tau2), i2=float(i2), h2=float(h2), q=q, q_p=q_p,
        s2w=float(s2w), pi_low=mu - pi_half, pi_high=mu + pi_half, tau2_ci_low=tau2_lb, tau2_ci_high=tau2_ub,
        i2_ci_low=100 * tau2_lb / (vt + tau2_lb), i2_ci_high=100 * tau2_ub / (vt + tau2_ub), weights=weights,
    )


def leave_one_out(effects: np.ndarray, variances: np.ndarray, *, method: str = "REML",
                  test: str = "knha") -> list[RmaResult | None]:
    """metafor ``leave1out()``: the fit without each study in turn.

    None where the rest cannot be pooled: with k = 2 one study remains (metafor then shows that
    study's own estimate and Wald CI, which is not a pooled estimate), or the fit fails.
    """
    y = np.asarray(effects, dtype=float).ravel()
    v = np.asarray(variances, dtype=float).ravel()
    out: list[RmaResult | None] = []
    for i in range(y.size):
        keep = np.arange(y.size) != i
        try:
            out.append(rma(y[keep], v[keep], method=method, test=test))
        except (ValueError, ArithmeticError):
            out.append(None)
    return out
