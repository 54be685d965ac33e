"""Tests of the numpy port of limma's camera against R limma fixtures.

Fixtures ``tests/data/reference/camera_<case>_<variant>.tsv`` are made by
``tests/reference/make_camera_inputs.py`` (gene sets) and
``tests/reference/make_camera_fixtures.R`` (R limma 3.54.1 ``camera``), on the input
matrices of the limma fixtures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from igf1r_resistance.tl._camera import CAMERA_COLUMNS, camera, zscore_t_hill
from igf1r_resistance.tl._limma import LimmaInputError

REF = Path(__file__).parent / "data" / "reference"
RTOL = 1e-6
CASES = ["gse15709", "gse11440", "logcpm", "outliers"]
VARIANTS = {
    "fixed": {"inter_gene_cor": 0.01},
    "estimated": {"inter_gene_cor": None},
    "negcor": {"inter_gene_cor": float("nan"), "allow_neg_cor": True},
    "trend": {"inter_gene_cor": 0.01, "trend_var": True},
    "zero": {"inter_gene_cor": 0.0},
}


def read_sets(case: str) -> dict[str, list[str]]:
    sets = {}
    for line in (REF / f"camera_{case}_sets.gmt").read_text().splitlines():
        parts = line.split("\t")
        sets[parts[0]] = parts[2:]
    return sets


@pytest.fixture(scope="module")
def inputs() -> dict[str, tuple[pd.DataFrame, pd.Series, dict[str, list[str]]]]:
    out = {}
    for case in CASES:
        expr = pd.read_csv(REF / f"limma_{case}_expr.tsv.gz", sep="\t", index_col=0)
        groups = pd.read_csv(REF / f"limma_{case}_groups.tsv", sep="\t", index_col=0)["group"]
        out[case] = (expr, groups, read_sets(case))
    return out


def scaled_error(got: np.ndarray, want: np.ndarray) -> float:
    """Largest |got - want| / max(|want|, 1e-300); NaN positions must agree."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert np.array_equal(np.isnan(got), np.isnan(want)), "NaN positions differ"
    ok = ~np.isnan(want)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(got[ok] - want[ok]) / np.maximum(np.abs(want[ok]), 1e-300)))


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("case", CASES)
def test_matches_r_camera(inputs, case: str, variant: str) -> None:
    expr, groups, sets = inputs[case]
    want = pd.read_csv(REF / f"camera_{case}_{variant}.tsv", sep="\t")
    got = camera(expr, groups, sets, **VARIANTS[variant])
    assert list(got.columns) == CAMERA_COLUMNS
    assert got["gene_set"].tolist() == want["gene_set"].tolist()
    assert got["n_genes"].tolist() == want["NGenes"].tolist()
    assert got["direction"].tolist() == want["Direction"].str.lower().tolist()
    # relative error, also for p-values down to 1e-5 (measured: < 1e-12)
    for ours, theirs in [("correlation", "Correlation"), ("p_value", "PValue"), ("fdr", "FDR")]:
        err = scaled_error(got[ours], want[theirs])
        assert err <= RTOL, f"{case}/{variant} {ours}: relative error {err:.3g}"


def test_planted_sets_found_in_the_right_direction() -> None:
    rng = np.random.default_rng(1)
    genes = [f"g{i}" for i in range(2000)]
    x = rng.normal(8.0, 0.5, size=(2000, 10))
    groups = pd.Series(["resistant"] * 5 + ["sensitive"] * 5, index=[f"s{j}" for j in range(10)])
    x[:20, :5] += 1.0  # up in resistant
    x[20:40, 5:] += 1.0  # down in resistant
    expr = pd.DataFrame(x, index=genes, columns=groups.index)
    sets = {"up": genes[:20], "down": genes[20:40], "null": genes[100:150]}
    for cor in (0.01, None):
        res = camera(expr, groups, sets, inter_gene_cor=cor).set_index("gene_set")
        assert res.loc["up", "direction"] == "up" and res.loc["up", "p_value"] < 1e-4
        assert res.loc["down", "direction"] == "down" and res.loc["down", "p_value"] < 1e-4
        assert res.loc["null", "p_value"] > 0.01


def test_missing_values_drop_the_gene(inputs) -> None:
    expr, groups, sets = inputs["gse11440"]
    holed = expr.copy()
    holed.iloc[5, 2] = np.nan
    got = camera(holed, groups, sets, inter_gene_cor=None)
    want = camera(expr.drop(index=expr.index[5]), groups, sets, inter_gene_cor=None)
    pd.testing.assert_frame_equal(got, want)


def test_sample_order_does_not_matter(inputs) -> None:
    expr, groups, sets = inputs["logcpm"]
    got = camera(expr[expr.columns[::-1]], groups, sets, inter_gene_cor=None)
    want = camera(expr, groups, sets, inter_gene_cor=None)
    pd.testing.assert_frame_equal(got, want, rtol=1e-10)


def test_empty_set_is_nan_and_left_out_of_fdr(inputs) -> None:
    expr, groups, sets = inputs["gse11440"]
    two = {"a": sets["top_up_15"], "none": ["NOT_A_GENE"]}
    res = camera(expr, groups, two).set_index("gene_set")
    assert res.loc["none", "n_genes"] == 0
    assert np.isnan(res.loc["none", "p_value"]) and np.isnan(res.loc["none", "fdr"])
    assert res.loc["none", "direction"] == ""
    assert res.loc["a", "fdr"] == res.loc["a", "p_value"]  # one set tested: BH is identity


def test_bad_inputs() -> None:
    groups = pd.Series(["resistant", "resistant", "sensitive", "sensitive"], index=list("abcd"))
    expr = pd.DataFrame(np.arange(8.0).reshape(2, 4), index=["x", "y"], columns=list("abcd"))
    with pytest.raises(LimmaInputError, match="at least 3 genes"):
        camera(expr, groups, {"s": ["x"]})
    dup = pd.DataFrame(np.random.default_rng(0).normal(size=(4, 4)), index=["x", "x", "y", "z"],
                       columns=list("abcd"))
    with pytest.raises(LimmaInputError, match="duplicated gene ids"):
        camera(dup, groups, {"s": ["x"]})


def test_zscore_t_hill_is_close_to_exact_quantile_transform() -> None:
    t = np.array([-8.0, -2.5, -0.3, 0.0, 0.7, 3.0, 6.0])
    for df in (4.0, 12.5, 200.0):
        exact = stats.norm.isf(stats.t.sf(t, df))
        assert np.allclose(zscore_t_hill(t, df), exact, atol=2e-3)
    assert np.allclose(zscore_t_hill(t, np.inf), t)  # df capped at 1e100: z = t
