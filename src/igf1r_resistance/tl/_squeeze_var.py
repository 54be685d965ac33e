"""limma's prior for the gene-wise variances, ported to numpy/scipy: ``squeezeVar``,
``fitFDist``, ``fitFDistRobustly`` and their helpers (``trigammaInverse``, natural splines for
limma-trend, R's ``zeroin``).

Numbers equal limma 3.54.1 / R 4.2.2 (fixtures in ``tests/data/reference``). The statistics are
those of Smyth GK (2004). Linear models and empirical Bayes methods for assessing differential
expression in microarray experiments. *Stat Appl Genet Mol Biol* 3(1):Article 3 (hyperparameters
``d0``/``s0^2`` by moments of ``log s^2``); Phipson B, Lee S, Majewski IJ, Alexander WS, Smyth GK
(2016). Robust hyperparameter estimation protects against hypervariable genes and improves power
to detect differential expression. *Ann Appl Stat* 10(2):946-963 (``robust=True``); and Law CW,
Chen Y, Shi W, Smyth GK (2014). voom. *Genome Biol* 15:R29 (``trend=True``, limma-trend).
Used by :func:`igf1r_resistance.tl._limma.moderated_t` (eBayes) and
:func:`igf1r_resistance.tl._camera.camera`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import interpolate, special, stats

__all__ = [
    "fit_f_dist",
    "fit_f_dist_robustly",
    "natural_spline_basis",
    "squeeze_var",
    "trigamma_inverse",
]

_DBL_EPSILON = float(np.finfo(float).eps)


# --------------------------------------------------------------------------------------
# squeezeVar / fitFDist (Smyth 2004, section 6.2)
# --------------------------------------------------------------------------------------
def squeeze_var(
    var: np.ndarray,
    df: np.ndarray,
    covariate: np.ndarray | None = None,
    *,
    robust: bool = False,
    winsor_tail_p: tuple[float, float] = (0.05, 0.1),
) -> dict[str, np.ndarray | float]:
    """Empirical Bayes posterior variances, as limma's ``squeezeVar``.

    Fits a scaled F distribution to the sample variances (:func:`fit_f_dist`, or
    :func:`fit_f_dist_robustly` if ``robust``) and shrinks each variance to
    ``(df * var + df.prior * var.prior) / (df + df.prior)`` (Smyth 2004, eq. 6).
    Variances with ``df == 0`` are set to 0 first, so their posterior is the prior.

    Returns a dict with ``df_prior`` (scalar, or per-gene if robust), ``var_prior``
    (scalar, or per-gene with a covariate) and ``var_post`` (per gene).
    """
    var = np.array(var, dtype=float)
    df = np.asarray(df, dtype=float)
    n = var.size
    if n == 0:
        raise ValueError("var is empty")
    if n == 1:
        return {"df_prior": 0.0, "var_prior": var.copy(), "var_post": var.copy()}
    if df.size > 1:
        var[df == 0] = 0.0
    if robust:
        if covariate is not None:
            raise NotImplementedError("robust squeezeVar with a covariate (loessFit) is not ported")
        fit = fit_f_dist_robustly(var, df, winsor_tail_p=winsor_tail_p)
        df_prior = fit["df2_shrunk"]
    else:
        fit = fit_f_dist(var, df, covariate=covariate)
        df_prior = fit["df2"]
    if np.any(np.isnan(df_prior)):
        raise ValueError("Could not estimate prior df")
    var_post = _squeeze_var_post(var, df, fit["scale"], df_prior)
    return {"df_prior": df_prior, "var_prior": fit["scale"], "var_post": var_post}


def _squeeze_var_post(
    var: np.ndarray, df: np.ndarray, var_prior: np.ndarray | float, df_prior: np.ndarray | float
) -> np.ndarray:
    """limma's ``.squeezeVar``: posterior variances, = prior where ``df.prior`` is Inf."""
    var_prior_b = np.broadcast_to(np.asarray(var_prior, dtype=float), var.shape)
    df_prior_b = np.broadcast_to(np.asarray(df_prior, dtype=float), var.shape)
    with np.errstate(invalid="ignore"):
        post = (df * var + df_prior_b * var_prior_b) / (df + df_prior_b)
    return np.where(np.isfinite(df_prior_b), post, var_prior_b)


