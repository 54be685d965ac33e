"""Memory requests grow with the inputs, by file kind, attempt and samples (QC)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from igf1r_resistance import resources


def test_mem_mb_grows_with_input_size_kind_and_attempt(tmp_path):
    small, large = tmp_path / "small.h5ad", tmp_path / "large.tsv"
    small.write_bytes(b"x" * 1_000_000)
    large.write_bytes(b"x" * 100_000_000)
    gz = tmp_path / "series_matrix.txt.gz"
    gz.write_bytes(b"z" * 10_000_000)  # 10 MB on disk (the factor goes by the name)
    assert resources.mem_mb([small]) == 1003
    assert resources.mem_mb([large]) == 1300
    assert resources.mem_mb([small, large], attempt=2) == 2 * 1303
    assert resources.mem_mb([gz]) == 1000 + 12 * 10
    assert resources.mem_mb([small], floor_mb=2500) == 2500
    assert resources.mem_mb([small], extra_mb=500) == 1503


def test_qc_correlation_term_from_the_h5ad_header(tmp_path):
    n = 300
    adata = ad.AnnData(np.zeros((n, 4)), obs=pd.DataFrame(index=[f"S{i}" for i in range(n)]),
                       var=pd.DataFrame(index=list("ABCD")))
    path = tmp_path / "expression.h5ad"
    adata.write_h5ad(path)
    assert resources.h5ad_samples(path) == n
    assert resources.correlation_mb(path) == 8 * n * n / 1e6
