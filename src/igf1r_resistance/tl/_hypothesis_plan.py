"""The plan of one model's hypothesis rows: which hypotheses can be tested (enough samples,
genes measured and above the noise floor, scores present), the group tests still waiting for
their permutation counts, and the rows decided at once (untestable, coupling).

Part of :mod:`._hypotheses` (:func:`~._hypotheses.evaluate` and
:func:`~._hypotheses.count_permutations` run the plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from ..genesets.catalogue import GeneSet, Hypothesis
from . import stats
from ._hypothesis_rows import (
    GENE_METHOD,
    _GroupTest,
    _observed,
    _role,
    _spearman_ci,
    _untestable,
    within_group_centred,
)

if TYPE_CHECKING:
    from ._hypotheses import HypothesisSettings


def _wide(scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        method: sub.pivot(index="gene_set", columns="sample", values="score")
        for method, sub in scores.groupby("method")
    }


def as_used(sets_used: dict[str, GeneSet], sets_full, expression: pd.DataFrame, measurable: pd.Series | None,
            hypotheses: list[Hypothesis], settings: HypothesisSettings):
    """(name -> set as scored, gene_universe.GeneSetsUsed) for :func:`evaluate`.

    The workflow passes the data set's GeneSetsUsed (gene_sets.tsv) as `sets_full`; a plain
    dict of sets as defined (library use, tests) is turned into one by the same function,
    gene_universe.sets_as_used, on the genes complete in `expression` and `measurable`.
    """
    from ..genesets.universe import GeneSetsUsed, complete_genes, sets_as_used

    if isinstance(sets_full, GeneSetsUsed):
        return sets_used, sets_full
    complete = pd.Series(complete_genes(expression.to_numpy()), index=expression.index.astype(str))
    if measurable is None:
        measurable = pd.Series(True, index=complete.index)
    table = sets_as_used(list(sets_full.values()), hypotheses, complete, measurable, settings.min_size)
    used = GeneSetsUsed.from_table(table)
    return used.used, used


@dataclass(frozen=True)
class _PlanContext:
    """What every hypothesis of one model's plan reads (:func:`_plan_context`)."""

    dataset: str
    expression: pd.DataFrame
    groups: pd.Series  # sample -> resistant/sensitive, or line -> stratum (a response model)
    res_ids: pd.Index
    sen_ids: pd.Index
    is_measurable: pd.Series
    sets_used: dict[str, GeneSet]
    set_status: dict
    set_note: dict
    restricted: dict[str, GeneSet]
    sets_full: dict[str, GeneSet]
    wide: dict[str, pd.DataFrame]
    need: int
    small_group: str
    strata: pd.Series | None
    settings: HypothesisSettings


def _plan(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings, measurable=None,
          strata=None):
    """Rows of untestable and coupling hypotheses, and the group tests still to count.

    `strata` (a response model: line -> stratum): every line with a response is one "group"
    (its values go to the test's `resistant`, `sensitive` stays empty), and coupling rows
    centre the scores within strata."""
    # footprint and claim hypotheses get their rows elsewhere (evaluate's extra_rows)
    hypotheses = [h for h in hypotheses if h.test in ("group", "gene", "coupling")]
    ctx = _plan_context(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings,
                        measurable, strata)
    rows: list[dict | None] = []
    tests: list[_GroupTest] = []
    for h in hypotheses:
        if h.test == "gene":
            _plan_gene(h, ctx, rows, tests)
        else:
            _plan_sets(h, ctx, rows, tests)
    return rows, tests


