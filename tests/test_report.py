"""The HTML report: sections and plots present, every untrusted string escaped, size bounds.

Most tests build the report from a synthetic data set whose tables have the pipeline's
columns (QC tables from the real `qc.qc_tables`), so they run in seconds without the
workflow; `test_demo_report_*` read the real demo run (tests/conftest.py: `demo_run`).
"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import logging
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from igf1r_resistance import report as rep
from igf1r_resistance.genesets import catalogue as gs
from igf1r_resistance.tl import qc as qcmod

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO / "workflow/resources/mechanisms.yaml"
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_QUOTES = "\"'><script>alert(2)</script>"
METHODS = ["singscore", "ssgsea", "gsva", "zscore", "plage", "score_genes"]
DATASETS = ["GSE1", "GSE2"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


# --------------------------------------------------------------------------- synthetic data


def demo_config(datasets: dict | None = None) -> dict:
    """The repository's config.yaml (every key the report reads is spelled out there)."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["gene_sets"]["catalogue"] = str(CATALOGUE)
    if datasets is not None:
        config["datasets"] = datasets
    return config


def synthetic_dataset(name: str, n_samples: int, n_genes: int, rng: np.random.Generator,
                      title: str = "cell line sample") -> tuple[rep.DatasetTables, pd.DataFrame]:
    """One data set's tables (what prepare/score/de/gsea/qc write) and its hypotheses rows."""
    _, sets, hyps = gs.collect(CATALOGUE, [], [])
    catalogue_genes = list(dict.fromkeys([*(g for s in sets for g in s.genes), "INSR"]))
    genes = catalogue_genes + [f"GENE{i}" for i in range(max(0, n_genes - len(catalogue_genes)))]
    samples = [f"GSM{900000 + i}" for i in range(n_samples)]
    n_res = n_samples // 2
    group = pd.Series(["resistant"] * n_res + ["sensitive"] * (n_samples - n_res), index=samples)
    base = rng.normal(7, 2, size=(len(genes), 1))
    x = base + rng.normal(0, 0.4, size=(len(genes), n_samples))
    x[: len(catalogue_genes), :n_res] += rng.normal(0, 0.8, size=(len(catalogue_genes), 1))
    expr = pd.DataFrame(x, index=genes, columns=samples)
    # limma-shaped DE table over more genes than the matrix (platform genes not in every sample)
    n_de = max(len(genes), 2 * len(genes))
    de_genes = genes + [f"EXTRA{i}" for i in range(n_de - len(genes))]
    t = rng.standard_t(4, size=n_de) * 2
    p = np.clip(np.exp(-np.abs(t)), 1e-12, 1)
    de = pd.DataFrame({"gene": de_genes, "logFC": t / 3, "AveExpr": rng.normal(7, 2, n_de), "t": t,
                       "P.Value": p, "adj.P.Val": np.minimum(1, p * 20), "B": t / 2,
                       "measurable": rng.random(n_de) > 0.25}).sort_values("P.Value")
    measured = pd.Index(genes)
    used = [r for r in (gs.restrict(s, measured) for s in sets) if r.genes]
    gsea_sets = _split(used)  # as the GMT the score step writes: NAME_UP / NAME_DN for up/down sets
    qc_tables = qcmod.qc_tables(expr, group, de, used, gsea_sets, hyps)
    scores = pd.DataFrame([
        {"sample": s, "gene_set": st.name, "method": m,
         "score": float(rng.normal(0.3 if group[s] == "resistant" else 0.0, 0.2))}
        for st in used for m in METHODS for s in samples
    ])
    gsea = pd.DataFrame([{"gene_set": s.name, "n_genes": len(s.up), "es": 0.5, "nes": 1.4, "p_value": 0.0,
                          "fdr": 0.01, "leading_edge": ";".join(s.up[:3])} for s in gsea_sets])
    sample_table = pd.DataFrame({
        "sample": samples + ["GSM1", "GSM2"],
        "group": list(group) + ["excluded", "excluded"],
        "group_field": "cell line",
        "group_value": [f"{g} line" for g in group] + ["other", "other"],
        "title": [f"{title} {i}" for i in range(n_samples)] + [title, "control"],
        "source_name_ch1": "cells",
    })
    uns = {
        "dataset": {"group_field": "cell line", "group_resistant_regex": "resist", "group_sensitive_regex": "sensit",
                    "n_resistant": n_res, "n_sensitive": n_samples - n_res, "n_excluded": 2,
                    "series_title": title, "platform": "GPL570"},
        "log2": {"reason": "already log2", "quantile_q0": 1.0, "quantile_q50": 7.0, "n_nonpositive_set_missing": 0},
        "probe_collapse": {"n_probes": 2 * len(genes), "n_genes": len(genes), "rule": "highest mean"},
        "sources": {"series_matrix": f"{title}.txt.gz", "annotation": "GPL570.tsv"},
    }
    rows = []
    for h in hyps:
        methods = ["expression"] if h.test == "gene" else METHODS
        for m in methods:
            g = float(rng.normal(0.5, 1.0))
            eff = float(np.tanh(g / 3)) if h.test == "coupling" else g / 4
            verdict = rng.choice(["supported", "contradicted", "inconclusive"])
            rows.append({
                "dataset": name, "hypothesis": h.id, "method": m, "effect": eff, "ci_low": eff - 0.2,
                "ci_high": eff + 0.2, "p_value": 0.01, "fdr": 0.04, "predicted": h.predicted,
                "observed": "up" if eff > 0 else "down", "verdict": verdict, "primary": m in ("singscore", "expression"),
                "test": h.test, "effect_measure": "spearman_rho" if h.test == "coupling" else "mean_difference",
                "hedges_g": np.nan if h.test == "coupling" else g, "g_variance": 0.2,
                "g_ci_low": np.nan if h.test == "coupling" else g - 0.9,
                "g_ci_high": np.nan if h.test == "coupling" else g + 0.9,
                "permutation_p": 0.02, "n_resistant": n_res, "n_sensitive": n_samples - n_res,
                "n_genes": 5, "n_genes_in_set": 5, "genes_missing": "", "methods_agreeing": "4/6", "note": np.nan,
            })
    tables = rep.DatasetTables(uns=uns, samples=sample_table, de=de, gsea=gsea, scores=scores, qc=qc_tables)
    return tables, pd.DataFrame(rows)


