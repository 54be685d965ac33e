"""Probe choice by Jetset's design scores (Li et al. 2011) and the noise floor, on hand-made
inputs and on the three GPL570 demo series."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
import yaml

from igf1r_resistance.pp.prepare import collapse_probes
from igf1r_resistance.pp.probes import (
    RULE_HIGHEST_MEAN,
    RULE_JETSET,
    RULE_MULTI_GENE,
    choice_file_for,
    jetset_choice,
    jetset_overall,
    read_jetset_choice,
)

REPO = Path(__file__).resolve().parents[1]
PROBES = REPO / "workflow/resources/probes"
GPL570_SERIES = ["GSE15709", "GSE11440", "GSE27473"]


# --------------------------------------------------------------------------- Jetset's rule


def test_overall_score_is_specificity_coverage_and_degradation():
    scores = pd.DataFrame({"probeset": ["a", "b"], "specificity": [1.0, 0.5], "coverage": [0.5, 1.0],
                           "process": [0.0, 600.0]})
    overall = jetset_overall(scores)
    assert overall["a"] == pytest.approx(0.5)
    assert overall["b"] == pytest.approx(0.5 * (1 - 1 / 600) ** 600)
    assert jetset_overall(scores, chip="u133x3p")["b"] == pytest.approx(0.5 * (1 - 1 / 300) ** 600)


def test_choice_is_the_highest_overall_per_gene_first_on_ties():
    scores = pd.DataFrame({
        "probeset": ["g1_far", "g1_near", "g2_a", "g2_b", "g3_only", "no_entrez", "old_id"],
        "nProbes": 11,
        "EntrezID": ["1", "1", "2", "2", "3", None, "999"],
        "process": [3000, 100, 50, 50, 10, 1, 1],
        "specificity": [1, 1, 1, 1, 0, 1, 1],
        "coverage": [1, 1, 0.5, 0.5, 1, 1, 1],
    })
    table = jetset_choice(scores, {"1": "GENE1", "2": "GENE2", "3": "GENE3"}).set_index("gene")
    assert table.loc["GENE1", "probe"] == "g1_near"  # closer to the 3' end
    assert table.loc["GENE2", "probe"] == "g2_a"  # tie: the first in the table, as jmap
    assert table.loc["GENE3", "probe"] == "g3_only" and table.loc["GENE3", "overall"] == 0  # best even at 0
    assert set(table.index) == {"GENE1", "GENE2", "GENE3"}  # no Entrez id / no current symbol: left out


def test_committed_gpl570_table_has_the_published_choices():
    """README of the Jetset scores: IGF1R -> 225330_at (0.295; 203627_at scores 0.000), ABCB1 -> 209993_at."""
    table = pd.read_csv(PROBES / "jetset_GPL570.tsv.gz", sep="\t", dtype={"entrez_id": str}).set_index("gene")
    assert table.loc["IGF1R", "probe"] == "225330_at" and table.loc["IGF1R", "overall"] == pytest.approx(0.295, abs=1e-3)
    assert table.loc["ABCB1", "probe"] == "209993_at" and table.loc["ABCB1", "overall"] == pytest.approx(0.349, abs=1e-3)
    assert table.index.is_unique and "IGF2" not in table.index  # Jetset has no IGF2 probe set on GPL570
    for gpl in ["GPL96", "GPL8300"]:
        other = read_jetset_choice(PROBES / f"jetset_{gpl}.tsv.gz")
        assert other.index.is_unique and len(other) > 8000


def test_committed_tables_equal_a_fresh_computation_from_jetsets_scores():
    shared = Path("/work/shared/data/probes/jetset_scores_hgu133plus2.tsv.gz")
    if not shared.exists():
        pytest.skip("Jetset's score tables are not on this machine (scripts/dev/make_jetset_tables.py)")
    hgnc = pd.read_csv(REPO / "workflow/resources/hgnc_symbols.tsv.gz", sep="\t", dtype=str, keep_default_na=False)
    fresh = jetset_choice(pd.read_csv(shared, sep="\t", dtype={"EntrezID": str}),
                          {e: s for e, s in zip(hgnc["entrez_id"], hgnc["symbol"]) if e})
    assert read_jetset_choice(PROBES / "jetset_GPL570.tsv.gz").to_dict() == dict(zip(fresh["gene"], fresh["probe"]))


def test_choice_file_only_for_jetset_platforms():
    files = [str(PROBES / f"jetset_{g}.tsv.gz") for g in ["GPL570", "GPL96", "GPL8300"]]
    assert choice_file_for("GPL96", files).endswith("jetset_GPL96.tsv.gz")
    assert choice_file_for("GPL10558", files) is None  # Illumina: highest-mean fallback
    assert choice_file_for("GPL570", []) is None


# --------------------------------------------------------------------------- collapse with a preferred probe


def _frame(rows: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=["s1", "s2"]).T.astype(float)


def test_preferred_probe_wins_over_a_brighter_one_and_rules_are_recorded():
    expr = _frame({"a_dim": [1, 1], "a_bright": [9, 9], "b1": [2, 2], "b2": [5, 5], "igf2_m1": [3, 3],
                   "igf2_m2": [4, 4], "jet_only": [6, 6]})
    ann = pd.DataFrame({"probe": ["a_dim", "a_bright", "b1", "b2", "igf2_m1", "igf2_m2", "jet_only"],
                        "symbol": ["GENEA", "GENEA", "GENEB", "GENEB", "IGF2 /// INS-IGF2", "IGF2 /// INS-IGF2", ""]})
    preferred = pd.Series({"GENEA": "a_dim", "GENEC": "jet_only", "GENED": "not_on_this_array"})
    genes, table, record = collapse_probes(expr, ann, preferred=preferred, preferred_source="test")
    t = table.set_index("gene")
    assert t.loc["GENEA", "probe"] == "a_dim" and t.loc["GENEA", "rule"] == RULE_JETSET
    assert t.loc["GENEA", "n_candidates"] == 2
    assert t.loc["GENEB", "probe"] == "b2" and t.loc["GENEB", "rule"] == RULE_HIGHEST_MEAN
    assert t.loc["IGF2", "probe"] == "igf2_m2" and t.loc["IGF2", "rule"] == RULE_MULTI_GENE
    assert t.loc["GENEC", "probe"] == "jet_only" and t.loc["GENEC", "n_candidates"] == 1  # unannotated in GEO
    assert "GENED" not in t.index
    assert genes.loc["GENEA"].tolist() == [1.0, 1.0]
    assert (record["n_genes_jetset"], record["n_genes_highest_mean"], record["n_genes_multi_gene_probe"]) == (2, 1, 2)
    assert "Jetset" in record["rule"] and "Li et al. 2011" in record["rule"]


def test_without_preferred_probes_every_rule_is_the_recorded_fallback():
    expr = _frame({"a1": [1, 1], "a2": [3, 3]})
    ann = pd.DataFrame({"probe": ["a1", "a2"], "symbol": ["GENEA", "GENEA"]})
    _, table, record = collapse_probes(expr, ann)
    assert table["rule"].tolist() == [RULE_HIGHEST_MEAN] and table["probe"].tolist() == ["a2"]
    assert record["n_genes_jetset"] == 0 and record["rule"].startswith("per gene the probe with the highest mean")


def test_a_probe_shared_by_two_genes_is_copied_not_moved():
    expr = _frame({"p": [1, 2], "q": [5, 6]})
    ann = pd.DataFrame({"probe": ["p", "q"], "symbol": ["GENEX", "GENEY"]})
    genes, table, record = collapse_probes(expr, ann, preferred=pd.Series({"GENEZ": "p"}), inplace=True)
    assert genes.loc["GENEX"].tolist() == genes.loc["GENEZ"].tolist() == [1.0, 2.0]
    assert record["n_probes_shared_by_genes"] == 1


# --------------------------------------------------------------------------- the demo series


def _prepare(dataset: str, out: Path, settings_edit=None, annotation_edit=None, jetset=True):
    from igf1r_resistance.io.acquire import fetch_platform_annotation, fetch_series
    from igf1r_resistance.workflow.config import validate_config
    from igf1r_resistance.workflow.steps import run_prepare

    config = validate_config(yaml.safe_load((REPO / "config.yaml").read_text()),
                             REPO / "workflow/schemas/config.schema.yaml")
    settings = dict(config["datasets"][dataset])
    if settings_edit:
        settings_edit(settings)
    out.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger("test.prepare")
    geo = {**config["geo"], "local_mirrors": [str(REPO / ".test/geo")], "offline": True, "cache_dir": str(out / "c")}
    series, annotation = out / "series_matrix.txt.gz", out / "platform_annotation.tsv.gz"
    fetch_series(dataset, settings, geo, series, log)
    fetch_platform_annotation(dataset, settings, series, geo, {}, annotation, log)
    if annotation_edit:
        table = pd.read_csv(annotation, sep="\t", dtype=str, keep_default_na=False)
        annotation_edit(table)
        table.to_csv(annotation, sep="\t", index=False)
    inputs = {"series": str(series), "annotation": str(annotation),
              "hgnc": str(REPO / "workflow/resources/hgnc_symbols.tsv.gz")}
    if jetset:
        inputs["jetset"] = [str(p) for p in sorted(PROBES.glob("jetset_*.tsv.gz"))]
    outputs = {k: str(out / f) for k, f in [("adata", "expression.h5ad"), ("samples", "samples.tsv"),
                                            ("probes", "probes.tsv")]}
    run_prepare(dataset, settings, inputs, outputs, log, sample_schema=str(REPO / "workflow/schemas/samples.schema.yaml"))
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    import anndata as ad

    root = tmp_path_factory.mktemp("demo_prepare")
    return {d: (ad.read_h5ad(_prepare(d, root / d) / "expression.h5ad"),
                pd.read_csv(root / d / "probes.tsv", sep="\t")) for d in GPL570_SERIES}


def test_demo_igf1r_and_abcb1_use_jetsets_probe_in_every_gpl570_series(demo):
    for ds, (a, probes) in demo.items():
        assert a.var.loc["IGF1R", "probe"] == "225330_at", ds  # was 203627_at in GSE15709 (highest mean)
        assert a.var.loc["ABCB1", "probe"] == "209993_at", ds
        assert a.var.loc["IGF1R", "probe_rule"] == RULE_JETSET
        assert a.var.loc["IGF2", "probe_rule"] == RULE_MULTI_GENE  # only on IGF2 /// INS-IGF2 probes
        # probes.tsv and var agree gene by gene
        p = probes.set_index("gene")
        assert (p.loc[a.var_names, "probe"].to_numpy() == a.var["probe"].to_numpy()).all()
        assert (p.loc[a.var_names, "rule"].to_numpy() == a.var["probe_rule"].to_numpy()).all()


def test_demo_jetset_genes_have_the_same_probe_across_series(demo):
    tables = [a.var.loc[a.var["probe_rule"] == RULE_JETSET, "probe"].astype(str) for a, _ in demo.values()]
    common = tables[0].index.intersection(tables[1].index).intersection(tables[2].index)
    assert len(common) > 19000
    assert (tables[0][common] == tables[1][common]).all() and (tables[0][common] == tables[2][common]).all()


def test_demo_noise_floor_from_absent_controls_and_abcb1_not_measurable_in_gse11440(demo):
    a = demo["GSE11440"][0]
    floor = a.uns["noise_floor"]
    assert floor["method"] == "affx_absent_controls" and "AFFX-TrpnX" in floor["detail"]
    assert 2.0 < floor["value"] < 4.0  # MAS5: TrpnX reads 0.5-13.5
    assert not a.var.loc["ABCB1", "measurable"]  # 209993_at: 0.5-7.3, AveExpr ~0.8
    assert a.var.loc["DHFR", "measurable"] and a.var.loc["IGF1R", "measurable"]
    # RMA (GSE27473): the unexpressed human genes sit above the bacterial controls: the lower mode binds
    b = demo["GSE27473"][0]
    assert b.uns["noise_floor"]["method"] == "lower_mode" and "affx_absent_controls gives" in b.uns["noise_floor"]["detail"]
    assert not b.var.loc["ABCB1", "measurable"] and b.var.loc["ESR1", "measurable"]  # ESR1 high in controls
    for ds, (x, _) in demo.items():
        assert x.uns["noise_floor"]["n_measurable"] == int(x.var["measurable"].sum()), ds
        assert 0.5 < x.var["measurable"].mean() < 0.9, ds


def test_unknown_platform_records_the_highest_mean_fallback(tmp_path):
    import anndata as ad

    out = _prepare("GSE27473", tmp_path / "gse27473", jetset=False)
    a = ad.read_h5ad(out / "expression.h5ad")
    assert set(a.var["probe_rule"]) == {RULE_HIGHEST_MEAN, RULE_MULTI_GENE}
    assert a.uns["probe_collapse"]["n_genes_jetset"] == 0
    assert a.uns["probe_collapse"]["rule"].startswith("per gene the probe with the highest mean")
    assert "probe_choice" not in a.uns["sources"]
    # the same through the platform: no platform in config, and the annotation names one
    # without Jetset scores (the choice tables are there but none fits)
    out = _prepare("GSE27473", tmp_path / "other", settings_edit=lambda s: s.pop("platform"),
                   annotation_edit=lambda t: t.__setitem__("platform", "GPL9999"))
    b = ad.read_h5ad(out / "expression.h5ad")
    assert b.uns["probe_collapse"]["n_genes_jetset"] == 0 and "IGF1R" in b.var_names
    # while the real platform (from the annotation, not the config) gets Jetset's choice
    out = _prepare("GSE27473", tmp_path / "from_annotation", settings_edit=lambda s: s.pop("platform"))
    c = ad.read_h5ad(out / "expression.h5ad")
    assert c.var.loc["IGF1R", "probe"] == "225330_at" and c.uns["sources"]["probe_choice"].endswith("GPL570.tsv.gz")
