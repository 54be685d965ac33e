"""limma on a general design: one fit, several contrasts (``lmFit`` + ``contrasts.fit`` + ``eBayes``).

Reproduces, number for number, the R code::

    design <- model.matrix(~ 0 + factor + covariate1 + ... [+ pair])
    fit <- contrasts.fit(lmFit(x, design), makeContrasts(..., levels = design))
    eb <- eBayes(fit, trend = trend, robust = robust)
    topTable(eb, coef = name, number = Inf, sort.by = "none", confint = TRUE)

with limma 3.54 (fixtures ``tests/data/reference/design_*``, made by
``tests/reference/make_design_fixtures.R``: a factor covariate, a numeric covariate, pairing
by cell line, three groups with missing values). Pairing is a blocking factor in the design
(the classic paired analysis of the limma User's Guide, section 9.4), so a pair's shared
baseline is removed before the arms are compared.

The empirical Bayes step is :func:`igf1r_resistance.tl._limma._ebayes`, shared with the two-group
test: one home for the moderated t. Smyth GK (2004). Linear models and empirical Bayes
methods for assessing differential expression in microarray experiments. *Stat Appl Genet
Mol Biol* 3(1):3.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import GroupingError
from ._limma import _ebayes, confint_margin
from .stats import bh_fdr

TOPTABLE_COLUMNS = ["gene", "logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]
# dqrdc2's tolerance in R's lm.fit: a column whose remaining norm falls below tol x its own
# norm is aliased with the columns before it (its coefficient is NA).
_QR_TOL = 1e-7


class DesignError(GroupingError, ValueError):
    """A design that cannot be fitted (not of full rank, no residual degrees of freedom, ...)."""


def design_matrix(
    samples: pd.DataFrame,
    factor: str,
    covariates: list[str] | tuple[str, ...] = (),
    pair_by: str | None = None,
) -> pd.DataFrame:
    """R's ``model.matrix(~ 0 + factor + covariates + pair_by)`` for a sample sheet.

    The factor gets one column per level (``{factor}{level}``, levels sorted as R's
    ``factor()`` sorts them); a text covariate and the pairing factor get treatment
    contrasts (their first level is the baseline); a numeric covariate is one column.

    Parameters
    ----------
    samples
        One row per sample (index = sample ids), columns named by ``factor``,
        ``covariates`` and ``pair_by``.

    Returns
    -------
    pandas.DataFrame
        Samples x design columns (float), in R's column order.

    Raises
    ------
    DesignError
        A named column is absent, a numeric covariate has missing values, or a factor
        value is missing.
    """
    columns: dict[str, np.ndarray] = {}
    terms = [factor, *covariates] + ([pair_by] if pair_by else [])
    for i, term in enumerate(terms):
        if term not in samples.columns:
            raise DesignError(f"design: column {term!r} is not in the sample table")
        values = samples[term]
        numeric = pd.api.types.is_numeric_dtype(values) and term != factor and term != pair_by
        if numeric:
            if values.isna().any():
                missing = ", ".join(map(str, samples.index[values.isna()][:5]))
                raise DesignError(f"design: numeric covariate {term!r} has missing values ({missing})")
            columns[term] = values.to_numpy(float)
            continue
        if values.isna().any():
            missing = ", ".join(map(str, samples.index[values.isna()][:5]))
            raise DesignError(f"design: {term!r} has no value for sample(s) {missing}")
        text = values.astype(str)
        levels = sorted(text.unique())
        for level in levels if i == 0 else levels[1:]:
            columns[f"{term}{level}"] = (text == level).to_numpy(float)
    return pd.DataFrame(columns, index=samples.index)


def check_full_rank(design: pd.DataFrame) -> None:
    """Raise :class:`DesignError` naming the first design column that the columns before it
    explain (a covariate confounded with the factor), or when no residual df remain."""
    x = design.to_numpy(float)
    kept = _estimable_columns(x)
    aliased = [c for c, k in zip(design.columns, kept) if not k]
    if aliased:
        raise DesignError(
            f"design is not of full rank: column {aliased[0]!r} is a combination of the columns "
            "before it (a covariate confounded with the factor, or a pair whose samples sit in "
            "one group)"
        )
    if x.shape[0] - x.shape[1] < 1:
        raise DesignError(
            f"design has {x.shape[0]} samples for {x.shape[1]} coefficients: no residual degrees "
            "of freedom"
        )


def check_pairs(samples: pd.DataFrame, factor: str, pair_by: str) -> None:
    """Raise :class:`DesignError` naming every pair whose samples all sit in one level of
    ``factor``: such a pair is fitted, but it says nothing about the comparison (its
    samples only estimate their own baseline), which is almost always a sample-sheet error."""
    levels = samples.groupby(samples[pair_by].astype(str))[factor].nunique()
    lonely = sorted(levels.index[levels < 2])
    if lonely:
        raise DesignError(
            f"design: pair(s) {', '.join(lonely[:5])} of {pair_by!r} have all their samples in one "
            f"level of {factor!r}; each pair needs samples in at least two levels"
        )


def _estimable_columns(x: np.ndarray) -> np.ndarray:
    """Columns kept by LINPACK dqrdc2's limited pivoting (R ``lm.fit``): greedily, in order,
    a column is kept if its part orthogonal to the kept columns has norm >= tol x its norm."""
    keep = np.zeros(x.shape[1], dtype=bool)
    basis = np.zeros((x.shape[0], 0))
    for j in range(x.shape[1]):
        col = x[:, j]
        norm = np.linalg.norm(col)
        resid = col - basis @ (basis.T @ col) if basis.shape[1] else col
        if norm > 0 and np.linalg.norm(resid) >= _QR_TOL * norm:
            keep[j] = True
            basis = np.column_stack([basis, resid / np.linalg.norm(resid)])
    return keep


def fit_design(values: np.ndarray, design: np.ndarray) -> dict[str, np.ndarray]:
    """limma ``lmFit`` (``lm.series``): per-gene least squares on the observed samples.

    Genes with the same pattern of missing values share one QR decomposition. Returns
    ``coefficients`` and ``stdev_unscaled`` (genes x coefficients; NaN where a coefficient
    is not estimable from a gene's observed samples), ``sigma2``, ``df_residual``,
    ``amean`` (``rowMeans(x, na.rm = TRUE)``) and ``cov_coefficients`` (``(X'X)^-1`` of
    the full design).
    """
    n_genes, n_samples = values.shape
    n_coef = design.shape[1]
    coef = np.full((n_genes, n_coef), np.nan)
    stdev = np.full((n_genes, n_coef), np.nan)
    s2 = np.full(n_genes, np.nan)
    dfres = np.zeros(n_genes)
    observed = np.isfinite(values)
    patterns, which = np.unique(observed, axis=0, return_inverse=True)
    for p, obs in enumerate(patterns):
        rows = np.flatnonzero(which.ravel() == p)
        if not obs.any():
            continue
        x = design[obs]
        kept = _estimable_columns(x)
        xk = x[:, kept]
        y = values[np.ix_(rows, np.flatnonzero(obs))]
        q, r = np.linalg.qr(xk)
        beta = np.linalg.solve(r, q.T @ y.T)  # kept coefficients x genes
        rinv = np.linalg.inv(r)
        unscaled = np.sqrt(np.einsum("ij,ij->i", rinv, rinv))  # sqrt(diag((X'X)^-1))
        df = int(obs.sum()) - int(kept.sum())
        coef[np.ix_(rows, np.flatnonzero(kept))] = beta.T
        stdev[np.ix_(rows, np.flatnonzero(kept))] = unscaled
        dfres[rows] = df
        if df > 0:
            resid = y - (xk @ beta).T
            s2[rows] = np.einsum("ij,ij->i", resid, resid) / df
    with np.errstate(invalid="ignore", divide="ignore"):
        amean = np.where(observed, values, 0.0).sum(axis=1) / observed.sum(axis=1)
    return {
        "coefficients": coef, "stdev_unscaled": stdev, "sigma2": s2, "df_residual": dfres,
        "amean": amean, "cov_coefficients": np.linalg.inv(design.T @ design),
    }


def contrasts_fit(fit: dict[str, np.ndarray], contrasts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """limma ``contrasts.fit`` for a full-rank design: the contrasts' estimates and their
    unscaled standard deviations (genes x contrasts).

    As limma: when the design's coefficients are orthogonal the variances add; otherwise
    each gene's standard deviations are combined through the Cholesky factor of the
    coefficients' correlation matrix; NA coefficients enter with a standard deviation of
    1e30, and a contrast that touches one is NA.
    """
    coef = fit["coefficients"].copy()
    stdev = fit["stdev_unscaled"].copy()
    cov = fit["cov_coefficients"]
    sd = np.sqrt(np.diag(cov))
    cormatrix = cov / np.outer(sd, sd)
    nonzero = np.abs(contrasts).sum(axis=1) != 0  # limma drops all-zero contrast rows
    contrasts, coef, stdev = contrasts[nonzero], coef[:, nonzero], stdev[:, nonzero]
    cormatrix = cormatrix[np.ix_(nonzero, nonzero)]
    na = np.isnan(coef)
    coef[na] = 0.0
    stdev[na] = 1e30
    estimate = coef @ contrasts
    lower = cormatrix[np.tril_indices(len(cormatrix), -1)]
    if lower.size == 0 or np.all(np.abs(lower) < 1e-14):
        unscaled = np.sqrt(stdev**2 @ contrasts**2)
    else:
        chol = np.linalg.cholesky(cormatrix).T  # R's chol(): upper triangular
        # per gene: R %*% (stdev_g * contrasts), then the column norms
        scaled = np.einsum("ab,gb,bc->gac", chol, stdev, contrasts)
        unscaled = np.sqrt(np.einsum("gac,gac->gc", scaled, scaled))
    huge = unscaled > 1e20
    estimate[huge] = np.nan
    unscaled[huge] = np.nan
    return estimate, unscaled


def linear_model(
    expr: pd.DataFrame,
    design: pd.DataFrame,
    contrasts: dict[str, pd.Series | dict[str, float]],
    *,
    trend: bool = False,
    robust: bool = False,
    confidence: float = 0.95,
) -> dict[str, pd.DataFrame]:
    """Moderated t statistics of several contrasts from ONE fit of a design.

    Parameters
    ----------
    expr
        Genes x samples log2 expression; NaN marks a missing value (each gene is fitted
        on the samples it has, as ``lmFit`` does).
    design
        Samples x coefficients (e.g. from :func:`design_matrix`); its index selects and
        orders the samples of ``expr``.
    contrasts
        Name -> weights of the design columns (absent columns weigh 0), e.g.
        ``{"R_vs_C": {"armR": 1, "armC": -1}}``.
    trend, robust
        limma-trend and robust empirical Bayes, as in ``eBayes``.
    confidence
        Level of topTable's ``confint`` interval.

    Returns
    -------
    dict
        Contrast name -> table with :data:`TOPTABLE_COLUMNS` in input gene order, equal to
        ``topTable(eb, coef = name, number = Inf, sort.by = "none", confint = TRUE)``.

    Raises
    ------
    DesignError
        The design is not of full rank or leaves no residual degrees of freedom, a sample
        of the design is not in ``expr``, or a contrast names an unknown column.
    """
    check_full_rank(design)
    missing = [s for s in design.index if s not in expr.columns]
    if missing:
        raise DesignError(f"design samples without expression values: {', '.join(map(str, missing[:5]))}")
    weights = np.zeros((design.shape[1], len(contrasts)))
    for j, (name, spec) in enumerate(contrasts.items()):
        for column, w in dict(spec).items():
            if column not in design.columns:
                raise DesignError(f"contrast {name!r} names {column!r}, not a design column "
                                  f"({', '.join(design.columns)})")
            weights[design.columns.get_loc(column), j] = float(w)
    values = expr.loc[:, design.index].to_numpy(dtype=float, na_value=np.nan)
    fit = fit_design(values, design.to_numpy(float))
    estimate, unscaled = contrasts_fit(fit, weights)
    present = np.isfinite(fit["amean"])
    out = {}
    for j, name in enumerate(contrasts):
        eb = _ebayes(estimate[present, j], unscaled[present, j], fit["sigma2"][present],
                     fit["df_residual"][present], fit["amean"][present] if trend else None,
                     robust=robust)
        full = {k: np.full(len(expr), np.nan) for k in ("t", "P.Value", "B", "margin")}
        full["t"][present] = eb["t"]
        full["P.Value"][present] = eb["p_value"]
        full["B"][present] = eb["lods"]
        full["margin"][present] = confint_margin(eb, unscaled[present, j], confidence)
        logfc = estimate[:, j]
        out[name] = pd.DataFrame({
            "gene": list(expr.index), "logFC": logfc, "CI.L": logfc - full["margin"],
            "CI.R": logfc + full["margin"], "AveExpr": fit["amean"], "t": full["t"],
            "P.Value": full["P.Value"], "adj.P.Val": bh_fdr(full["P.Value"]), "B": full["B"],
        }, columns=TOPTABLE_COLUMNS)
    return out
