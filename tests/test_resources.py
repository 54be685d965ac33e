"""Memory requests grow with the inputs, by file kind, attempt and samples (QC)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

from igf1r_resistance.workflow import resources


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


def test_inputs_not_written_yet_are_estimated_from_the_stand_ins(tmp_path):
    # DAG time (dry run, fresh clone): the h5ad does not exist; the source it will be made
    # from does. No exception; the estimate is what prepare asks for, and it is refined
    # from the real file once it exists.
    h5ad, source = tmp_path / "expression.h5ad", tmp_path / "series_matrix.txt.gz"
    source.write_bytes(b"z" * 5_000_000)
    assert resources.mem_mb([h5ad]) == 1000
    assert resources.mem_mb([h5ad], stand_ins=[source]) == 1000 + 12 * 5
    assert resources.mem_mb([h5ad], 2, stand_ins=[source]) == 2 * (1000 + 12 * 5)
    assert resources.mem_mb([h5ad], stand_ins=[tmp_path / "missing.gz"]) == 1000
    assert resources.correlation_mb(h5ad) == 0.0
    h5ad.write_bytes(b"x" * 40_000_000)
    assert resources.mem_mb([h5ad], stand_ins=[source]) == 1000 + 3 * 40


def test_stand_ins_are_a_floor_while_some_inputs_are_missing(tmp_path):
    adata, de, source = tmp_path / "a.h5ad", tmp_path / "de.tsv", tmp_path / "s.txt.gz"
    adata.write_bytes(b"x" * 1_000_000)
    source.write_bytes(b"z" * 10_000_000)
    assert resources.mem_mb([adata, de], stand_ins=[source]) == 1000 + 120
    de.write_bytes(b"x" * 1_000_000)
    assert resources.mem_mb([adata, de], stand_ins=[source]) == 1000 + 6


def test_score_request_with_chunks_not_written_yet(tmp_path):
    from types import SimpleNamespace

    from igf1r_resistance.workflow.chunks import score_mem_mb

    source = tmp_path / "s.txt.gz"
    source.write_bytes(b"z" * 10_000_000)
    chunks = [tmp_path / f"chunk_{k}.tsv" for k in range(2)]
    mem = score_mem_mb(2, stand_ins=lambda wildcards: [source])
    job_input = SimpleNamespace(chunks=[str(c) for c in chunks])
    assert mem({}, job_input, 1) == 1000 + 120
    for c in chunks:
        c.write_bytes(b"x" * 1_000_000)
    assert mem({}, job_input, 1) == 1000 + 12 * 2


def test_mirrored_sources_find_the_demo_series_without_fetching():
    from pathlib import Path

    from igf1r_resistance.io.acquire import mirrored_sources

    repo = Path(__file__).resolve().parents[1]
    geo_config = {"local_mirrors": [str(repo / ".test/geo")]}
    found = mirrored_sources("GSE15709", "geo", {"platform": "GPL570"}, geo_config)
    assert [p.name for p in found] == ["GSE15709-GPL570_series_matrix.txt.gz"]
    cells = mirrored_sources("GSE108383", "single_cell",
                             {"suppl_file": "Target_expr_resp_z.PLX4720_tp4k.tsv.gz"}, geo_config)
    assert [p.name for p in cells] == ["Target_expr_resp_z.PLX4720_tp4k.tsv.gz"]
    assert mirrored_sources("GSE99999", "geo", {}, geo_config) == []
    assert mirrored_sources("mine", "matrix", {}, geo_config) == []
