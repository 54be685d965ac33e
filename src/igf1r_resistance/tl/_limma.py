"""Two-group moderated t-test of limma, ported to numpy/scipy.

This module reproduces, number for number, the R code::

    design <- model.matrix(~0 + group)
    fit  <- lmFit(x, design)
    fit2 <- contrasts.fit(fit, makeContrasts(resistant - sensitive, levels = design))
    fit2 <- eBayes(fit2, trend = trend, robust = robust)
    topTable(fit2, number = Inf, sort.by = "none", adjust.method = "BH")

with limma 3.5x (Bioconductor; checked against limma 3.54.1 / R 4.2.2, fixtures in
``tests/data/reference``). The statistics are those of

* Smyth GK (2004). Linear models and empirical Bayes methods for assessing differential
  expression in microarray experiments. *Stat Appl Genet Mol Biol* 3(1):Article 3
  (hyperparameters ``d0``/``s0^2`` by moments of ``log s^2``, the moderated t and the
  B-statistic / log-odds);
* Phipson B, Lee S, Majewski IJ, Alexander WS, Smyth GK (2016). Robust hyperparameter
  estimation protects against hypervariable genes and improves power to detect
  differential expression. *Ann Appl Stat* 10(2):946-963 (``robust=True``);
* Law CW, Chen Y, Shi W, Smyth GK (2014). voom: precision weights unlock linear model
  analysis tools for RNA-seq read counts. *Genome Biol* 15:R29 (``trend=True``, limma-trend).

Function names follow limma (``squeeze_var`` = ``squeezeVar``, ``fit_f_dist`` =
``fitFDist``, ``trigamma_inverse`` = ``trigammaInverse`` ...), and each docstring says
which R function it mirrors, including limma's edge cases (zero variances, genes
missing a whole group, infinite prior degrees of freedom).

The prior (``squeezeVar``, ``fitFDist``, ``fitFDistRobustly``) is in
:mod:`igf1r_resistance.tl._squeeze_var`; limma's ``camera`` for the same two-group design in
:mod:`igf1r_resistance.tl._camera`.

Missing values are handled as ``lmFit`` does: each gene is fitted on the samples it has.
For the two-group design this has a closed form (group means and pooled residual sum of
squares), so the fit is fully vectorised; a gene missing one whole group gets an NA
coefficient but still has ``df.residual = n_obs - 1`` and a residual variance, and it
therefore *does* enter the estimation of the prior (exactly as in limma).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from ..errors import GroupingError
from ._squeeze_var import _t_isf_log, squeeze_var
from .stats import bh_fdr

__all__ = [
    "LimmaInputError",
    "moderated_t",
    "tmixture_vector",
]

RESISTANT = "resistant"
SENSITIVE = "sensitive"
OUTPUT_COLUMNS = ["gene", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]

#: rows per block in the gene-wise fit (bounds the temporary memory to ~ 2**24 doubles)
_BLOCK_CELLS = 2**24


class LimmaInputError(GroupingError, ValueError):
    """Input to :func:`moderated_t` is unusable (groups too small, bad matrix).

    It is both a :class:`ValueError` and the pipeline's :class:`GroupingError`.
    """


# --------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------
def moderated_t(
    expr: pd.DataFrame,
    groups: pd.Series,
    *,
    trend: bool = False,
    robust: bool = False,
    confint: float | None = None,
) -> pd.DataFrame:
    """limma moderated t-test of resistant versus sensitive samples.

    Equivalent to ``lmFit`` + ``contrasts.fit(resistant - sensitive)`` + ``eBayes`` +
    ``topTable(number=Inf, sort.by="none", adjust.method="BH")`` in R limma (Smyth 2004).

    Parameters
    ----------
    expr
        Genes x samples matrix of log2 expression (index = gene symbols or probe ids,
        columns = sample ids). NaN marks a missing value; each gene is fitted on the
        samples it has (per-gene ``df.residual = n_obs - n_groups_observed``).
    groups
        Group label per sample (index = sample ids). Only samples present in ``expr``
        whose label is ``"resistant"`` or ``"sensitive"`` are used; other samples and
        labels are ignored. Order does not matter.
    trend
        limma-trend: the prior variance is a natural-spline function of ``AveExpr``
        (``squeezeVar(covariate = Amean)``).
    robust
        Robust empirical Bayes (Phipson et al. 2016): outlier variances get smaller
        prior degrees of freedom. Only ``trend=False`` is supported together with
        ``robust=True`` (limma uses ``loessFit`` for the robust trend, which is not
        ported); ``trend=True, robust=True`` raises :class:`NotImplementedError`.

    Returns
    -------
    pandas.DataFrame
        Columns ``gene, logFC, AveExpr, t, P.Value, adj.P.Val, B`` (with ``confint``:
        ``gene, logFC, CI.L, CI.R, AveExpr, ...``, topTable's order) in the input gene
        order (not sorted), with a default RangeIndex. ``logFC = mean(resistant) -
        mean(sensitive)``. Genes missing a whole group (or with no value at all) get
        NaN statistics, as in R. Genes with ``df.residual = 0`` (one value per group)
        get finite statistics driven by the prior variance, exactly as limma does.

    Raises
    ------
    LimmaInputError
        (a ``ValueError``) if a group has fewer than 2 samples, sample ids are
        duplicated, the matrix is empty, not numeric or contains infinite values.
    NotImplementedError
        for ``trend=True, robust=True``.
    """
    if trend and robust:
        raise NotImplementedError(
            "moderated_t(trend=True, robust=True) is not implemented: limma fits the robust "
            "variance trend with loessFit, which has not been ported. Use trend=True or "
            "robust=True, not both."
        )
    values, is_res, genes = _prepare(expr, groups)
    coef, stdev_unscaled, s2, df_residual, amean = _fit_two_groups(values, is_res)

    # Rows without any observation carry no information in limma (df 0, NA t, excluded
    # from BH's n); limma-trend would stop on their NaN AveExpr. They are set aside and
    # reported as NaN, which equals R on the remaining rows.
    present = np.isfinite(amean)
    if not present.any():
        raise LimmaInputError("expression matrix has no observed value in the used samples")
    eb = _ebayes(
        coef[present],
        stdev_unscaled[present],
        s2[present],
        df_residual[present],
        amean[present] if trend else None,
        robust=robust,
    )
    return _top_table(genes, coef, amean, present, eb, stdev_unscaled, confint)


def _top_table(genes, coef: np.ndarray, amean: np.ndarray, present: np.ndarray, eb: dict,
               stdev_unscaled: np.ndarray, confint: float | None) -> pd.DataFrame:
    """topTable(sort.by = "none") of the two-group fit: eBayes' statistics of the `present`
    genes, NaN for the others, BH over the present p values, and with `confint` the CI."""
    n_genes = len(coef)

    def full(v: np.ndarray) -> np.ndarray:
        out = np.full(n_genes, np.nan)
        out[present] = v
        return out

    p_value = full(eb["p_value"])
    table = pd.DataFrame(
        {
            "gene": genes,
            "logFC": coef,
            "AveExpr": amean,
            "t": full(eb["t"]),
            "P.Value": p_value,
            "adj.P.Val": bh_fdr(p_value),
            "B": full(eb["lods"]),
        },
        columns=OUTPUT_COLUMNS,
    )
    if confint is None:
        return table
    if not 0.0 < float(confint) < 1.0:
        raise LimmaInputError(f"confint must be a level between 0 and 1, got {confint!r}")
    # topTable: margin.error <- sqrt(s2.post) * stdev.unscaled * qt(alpha, df = df.total)
    margin = full(confint_margin(eb, stdev_unscaled[present], float(confint)))
    table.insert(2, "CI.L", coef - margin)
    table.insert(3, "CI.R", coef + margin)
    return table


def confint_margin(eb: dict, stdev_unscaled: np.ndarray, level: float) -> np.ndarray:
    """Half-width of topTable's ``confint`` interval of a contrast, the one home of the
    logFC CI (two-group :func:`moderated_t` and :func:`igf1r_resistance.tl.linear_model.linear_model`).

    topTable: ``margin.error <- sqrt(s2.post) * stdev.unscaled * qt((1 + level) / 2, df = df.total)``.
    `eb`: :func:`_ebayes`' result (``s2_post``, ``df_total``); `stdev_unscaled`: the contrast's.
    """
    quantile = stats.t.ppf((1.0 + level) / 2.0, eb["df_total"])
    return np.sqrt(eb["s2_post"]) * stdev_unscaled * quantile


# --------------------------------------------------------------------------------------
# input handling and the gene-wise linear model (lmFit + contrasts.fit)
# --------------------------------------------------------------------------------------
def _prepare(expr: pd.DataFrame, groups: pd.Series) -> tuple[np.ndarray, np.ndarray, list]:
    """Validate inputs; return the used sub-matrix, the resistant mask and gene ids."""
    if not isinstance(expr, pd.DataFrame):
        raise LimmaInputError(f"expr must be a pandas DataFrame, got {type(expr).__name__}")
    if not isinstance(groups, pd.Series):
        raise LimmaInputError(f"groups must be a pandas Series, got {type(groups).__name__}")
    if expr.columns.has_duplicates:
        dup = sorted(map(str, expr.columns[expr.columns.duplicated()].unique()))
        raise LimmaInputError(f"expr has duplicated sample columns: {', '.join(dup[:5])}")
    if groups.index.has_duplicates:
        dup = sorted(map(str, groups.index[groups.index.duplicated()].unique()))
        raise LimmaInputError(f"groups has duplicated sample ids: {', '.join(dup[:5])}")
    if expr.shape[0] == 0:
        raise LimmaInputError("expression matrix has zero rows (no genes)")

    labels = groups.reindex(expr.columns)
    use = labels.isin([RESISTANT, SENSITIVE]).to_numpy()
    is_res = (labels == RESISTANT).to_numpy()[use]
    for name, count in ((RESISTANT, int(is_res.sum())), (SENSITIVE, int((~is_res).sum()))):
        if count < 2:
            raise LimmaInputError(
                f"group '{name}' has {count} sample(s) among the expression columns; the "
                "moderated t-test needs at least 2 samples per group"
            )
    sub = expr if use.all() else expr.loc[:, use]  # avoid copying a large matrix
    try:
        values = sub.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise LimmaInputError(f"expression values must be numeric: {exc}") from exc
    if np.isinf(values).any():
        raise LimmaInputError("expression matrix contains infinite values; use NaN for missing")
    return values, is_res, list(expr.index)


def _fit_two_groups(
    values: np.ndarray, is_res: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-gene least-squares fit of ``~0 + group`` and the contrast resistant - sensitive.

    Mirrors ``lm.series`` (each gene fitted on its observed samples) followed by
    ``contrasts.fit`` for an orthogonal design: coefficient = difference of group means,
    ``stdev.unscaled = sqrt(1/n_res + 1/n_sens)``, ``sigma^2 = RSS / df.residual`` with
    ``df.residual = n_obs - rank`` (rank = number of groups observed). A gene missing a
    whole group has an NA contrast but keeps its variance and df. ``Amean`` is
    ``rowMeans(x, na.rm = TRUE)``.

    Returns ``(coef, stdev_unscaled, sigma2, df_residual, amean)``, NaN where undefined.
    """
    n_genes, n_samples = values.shape
    coef = np.empty(n_genes)
    stdev = np.empty(n_genes)
    s2 = np.empty(n_genes)
    dfres = np.empty(n_genes)
    amean = np.empty(n_genes)
    step = max(1, _BLOCK_CELLS // max(n_samples, 1))
    for start in range(0, n_genes, step):
        block = values[start : start + step]
        sl = slice(start, start + block.shape[0])
        n_g, mean_g, rss_g, sum_g = [], [], [], []
        for mask in (is_res, ~is_res):
            y = block[:, mask]
            obs = ~np.isnan(y)
            n = obs.sum(axis=1).astype(float)
            total = np.where(obs, y, 0.0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = total / n
            dev = np.where(obs, y - mean[:, None], 0.0)
            n_g.append(n)
            mean_g.append(mean)
            rss_g.append(np.einsum("ij,ij->i", dev, dev))
            sum_g.append(total)
        n_obs = n_g[0] + n_g[1]
        rank = (n_g[0] > 0).astype(float) + (n_g[1] > 0)
        df = n_obs - rank
        with np.errstate(invalid="ignore", divide="ignore"):
            coef[sl] = mean_g[0] - mean_g[1]
            stdev[sl] = np.sqrt(1.0 / n_g[0] + 1.0 / n_g[1])
            s2[sl] = np.where(df > 0, (rss_g[0] + rss_g[1]) / df, np.nan)
            amean[sl] = (sum_g[0] + sum_g[1]) / n_obs
        dfres[sl] = df
    missing_group = ~np.isfinite(coef)
    coef[missing_group] = np.nan
    stdev[missing_group] = np.nan
    return coef, stdev, s2, dfres, amean


# --------------------------------------------------------------------------------------
# eBayes
# --------------------------------------------------------------------------------------
def _ebayes(
    coef: np.ndarray,
    stdev_unscaled: np.ndarray,
    sigma2: np.ndarray,
    df_residual: np.ndarray,
    covariate: np.ndarray | None,
    *,
    robust: bool = False,
    proportion: float = 0.01,
    stdev_coef_lim: tuple[float, float] = (0.1, 4.0),
) -> dict[str, np.ndarray | float]:
    """limma's ``.ebayes`` for one contrast: moderated t, p-value and B (Smyth 2004).

    ``df.total = pmin(df.residual + df.prior, sum(df.residual))``; the B-statistic uses
    the prior variance of the coefficient estimated by ``tmixture.vector`` clamped to
    ``stdev.coef.lim^2 / median(s2.prior)``, and the ``df.prior > 1e6`` (normal limit)
    kernel where the prior df is effectively infinite.
    """
    if np.max(df_residual) == 0:
        raise LimmaInputError("No residual degrees of freedom in linear model fits")
    if not np.isfinite(sigma2).any():
        raise LimmaInputError("No finite residual standard deviations")
    sq = squeeze_var(sigma2, df_residual, covariate=covariate, robust=robust)
    df_prior = np.broadcast_to(np.asarray(sq["df_prior"], dtype=float), coef.shape)
    s2_prior = np.asarray(sq["var_prior"], dtype=float)
    s2_post = np.asarray(sq["var_post"], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = coef / stdev_unscaled / np.sqrt(s2_post)
    df_pooled = float(np.nansum(df_residual))
    df_total = np.minimum(df_residual + df_prior, df_pooled)
    p_value = 2.0 * special.stdtr(df_total, -np.abs(t))

    var_prior_lim = np.asarray(stdev_coef_lim, dtype=float) ** 2 / float(np.median(s2_prior))
    var_prior = tmixture_vector(t, stdev_unscaled, df_total, proportion, var_prior_lim)
    if np.isnan(var_prior):
        var_prior = 1.0 / float(np.ravel(s2_prior)[0])
    su2 = stdev_unscaled**2
    r = (su2 + var_prior) / su2
    t2 = t**2
    inf_df = df_prior > 1e6
    with np.errstate(invalid="ignore", divide="ignore"):
        kernel = np.where(
            inf_df,
            t2 * (1.0 - 1.0 / r) / 2.0,
            (1.0 + df_total) / 2.0 * np.log((t2 + df_total) / (t2 / r + df_total)),
        )
        lods = np.log(proportion / (1.0 - proportion)) - np.log(r) / 2.0 + kernel
    return {
        "t": t,
        "p_value": p_value,
        "lods": lods,
        "df_total": df_total,
        "df_prior": sq["df_prior"],
        "s2_prior": sq["var_prior"],
        "s2_post": s2_post,
        "var_prior": var_prior,
    }


def tmixture_vector(
    tstat: np.ndarray,
    stdev_unscaled: np.ndarray,
    df: np.ndarray,
    proportion: float,
    v0_lim: np.ndarray | None = None,
) -> float:
    """Prior variance of non-zero coefficients, as limma's ``tmixture.vector``.

    Uses the ``ceiling(proportion/2 * n)`` largest |t| (after converting every t to the
    largest df by matching tail probabilities) and averages the implied variances.
    """
    ok = ~np.isnan(tstat)
    tstat = np.abs(tstat[ok])
    v1_all = stdev_unscaled[ok] ** 2
    df = np.asarray(df, dtype=float)[ok]
    ngenes = tstat.size
    ntarget = int(np.ceil(proportion / 2.0 * ngenes))
    if ntarget < 1:
        return float("nan")
    p = max(ntarget / ngenes, proportion)
    max_df = float(np.max(df))
    lower = df < max_df
    if lower.any():
        tail = stats.t.logsf(tstat[lower], df[lower])
        tstat = tstat.copy()
        tstat[lower] = _t_isf_log(tail, max_df)
    order = np.argsort(-tstat, kind="stable")[:ntarget]
    tstat = tstat[order]
    v1 = v1_all[order]
    r = np.arange(1, ntarget + 1)
    p0 = 2.0 * special.stdtr(max_df, -tstat)
    ptarget = ((r - 0.5) / ngenes - (1.0 - p) * p0) / p
    v0 = np.zeros(ntarget)
    pos = ptarget > p0
    if pos.any():
        qtarget = stats.t.isf(ptarget[pos] / 2.0, max_df)
        v0[pos] = v1[pos] * ((tstat[pos] / qtarget) ** 2 - 1.0)
    if v0_lim is not None:
        v0 = np.clip(v0, v0_lim[0], v0_lim[1])
    return float(np.mean(v0))


# --------------------------------------------------------------------------------------
# confidence interval of logFC, as topTable(confint = TRUE)
# --------------------------------------------------------------------------------------
def df_from_t_and_p(t: float, p_value: float) -> float:
    """The t distribution's degrees of freedom for which the two-sided p of `t` is `p_value`.

    limma's P.Value is ``2 * pt(-|t|, df.total)``; de.tsv keeps t and P.Value but not
    df.total, so the df is recovered by solving that equation (on the log scale, df between
    0.1 and 1e8; above that the t is normal and the CI equals the normal one). NaN when t
    is 0 or not finite, or p is 0, 1 or not finite (no information about df).
    """
    t, p = abs(float(t)), float(p_value)
    if not (np.isfinite(t) and np.isfinite(p)) or t == 0 or not 0 < p < 1:
        return float("nan")
    target = np.log(p)

    def gap(log_df: float) -> float:
        return float(np.log(2.0) + stats.t.logsf(t, np.exp(log_df))) - target

    lo, hi = np.log(0.1), np.log(1e8)
    if gap(hi) > 0:  # the normal tail is already above p: df is effectively infinite
        return float("inf")
    if gap(lo) < 0:
        return float("nan")
    from scipy.optimize import brentq

    return float(np.exp(brentq(gap, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=200)))


def confint(logfc, t, *, df=None, p_value=None, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of limma's logFC, equal to ``topTable(confint = level)``'s CI.L, CI.R.

    limma: ``margin.error = sqrt(s2.post) * stdev.unscaled * qt((1 + level) / 2, df.total)``
    with ``sqrt(s2.post) * stdev.unscaled = logFC / t``. `df` is ``df.total`` (scalar or per
    gene); when it is not given it is recovered from `t` and `p_value`
    (:func:`df_from_t_and_p`), so de.tsv without CI.L/CI.R columns still gives R's interval.
    The one home of this interval (hypotheses read CI.L/CI.R from de.tsv when present).
    Returns (ci_low, ci_high) arrays; NaN where t is 0 or not finite.
    """
    logfc = np.atleast_1d(np.asarray(logfc, dtype=float))
    t = np.atleast_1d(np.asarray(t, dtype=float))
    if df is None:
        if p_value is None:
            raise ValueError("confint needs df or p_value")
        p_value = np.broadcast_to(np.atleast_1d(np.asarray(p_value, dtype=float)), t.shape)
        df = np.array([df_from_t_and_p(ti, pi) for ti, pi in zip(t, p_value)])
    df = np.broadcast_to(np.asarray(df, dtype=float), t.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where((t != 0) & np.isfinite(t), logfc / t, np.nan)
    quant = np.where(np.isinf(df), stats.norm.ppf((1 + level) / 2), stats.t.ppf((1 + level) / 2, df))
    half = np.abs(se) * quant
    return logfc - half, logfc + half
