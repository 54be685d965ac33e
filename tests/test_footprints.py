"""PROGENy footprints: ulm equal to R decoupleR 2.4 run_ulm, and the rows for the hypotheses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets.catalogue import load_catalogue
from igf1r_resistance.tl import footprints as fp

REPO = Path(__file__).resolve().parents[1]
REF = REPO / "tests" / "data" / "reference"
RES = REPO / "workflow" / "resources"


@pytest.fixture(scope="module")
def fixture():
    mat = pd.read_csv(REF / "ulm_mat.tsv.gz", sep="\t", index_col=0)
    net = pd.read_csv(REF / "ulm_net.tsv.gz", sep="\t")
    ref = pd.read_csv(REF / "ulm_scores.tsv", sep="\t")
    return mat, net, ref


def test_ulm_equals_decoupler_on_samples_and_contrast(fixture):
    mat, net, ref = fixture
    scores, pvalues = fp.ulm(mat, net)
    assert "TINY" not in scores.index  # 3 targets < minsize 5: dropped as decoupleR does
    assert len(ref) == scores.size == 14 * 7
    for row in ref.itertuples():
        assert scores.loc[row.source, row.condition] == pytest.approx(row.score, abs=1e-6, rel=1e-9)
        assert pvalues.loc[row.source, row.condition] == pytest.approx(row.p_value, abs=1e-12, rel=1e-6)
    # the designed signal is found: PI3K and MAPK footprints up in S1-S3 on the contrast
    assert scores.loc["PI3K", "contrast"] > 2 and scores.loc["MAPK", "contrast"] > 2
    # conditions are independent: the contrast alone scores the same
    alone, _ = fp.ulm(mat[["contrast"]], net)
    np.testing.assert_allclose(alone["contrast"], scores["contrast"], rtol=0, atol=1e-12)


def test_ulm_rejects_missing_values(fixture):
    mat, net, _ = fixture
    bad = mat.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        fp.ulm(bad, net)


def test_shipped_model_has_14_pathways_of_500_genes():
    model = fp.load_progeny(str(RES / "progeny_human_top500.tsv.gz"))
    sizes = model.groupby("source").size()
    assert len(sizes) == 14 and (sizes == 500).all()
    mapped = fp.load_progeny(str(RES / "progeny_human_top500.tsv.gz"), str(RES / "hgnc_symbols.tsv.gz"))
    assert set(mapped["source"]) == set(sizes.index)
    assert not mapped.duplicated(["source", "target"]).any()


def _toy(shift: float):
    """A data set whose resistant samples move along the PI3K footprint by `shift`."""
    mat, net, _ = pd.read_csv(REF / "ulm_mat.tsv.gz", sep="\t", index_col=0), \
        pd.read_csv(REF / "ulm_net.tsv.gz", sep="\t"), None
    expr = mat.drop(columns="contrast")
    w = net[net["source"] == "PI3K"].set_index("target")["weight"]
    expr.loc[w.index.intersection(expr.index), ["S1", "S2", "S3"]] += shift * w.reindex(
        w.index.intersection(expr.index)).to_numpy()[:, None]
    groups = pd.Series(["resistant"] * 3 + ["sensitive"] * 3, index=expr.columns)
    diff = expr[["S1", "S2", "S3"]].mean(axis=1) - expr[["S4", "S5", "S6"]].mean(axis=1)
    de = pd.DataFrame({"gene": expr.index, "t": diff / 0.3})
    return de, expr, groups, net


def test_footprint_table_contrast_and_per_sample():
    de, expr, groups, net = _toy(0.2)
    table = fp.footprint_table(de, expr, groups, net, n_permutations=200)
    assert list(table.columns) == fp.FOOTPRINT_COLUMNS
    assert set(table["pathway"]) == set(net["source"]) - {"TINY"} | {"TINY"}
    assert table.set_index("pathway").loc["TINY", "note"].startswith("fewer than 5")
    pi3k = table.set_index("pathway").loc["PI3K"]
    contrast, cp = fp.ulm(de.set_index("gene")[["t"]], net)
    assert pi3k["score"] == pytest.approx(contrast.loc["PI3K", "t"]) and pi3k["p_value"] == pytest.approx(cp.loc["PI3K", "t"])
    per, _ = fp.ulm(expr, net)
    from scipy import stats as sps
    welch = sps.ttest_ind(per.loc["PI3K", ["S1", "S2", "S3"]], per.loc["PI3K", ["S4", "S5", "S6"]], equal_var=False)
    assert pi3k["welch_p"] == pytest.approx(welch.pvalue, rel=1e-9)
    assert pi3k["score"] > 0 and pi3k["sample_difference"] > 0 and pi3k["welch_p"] < 0.01


def test_hypothesis_rows_follow_contract_2():
    de, expr, groups, net = _toy(-0.2)
    table = fp.footprint_table(de, expr, groups, net, n_permutations=200)
    _, _, hyps = load_catalogue(RES / "mechanisms.yaml")
    rows = fp.hypothesis_rows("TOY", table, hyps).set_index("hypothesis")
    pi3k = rows.loc["pi3k_akt_up"]
    f = table.set_index("pathway").loc["PI3K"]
    assert pi3k["method"] == "progeny_ulm" and pi3k["effect"] == f["score"] < 0
    assert pi3k["competitive_p"] == f["p_value"] and pi3k["self_contained_p"] == pi3k["p_value"] == f["welch_p"]
    assert pi3k["observed"] == "down" and pi3k["role"] == "primary"
    assert rows.loc["serum_igfbp_claim", "verdict"] == "not_testable"
    assert {"mapk_up", "p53_activity_down"} <= set(rows.index)
    # only footprint and claim hypotheses get rows here
    assert set(rows["test"]) == {"footprint", "claim"}


def test_response_model_keeps_the_ulm_score_and_gives_no_per_sample_test():
    """A response contrast (no two groups): the ulm score on limma's t stays, the per-sample
    Welch columns are NaN with the reason, and the footprint hypotheses are not_testable."""
    de, expr, groups, net = _toy(0.2)
    reason = "response contrast (auc): no two groups"
    table = fp.footprint_table(de, expr, groups.map(lambda _: "excluded"), net, no_groups=reason)
    pi3k = table.set_index("pathway").loc["PI3K"]
    contrast, _ = fp.ulm(de.set_index("gene")[["t"]], net)
    assert pi3k["score"] == pytest.approx(contrast.loc["PI3K", "t"])
    assert np.isnan(pi3k["welch_p"]) and np.isnan(pi3k["hedges_g"]) and pi3k["note"] == reason
    _, _, hyps = load_catalogue(RES / "mechanisms.yaml")
    rows = fp.hypothesis_rows("TOY", table, hyps).set_index("hypothesis")
    assert rows.loc["pi3k_akt_up", "verdict"] == "not_testable" and rows.loc["pi3k_akt_up", "note"] == reason
    assert np.isnan(rows.loc["pi3k_akt_up", "effect"])


def test_hypothesis_rows_unknown_pathway_is_an_error():
    from igf1r_resistance.genesets.catalogue import Hypothesis

    table = pd.DataFrame({"pathway": ["PI3K"], "score": [1.0], "welch_p": [0.5]})
    h = Hypothesis(id="x", statement="", test="footprint", predicted="up", readout="progeny:NOPE")
    with pytest.raises(ValueError, match="no pathway 'NOPE'"):
        fp.hypothesis_rows("TOY", table, [h])
