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

:func:`camera` ports limma's competitive gene-set test (Wu D & Smyth GK (2012). Camera:
a competitive gene set test accounting for inter-gene correlation. *Nucleic Acids Res*
40(17):e133) for the same two-group design, checked against limma 3.54.1 ``camera``
(fixtures ``tests/data/reference/camera_*``).

Missing values are handled as ``lmFit`` does: each gene is fitted on the samples it has.
For the two-group design this has a closed form (group means and pooled residual sum of
squares), so the fit is fully vectorised; a gene missing one whole group gets an NA
coefficient but still has ``df.residual = n_obs - 1`` and a residual variance, and it
therefore *does* enter the estimation of the prior (exactly as in limma).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import interpolate, special, stats

from ..errors import GroupingError

__all__ = [
    "LimmaInputError",
    "camera",
    "fit_f_dist",
    "fit_f_dist_robustly",
    "moderated_t",
    "natural_spline_basis",
    "p_adjust_bh",
    "squeeze_var",
    "tmixture_vector",
    "trigamma_inverse",
    "zscore_t_hill",
]

RESISTANT = "resistant"
SENSITIVE = "sensitive"
OUTPUT_COLUMNS = ["gene", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]

#: rows per block in the gene-wise fit (bounds the temporary memory to ~ 2**24 doubles)
_BLOCK_CELLS = 2**24
_DBL_EPSILON = float(np.finfo(float).eps)


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
    n_genes = values.shape[0]

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
            "adj.P.Val": p_adjust_bh(p_value),
            "B": full(eb["lods"]),
        },
        columns=OUTPUT_COLUMNS,
    )
    if confint is None:
        return table
    if not 0.0 < float(confint) < 1.0:
        raise LimmaInputError(f"confint must be a level between 0 and 1, got {confint!r}")
    # topTable: margin.error <- sqrt(s2.post) * stdev.unscaled * qt(alpha, df = df.total)
    quantile = stats.t.ppf((1.0 + float(confint)) / 2.0, eb["df_total"])
    margin = full(np.sqrt(eb["s2_post"]) * stdev_unscaled[present] * quantile)
    table.insert(2, "CI.L", coef - margin)
    table.insert(3, "CI.R", coef + margin)
    return table


# --------------------------------------------------------------------------------------
# camera: competitive gene-set test with inter-gene correlation (Wu & Smyth 2012)
# --------------------------------------------------------------------------------------
CAMERA_COLUMNS = ["gene_set", "n_genes", "correlation", "direction", "p_value", "fdr"]


