"""Hypothesis tests on synthetic data whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets import GeneSet, Hypothesis, restrict
from igf1r_resistance.hypotheses import CONTRACT_COLUMNS, HypothesisSettings, evaluate
from igf1r_resistance.scoring import score_gene_sets

METHODS = ("singscore", "ssgsea", "gsva", "zscore", "plage")


def synthetic(shift_up: float = 2.0, shift_down: float = -2.0, n_per_group: int = 5, seed: int = 1):
    """1,000 genes x 2n samples; set UPSET shifted up in resistant, DOWNSET shifted down."""
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(1000)]
    samples = [f"R{i}" for i in range(n_per_group)] + [f"S{i}" for i in range(n_per_group)]
    x = rng.normal(8, 1, size=(1000, 2 * n_per_group))
    x[:20, :n_per_group] += shift_up  # UPSET = G0..G19
    x[20:40, :n_per_group] += shift_down  # DOWNSET = G20..G39
    # FLATSET = G40..G59: no change. COUPLED sets are the first two.
    expr = pd.DataFrame(x, index=genes, columns=samples)
    groups = pd.Series(["resistant"] * n_per_group + ["sensitive"] * n_per_group, index=samples)
    sets = {
        "UPSET": GeneSet("UPSET", tuple(genes[:20])),
        "DOWNSET": GeneSet("DOWNSET", tuple(genes[20:40])),
        "FLATSET": GeneSet("FLATSET", tuple(genes[40:60])),
        "TINY": GeneSet("TINY", ("G60", "G61", "NOT_MEASURED_1", "NOT_MEASURED_2", "NOT_MEASURED_3")),
    }
    return expr, groups, sets


HYPS = [
    Hypothesis("up_set_up", "", "group", "up", gene_set="UPSET"),
    Hypothesis("flat_set_up", "", "group", "up", gene_set="FLATSET"),
    Hypothesis("down_set_up", "", "group", "up", gene_set="DOWNSET"),
    Hypothesis("tiny_up", "", "group", "up", gene_set="TINY"),
    Hypothesis("g0_up", "", "gene", "up", gene="G0"),
    Hypothesis("absent_gene", "", "gene", "up", gene="NOPE"),
    Hypothesis("up_vs_down", "", "coupling", "negative", gene_set="UPSET", with_set="DOWNSET"),
]


def run(expr, groups, sets, methods=METHODS, primary="singscore", **kw):
    used = {k: restrict(s, expr.index) for k, s in sets.items() if len(restrict(s, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), list(methods), min_size=5, seed=0)
    settings = HypothesisSettings(methods=tuple(methods), primary=primary, **kw)
    return evaluate("SYN", scores, expr, groups, used, sets, HYPS, settings)


def verdicts(table):
    prim = table[table["primary"]]
    return dict(zip(prim["hypothesis"], prim["verdict"]))


def test_known_answers():
    expr, groups, sets = synthetic()
    table = run(expr, groups, sets)
    assert list(table.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    v = verdicts(table)
    assert v["up_set_up"] == "supported"
    assert v["flat_set_up"] == "inconclusive"
    assert v["down_set_up"] == "contradicted"
    assert v["tiny_up"] == "not_testable"
    assert v["g0_up"] == "supported"
    assert v["absent_gene"] == "not_testable"
    # every method agrees on the planted shifts
    up = table[(table["hypothesis"] == "up_set_up")]
    assert set(up["verdict"]) == {"supported"} and up["methods_agreeing"].iloc[0] == f"{len(METHODS)}/{len(METHODS)}"
    # effect is the difference of mean scores and its CI contains it
    assert (up["ci_low"] < up["effect"]).all() and (up["effect"] < up["ci_high"]).all()
    tiny = table[table["hypothesis"] == "tiny_up"].iloc[0]
    assert "2 of 5 genes measured" in tiny["note"] and "NOT_MEASURED_1" in tiny["genes_missing"]


def test_coupling_detects_anticorrelated_sets():
    expr, groups, sets = synthetic(n_per_group=12)
    table = run(expr, groups, sets)
    row = table[(table["hypothesis"] == "up_vs_down") & table["primary"]].iloc[0]
    assert row["effect"] < -0.5 and row["effect_measure"] == "spearman_rho"
    assert row["verdict"] == "supported"  # predicted negative


def test_fdr_is_bh_over_all_testable_rows():
    from igf1r_resistance.stats import bh_fdr

    expr, groups, sets = synthetic()
    table = run(expr, groups, sets)
    ok = table["verdict"] != "not_testable"
    np.testing.assert_allclose(table.loc[ok, "fdr"], bh_fdr(table.loc[ok, "p_value"].to_numpy()))
    assert table.loc[~ok, "fdr"].isna().all()


def test_small_shift_with_three_vs_three_is_inconclusive():
    expr, groups, sets = synthetic(shift_up=0.1, shift_down=-0.1, n_per_group=3)
    v = verdicts(run(expr, groups, sets))
    assert v["up_set_up"] == "inconclusive" and v["down_set_up"] == "inconclusive"


def test_permutation_p_cannot_reach_005_with_three_vs_three():
    expr, groups, sets = synthetic(n_per_group=3)
    table = run(expr, groups, sets, p_value="permutation")
    up = table[(table["hypothesis"] == "up_set_up") & table["primary"]].iloc[0]
    assert up["permutation_p"] == pytest.approx(0.1) and up["permutation_exact"]
    assert up["verdict"] == "inconclusive"


def test_primary_method_carries_the_verdict():
    expr, groups, sets = synthetic()
    table = run(expr, groups, sets, primary="zscore")
    prim = table[table["primary"]]
    assert set(prim.loc[prim["test"] != "gene", "method"]) == {"zscore"}


def test_continuous_response_adds_spearman_rows():
    expr, groups, sets = synthetic(n_per_group=6)
    # response = IC50 that follows the planted shift: resistant samples higher
    response = pd.Series(np.r_[np.linspace(10, 15, 6), np.linspace(1, 5, 6)], index=expr.columns)
    used = {k: restrict(s, expr.index) for k, s in sets.items() if len(restrict(s, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=5, seed=0)
    settings = HypothesisSettings(methods=("singscore",), primary="singscore")
    table = evaluate("SYN", scores, expr, groups, used, sets, HYPS, settings, response=response)
    cont = table[table["test"] == "continuous"].set_index("hypothesis")
    assert not cont["primary"].any()
    assert cont.loc["up_set_up", "predicted"] == "positive" and cont.loc["up_set_up", "verdict"] == "supported"
    assert cont.loc["down_set_up", "verdict"] == "contradicted"
    assert "up_vs_down" not in cont.index  # couplings have no continuous version
    # group rows unchanged by the extra rows: their FDR is computed among themselves
    group_only = evaluate("SYN", scores, expr, groups, used, sets, HYPS, settings)
    pd.testing.assert_frame_equal(table[table["test"] != "continuous"].reset_index(drop=True), group_only,
                                  check_dtype=False)


# --------------------------------------------------------------- permutation chunks


@pytest.mark.parametrize("n_per_group, max_exact", [(12, 10_000), (5, 10_000)])
def test_permutation_chunks_gather_to_the_unsplit_table(n_per_group, max_exact):
    """Counting the permutations in 1, 3 or 7 chunks and gathering gives the same table.

    12 vs 12 is Monte Carlo (C(24, 12) > 10,000; 2,500 permutations = 3 blocks, so 7
    chunks include empty ones); 5 vs 5 enumerates its 252 relabellings.
    """
    from igf1r_resistance.hypotheses import count_permutations, gather_permutations

    expr, groups, sets = synthetic(n_per_group=n_per_group, shift_up=0.4)
    used = {k: restrict(s, expr.index) for k, s in sets.items() if len(restrict(s, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), list(METHODS), min_size=5, seed=0)
    settings = HypothesisSettings(methods=METHODS, primary="singscore", p_value="permutation",
                                  max_exact=max_exact, n_permutations=2500, seed=7)
    args = ("SYN", scores, expr, groups, used, sets, HYPS, settings)
    unsplit = evaluate(*args)
    assert unsplit["permutation_exact"].dropna().astype(bool).all() == (n_per_group == 5)
    for n_chunks in (1, 3, 7):
        chunks = [count_permutations(*args, chunk=k, n_chunks=n_chunks) for k in range(n_chunks)]
        # a chunk counts only its share of the relabellings
        assert sum(c["n_done"].iloc[0] for c in chunks) == chunks[0]["n_total"].iloc[0]
        gathered = evaluate(*args, permutations=gather_permutations(chunks, "SYN"))
        pd.testing.assert_frame_equal(gathered, unsplit)
    # a p-value that actually depends on the permutations (not at its floor or 1)
    perm = unsplit["permutation_p"].dropna()
    assert ((perm > 0.001) & (perm < 0.9)).any()


def test_gather_permutations_refuses_missing_chunks():
    from igf1r_resistance.hypotheses import count_permutations, gather_permutations

    expr, groups, sets = synthetic(n_per_group=12)
    used = {k: restrict(s, expr.index) for k, s in sets.items() if len(restrict(s, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=5, seed=0)
    settings = HypothesisSettings(methods=("singscore",), primary="singscore", n_permutations=3000)
    args = ("SYN", scores, expr, groups, used, sets, HYPS, settings)
    chunks = [count_permutations(*args, chunk=k, n_chunks=3) for k in range(3)]
    with pytest.raises(ValueError, match="SYN: permutation chunks of up_set_up/singscore"):
        gather_permutations([chunks[0], chunks[2]], "SYN")
    with pytest.raises(ValueError, match="permutation chunks of .*overlap"):
        gather_permutations([chunks[0], chunks[0], chunks[1], chunks[2]], "SYN")
    with pytest.raises(ValueError, match="no permutation counts for up_set_up/singscore"):
        evaluate(*args, permutations={})
