"""Statistics for the hypothesis tests: group comparisons, FDR, Spearman, meta-analysis.

Every function reproduces a named R reference (R 4.2 ``stats`` and metafor 3.8); the
reference values live in ``tests/data/reference/stats_*.tsv`` and are made by
``tests/reference/make_stats_fixtures.R``. R is never needed at run time.

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

import itertools
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import special
from scipy import stats as sps

__all__ = [
    "GroupComparison",
    "MetaResult",
    "PermutationCount",
    "bh_fdr",
    "compare_groups",
    "hedges_correction",
    "permutation_counts",
    "permutation_p",
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

#: Relative tolerance for ties between permuted and observed |mean difference|.
_PERM_TOL = 1e-12

#: Largest n for which the Spearman null distribution is enumerated (R's ``n_small``).
_SPEARMAN_EXACT_MAX_N = 9

_PREDICTIONS = {"up": 1, "positive": 1, "down": -1, "negative": -1, "changed": 0}


# --------------------------------------------------------------------------- helpers


def _clean_group(values: np.ndarray, name: str) -> np.ndarray:
    """Return `values` as a 1-D float array with NaNs dropped; reject infinities and n < 2."""
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[~np.isnan(arr)]
    if np.isinf(arr).any():
        raise ValueError(f"the {name} group contains infinite values; remove or fix them")
    if arr.size < 2:
        raise ValueError(
            f"the {name} group has {arr.size} non-missing value(s); at least 2 are needed"
        )
    return arr


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


def _perm_diffs(centred: np.ndarray, idx: np.ndarray, total: float, n1: int, n2: int) -> np.ndarray:
    """Mean differences (group 1 - group 2) when the rows of `idx` index group 1."""
    s1 = centred[idx].sum(axis=1)
    return s1 / n1 - (total - s1) / n2


@dataclass(frozen=True)
class PermutationCount:
    """Relabellings of one comparison whose |mean difference| reaches the observed one.

    A permutation test is split into `units` -- the C(n1 + n2, n1) relabellings when
    they are enumerated (`exact`), else Monte-Carlo blocks of permutations -- and a count
    covers units ``[start, stop)`` holding `n_done` relabellings. Counts of disjoint unit
    ranges add up (:meth:`combine`); the p-value needs them all (:attr:`p`).
    """

    count: int
    n_done: int
    n_total: int
    exact: bool
    start: int
    stop: int
    units: int

    @property
    def complete(self) -> bool:
        return self.start == 0 and self.stop == self.units and self.n_done == self.n_total

    @property
    def p(self) -> float:
        """Exact: count / C. Monte Carlo: (1 + count) / (1 + B) (Phipson & Smyth 2010)."""
        if not self.complete:
            raise ValueError(
                f"permutation count covers units {self.start}-{self.stop} of {self.units} "
                f"({self.n_done} of {self.n_total} relabellings); a p-value needs them all"
            )
        if self.exact:
            return self.count / self.n_total
        return (1 + self.count) / (1 + self.n_total)

    @staticmethod
    def combine(parts: list[PermutationCount]) -> PermutationCount:
        """Sum counts of contiguous, non-overlapping unit ranges of the same test."""
        parts = sorted(parts, key=lambda c: c.start)
        first = parts[0]
        pos = first.start
        for c in parts:
            if (c.exact, c.units, c.n_total) != (first.exact, first.units, first.n_total):
                raise ValueError("permutation counts of different tests cannot be combined")
            if c.start != pos:
                raise ValueError(f"permutation counts leave a gap or overlap at unit {pos}")
            pos = c.stop
        return PermutationCount(
            count=sum(c.count for c in parts), n_done=sum(c.n_done for c in parts),
            n_total=first.n_total, exact=first.exact, start=first.start, stop=pos, units=first.units,
        )


def permutation_block_size(n: int) -> int:
    """Monte-Carlo permutations per block for n samples: <= 1,000 and <= 10^7 / n indices.

    Blocks are the units of the random stream (block b is drawn from
    ``default_rng([seed, b])``), so their size depends only on n, never on how the work
    is split: any split into chunks draws the same relabellings as one run.
    """
    return max(1, min(1000, 10_000_000 // max(n, 1)))


def permutation_units(n1: int, n2: int, *, max_exact: int, n_permutations: int) -> tuple[bool, int, int]:
    """(exact, number of units, number of relabellings) of a n1-vs-n2 permutation test."""
    n_comb = math.comb(n1 + n2, n1)
    if n_comb <= max_exact:
        return True, n_comb, n_comb
    size = permutation_block_size(n1 + n2)
    return False, -(-n_permutations // size), n_permutations


def permutation_counts(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    *,
    max_exact: int = 10_000,
    n_permutations: int = 10_000,
    seed: int = 0,
    chunk: int = 0,
    n_chunks: int = 1,
) -> list[PermutationCount]:
    """Chunk `chunk` of `n_chunks` of the permutation tests of several comparisons.

    Each pair is (resistant, sensitive) values (NaNs dropped). The units of each test
    (enumerated relabellings, or Monte-Carlo blocks) are split into `n_chunks` contiguous
    ranges ``[k U // N, (k + 1) U // N)`` and this call counts range `chunk`. Pairs with
    the same group sizes share the relabellings, so each block of random relabellings is
    drawn once for all of them. The counts of all chunks, combined, equal those of one
    unsplit call exactly (integers over the same relabellings).
    """
    if n_chunks < 1 or not 0 <= chunk < n_chunks:
        raise ValueError(f"permutation chunk {chunk} of {n_chunks}: need 0 <= chunk < chunks")
    if max_exact < 0:
        raise ValueError(f"max_exact must be >= 0, got {max_exact}")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    prepared = []
    for r, s in pairs:
        r = _clean_group(r, "resistant")
        s = _clean_group(s, "sensitive")
        values = np.concatenate([r, s])
        centred = values - values.mean()  # better float precision for large offsets
        total = float(centred.sum())
        observed = _perm_diffs(centred, np.arange(r.size)[None, :], total, r.size, s.size)[0]
        threshold = abs(observed) - _PERM_TOL * float(np.max(np.abs(centred)))
        prepared.append((r.size, s.size, centred, total, threshold))

    out: list[PermutationCount | None] = [None] * len(prepared)
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, (n1, n2, *_rest) in enumerate(prepared):
        by_size.setdefault((n1, n2), []).append(i)
    for (n1, n2), members in by_size.items():
        n = n1 + n2
        exact, units, n_total = permutation_units(n1, n2, max_exact=max_exact, n_permutations=n_permutations)
        start, stop = chunk * units // n_chunks, (chunk + 1) * units // n_chunks
        counts = dict.fromkeys(members, 0)
        if exact:
            combos = itertools.islice(itertools.combinations(range(n), n1), start, stop)
            while batch := list(itertools.islice(combos, 100_000)):
                idx = np.asarray(batch, dtype=np.intp)
                for i in members:
                    _, _, centred, total, threshold = prepared[i]
                    diffs = _perm_diffs(centred, idx, total, n1, n2)
                    counts[i] += int(np.count_nonzero(np.abs(diffs) >= threshold))
            n_done = stop - start
        else:
            size = permutation_block_size(n)
            base = np.arange(n, dtype=np.intp)
            n_done = 0
            for b in range(start, stop):
                rows = min(size, n_permutations - b * size)
                rng = np.random.default_rng([seed, b])
                idx = rng.permuted(np.tile(base, (rows, 1)), axis=1)[:, :n1]
                for i in members:
                    _, _, centred, total, threshold = prepared[i]
                    diffs = _perm_diffs(centred, idx, total, n1, n2)
                    counts[i] += int(np.count_nonzero(np.abs(diffs) >= threshold))
                n_done += rows
        for i in members:
            out[i] = PermutationCount(count=counts[i], n_done=n_done, n_total=n_total, exact=exact,
                                      start=start, stop=stop, units=units)
    return out  # type: ignore[return-value]


def permutation_p(
    resistant: np.ndarray,
    sensitive: np.ndarray,
    *,
    max_exact: int = 10_000,
    n_permutations: int = 10_000,
    seed: int = 0,
) -> tuple[float, bool]:
    """Two-sided label-permutation p-value of mean(resistant) - mean(sensitive).

    Exact when the C(n1 + n2, n1) relabellings number at most `max_exact`: all are
    enumerated (the observed one included) and p = #{|diff| >= |observed|} / C.
    Otherwise Monte Carlo with `n_permutations` random relabellings, drawn in blocks of
    :func:`permutation_block_size` (block b from ``numpy.random.default_rng([seed, b])``),
    and p = (1 + #{|diff| >= |observed|}) / (1 + B) (Phipson & Smyth 2010), which is
    never 0 and keeps the test valid. The work can be split into chunks
    (:func:`permutation_counts`) without changing the result.

    Ties: |diff| >= |observed| - 1e-12 * max|x - mean(x)|, so relabellings whose
    difference equals the observed one up to floating-point rounding count as ties
    (the 1e-12 tolerance is relative to the data scale).

    Returns:
        (p, exact) where `exact` is True when all relabellings were enumerated.

    Raises:
        ValueError: fewer than 2 non-missing values in a group, infinite values, or
            max_exact < 0 / n_permutations < 1.
    """
    (c,) = permutation_counts([(resistant, sensitive)], max_exact=max_exact,
                              n_permutations=n_permutations, seed=seed)
    return c.p, c.exact


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


@cache
def _spearman_null_counts(n: int) -> np.ndarray:
    """Counts of S = sum_i (i - pi(i))^2 over all n! permutations pi (index = S).

    Dynamic programme over the set of ranks already used (2^n states), which gives the
    same exact null distribution that AS 89 obtains by enumerating permutations.
    """
    s_max = n * (n * n - 1) // 3
    dp = np.zeros((1 << n, s_max + 1), dtype=np.int64)
    dp[0, 0] = 1
    for mask in range(1 << n):
        row = dp[mask]
        if not row.any():
            continue
        pos = mask.bit_count()
        for j in range(n):
            if not mask & (1 << j):
                step = (pos - j) ** 2
                dp[mask | (1 << j), step:] += row[: s_max + 1 - step]
    return dp[(1 << n) - 1]


def _prho(s: float, n: int, lower_tail: bool) -> float:
    """P[S >= s] (or P[S < s] if `lower_tail`) for Spearman's S under independence.

    Algorithm AS 89 (Best & Roberts 1975) with R's modifications: exact for
    n <= 9, otherwise the AS 89 Edgeworth series with a normal tail, clamped to [0, 1].
    """
    if s <= 0:
        return 0.0 if lower_tail else 1.0
    n3 = n * (n * n - 1) / 3  # maximum of S
    if s > n3:
        return 1.0 if lower_tail else 0.0
    if n <= _SPEARMAN_EXACT_MAX_N:
        counts = _spearman_null_counts(n)
        nfac = math.factorial(n)
        n_ge = int(counts[math.ceil(s) :].sum())  # #{S >= s}
        return (nfac - n_ge) / nfac if lower_tail else n_ge / nfac
    # Edgeworth series coefficients of AS 89.
    c1, c2, c3, c4, c5, c6 = 0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932
    c7, c8, c9, c10, c11, c12 = 0.0879, 0.0151, 0.0072, 0.0831, 0.0131, 4.6e-4
    b = 1 / n
    x = (6 * (s - 1) * b / (n * n - 1) - 1) * math.sqrt(n - 1)
    y = x * x
    u = (
        x
        * b
        * (
            c1
            + b * (c2 + c3 * b)
            + y
            * (
                -c4
                + b * (c5 + c6 * b)
                - y * b * (c7 + c8 * b - y * (c9 - c10 * b + y * b * (c11 - c12 * y)))
            )
        )
    )
    y = u / math.exp(y / 2)
    pv = (-y if lower_tail else y) + float(special.ndtr(x if lower_tail else -x))
    return min(1.0, max(0.0, pv))


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Spearman's rho and two-sided p-value as R ``cor.test(x, y, method = "spearman")``.

    Reproduces R's default ``exact = NULL`` (R 4.2 ``cor.test.default``):

    * pairs with a NaN in x or y are dropped (``complete.cases``); rho is the Pearson
      correlation of the average ranks;
    * without ties and n < 1290, S = (n^3 - n)(1 - rho)/6 is referred to AS 89
      (Best & Roberts 1975): the exact permutation distribution for n <= 9 and the
      AS 89 Edgeworth approximation for 10 <= n < 1290. Like R, the two-sided p is
      2 * P[S >= round(S)] if rho < 0, else 2 * P[S <= round(S)], capped at 1. Note
      the Edgeworth series (and hence R) returns p = 0 for very strong correlations at
      moderate n (e.g. rho = 0.958, n = 12);
    * with ties (where R warns "Cannot compute exact p-value with ties") or n >= 1290,
      the t approximation t = rho sqrt((n - 2) / (1 - rho^2)) on n - 2 df; |rho| = 1
      gives p = 0.

    Returns:
        (rho, p). Both NaN if x or y is constant (R: correlation NA).

    Raises:
        ValueError: x and y differ in length, or fewer than 2 complete pairs.
    """
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.size != ya.size:
        raise ValueError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    ok = ~(np.isnan(xa) | np.isnan(ya))
    xa, ya = xa[ok], ya[ok]
    n = xa.size
    if n < 2:
        raise ValueError(f"Spearman correlation needs >= 2 complete pairs, got {n}")
    rx = sps.rankdata(xa, method="average")
    ry = sps.rankdata(ya, method="average")
    if np.all(rx == rx[0]) or np.all(ry == ry[0]):
        return math.nan, math.nan
    rho = float(np.corrcoef(rx, ry)[0, 1])
    rho = min(1.0, max(-1.0, rho))
    ties = min(np.unique(xa).size, np.unique(ya).size) < n
    exact = n < 1290 and not ties
    den = (n**3 - n) / 6
    q = den * (1 - rho)
    if exact:
        if q > den:
            p = _prho(round(q), n, lower_tail=False)
        else:
            p = _prho(round(q) + 2, n, lower_tail=True)
    else:
        r = 1 - q / den
        one_minus_r2 = max(0.0, 1 - r * r)
        if one_minus_r2 == 0:
            t = math.copysign(math.inf, r)
        else:
            t = r / math.sqrt(one_minus_r2 / (n - 2))
        # upper tail for rho >= 0, lower tail for rho < 0 (R's pspearman)
        p = float(sps.t.cdf(t, n - 2)) if q > den else float(sps.t.sf(t, n - 2))
    return rho, min(2 * p, 1.0)


def spearman_z_variance(rho: float, n: int) -> float:
    """Variance of Fisher's z of a Spearman correlation (Bonett & Wright 2000, Psychometrika
    65:23-28): (1 + rho^2 / 2) / (n - 3). Pearson's 1/(n - 3) understates it for Spearman's rho.

    The one home of this variance: Spearman confidence intervals (hypotheses) and the pooling
    of correlations (meta-analysis) both use it. NaN when n <= 3 or rho is not finite.
    """
    if n <= 3 or not math.isfinite(rho):
        return math.nan
    return (1.0 + rho * rho / 2.0) / (n - 3)


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


#: Every verdict word of a hypothesis row (docs/verdicts.md).
VERDICTS = ("supported", "contradicted", "changed", "no_change", "inconclusive", "not_measurable",
            "not_testable", "context")


def tost_p(estimate: float, se: float, df: float, margin: float) -> float:
    """p value of the two one-sided tests (TOST; Schuirmann 1987, J Pharmacokinet Biopharm
    15:657-680) that the true effect lies inside (-margin, margin).

    With t_low = (estimate + margin) / se and t_high = (estimate - margin) / se, the two
    one-sided p values are P[T >= t_low] (H0: effect <= -margin) and P[T <= t_high]
    (H0: effect >= margin) for T ~ t(df) (normal when df is infinite); the TOST p is the
    larger one, so p < alpha exactly when the (1 - 2 alpha) CI lies inside the margins.
    Equal to R ``max(t.test(x, y, mu = -margin, alternative = "greater")$p.value,
    t.test(x, y, mu = margin, alternative = "less")$p.value)`` for a Welch comparison.
    NaN when an input is not finite, se <= 0 or margin <= 0.
    """
    if not all(math.isfinite(v) for v in (estimate, se, margin)) or se <= 0 or margin <= 0 or not df > 0:
        return math.nan
    t_low, t_high = (estimate + margin) / se, (estimate - margin) / se
    if math.isinf(df):
        return float(max(sps.norm.sf(t_low), sps.norm.cdf(t_high)))
    return float(max(sps.t.sf(t_low, df), sps.t.cdf(t_high, df)))


def verdict(
    effect: float,
    fdr: float,
    predicted: str,
    *,
    alpha: float = 0.05,
    competitive_fdr: float | None = None,
    competitive_sign: float | None = None,
    equivalence_p: float | None = None,
    measurable: bool = True,
    testable: bool = True,
    role: str = "primary",
) -> str:
    """The verdict word of one hypothesis row (the one home of the verdict rule).

    In order:

    * ``context`` for rows whose role is "context" (shown, never judged);
    * ``not_testable`` when not `testable` (too few genes, a group with < 3 samples);
    * ``not_measurable`` when not `measurable` (the gene, or every gene of the set, at
      the noise floor);
    * decided when ``fdr < alpha``, the effect is non-zero and -- when `competitive_fdr` is
      given (not None) -- the competitive test is significant too, ``competitive_fdr <
      alpha`` (the competitive p BH-adjusted within the same family as `fdr`), in the same
      direction (`competitive_sign`, the sign of the effect relative to the random gene
      sets, equals the effect's sign); a NaN `competitive_fdr` never decides. A decided row is ``changed`` for a two-sided prediction ("changed": never
      read as support of a direction), ``supported`` when the effect has the predicted
      sign ("up"/"positive" > 0, "down"/"negative" < 0), ``contradicted`` otherwise;
    * ``no_change`` when the equivalence test puts the effect inside its margin
      (``equivalence_p < alpha``, :func:`tost_p`);
    * ``inconclusive`` otherwise (including NaN effect or fdr).

    The null of a decided row is the intersection-union of "the score does not differ
    between the groups" (self-contained, BH-adjusted) and "the set moves no more than
    random gene sets of its size and expression" (competitive): both must be rejected, each
    with its false discovery rate controlled within the family.

    Raises:
        ValueError: unknown `predicted` or alpha outside (0, 1).
    """
    if predicted not in _PREDICTIONS:
        raise ValueError(
            f"predicted direction must be one of {sorted(_PREDICTIONS)}, got {predicted!r}"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if role == "context":
        return "context"
    if not testable:
        return "not_testable"
    if not measurable:
        return "not_measurable"
    effect, fdr = float(effect), float(fdr)
    decided = not (math.isnan(effect) or math.isnan(fdr) or effect == 0) and fdr < alpha
    if decided and competitive_fdr is not None:
        cp = float(competitive_fdr)
        sign = float(competitive_sign) if competitive_sign is not None else math.nan
        decided = cp < alpha and not math.isnan(sign) and sign != 0 and (sign > 0) == (effect > 0)
    if decided:
        expected = _PREDICTIONS[predicted]
        if expected == 0:
            return "changed"
        return "supported" if (effect > 0) == (expected > 0) else "contradicted"
    if equivalence_p is not None and float(equivalence_p) < alpha:
        return "no_change"
    return "inconclusive"
