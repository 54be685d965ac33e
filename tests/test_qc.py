"""QC tables: PCA against numpy, outlier rules on a planted outlier, display bins, heatmaps,
GSEA running sums."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets.catalogue import GeneSet, Hypothesis
from igf1r_resistance.tl import qc
from igf1r_resistance.tl._gsea import running_sum

REPO = Path(__file__).resolve().parents[1]


def matrix(n_genes=300, n_samples=10, seed=0, shift=1.5) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    base = rng.normal(8, 2, size=(n_genes, 1))
    x = base + rng.normal(0, 0.3, size=(n_genes, n_samples))
    half = n_samples // 2
    x[:40, :half] += shift
    samples = [f"S{i:02d}" for i in range(n_samples)]
    groups = pd.Series(["resistant"] * half + ["sensitive"] * (n_samples - half), index=samples)
    return pd.DataFrame(x, index=[f"G{i}" for i in range(n_genes)], columns=samples), groups


# --------------------------------------------------------------------------- PCA


def test_pca_matches_numpy_eigendecomposition():
    expr, _ = matrix(n_genes=60, n_samples=8)
    scores, variance = qc.pca(expr, n_top=1000, n_components=4)
    x = expr.to_numpy().T
    x = x - x.mean(axis=0)
    cov = x.T @ x / (x.shape[0] - 1)
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    eigval, eigvec = eigval[order], eigvec[:, order]
    ratio = eigval / eigval.sum()
    np.testing.assert_allclose(variance["variance_explained"], ratio[:4], rtol=1e-8, atol=1e-12)
    reference = x @ eigvec[:, :4]
    for k in range(4):  # same components up to sign
        a, b = scores[f"PC{k + 1}"].to_numpy(), reference[:, k]
        assert min(np.abs(a - b).max(), np.abs(a + b).max()) < 1e-8


def test_pca_variance_explained_sums_to_at_most_one_and_signs_are_stable():
    expr, _ = matrix(n_genes=800, n_samples=12)
    scores, variance = qc.pca(expr, n_top=500, n_components=5)
    assert list(variance["component"]) == ["PC1", "PC2", "PC3", "PC4", "PC5"]
    assert variance["variance_explained"].sum() <= 1 + 1e-12
    assert (np.diff(variance["variance_explained"]) <= 1e-12).all()
    again, _ = qc.pca(expr.copy(), n_top=500, n_components=5)
    pd.testing.assert_frame_equal(scores, again)
    # the group shift dominates PC1
    assert abs(np.corrcoef(scores["PC1"], [1] * 6 + [0] * 6)[0, 1]) > 0.95


def test_pca_ignores_genes_with_missing_values_and_handles_tiny_data():
    expr, _ = matrix(n_genes=50, n_samples=6)
    expr.iloc[0, 0] = np.nan
    scores, variance = qc.pca(expr, n_top=500, n_components=10)
    assert len(variance) == 5  # at most n_samples - 1 components
    assert np.isfinite(scores.to_numpy()).all()
    one = expr.iloc[:, :1]
    scores, variance = qc.pca(one)
    assert variance.empty


# --------------------------------------------------------------------------- outliers


def test_planted_outlier_is_flagged_and_nothing_else():
    expr, groups = matrix(n_genes=2000, n_samples=10, seed=3)
    rng = np.random.default_rng(9)
    expr["S03"] = rng.permutation(expr["S03"].to_numpy()) * 0.7 + 1  # a failed array: scrambled, shifted
    table = qc.flag_outliers(expr, groups)
    assert table.loc[table["outlier"], "sample"].tolist() == ["S03"]
    row = table.set_index("sample").loc["S03"]
    assert "distance to other samples" in row["reason"] and "KS distance" in row["reason"]


def test_clean_replicates_are_not_flagged():
    for seed in range(5):
        expr, groups = matrix(n_genes=1500, n_samples=6, seed=seed)
        assert not qc.flag_outliers(expr, groups)["outlier"].any()


# --------------------------------------------------------------------------- display columns


def test_sample_order_groups_first():
    expr, groups = matrix(n_samples=10)
    order = qc.sample_order(qc.correlation(expr), groups.sample(frac=1, random_state=1))
    assert [groups[s] for s in order] == ["resistant"] * 5 + ["sensitive"] * 5


def test_bins_never_mix_groups_and_cover_every_sample():
    samples = [f"S{i}" for i in range(1000)]
    groups = pd.Series(["resistant"] * 300 + ["sensitive"] * 700, index=samples)
    cols = qc.display_columns(samples, groups, 80)
    assert len(cols) <= 81
    members = [m.split(",") for m in cols["members"]]
    assert sorted(s for m in members for s in m) == sorted(samples)
    for g, m in zip(cols["group"], members):
        assert {groups[s] for s in m} == {g}
    assert (cols["n_samples"] == [len(m) for m in members]).all()
    small = qc.display_columns(samples[:20], groups.iloc[:20], 80)
    assert (small["n_samples"] == 1).all() and list(small["column"]) == samples[:20]


def test_binned_correlation_is_block_mean():
    expr, groups = matrix(n_genes=200, n_samples=8)
    corr = qc.correlation(expr)
    cols = qc.display_columns(list(expr.columns), groups, 4)
    table = qc.correlation_display(corr, cols)
    labels = list(cols["column"])
    m0, m1 = [m.split(",") for m in cols["members"][:2]]
    assert table.loc[0, labels[1]] == pytest.approx(corr.loc[m0, m1].to_numpy().mean())
    off = corr.loc[m0, m0].to_numpy()[~np.eye(len(m0), dtype=bool)]
    assert table.loc[0, labels[0]] == pytest.approx(off.mean())


# --------------------------------------------------------------------------- heatmaps and gene values


def test_set_heatmap_is_z_scored_per_gene():
    expr, groups = matrix(n_samples=6)
    cols = qc.display_columns(list(expr.columns), groups, 80)
    sets = [GeneSet("A", ("G1", "G2", "G3"), ("G4",)), GeneSet("EMPTY", ("NOPE",))]
    table = qc.set_heatmaps(expr, sets, cols)
    assert set(table["gene_set"]) == {"A"}
    assert table.loc[table["gene"] == "G4", "direction"].unique().tolist() == ["down"]
    per_gene = table.groupby("gene")["z"]
    np.testing.assert_allclose(per_gene.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(per_gene.std(ddof=1), 1, atol=1e-12)
    g1 = table[table["gene"] == "G1"].set_index("column")["log2"]
    np.testing.assert_allclose(g1[list(expr.columns)], expr.loc["G1"].to_numpy())


def test_gene_values_long_table():
    expr, groups = matrix(n_samples=4)
    table = qc.gene_values(expr, groups, ["G5", "MISSING", "G5"])
    assert list(table.columns) == ["sample", "group", "gene", "log2"]
    assert len(table) == 4 and set(table["gene"]) == {"G5"}


# --------------------------------------------------------------------------- GSEA running sums


def test_running_sum_vertices_reproduce_the_full_curve():
    rng = np.random.default_rng(2)
    genes = [f"G{i}" for i in range(500)]
    de = pd.DataFrame({"gene": genes, "t": rng.normal(0, 2, 500)})
    members = set(rng.choice(genes, 25, replace=False))
    table = qc.running_sums(de, [GeneSet("S", tuple(sorted(members)))])
    ranking = de.sort_values(["t", "gene"], ascending=[False, True])
    full = running_sum(ranking["gene"].tolist(), ranking["t"].to_numpy(), members)
    curve = np.concatenate([[0.0], full])  # value after k genes, k = 0..N
    interp = np.interp(np.arange(501), table["position"], table["running_es"])
    np.testing.assert_allclose(interp, curve, atol=1e-12)
    hits = table[table["hit"]]
    assert set(hits["gene"]) == members and len(table) <= 2 * len(members) + 2
    assert (table["n_ranked"] == 500).all()


@pytest.mark.workflow
def test_running_sum_enrichment_score_matches_gsea_table(demo_run: Path):
    demo = demo_run / "results/GSE15709"
    from igf1r_resistance.genesets.catalogue import read_gmt
    from igf1r_resistance.io.files import read_tsv

    table = qc.running_sums(read_tsv(demo / "de.tsv"), read_gmt(demo / "gene_sets.gmt"))
    es = table.groupby("gene_set")["running_es"].agg(lambda s: s[s.abs().idxmax()])
    gsea = read_tsv(demo / "gsea.tsv").set_index("gene_set")["es"].dropna()  # NaN: set not tested
    common = es.index.intersection(gsea.index)
    assert len(common) >= 5
    np.testing.assert_allclose(es[common], gsea[common], atol=1e-6)


# --------------------------------------------------------------------------- one data set


def test_qc_tables_has_every_output():
    expr, groups = matrix(n_samples=8)
    de = pd.DataFrame({"gene": expr.index, "t": np.linspace(3, -3, len(expr))})
    sets = [GeneSet("A", ("G1", "G2", "G3", "G50"))]
    hyps = [Hypothesis("a_up", "", "group", "up", gene_set="A"), Hypothesis("g_up", "", "gene", "up", gene="G7")]
    tables = qc.qc_tables(expr, groups, de, sets, sets, hyps)
    assert set(tables) == set(qc.QC_OUTPUTS)
    assert list(tables["pca"].columns[:2]) == ["sample", "group"]
    assert set(tables["gene_values"]["gene"]) == {"G7"}
    assert tables["correlation"].shape == (8, 3 + 8)


def test_rules_and_report_agree_on_tables_and_defaults():
    from igf1r_resistance.report import QC_NAMES

    assert QC_NAMES == qc.QC_OUTPUTS
    smk = (REPO / "workflow/rules/qc.smk").read_text()
    for name in qc.QC_OUTPUTS:
        assert f'"results/{{ds}}/qc/{name}.tsv"' in smk
    for key, value in qc.QC_DEFAULTS.items():
        assert re.search(rf'"{key}": {re.escape(str(value))},', smk), key
