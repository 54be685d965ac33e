"""Hypothesis tests on synthetic data whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets.catalogue import GeneSet, Hypothesis, restrict
from igf1r_resistance.tl._hypotheses import CONTRACT_COLUMNS, HypothesisSettings, as_used, evaluate
from igf1r_resistance.tl.scoring import score_gene_sets

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


def test_group_difference_alone_makes_no_coupling():
    """UPSET up and DOWNSET down in resistant cells, unrelated within the groups: pooled over
    the samples they anticorrelate (rho ~ -0.7, the old test), within the groups they do not
    (issue 13 item 9). This test expected "supported" before the coupling was group-adjusted."""
    from igf1r_resistance.tl import stats as st

    expr, groups, sets = synthetic(n_per_group=12)
    table = run(expr, groups, sets)
    row = table[(table["hypothesis"] == "up_vs_down") & table["primary"]].iloc[0]
    assert row["effect_measure"] == "spearman_rho_within_groups"
    assert row["verdict"] == "inconclusive" and abs(row["effect"]) < 0.5
    wide = score_gene_sets(expr, [restrict(sets["UPSET"], expr.index), restrict(sets["DOWNSET"], expr.index)],
                           ["singscore"], min_size=5).pivot(index="gene_set", columns="sample", values="score")
    pooled, _ = st.spearman(wide.loc["UPSET", expr.columns], wide.loc["DOWNSET", expr.columns])
    assert pooled < -0.5  # what the unadjusted coupling used to report


def test_coupling_within_groups_is_detected_with_bonett_wright_ci():
    from igf1r_resistance.tl import stats as st

    expr, groups, sets = synthetic(n_per_group=12, shift_up=0.0, shift_down=0.0)
    latent = np.random.default_rng(5).normal(0, 1.5, expr.shape[1])
    expr.iloc[:20] += latent  # UPSET follows a per-sample factor
    expr.iloc[20:40] -= latent  # DOWNSET the opposite: a real coupling inside each group
    table = run(expr, groups, sets)
    row = table[(table["hypothesis"] == "up_vs_down") & table["primary"]].iloc[0]
    assert row["effect"] < -0.5 and row["verdict"] == "supported"  # predicted negative
    # CI: Fisher z +- 1.96 sqrt((1 + rho^2 / 2) / (n - 1 - 3)), n - 1 for the two group means
    half = st.Z_975 * np.sqrt(st.spearman_z_variance(row["effect"], 24 - 1))
    assert row["ci_low"] == pytest.approx(np.tanh(np.arctanh(row["effect"]) - half))
    assert row["ci_high"] == pytest.approx(np.tanh(np.arctanh(row["effect"]) + half))


def test_fdr_is_bh_within_each_family():
    """One confirmatory family (primary method x role primary); each other method is its own
    sensitivity family (issue 13 item 3; this test checked BH over all rows before)."""
    from igf1r_resistance.tl.stats import bh_fdr

    expr, groups, sets = synthetic()
    table = run(expr, groups, sets)
    ok = table["verdict"] != "not_testable"
    assert set(table.loc[table["primary"], "family"]) == {"confirmatory"}
    assert table["confirmatory"].eq(table["primary"]).all()
    for family, sub in table[ok].groupby("family"):
        np.testing.assert_allclose(sub["fdr"], bh_fdr(sub["p_value"].to_numpy()), err_msg=family)
    assert set(table.loc[~table["primary"], "family"]) == {f"sensitivity:{m}" for m in METHODS if m != "singscore"}
    assert table.loc[~ok, "fdr"].isna().all()


def _confirmatory(table):
    prim = table[table["confirmatory"]].set_index("hypothesis")
    return prim[["fdr", "verdict", "competitive_p"]]


def test_adding_or_dropping_methods_and_exploratory_sets_changes_no_primary_fdr_or_verdict():
    """The FDR-invariance test of issue 13: the confirmatory rows are identical whether the
    secondary methods are run or not, and whether exploratory (GMT) sets are added."""
    expr, groups, sets = synthetic(shift_up=0.6, shift_down=-0.6)
    full = run(expr, groups, sets)
    alone = run(expr, groups, sets, methods=("singscore",))
    two = run(expr, groups, sets, methods=("singscore", "zscore"))
    pd.testing.assert_frame_equal(_confirmatory(full), _confirmatory(alone))
    pd.testing.assert_frame_equal(_confirmatory(two), _confirmatory(alone))
    # exploratory GMT sets: their own family
    extra_sets = dict(sets)
    hyps = list(HYPS)
    for i in range(8):
        name = f"RANDOM{i}_UP"
        extra_sets[name] = GeneSet(name, tuple(expr.index[100 + 20 * i: 120 + 20 * i]))
        hyps.append(Hypothesis(name, "", "group", "up", gene_set=name, exploratory=True))
    used = {k: restrict(v, expr.index) for k, v in extra_sets.items() if len(restrict(v, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=5, seed=0)
    settings = HypothesisSettings(methods=("singscore",), primary="singscore")
    with_gmt = evaluate("SYN", scores, expr, groups, used, extra_sets, hyps, settings)
    pd.testing.assert_frame_equal(_confirmatory(with_gmt), _confirmatory(alone))
    assert set(with_gmt.loc[with_gmt["hypothesis"].str.startswith("RANDOM"), "family"]) == {"exploratory"}
    # a role other than primary leaves the family too (getattr(h, "role", "primary"))
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class RoleHypothesis(Hypothesis):
        role: str = "primary"

    hyps2 = list(HYPS) + [RoleHypothesis("flat_support", "", "group", "up", gene_set="FLATSET", role="supporting"),
                          RoleHypothesis("flat_context", "", "group", "up", gene_set="FLATSET", role="context")]
    used = {k: restrict(v, expr.index) for k, v in sets.items() if len(restrict(v, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=5, seed=0)
    roles = evaluate("SYN", scores, expr, groups, used, sets, hyps2, settings).set_index("hypothesis")
    assert roles.loc["flat_support", "family"] == "role:supporting"
    assert roles.loc["flat_context", "verdict"] == "context" and np.isnan(roles.loc["flat_context", "fdr"])
    pd.testing.assert_frame_equal(_confirmatory(roles.reset_index()), _confirmatory(alone))


def test_extra_rows_join_the_confirmatory_family_before_fdr():
    """Contract 2: rows computed elsewhere (a hand-made PROGENy-like row) join the family."""
    from igf1r_resistance.tl.stats import bh_fdr

    expr, groups, sets = synthetic(shift_up=0.6, shift_down=-0.6)
    used = {k: restrict(s, expr.index) for k, s in sets.items() if len(restrict(s, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=5, seed=0)
    settings = HypothesisSettings(methods=("singscore",), primary="singscore")
    base = evaluate("SYN", scores, expr, groups, used, sets, HYPS, settings)
    extra = pd.DataFrame([
        {"hypothesis": "pi3k_footprint_up", "method": "progeny_ulm", "effect": 2.5, "ci_low": 1.0, "ci_high": 4.0,
         "self_contained_p": 0.001, "competitive_p": 0.004, "predicted": "up"},
        {"hypothesis": "mapk_footprint_up", "method": "progeny_ulm", "effect": 1.5, "ci_low": 0.2, "ci_high": 2.8,
         "self_contained_p": 0.002, "competitive_p": 0.3, "predicted": "up"},
    ])
    table = evaluate("SYN", scores, expr, groups, used, sets, HYPS, settings, extra_rows=extra)
    conf = table[table["confirmatory"]]
    assert {"pi3k_footprint_up", "mapk_footprint_up"} <= set(conf["hypothesis"])
    testable = conf[conf["verdict"] != "not_testable"]
    np.testing.assert_allclose(testable["fdr"], bh_fdr(testable["p_value"].to_numpy()))
    got = table.set_index("hypothesis")
    assert got.loc["pi3k_footprint_up", "verdict"] == "supported"
    assert got.loc["mapk_footprint_up", "verdict"] == "inconclusive"  # competitive p 0.3
    # joined before BH: the other confirmatory rows' FDRs are those of the enlarged family
    ids = base.loc[base["confirmatory"] & base["fdr"].notna(), "hypothesis"]
    assert not np.allclose(got.loc[ids, "fdr"].to_numpy(), base.set_index("hypothesis").loc[ids, "fdr"].to_numpy())


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
    from igf1r_resistance.tl._hypotheses import count_permutations, gather_permutations

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
    from igf1r_resistance.tl._hypotheses import count_permutations, gather_permutations

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


def test_every_hypothesis_testable_and_the_new_verdict_columns():
    """No untestable row at all (a data set where everything is measured), 3 vs 3 samples."""
    expr, groups, sets = synthetic(n_per_group=3)
    hyps = [h for h in HYPS if h.id not in ("tiny_up", "absent_gene")]
    used = {k: restrict(s, expr.index) for k, s in sets.items() if len(restrict(s, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=5, seed=0)
    settings = HypothesisSettings(methods=("singscore",), primary="singscore", n_random_sets=500)
    table = evaluate("SYN", scores, expr, groups, used, sets, hyps, settings).set_index("hypothesis")
    assert (table["verdict"] != "not_testable").all()
    up = table.loc["up_set_up"]
    assert up["verdict"] == "supported" and up["competitive_p"] == pytest.approx(2 / 501)
    assert up["random_percentile"] == 100 and up["n_random_sets"] == 500 and up["set_parts"] == "up"
    assert table.loc["flat_set_up", "verdict"] == "inconclusive"
    assert np.isnan(table.loc["g0_up", "competitive_p"])  # genes: no competitive requirement


def _simple(expr, groups, sets, hyps, **kw):
    settings = HypothesisSettings(methods=("singscore",), primary="singscore", n_random_sets=300)
    # the sets as used (gene_universe.sets_as_used): complete genes above the noise floor
    used, _ = as_used({}, sets, expr, kw.get("measurable"), hyps, settings)
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=1, seed=0)
    return evaluate("SYN", scores, expr, groups, used, sets, hyps, settings, **kw).set_index("hypothesis")


def test_gene_hypotheses_use_limma_from_de():
    """Item 5: effect, CI and p of a gene are limma's (de.tsv); without CI.L/CI.R the CI is
    limma.confint from logFC, t and P.Value -- the same numbers."""
    from igf1r_resistance.tl._limma import moderated_t

    expr, groups, sets = synthetic(n_per_group=3)
    de = moderated_t(expr, groups)
    hyps = [Hypothesis("g0_up", "", "gene", "up", gene="G0"), Hypothesis("g500_up", "", "gene", "up", gene="G500")]
    table = _simple(expr, groups, sets, hyps, de=de)
    ref = de.set_index("gene")
    row = table.loc["g0_up"]
    assert row["effect"] == pytest.approx(ref.loc["G0", "logFC"]) and row["p_value"] == ref.loc["G0", "P.Value"]
    assert row["limma_t"] == pytest.approx(ref.loc["G0", "t"]) and row["effect_measure"] == "log2_fold_change"
    assert row["ci_low"] < row["effect"] < row["ci_high"]
    # with CI columns present they are used as they are
    de2 = de.assign(**{"CI.L": -9.0, "CI.R": 9.0})
    assert _simple(expr, groups, sets, hyps, de=de2).loc["g0_up", "ci_low"] == -9.0
    # no change: G500 is unshifted; a wide margin makes it equivalent, the default 0.5 log2
    # with 3 vs 3 noisy replicates (sd 1) does not
    assert table.loc["g500_up", "verdict"] == "inconclusive"
    settings = HypothesisSettings(methods=("singscore",), primary="singscore", n_random_sets=300, gene_margin=5.0)
    used = {k: restrict(s, expr.index) for k, s in sets.items() if len(restrict(s, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=5, seed=0)
    wide = evaluate("SYN", scores, expr, groups, used, sets, hyps, settings, de=de).set_index("hypothesis")
    assert wide.loc["g500_up", "verdict"] == "no_change" and wide.loc["g500_up", "margin"] == 5.0


def test_not_measurable_and_small_groups():
    expr, groups, sets = synthetic(n_per_group=4)
    hyps = [Hypothesis("g0_up", "", "gene", "up", gene="G0"), Hypothesis("up_set_up", "", "group", "up",
                                                                        gene_set="UPSET")]
    measurable = pd.Series(True, index=expr.index)
    measurable[["G0"] + [f"G{i}" for i in range(20)]] = False  # G0 and every UPSET gene at the floor
    table = _simple(expr, groups, sets, hyps, measurable=measurable)
    assert table.loc["g0_up", "verdict"] == "not_measurable"
    assert table.loc["up_set_up", "verdict"] == "not_measurable"
    # genes under the floor leave the set (issue 13 point 6): with 4 of 20 above it the set is
    # still too small to judge (min_size 5), with 5 it is judged on those 5
    measurable[["G3", "G4", "G5", "G6"]] = True
    four = _simple(expr, groups, sets, hyps, measurable=measurable).loc["up_set_up"]
    assert four["verdict"] == "not_measurable" and "4 of 20 genes measured and above the noise floor" in four["note"]
    measurable[["G7"]] = True
    five = _simple(expr, groups, sets, hyps, measurable=measurable).loc["up_set_up"]
    assert five["verdict"] == "supported" and five["n_genes"] == 5
    # a group with 2 samples: not_testable (3 needed)
    two = groups.copy()
    two[["R0", "R1"]] = "excluded"
    small = _simple(expr, two, sets, hyps)
    assert (small["verdict"] == "not_testable").all() and small["note"].str.contains("fewer than 3 samples").all()


def test_down_part_too_small_is_recorded_not_silent():
    expr, groups, sets = synthetic()
    sets = dict(sets)
    sets["UPDOWN"] = GeneSet("UPDOWN", tuple(expr.index[:20]), ("G20", "G21", "NOPE1", "NOPE2", "NOPE3"))
    sets["UPDOWN_OK"] = GeneSet("UPDOWN_OK", tuple(expr.index[:20]), tuple(expr.index[20:30]))
    hyps = [Hypothesis("ud", "", "group", "up", gene_set="UPDOWN"),
            Hypothesis("ud_ok", "", "group", "up", gene_set="UPDOWN_OK")]
    table = _simple(expr, groups, sets, hyps)
    assert table.loc["ud", "set_parts"] == "up_only"
    assert "down part: 2 of 5 genes measured" in table.loc["ud", "note"]
    assert table.loc["ud_ok", "set_parts"] == "up+down"


def test_camera_is_shown_beside_the_competitive_p():
    expr, groups, sets = synthetic()
    camera = pd.DataFrame({"gene_set": ["UPSET", "DOWNSET"], "direction": ["up", "down"], "p_value": [1e-5, 2e-4],
                           "p_value_estimated_cor": [3e-3, 0.04]})
    hyps = [Hypothesis("up_set_up", "", "group", "up", gene_set="UPSET"),
            Hypothesis("flat_set_up", "", "group", "up", gene_set="FLATSET")]
    table = _simple(expr, groups, sets, hyps, camera=camera)
    assert table.loc["up_set_up", "camera_p"] == 1e-5 and table.loc["up_set_up", "camera_direction"] == "up"
    assert table.loc["up_set_up", "camera_p_estimated_cor"] == 3e-3
    assert np.isnan(table.loc["flat_set_up", "camera_p"])


def test_quantile_normalise_equals_limma():
    from pathlib import Path

    from igf1r_resistance.tl._hypotheses import quantile_normalise

    ref = Path(__file__).parent / "data" / "reference"
    x = pd.read_csv(ref / "limma_quantile_input.tsv", sep="\t", index_col=0)
    want = pd.read_csv(ref / "limma_quantile_normalised.tsv", sep="\t", index_col=0)
    assert x.apply(lambda c: c.duplicated().any()).any()  # the fixture has ties
    pd.testing.assert_frame_equal(quantile_normalise(x), want, check_exact=False, rtol=1e-12)


def test_quantile_sensitivity_flags_a_verdict_made_by_a_global_shift():
    """Resistant arrays 1 log2 brighter overall: every gene looks up by ~1 in limma, which
    quantile normalisation removes; the gene verdict flips, the planted set's does not."""
    from igf1r_resistance.tl._hypotheses import quantile_sensitivity
    from igf1r_resistance.tl._limma import moderated_t

    expr, groups, sets = synthetic(n_per_group=4)
    rng = np.random.default_rng(2)
    expr = expr * 0.3 + 8  # tight replicates
    expr.loc["G500"] = [10.0, 10.1, 9.9, 10.05, 10.02, 9.98, 10.1, 9.95]  # unchanged in truth
    expr.iloc[:, :4] += 1.0 + rng.normal(0, 0.02, 4)  # global intensity shift of the resistant arrays
    expr.iloc[:20, :4] += 1.0  # UPSET really up beyond it
    hyps = [Hypothesis("g500_up", "", "gene", "up", gene="G500"),
            Hypothesis("up_set_up", "", "group", "up", gene_set="UPSET")]
    used = {k: restrict(s, expr.index) for k, s in sets.items() if len(restrict(s, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=5, seed=0)
    settings = HypothesisSettings(methods=("singscore",), primary="singscore", n_random_sets=300)
    args = ("SYN", expr, groups, used, sets, hyps, settings)
    table = evaluate("SYN", scores, expr, groups, used, sets, hyps, settings, de=moderated_t(expr, groups))
    out = quantile_sensitivity(table, *args).set_index("hypothesis")
    assert out.loc["g500_up", "verdict"] == "supported"  # the shift alone
    assert out.loc["g500_up", "quantile_verdict"] != "supported" and out.loc["g500_up", "quantile_flip"]
    assert out.loc["up_set_up", "quantile_verdict"] == out.loc["up_set_up", "verdict"] == "supported"
    assert not out.loc["up_set_up", "quantile_flip"]


def test_comparison_keeps_only_hypotheses_that_apply():
    """Contract 3: evaluate(..., comparison=...) tests the hypotheses whose applies_to names the
    comparison; the others (and extra rows of theirs) are absent, not not_testable. The rows of
    the hypotheses that apply are those of a run with only them."""
    expr, groups, sets = synthetic()
    used = {k: restrict(s, expr.index) for k, s in sets.items() if len(restrict(s, expr.index).up) >= 5}
    scores = score_gene_sets(expr, list(used.values()), ["singscore"], min_size=5, seed=0)
    settings = HypothesisSettings(methods=("singscore",), primary="singscore")
    tp53 = [Hypothesis("mut_g0_up", "", "gene", "up", gene="G0", applies_to=("TP53_status",)),
            Hypothesis("mut_up_set_up", "", "group", "up", gene_set="UPSET", applies_to=("TP53_status", "resistance"))]
    extra = pd.DataFrame([{"hypothesis": "mut_g0_up", "method": "progeny_ulm", "effect": 1.0, "p_value": 0.01,
                           "predicted": "up"}])
    resistance = evaluate("SYN", scores, expr, groups, used, sets, HYPS + tp53, settings, extra_rows=extra)
    assert "mut_g0_up" not in set(resistance["hypothesis"])
    assert {h.id for h in HYPS} | {"mut_up_set_up"} == set(resistance["hypothesis"])
    regulator = evaluate("SYN", scores, expr, groups, used, sets, HYPS + tp53, settings, comparison="TP53_status")
    assert set(regulator["hypothesis"]) == {"mut_g0_up", "mut_up_set_up"}
    alone = evaluate("SYN", scores, expr, groups, used, sets, tp53, settings, comparison="TP53_status")
    pd.testing.assert_frame_equal(regulator.reset_index(drop=True), alone.reset_index(drop=True))
    assert regulator.set_index("hypothesis").loc["mut_g0_up", "verdict"] == "supported"
