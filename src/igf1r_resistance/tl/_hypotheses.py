"""Test the review's mechanisms as hypotheses in one data set.

One row per (hypothesis, method): the per-sample scores of the hypothesis' gene set are
compared between resistant and sensitive samples (mean difference with Welch CI and p,
Hedges' g, label-permutation p: the self-contained test), a gene by limma's moderated t
for that gene (de.tsv), and coupling hypotheses correlate two set scores across samples
within the groups (Spearman of within-group centred scores). Set rows of the primary
method are also compared with random gene sets of the same size and expression level
(:mod:`.competitive`) and shown beside limma's camera.

Families (docs/verdicts.md): the confirmatory family of a data set is the primary method
x role "primary" (catalogue hypotheses, gene and coupling hypotheses, and `extra_rows` such
as PROGENy footprints); BH runs over it alone, so adding or dropping another method or an
exploratory set moves no confirmatory FDR or verdict. Secondary methods are sensitivity
analyses, each with its own BH; exploratory GMT sets form their own family; other roles
(supporting, descriptive) each form one; context rows carry no verdict. The verdict words
and their rule live in :func:`.stats.verdict`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..genesets.catalogue import RESISTANCE, GeneSet, Hypothesis
from . import stats
from ._hypothesis_plan import _plan, _wide, as_used  # as_used: re-exported (tests, library users)
from ._hypothesis_rows import (
    GENE_METHOD,  # noqa: F401 (re-exported)
    RESPONSE_NOTE,  # noqa: F401 (re-exported)
    _association_row,
    _continuous_rows,
    _gene_row_from_limma,
    _group_row,
    _GroupTest,
    _observed,
    _set_row_from_design,
    within_group_centred,  # noqa: F401 (re-exported)
)
from .competitive import LINEAR_METHODS, CompetitiveNull

CONTRACT_COLUMNS = [
    "dataset", "hypothesis", "method", "effect", "ci_low", "ci_high", "p_value", "fdr",
    "predicted", "observed", "verdict",
]
EXTRA_COLUMNS = [
    "primary", "test", "effect_measure", "hedges_g", "g_variance", "g_ci_low", "g_ci_high",
    "welch_t", "welch_df", "permutation_p", "permutation_exact", "n_resistant", "n_sensitive",
    "n_genes", "n_genes_in_set", "genes_missing", "methods_agreeing", "note",
]
#: Columns of issue 13 (contract 1 of the verdict statistics); model, model_type, drug and
#: drug_class are filled by the workflow step from the data set's metadata.
VERDICT_COLUMNS = [
    "model", "model_type", "drug", "drug_class", "role", "confirmatory", "family",
    "self_contained_p", "competitive_p", "competitive_fdr", "random_percentile", "n_random_sets", "random_median",
    "camera_p", "camera_direction", "camera_p_estimated_cor", "equivalence_p", "margin",
    "limma_t", "set_parts", "quantile_verdict", "quantile_flip",
]
COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS + VERDICT_COLUMNS
CONFIRMATORY = "confirmatory"


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
    n_random_sets: int = 2000  # random gene sets per set for the competitive null
    expression_bins: int = 10  # average-expression quantile bins the random genes are matched in
    gene_margin: float = 0.5  # equivalence margin of a gene, log2 fold change
    set_margin: float = 0.5  # equivalence margin of a set score, in pooled within-group SDs
    min_group_size: int = 3  # fewer samples in a group: not_testable


def evaluate(
    dataset: str, scores: pd.DataFrame, expression: pd.DataFrame, groups: pd.Series,
    sets_used: dict[str, GeneSet], sets_full: dict[str, GeneSet], hypotheses: list[Hypothesis],
    settings: HypothesisSettings, response: pd.Series | None = None,
    permutations: dict[tuple[str, str], stats.PermutationCount] | None = None,
    *, de: pd.DataFrame | None = None, camera: pd.DataFrame | None = None, measurable: pd.Series | None = None,
    extra_rows: pd.DataFrame | None = None, universe: pd.Series | None = None,
    design_effects: pd.DataFrame | None = None, comparison: str = RESISTANCE,
    associations: pd.DataFrame | None = None, strata: pd.Series | None = None, weights: pd.Series | None = None,
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

    `de`: limma's table (de.tsv: gene, logFC, t, P.Value, optionally CI.L/CI.R): gene
    hypotheses take effect, CI and p from it (one p per gene across the product).
    `camera`: camera.tsv (gene_set, direction, p_value, optionally p_value_estimated_cor),
    shown beside the competitive p. `measurable`: gene -> bool (expression.h5ad
    ``var["measurable"]``; all True when None): a gene not measurable, or a set none of whose
    genes is, is `not_measurable`. `extra_rows`: rows computed elsewhere (e.g. PROGENy
    footprints: hypothesis, method, effect, ci_low, ci_high, p_value or self_contained_p,
    competitive_p, predicted; optional role, primary, test) that join the data set's rows
    before the FDR and the verdicts, under the same family rules. `universe`: gene -> in the
    data set's universe (gene_universe.universe; default `measurable`): the genes competitive
    random sets are drawn from, the same the scored sets were restricted to.
    `sets_full` may be a gene_universe.GeneSetsUsed (the sets as defined with their status:
    a set whose genes sit under the noise floor gives `not_measurable` rows). `design_effects`
    (designs.design_set_effects: gene_set, method, logFC, CI.L, CI.R, t, P.Value) of a
    contrast of a design: set-score rows take the design's estimate, CI and moderated-t p
    instead of the two-sample Welch test, which ignores covariates and pairs.

    `comparison`: what the model compares (contract 1: "resistance", or a regulator comparison
    such as "TP53_status"); only hypotheses whose `applies_to` names it are tested, the others
    (and their `extra_rows`) are absent, not not_testable.

    A response model (a response contrast of a cell-line panel; docs/panels.md) gives
    `associations` (:func:`igf1r_resistance.tl.panels.score_associations`), `strata` (line ->
    its stratum of the text covariates, index = the lines with a response) and `weights`
    (:func:`igf1r_resistance.tl.panels.response_weights`): set rows take the adjusted slope
    (effect, CI, ordinary t p; the partial Spearman's within-strata permutation p in
    `permutation_p`, never the verdict's), gene rows the association row of `de`, coupling rows
    correlate scores centred within strata, and the competitive null compares the set's slope
    with random sets' slopes. The two-group statistics (Welch, Hedges' g, the label
    permutation, the equivalence test, whose margin is in group SDs or log2 fold changes) are
    NaN, and the note says so.
    """
    hypotheses, extra_rows = _applying(hypotheses, extra_rows, comparison)
    if measurable is None:
        measurable = pd.Series(True, index=expression.index)
    sets_used, sets_full = as_used(sets_used, sets_full, expression, measurable, hypotheses, settings)
    response_model = associations is not None
    rows, tests = _plan(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings,
                        measurable, strata=strata if response_model else None)
    counts = _permutation_counts_of(tests, permutations, settings, dataset, response_model)
    _fill_tested_rows(rows, tests, counts, dataset, settings, de, design_effects,
                      associations if response_model else None)
    group_rows = _with_default_columns(pd.DataFrame(rows))
    group_rows = _add_competitive(group_rows, expression, groups, sets_used, sets_full, hypotheses,
                                  settings, measurable if universe is None else universe,
                                  weights=weights if response_model else None)
    group_rows = _add_camera(group_rows, camera, sets_used, hypotheses)
    if extra_rows is not None and len(extra_rows):
        group_rows = pd.concat([group_rows, _prepare_extra(extra_rows, dataset)], ignore_index=True)
    return _final_table(group_rows, dataset, scores, expression, response, hypotheses, settings)


