"""One hypothesis row: the two-group comparison of a score or gene (Welch, Hedges' g,
permutation, TOST), limma's or the design's estimate in its place, a response model's
association row, Spearman's CI of a coupling, the continuous rows against a numeric
response, and the rows of what cannot be tested.

Part of :mod:`._hypotheses` (which plans the rows with :mod:`._hypothesis_plan` and runs the
families and verdicts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..genesets.catalogue import Hypothesis
from . import _limma as limma
from . import stats

if TYPE_CHECKING:
    from ._hypotheses import HypothesisSettings

GENE_METHOD = "expression"


def _observed(effect: float, test: str) -> str:
    if effect is None or not np.isfinite(effect) or effect == 0:
        return "none"
    if test == "coupling":
        return "positive" if effect > 0 else "negative"
    return "up" if effect > 0 else "down"


def _role(h: Hypothesis) -> str:
    return str(getattr(h, "role", "primary") or "primary")


def _untestable(h: Hypothesis, dataset: str, method: str, note: str, primary: bool,
                n_genes: int = 0, n_total: int = 0, missing: str = "") -> dict:
    return {
        "dataset": dataset, "hypothesis": h.id, "method": method, "predicted": h.predicted,
        "observed": "none", "verdict": "not_testable", "primary": primary, "test": h.test,
        "n_genes": n_genes, "n_genes_in_set": n_total, "genes_missing": missing, "note": note,
        "role": _role(h), "exploratory": h.exploratory,
    }


def _pooled_sd(r: np.ndarray, s: np.ndarray) -> float:
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]
    m = r.size + s.size - 2
    if m <= 0:
        return math.nan
    return math.sqrt(((r.size - 1) * np.var(r, ddof=1) + (s.size - 1) * np.var(s, ddof=1)) / m)


def _group_row(h: Hypothesis, dataset: str, method: str, resistant: np.ndarray,
               sensitive: np.ndarray, settings: HypothesisSettings, primary: bool,
               permutation: stats.PermutationCount) -> dict:
    cmp = stats.compare_groups(
        resistant, sensitive, max_exact=settings.max_exact,
        n_permutations=settings.n_permutations, seed=settings.seed, permutation=permutation,
    )
    p = cmp.welch_p if settings.p_value == "welch" else cmp.permutation_p
    # equivalence (TOST) on the Welch t of the mean difference, margin in pooled SDs
    margin = settings.set_margin * _pooled_sd(np.asarray(resistant, float), np.asarray(sensitive, float))
    se = abs(cmp.mean_diff / cmp.welch_t) if cmp.welch_t and np.isfinite(cmp.welch_t) else math.nan
    return {
        "dataset": dataset, "hypothesis": h.id, "method": method,
        "effect": cmp.mean_diff, "ci_low": cmp.diff_ci_low, "ci_high": cmp.diff_ci_high,
        "p_value": p, "predicted": h.predicted, "observed": _observed(cmp.mean_diff, h.test),
        "primary": primary, "test": h.test, "effect_measure": "mean_difference",
        "hedges_g": cmp.hedges_g, "g_variance": cmp.g_variance,
        "g_ci_low": cmp.g_ci_low, "g_ci_high": cmp.g_ci_high,
        "welch_t": cmp.welch_t, "welch_df": cmp.welch_df,
        "permutation_p": cmp.permutation_p, "permutation_exact": cmp.permutation_exact,
        "n_resistant": cmp.n_resistant, "n_sensitive": cmp.n_sensitive,
        "self_contained_p": p, "margin": margin,
        "equivalence_p": stats.tost_p(cmp.mean_diff, se, cmp.welch_df, margin),
        "role": _role(h), "exploratory": h.exploratory,
    }


def _gene_row_from_limma(row: dict, de_row: pd.Series | None, settings: HypothesisSettings) -> dict:
    """Replace a gene row's Welch effect, CI and p by limma's for that gene (de.tsv).

    effect = logFC, CI = topTable(confint = TRUE)'s CI.L/CI.R (read from de.tsv when it
    has them, else :func:`limma.confint` from logFC, t and P.Value), p = P.Value; the
    equivalence test uses the same moderated t (se = logFC / t, df.total). Hedges' g and
    the Welch columns stay (the meta-analysis pools g).
    """
    if de_row is None:
        row["note"] = "; ".join(x for x in (row.get("note", ""), "no limma result for this gene: Welch t") if x)
        row["margin"] = settings.gene_margin
        se = abs(row["effect"] / row["welch_t"]) if row.get("welch_t") and np.isfinite(row["welch_t"]) else math.nan
        row["equivalence_p"] = stats.tost_p(row["effect"], se, row.get("welch_df", math.nan), settings.gene_margin)
        return row
    logfc, t, p = float(de_row["logFC"]), float(de_row["t"]), float(de_row["P.Value"])
    if "CI.L" in de_row.index and "CI.R" in de_row.index and np.isfinite(de_row["CI.L"]):
        lo, hi = float(de_row["CI.L"]), float(de_row["CI.R"])
    else:
        (lo,), (hi,) = limma.confint([logfc], [t], p_value=[p])
    df = limma.df_from_t_and_p(t, p)
    se = abs(logfc / t) if t and np.isfinite(t) else math.nan
    row.update({
        "effect": logfc, "ci_low": float(lo), "ci_high": float(hi), "p_value": p, "self_contained_p": p,
        "observed": _observed(logfc, "gene"), "effect_measure": "log2_fold_change", "limma_t": t,
        "margin": settings.gene_margin, "equivalence_p": stats.tost_p(logfc, se, df, settings.gene_margin),
    })
    return row


def _set_row_from_design(row: dict, fit: pd.Series | None, settings: HypothesisSettings) -> dict:
    """Replace a set row's Welch effect, CI and p by the design's (score ~ design, the
    contrast's estimate, topTable CI and moderated-t p); the equivalence test uses the same
    t (se = estimate / t, its df). Hedges' g and the Welch columns stay (two-level summary)."""
    if fit is None or not np.isfinite(fit["t"]):
        row["note"] = "; ".join(x for x in (row.get("note", ""), "no design fit of this set score: Welch t") if x)
        return row
    estimate, t, p = float(fit["logFC"]), float(fit["t"]), float(fit["P.Value"])
    se = abs(estimate / t) if t else math.nan
    df = limma.df_from_t_and_p(t, p)
    row.update({
        "effect": estimate, "ci_low": float(fit["CI.L"]), "ci_high": float(fit["CI.R"]), "p_value": p,
        "self_contained_p": p, "observed": _observed(estimate, "group"), "effect_measure": "design_contrast",
        "limma_t": t, "equivalence_p": stats.tost_p(estimate, se, df, row.get("margin", math.nan)),
    })
    row["note"] = "; ".join(x for x in (row.get("note", ""), "set score ~ design (limma), contrast estimate") if x)
    return row


RESPONSE_NOTE = ("response model: no two groups, so no Welch t, Hedges' g, label permutation or "
                 "equivalence margin")


def _association_row(t, dataset: str, associations: pd.DataFrame, de_by_gene: pd.DataFrame | None,
                     settings: HypothesisSettings) -> dict:
    """The row of one set or gene test of a response model (see :func:`evaluate`).

    Set: effect = least-squares slope of the score per unit of oriented response adjusted for
    the design's terms, CI = slope +- t(df, 0.975) se, p = its ordinary t test (R ``lm``);
    `permutation_p` = the within-strata permutation p of the partial Spearman (a sensitivity
    column; its rho is in the note). Gene: the gene's association row of de.tsv (limma).
    """
    h = t.hypothesis
    row = {"dataset": dataset, "hypothesis": h.id, "method": t.method, "predicted": h.predicted,
           "primary": t.primary, "test": h.test, "role": _role(h), "exploratory": h.exploratory, **t.extra}
    notes = [row.get("note", "")]
    if h.test == "gene":
        de_row = None
        if de_by_gene is not None and h.gene in de_by_gene.index:
            de_row = de_by_gene.loc[h.gene]
        if de_row is None:
            row.update(effect=math.nan, observed="none")
            notes.append("no limma association result for this gene")
        else:
            logfc, tt, p = float(de_row["logFC"]), float(de_row["t"]), float(de_row["P.Value"])
            row.update(effect=logfc, ci_low=float(de_row["CI.L"]), ci_high=float(de_row["CI.R"]), p_value=p,
                       self_contained_p=p, limma_t=tt, observed=_observed(logfc, "gene"),
                       effect_measure="log2_change_per_unit_response")
            notes.append("limma: log2 expression ~ design terms + response, the response's coefficient")
    else:
        key = (h.gene_set, t.method)
        fit = associations.loc[key] if key in associations.index else None
        if fit is None or not np.isfinite(fit["slope"]):
            row.update(effect=math.nan, observed="none")
            notes.append(str(fit["note"]) if fit is not None and fit["note"] else "no association fit of this score")
        else:
            from scipy import stats as sps

            slope, se, df = float(fit["slope"]), float(fit["se"]), float(fit["df"])
            margin = float(sps.t.ppf(0.975, df)) * se
            row.update(effect=slope, ci_low=slope - margin, ci_high=slope + margin, p_value=float(fit["p_value"]),
                       self_contained_p=float(fit["p_value"]), observed=_observed(slope, "group"),
                       effect_measure="slope_per_unit_response", permutation_p=fit["rank_p"],
                       permutation_exact=False if np.isfinite(fit["rank_p"]) else np.nan)
            notes.append(f"score ~ design terms + response (least squares, t = {float(fit['t']):.3g}, "
                         f"{df:g} df, {int(fit['n'])} lines)")
            if np.isfinite(fit["rank_p"]):
                notes.append(f"partial Spearman rho within {int(fit['strata'])} strata = {float(fit['rho']):.3g}, "
                             f"within-strata permutation p = {float(fit['rank_p']):.3g} (permutation_p)")
            elif fit["note"]:
                notes.append(str(fit["note"]))
    notes.append(RESPONSE_NOTE)
    row["note"] = "; ".join(x for x in notes if x)
    return row


@dataclass
class _GroupTest:
    """A group comparison whose row waits for its permutation count."""

    row: int  # position in the row list
    hypothesis: Hypothesis
    method: str
    resistant: np.ndarray
    sensitive: np.ndarray
    primary: bool
    extra: dict

    @property
    def key(self) -> tuple[str, str]:
        return self.hypothesis.id, self.method


def _spearman_ci(rho: float, n: int) -> tuple[float, float]:
    """95% CI of Spearman's rho by Fisher's z with the Bonett-Wright variance
    (:func:`stats.spearman_z_variance`: (1 + rho^2 / 2) / (n - 3)); NaN when n <= 3."""
    if not np.isfinite(rho):
        return math.nan, math.nan
    if abs(rho) >= 1:
        return rho, rho
    var = stats.spearman_z_variance(rho, n)
    if not np.isfinite(var):
        return math.nan, math.nan
    z, se = math.atanh(rho), math.sqrt(var)
    return math.tanh(z - stats.Z_975 * se), math.tanh(z + stats.Z_975 * se)


def within_group_centred(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """`values` minus their group's mean: what is left once the group difference is removed.

    Coupling hypotheses correlate these, so a difference between resistant and sensitive
    samples in both scores cannot by itself make a coupling (two sets that both go up in
    resistant cells are correlated across the pooled samples even when they are unrelated
    within each group).
    """
    values = np.asarray(values, dtype=float)
    out = values.copy()
    for label in np.unique(labels):
        mask = labels == label
        out[mask] = values[mask] - np.nanmean(values[mask])
    return out


def _continuous_rows(dataset, scores, expression, response, hypotheses, settings, wide) -> pd.DataFrame:
    """Spearman of each group/gene hypothesis' score (or gene) against the numeric response."""
    response = response.astype(float)
    response = response[np.isfinite(response)]
    ids = [s for s in response.index if s in set(expression.columns)]
    y = response[ids].to_numpy(float)
    rows = []
    for h in hypotheses:
        if h.test == "coupling":
            continue
        predicted = {"up": "positive", "down": "negative"}.get(h.predicted, "changed")
        targets = []
        if h.test == "gene":
            if h.gene in expression.index:
                targets.append((GENE_METHOD, expression.loc[h.gene, ids].to_numpy(float)))
        else:
            for method in settings.methods:
                table = wide.get(method)
                if table is not None and h.gene_set in table.index:
                    row = table.loc[h.gene_set].reindex(ids)
                    targets.append((method, row.to_numpy(float)))
        for method, x in targets:
            ok = np.isfinite(x)
            if ok.sum() < 4:
                continue
            rho, p = stats.spearman(x[ok], y[ok])
            lo, hi = _spearman_ci(rho, int(ok.sum()))
            rows.append({
                "dataset": dataset, "hypothesis": h.id, "method": method, "effect": rho, "ci_low": lo,
                "ci_high": hi, "p_value": p, "predicted": predicted, "observed": _observed(rho, "coupling"),
                "primary": False, "test": "continuous", "effect_measure": "spearman_rho_vs_response",
                "role": _role(h), "exploratory": h.exploratory, "self_contained_p": p,
                "n_resistant": int(ok.sum()), "n_sensitive": 0, "note": f"{int(ok.sum())} samples with a response",
            })
    return pd.DataFrame(rows)
