"""Cell-line panels with drug responses: association of genes and scores with a response,
adjusted for lineage (issue 15 item 4; a contract with ``response:`` and ``higher_is:``).

Across hundreds of lines, tissue of origin drives both expression and drug response, so an
unadjusted correlation mostly says "these tissues differ". Two adjusted tests, one linear and
one rank-based:

* linear: the response is a numeric term of the design ``~ covariates + response`` (R's
  ``model.matrix``, :func:`response_design`) and its coefficient is the contrast. Genes go
  through limma (:func:`gene_associations`: ``lmFit``, ``eBayes``, ``topTable(coef =
  response)``, equal to R limma 3.54 on fixtures); set scores through ordinary least squares
  (:func:`score_associations`, :func:`linear_association`, equal to R ``lm``).
* rank-based: :func:`partial_spearman` with :func:`stratified_permutation_p`: Spearman's rho of
  the within-stratum centred ranks (rank-based partial correlation given the strata = the
  categorical covariates), and a p value from permuting the response within strata, so the
  null keeps every stratum's composition (Good P. *Permutation, Parametric and Bootstrap Tests
  of Hypotheses*, 3rd ed., Springer 2005, section 3.6; stratified permutation).

The response is oriented so that a positive effect means "higher in more resistant lines"
(``higher_is: sensitive`` flips its sign, for a response where higher means more sensitive,
such as CCLE's activity area; IC50 and the AUC of a viability curve are ``higher_is:
resistant``). Lines without a response value are left out (recorded as ``n``); top / bottom
fractions of the response as two groups stay available through the ``groups: {numeric: true}``
block (prepare).

Null of every test: no association of the gene or score with the response within the levels
of the covariates (adjusting for them; for limma, the moderated t of the response coefficient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps

from .linear_model import (
    TOPTABLE_COLUMNS,
    DesignError,
    check_full_rank,
    design_matrix,
    fit_design,
    linear_model,
)

#: the design column of the intercept in :func:`response_design` (R's name)
INTERCEPT = "(Intercept)"
HIGHER_IS = ("resistant", "sensitive")
SCORE_COLUMNS = ["gene_set", "method", "n", "slope", "se", "t", "df", "p_value", "rho", "rank_p",
                 "n_permutations", "strata", "note"]


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
    """Slope of ``x ~ 0 + stratum + response`` by least squares, with its t test (R ``lm``).

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
    return _ols_coefficient(x[ok][None, :], design, "response")[0]


def _ols_coefficient(values: np.ndarray, design: pd.DataFrame, column: str) -> list[Association]:
    """Ordinary least squares of each row of ``values`` (rows x samples, complete) on
    ``design``: the estimate of ``column``, its standard error, t and two-sided p (R ``lm``).
    One home for the set-score test; :func:`fit_design` does the fit."""
    check_full_rank(design)
    fit = fit_design(values, design.to_numpy(float))
    j = design.columns.get_loc(column)
    out = []
    for g in range(values.shape[0]):
        beta, df = float(fit["coefficients"][g, j]), float(fit["df_residual"][g])
        se = float(fit["stdev_unscaled"][g, j]) * math.sqrt(float(fit["sigma2"][g]))
        t = beta / se if se > 0 else math.copysign(math.inf, beta)
        p = float(2.0 * special.stdtr(df, -abs(t)))
        out.append(Association(beta, se, t, df, p, values.shape[1]))
    return out


def oriented_response(samples: pd.DataFrame, response: str, higher_is: str = "resistant",
                      where: str = "") -> pd.Series:
    """The response column as numbers, sign-flipped when ``higher_is: sensitive`` so that
    higher always means more resistant; NaN for lines without a value.

    Raises
    ------
    DesignError
        The column is absent, not numeric, ``higher_is`` is neither resistant nor sensitive,
        or fewer than 3 lines have a value. ``where`` (data set / contrast) leads the message.
    """
    prefix = f"{where}: " if where else ""
    if higher_is not in HIGHER_IS:
        raise DesignError(f"{prefix}higher_is must be resistant or sensitive (got {higher_is!r})")
    if response not in samples.columns:
        raise DesignError(f"{prefix}response column {response!r} is not in the sample table "
                          f"({', '.join(map(str, samples.columns[:10]))})")
    raw = samples[response]
    if not pd.api.types.is_numeric_dtype(raw):  # a sample sheet read as text: "" is a missing value
        raw = raw.where(raw.astype(str).str.strip() != "")
    values = pd.to_numeric(raw, errors="coerce")
    text = raw.notna() & values.isna()
    if text.any():
        bad = ", ".join(f"{i}={raw.loc[i]!r}" for i in samples.index[text][:3])
        raise DesignError(f"{prefix}response column {response!r} is not numeric ({bad})")
    if int(values.notna().sum()) < 3:
        raise DesignError(f"{prefix}response column {response!r} has {int(values.notna().sum())} values; "
                          "an association needs at least 3 lines")
    return values.astype(float) * (1.0 if higher_is == "resistant" else -1.0)


