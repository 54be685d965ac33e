"""End-to-end: the real snakemake on the demo data, its outputs, reruns and user errors."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import anndata as ad
import pandas as pd
import pytest
import yaml

from conftest import copy_workflow, snakemake
from geo_server import serve_directory

pytestmark = pytest.mark.workflow
DATASETS = ["GSE15709", "GSE11440", "GSE27473", "GSE108383"]
# the demo's regulator comparison (issue 15): a design data set with one contrast
PANEL_MODEL = "P53_NCI60/mutant_vs_wild_type"
CONTRACT = {
    "samples.tsv": ["sample", "group", "title"],
    "de.tsv": ["gene", "logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value", "adj.P.Val", "B", "measurable"],
    "scores.tsv": ["sample", "gene_set", "method", "score"],
    "hypotheses.tsv": ["dataset", "hypothesis", "method", "effect", "ci_low", "ci_high", "p_value",
                       "fdr", "predicted", "observed", "verdict"],
}


def test_demo_writes_every_contract_file(demo_run: Path):
    for ds in DATASETS:
        for name, columns in CONTRACT.items():
            table = pd.read_csv(demo_run / "results" / ds / name, sep="\t")
            assert list(table.columns[: len(columns)]) == columns, (ds, name)
            assert len(table) > 0
        assert (demo_run / "results" / ds / "gene_sets.gmt").stat().st_size > 0
        assert (demo_run / "results" / ds / "gsea.tsv").exists()
        camera = pd.read_csv(demo_run / "results" / ds / "camera.tsv", sep="\t")
        assert {"gene_set", "p_value", "fdr"} <= set(camera.columns)
    summary = pd.read_csv(demo_run / "results/summary/hypotheses.tsv", sep="\t")
    # the pairs' models are the data sets themselves; the NCI-60 panel's model is its contrast
    assert set(summary["dataset"]) == set(DATASETS) | {"P53_NCI60"}
    assert set(summary["model"]) == set(DATASETS) | {PANEL_MODEL}
    # the verdict words of issue 13 (docs/verdicts.md, stats.VERDICTS)
    from igf1r_resistance.tl.stats import VERDICTS

    assert set(summary["verdict"]) <= set(VERDICTS)
    conf = summary[summary["confirmatory"].astype(str).str.lower() == "true"]
    assert len(conf) and conf["family"].eq("confirmatory").all()
    sets = conf[(conf["test"] == "group") & ~conf["verdict"].isin(["not_testable"])]
    assert sets["competitive_p"].notna().all() and (sets["n_random_sets"] == 2000).all()
    meta = pd.read_csv(demo_run / "results/summary/meta.tsv", sep="\t", keep_default_na=False, na_values=[""])
    assert "igf1r_axis_up" in set(meta["hypothesis"])
    # meta.tsv contract (COMMON contract 6): one row per hypothesis x stratum, chemotherapy pooled
    # apart from the other model types, the single-cell GSE108383 never pooled
    assert list(meta.columns[:14]) == ["hypothesis", "stratum", "k", "models", "method", "estimate", "ci_low",
                                       "ci_high", "pi_low", "pi_high", "tau2", "i2", "p_value", "verdict"]
    assert not meta.duplicated(["hypothesis", "stratum"]).any()
    # chemotherapy is the headline pool; its drug classes (platinum, antimetabolite) get rows of their own
    # (the NCI-60 panel's regulator comparison is a stratum of its own, never pooled with resistance)
    assert set(meta["stratum"]) == {"chemotherapy resistance", "chemotherapy resistance / platinum",
                                    "chemotherapy resistance / antimetabolite", "endocrine resistance",
                                    "targeted-therapy resistance", "TP53_status"}
    # IGF1R_AXIS (5 genes, min_size 5) loses IGF1 (GSE15709 also IGF2) to the noise floor in every array set
    # (gene_sets.tsv status not_measurable): nothing to pool
    assert set(meta.loc[meta["hypothesis"] == "igf1r_axis_up", "verdict"]) == {"not_testable"}
    axis = meta[meta["hypothesis"] == "pi3k_hallmark_up"].set_index("stratum")
    assert axis.loc["chemotherapy resistance", "models"] == "GSE15709;GSE11440"
    assert axis.loc["chemotherapy resistance", "method"] == "REML-HKSJ"
    assert axis.loc["endocrine resistance", "models"] == "GSE27473"
    assert not meta["models"].fillna("").str.contains("GSE108383").any()
    sc = meta[meta["stratum"] == "targeted-therapy resistance"]
    assert (sc["k"] == 0).all() and (sc["descriptive_models"] == "GSE108383").all()
    assert meta[meta["predicted"] == "changed"]["estimate"].isna().all()
    assert (demo_run / "results/report/report.html").stat().st_size > 10_000


def test_demo_controls_pass_where_known(demo_run: Path):
    """GSE11440: DHFR up (amplification); GSE27473: ESR1 down (the knockdown); none known elsewhere."""
    for ds, gene, expected in [("GSE11440", "DHFR", "up"), ("GSE27473", "ESR1", "down")]:
        table = pd.read_csv(demo_run / "results" / ds / "controls.tsv", sep="\t")
        assert table["gene"].tolist() == [gene] and table.loc[0, "observed"] == expected, ds
        assert bool(table.loc[0, "passed"]) and table.loc[0, "ci_low"] < table.loc[0, "logFC"] < table.loc[0, "ci_high"]
        assert pd.read_csv(demo_run / "results" / ds / "controls_status.tsv", sep="\t").loc[0, "status"] == "passed"
    for ds in ["GSE15709", "GSE108383"]:
        status = pd.read_csv(demo_run / "results" / ds / "controls_status.tsv", sep="\t")
        assert status.loc[0, "status"] == "none_known", ds


def test_demo_footprints_and_catalogue_v2_rows(demo_run: Path):
    """Issue 14: 14 PROGENy pathways per data set; pi3k_akt_up / mapk_up read from them;
    drug-specific hypotheses only in data sets of their drug class; the serum-IGFBP claim listed."""
    classes = {"GSE15709": "platinum", "GSE11440": "antimetabolite", "GSE27473": "endocrine",
               "GSE108383": "targeted"}
    for ds in DATASETS:
        fp = pd.read_csv(demo_run / "results" / ds / "footprints.tsv", sep="\t")
        assert len(fp) == 14 and {"PI3K", "MAPK", "p53", "EGFR", "NFkB", "TNFa"} <= set(fp["pathway"])
        assert fp[fp["pathway"].isin(["PI3K", "MAPK"])]["score"].notna().all()
        hyp = pd.read_csv(demo_run / "results" / ds / "hypotheses.tsv", sep="\t")
        prim = hyp[hyp["primary"].astype(bool)].set_index("hypothesis")
        for hid, pathway in [("pi3k_akt_up", "PI3K"), ("mapk_up", "MAPK")]:
            row = prim.loc[hid]
            f = fp.set_index("pathway").loc[pathway]
            assert row["method"] == "progeny_ulm" and row["effect"] == pytest.approx(f["score"])
            assert row["p_value"] == pytest.approx(f["welch_p"])
        assert prim.loc["serum_igfbp_claim", "verdict"] == "not_testable"
        assert {"pi3k_akt_members", "mapk_members", "matrisome_up", "adhesome_up"} <= set(prim.index)
        assert set(hyp["drug_class"]) == {classes[ds]}
        assert ("platinum_slc31a1_down" in prim.index) == (ds == "GSE15709")
        assert ("antifolate_dhfr_up" in prim.index) == (ds == "GSE11440")


def test_demo_groups_match_the_manifest(demo_run: Path):
    # resistant/sensitive split as read from each file's own metadata (shared MANIFEST.tsv)
    expected = {
        "GSE15709": ({"GSM385726", "GSM385727", "GSM385728", "GSM385729", "GSM385730"},
                     {"GSM385721", "GSM385722", "GSM385723", "GSM385724", "GSM385725"}),
        "GSE11440": ({"GSM288501", "GSM288502", "GSM288536"}, {"GSM288491", "GSM288497", "GSM288499"}),
        "GSE27473": ({"GSM678805", "GSM678806", "GSM678807"}, {"GSM678802", "GSM678803", "GSM678804"}),
    }
    for ds, (resistant, sensitive) in expected.items():
        samples = pd.read_csv(demo_run / "results" / ds / "samples.tsv", sep="\t")
        assert set(samples.loc[samples["group"] == "resistant", "sample"]) == resistant
        assert set(samples.loc[samples["group"] == "sensitive", "sample"]) == sensitive


def test_demo_h5ad_records_decisions(demo_run: Path):
    import anndata as ad

    a = ad.read_h5ad(demo_run / "results/GSE15709/expression.h5ad")
    assert set(a.obs["group"]) == {"resistant", "sensitive"}
    assert bool(a.uns["log2"]["transformed"]) is True  # MAS5 linear intensities
    assert "IGF2" in a.var_names  # kept through its multi-gene probe
    assert a.var.loc["IGF2", "probe_rule"] == "multi_gene_probe" and a.var.loc["IGF1R", "probe"] == "225330_at"
    assert a.uns["noise_floor"]["method"] == "affx_absent_controls" and "measurable" in a.var
    b = ad.read_h5ad(demo_run / "results/GSE27473/expression.h5ad")
    assert bool(b.uns["log2"]["transformed"]) is False  # already log2 RMA


def test_rule_logs_carry_library_lines(demo_run: Path):
    """The scoring module's own log lines (not only the step's) reach logs/score/{ds}.log."""
    logs = "".join(p.read_text() for p in sorted((demo_run / "logs/score").glob("*.log")))
    assert "[igf1r_resistance.tl.scoring] scoring:" in logs


def test_second_run_reruns_nothing(demo_run: Path):
    result = snakemake(demo_run, "--cores", "2", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Nothing to be done" in result.stdout + (result.stdout + result.stderr)


def test_every_consumer_reads_the_one_gene_set_table(demo_run: Path):
    """Scored sets, camera/GSEA parts and hypothesis n_genes all come from gene_sets.tsv."""
    from igf1r_resistance.genesets.universe import GeneSetsUsed
    from igf1r_resistance.tl._gsea import set_parts

    for ds in DATASETS:
        out = demo_run / "results" / ds
        used = GeneSetsUsed.read(str(out / "gene_sets.tsv"))
        # scoring: exactly the sets with status used
        scores = pd.read_csv(out / "scores.tsv", sep="\t")
        assert set(scores["gene_set"]) == set(used.used), ds
        # camera and GSEA: every part of every set restricted to the universe, sizes equal
        parts = {part: (name, genes) for name, part, genes in set_parts(list(used.restricted.values()))}
        camera = pd.read_csv(out / "camera.tsv", sep="\t")
        gsea = pd.read_csv(out / "gsea.tsv", sep="\t")
        assert set(camera["gene_set"]) == set(parts) == set(gsea["gene_set"]), ds
        for r in camera.itertuples():
            name, genes = parts[r.gene_set]
            assert r.n_genes == len(set(genes)), (ds, r.gene_set)
            assert pd.notna(r.p_value) == (len(set(genes)) >= used.min_size[name]), (ds, r.gene_set)
        # hypotheses: a tested set row counts the genes of the set as scored
        hyp = pd.read_csv(out / "hypotheses.tsv", sep="\t")
        catalogue = yaml.safe_load((demo_run / "workflow/resources/mechanisms.yaml").read_text())
        set_of = {h["id"]: h.get("gene_set") for h in catalogue["hypotheses"] if h.get("test", "group") == "group"}
        rows = hyp[hyp["hypothesis"].isin(set_of) & hyp["verdict"].ne("not_testable") & hyp["primary"]]
        assert len(rows) > 0, ds
        for r in rows.itertuples():
            name = set_of[r.hypothesis]
            if r.verdict == "not_measurable":
                assert used.status[name] == "not_measurable", (ds, r.hypothesis)
                continue
            assert r.n_genes == len(used.restricted[name].genes), (ds, r.hypothesis)
            if used.summary().set_index("gene_set").loc[name, "parts"] != "up_only":
                assert set(used.used[name].genes) == set(used.restricted[name].genes), (ds, r.hypothesis)
        # no gene under the noise floor is in a set as used
        adata = ad.read_h5ad(out / "expression.h5ad")
        floor = set(adata.var_names[~adata.var["measurable"].astype(bool)])
        assert not floor & {g for s in used.restricted.values() for g in s.genes}, ds


def _copied_run(demo_run: Path, dest: Path) -> Path:
    """A copy of the finished demo (outputs, metadata and modification times kept)."""
    shutil.copytree(demo_run, dest, symlinks=True)
    return dest


def _jobs(result) -> set[str]:
    """Rule names of the jobs a dry run lists in its job stats."""
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return set()
    stats = text.split("Job stats:", 1)[1].split("total", 1)[0]
    return {line.split()[0] for line in stats.splitlines()[3:] if line.strip()}


def test_statement_or_fdr_edit_reruns_no_scoring_or_gsea(demo_run: Path, tmp_path: Path):
    """Params split (issue 12 item 2): a hypothesis statement lives in the catalogue and the
    FDR in the config; neither changes a gene set, so scoring, GSEA/camera, the sets and the
    footprints stay as they are while the hypotheses are redone."""
    work = _copied_run(demo_run, tmp_path / "edited")
    catalogue = work / "workflow/resources/mechanisms.yaml"
    text = catalogue.read_text()
    statement = next(h["statement"] for h in yaml.safe_load(text)["hypotheses"]
                     if h.get("statement") and text.count(h["statement"]) == 1)
    catalogue.write_text(text.replace(statement, statement + " (reworded)", 1))
    jobs = _jobs(snakemake(work, "--cores", "2", "--dry-run"))
    assert "hypotheses" in jobs and not jobs & {"gene_sets", "score", "gsea", "footprints", "de", "prepare"}, jobs

    work = _copied_run(demo_run, tmp_path / "fdr")
    config = (work / "config.yaml").read_text()
    assert config.count("  fdr: 0.05\n") == 1
    (work / "config.yaml").write_text(config.replace("  fdr: 0.05\n", "  fdr: 0.1\n"))
    jobs = _jobs(snakemake(work, "--cores", "2", "--dry-run"))
    assert "hypotheses" in jobs and not jobs & {"gene_sets", "score", "gsea", "footprints", "de", "prepare"}, jobs

    # a gene added to a catalogue set does re-run the sets and the scoring
    work = _copied_run(demo_run, tmp_path / "genes")
    catalogue = work / "workflow/resources/mechanisms.yaml"
    data = yaml.safe_load(catalogue.read_text())
    name, spec = next((n, s) for n, s in data["gene_sets"].items() if s.get("up"))
    spec["up"] = [*spec["up"], "EGFR" if "EGFR" not in spec["up"] else "TP53"]
    catalogue.write_text(yaml.safe_dump(data, sort_keys=False))
    jobs = _jobs(snakemake(work, "--cores", "2", "--dry-run"))
    assert {"gene_sets", "score", "gsea", "hypotheses"} <= jobs, (name, jobs)


# --------------------------------------------------------------------------- user errors


def _edited_config(tmp_path: Path, edit) -> Path:
    workdir = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    edit(config)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


def _only(config: dict, ds: str) -> None:
    config["datasets"] = {ds: config["datasets"][ds]}


def test_unknown_config_key_is_named(tmp_path: Path):
    workdir = _edited_config(tmp_path, lambda c: c["datasets"]["GSE15709"].update(drugg="x"))
    result = snakemake(workdir, "--cores", "1", "--dry-run")
    assert result.returncode != 0
    assert "datasets.GSE15709" in (result.stdout + result.stderr) and "'drugg'" in (result.stdout + result.stderr)


def test_primary_method_must_be_configured(tmp_path: Path):
    workdir = _edited_config(tmp_path, lambda c: c["scoring"].update(methods=["zscore"], primary="singscore"))
    result = snakemake(workdir, "--cores", "1", "--dry-run")
    assert result.returncode != 0
    assert "scoring.primary" in (result.stdout + result.stderr)


@pytest.mark.parametrize(
    "groups, message",
    [
        ({"by": "cell line", "resistant": "nomatch", "sensitive": "parental"}, "groups.resistant ('nomatch') matches 0"),
        ({"by": "cell line", "resistant": "nomatch", "sensitive": "nothing"}, "neither groups.resistant"),
        ({"by": "cell line", "resistant": "A2780", "sensitive": "parental"}, "match both"),
        ({"by": "no such field", "resistant": "Round5", "sensitive": "parental"}, "is not a sample field"),
    ],
)
def test_grouping_errors_name_dataset_and_field(tmp_path: Path, groups: dict, message: str):
    def edit(c):
        _only(c, "GSE15709")
        c["datasets"]["GSE15709"]["groups"] = groups

    workdir = _edited_config(tmp_path, edit)
    result = snakemake(workdir, "--cores", "1", "results/GSE15709/expression.h5ad")
    assert result.returncode != 0
    assert "data set GSE15709" in (result.stdout + result.stderr)
    assert message in (result.stdout + result.stderr)
    assert not (workdir / "results/GSE15709/expression.h5ad").exists()
    assert not list((workdir / "results").rglob("*.tmp"))


def test_platform_without_annotation_is_reported(tmp_path: Path):
    def edit(c):
        _only(c, "GSE11440")
        c["geo"]["offline"] = True

    workdir = _edited_config(tmp_path, edit)
    shutil.rmtree(workdir / ".test/geo/platforms")
    result = snakemake(workdir, "--cores", "1", "results/GSE11440/expression.h5ad")
    assert result.returncode != 0
    assert "data set GSE11440" in (result.stdout + result.stderr) and "GPL570 has no annotation" in (result.stdout + result.stderr)
    assert "platform_annotation" in (result.stdout + result.stderr)


def test_new_accession_is_downloaded_from_geo_layout(tmp_path: Path):
    """A series not in the local mirror comes over HTTP from a GEO-shaped server on 127.0.0.1."""
    mirror = tmp_path / "remote"
    shutil.copytree(Path(__file__).resolve().parents[1] / ".test/geo", mirror)

    def edit(c):
        _only(c, "GSE11440")
        c["geo"]["local_mirrors"] = []

    workdir = _edited_config(tmp_path, edit)
    with serve_directory(mirror) as server:
        config = yaml.safe_load((workdir / "config.yaml").read_text())
        config["geo"]["base_url"] = server.url
        (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        result = snakemake(workdir, "--cores", "1", "results/GSE11440/samples.tsv")
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
        paths = [r for r in server.requests]
    assert any("series/GSE11nnn/GSE11440/matrix/GSE11440_series_matrix.txt.gz" in str(p) for p in paths)
    log = (workdir / "logs/fetch_series/GSE11440.log").read_text()
    assert server.url in log
    with gzip.open(workdir / "resources/geo/GSE11440/series_matrix.txt.gz", "rt") as fh:
        assert fh.readline().startswith("!Series_title")


def test_unknown_accession_says_not_found(tmp_path: Path):
    def edit(c):
        c["datasets"] = {"GSE99999999": {"groups": {"by": "title", "resistant": "a", "sensitive": "b"}}}
        c["geo"]["local_mirrors"] = []

    workdir = _edited_config(tmp_path, edit)
    with serve_directory(tmp_path / "wf/.test/geo") as server:
        config = yaml.safe_load((workdir / "config.yaml").read_text())
        config["geo"]["base_url"] = server.url
        config["geo"]["retries"] = 0
        (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        result = snakemake(workdir, "--cores", "1", "resources/geo/GSE99999999/series_matrix.txt.gz")
    assert result.returncode != 0
    assert "GSE99999999" in (result.stdout + result.stderr) and "was not found" in (result.stdout + result.stderr)
    assert not (workdir / "resources/geo/GSE99999999/series_matrix.txt.gz").exists()


# --------------------------------------------------------------------------- data-set types


def test_demo_single_cell_data_set(demo_run: Path):
    """GSE108383 (108 A375 cells, z-scores, Entrez ids) runs in the demo as a single-cell data set."""
    import anndata as ad

    a = ad.read_h5ad(demo_run / "results/GSE108383/expression.h5ad")
    assert a.n_obs == 108 and a.uns["dataset"]["data_type"] == "single_cell"
    assert "Pseudo-replication" in a.uns["dataset"]["caveat"]
    assert bool(a.uns["log2"]["transformed"]) is False
    cells = ad.read_h5ad(demo_run / "results/GSE108383/cells.h5ad")
    assert cells.n_obs == 108
    hyp = pd.read_csv(demo_run / "results/GSE108383/hypotheses.tsv", sep="\t")
    verdict = hyp[hyp["primary"].astype(bool)].set_index("hypothesis")["verdict"]
    for h in ["igf1r_gene_up", "abcb1_up", "abcg2_up", "abcc1_up", "igf1r_axis_up"]:
        assert verdict[h] == "not_testable", h
    summary = pd.read_csv(demo_run / "results/summary/hypotheses.tsv", sep="\t")
    assert "GSE108383" in set(summary["dataset"])
    log = (demo_run / "logs/fetch_suppl/GSE108383/Target_expr_resp_z.PLX4720_tp4k.tsv.gz.log").read_text()
    assert ".test/geo/series/GSE108nnn/GSE108383/suppl/" in log


def test_rnaseq_series_over_http_and_local_matrix(tmp_path: Path):
    """geo_rnaseq from a GEO-shaped server on 127.0.0.1 (series matrix + NCBI counts), and a local
    counts matrix with numeric (IC50) groups, in one run."""
    import anndata as ad

    fixture = Path(__file__).parent / "data/geo_rnaseq"
    counts = fixture / "series/GSE999nnn/GSE999001/rnaseq_counts/GSE999001_raw_counts_GRCh38.p13_NCBI.tsv.gz"
    workdir = copy_workflow(tmp_path / "wf")
    (workdir / "data").mkdir()
    shutil.copy(counts, workdir / "data/counts.tsv.gz")
    ic50 = [2.1, 1.8, 2.5, 14.0, 11.2, 16.9]
    pd.DataFrame({"sample": [f"GSM99900{i:02d}" for i in range(1, 7)], "ic50": ic50}).to_csv(
        workdir / "data/samples.tsv", sep="\t", index=False)
    with serve_directory(fixture) as server:
        config = yaml.safe_load((workdir / "config.yaml").read_text())
        config["geo"].update(base_url=server.url, download_url=f"{server.url}/geo/download/", local_mirrors=[".test/geo"],
                             retries=0)
        # the demo data sets stay: demo + RNA-seq counts + local matrix in one workflow run
        config["datasets"].update({
            "GSE999001": {"type": "geo_rnaseq", "drug": "carboplatin",
                          "groups": {"by": "treatment", "resistant": "resistant", "sensitive": "^parental$"}},
            "my_cohort": {"type": "matrix", "matrix": "data/counts.tsv.gz", "samples": "data/samples.tsv",
                          "values": "counts", "groups": {"by": "ic50", "numeric": True, "resistant_fraction": 0.5,
                                                         "sensitive_fraction": 0.5}},
        })
        (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        result = snakemake(workdir, "--cores", "2")  # every output, report included
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
        paths = list(server.requests)
    assert any("series/GSE999nnn/GSE999001/matrix/GSE999001_series_matrix.txt.gz" in p for p in paths)
    assert any("type=rnaseq_counts&acc=GSE999001&format=file&file=GSE999001_raw_counts" in p for p in paths)
    assert any("file=Human.GRCh38.p13.annot.tsv.gz" in p for p in paths)
    for ds in ("GSE999001", "my_cohort"):
        a = ad.read_h5ad(workdir / f"results/{ds}/expression.h5ad")
        assert a.uns["de"]["method"] == "limma-trend" and a.uns["log2"]["scale"] == "log2-CPM", ds
        assert a.uns["dataset"]["data_type"] == "rnaseq"
        hyp = pd.read_csv(workdir / f"results/{ds}/hypotheses.tsv", sep="\t")
        assert list(hyp.columns[:11]) == CONTRACT["hypotheses.tsv"] and len(hyp) > 0
    b = ad.read_h5ad(workdir / "results/my_cohort/expression.h5ad")
    assert b.obs["response"].tolist() == ic50 and b.uns["dataset"]["group_rule"] == "numeric"
    assert b.obs["group"].astype(str).tolist() == ["sensitive"] * 3 + ["resistant"] * 3
    hyp = pd.read_csv(workdir / "results/my_cohort/hypotheses.tsv", sep="\t")
    assert (hyp["test"] == "continuous").any()  # Spearman of scores vs IC50 beside the group test
    summary = pd.read_csv(workdir / "results/summary/hypotheses.tsv", sep="\t")
    assert {"GSE15709", "GSE108383", "GSE999001", "my_cohort"} <= set(summary["dataset"])
    report = (workdir / "results/report/report.html").read_text()
    assert "my_cohort" in report and "GSE999001" in report


def test_bad_sample_sheet_stops_before_any_job(tmp_path: Path):
    def edit(c):
        c["datasets"] = {"mine": {"type": "matrix", "matrix": "data/m.tsv", "samples": "data/s.tsv"}}

    workdir = _edited_config(tmp_path, edit)
    (workdir / "data").mkdir()
    (workdir / "data/m.tsv").write_text("gene\tS1\tS2\nIGF1R\t1\t2\n")
    (workdir / "data/s.tsv").write_text("sample\tgroup\nS1\tresistant\nS2\tsensitve\n")
    result = snakemake(workdir, "--cores", "1", "--dry-run")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "datasets.mine.samples" in out and "'sensitve' is not one of" in out


def _design_workdir(tmp_path: Path, edit=None) -> Path:
    """The workflow with the test config of a design (.test/design/config.yaml) as its data sets."""
    workdir = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["datasets"] = yaml.safe_load((workdir / ".test/design/config.yaml").read_text())["datasets"]
    config["hypotheses"].update(random_sets=200, quantile_sensitivity=False)  # a small, fast run
    config["gsea"]["permutations"] = 100
    if edit:
        edit(config)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


def test_design_with_two_contrasts(tmp_path: Path):
    """A matrix data set with a design (arm C/R/O + batch) and two contrasts: one fit, two models."""
    import anndata as ad

    from igf1r_resistance.tl.linear_model import design_matrix, linear_model

    workdir = _design_workdir(tmp_path)
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    root = workdir / "results/design_demo"
    for name in ["expression.h5ad", "samples.tsv", "scores.tsv", "qc/pca.tsv"]:  # per data set
        assert (root / name).exists(), name
    for contrast in ["R_vs_C", "O_vs_C"]:  # per model
        for name in ["de.tsv", "gsea.tsv", "camera.tsv", "controls.tsv", "controls_status.tsv", "footprints.tsv",
                     "hypotheses.tsv"]:
            assert (root / contrast / name).exists(), (contrast, name)
        assert not (root / "de.tsv").exists() and not (root / "hypotheses.tsv").exists()
    # DE = lmFit of ~ 0 + arm + batch on all 12 samples, contrasts.fit, eBayes, topTable
    adata = ad.read_h5ad(root / "expression.h5ad")
    assert adata.n_obs == 12 and adata.uns["dataset"]["group_rule"] == "design"
    expr = pd.DataFrame(adata.X.T, index=adata.var_names, columns=adata.obs_names)
    design = design_matrix(adata.obs[["arm", "batch"]].astype(str), "arm", ["batch"])
    assert list(design.columns) == ["armC", "armO", "armR", "batchb2"]
    expected = linear_model(expr, design, {"R_vs_C": {"armR": 1, "armC": -1}, "O_vs_C": {"armO": 1, "armC": -1}})
    for contrast, gene in [("R_vs_C", "IGF1R"), ("O_vs_C", "ABCB1")]:
        de = pd.read_csv(root / contrast / "de.tsv", sep="\t").set_index("gene")
        want = expected[contrast].set_index("gene").loc[de.index]
        for column in ["logFC", "CI.L", "CI.R", "t", "P.Value", "adj.P.Val", "B"]:
            assert (de[column] - want[column]).abs().max() < 1e-6 * max(1.0, want[column].abs().max()), column
        assert de.loc[gene, "adj.P.Val"] < 0.05 and de.loc[gene, "logFC"] > 1  # the made-up answer
        status = pd.read_csv(root / contrast / "controls_status.tsv", sep="\t")
        assert status.loc[0, "status"] == "passed" and status.loc[0, "dataset"] == f"design_demo/{contrast}"
    summary = pd.read_csv(workdir / "results/summary/hypotheses.tsv", sep="\t", keep_default_na=False)
    models = summary.drop_duplicates("model").set_index("model")
    assert list(models.index) == ["design_demo/R_vs_C", "design_demo/O_vs_C"]
    assert set(models["dataset"]) == {"design_demo"} and list(models["contrast"]) == ["R_vs_C", "O_vs_C"]
    assert set(models["comparison"]) == {"resistance"}
    assert list(models["drug_class"]) == ["platinum", "targeted"]  # each contrast's own drug
    sets = summary[(summary["test"] == "group") & (summary["effect"] != "")]  # tested set rows
    assert len(sets) and (sets["effect_measure"] == "design_contrast").all()  # score ~ design
    meta = pd.read_csv(workdir / "results/summary/meta.tsv", sep="\t", keep_default_na=False)
    pooled = meta[meta["stratum"] == "chemotherapy resistance"]
    assert pooled["models"].str.contains("design_demo/R_vs_C").any()
    assert "design_demo" in (workdir / "results/report/report.html").read_text()


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["design"].update(covariates=["arm2"]), None),
    (lambda d: d["contrasts"]["R_vs_C"].update(resistant="X"),
     "datasets.design_demo.contrasts.R_vs_C.resistant: 'X' is not a level of 'arm' (levels: C, O, R)"),
])
def test_design_errors_stop_before_any_job(tmp_path: Path, edit, message):
    def change(config):
        entry = config["datasets"]["design_demo"]
        edit(entry)

    workdir = _design_workdir(tmp_path, change)
    if message is None:  # a covariate confounded with the factor: arm2 = arm
        sheet = pd.read_csv(workdir / ".test/design/samples.tsv", sep="\t")
        sheet.assign(arm2=sheet["arm"] + "x").to_csv(workdir / ".test/design/samples.tsv", sep="\t", index=False)
        message = "datasets.design_demo.design.covariates: 'arm2' is confounded with the terms before it"
    result = snakemake(workdir, "--cores", "1", "--dry-run")
    out = result.stdout + result.stderr
    assert result.returncode != 0 and message in out, out[-3000:]
    assert "Traceback" not in out


def test_geo_series_with_a_design(tmp_path: Path):
    """A GEO series (GEO's series-matrix format, served over HTTP from 127.0.0.1) with a design of
    3 levels from a characteristics key + a batch covariate: one fit, one model per contrast."""
    import anndata as ad

    from igf1r_resistance.tl.linear_model import design_matrix, linear_model

    fixture = Path(__file__).parent / "data/geo_design"  # made by tests/data/geo_design/make_geo_design.py
    workdir = _design_workdir(tmp_path)
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["datasets"] = {"GSE999002": {
        "type": "geo", "platform": "GPL570", "model": "made-up OVCAR8 sublines (GEO-shaped test series)",
        "design": {"factor": "subline", "covariates": ["batch"]},  # characteristics keys
        "contrasts": {
            "CisR_vs_parental": {"resistant": "CisR", "sensitive": "parental", "drug": "cisplatin",
                                 "controls": {"IGF1R": {"expected": "up", "source": "made-up: +1.5 log2 in CisR"}}},
            "OlaR_vs_parental": {"test": "OlaR", "reference": "parental", "drug": "olaparib",
                                 "drug_class": "targeted"},
        }}}
    with serve_directory(fixture) as server:
        config["geo"].update(base_url=server.url, local_mirrors=[".test/geo"], retries=0)  # GPL570 from the mirror
        (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        result = snakemake(workdir, "--cores", "2")
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
        assert any("GSE999002_series_matrix.txt.gz" in p for p in server.requests)
    root = workdir / "results/GSE999002"
    for name in ["expression.h5ad", "samples.tsv", "scores.tsv", "qc/pca.tsv"]:  # per data set
        assert (root / name).exists(), name
    assert not (root / "de.tsv").exists() and not (root / "hypotheses.tsv").exists()
    for contrast in ["CisR_vs_parental", "OlaR_vs_parental"]:  # per model
        for name in ["de.tsv", "gsea.tsv", "camera.tsv", "controls.tsv", "footprints.tsv", "hypotheses.tsv"]:
            assert (root / contrast / name).exists(), (contrast, name)
    adata = ad.read_h5ad(root / "expression.h5ad")
    assert adata.n_obs == 12 and adata.uns["dataset"]["group_rule"] == "design"
    assert bool(adata.uns["log2"]["transformed"])  # MAS5-like intensities: GEO2R's rule took log2
    assert sorted(adata.obs["subline"].unique()) == ["CisR", "OlaR", "parental"]
    samples = pd.read_csv(root / "samples.tsv", sep="\t")
    assert {"subline", "batch"} <= set(samples.columns)
    # DE = lmFit of ~ 0 + subline + batch on the prepared matrix, contrasts.fit, eBayes, topTable
    expr = pd.DataFrame(adata.X.T, index=adata.var_names, columns=adata.obs_names)
    design = design_matrix(adata.obs[["subline", "batch"]].astype(str), "subline", ["batch"])
    assert list(design.columns) == ["sublineCisR", "sublineOlaR", "sublineparental", "batchB"]
    expected = linear_model(expr, design, {"CisR_vs_parental": {"sublineCisR": 1, "sublineparental": -1},
                                           "OlaR_vs_parental": {"sublineOlaR": 1, "sublineparental": -1}})
    for contrast, gene in [("CisR_vs_parental", "IGF1R"), ("OlaR_vs_parental", "ABCB1")]:
        de = pd.read_csv(root / contrast / "de.tsv", sep="\t").set_index("gene")
        want = expected[contrast].set_index("gene").loc[de.index]
        for column in ["logFC", "CI.L", "CI.R", "t", "P.Value", "adj.P.Val", "B"]:
            assert (de[column] - want[column]).abs().max() < 1e-6 * max(1.0, want[column].abs().max()), column
        assert de.loc[gene, "adj.P.Val"] < 0.05 and de.loc[gene, "logFC"] > 1  # the made-up answer
    status = pd.read_csv(root / "CisR_vs_parental/controls_status.tsv", sep="\t")
    assert status.loc[0, "status"] == "passed" and status.loc[0, "dataset"] == "GSE999002/CisR_vs_parental"
    summary = pd.read_csv(workdir / "results/summary/hypotheses.tsv", sep="\t", keep_default_na=False)
    models = summary.drop_duplicates("model").set_index("model")
    assert list(models.index) == ["GSE999002/CisR_vs_parental", "GSE999002/OlaR_vs_parental"]
    assert list(models["drug_class"]) == ["platinum", "targeted"]
    report = (workdir / "results/report/report.html").read_text()
    assert "GSE999002" in report and "CisR_vs_parental" in report and "OlaR_vs_parental" in report


def _response_workdir(tmp_path: Path, edit=None) -> Path:
    """The workflow with the test config of a drug-response panel (.test/response/config.yaml)."""
    workdir = copy_workflow(tmp_path / "wf")
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["datasets"] = yaml.safe_load((workdir / ".test/response/config.yaml").read_text())["datasets"]
    config["hypotheses"].update(random_sets=500, permutations=2000)  # a small, fast run
    config["gsea"]["permutations"] = 100
    if edit:
        edit(config)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


def test_response_contrasts_find_the_planted_association(tmp_path: Path):
    """A made-up panel (48 lines, 4 tissues, .test/response/make_response_demo.py): two response
    contrasts (AUC, higher_is resistant; activity area, higher_is sensitive) run as models; the
    planted within-tissue genes and set are supported, the tissue-confounded decoys are not."""
    import anndata as ad

    from igf1r_resistance.tl.panels import gene_associations

    workdir = _response_workdir(tmp_path)
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    root = workdir / "results/response_demo"
    for contrast in ["AUC", "ActArea"]:
        for name in ["de.tsv", "gsea.tsv", "camera.tsv", "controls.tsv", "footprints.tsv", "hypotheses.tsv"]:
            assert (root / contrast / name).exists(), (contrast, name)
    # de.tsv = limma ~ tissue + AUC on the 47 lines with a value (the library's known-answer function)
    adata = ad.read_h5ad(root / "expression.h5ad")
    expr = pd.DataFrame(adata.X.T, index=adata.var_names, columns=adata.obs_names)
    want = gene_associations(expr, adata.obs[["tissue", "auc_cisplatin"]], "auc_cisplatin", ["tissue"]).set_index("gene")
    auc = pd.read_csv(root / "AUC/de.tsv", sep="\t").set_index("gene")
    act = pd.read_csv(root / "ActArea/de.tsv", sep="\t").set_index("gene")
    for column in ["logFC", "CI.L", "t", "P.Value", "adj.P.Val"]:
        assert (auc[column] - want.loc[auc.index, column]).abs().max() < 1e-6 * max(1.0, want[column].abs().max()), column
        # act_area = 8 - AUC with higher_is sensitive: the same oriented response, the same table
        assert (act[column] - auc.loc[act.index, column]).abs().max() < 1e-6, column
    assert (auc.loc[["IGF1R", "ABCB1", "ABCG2"], "adj.P.Val"] < 0.05).all()
    assert auc.loc["ABCC1", "P.Value"] > 0.05  # the decoy follows tissue only ...
    lines = adata.obs["auc_cisplatin"].notna()
    naive = expr.loc["ABCC1", lines].corr(adata.obs.loc[lines, "auc_cisplatin"].astype(float), method="spearman")
    assert naive > 0.6  # ... so across lines, unadjusted, it tracks the AUC
    camera = pd.read_csv(root / "AUC/camera.tsv", sep="\t")
    assert camera["p_value"].isna().all() and camera["note"].str.contains("two groups").any()
    foot = pd.read_csv(root / "AUC/footprints.tsv", sep="\t")
    assert foot["welch_p"].isna().all() and foot["score"].notna().any()

    summary = pd.read_csv(workdir / "results/summary/hypotheses.tsv", sep="\t", keep_default_na=False)
    assert set(summary["model"]) == {"response_demo/AUC", "response_demo/ActArea"}
    for model in ["response_demo/AUC", "response_demo/ActArea"]:
        hyp = summary[(summary["model"] == model) & summary["primary"].astype(str).eq("True")]  # primary method
        hyp = hyp.set_index("hypothesis")
        for planted in ["igf1r_gene_up", "abcb1_up", "abcg2_up", "igf1r_axis_up"]:
            assert hyp.loc[planted, "verdict"] == "supported", (model, planted, hyp.loc[planted].to_dict())
        assert hyp.loc["abcc1_up", "verdict"] != "supported"
        assert hyp.loc["igf1r_axis_up", "effect_measure"] == "slope_per_unit_response"
        assert float(hyp.loc["igf1r_axis_up", "permutation_p"]) < 0.01  # the rank test beside it
        assert hyp.loc["igf1r_axis_up", "hedges_g"] == "" and "no two groups" in hyp.loc["igf1r_axis_up", "note"]
        decoy = summary[(summary["model"] == model) & (summary["hypothesis"] == "mapk_members")
                        & summary["primary"].astype(str).eq("True")].iloc[0]
        assert decoy["verdict"] != "supported" and float(decoy["p_value"]) > 0.05
    assert "response_demo/AUC" in (workdir / "results/report/report.html").read_text()


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.update(response="ic50"), "datasets.response_demo.contrasts.AUC.response: 'ic50' is not a column"),
    (lambda c: c.update(response="note_text"),
     "datasets.response_demo.contrasts.AUC.response: response column 'note_text' is not numeric"),
    (lambda c: c.update(response="sparse"), "has 2 values; an association needs at least 3 lines"),
])
def test_response_errors_stop_before_any_job(tmp_path: Path, edit, message):
    def change(config):
        edit(config["datasets"]["response_demo"]["contrasts"]["AUC"])

    workdir = _response_workdir(tmp_path, change)
    sheet = pd.read_csv(workdir / ".test/response/samples.tsv", sep="\t")
    sparse = [1.0, 2.0] + [None] * (len(sheet) - 2)
    sheet.assign(note_text=["x"] + [1.0] * (len(sheet) - 1), sparse=sparse).to_csv(
        workdir / ".test/response/samples.tsv", sep="\t", index=False)
    result = snakemake(workdir, "--cores", "1", "--dry-run")
    out = result.stdout + result.stderr
    assert result.returncode != 0 and message in out, out[-3000:]
    assert "Traceback" not in out


def test_demo_p53_panel_is_a_regulator_comparison(demo_run: Path):
    """The NCI-60 P53 panel runs as a model of comparison TP53_status: its p53-target controls
    are all lower in TP53-mutant lines, only the hypotheses that apply to TP53 status are
    tested there (no resistance claims), and the report names the comparison."""
    root = demo_run / "results" / PANEL_MODEL
    controls = pd.read_csv(root / "controls.tsv", sep="\t").set_index("gene")
    assert list(controls.index) == ["CDKN1A", "MDM2", "BAX", "DDB2"]
    assert (controls["logFC"] < 0).all() and (controls["ci_high"] < 0).all()
    hyps = pd.read_csv(root / "hypotheses.tsv", sep="\t", keep_default_na=False)
    assert set(hyps["comparison"]) == {"TP53_status"} and set(hyps["model"]) == {PANEL_MODEL}
    assert "tp53mut_igf1r_up" in set(hyps["hypothesis"])
    assert not set(hyps["hypothesis"]) & {"igf1r_gene_up", "abcb1_up", "pi3k_akt_up"}
    igf1r = hyps[(hyps["hypothesis"] == "tp53mut_igf1r_up") & hyps["primary"].astype(str).eq("True")].iloc[0]
    assert igf1r["verdict"] in {"not_measurable", "inconclusive", "supported", "contradicted", "no_change"}
    de = pd.read_csv(root / "de.tsv", sep="\t").set_index("gene")
    assert float(igf1r["effect"]) == pytest.approx(float(de.loc["IGF1R", "logFC"]), abs=1e-9)
    report = (demo_run / "results/report/report.html").read_text()
    assert "TP53" in report and "CDKN1A" in report