def _finite_covariate(covariate: np.ndarray, n: int) -> np.ndarray:
    """A copy of `covariate` (length `n`, no NaN) with infinite values replaced as limma's
    ``fitFDist`` does: -Inf / Inf by the finite minimum - 1 / maximum + 1, or by their sign
    when no value is finite."""
    covariate = np.array(covariate, dtype=float)
    if covariate.size != n:
        raise ValueError("x and covariate must be of same length")
    if np.isnan(covariate).any():
        raise ValueError("NA covariate values not allowed")
    isfin = np.isfinite(covariate)
    if not isfin.all():
        if isfin.any():
            lo, hi = covariate[isfin].min(), covariate[isfin].max()
            covariate[covariate == -np.inf] = lo - 1
            covariate[covariate == np.inf] = hi + 1
        else:
            covariate = np.sign(covariate)
    return covariate


def fit_f_dist(
    x: np.ndarray, df1: np.ndarray, covariate: np.ndarray | None = None
) -> dict[str, np.ndarray | float]:
    """Moment estimation of a scaled F distribution, as limma's ``fitFDist``.

    ``x`` are sample variances with ``df1`` degrees of freedom, assumed distributed as
    ``scale * F(df1, df2)``. Following Smyth (2004, section 6.2), ``log x`` is
    corrected by ``digamma(df1/2) - log(df1/2)``, its (trend-adjusted) variance minus
    ``mean(trigamma(df1/2))`` gives ``trigamma(df2/2)``, inverted by
    :func:`trigamma_inverse`. With a ``covariate`` the mean of ``log x`` is a natural
    cubic spline (``splines::ns(covariate, df = splinedf, intercept = TRUE)``,
    ``splinedf = 1 + (nok >= 3) + (nok >= 6) + (nok >= 30)``, capped by the number of
    distinct covariate values) and ``scale`` is a vector.

    Returns ``{"scale": ..., "df2": ...}``; ``df2`` is ``inf`` when the observed dispersion
    is no larger than the sampling dispersion.
    """
    x = np.asarray(x, dtype=float)
    df1 = np.broadcast_to(np.asarray(df1, dtype=float), x.shape)
    n = x.size
    if n == 0:
        return {"scale": float("nan"), "df2": float("nan")}
    if n == 1:
        return {"scale": x.copy(), "df2": 0.0}
    ok = np.isfinite(df1) & (df1 > 1e-15)
    cov_notok = None
    if covariate is not None:
        covariate = _finite_covariate(covariate, n)
    with np.errstate(invalid="ignore"):
        ok = ok & np.isfinite(x) & (x > -1e-15)
    nok = int(ok.sum())
    if nok == 1:
        return {"scale": x[ok].copy(), "df2": 0.0}
    notallok = nok < n
    if notallok:
        x = x[ok]
        df1 = df1[ok]
        if covariate is not None:
            cov_notok = covariate[~ok]
            covariate = covariate[ok]
    if covariate is not None:
        splinedf = 1 + (nok >= 3) + (nok >= 6) + (nok >= 30)
        splinedf = min(splinedf, np.unique(covariate).size)
        if splinedf < 2:
            out = fit_f_dist(x, df1)
            return {"scale": np.full(n, float(out["scale"])), "df2": out["df2"]}

    x = np.maximum(x, 0.0)
    m = float(np.median(x))
    if m == 0:
        m = 1.0  # limma warns: more than half of residual variances are exactly zero
    x = np.maximum(x, 1e-5 * m)
    z = np.log(x)
    e = z - special.digamma(df1 / 2.0) + np.log(df1 / 2.0)
    if covariate is None:
        emean: np.ndarray | float = float(np.mean(e))
        evar = float(np.sum((e - emean) ** 2) / (nok - 1))
    else:
        knots = _ns_default_knots(covariate, splinedf)
        boundary = (float(covariate.min()), float(covariate.max()))
        design = natural_spline_basis(covariate, knots, boundary)
        beta, _, rank, _ = np.linalg.lstsq(design, e, rcond=None)
        fitted = design @ beta
        evar = float(np.sum((e - fitted) ** 2) / (nok - rank))
        if notallok:
            emean = np.zeros(n)
            emean[ok] = fitted
            emean[~ok] = natural_spline_basis(cov_notok, knots, boundary) @ beta
        else:
            emean = fitted
    evar = evar - float(np.mean(special.polygamma(1, df1 / 2.0)))
    if evar > 0:
        df2 = 2.0 * float(trigamma_inverse(np.array([evar]))[0])
        s20 = np.exp(emean + special.digamma(df2 / 2.0) - np.log(df2 / 2.0))
    else:
        df2 = float("inf")
        s20 = float(np.mean(x)) if covariate is None else np.exp(emean)
    if np.ndim(s20) == 0:
        s20 = float(s20)
    return {"scale": s20, "df2": df2}


