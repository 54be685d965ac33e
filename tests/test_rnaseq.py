"""RNA-seq counts: GEO's NCBI counts files, edgeR filterByExpr / TMM / log-CPM against edgeR 3.40.2.

Reference numbers: tests/reference/make_edger_fixtures.R (inputs from make_geo_rnaseq_fixture.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.errors import InputFormatError
from igf1r_resistance.pp.rnaseq import (
    calc_norm_factors_tmm,
    cpm_log,
    filter_by_expr,
    log_cpm,
    read_geo_counts,
    read_geo_gene_annotation,
)
from igf1r_resistance.tl._limma import moderated_t

DATA = Path(__file__).parent / "data"
REF = DATA / "reference"
GEO = DATA / "geo_rnaseq/series/GSE999nnn/GSE999001/rnaseq_counts"


@pytest.fixture(scope="module")
def geo_counts() -> pd.DataFrame:
    return read_geo_counts(GEO / "GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz")


@pytest.fixture(scope="module")
def groups() -> pd.Series:
    g = pd.read_csv(REF / "edger_geo_rnaseq_groups.tsv", sep="\t")
    return pd.Series(g["group"].to_numpy(), index=g["sample"])


def test_reads_geo_counts_and_annotation(geo_counts):
    assert geo_counts.shape == (300, 6)
    assert list(geo_counts.columns) == [f"GSM99900{i:02d}" for i in range(1, 7)]
    assert geo_counts.index.dtype == object and "3480" in geo_counts.index  # IGF1R's GeneID, as text
    annot = read_geo_gene_annotation(GEO / "Human.GRCh38.p13.annot.tsv.gz")
    assert list(annot.columns) == ["GeneID", "Symbol"]
    assert annot.set_index("GeneID").loc["3480", "Symbol"] == "IGF1R"


def test_filter_by_expr_matches_edger(geo_counts, groups):
    ref = pd.read_csv(REF / "edger_geo_rnaseq_keep.tsv", sep="\t", dtype={"GeneID": str})
    keep = filter_by_expr(geo_counts, groups)
    assert keep.tolist() == ref.set_index("GeneID").loc[geo_counts.index, "keep"].tolist()
    assert (~keep).sum() == 20


def test_tmm_and_log_cpm_match_edger(geo_counts, groups):
    values, record = log_cpm(geo_counts, groups)
    factors = pd.read_csv(REF / "edger_geo_rnaseq_factors.tsv", sep="\t")
    np.testing.assert_allclose(record["norm_factors"], factors["norm.factors"], rtol=1e-12)
    np.testing.assert_allclose(record["library_sizes"], factors["lib.size"], rtol=1e-15)
    ref = pd.read_csv(REF / "edger_geo_rnaseq_logcpm.tsv.gz", sep="\t", dtype={"GeneID": str}).set_index("GeneID")
    assert list(values.index) == list(ref.index)
    np.testing.assert_allclose(values.to_numpy(), ref[values.columns].to_numpy(), rtol=0, atol=1e-10)
    assert record["scale"] == "log2-CPM" and record["n_genes_kept_by_filterbyexpr"] == 280


def test_limma_trend_on_log_cpm_matches_r(geo_counts, groups):
    values, _ = log_cpm(geo_counts, groups)
    table = moderated_t(values, groups, trend=True).set_index("gene")
    ref = pd.read_csv(REF / "edger_geo_rnaseq_limma_trend.tsv.gz", sep="\t", dtype={"GeneID": str}).set_index("GeneID")
    for col in ["logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]:
        np.testing.assert_allclose(table.loc[ref.index, col], ref[col], rtol=1e-6, atol=1e-9, err_msg=col)


def test_tmm_edge_cases_match_edger():
    """Zeros in the reference column, tied counts, an all-zero gene, 17-fold library differences."""
    m = pd.read_csv(REF / "edger_random_counts.tsv.gz", sep="\t").set_index("gene")
    ref = pd.read_csv(REF / "edger_random_factors.tsv", sep="\t")
    factors = calc_norm_factors_tmm(m)
    np.testing.assert_allclose(factors, ref["norm.factors"], rtol=1e-12)
    assert np.prod(factors) == pytest.approx(1.0)
    for prior in ("2", "0.5"):
        lc = pd.read_csv(REF / f"edger_random_logcpm_prior{prior}.tsv.gz", sep="\t").set_index("gene")
        got = cpm_log(m, m.sum(axis=0).to_numpy() * factors, float(prior))
        np.testing.assert_allclose(got.to_numpy(), lc.to_numpy(), rtol=0, atol=1e-10)


def test_tmm_degenerate_inputs():
    assert calc_norm_factors_tmm(np.zeros((5, 3))).tolist() == [1.0, 1.0, 1.0]
    assert calc_norm_factors_tmm(np.ones((5, 1))).tolist() == [1.0]
    same = np.tile(np.arange(1, 11)[:, None], (1, 4))
    np.testing.assert_allclose(calc_norm_factors_tmm(same), 1.0)


@pytest.mark.parametrize("text, message", [
    ("gene\tGSM1\nA\t1\n", "start with 'GeneID'"),
    ("GeneID\tGSM1\n1\tx\n", "non-numeric count 'x'"),
    ("GeneID\tGSM1\n1\t-3\n", "negative count"),
    ("GeneID\tGSM1\n1\t3\n1\t4\n", "appears twice"),
])
def test_bad_counts_tables_are_named(tmp_path, text, message):
    path = tmp_path / "c.tsv"
    path.write_text(text)
    with pytest.raises(InputFormatError, match=message):
        read_geo_counts(path)


# --------------------------------------------------------------------------- the geo_rnaseq data set


SERIES = DATA / "geo_rnaseq/series/GSE999nnn/GSE999001/matrix/GSE999001_series_matrix.txt.gz"
RNASEQ_SETTINGS = {"type": "geo_rnaseq", "groups": {"by": "treatment", "resistant": "resistant", "sensitive": "^parental$"}}


def test_prepare_geo_rnaseq_uses_series_metadata_and_log_cpm():
    from igf1r_resistance.pp.rnaseq import prepare_geo_rnaseq
    from igf1r_resistance.pp.symbols import SymbolMapper
    from igf1r_resistance.workflow.steps import de_options

    mapper = SymbolMapper.from_file(DATA.parent.parent / "workflow/resources/hgnc_symbols.tsv.gz")
    p = prepare_geo_rnaseq("GSE999001", RNASEQ_SETTINGS, str(SERIES), str(GEO / "GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz"),
                           str(GEO / "Human.GRCh38.p13.annot.tsv.gz"), mapper)
    a = p.adata
    assert a.obs["group"].astype(str).tolist() == ["sensitive"] * 3 + ["resistant"] * 3
    assert a.n_vars == 280 and "IGF1R" in a.var_names
    assert a.uns["dataset"]["data_type"] == "rnaseq" and a.uns["dataset"]["type"] == "geo_rnaseq"
    assert a.uns["de"]["method"] == "limma-trend" and bool(a.uns["de"]["trend"]) is True
    assert de_options(a) == {"trend": True}
    assert "TMM" in a.uns["log2"]["reason"] and a.uns["log2"]["scale"] == "log2-CPM"
    ref = pd.read_csv(REF / "edger_geo_rnaseq_logcpm.tsv.gz", sep="\t", dtype={"GeneID": str}).set_index("GeneID")
    np.testing.assert_allclose(a[:, "IGF1R"].X.ravel(), ref.loc["3480", list(a.obs_names)].to_numpy(float), atol=1e-10)
    assert p.probes.set_index("gene").loc["IGF1R", "probe"] == "3480"
    assert "carboplatin ic50 (um)" in p.samples.columns


def test_fetch_rnaseq_counts_from_geo_download_endpoint(tmp_path):
    import logging

    from igf1r_resistance.errors import NotFoundError
    from igf1r_resistance.io.acquire import fetch_rnaseq_counts

    from geo_server import serve_directory

    log = logging.getLogger("test")
    with serve_directory(DATA / "geo_rnaseq") as server:
        geo = {"base_url": server.url, "download_url": f"{server.url}/geo/download/", "local_mirrors": [],
               "cache_dir": str(tmp_path / "cache"), "offline": False, "retries": 0, "timeout_seconds": 5}
        sources = fetch_rnaseq_counts("GSE999001", RNASEQ_SETTINGS, geo, tmp_path / "c.tsv.gz", tmp_path / "a.tsv.gz", log)
        assert sources[0] == (f"{server.url}/geo/download/?type=rnaseq_counts&acc=GSE999001&format=file"
                              "&file=GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz")
        assert sources[1].endswith("&file=Human.GRCh38.p13.annot.tsv.gz")
        assert read_geo_counts(tmp_path / "c.tsv.gz").shape == (300, 6)
        with pytest.raises(NotFoundError, match="GEO computes counts only for some"):
            fetch_rnaseq_counts("GSE999002", RNASEQ_SETTINGS, geo, tmp_path / "x.tsv.gz", tmp_path / "y.tsv.gz", log)
    # a local mirror wins over the endpoint
    geo = {**geo, "local_mirrors": [str(DATA / "geo_rnaseq")], "download_url": "http://127.0.0.1:9/none/"}
    sources = fetch_rnaseq_counts("GSE999001", RNASEQ_SETTINGS, geo, tmp_path / "c2.tsv.gz", tmp_path / "a2.tsv.gz", log)
    assert sources[0].endswith("rnaseq_counts/GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz")
