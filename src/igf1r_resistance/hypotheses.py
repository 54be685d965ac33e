"""Test the review's mechanisms as hypotheses in one data set.

One row per (hypothesis, method): the per-sample scores of the hypothesis' gene set
(or the log2 expression of its gene) are compared between resistant and sensitive
samples (mean difference with Welch CI and p, Hedges' g, label-permutation p), or, for
coupling hypotheses, two set scores are correlated across samples (Spearman). p values
are BH-adjusted across all rows of the data set, and the verdict rule of MECHANISMS.md
is applied to every row; the primary method's row carries the data set's verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import stats
from .genesets import GeneSet, Hypothesis

CONTRACT_COLUMNS = [
    "dataset", "hypothesis", "method", "effect", "ci_low", "ci_high", "p_value", "fdr",
    "predicted", "observed", "verdict",
]
EXTRA_COLUMNS = [
    "primary", "test", "effect_measure", "hedges_g", "g_variance", "g_ci_low", "g_ci_high",
    "welch_t", "welch_df", "permutation_p", "permutation_exact", "n_resistant", "n_sensitive",
    "n_genes", "n_genes_in_set", "genes_missing", "methods_agreeing", "note",
]
GENE_METHOD = "expression"


@dataclass(frozen=True)
class HypothesisSettings:
    """Parameters of the hypothesis tests (all from config)."""

    methods: tuple[str, ...]
    primary: str
    min_size: int = 5
    alpha: float = 0.05
    p_value: str = "welch"  # welch | permutation: which p feeds the FDR and the verdict
    max_exact: int = 10_000
    n_permutations: int = 10_000
    seed: int = 0


def _observed(effect: float, test: str) -> str:
    if effect is None or not np.isfinite(effect) or effect == 0:
        return "none"
    if test == "coupling":
        return "positive" if effect > 0 else "negative"
    return "up" if effect > 0 else "down"


def _untestable(h: Hypothesis, dataset: str, method: str, note: str, primary: bool,
                n_genes: int = 0, n_total: int = 0, missing: str = "") -> dict:
    return {
        "dataset": dataset, "hypothesis": h.id, "method": method, "predicted": h.predicted,
        "observed": "none", "verdict": "not_testable", "primary": primary, "test": h.test,
        "n_genes": n_genes, "n_genes_in_set": n_total, "genes_missing": missing, "note": note,
    }


def _group_row(h: Hypothesis, dataset: str, method: str, resistant: np.ndarray,
               sensitive: np.ndarray, settings: HypothesisSettings, primary: bool,
               permutation: stats.PermutationCount) -> dict:
    cmp = stats.compare_groups(
        resistant, sensitive, max_exact=settings.max_exact,
        n_permutations=settings.n_permutations, seed=settings.seed, permutation=permutation,
    )
    p = cmp.welch_p if settings.p_value == "welch" else cmp.permutation_p
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
    }


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


def _fisher_ci(rho: float, n: int) -> tuple[float, float]:
    """95% CI of a correlation by Fisher's z (se 1/sqrt(n-3)); NaN when n <= 3."""
    if n <= 3 or not np.isfinite(rho) or abs(rho) >= 1:
        return (float("nan"), float("nan")) if abs(rho) < 1 else (rho, rho)
    z, se = math.atanh(rho), 1.0 / math.sqrt(n - 3)
    return math.tanh(z - 1.959963984540054 * se), math.tanh(z + 1.959963984540054 * se)