def trigamma_inverse(x: np.ndarray) -> np.ndarray:
    """Solve ``trigamma(y) = x`` for y, as limma's ``trigammaInverse``.

    Newton iteration on ``1/trigamma(y)`` from ``y = 0.5 + 1/x`` (Smyth 2004), stopping
    when the largest relative step is below 1e-8; asymptotic values for ``x > 1e7``
    (``1/sqrt(x)``) and ``x < 1e-6`` (``1/x``); NaN for negative ``x``.
    """
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.full(x.shape, np.nan)
    ok = ~np.isnan(x) & (x >= 0)
    big = ok & (x > 1e7)
    small = ok & (x < 1e-6)
    y[big] = 1.0 / np.sqrt(x[big])
    y[small] = 1.0 / x[small]
    mid = ok & ~big & ~small
    if mid.any():
        xm = x[mid]
        ym = 0.5 + 1.0 / xm
        for _ in range(51):
            tri = special.polygamma(1, ym)
            dif = tri * (1.0 - tri / xm) / special.polygamma(2, ym)
            ym = ym + dif
            if np.max(-dif / ym) < 1e-8:
                break
        y[mid] = ym
    return y


# --------------------------------------------------------------------------------------
# natural cubic spline basis (splines::ns, intercept = TRUE)
# --------------------------------------------------------------------------------------
def _ns_default_knots(x: np.ndarray, df: int) -> np.ndarray:
    """Interior knots of ``ns(x, df, intercept = TRUE)``: type-7 quantiles of x."""
    n_inner = df - 2
    if n_inner <= 0:
        return np.empty(0)
    probs = np.linspace(0.0, 1.0, n_inner + 2)[1:-1]
    return np.quantile(x, probs)


def natural_spline_basis(
    x: np.ndarray, knots: np.ndarray, boundary: tuple[float, float]
) -> np.ndarray:
    """Natural cubic spline basis spanning the same space as R ``splines::ns(...,
    intercept = TRUE)`` with the given interior and boundary knots.

    B-spline basis of order 4 projected onto the null space of the second derivatives at
    the boundary knots (as ``ns`` does with ``qr(t(const))``), linear beyond the boundary
    knots. The columns may differ from R's by an orthogonal rotation, which leaves
    least-squares fits and predictions unchanged.
    """
    x = np.asarray(x, dtype=float)
    b0, b1 = boundary
    aknots = np.sort(np.concatenate([[b0] * 4, np.asarray(knots, dtype=float), [b1] * 4]))
    nbasis = aknots.size - 4
    spl = interpolate.BSpline(aknots, np.eye(nbasis), 3, extrapolate=True)
    basis = np.zeros((x.size, nbasis))
    left = x < b0
    right = x > b1
    inside = ~(left | right)
    if inside.any():
        basis[inside] = spl(x[inside])
    for mask, pivot in ((left, b0), (right, b1)):
        if mask.any():
            value = spl(np.array([pivot]))[0]
            slope = spl(np.array([pivot]), nu=1)[0]
            basis[mask] = value[None, :] + (x[mask] - pivot)[:, None] * slope[None, :]
    const = spl(np.array([b0, b1]), nu=2)  # 2 x nbasis
    q, _ = np.linalg.qr(const.T, mode="complete")
    return basis @ q[:, 2:]