def _final_table(group_rows: pd.DataFrame, dataset: str, scores: pd.DataFrame, expression: pd.DataFrame,
                 response: pd.Series | None, hypotheses: list[Hypothesis],
                 settings: HypothesisSettings) -> pd.DataFrame:
    """FDR and verdicts of `group_rows` (:func:`_finish`), then the continuous rows against a
    numeric `response` with their own BH; `model` defaults to the data set."""
    continuous = _continuous_rows(dataset, scores, expression, response, hypotheses, settings, _wide(scores)) \
        if response is not None else pd.DataFrame()
    table = _finish(group_rows, settings)
    if not continuous.empty:
        table = pd.concat([table, _finish(continuous, settings)], ignore_index=True)
    table = table[COLUMNS].copy()
    table["model"] = table["model"].astype(object).where(table["model"].notna(), dataset)
    return table


def _permutation_counts_of(tests: list[_GroupTest], permutations: dict | None, settings: HypothesisSettings,
                           dataset: str, response_model: bool) -> list[stats.PermutationCount | None]:
    """The label-permutation count of each group test: given (:func:`gather_permutations`),
    computed here, or None for a response model (no labels to permute)."""
    if response_model:
        counts = [None] * len(tests)  # no labels to permute: the rank test permutes within strata
    elif permutations is None:
        counts = _count(tests, settings)
    else:
        missing = [f"{h}/{m}" for h, m in (t.key for t in tests) if (h, m) not in permutations]
        if missing:
            raise ValueError(f"data set {dataset}: no permutation counts for {', '.join(missing[:5])}")
        counts = [permutations[t.key] for t in tests]
    return counts


