"""Single-cell data sets: reading, gene-id mapping, preprocessing by value type, pseudobulk, GSE108383."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from igf1r_resistance.errors import GroupingError, InputFormatError
from igf1r_resistance.pp.gene_ids import describe_unmapped, detect_id_type, map_to_symbols
from igf1r_resistance.pp.singlecell import check_values, prepare_single_cell, preprocess, pseudobulk
from igf1r_resistance.pp.symbols import SymbolMapper

REPO = Path(__file__).resolve().parents[1]
GSE108383 = REPO / ".test/geo/series/GSE108nnn/GSE108383/suppl/Target_expr_resp_z.PLX4720_tp4k.tsv.gz"
SETTINGS = {"type": "single_cell", "values": "zscore", "gene_ids": "entrez",
            "groups": {"by": "response", "resistant": "^0$", "sensitive": "^1$"}}


@pytest.fixture(scope="module")
def mapper() -> SymbolMapper:
    return SymbolMapper.from_file(REPO / "workflow/resources/hgnc_symbols.tsv.gz")


# --------------------------------------------------------------------------- gene ids


@pytest.mark.parametrize("ids, kind", [
    (["3480", "207"], "entrez"),
    (["ENSG00000140443", "ENSG00000142208.17"], "ensembl"),
    (["IGF1R", "3480"], "symbol"),
])
def test_detect_id_type(ids, kind):
    assert detect_id_type(ids) == kind


def test_id_mapping_drops_and_reports_unmapped_ids(mapper):
    symbols, record = map_to_symbols(["3480", "207", "999999999", "5728", "123456789"], "auto", mapper)
    assert symbols == ["IGF1R", "AKT1", "", "PTEN", ""]
    assert record["id_type"] == "entrez" and record["n_mapped"] == 3 and record["n_unmapped"] == 2
    assert record["unmapped"] == ["999999999", "123456789"]
    assert "2 of 5 entrez identifiers have no HGNC symbol and were dropped: 999999999, 123456789" in \
        describe_unmapped(record)


def test_unmapped_ids_are_dropped_and_listed_in_uns(tmp_path, mapper):
    cells = pd.DataFrame(np.random.default_rng(0).normal(size=(6, 4)), columns=["3480", "207", "999999999", "5728"],
                         index=[f"c{i}" for i in range(6)])
    cells.insert(0, "condition", ["resistant"] * 3 + ["sensitive"] * 3)
    cells.to_csv(tmp_path / "cells.tsv", sep="\t")
    p = prepare_single_cell("sc", {"type": "single_cell", "values": "zscore", "group_column": "condition"},
                            str(tmp_path / "cells.tsv"), mapper)
    assert list(p.adata.var_names) == ["AKT1", "IGF1R", "PTEN"]
    assert p.adata.uns["gene_ids"]["unmapped"] == ["999999999"]
    assert p.adata.uns["probe_collapse"]["n_probes_without_symbol"] == 1
    assert p.probes.set_index("gene").loc["IGF1R", "probe"] == "3480"


# --------------------------------------------------------------------------- preprocessing


def test_counts_are_normalised_like_scanpy():
    import anndata as ad
    import scanpy as sc

    rng = np.random.default_rng(4)
    x = rng.poisson(2.0, (30, 50)).astype(float)
    x[3] = 0  # an empty cell stays empty
    for matrix in (x, sp.csr_matrix(x)):
        ours = ad.AnnData(X=matrix.copy())
        record = preprocess(ours, "counts")
        ref = ad.AnnData(X=x.copy())
        sc.pp.normalize_total(ref)
        sc.pp.log1p(ref)
        got = ours.X.toarray() if sp.issparse(ours.X) else ours.X
        np.testing.assert_allclose(got, ref.X, rtol=1e-6)
        assert "normalise_total" in record["preprocessing"]


def test_zscores_and_log_normalised_values_are_used_as_they_are():
    import anndata as ad

    x = np.random.default_rng(5).normal(size=(5, 4))
    a = ad.AnnData(X=x.copy())
    assert "used as they are" in preprocess(a, "zscore")["preprocessing"]
    np.testing.assert_array_equal(a.X, x)


@pytest.mark.parametrize("values, matrix, message", [
    ("counts", np.array([[1.0, -2.0]]), "negative values"),
    ("counts", np.array([[1.5, 2.0]]), "non-integer values"),
    ("normalised", np.array([[1.5, -0.1]]), "negative values"),
    ("zscore", np.array([[np.nan, 1.0]]), "missing or infinite"),
])
def test_declared_value_type_is_checked(values, matrix, message):
    with pytest.raises(InputFormatError, match=message):
        check_values(matrix, values, "sc")


# --------------------------------------------------------------------------- pseudobulk


def _counts_h5ad(tmp_path: Path, mixed: bool = False) -> Path:
    import anndata as ad

    rng = np.random.default_rng(6)
    n = 40
    obs = pd.DataFrame({
        "condition": ["resistant"] * 20 + ["sensitive"] * 20,
        "sample": [f"R{i % 2}" for i in range(20)] + [f"S{i % 3}" for i in range(20)],
    }, index=[f"cell{i}" for i in range(n)])
    if mixed:
        obs.loc["cell25", "sample"] = "R0"
    var = pd.DataFrame(index=["IGF1R", "AKT1", "PTEN", "MIR143HG", "FAKE1"])
    a = ad.AnnData(X=sp.csr_matrix(rng.poisson(3.0, (n, 5)).astype(np.float32)), obs=obs, var=var)
    a.write_h5ad(tmp_path / "cells.h5ad")
    return tmp_path / "cells.h5ad"


def test_replicates_become_pseudobulk_samples(tmp_path, mapper):
    path = _counts_h5ad(tmp_path)
    settings = {"type": "single_cell", "values": "counts", "group_column": "condition", "replicate_column": "sample"}
    p = prepare_single_cell("sc", settings, str(path), mapper)
    a, cells = p.adata, p.cells
    assert list(a.obs_names) == ["R0", "R1", "S0", "S1", "S2"]
    assert a.obs["group"].tolist() == ["resistant", "resistant", "sensitive", "sensitive", "sensitive"]
    assert cells.n_obs == 40 and "CARMN" in cells.var_names  # per-cell matrix kept, symbols current
    expected = np.asarray(cells[cells.obs["sample"] == "S1"].X.mean(axis=0)).ravel()
    np.testing.assert_allclose(a["S1"].X.ravel(), expected[[list(cells.var_names).index(g) for g in a.var_names]],
                               rtol=1e-6)
    sc_uns = a.uns["single_cell"]
    assert sc_uns["n_replicates"] == 5 and sc_uns["unit"].startswith("replicate") and sc_uns["caveat"] == ""
    assert a.uns["dataset"]["caveat"] == "" and a.uns["dataset"]["data_type"] == "single_cell"
    assert p.samples.set_index("sample").loc["S1", "n_cells"] == 7


def test_a_replicate_spanning_both_groups_is_an_error(tmp_path, mapper):
    settings = {"type": "single_cell", "values": "counts", "group_column": "condition", "replicate_column": "sample"}
    with pytest.raises(GroupingError, match="replicate\\(s\\) R0 .* hold cells of both groups"):
        prepare_single_cell("sc", settings, str(_counts_h5ad(tmp_path, mixed=True)), mapper)


def test_pseudobulk_means(mapper):
    import anndata as ad

    a = ad.AnnData(X=np.array([[1.0, 2], [3, 4], [5, 6]]), obs=pd.DataFrame({"rep": ["a", "a", "b"]}, index=list("xyz")))
    matrix, table = pseudobulk(a, "rep", pd.Series(["resistant", "resistant", "sensitive"], index=list("xyz")), "d")
    assert matrix["a"].tolist() == [2.0, 3.0] and matrix["b"].tolist() == [5.0, 6.0]
    assert table["n_cells"].tolist() == [2, 1]


# --------------------------------------------------------------------------- GSE108383


@pytest.fixture(scope="module")
def gse108383(mapper):
    return prepare_single_cell("GSE108383", SETTINGS, str(GSE108383), mapper)


def test_gse108383_cells_are_the_samples(gse108383):
    a = gse108383.adata
    assert a.shape == (108, 2873)
    assert (a.obs["group"] == "resistant").sum() == 46 and (a.obs["group"] == "sensitive").sum() == 62
    assert all(a.obs_names[a.obs["group"] == "resistant"].str.startswith("A375_sc_br_cell"))
    assert a.uns["dataset"]["data_type"] == "single_cell"
    assert a.uns["log2"]["transformed"] is False and a.uns["log2"]["scale"] == "zscore"
    assert "Pseudo-replication" in a.uns["dataset"]["caveat"] and "108 cells" in a.uns["dataset"]["caveat"]
    assert a.uns["single_cell"]["unit"].startswith("cell")
    assert a.uns["de"]["method"] == "limma" and a.uns["noise_floor"]["method"] == "not_applicable"
    assert bool(a.var["measurable"].all())
    assert a.uns["gene_ids"]["id_type"] == "entrez" and a.uns["gene_ids"]["n_unmapped"] == 0
    for absent in ["IGF1R", "ABCB1", "ABCG2", "ABCC1", "INSR"]:
        assert absent not in a.var_names
    for present in ["IRS1", "IGFBP3", "PIK3CA", "AKT1", "ABCC2", "ABCC3", "ABCA1"]:
        assert present in a.var_names
    assert gse108383.cells.n_obs == 108
    assert list(gse108383.samples.columns[:3]) == ["sample", "group", "title"]


def test_gse108383_sets_below_minimum_size_are_not_testable(gse108383):
    """The hypotheses step on GSE108383's real matrix: absent genes and small sets are not_testable."""
    from igf1r_resistance.genesets import catalogue as gs
    from igf1r_resistance.genesets.universe import GeneSetsUsed, gene_sets_for
    from igf1r_resistance.tl._hypotheses import HypothesisSettings, evaluate
    from igf1r_resistance.tl.scoring import score_gene_sets

    a = gse108383.adata
    expr = pd.DataFrame(np.asarray(a.X, float).T, index=a.var_names, columns=a.obs_names)
    groups = a.obs["group"].astype(str)
    catalogue = REPO / "workflow/resources/mechanisms.yaml"
    _, _, hyps = gs.collect(catalogue, [], [])
    sets = GeneSetsUsed.from_table(gene_sets_for(a, str(catalogue), [], [], 5)[0])
    usable = list(sets.used.values())
    scores = score_gene_sets(expr, usable, ["singscore"], min_size=1, seed=0)
    table = evaluate("GSE108383", scores, expr, groups, sets.used, sets, hyps,
                     HypothesisSettings(methods=("singscore",), primary="singscore", n_permutations=200))
    verdict = table[table["primary"].astype(bool)].set_index("hypothesis")["verdict"]
    for h in ["igf1r_gene_up", "abcb1_up", "abcg2_up", "abcc1_up", "igf1r_axis_up", "insr_changed"]:
        assert verdict[h] == "not_testable", h
    # issue 14: the drug-efflux set replaces the whole ABC family, whose only measured members here
    # (ABCE1, ABCD3, ABCA1 ...) pump no drugs: too few drug pumps on this panel
    assert verdict["abc_up"] == "not_testable" and verdict["pi3k_akt_members"] != "not_testable"
    # footprint hypotheses are not planned here: their rows come as extra_rows (rule footprints)
    assert "pi3k_akt_up" not in verdict.index
