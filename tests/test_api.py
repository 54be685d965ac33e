"""The public AnnData API (ir.pp / ir.tl / ir.pl): the README example runs as written, and the
wrappers give exactly the kernels' numbers."""

from __future__ import annotations

import re
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import igf1r_resistance as ir
from igf1r_resistance.errors import GroupingError
from igf1r_resistance.genesets.catalogue import load_catalogue
from igf1r_resistance.tl._limma import moderated_t
from igf1r_resistance.tl.scoring import score_gene_sets

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "workflow" / "resources" / "mechanisms.yaml"


def demo_like(n_per_group: int = 5, n_filler: int = 300, seed: int = 7) -> ad.AnnData:
    """An expression.h5ad as prepare writes it: every catalogue gene plus filler genes, log2
    values, resistant / sensitive samples, IGF1R higher in resistant samples."""
    _, sets, hypotheses = load_catalogue(CATALOGUE)
    genes = sorted({g for s in sets for g in s.genes} | {h.gene for h in hypotheses if h.gene})
    genes += [f"FILLER{i}" for i in range(n_filler)]
    rng = np.random.default_rng(seed)
    n = 2 * n_per_group
    values = rng.normal(8.0, 1.0, size=(n, len(genes)))
    groups = np.array(["resistant"] * n_per_group + ["sensitive"] * n_per_group)
    values[groups == "resistant", genes.index("IGF1R")] += 2.0
    obs = pd.DataFrame({"group": groups}, index=pd.Index([f"GSM{i}" for i in range(n)], name="sample"))
    var = pd.DataFrame({"measurable": True}, index=pd.Index(genes, name="gene"))
    adata = ad.AnnData(X=values, obs=obs, var=var)
    adata.uns["de"] = {"method": "limma", "trend": False, "reason": "test"}
    return adata


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Use the library from Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs(tmp_path, monkeypatch):
    (tmp_path / "results" / "GSE15709").mkdir(parents=True)
    demo_like().write_h5ad(tmp_path / "results" / "GSE15709" / "expression.h5ad")
    (tmp_path / "workflow").symlink_to(ROOT / "workflow")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), namespace)

    adata = namespace["adata"]
    scores = adata.obsm["score_singscore"]
    assert list(scores.index) == list(adata.obs_names) and scores.shape[1] > 5
    assert {"logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value", "adj.P.Val", "B"} <= set(adata.varm["limma"].columns)
    assert adata.varm["limma"].loc["IGF1R", "logFC"] > 1
    assert {"gene_set", "p_value", "fdr"} <= set(adata.uns["camera"].columns)
    table = adata.uns["hypotheses"]
    assert table.loc[table["hypothesis"] == "igf1r_gene_up", "verdict"].iloc[0] == "supported"
    assert table["verdict"].notna().all() and (table["dataset"] == "GSE15709").all()
    for name in ("volcano.svg", "scores.svg"):
        assert (tmp_path / name).read_text().startswith("<svg")


def test_wrappers_give_the_kernels_numbers():
    adata = demo_like()
    _, sets, _ = load_catalogue(CATALOGUE)
    expr = pd.DataFrame(adata.X.T, index=adata.var_names, columns=adata.obs_names)
    groups = adata.obs["group"]

    ir.tl.limma(adata)
    kernel = moderated_t(expr, groups, confint=0.95).set_index("gene")
    pd.testing.assert_frame_equal(adata.varm["limma"], kernel, check_names=False)

    ir.tl.score(adata, sets, method="zscore")
    long = score_gene_sets(expr, sets, ["zscore"])
    wide = long.pivot(index="sample", columns="gene_set", values="score")
    np.testing.assert_array_equal(adata.obsm["score_zscore"][wide.columns].to_numpy(), wide.loc[adata.obs_names].to_numpy())


def test_levels_of_any_obs_column():
    """groupby / resistant / sensitive name the user's own column and labels."""
    adata = demo_like()
    ir.tl.limma(adata)
    renamed = demo_like()
    renamed.obs["arm"] = renamed.obs.pop("group").map({"resistant": "R", "sensitive": "C"})
    ir.tl.limma(renamed, groupby="arm", resistant="R", sensitive="C")
    pd.testing.assert_frame_equal(renamed.varm["limma"], adata.varm["limma"])
    assert renamed.uns["limma"]["groupby"] == "arm"


def test_copy_leaves_the_input_alone():
    adata = demo_like()
    out = ir.tl.limma(adata, copy=True)
    assert "limma" in out.varm and "limma" not in adata.varm


@pytest.mark.parametrize("kwargs, message", [
    ({"groupby": "arm"}, "adata.obs has no column 'arm'"),
    ({"resistant": "R"}, "no sample labelled 'R'"),
])
def test_bad_groups_are_user_errors(kwargs, message):
    with pytest.raises(GroupingError, match=message):
        ir.tl.limma(demo_like(), **kwargs)


def test_log2_and_noise_floor():
    adata = demo_like()
    linear = adata.copy()
    linear.X = np.exp2(linear.X)
    ir.pp.log2(linear)
    assert linear.uns["log2"]["transformed"] is True
    np.testing.assert_allclose(linear.X, adata.X)
    ir.pp.noise_floor(adata, floor=100.0)
    assert not adata.var["measurable"].any() and adata.uns["noise_floor"]["value"] == 100.0
