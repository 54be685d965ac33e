"""The gene universe and the gene sets as used (igf1r_resistance.genesets.universe) on small AnnData."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from igf1r_resistance.errors import ConfigError
from igf1r_resistance.genesets.catalogue import GeneSet, Hypothesis, read_gmt
from igf1r_resistance.genesets.universe import (
    GeneSetsUsed,
    catalogue_set_digest,
    complete,
    complete_genes,
    gene_sets_for,
    gmt_text,
    measurable,
    set_uses,
    sets_as_used,
    universe,
)
from igf1r_resistance.io.files import read_tsv, write_tsv


def small_adata() -> ad.AnnData:
    """10 genes x 6 samples; G8 has a gap; G0-G2 sit under the noise floor."""
    genes = [f"G{i}" for i in range(10)]
    x = np.full((6, 10), 8.0)
    x[:, :3] = 1.0
    x[2, 8] = np.nan
    var = pd.DataFrame({"complete": complete_genes(x.T), "measurable": [False] * 3 + [True] * 7},
                       index=pd.Index(genes, name="gene"))
    obs = pd.DataFrame({"group": ["resistant"] * 3 + ["sensitive"] * 3}, index=[f"S{j}" for j in range(6)])
    return ad.AnnData(X=x, obs=obs, var=var)


def test_complete_genes_is_finite_in_every_sample_in_any_block_size():
    x = np.arange(24, dtype=float).reshape(6, 4)
    x[1, 2] = np.nan
    x[4, 0] = np.inf
    expected = np.array([True, False, True, True, False, True])
    assert np.array_equal(complete_genes(x), expected)
    assert np.array_equal(complete_genes(x, block_cells=4), expected)  # one row per block


def test_universe_is_complete_and_above_the_noise_floor():
    a = small_adata()
    u = universe(a)
    assert list(u.index[u]) == ["G3", "G4", "G5", "G6", "G7", "G9"]
    # data prepared before the columns existed: complete from X, every gene measurable
    old = ad.AnnData(X=a.X, obs=a.obs, var=pd.DataFrame(index=a.var_names))
    assert list(universe(old).index[~universe(old)]) == ["G8"]


def test_noise_floor_genes_leave_the_sets():
    a = small_adata()
    sets = [
        GeneSet("MIXED", ("G0", "G1", "G3", "G4", "G5", "G8")),  # 2 under the floor, 1 with a gap
        GeneSet("FLOOR", ("G0", "G1", "G2", "G3")),  # measured everywhere, mostly under the floor
        GeneSet("ABSENT", ("G3", "NOPE1", "NOPE2")),  # not on the platform
        GeneSet("UPDOWN", ("G3", "G4"), ("G5", "G0")),  # down part: one gene left
        GeneSet("UPDOWN_OK", ("G3", "G4"), ("G5", "G6")),
    ]
    hyps = [Hypothesis("h", "", "group", "up", gene_set="UPDOWN", min_genes=2),
            Hypothesis("k", "", "group", "up", gene_set="UPDOWN_OK", min_genes=2)]
    table = sets_as_used(sets, hyps, complete(a), measurable(a), default_min=3)
    used = GeneSetsUsed.from_table(table)
    summary = used.summary().set_index("gene_set")
    # MIXED: G0, G1 (floor) and G8 (gap) leave; 3 genes remain, enough for min_size 3
    assert used.used["MIXED"].up == ("G3", "G4", "G5")
    assert summary.loc["MIXED", ["n_genes_defined", "n_genes", "n_measurable", "status"]].tolist() == [
        6, 5, 3, "used"]
    # FLOOR: 4 genes measured, 1 above the floor: not measurable (not merely too small)
    assert summary.loc["FLOOR", "status"] == "not_measurable" and "FLOOR" not in used.used
    assert summary.loc["ABSENT", "status"] == "too_small"
    # the down part of UPDOWN keeps one gene (< min 2): scored on its up genes, recorded
    assert summary.loc["UPDOWN", "parts"] == "up_only" and used.used["UPDOWN"].down == ()
    assert "down part: 1 of 2 genes measured and above the noise floor" in summary.loc["UPDOWN", "note"]
    assert summary.loc["UPDOWN_OK", "parts"] == "up+down" and used.used["UPDOWN_OK"].down == ("G5", "G6")
    # the restricted sets (what GSEA and camera test) never hold a gene under the floor
    assert not {"G0", "G1", "G2"} & {g for s in used.restricted.values() for g in s.genes}
    assert used.restricted["FLOOR"].up == ("G3",)


def test_the_table_round_trips_through_tsv_and_gmt(tmp_path):
    a = small_adata()
    sets = [GeneSet("MIXED", ("G0", "G3", "G4", "G5")), GeneSet("UPDOWN", ("G3", "G4", "G5"), ("G6", "G7", "G9"))]
    table = sets_as_used(sets, [], complete(a), measurable(a), default_min=3)
    write_tsv(table, tmp_path / "gene_sets.tsv")
    back = GeneSetsUsed.read(str(tmp_path / "gene_sets.tsv"))
    assert back.used == GeneSetsUsed.from_table(table).used
    assert back.min_size == {"MIXED": 3, "UPDOWN": 3}
    (tmp_path / "gene_sets.gmt").write_text(gmt_text(back, {"MIXED": "a source"}))
    gmt = {s.name: s.up for s in read_gmt(tmp_path / "gene_sets.gmt")}
    assert gmt == {"MIXED": ("G3", "G4", "G5"), "UPDOWN_UP": ("G3", "G4", "G5"), "UPDOWN_DN": ("G6", "G7", "G9")}


def test_gene_sets_for_the_catalogue_and_user_hypotheses(tmp_path):
    catalogue = tmp_path / "cat.yaml"
    catalogue.write_text(
        "gene_sets:\n  S1: {up: [G3, G4, G5, G0]}\n  S2: {up: [G3, G4, G6, G7, G9]}\n"
        "hypotheses:\n  - {id: s1_up, statement: one, test: group, predicted: up, gene_set: S1}\n")
    a = small_adata()
    table, sources = gene_sets_for(a, str(catalogue), [], [], 5)
    status = GeneSetsUsed.from_table(table).status
    assert status == {"S1": "too_small", "S2": "used"}
    # a user hypothesis with min_genes 3 lowers S1's minimum: it is used, G0 (floor) left out
    uses = set_uses([{"id": "mine", "statement": "anything", "test": "group", "predicted": "up",
                      "gene_set": "S1", "min_genes": 3}])
    assert uses == [{"id": "mine", "gene_set": "S1", "with_set": "", "min_genes": 3}]
    used = GeneSetsUsed.from_table(gene_sets_for(a, str(catalogue), [], uses, 5)[0])
    assert used.used["S1"].up == ("G3", "G4", "G5") and used.min_size["S1"] == 3
    with pytest.raises(ConfigError, match="'mine' names gene set 'S9'"):
        gene_sets_for(a, str(catalogue), [], [{**uses[0], "gene_set": "S9"}], 5)


def test_a_statement_edit_leaves_the_catalogue_set_digest_unchanged(tmp_path):
    text = ("gene_sets:\n  S1: {up: [G3, G4, G5]}\n"
            "hypotheses:\n  - {id: s1_up, statement: one, test: group, predicted: up, gene_set: S1}\n")
    path = tmp_path / "cat.yaml"
    path.write_text(text)
    before = catalogue_set_digest(str(path))
    path.write_text(text.replace("statement: one", "statement: another wording"))
    assert catalogue_set_digest(str(path)) == before
    path.write_text(text.replace("G5]", "G5, G6]"))  # a gene added: the sets change
    assert catalogue_set_digest(str(path)) != before
    path.write_text(text.replace("gene_set: S1}", "gene_set: S1, min_genes: 2}"))  # a minimum changes
    assert catalogue_set_digest(str(path)) != before


def test_read_tsv_booleans_survive(tmp_path):
    a = small_adata()
    table = sets_as_used([GeneSet("S", ("G3", "G4", "G5"))], [], complete(a), measurable(a), default_min=3)
    write_tsv(table, tmp_path / "t.tsv")
    assert read_tsv(tmp_path / "t.tsv")["in_set"].astype(str).tolist() == ["True", "True", "True"]
