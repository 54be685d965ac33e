"""Preranked GSEA (gseapy on the limma t) and the gsea step (GSEA + camera) on known answers."""

from __future__ import annotations

import logging
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.genesets import catalogue as gs
from igf1r_resistance.genesets.universe import set_uses
from igf1r_resistance.tl._camera import CAMERA_COLUMNS
from igf1r_resistance.tl._gsea import GSEA_COLUMNS, gsea_sets, preranked, running_sum, set_parts
from igf1r_resistance.workflow.steps import run_gene_sets, run_gsea

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO / "workflow" / "resources" / "mechanisms.yaml"
PERMS = 200


def ranking(n: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    genes = [f"G{i:04d}" for i in range(n)]
    t = rng.normal(size=n)
    t[:25] = 6.0 + rng.random(25)  # planted at the top
    t[25:50] = -6.0 - rng.random(25)  # planted at the bottom
    return pd.DataFrame({"gene": genes, "t": t}), genes


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, list[gs.GeneSet], pd.DataFrame]:
    de, genes = ranking()
    sets = [
        gs.GeneSet("TOP", tuple(genes[:25])),
        gs.GeneSet("BOTTOM", tuple(genes[25:50])),
        gs.GeneSet("NULL", tuple(genes[1000:1040])),
        gs.GeneSet("UPDOWN", tuple(genes[:10]), tuple(genes[25:35])),
        gs.GeneSet("TOO_SMALL", tuple(genes[500:503])),
        gs.GeneSet("HUGE", tuple(genes[:1900])),  # above gseapy's default max_size 500
        gs.GeneSet("UNMEASURED", ("NOT_A_GENE_1", "NOT_A_GENE_2")),
    ]
    return de, sets, preranked(de, sets, permutations=PERMS, seed=7)


def test_planted_sets_are_found(planted) -> None:
    _, _, res = planted
    assert list(res.columns) == GSEA_COLUMNS
    r = res.set_index("gene_set")
    assert r.loc["TOP", "nes"] > 0 and r.loc["TOP", "p_value"] < 0.01 and r.loc["TOP", "fdr"] < 0.05
    assert r.loc["BOTTOM", "nes"] < 0 and r.loc["BOTTOM", "p_value"] < 0.01
    assert r.loc["UPDOWN_UP", "nes"] > 0 and r.loc["UPDOWN_DN", "nes"] < 0
    assert r.loc["NULL", "p_value"] > 0.05
    assert r.loc["TOP", "es"] == pytest.approx(1.0, abs=0.02)  # every hit before any miss
    assert set(r.loc["TOP", "leading_edge"].split(";")) <= set(f"G{i:04d}" for i in range(25))


def test_every_set_has_a_row(planted) -> None:
    _, sets, res = planted
    assert sorted(res["gene_set"]) == sorted(gsea_sets(sets))
    r = res.set_index("gene_set")
    assert np.isfinite(r.loc["HUGE", "nes"])  # no maximum size by default
    for name, n in [("TOO_SMALL", 3), ("UNMEASURED", 0)]:
        assert np.isnan(r.loc[name, "p_value"]) and r.loc[name, "n_genes"] == n
        assert "at least 5 needed" in r.loc[name, "note"]
    tested = res["p_value"].notna().to_numpy()
    assert tested[: tested.sum()].all()  # tested sets first


def test_reproducible_with_seed(planted) -> None:
    de, sets, first = planted
    again = preranked(de.sample(frac=1.0, random_state=3), sets, permutations=PERMS, seed=7)
    pd.testing.assert_frame_equal(first, again)
    other = preranked(de, sets, permutations=PERMS, seed=8).set_index("gene_set")
    null = first.set_index("gene_set").loc["NULL"]
    assert other.loc["NULL", "es"] == null["es"]  # ES does not depend on the permutations
    assert other.loc["NULL", "nes"] != null["nes"]  # NES does


def test_per_set_minimum_and_explicit_maximum(planted) -> None:
    de, sets, _ = planted
    res = preranked(de, sets, permutations=50, seed=1, min_size={"TOO_SMALL": 2}, max_size=500)
    r = res.set_index("gene_set")
    assert np.isfinite(r.loc["TOO_SMALL", "nes"])  # its own minimum, 2
    assert np.isnan(r.loc["UNMEASURED", "nes"])
    assert np.isnan(r.loc["HUGE", "nes"]) and "more than the maximum 500" in r.loc["HUGE", "note"]


def test_set_parts_and_running_sum() -> None:
    sets = [gs.GeneSet("A", ("x", "y")), gs.GeneSet("B", ("x",), ("z",))]
    assert set_parts(sets) == [("A", "A", ["x", "y"]), ("B", "B_UP", ["x"]), ("B", "B_DN", ["z"])]
    rs = running_sum(["x", "q", "y", "z"], np.array([3.0, 2.0, 1.0, -1.0]), {"x", "y"})
    assert rs == pytest.approx([0.75, 0.25, 0.5, 0.0])  # hits step |t| / 4, misses -1/2