# --------------------------------------------------------------------------------------
# robust hyperparameters (Phipson et al. 2016), no covariate
# --------------------------------------------------------------------------------------
def _f_logsf(x: np.ndarray, df1: float | np.ndarray, df2: float) -> np.ndarray:
    if np.isinf(df2):
        return stats.chi2.logsf(x * df1, df1)
    return stats.f.logsf(x, df1, df2)


def _f_logcdf(x: np.ndarray, df1: float | np.ndarray, df2: float) -> np.ndarray:
    if np.isinf(df2):
        return stats.chi2.logcdf(x * df1, df1)
    return stats.f.logcdf(x, df1, df2)


def _f_ppf(p: np.ndarray, df1: float, df2: float) -> np.ndarray:
    if np.isinf(df2):
        return stats.chi2.ppf(p, df1) / df1
    return stats.f.ppf(p, df1, df2)


def _f_pdf(x: np.ndarray, df1: float, df2: float) -> np.ndarray:
    if np.isinf(df2):
        return stats.chi2.pdf(x * df1, df1) * df1
    return stats.f.pdf(x, df1, df2)


def _invert_log_tail(
    logp: np.ndarray, direct: Callable[[np.ndarray], np.ndarray], log_tail: Callable
) -> np.ndarray:
    """Quantile from a log tail probability (R's ``log.p = TRUE``).

    ``direct`` maps probabilities to quantiles; where ``exp(logp)`` underflows
    (``logp < -700``) the monotone equation ``log_tail(q) = logp`` is solved by
    bisection on ``log q``.
    """
    logp = np.asarray(logp, dtype=float)
    out = np.empty(logp.shape)
    easy = logp > -700.0
    out[easy] = direct(np.exp(logp[easy]))
    hard = ~easy
    if hard.any():
        target = logp[hard]
        lo = np.full(target.shape, -50.0)
        hi = np.full(target.shape, 700.0)
        increasing = log_tail(np.exp(hi[:1]))[0] > log_tail(np.exp(lo[:1]))[0]
        for _ in range(200):
            mid = (lo + hi) / 2.0
            val = log_tail(np.exp(mid))
            go_up = (val < target) if increasing else (val > target)
            lo = np.where(go_up, mid, lo)
            hi = np.where(go_up, hi, mid)
        out[hard] = np.exp((lo + hi) / 2.0)
    return out


def _t_isf_log(logp: np.ndarray, df: float) -> np.ndarray:
    """``qt(logp, df, lower.tail = FALSE, log.p = TRUE)``."""
    return _invert_log_tail(logp, lambda p: stats.t.isf(p, df), lambda q: stats.t.logsf(q, df))


def _r_trimmed_mean(x: np.ndarray, trim: float) -> float:
    """R ``mean(x, trim = trim)``."""
    n = x.size
    if trim >= 0.5:
        return float(np.median(x))
    lo = int(np.floor(n * trim))  # R: lo <- floor(n * trim) + 1 (1-based)
    xs = np.sort(x)
    return float(np.mean(xs[lo : n - lo]))


