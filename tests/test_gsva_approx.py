"""GSVA's approximate kernel CDF (``gsva(kcdf_approx=True)``) against exact GSVA.

The approximation is used only from ``_KCDF_APPROX_MIN_SAMPLES`` samples and
``_KCDF_APPROX_MIN_GENES`` genes (below, ``kcdf_approx=True`` computes exact GSVA);
where it is used, scores are within 1e-3 of exact GSVA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets.catalogue import GeneSet
from igf1r_resistance.tl import _gsva, scoring


def correlated(n_genes: int, n_samples: int, seed: int = 1, n_factors: int = 10) -> pd.DataFrame:
    """log2-like matrix with gene-gene correlation (latent factors) and gene-specific sd."""
    rng = np.random.default_rng(seed)
    load = rng.normal(0, 1, (n_genes, n_factors)) * rng.uniform(0, 0.6, (n_genes, 1))
    noise = load @ rng.normal(size=(n_factors, n_samples)) + rng.normal(size=(n_genes, n_samples))
    x = rng.normal(7, 2, (n_genes, 1)) + rng.uniform(0.2, 1.5, (n_genes, 1)) * noise
    return pd.DataFrame(x, index=[f"G{i}" for i in range(n_genes)], columns=[f"S{j}" for j in range(n_samples)])


def counts_like(n_genes: int, n_samples: int, seed: int = 2) -> pd.DataFrame:
    """log2(CPM + 1) of negative-binomial counts: many low genes with tied zeros."""
    rng = np.random.default_rng(seed)
    mu = np.exp(rng.normal(2, 2, (n_genes, 1)) + 0.3 * rng.normal(size=(n_genes, 1)) * rng.normal(size=(1, n_samples)))
    counts = rng.negative_binomial(5, 1 / (1 + mu * 0.2))
    x = np.log2(counts / counts.sum(axis=0, keepdims=True) * 1e6 + 1)
    return pd.DataFrame(x, index=[f"G{i}" for i in range(n_genes)], columns=[f"S{j}" for j in range(n_samples)])


def sets_of(genes: pd.Index, seed: int = 3) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    sizes = [10, 15, 25, 30, 50, 60, 100, 150, 200, 400]
    return {f"SET{i}": genes[rng.choice(len(genes), min(k, len(genes) // 2), replace=False)].tolist()
            for i, k in enumerate(sizes)}


def test_kcdf_approx_close_to_exact_statistic():
    x = correlated(300, 200).to_numpy()
    exact = _gsva._gsva_kcdf(x)
    approx = _gsva._gsva_kcdf_approx(x)
    cdf = lambda s: 1.0 / (1.0 + np.exp(-s))  # noqa: E731
    assert np.abs(cdf(exact) - cdf(approx)).max() < 5e-5
    assert np.abs(exact - approx).max() < 1e-3  # the statistic itself (log-odds)


@pytest.mark.parametrize("make", [correlated, counts_like])
def test_gsva_approx_scores_within_1e3_where_used(make):
    # the smallest cohort the approximation is used for: 1,000 samples x 5,000 genes
    n_genes, n_samples = _gsva._KCDF_APPROX_MIN_GENES, _gsva._KCDF_APPROX_MIN_SAMPLES
    expr = make(n_genes, n_samples)
    assert _gsva._gsva_use_approx(len(scoring._drop_constant(expr)), n_samples)
    sets = sets_of(expr.index)
    exact = scoring.gsva(expr, sets)
    approx = scoring.gsva(expr, sets, kcdf_approx=True)
    assert approx.index.equals(exact.index) and approx.columns.equals(exact.columns)
    diff = np.abs(approx.to_numpy() - exact.to_numpy()).max()
    assert 0 < diff <= 1e-3  # > 0: the approximation was used


@pytest.mark.parametrize("n_genes,n_samples", [(2000, 400), (500, 12), (1000, 1200), (6000, 300)])
def test_gsva_approx_falls_back_to_exact_below_thresholds(n_genes, n_samples, caplog):
    expr = correlated(n_genes, n_samples)
    sets = sets_of(expr.index)
    assert not _gsva._gsva_use_approx(n_genes, n_samples)
    with caplog.at_level("INFO", logger="igf1r_resistance.tl.scoring"):
        approx = scoring.gsva(expr, sets, kcdf_approx=True)
    pd.testing.assert_frame_equal(approx, scoring.gsva(expr, sets))
    assert "exact kernel CDF" in caplog.text


def test_gsva_use_approx_rule():
    assert _gsva._gsva_use_approx(20_000, 1000)
    assert _gsva._gsva_use_approx(5000, 10_000)
    assert not _gsva._gsva_use_approx(20_000, 999)
    assert not _gsva._gsva_use_approx(4999, 10_000)


def test_gsva_default_is_exact():
    expr = correlated(200, 30)
    sets = sets_of(expr.index)
    pd.testing.assert_frame_equal(scoring.gsva(expr, sets), scoring.gsva(expr, sets, kcdf_approx=False))
    pd.testing.assert_frame_equal(scoring.gsva(expr, sets), scoring.gsva(expr, sets, kcdf_approx=None))


def test_score_gene_sets_gsva_approx_keyword(monkeypatch):
    expr = correlated(400, 40)
    sets = [GeneSet(name, tuple(genes), (), "test") for name, genes in sets_of(expr.index).items()]
    exact = scoring.score_gene_sets(expr, sets, ["gsva", "zscore"], min_size=5)
    below = scoring.score_gene_sets(expr, sets, ["gsva", "zscore"], min_size=5, gsva_approx=True)
    pd.testing.assert_frame_equal(exact, below)  # too small: exact GSVA
    # force the approximation on this small cohort to check that the keyword reaches it
    monkeypatch.setattr(_gsva, "_KCDF_APPROX_MIN_SAMPLES", 2)
    monkeypatch.setattr(_gsva, "_KCDF_APPROX_MIN_GENES", 2)
    approx = scoring.score_gene_sets(expr, sets, ["gsva", "zscore"], min_size=5, gsva_approx=True)
    assert exact[["sample", "gene_set", "method"]].equals(approx[["sample", "gene_set", "method"]])
    z = exact["method"] == "zscore"
    assert exact.loc[z, "score"].equals(approx.loc[z, "score"])
    # small cohort (40 samples, 400 genes): GSVA's truncated Phi table alone moves F by
    # ~1e-4 here and one rank swap moves a score by ~1 / 400 -- why it is not used here
    assert (exact.loc[~z, "score"] - approx.loc[~z, "score"]).abs().max() <= 1e-2
    assert not exact.loc[~z, "score"].equals(approx.loc[~z, "score"])  # the approximation was used