def camera(
    expr: pd.DataFrame,
    groups: pd.Series,
    sets: Mapping[str, Iterable[str]],
    inter_gene_cor: float | None = 0.01,
    *,
    trend_var: bool = False,
    allow_neg_cor: bool = False,
) -> pd.DataFrame:
    """Competitive gene-set test of resistant versus sensitive, as limma's ``camera``.

    Equivalent to R limma 3.54::

        design <- model.matrix(~0 + group)
        camera(x, sets, design, contrast = makeContrasts(resistant - sensitive,
               levels = design), inter.gene.cor = inter_gene_cor,
               trend.var = trend_var, allow.neg.cor = allow_neg_cor, sort = FALSE)

    (Wu D & Smyth GK (2012). Camera: a competitive gene set test accounting for
    inter-gene correlation. *Nucleic Acids Res* 40(17):e133.) Each gene's moderated t
    (residual variances squeezed by :func:`squeeze_var`, no ``eBayes`` trend unless
    ``trend_var``) is turned into a z-score (``zscoreT(approx = TRUE, method =
    "hill")``, df = ``min(df.residual + df.prior, G * df.residual)``); the mean z of the
    set's ``m`` genes is compared with the other genes' by a two-sample t whose variance
    is inflated by ``VIF = 1 + (m - 1) * correlation``; p-values from a t distribution
    with ``G - 2`` df (fixed correlation) or ``min(df.residual, G - 2)`` df (estimated).

    Parameters
    ----------
    expr
        Genes x samples log2 matrix with unique gene ids. Genes with a missing value in
        any used sample are dropped first (R's camera has no missing-value handling: a
        single NA makes every result NA), so ``G`` counts complete genes.
    groups
        ``"resistant"`` / ``"sensitive"`` per sample, as for :func:`moderated_t`.
    sets
        Set name -> gene ids. Ids not in ``expr`` are ignored and duplicates count once
        (R: ``which(ID %in% set)``).
    inter_gene_cor
        Fixed inter-gene correlation (limma's default 0.01), or ``None``/NaN to estimate
        it per set from the standardised residuals (``interGeneCorrelation``); the
        estimate of a one-gene set is NaN (VIF 1).
    trend_var
        Squeeze the residual variances towards a trend in average log2 expression.
    allow_neg_cor
        Keep a VIF below 1 (negative correlation); limma's default (False) floors it at 1.

    Returns
    -------
    pandas.DataFrame
        ``gene_set, n_genes, correlation, direction, p_value, fdr``, one row per set in
        input order. ``correlation`` is the fixed value or the estimate; ``direction`` is
        ``"up"`` (higher in resistant) or ``"down"``; ``p_value`` is two-sided; ``fdr`` is
        BH over the sets. A set without any measured gene (or containing every gene) has
        NaN statistics and an empty direction, and is left out of the FDR.
    """
    values, is_res, genes = _prepare(expr, groups)
    if len(set(genes)) != len(genes):
        raise LimmaInputError("expr has duplicated gene ids; camera needs one row per gene")
    # The matrix is never copied whole (a cohort of 10,000 samples x 20,000 genes is 1.6 GB
    # in float64): complete genes are addressed by row number and every per-gene quantity
    # is computed in blocks of rows of about _BLOCK_CELLS values.
    n_samples = values.shape[1]
    step = max(1, _BLOCK_CELLS // max(n_samples, 1))
    complete = np.empty(values.shape[0], dtype=bool)
    for start in range(0, values.shape[0], step):
        complete[start : start + step] = ~np.isnan(values[start : start + step]).any(axis=1)
    complete_idx = np.flatnonzero(complete)
    if not complete.all():
        genes = [g for g, keep in zip(genes, complete) if keep]
    n_genes = complete_idx.size
    if n_genes < 3:
        raise LimmaInputError(
            f"camera needs at least 3 genes measured in every used sample, got {n_genes}"
        )
    df_residual = n_samples - 2
    fixed = inter_gene_cor is not None and not np.isnan(inter_gene_cor)
    df_camera = n_genes - 2 if fixed else min(df_residual, n_genes - 2)

    def complete_rows(positions) -> np.ndarray:
        """Rows of the complete genes at `positions` (a slice or indices among them)."""
        if complete.all() and isinstance(positions, slice):
            return values[positions]  # a view
        return values[complete_idx[positions]]

    # Two-group closed form of camera's QR: the last effect is the contrast estimate
    # divided by its unscaled sd, and the residual effects span the within-group residuals.
    n_res = int(is_res.sum())
    n_sen = n_samples - n_res
    mean_res = np.empty(n_genes)
    mean_sen = np.empty(n_genes)
    sigma2 = np.empty(n_genes)
    amean = np.empty(n_genes) if trend_var else None
    for start in range(0, n_genes, step):
        sl = slice(start, min(start + step, n_genes))
        block = complete_rows(sl)
        mean_res[sl] = block[:, is_res].mean(axis=1)
        mean_sen[sl] = block[:, ~is_res].mean(axis=1)
        resid = block - np.where(is_res, mean_res[sl, None], mean_sen[sl, None])
        sigma2[sl] = np.einsum("ij,ij->i", resid, resid) / df_residual
        if amean is not None:
            amean[sl] = block.mean(axis=1)
        del block, resid
    unscaled_t = (mean_res - mean_sen) / np.sqrt(1.0 / n_res + 1.0 / n_sen)

    sv = squeeze_var(sigma2, float(df_residual), covariate=amean)
    modt = unscaled_t / np.sqrt(sv["var_post"])
    df_total = min(df_residual + float(sv["df_prior"]), n_genes * df_residual)
    stat = zscore_t_hill(modt, df_total)
    mean_stat = float(np.mean(stat))
    var_stat = float(np.var(stat, ddof=1))

    def std_resid(idx: np.ndarray) -> np.ndarray:
        """Standardised residuals of the complete genes at `idx` (only a set's rows)."""
        resid = complete_rows(idx) - np.where(is_res, mean_res[idx, None], mean_sen[idx, None])
        return resid / np.sqrt(np.maximum(sigma2[idx], 1e-8))[:, None]

    index = pd.Index(genes)
    rows = []
    for name, members in sets.items():
        idx = np.flatnonzero(index.isin(list(members)))
        m = idx.size
        m2 = n_genes - m
        if m == 0 or m2 == 0:
            rows.append((str(name), m, np.nan, "", np.nan))
            continue
        if fixed:
            correlation = float(inter_gene_cor)
            vif = 1.0 + (m - 1) * correlation
        elif m > 1:
            v = std_resid(idx).mean(axis=0)
            vif = m * float(v @ v) / df_residual
            correlation = (vif - 1.0) / (m - 1)
        else:
            vif, correlation = 1.0, np.nan
        if not allow_neg_cor:
            vif = max(1.0, vif)
        delta = n_genes / m2 * (float(np.mean(stat[idx])) - mean_stat)
        var_pooled = ((n_genes - 1) * var_stat - delta**2 * m * m2 / n_genes) / (n_genes - 2)
        two_sample_t = delta / np.sqrt(var_pooled * (vif / m + 1.0 / m2))
        down = float(stats.t.cdf(two_sample_t, df_camera))
        up = float(stats.t.sf(two_sample_t, df_camera))
        rows.append((str(name), m, correlation, "down" if down < up else "up", 2.0 * min(down, up)))
    table = pd.DataFrame(rows, columns=CAMERA_COLUMNS[:-1])
    table["n_genes"] = table["n_genes"].astype(int)
    table["fdr"] = p_adjust_bh(table["p_value"].to_numpy(dtype=float))
    return table[CAMERA_COLUMNS]


def zscore_t_hill(x: np.ndarray, df: float) -> np.ndarray:
    """t statistics to z-scores by Hill's (1970) approximation, as limma's
    ``zscoreT(x, df, approx = TRUE, method = "hill")`` (df capped at 1e100)."""
    x = np.asarray(x, dtype=float)
    df = min(float(df), 1e100)
    a = df - 0.5
    b = 48.0 * a * a
    z = a * np.log1p(x / df * x)
    z = (((((-0.4 * z - 3.3) * z - 24.0) * z - 85.5) / (0.8 * z * z + 100.0 + b) + z + 3.0) / b + 1.0) * np.sqrt(z)
    return z * np.sign(x)


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


def p_adjust_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values exactly as R ``p.adjust(p, "BH")``.

    NaN entries are kept and excluded from the number of tests.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    pv = p[ok]
    n = pv.size
    if n == 0:
        return out
    o = np.argsort(-pv, kind="stable")  # order(p, decreasing = TRUE)
    i = np.arange(n, 0, -1, dtype=float)
    adj = np.minimum(1.0, np.minimum.accumulate(n / i * pv[o]))
    res = np.empty(n)
    res[o] = adj
    out[ok] = res
    return out


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
    d1 = df1max

    z = np.log(x)
    ztrend = _r_trimmed_mean(z, wtp[1])
    zresid = z - ztrend
    zrq = np.quantile(zresid, prob)
    zwins = np.clip(zresid, zrq[0], zrq[1])
    zwmean = float(np.mean(zwins))
    zwvar = float(np.mean((zwins - zwmean) ** 2) * n / (n - 1))

    nodes_raw, weights_raw = np.polynomial.legendre.leggauss(128)
    g_nodes = (nodes_raw + 1.0) / 2.0
    g_weights = weights_raw / 2.0

    def winsorized_moments(df2: float) -> tuple[float, float]:
        fq = _f_ppf(np.array([wtp[0], 1.0 - wtp[1]]), d1, df2)
        zq = np.log(fq)
        q = fq / (1.0 + fq)
        nodes = q[0] + (q[1] - q[0]) * g_nodes
        fnodes = nodes / (1.0 - nodes)
        znodes = np.log(fnodes)
        dens = _f_pdf(fnodes, d1, df2) / (1.0 - nodes) ** 2
        q21 = q[1] - q[0]
        mean = q21 * np.sum(g_weights * dens * znodes) + np.sum(zq * wtp)
        var = q21 * np.sum(g_weights * dens * (znodes - mean) ** 2) + np.sum((zq - mean) ** 2 * wtp)
        return float(mean), float(var)

    mom_mean, mom_var = winsorized_moments(np.inf)
    funval_inf = np.log(zwvar / mom_var)
    if funval_inf <= 0:
        ztc = ztrend + zwmean - mom_mean
        s20 = float(np.exp(ztc))
        fstat = np.exp(z - ztc)
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
        return {"scale": s20, "df2": float("inf"), "df2_shrunk": shrunk}

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
    fstat = np.exp(z - ztc)
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
    return {"scale": s20, "df2": df2, "df2_shrunk": shrunk}


def _f_isf(p: np.ndarray, df1: float, df2: float) -> np.ndarray:
    if np.isinf(df2):
        return stats.chi2.isf(p, df1) / df1
    return stats.f.isf(p, df1, df2)


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
