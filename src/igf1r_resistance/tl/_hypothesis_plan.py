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


def _plan(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings, measurable=None):
    """Rows of untestable and coupling hypotheses, and the group tests still to count."""
    # footprint and claim hypotheses get their rows elsewhere (evaluate's extra_rows)
    hypotheses = [h for h in hypotheses if h.test in ("group", "gene", "coupling")]
    ctx = _plan_context(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings, measurable)
    rows: list[dict | None] = []
    tests: list[_GroupTest] = []
    for h in hypotheses:
        if h.test == "gene":
            _plan_gene(ctx, h, rows, tests)
        else:
            _plan_sets(ctx, h, rows, tests)
    return rows, tests


@dataclass(frozen=True)
class _PlanContext:
    """What every hypothesis row of one model is planned against (see :func:`_plan_context`)."""

    dataset: str
    expression: pd.DataFrame
    groups: pd.Series  # resistant / sensitive samples only
    res_ids: pd.Index
    sen_ids: pd.Index
    is_measurable: pd.Series  # gene -> above the noise floor
    sets_used: dict[str, GeneSet]  # scored sets
    defined: dict[str, GeneSet]  # the sets as defined
    restricted: dict[str, GeneSet]  # the sets restricted to the universe, whatever their status
    set_status: dict[str, str]
    set_note: dict[str, str]
    wide: dict[str, pd.DataFrame]  # method -> sets x samples scores
    settings: HypothesisSettings
    small_group: str  # why no group test is possible, or ""


def _plan_context(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings,
                  measurable) -> _PlanContext:
    """The model's resistant and sensitive samples, measurable genes, sets as used and scores."""
    groups = groups[groups.isin(["resistant", "sensitive"])]
    res_ids = groups.index[groups == "resistant"]
    sen_ids = groups.index[groups == "sensitive"]
    if measurable is None:
        measurable = pd.Series(True, index=expression.index)
    is_measurable = measurable.reindex(expression.index).fillna(False).astype(bool)
    sets_used, sets_full = as_used(sets_used, sets_full, expression, measurable, hypotheses, settings)
    need = settings.min_group_size
    small_group = (f"a group has fewer than {need} samples ({len(res_ids)} resistant, {len(sen_ids)} sensitive)"
                   if min(len(res_ids), len(sen_ids)) < need else "")
    return _PlanContext(dataset, expression, groups, res_ids, sen_ids, is_measurable, sets_used,
                        sets_full.defined, sets_full.restricted, sets_full.status, sets_full.note, _wide(scores),
                        settings, small_group)


def _plan_gene(ctx: _PlanContext, h: Hypothesis, rows: list[dict | None], tests: list[_GroupTest]) -> None:
    """A gene hypothesis: its untestable row, or its group test (a placeholder row)."""
    primary = True
    need = ctx.settings.min_group_size
    if h.gene not in ctx.expression.index:
        rows.append(_untestable(h, ctx.dataset, GENE_METHOD, f"{h.gene} is not measured on this platform",
                                primary, 0, 1, h.gene))
        return
    values = ctx.expression.loc[h.gene]
    r, s = values[ctx.res_ids].dropna().to_numpy(), values[ctx.sen_ids].dropna().to_numpy()
    if ctx.small_group or len(r) < need or len(s) < need:
        rows.append(_untestable(h, ctx.dataset, GENE_METHOD, ctx.small_group or
                                f"{h.gene} has fewer than {need} values in a group", primary, 1, 1))
        return
    tests.append(_GroupTest(len(rows), h, GENE_METHOD, r, s, primary,
                            {"n_genes": 1, "n_genes_in_set": 1, "genes_missing": "",
                             "measurable": bool(ctx.is_measurable.get(h.gene, False))}))
    rows.append(None)