def _zeroin2(
    f: Callable[[float], float],
    ax: float,
    bx: float,
    fa: float,
    fb: float,
    tol: float,
    maxit: int = 1000,
) -> float:
    """Brent's root finder exactly as R's ``R_zeroin2`` (``uniroot``)."""
    a, b = ax, bx
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * _DBL_EPSILON * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def fit_f_dist_robustly(
    x: np.ndarray,
    df1: np.ndarray,
    *,
    winsor_tail_p: tuple[float, float] = (0.05, 0.1),
) -> dict[str, np.ndarray | float]:
    """Robust scaled-F fit with per-gene shrunk prior df, as limma's ``fitFDistRobustly``
    without a covariate (Phipson et al. 2016).

    Winsorised moments of ``log x`` are matched to those of a winsorised ``log F``
    (128-point Gauss-Legendre quadrature, as ``statmod::gauss.quad.prob``); ``df2`` is
    found with R's ``uniroot`` (Brent, tol 1e-8); outlying variances get
    ``df2.shrunk`` < ``df2``.

    Returns ``{"scale", "df2", "df2_shrunk"}``.
    """
    x = np.asarray(x, dtype=float)
    df1 = np.broadcast_to(np.asarray(df1, dtype=float), x.shape)
    n = x.size
    if n < 2:
        return {"scale": float("nan"), "df2": float("nan"), "df2_shrunk": np.full(n, np.nan)}
    if n == 2:
        fit = fit_f_dist(x, df1)
        return {**fit, "df2_shrunk": np.full(n, fit["df2"])}
    ok = ~np.isnan(x) & np.isfinite(df1) & (df1 > 1e-6)
    if not ok.all():
        fit = fit_f_dist_robustly(x[ok], df1[ok], winsor_tail_p=winsor_tail_p)
        shrunk = x.copy()
        shrunk[ok] = fit["df2_shrunk"]
        shrunk[~ok] = fit["df2"]
        return {"scale": fit["scale"], "df2": fit["df2"], "df2_shrunk": shrunk}

    m = float(np.median(x))
    if m <= 0:
        raise ValueError("Variances are mostly <= 0")
    x = np.where(x < m * 1e-12, m * 1e-12, x)
    non_robust = fit_f_dist(x, df1)
    wtp = np.resize(np.asarray(winsor_tail_p, dtype=float), 2)
    prob = np.array([wtp[0], 1.0 - wtp[1]])
    if np.all(wtp < 1.0 / n):
        return {**non_robust, "df2_shrunk": np.full(n, non_robust["df2"])}

    x, d1 = _at_largest_df1(x, df1, non_robust)

    z = np.log(x)
    ztrend = _r_trimmed_mean(z, wtp[1])
    zresid = z - ztrend
    zrq = np.quantile(zresid, prob)
    zwins = np.clip(zresid, zrq[0], zrq[1])
    zwmean = float(np.mean(zwins))
    zwvar = float(np.mean((zwins - zwmean) ** 2) * n / (n - 1))

    def winsorized_moments(df2: float) -> tuple[float, float]:
        return _winsorized_log_f_moments(df2, d1, wtp)

    mom_mean, mom_var = winsorized_moments(np.inf)
    funval_inf = np.log(zwvar / mom_var)
    if funval_inf <= 0:
        ztc = ztrend + zwmean - mom_mean
        return {"scale": float(np.exp(ztc)), "df2": float("inf"),
                "df2_shrunk": _shrunk_df_infinite(np.exp(z - ztc), d1)}

    def fun(u: float) -> float:
        return float(np.log(zwvar / winsorized_moments(u / (1.0 - u))[1]))

    if np.isinf(non_robust["df2"]):
        return {**non_robust, "df2_shrunk": np.full(n, np.inf)}
    rbx = non_robust["df2"] / (1.0 + non_robust["df2"])
    funval_low = fun(rbx)
    if funval_low >= 0:
        df2 = float(non_robust["df2"])
    else:
        root = _zeroin2(fun, rbx, 1.0, funval_low, funval_inf, tol=1e-8)
        df2 = root / (1.0 - root)
    mom_mean, _ = winsorized_moments(df2)
    ztc = ztrend + zwmean - mom_mean
    s20 = float(np.exp(ztc))
    return {"scale": s20, "df2": df2, "df2_shrunk": _shrunk_df(np.exp(z - ztc), d1, df2)}


# 128-point Gauss-Legendre quadrature on [0, 1] (statmod::gauss.quad.prob(128))
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(128)
_GAUSS_NODES = (_GAUSS_NODES + 1.0) / 2.0
_GAUSS_WEIGHTS = _GAUSS_WEIGHTS / 2.0


def _at_largest_df1(x: np.ndarray, df1: np.ndarray, non_robust: dict) -> tuple[np.ndarray, float]:
    """Variances with smaller df1 moved to the same tail probability at the largest df1
    (fitFDistRobustly's first step, for unequal residual df); returns (x, largest df1)."""
    df1max = float(np.max(df1))
    lower = df1 < (df1max - 1e-14)
    if lower.any():
        s = float(non_robust["scale"])
        f = x[lower] / s
        d2 = float(non_robust["df2"])
        pupper = _f_logsf(f, df1[lower], d2)
        plower = _f_logcdf(f, df1[lower], d2)
        up = pupper < plower
        fnew = f.copy()
        if up.any():
            fnew[up] = _invert_log_tail(
                pupper[up],
                lambda p: _f_isf(p, df1max, d2),
                lambda q: _f_logsf(q, df1max, d2),
            )
        if (~up).any():
            fnew[~up] = _invert_log_tail(
                plower[~up],
                lambda p: _f_ppf(p, df1max, d2),
                lambda q: _f_logcdf(q, df1max, d2),
            )
        x = x.copy()
        x[lower] = fnew * s
    return x, df1max