def tiny_adata(path: Path) -> list[str]:
    """4 vs 4 samples, every catalogue gene + 600 others; PROLIFERATION 1.5 higher in resistant."""
    _, sets, _ = gs.load_catalogue(CATALOGUE)
    catalogue_genes = list(dict.fromkeys(g for s in sets for g in s.genes))
    genes = catalogue_genes + [f"OTHER{i}" for i in range(600)]
    rng = np.random.default_rng(5)
    x = rng.normal(8.0, 0.4, size=(8, len(genes)))
    prolif = [genes.index(g) for g in next(s for s in sets if s.name == "PROLIFERATION").up]
    x[:4, prolif] += 1.5
    x[0, genes.index("OTHER0")] = np.nan  # a gene not measured in every sample
    adata = ad.AnnData(
        X=x, obs=pd.DataFrame({"group": ["resistant"] * 4 + ["sensitive"] * 4},
                              index=[f"S{i}" for i in range(8)]),
        var=pd.DataFrame(index=genes),
    )
    adata.write_h5ad(path)
    return genes


def test_gsea_step_writes_gsea_and_camera_for_every_set(tmp_path) -> None:
    from igf1r_resistance.workflow.steps import run_de

    adata = tmp_path / "expression.h5ad"
    tiny_adata(adata)
    gmt = tmp_path / "user.gmt"
    gmt.write_text("USER_SET\tmine\tOTHER1\tOTHER2\tOTHER3\tOTHER4\tOTHER5\tOTHER6\n"
                   "USER_TINY\tmine\tOTHER7\tOTHER8\n"
                   "USER_PAIR\tmine\tOTHER9\tOTHER10\n")
    log = logging.getLogger("test")
    run_de(str(adata), {"confint": 0.95}, str(tmp_path / "de.tsv"), log)
    # a hypothesis with min_genes: 2 makes its 2-gene set testable (like the hypothesis)
    extra = [{"id": "pair_up", "test": "group", "gene_set": "USER_PAIR", "predicted": "up", "min_genes": 2}]
    # the gene sets as used (rule gene_sets), then the tests on them
    run_gene_sets("TINY", str(adata), str(CATALOGUE), [str(gmt)], set_uses(extra), 5,
                  str(tmp_path / "gene_sets.tsv"), str(tmp_path / "gene_sets.gmt"), log)
    run_gsea("TINY", str(tmp_path / "de.tsv"), str(adata), str(tmp_path / "gene_sets.tsv"),
             {"permutations": 100, "seed": 0}, str(tmp_path / "gsea.tsv"), str(tmp_path / "camera.tsv"), log)
    gsea = pd.read_csv(tmp_path / "gsea.tsv", sep="\t")
    cam = pd.read_csv(tmp_path / "camera.tsv", sep="\t", keep_default_na=False, na_values=[""])
    _, sets, _ = gs.collect(CATALOGUE, [str(gmt)], extra)
    expected = sorted(gsea_sets(sets))
    assert sorted(gsea["gene_set"]) == expected
    assert sorted(cam["gene_set"]) == expected
    # camera with the fixed and with the estimated inter-gene correlation (issue 13 item 1)
    assert list(cam.columns) == [*CAMERA_COLUMNS, "correlation_estimated", "p_value_estimated_cor", "note"]
    g, c = gsea.set_index("gene_set"), cam.set_index("gene_set")
    from igf1r_resistance.tl._camera import camera as limma_camera
    from igf1r_resistance.workflow.steps import load_expression

    _, expr, groups = load_expression(adata)
    prolif = [gene for s in sets if s.name == "PROLIFERATION" for gene in s.up]
    est = limma_camera(expr.dropna(), groups, {"PROLIFERATION": prolif}, inter_gene_cor=None).set_index("gene_set")
    assert c.loc["PROLIFERATION", "p_value_estimated_cor"] == pytest.approx(est.loc["PROLIFERATION", "p_value"])
    assert c.loc["PROLIFERATION", "correlation_estimated"] == pytest.approx(est.loc["PROLIFERATION", "correlation"])
    assert g.loc["PROLIFERATION", "nes"] > 0 and g.loc["PROLIFERATION", "fdr"] < 0.05
    assert c.loc["PROLIFERATION", "direction"] == "up" and c.loc["PROLIFERATION", "fdr"] < 0.05
    # USER_PAIR has 2 genes but its hypothesis accepts 2: tested like the hypothesis
    assert np.isfinite(g.loc["USER_PAIR", "nes"]) and np.isfinite(c.loc["USER_PAIR", "p_value"])
    # the 2-gene USER_TINY is below gene_sets.min_size: a row with a note
    for name in ("USER_TINY",):
        assert np.isnan(g.loc[name, "p_value"]) and np.isnan(c.loc[name, "p_value"])
        assert "at least 5 needed" in c.loc[name, "note"]
    assert np.isfinite(c.loc["USER_SET", "p_value"])
    assert {"ANTI_APOPTOSIS_UP", "ANTI_APOPTOSIS_DN"} <= set(c.index)
