"""Spearman's rank correlation with R's ``cor.test(method = "spearman")`` p value (Best &
Roberts 1975, Algorithm AS 89, Appl Stat 24:377-379) and its Fisher-z variance.

Part of :mod:`.stats` (which re-exports these names); reference values in
``tests/data/reference/stats_*.tsv`` (``tests/reference/make_stats_fixtures.R``).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy import special
from scipy import stats as sps

#: Largest n for which the Spearman null distribution is enumerated (R's ``n_small``).
_SPEARMAN_EXACT_MAX_N = 9


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
