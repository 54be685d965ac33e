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
    linear_association,
    partial_spearman,
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