def _fill_tested_rows(rows: list[dict | None], tests: list[_GroupTest], counts: list, dataset: str,
                      settings: HypothesisSettings, de: pd.DataFrame | None, design_effects: pd.DataFrame | None,
                      associations: pd.DataFrame | None) -> None:
    """Put the row of every planned test in its place in `rows`: the group comparison (with
    the design's estimate for a set, limma's for a gene), or a response model's association
    row when `associations` is given."""
    response_model = associations is not None
    de_by_gene = None
    if de is not None:
        de_by_gene = de.assign(gene=de["gene"].astype(str)).drop_duplicates("gene").set_index("gene")
    by_set = None
    if design_effects is not None:
        by_set = design_effects.set_index(["gene_set", "method"])
    by_association = associations.set_index(["gene_set", "method"]) if response_model else None
    for t, count in zip(tests, counts):
        if response_model:
            rows[t.row] = _association_row(t, dataset, by_association, de_by_gene, settings)
            continue
        row = _group_row(t.hypothesis, dataset, t.method, t.resistant, t.sensitive, settings, t.primary, count)
        row.update(t.extra)
        if by_set is not None and t.hypothesis.test == "group":
            key = (t.hypothesis.gene_set, t.method)
            row = _set_row_from_design(row, by_set.loc[key] if key in by_set.index else None, settings)
        if t.hypothesis.test == "gene":
            de_row = None
            if de_by_gene is not None and t.hypothesis.gene in de_by_gene.index:
                de_row = de_by_gene.loc[t.hypothesis.gene]
            row = _gene_row_from_limma(row, de_row, settings)
        rows[t.row] = row


def _with_default_columns(group_rows: pd.DataFrame) -> pd.DataFrame:
    """The columns later steps read, with their defaults when no row set them."""
    for col, default in (("verdict", np.nan), ("note", ""), ("set_parts", ""), ("test", "group")):
        if col not in group_rows.columns:  # e.g. no untestable row
            group_rows[col] = default
    return group_rows


def _applying(hypotheses: list[Hypothesis], extra_rows: pd.DataFrame | None,
              comparison: str) -> tuple[list[Hypothesis], pd.DataFrame | None]:
    """The hypotheses that apply to `comparison`, and the extra rows of no hypothesis that
    does not (rows of ids outside the list, e.g. a user's, are kept)."""
    dropped = {h.id for h in hypotheses if comparison not in h.applies_to}
    kept = [h for h in hypotheses if comparison in h.applies_to]
    if extra_rows is not None and len(extra_rows) and dropped and "hypothesis" in extra_rows.columns:
        extra_rows = extra_rows[~extra_rows["hypothesis"].isin(dropped)]
    return kept, extra_rows


