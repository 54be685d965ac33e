"""Statistics for the hypothesis tests: group comparisons, FDR, Spearman, meta-analysis.

Every function reproduces a named R reference (R 4.2 ``stats`` and metafor 3.8); the
reference values live in ``tests/data/reference/stats_*.tsv`` and are made by
``tests/reference/make_stats_fixtures.R``. R is never needed at run time.

By theme: the permutation tests live in ``_permutation``, Spearman in ``_spearman``, the
verdict rule and TOST in ``_verdict``; this module re-exports them, so ``stats.verdict``,
``stats.permutation_counts``, ``stats.spearman`` ... are the names to use.

Conventions

* Inputs are numpy arrays (anything ``np.asarray`` accepts); outputs are plain
  ``float``/``int``/``bool`` values or frozen dataclasses.
* NaN values are dropped (pairwise for :func:`spearman` and
  :func:`random_effects_dl`, as R's ``complete.cases``/``na.omit`` do).
* Problems the caller can fix (too few values, infinite values, bad arguments) raise
  ``ValueError`` with a message saying what is wrong. Quantities that are undefined
  for valid data (a standardised difference when both groups are constant) are NaN.

References

* Welch BL (1947) Biometrika 34:28-35; R ``t.test(var.equal = FALSE)``.
* Hedges LV (1981) J Educ Stat 6:107-128; Hedges LV & Olkin I (1985) *Statistical
  Methods for Meta-Analysis*, ch. 5; metafor ``escalc(measure = "SMD")``.
* Phipson B & Smyth GK (2010) Stat Appl Genet Mol Biol 9:39 (permutation p-values).
* Benjamini Y & Hochberg Y (1995) J R Stat Soc B 57:289-300; R ``p.adjust``.
* Best DJ & Roberts DE (1975) Algorithm AS 89, Appl Stat 24:377-379; R ``cor.test``.
* DerSimonian R & Laird N (1986) Control Clin Trials 7:177-188; Higgins JPT &
  Thompson SG (2002) Stat Med 21:1539-1558; Viechtbauer W (2010) J Stat Softw 36(3),
  metafor ``rma(method = "DL")``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from ._permutation import (
    PermutationCount,
    _clean_group,
    permutation_block_size,
    permutation_counts,
    permutation_p,
    permutation_units,
)
from ._spearman import spearman, spearman_z_variance
from ._verdict import VERDICTS, tost_p, verdict

__all__ = [
    "GroupComparison",
    "MetaResult",
    "VERDICTS",
    "PermutationCount",
    "bh_fdr",
    "compare_groups",
    "hedges_correction",
    "permutation_block_size",
    "permutation_counts",
    "permutation_p",
    "permutation_units",
    "random_effects_dl",
    "smd_from_summary",
    "spearman",
    "spearman_z_variance",
    "tost_p",
    "verdict",
]

#: Two-sided 95% normal quantile, qnorm(0.975) = 1.959963984540054, as metafor uses.
Z_975: float = float(sps.norm.ppf(0.975))

#: R's "data are essentially constant" threshold factor in t.test (10 * .Machine$double.eps).
_CONSTANT_EPS = 10.0 * np.finfo(float).eps


# ------------------------------------------------------------------ group comparison


@dataclass(frozen=True)
class GroupComparison:
    """Resistant-vs-sensitive comparison of one score (see :func:`compare_groups`).

    Attributes:
        mean_diff: mean(resistant) - mean(sensitive).
        diff_ci_low, diff_ci_high: Welch 95% confidence interval of `mean_diff`
            (R ``t.test(resistant, sensitive, var.equal = FALSE)$conf.int``).
        hedges_g: bias-corrected standardised mean difference with the exact gamma
            correction J(m), m = n1 + n2 - 2 (metafor ``escalc(measure = "SMD")``).
        g_variance: large-sample variance 1/n1 + 1/n2 + g^2 / (2 (n1 + n2)) (``vtype = "LS"``).
        g_ci_low, g_ci_high: g -/+ qnorm(0.975) * sqrt(g_variance).
        welch_t, welch_df, welch_p: Welch t statistic, Welch-Satterthwaite df and
            two-sided p-value.
        permutation_p: two-sided label-permutation p-value of `mean_diff`.
        permutation_exact: True when all relabellings were enumerated.
        n_resistant, n_sensitive: group sizes after dropping NaNs.
    """

    mean_diff: float
    diff_ci_low: float
    diff_ci_high: float
    hedges_g: float
    g_variance: float
    g_ci_low: float
    g_ci_high: float
    welch_t: float
    welch_df: float
    welch_p: float
    permutation_p: float
    permutation_exact: bool
    n_resistant: int
    n_sensitive: int


def hedges_correction(m: float) -> float:
    """Exact small-sample bias correction J(m) of Hedges (1981), m = n1 + n2 - 2 degrees of freedom.

    J(m) = Gamma(m/2) / (sqrt(m/2) * Gamma((m-1)/2)), computed on the log scale like
    metafor's internal ``.cmicalc``; NaN for m <= 1 (metafor returns NA). The common
    approximation 1 - 3/(4 m - 1) = 1 - 3/(4 (n1 + n2) - 9) is larger by 0.27% at
    m = 4 (3 vs 3 samples), 0.06% at m = 8 and < 0.04% for m >= 10.
    """
    if not m > 1:
        return math.nan
    return math.exp(math.lgamma(m / 2) - math.log(math.sqrt(m / 2)) - math.lgamma((m - 1) / 2))


def smd_from_summary(
    m1: float, m2: float, sd1: float, sd2: float, n1: int, n2: int
) -> tuple[float, float]:
    """Hedges' g and its sampling variance from group summaries, as metafor computes them.

    Reproduces ``escalc(measure = "SMD", vtype = "LS")`` (metafor 3.8, Viechtbauer 2010):
    d = (m1 - m2) / s_pooled with s_pooled^2 = ((n1-1) sd1^2 + (n2-1) sd2^2) / (n1+n2-2),
    g = J(n1 + n2 - 2) * d (exact gamma correction, :func:`hedges_correction`), and
    var(g) = 1/n1 + 1/n2 + g^2 / (2 (n1 + n2)) (Hedges & Olkin 1985, eq. 5.15 with g).

    Returns (NaN, NaN) when the pooled SD is zero or negligible relative to the means
    (both groups constant): the standardised difference is undefined.

    Raises:
        ValueError: if a group size is < 2 or an SD is negative.
    """
    if n1 < 2 or n2 < 2:
        raise ValueError(f"group sizes must be >= 2 for a standardised difference, got {n1}, {n2}")
    if sd1 < 0 or sd2 < 0:
        raise ValueError(f"standard deviations must be >= 0, got {sd1}, {sd2}")
    m = n1 + n2 - 2
    sd_pooled = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / m)
    if sd_pooled <= _CONSTANT_EPS * max(abs(m1), abs(m2)) or sd_pooled == 0:
        return math.nan, math.nan
    g = hedges_correction(m) * (m1 - m2) / sd_pooled
    var = 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))
    return float(g), float(var)


def _welch(r: np.ndarray, s: np.ndarray) -> tuple[float, float, float, float, float]:
    """Welch two-sample t-test like R ``t.test(r, s, var.equal = FALSE)``: t, df, p, CI.

    When both groups are (essentially) constant R stops with "data are essentially
    constant"; here every Welch quantity is NaN instead so the other statistics survive.
    """
    n1, n2 = r.size, s.size
    m1, m2 = float(np.mean(r)), float(np.mean(s))
    se1 = float(np.var(r, ddof=1)) / n1
    se2 = float(np.var(s, ddof=1)) / n2
    stderr = math.sqrt(se1 + se2)
    if stderr == 0 or stderr < _CONSTANT_EPS * max(abs(m1), abs(m2)):
        return (math.nan,) * 5
    df = stderr**4 / (se1**2 / (n1 - 1) + se2**2 / (n2 - 1))
    t = (m1 - m2) / stderr
    p = float(2 * sps.t.sf(abs(t), df))
    half = float(sps.t.ppf(0.975, df)) * stderr
    return t, df, p, (m1 - m2) - half, (m1 - m2) + half


def compare_groups(
    resistant: np.ndarray,
    sensitive: np.ndarray,
    *,
    max_exact: int = 10_000,
    n_permutations: int = 10_000,
    seed: int = 0,
    permutation: PermutationCount | None = None,
) -> GroupComparison:
    """Compare one score between resistant and sensitive samples.

    * Mean difference with the Welch t-test and its 95% CI, equal to R
      ``t.test(resistant, sensitive, var.equal = FALSE)`` (Welch 1947).
    * Hedges' g with the exact gamma bias correction and its "LS" variance, equal to
      metafor ``escalc(measure = "SMD", m1i, m2i, sd1i, sd2i, n1i, n2i)`` on the group
      means/SDs (Hedges & Olkin 1985) so that per-data-set g values can go straight
      into :func:`random_effects_dl`. CI: g -/+ qnorm(0.975) sqrt(var), as metafor's
      ``summary(escalc(...))`` (1.959964, not a rounded 1.96).
    * Label-permutation p-value of the mean difference (:func:`permutation_p`), or the
      one given by `permutation` (counts gathered from chunks, :func:`permutation_counts`).

    NaNs are dropped. When both groups are constant (pooled SD zero or below
    10 * machine epsilon * max|mean|, R's t.test rule) g, its variance and CI and all
    Welch quantities are NaN; the mean difference and the permutation p stay defined.

    Raises:
        ValueError: fewer than 2 non-missing values in a group or infinite values.
    """
    r = _clean_group(resistant, "resistant")
    s = _clean_group(sensitive, "sensitive")
    if max_exact < 0:
        raise ValueError(f"max_exact must be >= 0, got {max_exact}")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    n1, n2 = r.size, s.size
    m1, m2 = float(np.mean(r)), float(np.mean(s))
    g, g_var = smd_from_summary(m1, m2, float(np.std(r, ddof=1)), float(np.std(s, ddof=1)), n1, n2)
    half = Z_975 * math.sqrt(g_var) if not math.isnan(g_var) else math.nan
    t, df, p, lo, hi = _welch(r, s)
    if permutation is None:
        (permutation,) = permutation_counts([(r, s)], max_exact=max_exact,
                                            n_permutations=n_permutations, seed=seed)
    perm, exact = permutation.p, permutation.exact
    return GroupComparison(
        mean_diff=m1 - m2,
        diff_ci_low=float(lo),
        diff_ci_high=float(hi),
        hedges_g=g,
        g_variance=g_var,
        g_ci_low=g - half,
        g_ci_high=g + half,
        welch_t=float(t),
        welch_df=float(df),
        welch_p=float(p),
        permutation_p=float(perm),
        permutation_exact=exact,
        n_resistant=n1,
        n_sensitive=n2,
    )


# ------------------------------------------------------------------------------ FDR


def bh_fdr(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, equal to R ``p.adjust(p, method = "BH")``.

    NaNs are kept in place and not counted: n is the number of non-NaN p-values, as in
    R (``n = length(p)`` after ``p <- p[!is.na(p)]``). Adjusted value of the i-th smallest
    p: min(1, min_{j >= i} n p_(j) / j). With n <= 1 the input is returned unchanged.
    The output has the shape of the input.

    Raises:
        ValueError: a non-NaN p-value outside [0, 1].
    """
    arr = np.asarray(p, dtype=float)
    flat = arr.ravel().copy()
    ok = ~np.isnan(flat)
    vals = flat[ok]
    if ((vals < 0) | (vals > 1)).any():
        raise ValueError("p-values must lie in [0, 1] (NaN allowed); got values outside it")
    n = vals.size
    if n > 1:
        order = np.argsort(-vals, kind="stable")  # decreasing, like order(p, decreasing=TRUE)
        ranks = np.arange(n, 0, -1, dtype=float)
        adj = np.minimum.accumulate(n / ranks * vals[order])
        out = np.empty(n)
        out[order] = np.minimum(1.0, adj)
        flat[ok] = out
    return flat.reshape(arr.shape)


# ------------------------------------------------------------------------- Spearman


# -------------------------------------------------------------------- meta-analysis


@dataclass(frozen=True)
class MetaResult:
    """Random-effects meta-analysis result (see :func:`random_effects_dl`).

    Attributes mirror metafor's ``rma`` object: estimate (``beta``), se, ci_low/ci_high
    (``ci.lb``/``ci.ub``), z (``zval``), p_value (``pval``), tau2, i2 (``I2``, percent),
    q (``QE``), q_p (``QEp``), k, and weights (``weights(fit)``, percent) aligned with
    the input studies (NaN for studies dropped because of missing values).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    tau2: float
    i2: float
    q: float
    q_p: float
    k: int
    weights: np.ndarray


def random_effects_dl(effects: np.ndarray, variances: np.ndarray) -> MetaResult:
    """DerSimonian-Laird random-effects meta-analysis, equal to metafor ``rma(yi, vi, method = "DL")``.

    With w_i = 1/v_i: Q = sum w_i (y_i - ybar_w)^2, tau^2 = max(0, (Q - (k-1)) / (sum w -
    sum w^2 / sum w)) (DerSimonian & Laird 1986); pooled estimate with weights
    1/(v_i + tau^2), Wald z-test and CI with qnorm(0.975); Q-test on k - 1 df;
    I^2 = 100 tau^2 / (tau^2 + (k-1)/trace(P)) as metafor computes it (equal to
    Higgins & Thompson's max(0, (Q - (k-1))/Q) for DL). With k = 1, like metafor:
    tau2 = 0, Q = 0, q_p = 1, I^2 = 0.

    Studies with a NaN effect or variance are dropped (metafor ``na.action = na.omit``);
    their weight is NaN.

    Raises:
        ValueError: lengths differ, no complete study, infinite values, or a
            non-positive variance (metafor: "DL estimator cannot be used when there are
            non-positive sampling variances").
    """
    y_all = np.asarray(effects, dtype=float).ravel()
    v_all = np.asarray(variances, dtype=float).ravel()
    if y_all.size != v_all.size:
        raise ValueError(
            f"effects and variances must have the same length, got {y_all.size} and {v_all.size}"
        )
    ok = ~(np.isnan(y_all) | np.isnan(v_all))
    y, v = y_all[ok], v_all[ok]
    k = int(y.size)
    if k == 0:
        raise ValueError("no study has both an effect and a variance; cannot meta-analyse")
    if np.isinf(y).any() or np.isinf(v).any():
        raise ValueError("effects and variances must be finite")
    if (v <= 0).any():
        raise ValueError(
            "sampling variances must be > 0 for the DerSimonian-Laird estimator "
            f"(got {v[v <= 0].tolist()})"
        )
    w = 1 / v
    sw = float(w.sum())
    if k > 1:
        ybar = float((w * y).sum() / sw)
        q = max(0.0, float((w * (y - ybar) ** 2).sum()))
        tr_p = sw - float((w**2).sum()) / sw
        tau2 = max(0.0, (q - (k - 1)) / tr_p)
        q_p = float(sps.chi2.sf(q, k - 1))
        vt = (k - 1) / tr_p
        i2 = 100 * tau2 / (vt + tau2)
    else:
        q, q_p, tau2, i2 = 0.0, 1.0, 0.0, 0.0
    wr = 1 / (v + tau2)
    swr = float(wr.sum())
    est = float((wr * y).sum() / swr)
    se = math.sqrt(1 / swr)
    z = est / se
    weights = np.full(y_all.size, np.nan)
    weights[ok] = 100 * wr / swr
    return MetaResult(
        estimate=est,
        se=se,
        ci_low=est - Z_975 * se,
        ci_high=est + Z_975 * se,
        z=z,
        p_value=float(2 * sps.norm.sf(abs(z))),
        tau2=float(tau2),
        i2=float(i2),
        q=q,
        q_p=q_p,
        k=k,
        weights=weights,
    )


# -------------------------------------------------------------------------- verdict