def _plan_context(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings, measurable,
                  strata) -> _PlanContext:
    """The model's samples, measurable genes, sets as used (:func:`as_used`) and scores by
    method, and why every test is untestable when a group is too small (see :func:`_plan`)."""
    if strata is not None:
        groups = strata.astype(str)
        res_ids, sen_ids = groups.index, groups.index[:0]
    else:
        groups = groups[groups.isin(["resistant", "sensitive"])]
        res_ids = groups.index[groups == "resistant"]
        sen_ids = groups.index[groups == "sensitive"]
    if measurable is None:
        measurable = pd.Series(True, index=expression.index)
    is_measurable = measurable.reindex(expression.index).fillna(False).astype(bool)
    sets_used, sets_full = as_used(sets_used, sets_full, expression, measurable, hypotheses, settings)
    set_status, set_note, restricted = sets_full.status, sets_full.note, sets_full.restricted
    sets_full = sets_full.defined
    wide = _wide(scores)
    need = settings.min_group_size
    small_group = (f"a group has fewer than {need} samples ({len(res_ids)} resistant, {len(sen_ids)} sensitive)"
                   if min(len(res_ids), len(sen_ids)) < need else "")
    if strata is not None:  # the association's own checks (>= 3 lines, full rank) ran before
        small_group = ""
    return _PlanContext(dataset, expression, groups, res_ids, sen_ids, is_measurable, sets_used, set_status,
                        set_note, restricted, sets_full, wide, need, small_group, strata, settings)


def _plan_gene(h: Hypothesis, ctx: _PlanContext, rows: list[dict | None], tests: list[_GroupTest]) -> None:
    """Plan a gene hypothesis: an untestable row, or a group test of its expression (its row
    left None until the test is counted)."""
    dataset, expression, need = ctx.dataset, ctx.expression, ctx.need
    primary = True
    if h.gene not in expression.index:
        rows.append(_untestable(h, dataset, GENE_METHOD, f"{h.gene} is not measured on this platform",
                                primary, 0, 1, h.gene))
        return
    values = expression.loc[h.gene]
    r, s = values[ctx.res_ids].dropna().to_numpy(), values[ctx.sen_ids].dropna().to_numpy()
    if ctx.small_group or len(r) < need or (ctx.strata is None and len(s) < need):
        rows.append(_untestable(h, dataset, GENE_METHOD, ctx.small_group or
                                f"{h.gene} has fewer than {need} values in a group", primary, 1, 1))
        return
    tests.append(_GroupTest(len(rows), h, GENE_METHOD, r, s, primary,
                            {"n_genes": 1, "n_genes_in_set": 1, "genes_missing": "",
                             "measurable": bool(ctx.is_measurable.get(h.gene, False))}))
    rows.append(None)


def _short_sets(ctx: _PlanContext, needed: list[str], min_genes: int) -> tuple[list[tuple[str, int, int]], bool]:
    """The needed sets with fewer than `min_genes` up genes in the universe (name, genes used,
    genes defined), and whether one of them is short because it is not measurable."""
    # the sets as used (gene_universe.sets_as_used): restricted to the universe, their
    # status, parts and minimum size decided once; a hypothesis may ask for more genes
    short, floor = [], False
    for name in needed:
        n_used = len(ctx.restricted[name].up)  # up genes in the universe, whatever the set's status
        if name not in ctx.sets_used or n_used < min_genes:
            short.append((name, n_used, len(ctx.sets_full[name].up)))
            floor = floor or ctx.set_status.get(name) == "not_measurable"
    return short, floor


def _set_genes(h: Hypothesis, ctx: _PlanContext) -> tuple[int, tuple, list[str], str, str, bool]:
    """(genes of the set in the universe, genes as defined, genes missing, parts, the parts'
    note, whether the set is measurable) of the hypothesis' main set."""
    full = ctx.sets_full[h.gene_set]
    full_genes = full.genes
    used = ctx.sets_used.get(h.gene_set)
    # genes of the set in the universe (measured in every sample, above the noise floor):
    # the set as scored, plus an up_only set's unscored down genes; camera's parts
    in_universe = set(ctx.restricted[h.gene_set].genes)
    n_used_main = len([g for g in full_genes if g in in_universe])
    missing = [g for g in full_genes if g not in in_universe]
    parts, parts_note = "up", ""
    if full.down:
        if used is not None and used.down:
            parts = "up+down"
        else:
            parts, parts_note = "up_only", ctx.set_note.get(h.gene_set, "")
    set_measurable = used is not None
    return n_used_main, full_genes, missing, parts, parts_note, set_measurable