def _prepare_extra(extra: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Rows computed elsewhere (contract 2), with the defaults every row of this table has."""
    extra = extra.copy()
    for col in ("hypothesis", "method", "effect", "predicted"):
        if col not in extra.columns:
            raise ValueError(f"data set {dataset}: extra hypothesis rows need a {col!r} column")
    if "p_value" not in extra.columns:
        if "self_contained_p" not in extra.columns:
            raise ValueError(f"data set {dataset}: extra hypothesis rows need p_value or self_contained_p")
        extra["p_value"] = extra["self_contained_p"]
    defaults = {"dataset": dataset, "role": "primary", "primary": True, "test": "group",
                "exploratory": False, "note": ""}
    for col, value in defaults.items():
        if col not in extra.columns:
            extra[col] = value
        else:
            extra[col] = extra[col].fillna(value)
    if "self_contained_p" not in extra.columns:
        extra["self_contained_p"] = extra["p_value"]
    if "observed" not in extra.columns:
        extra["observed"] = [_observed(float(e), t) for e, t in zip(extra["effect"], extra["test"])]
    if "competitive_p" in extra.columns:
        extra["_competitive_required"] = extra["competitive_p"].notna()
        if "random_percentile" in extra.columns:
            sign = np.sign(extra["random_percentile"].astype(float) - 50.0)
        else:  # e.g. a footprint's ulm score: its sign is the competitive direction
            sign = np.sign(extra["effect"].astype(float))
        extra["_competitive_sign"] = sign
    if "verdict" in extra.columns:
        extra["verdict"] = extra["verdict"].where(extra["verdict"].eq("not_testable"), np.nan)
    return extra


def _add_competitive(table: pd.DataFrame, expression: pd.DataFrame, groups: pd.Series,
                     sets_used: dict[str, GeneSet], sets_full: dict[str, GeneSet],
                     hypotheses: list[Hypothesis], settings: HypothesisSettings,
                     measurable: pd.Series, weights: pd.Series | None = None) -> pd.DataFrame:
    """Competitive p, percentile and random-set median of every primary-method set row;
    random sets are drawn from the genes `measurable` marks True (the universe). `weights`
    (a response model): the null compares adjusted slopes, not group differences."""
    for col in ("competitive_p", "random_percentile", "n_random_sets", "random_median", "_competitive_sign"):
        table[col] = np.nan
    table["_competitive_required"] = False
    if table.empty:
        return table
    by_id = {h.id: h for h in hypotheses}
    wanted = table.index[table["test"].eq("group") & table["primary"].astype(bool)
                         & ~table["verdict"].isin(["not_testable", "not_measurable"])]
    if not len(wanted):
        return table
    table.loc[wanted, "_competitive_required"] = True
    if settings.primary not in LINEAR_METHODS:
        table.loc[wanted, "note"] = table.loc[wanted, "note"].fillna("").map(lambda n: "; ".join(
            x for x in (n, f"no competitive null for {settings.primary} (only {', '.join(LINEAR_METHODS)}): "
                           "no set verdict can be decided") if x))
        return table
    pool = measurable.index[measurable.astype(bool)]
    if weights is not None:
        null = CompetitiveNull(expression[weights.index], None, settings.primary, pool=pool,
                               n_bins=settings.expression_bins, weights=weights)
    else:
        grouped = groups[groups.isin(["resistant", "sensitive"])]
        null = CompetitiveNull(expression[grouped.index], grouped, settings.primary, pool=pool,
                               n_bins=settings.expression_bins)
    ranked = null.diff.index
    for i in wanted:
        h = by_id[table.at[i, "hypothesis"]]
        used = sets_used[h.gene_set]
        up = [g for g in used.up if g in ranked]
        down = [g for g in used.down if g in ranked] if table.at[i, "set_parts"] == "up+down" else []
        res = null.test(h.gene_set, up, down, n_random=settings.n_random_sets, seed=settings.seed)
        table.loc[i, ["competitive_p", "random_percentile", "n_random_sets", "random_median",
                      "_competitive_sign"]] = [res.p_value, res.percentile, res.n_random, res.random_median, res.sign]
    return table


def _add_camera(table: pd.DataFrame, camera: pd.DataFrame | None, sets_used: dict[str, GeneSet],
                hypotheses: list[Hypothesis]) -> pd.DataFrame:
    """camera's p and direction (fixed and estimated inter-gene correlation) per set row.

    An up/down set is tested by camera as NAME_UP and NAME_DN; its row shows the up part
    (the note names it)."""
    for col in ("camera_p", "camera_p_estimated_cor"):
        table[col] = np.nan
    table["camera_direction"] = ""
    if camera is None or table.empty:
        return table
    cam = camera.assign(gene_set=camera["gene_set"].astype(str)).set_index("gene_set")
    by_id = {h.id: h for h in hypotheses}
    for i in table.index[table["test"].eq("group")]:
        h = by_id.get(table.at[i, "hypothesis"])
        if h is None or not h.gene_set:
            continue
        name = h.gene_set if h.gene_set in cam.index else f"{h.gene_set}_UP"
        if name not in cam.index:
            continue
        table.at[i, "camera_p"] = float(cam.at[name, "p_value"])
        direction = cam.at[name, "direction"]
        table.at[i, "camera_direction"] = direction if isinstance(direction, str) else ""
        if "p_value_estimated_cor" in cam.columns:
            table.at[i, "camera_p_estimated_cor"] = float(cam.at[name, "p_value_estimated_cor"])
    return table


def quantile_normalise(expression: pd.DataFrame) -> pd.DataFrame:
    """Quantile normalisation across samples (Bolstad et al. 2003), as limma's
    ``normalizeBetweenArrays(x, method = "quantile")`` on complete genes: every sample gets
    the mean of the sorted samples as its distribution; tied values share the mean of their
    quantiles (interpolated at their average rank). Genes with a missing value are dropped."""
    from scipy.stats import rankdata

    values = expression.to_numpy(dtype=float)
    complete = np.isfinite(values).all(axis=1)
    values = values[complete]
    target = np.sort(values, axis=0).mean(axis=1)
    ranks = rankdata(values, method="average", axis=0) - 1.0
    grid = np.arange(len(target), dtype=float)
    out = np.column_stack([np.interp(ranks[:, j], grid, target) for j in range(values.shape[1])])
    return pd.DataFrame(out, index=expression.index[complete], columns=expression.columns)


def quantile_sensitivity(table: pd.DataFrame, dataset: str, expression: pd.DataFrame, groups: pd.Series,
                         sets_used: dict[str, GeneSet], sets_full: dict[str, GeneSet],
                         hypotheses: list[Hypothesis], settings: HypothesisSettings, *,
                         measurable: pd.Series | None = None, trend: bool = False,
                         universe: pd.Series | None = None) -> pd.DataFrame:
    """Flag the confirmatory verdicts that flip when the data are quantile-normalised first.

    The confirmatory family is recomputed from quantile-normalised expression (the primary
    method's scores, limma's moderated t for the genes, the same competitive null): it does
    not depend on the other methods, so the primary method alone is scored. singscore ranks
    genes within a sample, which quantile normalisation keeps, so its set verdicts move only
    through ties; gene verdicts move with limma's fold changes. Adds `quantile_verdict` and
    `quantile_flip` (True when the verdict differs) to the confirmatory rows of `table`.
    """
    from ._limma import moderated_t
    from .scoring import score_gene_sets

    grouped = groups[groups.isin(["resistant", "sensitive"])]
    qn = quantile_normalise(expression[grouped.index])
    used = {name: GeneSet(s.name, tuple(g for g in s.up if g in qn.index), tuple(g for g in s.down if g in qn.index),
                          s.source) for name, s in sets_used.items()}
    used = {k: v for k, v in used.items() if len(v.up)}
    scores = score_gene_sets(qn, list(used.values()), [settings.primary], min_size=1)
    de = moderated_t(qn, grouped, trend=trend)
    primary_only = HypothesisSettings(**{**settings.__dict__, "methods": (settings.primary,)})
    again = evaluate(dataset, scores, qn, grouped, used, sets_full, hypotheses, primary_only, de=de,
                     measurable=measurable, universe=universe)
    again = again[again["confirmatory"]].drop_duplicates(["hypothesis", "method"])
    by_key = dict(zip(zip(again["hypothesis"], again["method"]), again["verdict"]))
    table = table.copy()
    conf = table["confirmatory"].astype(bool)
    qv = [by_key.get((h, m), np.nan) for h, m in zip(table.loc[conf, "hypothesis"], table.loc[conf, "method"])]
    table["quantile_verdict"] = table["quantile_verdict"].astype(object)
    table["quantile_flip"] = table["quantile_flip"].astype(object)
    table.loc[conf, "quantile_verdict"] = qv
    table.loc[conf, "quantile_flip"] = [isinstance(v, str) and v != old
                                        for v, old in zip(qv, table.loc[conf, "verdict"])]
    return table


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
    comparison: str = RESISTANCE,
) -> pd.DataFrame:
    """Chunk `chunk` of `n_chunks` of the label-permutation tests of :func:`evaluate`.

    One row per group test (hypothesis, method) with the relabellings of its unit range
    (``stats.permutation_counts``) and how many reached the observed difference; the
    chunks of all k, read by :func:`gather_permutations`, give :func:`evaluate` the same
    counts as an unsplit run (for the same `comparison`).
    """
    hypotheses, _ = _applying(hypotheses, None, comparison)
    sets_used, sets_full = as_used(sets_used, sets_full, expression, None, hypotheses, settings)
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


def family_of(row: pd.Series | dict, primary_method: str | None = None) -> str:
    """The BH family of a row (docs/verdicts.md); "" for rows that carry no verdict.

    confirmatory: the primary method (or a gene/coupling/extra row marked primary) with
    role "primary"; exploratory: primary-method rows of exploratory (GMT) sets;
    role:<role>: primary-method rows of other roles (supporting, descriptive);
    sensitivity:<method>: every row of a secondary method; continuous: the Spearman rows
    against a numeric response. Context rows form no family.
    """
    role = str(row.get("role") or "primary")
    if role == "context":
        return ""
    if row.get("test") == "continuous":
        return "continuous"
    if not bool(row.get("primary")):
        return f"sensitivity:{row.get('method')}"
    if bool(row.get("exploratory")):
        return "exploratory"
    if role != "primary":
        return f"role:{role}"
    return CONFIRMATORY


def _finish(table: pd.DataFrame, settings: HypothesisSettings) -> pd.DataFrame:
    """BH within each family of `table` (:func:`family_of`), verdicts, and method agreement."""
    for col in COLUMNS:
        if col not in table.columns:
            table[col] = np.nan
    for col, default in (("role", "primary"), ("exploratory", False), ("measurable", True),
                         ("_competitive_required", False), ("_competitive_sign", np.nan), ("set_parts", "")):
        if col not in table.columns:
            table[col] = default
        elif default is not np.nan:
            table[col] = table[col].astype(object).where(table[col].notna(), default)
    table["family"] = [family_of(r) for r in table.to_dict("records")]
    table["confirmatory"] = table["family"].eq(CONFIRMATORY)
    testable = table["verdict"].ne("not_testable") & table["p_value"].notna() & table["family"].ne("")
    table["fdr"] = np.nan
    table["competitive_fdr"] = np.nan
    for _, idx in table[testable].groupby("family").groups.items():
        table.loc[idx, "fdr"] = stats.bh_fdr(table.loc[idx, "p_value"].to_numpy(float))
        # the competitive p values of the family's set rows, BH-adjusted among themselves
        comp = [i for i in idx if bool(table.at[i, "_competitive_required"]) and pd.notna(table.at[i, "competitive_p"])]
        if comp:
            table.loc[comp, "competitive_fdr"] = stats.bh_fdr(table.loc[comp, "competitive_p"].to_numpy(float))
    verdicts = []
    for r in table.to_dict("records"):
        required = bool(r["_competitive_required"])
        verdicts.append(stats.verdict(
            r["effect"] if r["effect"] is not None else math.nan, r["fdr"], r["predicted"], alpha=settings.alpha,
            competitive_fdr=r["competitive_fdr"] if required else None,
            competitive_sign=r["_competitive_sign"] if required else None,
            equivalence_p=r["equivalence_p"] if pd.notna(r["equivalence_p"]) else None,
            measurable=bool(r["measurable"]), testable=r["verdict"] != "not_testable", role=str(r["role"]),
        ))
    table["verdict"] = verdicts
    table["note"] = table["note"].fillna("")
    # how many methods reach the same verdict as the primary row of the hypothesis
    agree = {}
    for hid, sub in table.groupby("hypothesis", sort=False):
        prim = sub[sub["primary"].astype(bool)]
        if prim.empty:
            continue
        pv = prim["verdict"].iloc[0]
        tested = sub[~sub["verdict"].isin(["not_testable", "context"])]
        agree[hid] = f"{int((tested['verdict'] == pv).sum())}/{len(tested)}"
    table["methods_agreeing"] = table["hypothesis"].map(agree).fillna("")
    return table[COLUMNS]