def _split(sets: list[gs.GeneSet]) -> list[gs.GeneSet]:
    out = []
    for s in sets:
        if s.down:
            out += [gs.GeneSet(f"{s.name}_UP", s.up), gs.GeneSet(f"{s.name}_DN", s.down)]
        else:
            out.append(gs.GeneSet(s.name, s.up))
    return out


def synthetic_report(n_samples: int = 6, n_genes: int = 400, hostile: str | None = None,
                     seed: int = 0) -> tuple[dict, list[str], rep.ReportData]:
    rng = np.random.default_rng(seed)
    title = hostile or "cell line sample"
    info = {d: {"drug": hostile or "cisplatin", "model": hostile or "A2780", "model_type": "chemo",
                "note": hostile, "groups": {"by": "cell line", "resistant": "resist", "sensitive": "sensit"}}
            for d in DATASETS}
    for d in info:
        if info[d]["note"] is None:
            del info[d]["note"]
    config = demo_config(info)
    if hostile:
        config["report"]["title"] = hostile
    per_ds, hyp_rows = {}, []
    for d in DATASETS:
        tables, rows = synthetic_dataset(d, n_samples, n_genes, rng, title)
        per_ds[d] = tables
        hyp_rows.append(rows)
    hyps = pd.concat(hyp_rows, ignore_index=True)
    meta_rows = []
    for hid, sub in hyps[hyps["primary"]].groupby("hypothesis", sort=False):
        coupling = sub["test"].iloc[0] == "coupling"
        meta_rows.append({
            "hypothesis": hid, "method": sub["method"].iloc[0],
            "effect_measure": "spearman_rho (pooled via Fisher z)" if coupling else "hedges_g", "k": len(sub),
            "datasets": ",".join(sub["dataset"]), "estimate": 0.3, "se": 0.2, "ci_low": -0.1, "ci_high": 0.7,
            "p_value": 0.2, "fdr": 0.4, "tau2": 0.1, "i2": 35.0, "q": 1.5, "q_p": 0.2, "predicted": "up",
            "observed": "up", "verdict": "inconclusive", "weights": ",".join(["50.00"] * len(sub)), "note": np.nan,
        })
    catalogue = yaml.safe_load(CATALOGUE.read_text())
    data = rep.ReportData(per_ds, hyps, pd.DataFrame(meta_rows), catalogue, dict(qcmod.QC_DEFAULTS))
    return config, DATASETS, data


