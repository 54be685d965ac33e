"""limma's ``camera``, ported to numpy/scipy: a competitive gene-set test of resistant versus
sensitive samples that accounts for inter-gene correlation.

Wu D & Smyth GK (2012). Camera: a competitive gene set test accounting for inter-gene
correlation. *Nucleic Acids Res* 40(17):e133; checked against limma 3.54.1 ``camera`` for the
two-group design of :func:`igf1r_resistance.tl._limma.moderated_t` (fixtures
``tests/data/reference/camera_*``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ._limma import _BLOCK_CELLS, LimmaInputError, _prepare
from ._squeeze_var import squeeze_var
from .stats import bh_fdr

__all__ = ["CAMERA_COLUMNS", "camera", "zscore_t_hill"]

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
    complete = _complete_genes(values, step)
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
    mean_res, mean_sen, sigma2, amean = _group_fit(complete_rows, is_res, n_genes, step, df_residual, trend_var)
    stat = _moderated_z(mean_res, mean_sen, sigma2, amean, is_res, df_residual)
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
        if m == 0 or m == n_genes:
            rows.append((str(name), m, np.nan, "", np.nan))
            continue
        vif, correlation = _inflation(idx, inter_gene_cor if fixed else None, std_resid, df_residual, allow_neg_cor)
        direction, p_value = _set_vs_rest(stat, idx, mean_stat, var_stat, vif, df_camera)
        rows.append((str(name), m, correlation, direction, p_value))
    table = pd.DataFrame(rows, columns=CAMERA_COLUMNS[:-1])
    table["n_genes"] = table["n_genes"].astype(int)
    table["fdr"] = bh_fdr(table["p_value"].to_numpy(dtype=float))
    return table[CAMERA_COLUMNS]


def _complete_genes(values: np.ndarray, step: int) -> np.ndarray:
    """Rows with a value in every used sample, read `step` rows at a time (no copy)."""
    complete = np.empty(values.shape[0], dtype=bool)
    for start in range(0, values.shape[0], step):
        complete[start : start + step] = ~np.isnan(values[start : start + step]).any(axis=1)
    return complete


def _moderated_z(mean_res: np.ndarray, mean_sen: np.ndarray, sigma2: np.ndarray, amean: np.ndarray | None,
                 is_res: np.ndarray, df_residual: int) -> np.ndarray:
    """Each gene's moderated t of resistant - sensitive (variances squeezed, towards the
    `amean` trend when given) as a z-score (Hill), df = min(df.residual + df.prior, G df.residual)."""
    n_res = int(is_res.sum())
    n_sen = is_res.size - n_res
    unscaled_t = (mean_res - mean_sen) / np.sqrt(1.0 / n_res + 1.0 / n_sen)
    sv = squeeze_var(sigma2, float(df_residual), covariate=amean)
    modt = unscaled_t / np.sqrt(sv["var_post"])
    df_total = min(df_residual + float(sv["df_prior"]), mean_res.size * df_residual)
    return zscore_t_hill(modt, df_total)


def _inflation(idx: np.ndarray, fixed_cor: float | None, std_resid, df_residual: int,
               allow_neg_cor: bool) -> tuple[float, float]:
    """(VIF, correlation) of the set at `idx`: from the fixed correlation, or estimated from
    the standardised residuals (``interGeneCorrelation``; NaN and VIF 1 for one gene); the
    VIF floored at 1 unless `allow_neg_cor`."""
    m = idx.size
    if fixed_cor is not None:
        correlation = float(fixed_cor)
        vif = 1.0 + (m - 1) * correlation
    elif m > 1:
        v = std_resid(idx).mean(axis=0)
        vif = m * float(v @ v) / df_residual
        correlation = (vif - 1.0) / (m - 1)
    else:
        vif, correlation = 1.0, np.nan
    if not allow_neg_cor:
        vif = max(1.0, vif)
    return vif, correlation


def _group_fit(complete_rows, is_res: np.ndarray, n_genes: int, step: int, df_residual: int, trend_var: bool):
    """Group means, residual variances (and average expression for `trend_var`) of the
    complete genes, computed in row blocks of `step` genes: (mean_res, mean_sen, sigma2, amean)."""
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
    return mean_res, mean_sen, sigma2, amean


def _set_vs_rest(stat: np.ndarray, idx: np.ndarray, mean_stat: float, var_stat: float, vif: float,
                 df_camera: float) -> tuple[str, float]:
    """camera's two-sample t of the set's z-scores against the other genes', variance inflated
    by `vif`: (direction, two-sided p)."""
    n_genes = stat.size
    m = idx.size
    m2 = n_genes - m
    delta = n_genes / m2 * (float(np.mean(stat[idx])) - mean_stat)
    var_pooled = ((n_genes - 1) * var_stat - delta**2 * m * m2 / n_genes) / (n_genes - 2)
    two_sample_t = delta / np.sqrt(var_pooled * (vif / m + 1.0 / m2))
    down = float(stats.t.cdf(two_sample_t, df_camera))
    up = float(stats.t.sf(two_sample_t, df_camera))
    return ("down" if down < up else "up"), 2.0 * min(down, up)


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