def _plan_sets(h: Hypothesis, ctx: _PlanContext, rows: list[dict | None], tests: list[_GroupTest]) -> None:
    """Plan a group or coupling hypothesis, one row per method: untestable (too few samples or
    genes, no scores), a group test still to count (row None), or a coupling row."""
    dataset, settings, small_group = ctx.dataset, ctx.settings, ctx.small_group
    needed = [h.gene_set] + ([h.with_set] if h.test == "coupling" else [])
    min_genes = h.min_genes if h.min_genes is not None else settings.min_size
    short, floor = _short_sets(ctx, needed, min_genes)
    n_used_main, full_genes, missing, parts, parts_note, set_measurable = _set_genes(h, ctx)
    for method in settings.methods:
        primary = method == settings.primary
        if short or small_group:
            note = small_group or "; ".join(
                f"{n}: {u} of {t} genes measured and above the noise floor, at least {min_genes} needed"
                for n, u, t in short)
            row = _untestable(h, dataset, method, note, primary, n_used_main, len(full_genes), ",".join(missing))
            if floor and not small_group:  # measured, but too few genes clear the noise floor
                row.update(verdict="not_measurable", measurable=False)
            rows.append(row)
            continue
        table = ctx.wide.get(method)
        if table is None or any(name not in table.index for name in needed):
            rows.append(_untestable(h, dataset, method, f"no {method} scores for {', '.join(needed)}", primary,
                                    n_used_main, len(full_genes), ",".join(missing)))
            continue
        sizes = {"n_genes": n_used_main, "n_genes_in_set": len(full_genes),
                 "genes_missing": ",".join(missing), "set_parts": parts, "note": parts_note,
                 "measurable": set_measurable}
        if h.test == "group":
            values = table.loc[h.gene_set]
            tests.append(_GroupTest(len(rows), h, method, values[ctx.res_ids].to_numpy(float),
                                    values[ctx.sen_ids].to_numpy(float), primary, sizes))
            rows.append(None)
            continue
        rows.append(_coupling_row(h, ctx, method, table, primary, sizes, parts_note))


def _coupling_row(h: Hypothesis, ctx: _PlanContext, method: str, table: pd.DataFrame, primary: bool,
                  sizes: dict, parts_note: str) -> dict:
    """The row of a coupling hypothesis: Spearman of its two sets' scores, each centred within
    groups (within strata for a response model)."""
    dataset, groups = ctx.dataset, ctx.groups
    ids = groups.index
    labels = groups.to_numpy()
    x = within_group_centred(table.loc[h.gene_set, ids].to_numpy(float), labels)
    y = within_group_centred(table.loc[h.with_set, ids].to_numpy(float), labels)
    rho, p = stats.spearman(x, y)
    # one degree of freedom more is spent on each further group (stratum) mean
    lo, hi = _spearman_ci(rho, len(ids) - (groups.nunique() - 1))
    row = {
        "dataset": dataset, "hypothesis": h.id, "method": method, "effect": rho,
        "ci_low": lo, "ci_high": hi, "p_value": p, "self_contained_p": p, "predicted": h.predicted,
        "observed": _observed(rho, h.test), "primary": primary, "test": h.test,
        "effect_measure": "spearman_rho_within_groups", "n_resistant": len(ctx.res_ids),
        "n_sensitive": len(ctx.sen_ids), "role": _role(h), "exploratory": h.exploratory,
    }
    row.update(sizes)
    centred = "within-stratum" if ctx.strata is not None else "within-group"
    row["note"] = "; ".join(x for x in (parts_note, f"Spearman of {centred} centred scores") if x)
    return row
