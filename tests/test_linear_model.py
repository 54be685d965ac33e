"""limma on general designs (covariates, pairing, three groups, several contrasts) against
R limma 3.54: fixtures tests/data/reference/design_* from tests/reference/make_design_fixtures.R."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.tl.linear_model import (
    DesignError,
    check_full_rank,
    check_pairs,
    design_matrix,
    linear_model,
)

REF = Path(__file__).parent / "data/reference"
CASES = {
    "covariate": ("arm", ["batch"], None, ["R_vs_C"]),
    "numeric": ("arm", ["passage"], None, ["R_vs_C"]),
    "paired": ("arm", [], "line", ["resistant_vs_parental"]),
    "three": ("arm", ["batch"], None, ["O_vs_C", "R_vs_C", "R_vs_O"]),
}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"design_{name}.tsv.gz", sep="\t", keep_default_na=False, na_values=["NA"])


@pytest.mark.parametrize("case", list(CASES))
def test_design_matrix_equals_model_matrix(case):
    factor, covariates, pair_by, _ = CASES[case]
    samples = _read(f"{case}_samples").set_index("sample")
    expected = _read(f"{case}_design").set_index("sample")
    got = design_matrix(samples, factor, covariates, pair_by)
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy(float))


@pytest.mark.parametrize("variant", ["plain", "trend", "robust"])
@pytest.mark.parametrize("case", list(CASES))
def test_contrasts_equal_limma(case, variant):
    factor, covariates, pair_by, names = CASES[case]
    expr = _read(f"{case}_expr").set_index("gene")
    samples = _read(f"{case}_samples").set_index("sample")
    weights = _read(f"{case}_contrasts").set_index("column")
    design = design_matrix(samples, factor, covariates, pair_by)
    contrasts = {n: weights[n].to_dict() for n in names}
    tables = linear_model(expr, design, contrasts, trend=variant == "trend", robust=variant == "robust")
    for name in names:
        expected = _read(f"{case}_{name}_{variant}")
        got = tables[name]
        assert list(got["gene"]) == list(expected["gene"])
        for col in ["logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]:
            e, g = expected[col].to_numpy(float), got[col].to_numpy(float)
            np.testing.assert_array_equal(np.isnan(g), np.isnan(e), err_msg=f"{name} {col} NA")
            np.testing.assert_allclose(g[~np.isnan(e)], e[~np.isnan(e)], rtol=1e-7, atol=1e-9,
                                       err_msg=f"{case} {name} {variant} {col}")


def test_confounded_covariate_is_named():
    samples = pd.DataFrame({"arm": ["C", "C", "R", "R"], "batch": ["a", "a", "b", "b"]},
                           index=["s1", "s2", "s3", "s4"])
    with pytest.raises(DesignError, match="batchb"):
        check_full_rank(design_matrix(samples, "arm", ["batch"]))


def test_pair_within_one_group_is_named():
    samples = pd.DataFrame({"arm": ["C", "R", "C", "C"], "line": ["L1", "L1", "L2", "L2"]},
                           index=["s1", "s2", "s3", "s4"])
    check_full_rank(design_matrix(samples, "arm", [], "line"))  # fitted, but uninformative
    with pytest.raises(DesignError, match="pair.*L2.*one level of 'arm'"):
        check_pairs(samples, "arm", "line")


def test_no_residual_df_and_missing_numeric_covariate():
    samples = pd.DataFrame({"arm": ["C", "R"]}, index=["s1", "s2"])
    with pytest.raises(DesignError, match="no residual degrees"):
        check_full_rank(design_matrix(samples, "arm"))
    samples = pd.DataFrame({"arm": ["C", "C", "R", "R"], "age": [1.0, np.nan, 3.0, 4.0]},
                           index=["s1", "s2", "s3", "s4"])
    with pytest.raises(DesignError, match="age.*missing values.*s2"):
        design_matrix(samples, "arm", ["age"])


def test_unknown_contrast_column_is_named():
    samples = pd.DataFrame({"arm": ["C", "C", "R", "R"]}, index=["s1", "s2", "s3", "s4"])
    expr = pd.DataFrame(np.arange(12.0).reshape(3, 4) % 5, columns=samples.index, index=list("abc"))
    with pytest.raises(DesignError, match="armX"):
        linear_model(expr, design_matrix(samples, "arm"), {"X_vs_C": {"armX": 1, "armC": -1}})
