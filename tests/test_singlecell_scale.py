"""Per-cell scores on sparse matrices in chunks (singlecell.score_cells)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from igf1r_resistance.genesets.catalogue import GeneSet
from igf1r_resistance.pp.singlecell import control_genes, gene_means, score_cells
from igf1r_resistance.tl import scoring

N_CELLS, N_GENES = 240, 300
GENES = [f"G{i}" for i in range(N_GENES)]
SETS = [
    GeneSet("A", tuple(GENES[:20])),
    GeneSet("B", tuple(GENES[50:62]) + ("NOT_MEASURED",)),
    GeneSet("UPDOWN", tuple(GENES[100:130:2]), tuple(GENES[200:215])),
    GeneSet("EMPTY", ("NOPE1", "NOPE2")),
]


@pytest.fixture(scope="module")
def cells() -> np.ndarray:
    """Log-normalised sparse-ish counts (about 60% zeros), cells x genes."""
    rng = np.random.default_rng(11)
    lam = rng.gamma(0.4, 2.5, size=N_GENES)
    x = rng.poisson(lam, (N_CELLS, N_GENES)).astype(float)
    x[5] = 0  # an empty cell
    totals = x.sum(axis=1, keepdims=True)
    x = np.divide(x * np.median(totals), totals, out=np.zeros_like(x), where=totals > 0)
    return np.log1p(x)


def test_chunked_equals_unchunked(cells):
    x = sp.csr_matrix(cells)
    whole = score_cells(x, GENES, SETS, chunk_size=N_CELLS)
    for size in (1, 7, 100):
        pd.testing.assert_frame_equal(score_cells(x, GENES, SETS, chunk_size=size), whole, check_exact=True)
    assert list(whole.columns.get_level_values(0).unique()) == ["A", "B", "UPDOWN", "EMPTY"]
    assert whole[("EMPTY", "singscore")].isna().all() and whole[("EMPTY", "score_genes")].isna().all()
    assert whole.drop(columns="EMPTY", level=0).notna().all().all()


def test_sparse_equals_dense(cells):
    sparse = score_cells(sp.csr_matrix(cells), GENES, SETS, chunk_size=50)
    dense = score_cells(cells, GENES, SETS, chunk_size=50)
    csc = score_cells(sp.csc_matrix(cells), GENES, SETS, chunk_size=64)
    np.testing.assert_allclose(dense.to_numpy(), sparse.to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(csc.to_numpy(), sparse.to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("sparse_input", [False, True])
def test_score_genes_equals_scanpy(cells, seed, sparse_input):
    import anndata as ad
    import scanpy as sc

    x = sp.csr_matrix(cells) if sparse_input else cells
    ours = score_cells(x, GENES, SETS, methods=("score_genes",), chunk_size=33, seed=seed)
    state = np.random.get_state()
    adata = ad.AnnData(X=x.copy(), var=pd.DataFrame(index=GENES))
    for gs in SETS[:2]:
        present = [g for g in gs.up if g in set(GENES)]
        sc.tl.score_genes(adata, present, random_state=seed, use_raw=False, score_name="s")
        np.testing.assert_allclose(ours[(gs.name, "score_genes")].to_numpy(), adata.obs["s"].to_numpy(),
                                   rtol=0, atol=1e-12)
    np.random.set_state(state)
    # up/down sets as scoring.score_genes: score(up) - score(down), each drawn with a fresh seed
    ref = scoring.score_genes(pd.DataFrame(cells.T, index=GENES), SETS, seed=seed)
    np.testing.assert_allclose(ours.xs("score_genes", axis=1, level=1).to_numpy(), ref.to_numpy().T,
                               rtol=0, atol=1e-12)


def test_control_genes_are_scanpys_and_need_all_cells(cells):
    """Controls come from bins over all cells: scanpy run on one chunk would draw others."""
    means = gene_means(sp.csr_matrix(cells))
    np.testing.assert_allclose(means, cells.mean(axis=0), rtol=1e-14)
    whole = control_genes(means, GENES, GENES[:20], seed=0)
    part = control_genes(cells[:30].mean(axis=0), GENES, GENES[:20], seed=0)
    assert len(whole) and not set(whole) & set(range(20))
    assert set(whole) != set(part)


def test_singscore_equals_bulk_singscore_with_negative_values(cells):
    rng = np.random.default_rng(2)
    z = cells - cells.mean(axis=0)  # z-score-like: negative stored values and exact zeros
    z[rng.random(z.shape) < 0.3] = 0
    x = sp.csr_matrix(z)
    ours = score_cells(x, GENES, SETS, methods=("singscore",), chunk_size=17)
    ref = scoring.singscore(pd.DataFrame(z.T, index=GENES), SETS)
    np.testing.assert_allclose(ours.xs("singscore", axis=1, level=1).to_numpy(), ref.to_numpy().T,
                               rtol=0, atol=1e-12, equal_nan=True)


def test_bad_input():
    with pytest.raises(ValueError, match="unique"):
        score_cells(np.zeros((2, 2)), ["a", "a"], {"s": ["a"]})
    with pytest.raises(ValueError, match="unknown"):
        score_cells(np.zeros((2, 2)), ["a", "b"], {"s": ["a"]}, methods=("gsva",))