_LARGE: dict[str, Path] = {}


def build_large_report(directory: Path) -> tuple[Path, float]:
    """The report of two data sets with 1,000 samples each (built once per session)."""
    if "path" not in _LARGE:
        start = time.perf_counter()
        config, datasets, data = synthetic_report(n_samples=1000, n_genes=3000, seed=1)
        text = rep.build_report(config, datasets, data)
        path = directory / "large_report.html"
        path.write_text(text, encoding="utf-8")
        _LARGE["path"] = path
        _LARGE["seconds"] = time.perf_counter() - start
    return _LARGE["path"], _LARGE["seconds"]


@pytest.fixture(scope="session")
def large_report(tmp_path_factory) -> Path:
    return build_large_report(tmp_path_factory.mktemp("large"))[0]


# --------------------------------------------------------------------------- HTML inspection


class Collector(html.parser.HTMLParser):
    """Start tags (with attributes) and decoded text of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Collector:
    c = Collector()
    c.feed(page)
    c.close()
    return c


# --------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def small_page() -> str:
    config, datasets, data = synthetic_report()
    return rep.build_report(config, datasets, data)


def test_sections_in_reading_order(small_page: str):
    ids = [a.get("id") for t, a in parse(small_page).tags if t == "section"]
    top = [i for i in ids if i in {"summary", "data", "qc", "mechanisms", "meta", "methods"}]
    assert top == ["summary", "data", "qc", "mechanisms", "meta", "methods"]


def test_verdict_matrix_links_every_cell_to_its_evidence(small_page: str):
    c = parse(small_page)
    ids = {a["id"] for _, a in c.tags if "id" in a}
    assert "verdict-matrix" in ids
    matrix = small_page[small_page.index('id="verdict-matrix"'):]
    matrix = matrix[: matrix.index("</table>")]
    links = re.findall(r'href="#([^"]+)"', matrix)
    n_hyps = len(gs.load_catalogue(CATALOGUE)[2])  # every catalogue hypothesis has a row
    assert len([x for x in links if x.startswith("res-")]) == n_hyps * len(DATASETS)
    assert len([x for x in links if x.startswith("meta-")]) == n_hyps
    assert set(links) <= ids, sorted(set(links) - ids)


def test_every_plot_is_well_formed_svg(small_page: str):
    svgs = re.findall(r"<svg .*?</svg>", small_page, flags=re.S)
    assert len(svgs) > 50
    for s in svgs:
        root = ET.fromstring(s)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
    kinds = ["fig-dist-GSE1", "fig-pca-GSE1", "fig-corr-GSE1", "fig-volcano-GSE1"]
    for k in kinds:
        assert f'id="{k}"' in small_page


def test_report_is_offline_and_runs_only_its_own_script(small_page: str):
    c = parse(small_page)
    tags = [t for t, _ in c.tags]
    assert not set(tags) & {"img", "iframe", "link", "object", "embed"}
    assert tags.count("script") == 1 and all("src" not in a for t, a in c.tags if t == "script")
    csp = [a["content"] for t, a in c.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0] and "unsafe-inline" not in csp[0].split("script-src")[1]
    script = re.search(r"<script>(.*?)</script>", small_page, flags=re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp[0]  # the inline script runs by its hash, nothing else
    for _, attrs in c.tags:
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            assert not value or value.startswith(("#", "https://www.ncbi.nlm.nih.gov/geo/")), value


def test_hover_texts_name_samples_and_genes(small_page: str):
    titles = re.findall(r"<title>(.*?)</title>", small_page, flags=re.S)
    assert any("GSM900000 (resistant)" in t for t in titles)
    assert any(re.match(r"[A-Z0-9-]+ \((up|down)\) \u00d7 GSM", t) for t in titles)  # set heatmaps
    # GSEA ticks (running-sum curves are drawn for primary-role sets only; IGF1R_AXIS is descriptive)
    assert any(re.match(r"[A-Z0-9-]+: rank \d+, t = ", t) for t in titles)


def test_hostile_metadata_is_shown_as_text():
    config, datasets, data = synthetic_report(hostile=HOSTILE + HOSTILE_QUOTES)
    page = rep.build_report(config, datasets, data)
    c = parse(page)
    tags = [t for t, _ in c.tags]
    assert "img" not in tags and tags.count("script") == 1
    assert all(not any(k.startswith("on") for k in a) for _, a in c.tags), "an event-handler attribute leaked"
    text = "".join(c.text)
    assert HOSTILE in text  # shown literally, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # inside SVG hover titles too
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    hover = [el.text for s in svgs for el in ET.fromstring(s).iter("{http://www.w3.org/2000/svg}title")]
    assert any(HOSTILE in (h or "") for h in hover)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hostile_report.html").write_text(page, encoding="utf-8")


def test_thousand_samples_report_stays_small(large_report: Path):
    """1,000 samples per data set: thinned plots keep each evidence card small, so the page
    grows with the number of cards (catalogue v2 has ~60 hypotheses), not with the samples."""
    size = large_report.stat().st_size
    seconds = _LARGE["seconds"]
    page_text = large_report.read_text(encoding="utf-8")
    cards = page_text.count('<div class="card" id="res-')
    assert cards > 0 and size / cards < 200e3, f"{size / 1e6:.1f} MB for {cards} evidence cards"
    assert size < 30e6, f"{size / 1e6:.1f} MB"
    assert seconds < 120, f"building took {seconds:.0f} s"
    page = large_report.read_text(encoding="utf-8")
    assert f"at most {rep.figures.DISPLAY['max_points_per_group']} per group" in page  # the thinning is said on the plots
    assert "bins" in page  # heatmaps of 1,000 samples are binned, and say so
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    for s in svgs[:200]:
        ET.fromstring(s)
    logging.getLogger(__name__).info("1,000-sample report: %.2f MB in %.1f s", size / 1e6, seconds)


def _demo_datasets(workdir: Path) -> list[str]:
    return list(yaml.safe_load((workdir / "config.yaml").read_text())["datasets"])


@pytest.mark.workflow
def test_demo_report_is_small_and_complete(demo_run: Path):
    report = demo_run / "results/report/report.html"
    size = report.stat().st_size
    assert size < 5e6, f"demo report is {size / 1e6:.2f} MB"
    page = report.read_text(encoding="utf-8")
    for part in ['id="verdict-matrix"', 'id="qc-GSE15709"', 'id="res-GSE15709-matrisome_up"', 'id="meta-matrisome_up"',
                 'id="genes-GSE27473"', 'id="faq"', 'id="bottom-lines"', "Configuration used", "Software versions",
                 "Run time and memory per step"]:
        assert part in page, part
    for ds in _demo_datasets(demo_run):
        for fig in ["distributions", "pca", "correlation", "volcano"]:
            svg = demo_run / f"results/report/figures/{ds}/{fig}.svg"
            assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert ET.parse(demo_run / "results/report/figures/forest.svg").getroot() is not None


@pytest.mark.workflow
def test_snakemake_report_zip(demo_run: Path, tmp_path: Path):
    from conftest import snakemake

    out = tmp_path / "report.zip"
    result = snakemake(demo_run, "--report", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    import zipfile

    names = zipfile.ZipFile(out).namelist()
    assert sum(n.endswith(".svg") for n in names) == 4 * len(_demo_datasets(demo_run)) + 1
    assert any(n.endswith("report.html") for n in names)