def _short_sets(ctx: _PlanContext, h: Hypothesis, needed: list[str], min_genes: int) -> tuple[list, bool]:
    """The sets of `h` with fewer than `min_genes` up genes in the universe (name, used,
    defined), and whether one of them is short because of the noise floor."""
    # the sets as used (gene_universe.sets_as_used): restricted to the universe, their
    # status, parts and minimum size decided once; a hypothesis may ask for more genes
    short, floor = [], False
    for name in needed:
        n_used = len(ctx.restricted[name].up)  # up genes in the universe, whatever the set's status
        if name not in ctx.sets_used or n_used < min_genes:
            short.append((name, n_used, len(ctx.defined[name].up)))
            floor = floor or ctx.set_status.get(name) == "not_measurable"
    return short, floor


def _set_sizes(ctx: _PlanContext, h: Hypothesis) -> dict:
    """Genes of the hypothesis' set: used, defined and missing, which parts were scored, and
    whether the set was scored (the row's size columns)."""
    full = ctx.defined[h.gene_set]
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
    return {"n_genes": n_used_main, "n_genes_in_set": len(full_genes),
            "genes_missing": ",".join(missing), "set_parts": parts, "note": parts_note,
            "measurable": used is not None}


def _plan_sets(ctx: _PlanContext, h: Hypothesis, rows: list[dict | None], tests: list[_GroupTest]) -> None:
    """A group or coupling hypothesis, per scoring method: its untestable row, its group test
    (a placeholder row) or its coupling row."""
    needed = [h.gene_set] + ([h.with_set] if h.test == "coupling" else [])
    min_genes = h.min_genes if h.min_genes is not None else ctx.settings.min_size
    short, floor = _short_sets(ctx, h, needed, min_genes)
    sizes = _set_sizes(ctx, h)
    for method in ctx.settings.methods:
        primary = method == ctx.settings.primary
        if short or ctx.small_group:
            note = ctx.small_group or "; ".join(
                f"{n}: {u} of {t} genes measured and above the noise floor, at least {min_genes} needed"
                for n, u, t in short)
            row = _untestable(h, ctx.dataset, method, note, primary, sizes["n_genes"], sizes["n_genes_in_set"],
                              sizes["genes_missing"])
            if floor and not ctx.small_group:  # measured, but too few genes clear the noise floor
                row.update(verdict="not_measurable", measurable=False)
            rows.append(row)
            continue
        table = ctx.wide.get(method)
        if table is None or any(name not in table.index for name in needed):
            rows.append(_untestable(h, ctx.dataset, method, f"no {method} scores for {', '.join(needed)}", primary,
                                    sizes["n_genes"], sizes["n_genes_in_set"], sizes["genes_missing"]))
            continue
        if h.test == "group":
            values = table.loc[h.gene_set]
            tests.append(_GroupTest(len(rows), h, method, values[ctx.res_ids].to_numpy(float),
                                    values[ctx.sen_ids].to_numpy(float), primary, dict(sizes)))
            rows.append(None)
            continue
        rows.append(_coupling_row(ctx, h, method, table, primary, sizes))


def _coupling_row(ctx: _PlanContext, h: Hypothesis, method: str, table: pd.DataFrame, primary: bool,
                  sizes: dict) -> dict:
    """A coupling hypothesis' row: Spearman of the two sets' within-group centred scores."""
    ids = ctx.groups.index
    labels = ctx.groups.to_numpy()
    x = within_group_centred(table.loc[h.gene_set, ids].to_numpy(float), labels)
    y = within_group_centred(table.loc[h.with_set, ids].to_numpy(float), labels)
    rho, p = stats.spearman(x, y)
    # one degree of freedom more is spent on the second group mean
    lo, hi = _spearman_ci(rho, len(ids) - 1)
    row = {
        "dataset": ctx.dataset, "hypothesis": h.id, "method": method, "effect": rho,
        "ci_low": lo, "ci_high": hi, "p_value": p, "self_contained_p": p, "predicted": h.predicted,
        "observed": _observed(rho, h.test), "primary": primary, "test": h.test,
        "effect_measure": "spearman_rho_within_groups", "n_resistant": len(ctx.res_ids),
        "n_sensitive": len(ctx.sen_ids), "role": _role(h), "exploratory": h.exploratory,
    }
    row.update(sizes)
    row["note"] = "; ".join(x for x in (sizes["note"], "Spearman of within-group centred scores") if x)
    return row