def response_design(samples: pd.DataFrame, response: str, covariates: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """R's ``model.matrix(~ covariates + response)``: the intercept, each covariate (a text
    covariate with treatment contrasts, its first sorted level the baseline; a numeric one as
    a column), then the response as the last column. The response coefficient is the contrast:
    the change per unit of response among lines of equal covariates.

    ``samples`` must hold only lines with a response (see :func:`oriented_response`); a
    covariate with missing values, or a design not of full rank (e.g. one tissue per
    response value), raises :class:`DesignError` naming the column.
    """
    if INTERCEPT in samples.columns:
        raise DesignError(f"design: a sample column is named {INTERCEPT!r}")
    with_intercept = samples.assign(**{INTERCEPT: ""})
    design = design_matrix(with_intercept, INTERCEPT, [*covariates, response])
    return design.rename(columns={design.columns[0]: INTERCEPT})


def gene_associations(
    expr: pd.DataFrame,
    samples: pd.DataFrame,
    response: str,
    covariates: list[str] | tuple[str, ...] = (),
    *,
    higher_is: str = "resistant",
    trend: bool = False,
    robust: bool = False,
    confidence: float = 0.95,
    where: str = "",
) -> pd.DataFrame:
    """limma's moderated t of every gene's association with a numeric response, adjusted for
    covariates: ``lmFit(x, model.matrix(~ covariates + response))``, ``eBayes``,
    ``topTable(coef = "response", confint = TRUE, sort.by = "none")``.

    Parameters
    ----------
    expr
        Genes x samples log2 expression (NaN = missing, fitted per gene as lmFit does).
    samples
        One row per sample (index = sample ids in ``expr``), with ``response`` and the
        covariates; lines without a response are left out.
    response, higher_is
        The response column (IC50, AUC, ...) and which end is resistant: ``logFC`` is the
        log2 change per unit of response towards resistance.
    covariates
        Adjusting terms (tissue / lineage, numbers).
    trend, robust, confidence
        As in :func:`igf1r_resistance.tl.linear_model.linear_model`.
    where
        Data set / contrast for error messages.

    Returns
    -------
    pandas.DataFrame
        :data:`igf1r_resistance.tl.linear_model.TOPTABLE_COLUMNS` in gene order (logFC = slope).

    Raises
    ------
    DesignError
        See :func:`oriented_response` and :func:`response_design`.
    """
    kept, design = _response_inputs(samples, response, covariates, higher_is, where)
    try:
        table = linear_model(expr, design, {response: {response: 1.0}}, trend=trend, robust=robust,
                             confidence=confidence)[response]
    except DesignError as exc:
        raise DesignError(f"{where + ': ' if where else ''}{exc}") from None
    return table[TOPTABLE_COLUMNS]


def _response_inputs(samples: pd.DataFrame, response: str, covariates, higher_is: str,
                     where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lines with a response (the response oriented) and their design, full rank checked."""
    oriented = oriented_response(samples, response, higher_is, where)
    kept = samples.loc[oriented.notna()].assign(**{response: oriented[oriented.notna()]})
    try:
        design = response_design(kept, response, covariates)
        check_full_rank(design)
    except DesignError as exc:
        raise DesignError(f"{where + ': ' if where else ''}{exc}") from None
    return kept, design


def response_weights(samples: pd.DataFrame, response: str, covariates: list[str] | tuple[str, ...] = (), *,
                     higher_is: str = "resistant", where: str = "") -> pd.Series:
    """Per line its weight in the least-squares slope of the response: the response's row of
    ``(X'X)^-1 X'`` for ``X`` = :func:`response_design`, so that any per-line quantity ``v``
    has the adjusted slope ``weights @ v`` (the same number as :func:`score_associations`'
    ``slope`` for a complete score). The weights sum to 0 (the design has an intercept), so a
    score that is a mean of per-gene quantities has a slope that is the mean of the genes'
    slopes: what lets the competitive null (:class:`~igf1r_resistance.tl.competitive.CompetitiveNull`)
    compare a set's slope with random sets' without re-scoring.

    Returns
    -------
    pandas.Series
        Index = the lines with a response; raises :class:`DesignError` as :func:`gene_associations`.
    """
    kept, design = _response_inputs(samples, response, covariates, higher_is, where)
    pinv = np.linalg.pinv(design.to_numpy(float))
    return pd.Series(pinv[design.columns.get_loc(response)], index=kept.index.astype(str), name=response)


def score_associations(
    scores: pd.DataFrame,
    samples: pd.DataFrame,
    response: str,
    covariates: list[str] | tuple[str, ...] = (),
    *,
    higher_is: str = "resistant",
    n_permutations: int = 10_000,
    seed: int = 0,
    where: str = "",
) -> pd.DataFrame:
    """Each set score's association with a numeric response, adjusted for covariates, by
    both tests: the least-squares slope of ``score ~ covariates + response`` with its ordinary
    t (R ``lm``), and the partial Spearman rho within strata with a within-strata permutation
    p (:func:`stratified_permutation_p`; strata = the combinations of the text covariates).

    Parameters
    ----------
    scores
        Long table ``sample, gene_set, method, score`` (results/{ds}/scores.tsv).
    samples, response, covariates, higher_is, where
        As in :func:`gene_associations`.
    n_permutations, seed
        Within-strata permutations of the rank test (seeded: the same p on every run).

    Returns
    -------
    pandas.DataFrame
        :data:`SCORE_COLUMNS`: ``slope, se, t, df, p_value`` (linear; the verdict's test),
        ``rho, rank_p`` (rank-based, beside it), ``n`` lines used, ``strata`` (how many),
        ``note`` (e.g. why the rank test is NaN: a numeric covariate, which strata cannot hold).
    """
    kept, design = _response_inputs(samples, response, covariates, higher_is, where)
    numeric = [c for c in covariates if pd.api.types.is_numeric_dtype(kept[c])]
    text = [c for c in covariates if c not in numeric]
    strata = (kept[text].astype(str).agg("|".join, axis=1) if text else pd.Series("all", index=kept.index))
    wide = scores.assign(sample=scores["sample"].astype(str)).pivot_table(
        index=["gene_set", "method"], columns="sample", values="score", aggfunc="first")
    missing = [s for s in kept.index.astype(str) if s not in wide.columns]
    if missing:
        raise DesignError(f"{where + ': ' if where else ''}no scores for sample(s) {', '.join(missing[:5])}")
    values = wide.loc[:, kept.index.astype(str)].to_numpy(float)
    y = kept[response].to_numpy(float)
    rows = []
    for (gene_set, method), x in zip(wide.index, values):
        row = {"gene_set": gene_set, "method": method, "strata": int(strata.nunique()), "note": ""}
        complete = np.isfinite(x)
        if complete.sum() < design.shape[1] + 1:
            rows.append({**row, "n": int(complete.sum()), "note": "too few lines with a score"})
            continue
        fit = _ols_coefficient(x[complete][None, :], design.loc[complete], response)[0]
        row.update(n=fit.n, slope=fit.estimate, se=fit.se, t=fit.statistic, df=fit.df, p_value=fit.p_value)
        if numeric:
            row["note"] = (f"rank test not run: numeric covariate(s) {', '.join(numeric)} cannot be strata "
                           "(the linear test adjusts for them)")
        else:
            rho, p = stratified_permutation_p(x[complete], y[complete], strata.to_numpy()[complete],
                                              n_permutations=n_permutations, seed=seed)
            row.update(rho=rho, rank_p=p, n_permutations=n_permutations)
        rows.append(row)
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


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
