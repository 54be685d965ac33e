"""The de step: limma table with topTable's confidence interval and the noise-floor flag,
from a tiny expression.h5ad."""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from igf1r_resistance.tl._limma import moderated_t
from igf1r_resistance.workflow.steps import load_expression, run_de

LOG = logging.getLogger("test")


@pytest.fixture()
def tiny(tmp_path):
    """20 genes x 6 samples (3 vs 3) + one excluded sample; gene k has mean level k;
    genes G00-G04 are below the noise floor (var['measurable'] False)."""
    rng = np.random.default_rng(2)
    genes = [f"G{k:02d}" for k in range(20)]
    x = np.arange(20.0)[None, :] + rng.normal(0, 0.3, size=(7, 20))
    x[:3, 19] += 2.0  # the highest gene also changes
    x[1, 5] = np.nan
    groups = ["resistant"] * 3 + ["sensitive"] * 3 + ["excluded"]
    var = pd.DataFrame({"measurable": np.arange(20) >= 5}, index=genes)
    adata = ad.AnnData(X=x, obs=pd.DataFrame({"group": groups}, index=[f"S{j}" for j in range(7)]), var=var)
    adata.uns["noise_floor"] = {"value": 4.5, "method": "lower_mode", "detail": "hand-made"}
    path = tmp_path / "expression.h5ad"
    adata.write_h5ad(path)
    return path


def test_de_table_columns_order_and_measurable_flag(tiny, tmp_path) -> None:
    out = tmp_path / "de.tsv"
    run_de(str(tiny), {"confint": 0.95}, str(out), LOG)
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns) == ["gene", "logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value", "adj.P.Val", "B",
                                   "measurable"]
    assert sorted(table.loc[~table["measurable"], "gene"]) == [f"G{k:02d}" for k in range(5)]
    assert table["P.Value"].is_monotonic_increasing
    assert table["gene"].iloc[0] == "G19"


def test_de_table_is_limma_on_the_grouped_samples(tiny, tmp_path) -> None:
    out = tmp_path / "de.tsv"
    run_de(str(tiny), {"confint": 0.95}, str(out), LOG)
    table = pd.read_csv(out, sep="\t").set_index("gene")
    _, expr, groups = load_expression(tiny)
    want = moderated_t(expr, groups).set_index("gene")
    for col in ["logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]:
        assert np.allclose(table.loc[want.index, col], want[col], rtol=1e-9)  # written with 10 digits
    assert table.loc["G05", "AveExpr"] == pytest.approx(np.nanmean(expr.loc["G05", expr.columns[:6]]), rel=1e-9)


def test_confidence_interval_is_logfc_plus_minus_qt_times_se(tiny, tmp_path) -> None:
    """topTable's interval: logFC +- qt((1 + level) / 2, df.total) * logFC / t; a 99% interval
    is wider than the 95% one by the ratio of the t quantiles."""
    out95, out99 = tmp_path / "de95.tsv", tmp_path / "de99.tsv"
    run_de(str(tiny), {"confint": 0.95}, str(out95), LOG)
    run_de(str(tiny), {"confint": 0.99}, str(out99), LOG)
    a = pd.read_csv(out95, sep="\t").set_index("gene")
    b = pd.read_csv(out99, sep="\t").set_index("gene").loc[a.index]
    half95, half99 = a["CI.R"] - a["logFC"], b["CI.R"] - b["logFC"]
    assert np.allclose(a["logFC"] - a["CI.L"], half95, rtol=1e-8)
    # equal df.total for every gene without missing values: one ratio of quantiles
    se = (a["logFC"] / a["t"]).abs()
    df_total = pd.Series(np.nan, index=a.index)
    for g in a.index:
        df_total[g] = _df_from_half_width(half95[g], se[g])
    complete = [g for g in a.index if g != "G05"]
    ratio = half99[complete] / half95[complete]
    want = stats.t.ppf(0.995, df_total[complete]) / stats.t.ppf(0.975, df_total[complete])
    assert np.allclose(ratio, want, rtol=1e-6)


def _df_from_half_width(half: float, se: float) -> float:
    """df at which qt(0.975, df) * se = half (bisection on log df)."""
    from scipy import optimize

    target = half / se
    return float(optimize.brentq(lambda d: stats.t.ppf(0.975, d) - target, 0.5, 1e7))


def test_data_prepared_before_the_noise_floor_count_as_measurable(tiny, tmp_path) -> None:
    adata = ad.read_h5ad(tiny)
    del adata.var["measurable"]
    adata.write_h5ad(tiny)
    out = tmp_path / "de.tsv"
    run_de(str(tiny), {}, str(out), LOG)
    assert pd.read_csv(out, sep="\t")["measurable"].all()