def _winsorized_log_f_moments(df2: float, d1: float, wtp: np.ndarray) -> tuple[float, float]:
    """Mean and variance of a winsorised log F(d1, df2) (tails `wtp`), by quadrature."""
    fq = _f_ppf(np.array([wtp[0], 1.0 - wtp[1]]), d1, df2)
    zq = np.log(fq)
    q = fq / (1.0 + fq)
    nodes = q[0] + (q[1] - q[0]) * _GAUSS_NODES
    fnodes = nodes / (1.0 - nodes)
    znodes = np.log(fnodes)
    dens = _f_pdf(fnodes, d1, df2) / (1.0 - nodes) ** 2
    q21 = q[1] - q[0]
    mean = q21 * np.sum(_GAUSS_WEIGHTS * dens * znodes) + np.sum(zq * wtp)
    var = q21 * np.sum(_GAUSS_WEIGHTS * dens * (znodes - mean) ** 2) + np.sum((zq - mean) ** 2 * wtp)
    return float(mean), float(var)


def _shrunk_df_infinite(fstat: np.ndarray, d1: float) -> np.ndarray:
    """Per-gene shrunk prior df when the robust df2 is infinite (outliers get finite df)."""
    n = fstat.size
    tail_p = stats.chi2.sf(fstat * d1, d1)
    r = stats.rankdata(fstat)
    emp = (n - r + 0.5) / n
    prob_not_outlier = np.minimum(tail_p / emp, 1.0)
    df_pooled = n * d1
    shrunk = np.full(n, np.inf)
    outl = prob_not_outlier < 1
    if outl.any():
        shrunk[outl] = prob_not_outlier[outl] * df_pooled
        o = np.argsort(tail_p, kind="stable")
        shrunk[o] = np.maximum.accumulate(shrunk[o])
    return shrunk


def _shrunk_df(fstat: np.ndarray, d1: float, df2: float) -> np.ndarray:
    """Per-gene shrunk prior df for a finite robust df2: mixes df2 and an outlier df by the
    probability that the gene's variance is not an outlier (Phipson et al. 2016)."""
    n = fstat.size
    log_tail_p = _f_logsf(fstat, d1, df2)
    r = stats.rankdata(fstat)
    log_emp = np.log(n - r + 0.5) - np.log(n)
    log_pno = np.minimum(log_tail_p - log_emp, 0.0)
    prob_not_outlier = np.exp(log_pno)
    prob_outlier = -np.expm1(log_pno)
    if np.any(log_pno < 0):
        min_log_tail_p = float(np.min(log_tail_p))
        if min_log_tail_p == -np.inf:
            shrunk = prob_not_outlier * df2
        else:
            df2_outlier = np.log(0.5) / min_log_tail_p * df2
            new_log_tail_p = float(_f_logsf(np.array([np.max(fstat)]), d1, df2_outlier)[0])
            df2_outlier = np.log(0.5) / new_log_tail_p * df2_outlier
            shrunk = prob_not_outlier * df2 + prob_outlier * df2_outlier
        o = np.argsort(log_tail_p, kind="stable")
        ordered = shrunk[o]
        cm = np.cumsum(ordered) / np.arange(1, n + 1)
        imin = int(np.argmin(cm))
        ordered[: imin + 1] = cm[imin]
        shrunk = np.empty(n)
        shrunk[o] = np.maximum.accumulate(ordered)
    else:
        shrunk = np.full(n, df2)
    return shrunk


def _f_isf(p: np.ndarray, df1: float, df2: float) -> np.ndarray:
    if np.isinf(df2):
        return stats.chi2.isf(p, df1) / df1
    return stats.f.isf(p, df1, df2)