def evaluate(
    dataset: str,
    scores: pd.DataFrame,
    expression: pd.DataFrame,
    groups: pd.Series,
    sets_used: dict[str, GeneSet],
    sets_full: dict[str, GeneSet],
    hypotheses: list[Hypothesis],
    settings: HypothesisSettings,
    response: pd.Series | None = None,
    permutations: dict[tuple[str, str], stats.PermutationCount] | None = None,
    extra_rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All hypothesis rows of one data set (contract columns first, then details).

    scores: long table `sample, gene_set, method, score`; expression: genes x samples
    log2; groups: sample -> resistant/sensitive; sets_used: sets restricted to measured
    genes; sets_full: the sets as defined (to report missing genes). `response` (optional,
    numeric groups such as IC50): sample -> response oriented so that higher = more
    resistant; then every group and gene hypothesis also gets `test = continuous` rows
    (Spearman of score vs response over all samples with a response, intermediate ones
    included), BH-adjusted among themselves; the verdict still comes from the group test.

    `permutations`: the label-permutation counts of every group test, keyed by
    (hypothesis, method), gathered from :func:`count_permutations` chunks; computed here
    when not given (the same numbers).
    """
    rows, tests = _plan(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings)
    if permutations is None:
        counts = _count(tests, settings)
    else:
        missing = [f"{h}/{m}" for h, m in (t.key for t in tests) if (h, m) not in permutations]
        if missing:
            raise ValueError(f"data set {dataset}: no permutation counts for {', '.join(missing[:5])}")
        counts = [permutations[t.key] for t in tests]
    for t, count in zip(tests, counts):
        row = _group_row(t.hypothesis, dataset, t.method, t.resistant, t.sensitive, settings, t.primary, count)
        row.update(t.extra)
        rows[t.row] = row

    group_rows = pd.DataFrame(rows)
    # --- contract 2 (issue 14): rows from elsewhere join before BH and verdicts
    if extra_rows is not None and not extra_rows.empty:
        group_rows = pd.concat([group_rows, extra_rows], ignore_index=True)
    # ---
    continuous = _continuous_rows(dataset, scores, expression, response, hypotheses, settings, _wide(scores)) \
        if response is not None else pd.DataFrame()
    table = _finish(group_rows, settings)
    if not continuous.empty:
        table = pd.concat([table, _finish(continuous, settings)], ignore_index=True)
    return table[CONTRACT_COLUMNS + EXTRA_COLUMNS]


PERMUTATION_COLUMNS = ["hypothesis", "method", "n_resistant", "n_sensitive", "exact", "units",
                       "start", "stop", "n_done", "n_total", "count"]


def _count(tests: list[_GroupTest], settings: HypothesisSettings, chunk: int = 0,
           n_chunks: int = 1) -> list[stats.PermutationCount]:
    return stats.permutation_counts(
        [(t.resistant, t.sensitive) for t in tests], max_exact=settings.max_exact,
        n_permutations=settings.n_permutations, seed=settings.seed, chunk=chunk, n_chunks=n_chunks,
    )


def count_permutations(
    dataset: str,
    scores: pd.DataFrame,
    expression: pd.DataFrame,
    groups: pd.Series,
    sets_used: dict[str, GeneSet],
    sets_full: dict[str, GeneSet],
    hypotheses: list[Hypothesis],
    settings: HypothesisSettings,
    chunk: int,
    n_chunks: int,
) -> pd.DataFrame:
    """Chunk `chunk` of `n_chunks` of the label-permutation tests of :func:`evaluate`.

    One row per group test (hypothesis, method) with the relabellings of its unit range
    (``stats.permutation_counts``) and how many reached the observed difference; the
    chunks of all k, read by :func:`gather_permutations`, give :func:`evaluate` the same
    counts as an unsplit run.
    """
    _, tests = _plan(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings)
    counts = _count(tests, settings, chunk, n_chunks)
    return pd.DataFrame(
        [{"hypothesis": t.hypothesis.id, "method": t.method, "n_resistant": len(t.resistant),
          "n_sensitive": len(t.sensitive), "exact": c.exact, "units": c.units, "start": c.start,
          "stop": c.stop, "n_done": c.n_done, "n_total": c.n_total, "count": c.count}
         for t, c in zip(tests, counts)],
        columns=PERMUTATION_COLUMNS,
    )


def gather_permutations(tables: list[pd.DataFrame], dataset: str) -> dict[tuple[str, str], stats.PermutationCount]:
    """Combine :func:`count_permutations` chunks into complete counts per (hypothesis, method).

    Raises ValueError naming the test when the chunks do not cover every relabelling once.
    """
    parts: dict[tuple[str, str], list[stats.PermutationCount]] = {}
    for table in tables:
        for rec in table.to_dict("records"):
            parts.setdefault((str(rec["hypothesis"]), str(rec["method"])), []).append(stats.PermutationCount(
                count=int(rec["count"]), n_done=int(rec["n_done"]), n_total=int(rec["n_total"]),
                exact=str(rec["exact"]).lower() == "true", start=int(rec["start"]), stop=int(rec["stop"]),
                units=int(rec["units"]),
            ))
    out = {}
    for key, counts in parts.items():
        try:
            combined = stats.PermutationCount.combine(counts)
            if not combined.complete:
                raise ValueError(f"units {combined.start}-{combined.stop} of {combined.units} covered")
        except ValueError as err:
            raise ValueError(f"data set {dataset}: permutation chunks of {key[0]}/{key[1]}: {err}") from None
        out[key] = combined
    return out


def _wide(scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        method: sub.pivot(index="gene_set", columns="sample", values="score")
        for method, sub in scores.groupby("method")
    }


def _measured_in_all(expression: pd.DataFrame, samples: pd.Index, rows: int = 2000) -> np.ndarray:
    """Boolean per gene: finite in every one of `samples` (in blocks of genes, no full copy)."""
    cols = expression.columns.get_indexer(samples)
    if (cols < 0).any():
        raise ValueError(f"samples without expression values: {', '.join(map(str, samples[cols < 0][:5]))}")
    values = expression.to_numpy()  # a view for a single-dtype frame
    out = np.empty(len(expression), dtype=bool)
    for start in range(0, len(expression), rows):
        block = np.asarray(values[start:start + rows][:, cols], dtype=float)
        out[start:start + rows] = np.isfinite(block).all(axis=1)
    return out


def _plan(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings):
    """Rows of untestable and coupling hypotheses, and the group tests still to count."""
    # footprint and claim hypotheses get their rows elsewhere (evaluate's extra_rows)
    hypotheses = [h for h in hypotheses if h.test in ("group", "gene", "coupling")]
    groups = groups[groups.isin(["resistant", "sensitive"])]
    res_ids = groups.index[groups == "resistant"]
    sen_ids = groups.index[groups == "sensitive"]
    # genes measured in every grouped sample: the ones scoring methods can use
    complete = set(expression.index[_measured_in_all(expression, groups.index)])
    wide = _wide(scores)
    rows: list[dict | None] = []
    tests: list[_GroupTest] = []
    for h in hypotheses:
        if h.test == "gene":
            primary = True
            if h.gene not in expression.index:
                rows.append(_untestable(h, dataset, GENE_METHOD, f"{h.gene} is not measured on this platform",
                                        primary, 0, 1, h.gene))
                continue
            values = expression.loc[h.gene]
            r, s = values[res_ids].dropna().to_numpy(), values[sen_ids].dropna().to_numpy()
            if len(r) < 2 or len(s) < 2:
                rows.append(_untestable(h, dataset, GENE_METHOD, f"{h.gene} has fewer than 2 values in a group",
                                        primary, 1, 1))
                continue
            tests.append(_GroupTest(len(rows), h, GENE_METHOD, r, s, primary,
                                    {"n_genes": 1, "n_genes_in_set": 1, "genes_missing": ""}))
            rows.append(None)
            continue

        needed = [h.gene_set] + ([h.with_set] if h.test == "coupling" else [])
        min_genes = h.min_genes if h.min_genes is not None else settings.min_size
        short = []
        for name in needed:
            n_measured = len([g for g in sets_full[name].up if g in complete])
            if name not in sets_used or n_measured < min_genes:
                short.append((name, n_measured, len(sets_full[name].up)))
        full_genes = sets_full[h.gene_set].genes
        n_used_main = len([g for g in full_genes if g in complete])
        missing = [g for g in full_genes if g not in complete]
        for method in settings.methods:
            primary = method == settings.primary
            if short:
                note = "; ".join(f"{n}: {u} of {t} genes measured, at least {min_genes} needed" for n, u, t in short)
                rows.append(_untestable(h, dataset, method, note, primary, n_used_main,
                                        len(sets_full[h.gene_set].genes), ",".join(missing)))
                continue
            table = wide.get(method)
            if table is None or any(name not in table.index for name in needed):
                rows.append(_untestable(h, dataset, method, f"no {method} scores for {', '.join(needed)}", primary,
                                        n_used_main, len(sets_full[h.gene_set].genes), ",".join(missing)))
                continue
            sizes = {"n_genes": n_used_main, "n_genes_in_set": len(sets_full[h.gene_set].genes),
                     "genes_missing": ",".join(missing)}
            if h.test == "group":
                values = table.loc[h.gene_set]
                tests.append(_GroupTest(len(rows), h, method, values[res_ids].to_numpy(float),
                                        values[sen_ids].to_numpy(float), primary, sizes))
                rows.append(None)
                continue
            ids = groups.index
            x = table.loc[h.gene_set, ids].to_numpy(float)
            y = table.loc[h.with_set, ids].to_numpy(float)
            rho, p = stats.spearman(x, y)
            lo, hi = _fisher_ci(rho, len(ids))
            row = {
                "dataset": dataset, "hypothesis": h.id, "method": method, "effect": rho,
                "ci_low": lo, "ci_high": hi, "p_value": p, "predicted": h.predicted,
                "observed": _observed(rho, h.test), "primary": primary, "test": h.test,
                "effect_measure": "spearman_rho", "n_resistant": len(res_ids), "n_sensitive": len(sen_ids),
            }
            row.update(sizes)
            rows.append(row)
    return rows, tests


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
            lo, hi = _fisher_ci(rho, int(ok.sum()))
            rows.append({
                "dataset": dataset, "hypothesis": h.id, "method": method, "effect": rho, "ci_low": lo,
                "ci_high": hi, "p_value": p, "predicted": predicted, "observed": _observed(rho, "coupling"),
                "primary": False, "test": "continuous", "effect_measure": "spearman_rho_vs_response",
                "n_resistant": int(ok.sum()), "n_sensitive": 0, "note": f"{int(ok.sum())} samples with a response",
            })
    return pd.DataFrame(rows)


def _finish(table: pd.DataFrame, settings: HypothesisSettings) -> pd.DataFrame:
    """BH across the testable rows of `table`, verdicts, and method agreement."""
    for col in CONTRACT_COLUMNS + EXTRA_COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    testable = table["verdict"].ne("not_testable") & table["p_value"].notna()
    table["fdr"] = np.nan
    if testable.any():
        table.loc[testable, "fdr"] = stats.bh_fdr(table.loc[testable, "p_value"].to_numpy(float))
    verdicts = [
        stats.verdict(e, f, p, alpha=settings.alpha) if v != "not_testable" else "not_testable"
        for e, f, p, v in zip(table["effect"], table["fdr"], table["predicted"], table["verdict"])
    ]
    table["verdict"] = verdicts
    table["note"] = table["note"].fillna("")
    # how many methods reach the same verdict as the primary row of the hypothesis
    agree = {}
    for hid, sub in table.groupby("hypothesis", sort=False):
        prim = sub[sub["primary"].astype(bool)]
        if prim.empty:
            continue
        pv = prim["verdict"].iloc[0]
        tested = sub[sub["verdict"] != "not_testable"]
        agree[hid] = f"{int((tested['verdict'] == pv).sum())}/{len(tested)}"
    table["methods_agreeing"] = table["hypothesis"].map(agree).fillna("")
    return table[CONTRACT_COLUMNS + EXTRA_COLUMNS]
