"""Drug-response panels: lineage-adjusted association (linear and stratified rank-based) on a
panel with a known answer (tests/reference/make_panel_fixtures.R; R lm for the linear test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.tl import stats
from igf1r_resistance.tl.linear_model import DesignError
from igf1r_resistance.tl.panels import (
    SCORE_COLUMNS,
    gene_associations,
    linear_association,
    oriented_response,
    partial_spearman,
    response_design,
    score_associations,
    stratified_permutation_p,
)

REF = Path(__file__).parent / "data/reference"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(REF / "panel_lines.tsv", sep="\t")


@pytest.mark.parametrize("score", ["score_null", "score_assoc"])
def test_linear_association_equals_r_lm(panel, score):
    expected = pd.read_csv(REF / "panel_lm.tsv", sep="\t").set_index("score").loc[score]
    got = linear_association(panel[score], panel["response"], panel["tissue"])
    np.testing.assert_allclose([got.estimate, got.se, got.statistic, got.df, got.p_value],
                               expected[["estimate", "se", "t", "df", "p"]].to_numpy(float), rtol=1e-10)


def test_tissue_confounding_is_removed(panel):
    """Unadjusted, the null score correlates strongly with the response (both follow tissue);
    adjusted for tissue, neither test finds it, and both find the true within-tissue slope."""
    rho_raw, p_raw = stats.spearman(panel["score_null"].to_numpy(), panel["response"].to_numpy())
    assert rho_raw > 0.7 and p_raw < 1e-8
    rho, p = stratified_permutation_p(panel["score_null"], panel["response"], panel["tissue"],
                                      n_permutations=2000, seed=1)
    assert abs(rho) < 0.2 and p > 0.2
    assert linear_association(panel["score_null"], panel["response"], panel["tissue"]).p_value > 0.2
    rho, p = stratified_permutation_p(panel["score_assoc"], panel["response"], panel["tissue"],
                                      n_permutations=2000, seed=1)
    assert rho > 0.4 and p < 0.002


def test_partial_spearman_by_hand():
    # two strata; within each, x and y ranks agree perfectly in one and are reversed in the other
    x = np.array([1.0, 2, 3, 10, 11, 12])
    y = np.array([5.0, 6, 7, 3, 2, 1])
    strata = np.array(["a", "a", "a", "b", "b", "b"])
    assert partial_spearman(x, y, strata) == pytest.approx(0.0)
    assert partial_spearman(x, np.array([5.0, 6, 7, 1, 2, 3]), strata) == pytest.approx(1.0)


def test_permutation_p_is_calibrated_under_the_stratified_null():
    rng = np.random.default_rng(7)
    strata = np.repeat(["a", "b", "c"], 10)
    shift = np.repeat([0.0, 3.0, 6.0], 10)
    ps = [stratified_permutation_p(shift + rng.normal(size=30), shift + rng.normal(size=30), strata,
                                   n_permutations=199, seed=i)[1] for i in range(200)]
    assert 0.02 <= np.mean(np.array(ps) < 0.05) <= 0.09


def test_constant_response_within_strata_is_a_design_error():
    x = np.arange(6.0)
    with pytest.raises(DesignError, match="response"):
        linear_association(x, np.array([1.0, 1, 1, 2, 2, 2]), np.array(["a"] * 3 + ["b"] * 3))


# --------------------------------------------------------------------------- response contrasts
# (tests/reference/make_response_fixtures.R: 48 lines in 4 tissues whose tissue shifts the AUC;
# G001-G020 follow the AUC within tissues, G021-G040 follow the tissue only)

COLS = ["logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]
PLANTED = [f"G{i:03d}" for i in range(1, 21)]
CONFOUNDED = [f"G{i:03d}" for i in range(21, 41)]


@pytest.fixture(scope="module")
def response_panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    expr = pd.read_csv(REF / "response_expr.tsv.gz", sep="\t", index_col=0)
    samples = pd.read_csv(REF / "response_samples.tsv.gz", sep="\t", index_col=0)
    return expr, samples


@pytest.mark.parametrize("variant, covariates, trend", [("plain", ["tissue"], False), ("trend", ["tissue"], True),
                                                       ("naive", [], False)])
def test_gene_associations_equal_r_limma(response_panel, variant, covariates, trend):
    """limma with the AUC as a numeric design term; its coefficient is the contrast."""
    expr, samples = response_panel
    got = gene_associations(expr, samples, "auc", covariates, trend=trend)
    expected = pd.read_csv(REF / f"response_{variant}.tsv.gz", sep="\t")
    assert list(got["gene"]) == list(expected["gene"])
    np.testing.assert_allclose(got[COLS].to_numpy(float), expected[COLS].to_numpy(float), rtol=1e-6, atol=1e-10)


def test_tissue_adjustment_finds_the_planted_genes_and_not_the_confounded_ones(response_panel):
    """Known answer: adjusted for tissue, the within-tissue genes are found and the tissue
    genes are not; the naive fit (no covariate) calls the tissue genes associated."""
    expr, samples = response_panel
    adjusted = gene_associations(expr, samples, "auc", ["tissue"]).set_index("gene")
    naive = gene_associations(expr, samples, "auc").set_index("gene")
    assert (adjusted.loc[PLANTED, "adj.P.Val"] < 0.05).mean() >= 0.9
    assert (adjusted.loc[PLANTED, "logFC"] > 0).all()
    np.testing.assert_allclose(adjusted.loc[PLANTED, "logFC"].median(), 0.6, atol=0.15)
    assert (adjusted.loc[CONFOUNDED, "adj.P.Val"] < 0.05).sum() <= 1
    assert (naive.loc[CONFOUNDED, "adj.P.Val"] < 0.05).mean() >= 0.9  # what the naive test gets wrong
    null = adjusted.drop(index=PLANTED + CONFOUNDED)
    assert (null["adj.P.Val"] < 0.05).sum() <= 3


def test_higher_is_sensitive_flips_the_sign_only(response_panel):
    expr, samples = response_panel
    up = gene_associations(expr, samples, "auc", ["tissue"])
    down = gene_associations(expr, samples, "auc", ["tissue"], higher_is="sensitive")
    np.testing.assert_allclose(down["logFC"], -up["logFC"], rtol=1e-12)
    np.testing.assert_allclose(down["P.Value"], up["P.Value"], rtol=1e-12)


def test_response_design_is_r_model_matrix(response_panel):
    _, samples = response_panel
    kept = samples.dropna(subset=["auc"])
    design = response_design(kept, "auc", ["tissue"])
    assert list(design.columns) == ["(Intercept)", "tissuecolon", "tissuelung", "tissueskin", "auc"]
    assert (design["(Intercept)"] == 1).all()
    np.testing.assert_array_equal(design["auc"], kept["auc"])


@pytest.fixture(scope="module")
def panel_scores(panel) -> tuple[pd.DataFrame, pd.DataFrame]:
    samples = panel.set_index("line")[["tissue", "response"]]
    long = panel.melt(id_vars=["line"], value_vars=["score_null", "score_assoc"], var_name="gene_set",
                      value_name="score").rename(columns={"line": "sample"}).assign(method="singscore")
    return long, samples


def test_score_associations_linear_equals_r_lm_and_rank_test_finds_the_answer(panel_scores):
    scores, samples = panel_scores
    got = score_associations(scores, samples, "response", ["tissue"], n_permutations=2000, seed=1)
    assert list(got.columns) == SCORE_COLUMNS
    got = got.set_index("gene_set")
    expected = pd.read_csv(REF / "panel_lm.tsv", sep="\t").set_index("score")
    for name in ("score_null", "score_assoc"):
        np.testing.assert_allclose(got.loc[name, ["slope", "se", "t", "df", "p_value"]].to_numpy(float),
                                   expected.loc[name, ["estimate", "se", "t", "df", "p"]].to_numpy(float), rtol=1e-10)
    assert got.loc["score_assoc", "rho"] > 0.4 and got.loc["score_assoc", "rank_p"] < 0.002
    assert got.loc["score_null", "rank_p"] > 0.2 and got.loc["score_null", "p_value"] > 0.2
    assert got.loc["score_null", "strata"] == 4 and got.loc["score_null", "n"] == 60
    flipped = score_associations(scores, samples, "response", ["tissue"], higher_is="sensitive",
                                 n_permutations=2000, seed=1).set_index("gene_set")
    assert flipped.loc["score_assoc", "slope"] == pytest.approx(-got.loc["score_assoc", "slope"])
    assert flipped.loc["score_assoc", "rho"] == pytest.approx(-got.loc["score_assoc", "rho"])


def test_numeric_covariate_is_adjusted_by_the_linear_test_and_noted_for_the_rank_test(panel_scores):
    scores, samples = panel_scores
    samples = samples.assign(passage=np.arange(len(samples)) % 7 + 1.0)
    got = score_associations(scores, samples, "response", ["tissue", "passage"], n_permutations=200)
    assert got["p_value"].notna().all() and got["rank_p"].isna().all()
    assert got["note"].str.contains("numeric covariate").all()


def test_response_errors_name_the_field(response_panel):
    expr, samples = response_panel
    with pytest.raises(DesignError, match="panel/AUC_drugX: response column 'ic50' is not in the sample table"):
        gene_associations(expr, samples, "ic50", ["tissue"], where="panel/AUC_drugX")
    bad = samples.assign(auc=samples["auc"].astype(object))
    bad.iloc[0, bad.columns.get_loc("auc")] = "high"
    with pytest.raises(DesignError, match="not numeric"):
        oriented_response(bad, "auc")
    with pytest.raises(DesignError, match="higher_is"):
        oriented_response(samples, "auc", higher_is="bigger")
    holes = samples.assign(batch=["b1"] * 20 + [None] * 28)
    with pytest.raises(DesignError, match="batch"):
        gene_associations(expr, holes, "auc", ["tissue", "batch"])
    # a covariate that is the response itself: not of full rank
    with pytest.raises(DesignError, match="not of full rank"):
        gene_associations(expr, samples.assign(copy=samples["auc"]), "auc", ["copy"])
