"""The plan of one model's hypothesis rows: which hypotheses can be tested (enough samples,
genes measured and above the noise floor, scores present), the group tests still waiting for
their permutation counts, and the rows decided at once (untestable, coupling).

Part of :mod:`._hypotheses` (:func:`~._hypotheses.evaluate` and
:func:`~._hypotheses.count_permutations` run the plan).
"""

from __future__ import annotations

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


def _plan(dataset, scores, expression, groups, sets_used, sets_full, hypotheses, settings, measurable=None,
          strata=None):
    """Rows of untestable and coupling hypotheses, and the group tests still to count.

    `strata` (a response model: line -> stratum): every line with a response is one "group"
    (its values go to the test's `resistant`, `sensitive` stays empty), and coupling rows
    centre the scores within strata."""
    # footprint and claim hypotheses get their rows elsewhere (evaluate's extra_rows)
    hypotheses = [h for h in hypotheses if h.test in ("group", "gene", "coupling")]
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
            if small_group or len(r) < need or (strata is None and len(s) < need):
                rows.append(_untestable(h, dataset, GENE_METHOD, small_group or
                                        f"{h.gene} has fewer than {need} values in a group", primary, 1, 1))
                continue
            tests.append(_GroupTest(len(rows), h, GENE_METHOD, r, s, primary,
                                    {"n_genes": 1, "n_genes_in_set": 1, "genes_missing": "",
                                     "measurable": bool(is_measurable.get(h.gene, False))}))
            rows.append(None)
            continue

        needed = [h.gene_set] + ([h.with_set] if h.test == "coupling" else [])
        min_genes = h.min_genes if h.min_genes is not None else settings.min_size
        # the sets as used (gene_universe.sets_as_used): restricted to the universe, their
        # status, parts and minimum size decided once; a hypothesis may ask for more genes
        short, floor = [], False
        for name in needed:
            n_used = len(restricted[name].up)  # up genes in the universe, whatever the set's status
            if name not in sets_used or n_used < min_genes:
                short.append((name, n_used, len(sets_full[name].up)))
                floor = floor or set_status.get(name) == "not_measurable"
        full = sets_full[h.gene_set]
        full_genes = full.genes
        used = sets_used.get(h.gene_set)
        # genes of the set in the universe (measured in every sample, above the noise floor):
        # the set as scored, plus an up_only set's unscored down genes; camera's parts
        in_universe = set(restricted[h.gene_set].genes)
        n_used_main = len([g for g in full_genes if g in in_universe])
        missing = [g for g in full_genes if g not in in_universe]
        parts, parts_note = "up", ""
        if full.down:
            if used is not None and used.down:
                parts = "up+down"
            else:
                parts, parts_note = "up_only", set_note.get(h.gene_set, "")
        set_measurable = used is not None
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
            table = wide.get(method)
            if table is None or any(name not in table.index for name in needed):
                rows.append(_untestable(h, dataset, method, f"no {method} scores for {', '.join(needed)}", primary,
                                        n_used_main, len(full_genes), ",".join(missing)))
                continue
            sizes = {"n_genes": n_used_main, "n_genes_in_set": len(full_genes),
                     "genes_missing": ",".join(missing), "set_parts": parts, "note": parts_note,
                     "measurable": set_measurable}
            if h.test == "group":
                values = table.loc[h.gene_set]
                tests.append(_GroupTest(len(rows), h, method, values[res_ids].to_numpy(float),
                                        values[sen_ids].to_numpy(float), primary, sizes))
                rows.append(None)
                continue
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
                "effect_measure": "spearman_rho_within_groups", "n_resistant": len(res_ids),
                "n_sensitive": len(sen_ids), "role": _role(h), "exploratory": h.exploratory,
            }
            row.update(sizes)
            centred = "within-stratum" if strata is not None else "within-group"
            row["note"] = "; ".join(x for x in (parts_note, f"Spearman of {centred} centred scores") if x)
            rows.append(row)
    return rows, tests
