"""The de step: limma table plus the low_expression flag, from a tiny expression.h5ad."""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.limma import moderated_t
from igf1r_resistance.steps import load_expression, run_de


@pytest.fixture()
def tiny(tmp_path):
    """20 genes x 6 samples (3 vs 3) + one excluded sample; gene k has mean level k."""
    rng = np.random.default_rng(2)
    genes = [f"G{k:02d}" for k in range(20)]
    x = np.arange(20.0)[None, :] + rng.normal(0, 0.3, size=(7, 20))
    x[:3, 19] += 2.0  # the highest gene also changes
    x[1, 5] = np.nan
    groups = ["resistant"] * 3 + ["sensitive"] * 3 + ["excluded"]
    adata = ad.AnnData(X=x, obs=pd.DataFrame({"group": groups}, index=[f"S{j}" for j in range(7)]),
                       var=pd.DataFrame(index=genes))
    path = tmp_path / "expression.h5ad"
    adata.write_h5ad(path)
    return path


def test_low_expression_flags_genes_below_the_quantile(tiny, tmp_path) -> None:
    out = tmp_path / "de.tsv"
    run_de(str(tiny), {"low_expression_quantile": 0.25}, str(out), logging.getLogger("test"))
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns) == ["gene", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B",
                                   "low_expression"]
    threshold = np.quantile(table["AveExpr"], 0.25)
    assert (table["low_expression"] == (table["AveExpr"] < threshold)).all()
    # levels 0..19: the quantile lies near 4.75, so G00..G04 are flagged
    assert sorted(table.loc[table["low_expression"], "gene"]) == [f"G{k:02d}" for k in range(5)]
    assert table["P.Value"].is_monotonic_increasing
    assert table["gene"].iloc[0] == "G19"


def test_de_table_is_limma_on_the_grouped_samples(tiny, tmp_path) -> None:
    out = tmp_path / "de.tsv"
    run_de(str(tiny), {"low_expression_quantile": 0.5}, str(out), logging.getLogger("test"))
    table = pd.read_csv(out, sep="\t").set_index("gene")
    _, expr, groups = load_expression(tiny)
    want = moderated_t(expr, groups).set_index("gene")
    for col in ["logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]:
        assert np.allclose(table.loc[want.index, col], want[col], rtol=1e-9)  # written with 10 digits
    assert int(table["low_expression"].sum()) == 10
    assert table.loc["G05", "AveExpr"] == pytest.approx(np.nanmean(expr.loc["G05", expr.columns[:6]]), rel=1e-9)


def test_no_low_expression_flag_for_z_scored_values(tiny, tmp_path) -> None:
    adata = ad.read_h5ad(tiny)
    adata.uns["de"] = {"method": "limma", "trend": False, "low_expression_flag": False}
    adata.write_h5ad(tiny)
    out = tmp_path / "de.tsv"
    run_de(str(tiny), {"low_expression_quantile": 0.25}, str(out), logging.getLogger("test"))
    assert not pd.read_csv(out, sep="\t")["low_expression"].any()
