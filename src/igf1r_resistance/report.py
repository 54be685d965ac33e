"""The self-contained HTML report: one file, no JavaScript, no external requests.

Sections in the order a reviewer reads (nf-core/differentialabundance): summary with the
verdict matrix, data, QC, mechanisms (the evidence behind every verdict), across data
sets (forest plots), methods and caveats. Every figure is inline SVG drawn by `plots`
from tables the pipeline already wrote (hypotheses, scores, limma, GSEA, QC); this module
reads and arranges, it computes no statistics. Hovering any mark shows its sample / gene
(SVG `<title>`). Strings from GEO metadata and config are untrusted and pass through
`esc` before they reach the page (a sample title of `<img src=x onerror=alert(1)>` shows
as text); the page's Content-Security-Policy forbids scripts and remote loads anyway.
"""

from __future__ import annotations

import json
import logging
import math
import platform
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import plots as P
from .io import read_tsv, write_text
from .plots import esc, fmt

VERDICT_COLOURS = P.VERDICT_COLOURS
VERDICTS = ["supported", "contradicted", "changed", "no_change", "inconclusive", "not_measurable", "not_testable",
            "context"]
KEY_GENES = ["IGF1R", "IGF1", "IGF2", "INSR", "ABCB1", "ABCC1", "ABCG2"]
GEO_URL = "https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc="
QC_NAMES = ["pca", "pca_variance", "distributions", "columns", "correlation", "outliers", "set_heatmaps",
            "gene_values", "gsea_running"]

# How dense plots are thinned (the captions and the methods section quote these).
DISPLAY = {
    "max_points_per_group": 100,  # strip plots: points drawn per group (boxes use all samples)
    "volcano_grid": (80, 50),  # volcano background: genes counted per screen cell
    "volcano_top_genes": 40,  # volcano: most significant non-mechanism genes drawn as points
    "volcano_labels": 12,  # volcano: mechanism genes labelled (single-gene hypotheses always)
    "sample_table_open_max": 60,  # sample tables longer than this start collapsed
}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#222;line-height:1.45}
header{background:#243b53;color:#fff;padding:1em 2em;position:sticky;top:0;z-index:2}
header h1{margin:0;font-size:1.45em}nav a{color:#cfe3ff;margin-right:1.1em;text-decoration:none}
main{padding:.5em 2em 3em;max-width:1500px}
h2{border-bottom:2px solid #243b53;padding-bottom:.2em;margin-top:2.2em}h3{margin-top:1.8em}
h4{margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
td{max-width:32em;overflow-wrap:anywhere}
th{background:#f0f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.verdict{font-weight:600;text-align:center}td.verdict a{color:inherit;display:block}
.v-supported{background:#1b7837;color:#fff}.v-contradicted{background:#b2182b;color:#fff}
.v-inconclusive{background:#e0e0e0}.v-not_testable{background:#fff;color:#888}
.v-changed{background:#5e3c99;color:#fff}.v-no_change{background:#9ecae1}.v-not_measurable{background:#fff;color:#888}
.v-context{background:#fff;color:#555}
.badge{display:inline-block;padding:.05em .6em;border-radius:.8em;font-size:.85em;font-weight:600}
.note{color:#555;font-size:.88em}.caveat{background:#fff8e1;border-left:4px solid #f0b429;padding:.5em 1em}
.flag{background:#fde0dd}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.8em}
details{margin:.5em 0}summary{cursor:pointer;font-weight:600}
figure{margin:.6em 1.4em .8em 0;display:inline-table;vertical-align:top}
figcaption{display:table-caption;caption-side:bottom;font-size:.82em;color:#444;min-width:280px;padding-top:.2em}
.card{border:1px solid #d9e2ec;border-radius:6px;padding:.4em 1em .8em;margin:1em 0;background:#fcfdfe}
.card h4{margin-top:.4em}.hyp{border-top:1px solid #bcccdc;margin-top:2em}
svg text{fill:#222}svg.plot{background:#fff}[id]{scroll-margin-top:5.5em}
"""


# --------------------------------------------------------------------------- small helpers


def anchor(*parts: object) -> str:
    """A safe HTML id from any text (non-alphanumerics become '_')."""
    return "-".join("".join(ch if ch.isalnum() else "_" for ch in str(p)) for p in parts)


def verdict_badge(verdict: object) -> str:
    v = str(verdict)
    return f"<span class='badge v-{anchor(v)}'>{esc(v)}</span>"


def figure(svg: str, caption: str, fig_id: str = "") -> str:
    """An SVG figure with a caption (caption is trusted HTML built here; values inside it are escaped)."""
    ident = f" id='{fig_id}'" if fig_id else ""
    return f"<figure{ident}>{svg}<figcaption>{caption}</figcaption></figure>"


def table_html(frame: pd.DataFrame, numeric: set[str] | None = None, verdict_col: str | None = "verdict",
               max_rows: int | None = None, row_class: pd.Series | None = None) -> str:
    """A DataFrame as an escaped HTML table; numeric columns right-aligned and shortened."""
    numeric = numeric if numeric is not None else {c for c in frame.columns
                                                   if pd.api.types.is_float_dtype(frame[c])}
    rows = frame if max_rows is None else frame.head(max_rows)
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = []
    for i, (_, r) in enumerate(rows.iterrows()):
        cells = []
        for c in frame.columns:
            if c == verdict_col:
                cells.append(f'<td class="verdict v-{anchor(r[c])}">{esc(r[c])}</td>')
            elif c in numeric:
                cells.append(f'<td class="num">{"" if _isnan(r[c]) else fmt(r[c])}</td>')
            else:
                cells.append(f"<td>{esc(r[c])}</td>")
        cls = f" class='{esc(row_class.iloc[i])}'" if row_class is not None and row_class.iloc[i] else ""
        body.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    more = ""
    if max_rows is not None and len(frame) > max_rows:
        more = (f'<p class="note">First {max_rows} of {len(frame)} rows; the full table is in the results '
                "folder.</p>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _isnan(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _num(v: object) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _bool(v: object) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in {"true", "1", "yes"}
    return bool(v) and not _isnan(v)


# --------------------------------------------------------------------------- inputs


@dataclass
class DatasetTables:
    """Everything the report shows about one data set (tables the pipeline wrote)."""

    uns: dict
    samples: pd.DataFrame
    de: pd.DataFrame
    gsea: pd.DataFrame
    scores: pd.DataFrame
    qc: dict[str, pd.DataFrame]


@dataclass
class ReportData:
    datasets: dict[str, DatasetTables]
    hypotheses: pd.DataFrame
    meta: pd.DataFrame
    catalogue: dict
    qc_settings: dict = field(default_factory=dict)
    benchmarks: pd.DataFrame | None = None  # per-job run time and memory, for the methods section


def _jsonable(obj) -> dict:
    return json.loads(json.dumps(dict(obj), default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def read_uns(path: str | Path) -> dict:
    """The `.uns` of a prepared data set (log2 decision, probe collapsing, sources) as plain JSON types."""
    import h5py

    try:
        from anndata.io import read_elem
    except ImportError:  # anndata < 0.11
        from anndata.experimental import read_elem

    with h5py.File(path, "r") as fh:
        uns = read_elem(fh["uns"]) if "uns" in fh else {}
    return _jsonable(uns)


def load_report_data(inputs: dict, datasets: list[str], qc_settings: dict | None = None) -> ReportData:
    """Read the tables named by the report rule's inputs (lists are in `datasets` order)."""
    tables = {}
    for i, d in enumerate(datasets):
        qc = {name: read_tsv(inputs[f"qc_{name}"][i]) for name in QC_NAMES}
        tables[d] = DatasetTables(
            uns=read_uns(inputs["adata"][i]), samples=read_tsv(inputs["samples"][i]), de=read_tsv(inputs["de"][i]),
            gsea=read_tsv(inputs["gsea"][i]), scores=read_tsv(inputs["scores"][i]), qc=qc,
        )
    with open(inputs["catalogue"], encoding="utf-8") as fh:
        catalogue = yaml.safe_load(fh)
    return ReportData(tables, read_tsv(inputs["hypotheses"]), read_tsv(inputs["meta"]), catalogue,
                      dict(qc_settings or {}))


def hypothesis_info(catalogue: dict, config: dict, hyps: pd.DataFrame) -> dict[str, dict]:
    """id -> catalogue entry (statement, test, gene_set, with_set, gene, predicted, source), in table order."""
    info = {h["id"]: dict(h) for h in catalogue.get("hypotheses", [])}
    for h in config.get("hypotheses", {}).get("extra", []):
        info[h["id"]] = dict(h)
    out = {}
    for hid in hyps["hypothesis"].drop_duplicates():
        h = info.get(hid)
        if h is None:  # exploratory GMT set: tested as a group hypothesis named after the set
            sub = hyps[hyps["hypothesis"] == hid].iloc[0]
            h = {"id": hid, "statement": f"exploratory: gene set {hid}", "test": sub.get("test", "group"),
                 "gene_set": hid, "predicted": sub.get("predicted", "")}
        out[hid] = h
    return out


# --------------------------------------------------------------------------- 1. summary


def section_summary(config: dict, datasets: list[str], data: ReportData, hinfo: dict[str, dict]) -> str:
    hyps, meta = data.hypotheses, data.meta
    primary = hyps[hyps["primary"].map(_bool)]
    info = {d: config["datasets"].get(d, {}) for d in datasets}
    head = "<th>hypothesis</th><th>statement</th>" + "".join(
        f"<th><a href='#{anchor('data', d)}'>{esc(d)}</a><br><span class='note'>{esc(info[d].get('drug', ''))}"
        "</span></th>" for d in datasets
    ) + "<th>meta-analysis</th>"
    rows = []
    for hid in hinfo:
        cells = [f"<td><a href='#{anchor('hyp', hid)}'>{esc(hid)}</a></td>"
                 f"<td>{esc(hinfo[hid].get('statement', ''))}</td>"]
        for d in datasets:
            sub = primary[(primary["hypothesis"] == hid) & (primary["dataset"] == d)]
            if sub.empty:
                cells.append("<td></td>")
                continue
            r = sub.iloc[0]
            hover = (f"{d}, {hid}: {r['verdict']}; effect {fmt(r['effect'])} "
                     f"(95% CI {fmt(r['ci_low'])} to {fmt(r['ci_high'])}), FDR {fmt(r['fdr'])}, "
                     f"methods agreeing {r.get('methods_agreeing', '')}")
            cells.append(
                f"<td class='verdict v-{anchor(r['verdict'])}' title='{esc(hover)}'>"
                f"<a href='#{anchor('res', d, hid)}'>{esc(r['verdict'])}"
                f"<br><span style='font-weight:400;font-size:.85em'>{esc(r.get('methods_agreeing', ''))}</span>"
                "</a></td>"
            )
        m = meta[meta["hypothesis"] == hid]
        if "headline" in m.columns:  # the matrix shows the headline stratum's pool (meta.tsv contract 6)
            m = m[m["headline"].map(_bool)]
        if m.empty:
            cells.append("<td></td>")
        else:
            r = m.iloc[0]
            hover = (f"pooled {r['effect_measure']} {fmt(r['estimate'])} (95% CI {fmt(r['ci_low'])} to "
                     f"{fmt(r['ci_high'])}), FDR {fmt(r['fdr'])}, I2 {fmt(r['i2'])}%")
            cells.append(f"<td class='verdict v-{anchor(r['verdict'])}' title='{esc(hover)}'>"
                         f"<a href='#{anchor('meta', hid)}'>{esc(r['verdict'])}</a></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ds_rows = []
    for d in datasets:
        t = data.datasets[d]
        dsu = t.uns.get("dataset", {})
        flagged = t.qc["outliers"].loc[t.qc["outliers"]["outlier"].map(_bool), "sample"].astype(str).tolist()
        ds_rows.append(
            f"<tr><td>{_geo_link(d)}</td><td>{esc(info[d].get('drug'))}</td><td>{esc(info[d].get('model'))}</td>"
            f"<td>{esc(info[d].get('model_type'))}</td><td class='num'>{esc(dsu.get('n_resistant'))}</td>"
            f"<td class='num'>{esc(dsu.get('n_sensitive'))}</td><td class='num'>{esc(dsu.get('n_excluded'))}</td>"
            f"<td>{esc(', '.join(flagged)) if flagged else 'none'}</td></tr>"
        )
    fdr = config["hypotheses"]["fdr"]
    return (
        "<section id='summary'><h2>1. Summary</h2>"
        "<p><b>Question.</b> Do the resistant samples of these data sets show the IGF1R chemoresistance "
        "mechanisms of Yuan et al. (Oncol Lett 2018;15:41-47): IGF1R up, PI3K/AKT and MAPK signalling, "
        "proliferation, anti-apoptosis, ABC transporters and the ECM, and the couplings between them?</p>"
        "<table><thead><tr><th>data set</th><th>drug</th><th>model</th><th>model type</th><th>resistant</th>"
        "<th>sensitive</th><th>excluded</th><th>QC outliers</th></tr></thead>"
        f"<tbody>{''.join(ds_rows)}</tbody></table>"
        f"<p>Each cell is the verdict of the primary scoring method (<b>{esc(config['scoring']['primary'])}</b>) "
        "in one data set, with the number of methods reaching the same verdict; click a cell for its evidence. "
        "The last column pools the data sets by random-effects meta-analysis (click for the forest plot).</p>"
        f"<table id='verdict-matrix'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p class='note'>supported = predicted direction with FDR &lt; {esc(fdr)} and, for a gene set, moving "
        f"more than size- and expression-matched random gene sets (competitive FDR &lt; {esc(fdr)}); contradicted = "
        "the same in the opposite direction; changed = a two-sided prediction met (not support of a direction); "
        "no_change = equivalence test inside the margin; inconclusive = neither (see <a href='#faq'>why</a>); "
        "not_measurable = at the noise floor; not_testable = too few genes measured or fewer than 3 samples in a "
        "group (docs/verdicts.md). Hover a cell for effect, CI and FDR.</p></section>"
    )


def _geo_link(d: str) -> str:
    if re.fullmatch(r"GSE[0-9]+", str(d)):
        return f"<a href='{GEO_URL}{esc(d)}'>{esc(d)}</a>"
    return esc(d)


# --------------------------------------------------------------------------- 2. data


def section_data(d: str, info: dict, t: DatasetTables) -> str:
    uns, samples = t.uns, t.samples
    ds = uns.get("dataset", {})
    log2 = uns.get("log2", {})
    probes = uns.get("probe_collapse", {})
    sources = uns.get("sources", {})
    note = f"<p class='caveat'>{esc(info.get('note'))}</p>" if info.get("note") else ""
    if ds.get("caveat"):
        note += f"<p class='caveat'>{esc(ds.get('caveat'))}</p>"
    extra_rows = ""
    gene_ids = uns.get("gene_ids") or {}
    if gene_ids:
        extra_rows += (f"<tr><th>gene ids</th><td>{esc(gene_ids.get('id_type'))}: {esc(gene_ids.get('n_mapped'))} of "
                       f"{esc(gene_ids.get('n_ids'))} mapped to HGNC symbols ({esc(gene_ids.get('source'))})</td></tr>")
    if (uns.get("de") or {}).get("reason"):
        extra_rows += f"<tr><th>differential expression</th><td>{esc(uns['de']['reason'])}</td></tr>"
    regex = {"resistant": ds.get("group_resistant_regex"), "sensitive": ds.get("group_sensitive_regex")}
    table = samples.copy()
    table["matched regex"] = table["group"].map(lambda g: regex.get(g, "neither regex"))
    cols = [c for c in ["sample", "group", "group_field", "group_value", "matched regex", "title", "source_name_ch1"]
            if c in table.columns]
    kept = table[table["group"] != "excluded"][cols]
    excluded = table[table["group"] == "excluded"][cols]
    quant = ", ".join(f"{k.replace('quantile_', '')} = {fmt(v, 4)}" for k, v in log2.items()
                      if k.startswith("quantile_"))
    open_attr = " open" if len(kept) <= DISPLAY["sample_table_open_max"] else ""
    excl = (f"<details><summary>Excluded samples ({len(excluded)}: matched neither regex)</summary>"
            f"{table_html(excluded, numeric=set(), verdict_col=None)}</details>" if len(excluded)
            else "<p class='note'>No sample excluded.</p>")
    return (
        f"<section id='{anchor('data', d)}'><h3>{_geo_link(d)}: {esc(info.get('model', ''))}</h3>{note}"
        "<table>"
        f"<tr><th>drug</th><td>{esc(info.get('drug'))}</td></tr>"
        f"<tr><th>model type</th><td>{esc(info.get('model_type'))}</td></tr>"
        f"<tr><th>series title</th><td>{esc(ds.get('series_title'))}</td></tr>"
        f"<tr><th>platform</th><td>{esc(ds.get('platform') or sources.get('platform'))}</td></tr>"
        f"<tr><th>groups</th><td>field <code>{esc(ds.get('group_field'))}</code>; resistant = regex "
        f"<code>{esc(ds.get('group_resistant_regex'))}</code> ({esc(ds.get('n_resistant'))} samples), sensitive = "
        f"<code>{esc(ds.get('group_sensitive_regex'))}</code> ({esc(ds.get('n_sensitive'))}), excluded "
        f"{esc(ds.get('n_excluded'))} (case-insensitive search in the field)</td></tr>"
        f"<tr><th>log2</th><td>{esc(log2.get('reason'))}<br><span class='note'>raw quantiles: {esc(quant)}; "
        f"values &le; 0 set missing: {esc(log2.get('n_nonpositive_set_missing'))}</span></td></tr>"
        f"<tr><th>probes &rarr; genes</th><td>{esc(probes.get('n_probes'))} probes, "
        f"{esc(probes.get('n_probes_without_symbol'))} without symbol, {esc(probes.get('n_multi_gene_probes'))} "
        f"multi-gene ({esc(probes.get('n_genes_from_multi_gene_probes'))} genes kept only through one), "
        f"{esc(probes.get('n_probe_symbols_updated_to_current_hgnc'))} symbols updated to current HGNC; "
        f"<b>{esc(probes.get('n_genes'))} genes kept</b>. <span class='note'>{esc(probes.get('rule'))}</span>"
        "</td></tr>"
        f"{extra_rows}<tr><th>sources</th><td>{esc(sources.get('series_matrix'))}<br>"
        f"{esc(sources.get('annotation'))}</td></tr></table>"
        f"<details{open_attr}><summary>Samples in the analysis ({len(kept)})</summary>"
        f"{table_html(kept, numeric=set(), verdict_col=None)}</details>{excl}"
        "</section>"
    )


# --------------------------------------------------------------------------- 3. QC


def _titles(t: DatasetTables) -> dict[str, str]:
    s = t.samples
    if "title" not in s.columns:
        return {}
    return dict(zip(s["sample"].astype(str), s["title"].fillna("").astype(str)))


def value_label(t: DatasetTables) -> str:
    """What the expression values are: log2 unless the data set declares another scale."""
    scale = str(t.uns.get("log2", {}).get("scale") or "log2")
    return "log2 expression" if scale == "log2" else f"expression ({scale})"


def fig_distributions(d: str, t: DatasetTables) -> str:
    dist = t.qc["distributions"].copy()
    dist["sample"] = dist["sample"].astype(str)
    outl = t.qc["outliers"].set_index(t.qc["outliers"]["sample"].astype(str))
    order = {"resistant": 0, "sensitive": 1}
    dist = dist.assign(_o=dist["group"].map(lambda g: order.get(g, 2))).sort_values(["_o"], kind="stable")
    titles = _titles(t)
    hovers = [f"{r['sample']} ({r['group']})\ntitle: {titles.get(r['sample'], '')}\nmedian {fmt(r['median'])}, "
              f"IQR {fmt(r['q25'])} to {fmt(r['q75'])}, 5-95% {fmt(r['q05'])} to {fmt(r['q95'])}\n"
              f"missing values: {int(r['n_missing'])}" for _, r in dist.iterrows()]
    flagged = [_bool(outl["outlier"].get(s, False)) for s in dist["sample"]]
    return P.sample_boxes(dist["sample"].tolist(), dist["group"].tolist(),
                          {k: dist[k].to_numpy() for k in ("q05", "q25", "median", "q75", "q95")}, hovers,
                          ylabel=value_label(t), flagged=flagged)


def fig_pca(d: str, t: DatasetTables, x: str = "PC1", y: str = "PC2") -> str:
    pca = t.qc["pca"].copy()
    var = dict(zip(t.qc["pca_variance"]["component"], t.qc["pca_variance"]["variance_explained"]))
    if x not in pca.columns or y not in pca.columns:
        return "<p class='note'>Too few samples or genes for a PCA.</p>"
    pca["sample"] = pca["sample"].astype(str)
    outl = t.qc["outliers"].set_index(t.qc["outliers"]["sample"].astype(str))
    titles = _titles(t)
    pts = [P.Point(float(r[x]), float(r[y]), str(r["group"]),
                   f"{r['sample']} ({r['group']})\ntitle: {titles.get(r['sample'], '')}\n"
                   f"{x} {fmt(r[x])}, {y} {fmt(r[y])}") for _, r in pca.iterrows()]
    ring = [_bool(outl["outlier"].get(s, False)) for s in pca["sample"]]
    return P.scatter(pts, f"{x} ({var.get(x, float('nan')):.1%} of variance)",
                     f"{y} ({var.get(y, float('nan')):.1%} of variance)", highlight=ring, title=f"{d}: PCA")


def fig_pca_by_scores(d: str, t: DatasetTables, method: str, max_sets: int = 12) -> str:
    """Single-cell data sets: the PCA of cells coloured by each mechanism set's score."""
    pca = t.qc["pca"].copy()
    if "PC1" not in pca.columns or "PC2" not in pca.columns or t.scores.empty:
        return ""
    pca["sample"] = pca["sample"].astype(str)
    scores = t.scores[t.scores["method"].astype(str) == method]
    wide = scores.pivot(index="sample", columns="gene_set", values="score")
    wide.index = wide.index.astype(str)
    figs = []
    for set_name in list(wide.columns)[:max_sets]:
        values = wide[set_name].reindex(pca["sample"]).to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            continue
        lo, hi = float(finite.min()), float(finite.max())
        lo, hi = (lo, hi) if hi > lo else (lo - 1e-3, hi + 1e-3)
        pts = [P.Point(float(r["PC1"]), float(r["PC2"]), str(r["group"]),
                       f"{r['sample']} ({r['group']})\n{set_name} {method} {fmt(v)}")
               for (_, r), v in zip(pca.iterrows(), values)]
        colours = [P.sequential(v, lo, hi) if np.isfinite(v) else "#cccccc" for v in values]
        figs.append("<div class='fig-inline'>" + P.scatter(pts, "PC1", "PC2", width=300, height=260,
                                                           title=f"{set_name}", colours=colours)
                    + P.colour_bar(lambda v, lo=lo, hi=hi: P.sequential(v, lo, hi), lo, hi, f"{method} score",
                                   width=200) + "</div>")
    return "".join(figs)


def fig_correlation(d: str, t: DatasetTables) -> str:
    corr = t.qc["correlation"]
    cols = t.qc["columns"]
    labels = corr["column"].astype(str).tolist()
    groups = corr["group"].astype(str).tolist()
    values = corr[labels].to_numpy(dtype=float)
    off = values[~np.eye(len(labels), dtype=bool)] if len(labels) > 1 else values.ravel()
    lo = float(np.nanmin(off)) if off.size else 0.0
    hi = float(np.nanmax(off)) if off.size else 1.0
    lo, hi = (min(lo, hi - 1e-3), hi) if hi > lo else (lo - 1e-3, lo + 1e-3)
    members = dict(zip(cols["column"].astype(str), cols["members"].astype(str)))
    binned = bool((cols["n_samples"] > 1).any())
    row_labels = labels if not binned else [f"{g} {k + 1}" for k, g in enumerate(groups)]
    shown = labels if not binned else [f"{lab} (n={n})" for lab, n in zip(row_labels, corr["n_samples"])]
    what = "mean r" if binned else "r"
    hovers = [[f"{shown[i]} \u00d7 {shown[j]}\n{what} {fmt(values[i, j], 4)}" for j in range(len(labels))]
              for i in range(len(labels))]
    svg = P.heatmap(values, row_labels, row_labels, groups, hovers, lambda v: P.sequential(v, lo, hi),
                    f"Pearson r, colour from {fmt(lo, 3)} (light) to {fmt(hi, 3)} (dark)",
                    row_groups=groups, title=f"{d}: sample correlation",
                    max_width=640 if len(labels) > 30 else 420)
    svg += P.colour_bar(lambda v: P.sequential(v, lo, hi), lo, hi, "Pearson r")
    if binned:
        svg += ("<details><summary class='note'>Samples of each bin</summary><p class='note'>"
                + "; ".join(f"{esc(short)}: {esc(members[lab])}" for short, lab in zip(row_labels, labels))
                + " (also in qc/columns.tsv).</p></details>")
    return svg


def section_qc(d: str, t: DatasetTables, qc_settings: dict, primary_method: str = "singscore") -> str:
    outl = t.qc["outliers"].copy()
    flagged = outl[outl["outlier"].map(_bool)]
    cols = t.qc["columns"]
    binned = bool((cols["n_samples"] > 1).any())
    n = int(cols["n_samples"].sum())
    var = t.qc["pca_variance"]
    cum = float(var["variance_explained"].sum()) if len(var) else float("nan")
    coef = qc_settings.get("outlier_coef", 1.5)
    flag_text = (f"<p class='caveat'><b>Flagged samples:</b> {esc(', '.join(flagged['sample'].astype(str)))}. "
                 "They are kept in every analysis; judge whether they drive a verdict.</p>"
                 if len(flagged) else "<p class='note'>No sample flagged as an outlier.</p>")
    bin_note = (f" With {n} samples the heatmap averages consecutive samples of the same group into "
                f"{len(cols)} bins (at most {esc(qc_settings.get('max_heatmap_columns'))} columns); hover a cell for "
                "its bins." if binned else "")
    return (
        f"<section id='{anchor('qc', d)}'><h3>{esc(d)}</h3>{flag_text}"
        + figure(fig_distributions(d, t),
                 f"Distribution of {esc(value_label(t))} per sample (box: 25th-75th percentile and median; whiskers: "
                 "5th-95th percentile), resistant first. A thick outline marks a flagged sample. Hover a box for "
                 "the sample, its title and its quantiles.", anchor("fig", "dist", d))
        + figure(fig_pca(d, t),
                 f"PCA of samples on the {esc(qc_settings.get('pca_top_genes', 500))} most variable genes (centred, "
                 f"not scaled); axis titles give the variance explained (the first {len(var)} components hold "
                 f"{cum:.1%}). Black ring: flagged sample. Hover a point for the sample.", anchor("fig", "pca", d))
        + figure(fig_pca(d, t, "PC2", "PC3") if "PC3" in t.qc["pca"].columns else "",
                 "PC2 against PC3.", anchor("fig", "pca23", d))
        + (figure(fig_pca_by_scores(d, t, primary_method),
                  f"Cells on PC1/PC2 coloured by each mechanism set's {esc(primary_method)} score (light = low, "
                  "dark = high; the colour range is each set's own). Hover a cell for its score.",
                  anchor("fig", "pca_scores", d))
           if str(t.uns.get("dataset", {}).get("data_type", "")) == "single_cell" else "")
        + figure(fig_correlation(d, t),
                 "Pearson correlation between samples over all genes measured in every sample; samples ordered by "
                 "group, then by average-linkage clustering within the group." + bin_note,
                 anchor("fig", "corr", d))
        + "<details><summary>Outlier rules and per-sample values</summary>"
        f"<p class='note'>arrayQualityMetrics rules (Kauffmann et al. 2009): a sample is flagged when its distance "
        f"to the other samples (1 - mean Pearson r) or the Kolmogorov-Smirnov distance of its values to the pooled "
        f"values lies above the upper fence Q3 + {esc(coef)} x IQR of all samples (IQR at least "
        f"{esc(qc_settings.get('outlier_min_iqr_correlation'))} and {esc(qc_settings.get('outlier_min_iqr_ks'))} "
        "respectively, so that near-identical replicates are not flagged for tiny differences).</p>"
        f"{table_html(outl, verdict_col=None, row_class=outl['outlier'].map(lambda v: 'flag' if _bool(v) else ''))}"
        "</details></section>"
    )


# --------------------------------------------------------------------------- 4. mechanisms


def _method_order(config: dict, methods) -> list[str]:
    order = list(config["scoring"]["methods"])
    return [m for m in order if m in set(methods)] + sorted(set(methods) - set(order))


def fig_agreement(rows: pd.DataFrame, test: str) -> str:
    """Effect of every method on one hypothesis in one data set (Hedges' g, or Spearman rho)."""
    frows = []
    for _, r in rows.iterrows():
        if test == "coupling":
            est, lo, hi, what = _num(r["effect"]), _num(r["ci_low"]), _num(r["ci_high"]), "Spearman rho"
        else:
            est, lo, hi, what = _num(r["hedges_g"]), _num(r["g_ci_low"]), _num(r["g_ci_high"]), "Hedges' g"
        primary = " (primary)" if _bool(r["primary"]) else ""
        frows.append(P.ForestRow(
            f"{r['method']}{primary}", est, lo, hi, VERDICT_COLOURS.get(str(r["verdict"]), "#333"),
            note=f"FDR {fmt(r['fdr'])}",
            hover=f"{r['method']}: {what} {fmt(est)} (95% CI {fmt(lo)} to {fmt(hi)})\np {fmt(r['p_value'])}, "
                  f"FDR {fmt(r['fdr'])}, verdict {r['verdict']}"))
    xlabel = "Spearman rho (95% CI)" if test == "coupling" else "Hedges' g, resistant - sensitive (95% CI)"
    clip = (-1.0, 1.0) if test == "coupling" else None
    return P.forest(frows, xlabel, width=520, row_height=20, clip=clip)


def _group_values(frame: pd.DataFrame, value_col: str, what: str) -> list[P.GroupValues]:
    out = []
    for g in ["resistant", "sensitive"]:
        sub = frame[frame["group"] == g]
        labels = [f"{s} ({g}): {what} {fmt(v, 4)}" for s, v in zip(sub["sample"].astype(str), sub[value_col])]
        out.append(P.GroupValues(g, sub[value_col].to_numpy(dtype=float), labels))
    return out


def fig_scores(d: str, t: DatasetTables, set_name: str, rows: pd.DataFrame, config: dict) -> str:
    """Strip + box of the set's per-sample scores, one panel per method."""
    groups = t.qc["pca"][["sample", "group"]].astype(str)
    scores = t.scores[t.scores["gene_set"] == set_name].copy()
    scores["sample"] = scores["sample"].astype(str)
    scores = scores.merge(groups, on="sample", how="inner")
    panels = []
    by_method = {str(r["method"]): r for _, r in rows.iterrows()}
    for m in _method_order(config, scores["method"].unique()):
        r = by_method.get(m)
        sub = scores[scores["method"] == m]
        subtitle = (f"diff {fmt(r['effect'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]" if r is not None else "")
        note = f"p {fmt(r['p_value'])}, FDR {fmt(r['fdr'])}" if r is not None else ""
        colour = VERDICT_COLOURS.get(str(r["verdict"]), "#fff") if r is not None else "#fff"
        panels.append(P.Panel(m, _group_values(sub, "score", m), subtitle, colour, note))
    if not panels:
        return "<p class='note'>No scores: the set has too few measured genes.</p>"
    return P.strip_box(panels, "score", max_points=DISPLAY["max_points_per_group"])


def fig_gene_values(d: str, t: DatasetTables, gene: str, r: pd.Series | None) -> str:
    gv = t.qc["gene_values"]
    sub = gv[gv["gene"].astype(str) == gene]
    if sub.empty:
        return f"<p class='note'>{esc(gene)} is not measured in {esc(d)}.</p>"
    subtitle = f"diff {fmt(r['effect'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]" if r is not None else ""
    note = f"p {fmt(r['p_value'])}, FDR {fmt(r['fdr'])}" if r is not None else ""
    colour = VERDICT_COLOURS.get(str(r["verdict"]), "#fff") if r is not None else "#fff"
    panel = P.Panel(gene, _group_values(sub, "log2", gene), subtitle, colour, note)
    return P.strip_box([panel], value_label(t), panel_width=200, max_points=DISPLAY["max_points_per_group"])


def fig_set_heatmap(d: str, t: DatasetTables, set_name: str) -> str:
    hm = t.qc["set_heatmaps"]
    sub = hm[hm["gene_set"].astype(str) == set_name]
    if sub.empty:
        return ""
    cols = t.qc["columns"]
    col_labels = cols["column"].astype(str).tolist()
    genes = list(dict.fromkeys(sub["gene"].astype(str)))
    direction = dict(zip(sub["gene"].astype(str), sub["direction"].astype(str)))
    z = sub.pivot_table(index="gene", columns="column", values="z", aggfunc="first", dropna=False)
    x = sub.pivot_table(index="gene", columns="column", values="log2", aggfunc="first", dropna=False)
    z = z.reindex(index=genes, columns=col_labels)
    x = x.reindex(index=genes, columns=col_labels)
    binned = bool((cols["n_samples"] > 1).any())
    col_groups = cols["group"].astype(str).tolist()
    hovers = []
    for gi, g in enumerate(genes):
        row = []
        for j, c in enumerate(col_labels):
            who = f"{c} ({col_groups[j]})" if not binned else c
            row.append(f"{g} ({direction[g]}) \u00d7 {who}\n{'mean ' if binned else ''}z {fmt(z.iat[gi, j])}, "
                       f"log2 {fmt(x.iat[gi, j])}")
        hovers.append(row)
    marks = ["up" if direction[g] == "up" else "down" for g in genes] if set(direction.values()) != {"up"} else None
    legend_text = (f"z-score of {value_label(t)} per gene across samples (blue -2.5 .. white 0 .. red +2.5); "
                   + ("columns are bins of consecutive samples" if binned else "columns are samples"))
    return P.heatmap(z.to_numpy(dtype=float), genes, col_labels, col_groups, hovers, P.diverging, legend_text,
                     row_marks=marks, title=f"{set_name} genes in {d}", max_width=620, min_row_height=11)


def fig_running(d: str, t: DatasetTables, name: str, permutations: int = 0) -> str:
    rs = t.qc["gsea_running"]
    sub = rs[rs["gene_set"].astype(str) == name]
    if sub.empty:
        return ""
    hits = sub[sub["hit"].map(_bool)]
    g = t.gsea[t.gsea["gene_set"].astype(str) == name]
    note = ""
    if not g.empty:
        r = g.iloc[0]
        floor = f"< {fmt(1 / permutations)}" if permutations else "0"
        p = floor if _num(r["p_value"]) == 0 else fmt(r["p_value"])
        q = floor if _num(r["fdr"]) == 0 else fmt(r["fdr"])
        note = f"NES {fmt(r['nes'])}, p {p}, FDR {q}"
        if _isnan(r.get("nes")):
            note = f"not tested: {r.get('note')}" if not _isnan(r.get("note")) else "not tested"
    hovers = [f"{gene}: rank {int(p)}, t = {fmt(tv)}" for gene, p, tv in zip(hits["gene"], hits["position"], hits["t"])]
    return P.running_sum_plot(sub["position"].to_numpy(dtype=float), sub["running_es"].to_numpy(dtype=float),
                              hits["position"].to_numpy(dtype=float), hovers, int(sub["n_ranked"].iloc[0]),
                              title=f"GSEA: {name} in {d}", note=note)


def fig_coupling(d: str, t: DatasetTables, set_x: str, set_y: str, method: str, r: pd.Series | None) -> str:
    groups = t.qc["pca"][["sample", "group"]].astype(str)
    s = t.scores[t.scores["method"] == method].copy()
    s["sample"] = s["sample"].astype(str)
    wide = s.pivot_table(index="sample", columns="gene_set", values="score", aggfunc="first")
    if set_x not in wide.columns or set_y not in wide.columns:
        return "<p class='note'>Scores missing for one of the two sets.</p>"
    wide = wide[[set_x, set_y]].reset_index().merge(groups, on="sample", how="inner")
    pts = [P.Point(float(a), float(b), g, f"{smp} ({g})\n{set_x} {fmt(a)}, {set_y} {fmt(b)}")
           for smp, a, b, g in zip(wide["sample"], wide[set_x], wide[set_y], wide["group"])]
    title = f"{d}: {method} scores"
    if r is not None:
        title += f", rho {fmt(r['effect'])} (FDR {fmt(r['fdr'])})"
    return P.scatter(pts, f"{set_x} score", f"{set_y} score", width=420, title=title)


def _gsea_names(t: DatasetTables, set_name: str) -> list[str]:
    names = set(t.gsea["gene_set"].astype(str))
    return [n for n in (set_name, f"{set_name}_UP", f"{set_name}_DN") if n in names]


def evidence_card(d: str, hid: str, h: dict, t: DatasetTables, rows: pd.DataFrame, config: dict) -> str:
    """Everything behind one cell of the verdict matrix."""
    test = str(h.get("test", "group"))
    # numeric-response data sets add Spearman-vs-response rows: shown as their own table
    continuous = rows[rows["test"].astype(str) == "continuous"] if "test" in rows.columns else rows.iloc[0:0]
    rows = rows.drop(index=continuous.index)
    if rows.empty:
        return ""
    prim = rows[rows["primary"].map(_bool)]
    p = prim.iloc[0] if len(prim) else rows.iloc[0]
    cols = ["method", "effect_measure", "effect", "ci_low", "ci_high", "hedges_g", "p_value", "permutation_p", "fdr",
            "competitive_p", "competitive_fdr", "random_percentile", "camera_p", "camera_p_estimated_cor",
            "equivalence_p", "family", "quantile_flip", "observed", "verdict", "n_genes", "n_genes_in_set",
            "genes_missing", "note"]
    cols = [c for c in cols if c in rows.columns and rows[c].notna().any() and c != "effect_measure"]
    rows = rows.copy()
    rows["_o"] = rows["method"].map({m: i for i, m in enumerate(_method_order(config, rows["method"].unique()))})
    rows = rows.sort_values("_o").drop(columns="_o")
    if (rows["verdict"].astype(str) == "not_testable").all():
        missing = p.get("genes_missing")
        return (f"<div class='card' id='{anchor('res', d, hid)}'><h4>{esc(d)}: {verdict_badge(p['verdict'])} "
                f"<span class='note'>{esc(p.get('note'))}</span></h4>"
                + (f"<p class='note'>Genes not measured: {esc(missing)}</p>" if not _isnan(missing) and missing
                   else "") + "</div>")
    parts = [
        f"<div class='card' id='{anchor('res', d, hid)}'><h4>{esc(d)}: {verdict_badge(p['verdict'])} "
        f"<span class='note'>primary {esc(p['method'])}: {esc(p['effect_measure'])} {fmt(p['effect'])} "
        f"(95% CI {fmt(p['ci_low'])} to {fmt(p['ci_high'])}), p {fmt(p['p_value'])}, FDR {fmt(p['fdr'])}; "
        f"methods agreeing {esc(p.get('methods_agreeing', ''))}; n = {esc(p.get('n_resistant'))} resistant vs "
        f"{esc(p.get('n_sensitive'))} sensitive</span></h4>",
        table_html(rows[cols]),
    ]
    if len(continuous):
        ccols = [c for c in ["method", "effect", "ci_low", "ci_high", "p_value", "fdr", "predicted", "observed",
                             "verdict", "note"] if c in continuous.columns]
        parts.append("<p class='note'>Continuous test: Spearman correlation of the score with the numeric "
                     "response (positive = higher in more resistant samples), BH-adjusted among these rows.</p>"
                     + table_html(continuous[ccols]))
    if str(p["verdict"]) == "not_testable":
        parts.append(f"<p class='note'>Not testable: {esc(p.get('note'))}</p></div>")
        return "".join(parts)
    if len(rows) > 1:
        what = "Spearman rho" if test == "coupling" else "Hedges' g (standardised, so methods are comparable)"
        parts.append(figure(fig_agreement(rows, test),
                            f"Agreement across methods: {what} with 95% CI, coloured by each method's verdict."))
    if test == "group":
        set_name = str(h.get("gene_set"))
        parts.append(figure(fig_scores(d, t, set_name, rows, config),
                            f"Per-sample {esc(set_name)} scores by group for every method (box: quartiles, whiskers "
                            "1.5 IQR; points: samples, at most "
                            f"{DISPLAY['max_points_per_group']} per group drawn, evenly spaced in value order). The "
                            "bar above a panel has the colour of that method's verdict; panel titles give the "
                            "difference of means (resistant - sensitive) with 95% CI. Hover a point for the sample."))
        parts.append(figure(fig_set_heatmap(d, t, set_name),
                            f"The {esc(set_name)} genes measured in every sample, z-scored per gene, samples ordered "
                            "by group (bar: orange resistant, green sensitive). Hover a cell for gene, sample, z and "
                            "log2 expression."))
        for name in _gsea_names(t, set_name):
            parts.append(figure(fig_running(d, t, name, config.get("gsea", {}).get("permutations", 0)),
                                "Preranked GSEA on the limma moderated t: running enrichment score along the ranked "
                                "genes (ticks: set genes; hover for gene, rank and t; red dot: the enrichment "
                                "score)."))
    elif test == "gene":
        gene = str(h.get("gene"))
        parts.append(figure(fig_gene_values(d, t, gene, p),
                            f"{esc(value_label(t))} of {esc(gene)} per sample by group (box: quartiles). Hover a point for "
                            "the sample."))
    elif test == "coupling":
        parts.append(figure(fig_coupling(d, t, str(h.get("gene_set")), str(h.get("with_set")), str(p["method"]), p),
                            f"{esc(h.get('gene_set'))} against {esc(h.get('with_set'))} scores of the primary method, "
                            "one point per sample, coloured by group. With two groups the correlation mostly "
                            "reflects the group difference. Hover a point for the sample."))
    parts.append("</div>")
    return "".join(parts)


def section_mechanisms(config: dict, datasets: list[str], data: ReportData, hinfo: dict[str, dict]) -> str:
    hyps = data.hypotheses
    parts = ["<section id='mechanisms'><h2>4. Mechanisms</h2>"
             "<p>One block per hypothesis of the catalogue, one card per data set: the test of every scoring "
             "method, the agreement between methods, the per-sample evidence, the set's genes and the competitive "
             "(GSEA) view. Positive effects = higher in resistant samples.</p>"]
    for hid, h in hinfo.items():
        target = h.get("gene_set") or h.get("gene") or ""
        if h.get("with_set"):
            target = f"{target} vs {h['with_set']}"
        parts.append(
            f"<div class='hyp' id='{anchor('hyp', hid)}'><h3>{esc(hid)}</h3><p>{esc(h.get('statement'))}<br>"
            f"<span class='note'>test: {esc(h.get('test', 'group'))} on {esc(target)}; predicted: "
            f"{esc(h.get('predicted'))}; source: {esc(h.get('source'))}</span></p>"
        )
        for d in datasets:
            rows = hyps[(hyps["hypothesis"] == hid) & (hyps["dataset"] == d)]
            if rows.empty:
                continue
            parts.append(evidence_card(d, hid, h, data.datasets[d], rows, config))
        parts.append("</div>")
    parts.append("<h3 id='genes'>Genes per data set</h3>")
    for d in datasets:
        parts.append(section_genes(d, data.datasets[d], data.catalogue, hinfo, config))
    parts.append("</section>")
    return "".join(parts)


def fig_volcano(d: str, t: DatasetTables, catalogue: dict, hinfo: dict[str, dict], fdr: float) -> str:
    de = t.de.dropna(subset=["logFC", "P.Value"]).copy()
    de["gene"] = de["gene"].astype(str)
    de["y"] = -np.log10(de["P.Value"].clip(lower=1e-300))
    single = {str(h.get("gene")) for h in hinfo.values() if h.get("test") == "gene" and h.get("gene")}
    member_of: dict[str, list[str]] = {}
    for name, spec in catalogue.get("gene_sets", {}).items():
        for g in list(spec.get("up", [])) + list(spec.get("down", [])):
            member_of.setdefault(g, []).append(name)
    mech = de[de["gene"].isin(set(member_of) | single)]
    top = de[~de["gene"].isin(set(mech["gene"]))].nsmallest(DISPLAY["volcano_top_genes"], "P.Value")
    background = de[~de["gene"].isin(set(mech["gene"]) | set(top["gene"]))]
    labelled = set(single) | set(mech.nsmallest(DISPLAY["volcano_labels"], "P.Value")["gene"])

    def hover(r, sets):
        return (f"{r['gene']}{' (' + ', '.join(sets) + ')' if sets else ''}\nlogFC {fmt(r['logFC'])}, "
                f"AveExpr {fmt(r['AveExpr'])}, t {fmt(r['t'])}\np {fmt(r['P.Value'])}, adj.p {fmt(r['adj.P.Val'])}"
                + (" (below the noise floor)" if not _bool(r.get("measurable", True)) else ""))

    genes = [P.VolcanoGene(r["gene"], r["logFC"], r["y"], hover(r, []), "#555", False) for _, r in top.iterrows()]
    genes += [P.VolcanoGene(r["gene"], r["logFC"], r["y"], hover(r, member_of.get(r["gene"], [])),
                            "#e7298a" if r["gene"] in single else "#7570b3", r["gene"] in labelled,
                            priority=(0 if r["gene"] in single else 1) - r["y"] / 1e4)
              for _, r in mech.sort_values("y").iterrows()]
    sig = de.loc[de["adj.P.Val"] < fdr, "P.Value"]
    line = float(-np.log10(sig.max())) if len(sig) else None
    return P.volcano(background["logFC"].to_numpy(), background["y"].to_numpy(), genes,
                     fdr_line=line, grid=DISPLAY["volcano_grid"],
                     legend_items=[("mechanism-set gene", "#7570b3"), ("single-gene hypothesis", "#e7298a"),
                                   (f"top {DISPLAY['volcano_top_genes']} other genes", "#555")])


def section_genes(d: str, t: DatasetTables, catalogue: dict, hinfo: dict[str, dict], config: dict) -> str:
    fdr = config["hypotheses"]["fdr"]
    de = t.de
    key = de[de["gene"].isin(KEY_GENES)]
    key = key[[c for c in ["gene", "logFC", "CI.L", "CI.R", "AveExpr", "t", "P.Value", "adj.P.Val", "B", "measurable"]
               if c in key.columns]]
    g = t.gsea[[c for c in ["gene_set", "n_genes", "es", "nes", "p_value", "fdr", "leading_edge", "note"]
                if c in t.gsea.columns]]
    return (
        f"<div class='card' id='{anchor('genes', d)}'><h4>{esc(d)}: differential expression (limma)</h4>"
        + figure(fig_volcano(d, t, catalogue, hinfo, fdr),
                 f"Volcano plot of limma's moderated t test, resistant - sensitive, {len(de)} genes. Grey squares: "
                 f"genes counted per screen cell ({DISPLAY['volcano_grid'][0]} x {DISPLAY['volcano_grid'][1]} grid; "
                 "darker = more genes; hover for the count). Points: genes of the mechanism sets (purple), genes of "
                 "single-gene hypotheses (pink, labelled) and the most significant other genes (dark grey); hover "
                 f"for gene, fold change and p. Dashed line: adj.P.Val = {esc(fdr)}.", anchor("fig", "volcano", d))
        + f"<h4>Key genes</h4>{table_html(key, verdict_col=None)}"
        f"<p class='note'>measurable = mean above the data set's noise floor ({esc(t.uns.get('noise_floor', {}).get('value'))}, "
        f"{esc(t.uns.get('noise_floor', {}).get('method'))}) in at least one group; below it changes are noise.</p>"
        f"<h4>Preranked GSEA on the moderated t ({len(g)} sets)</h4>{table_html(g, verdict_col=None)}"
        f"<details><summary>Top 30 genes by p value</summary>{table_html(de.head(30), verdict_col=None)}</details>"
        "</div>"
    )


# --------------------------------------------------------------------------- 5. across data sets


def _meta_models(m: pd.Series) -> tuple[dict[str, str], set[str] | None]:
    """Pooled model -> weight, and the models of the row's stratum (None: every data set; older meta.tsv)."""
    if "models" in m.index:  # meta.tsv contract 6: ';'-joined models and weights, one row per stratum
        pooled = [x for x in str(m.get("models", "") if not _isnan(m.get("models")) else "").split(";") if x]
        descriptive = [x for x in str(m.get("descriptive_models", "") if not _isnan(m.get("descriptive_models"))
                                      else "").split(";") if x]
        weights = str(m.get("weights", "") if not _isnan(m.get("weights")) else "").split(";")
        return dict(zip(pooled, weights)), set(pooled) | set(descriptive)
    return dict(zip(str(m.get("datasets", "")).split(","), str(m.get("weights", "")).split(","))), None


def fig_forest(hid: str, m: pd.Series, hyps: pd.DataFrame, datasets: list[str], test: str) -> str:
    method = str(m.get("scoring_method", m["method"]))
    weights, in_stratum = _meta_models(m)
    rows = []
    for d in datasets:
        if in_stratum is not None and d not in in_stratum:
            continue
        sub = hyps[(hyps["hypothesis"] == hid) & (hyps["dataset"] == d) & (hyps["method"].astype(str) == method)]
        if sub.empty:
            continue
        r = sub.iloc[0]
        if test == "coupling":
            est, lo, hi = _num(r["effect"]), _num(r["ci_low"]), _num(r["ci_high"])
        else:
            est, lo, hi = _num(r["hedges_g"]), _num(r["g_ci_low"]), _num(r["g_ci_high"])
        w = _num(weights.get(d))
        rows.append(P.ForestRow(d, est, lo, hi, VERDICT_COLOURS.get(str(r["verdict"]), "#333"), w,
                                note=f"weight {fmt(w, 3)}%" if np.isfinite(w) else "not pooled",
                                hover=f"{d}: {fmt(est)} (95% CI {fmt(lo)} to {fmt(hi)}), n = {r.get('n_resistant')}"
                                      f" vs {r.get('n_sensitive')}, verdict {r['verdict']}"))
    pooled = P.Pooled(
        "pooled (random effects)", _num(m["estimate"]), _num(m["ci_low"]), _num(m["ci_high"]),
        VERDICT_COLOURS.get(str(m["verdict"]), "#333"),
        note=f"I\u00b2 {fmt(m['i2'], 3)}%, \u03c4\u00b2 {fmt(m['tau2'])}",
        pi_low=_num(m.get("pi_low")), pi_high=_num(m.get("pi_high")),
        hover=f"pooled {m['effect_measure']}: {fmt(m['estimate'])} (95% CI {fmt(m['ci_low'])} to "
              f"{fmt(m['ci_high'])}), p {fmt(m['p_value'])}, FDR {fmt(m['fdr'])}; I2 {fmt(m['i2'])}%, "
              f"tau2 {fmt(m['tau2'])}, Q p {fmt(m.get('q_p'))}; verdict {m['verdict']}")
    xlabel = "Spearman rho (95% CI)" if test == "coupling" else "Hedges' g, resistant - sensitive (95% CI)"
    stratum = "" if _isnan(m.get("stratum")) else f", {m.get('stratum')}"
    return P.forest(rows, xlabel, pooled=pooled, width=620, title=f"{hid} ({method}{stratum})",
                    clip=(-1.0, 1.0) if test == "coupling" else None)


def section_meta(datasets: list[str], data: ReportData, hinfo: dict[str, dict]) -> str:
    meta, hyps = data.meta, data.hypotheses
    parts = ["<section id='meta'><h2>5. Across data sets</h2><p>Random-effects meta-analysis of Hedges' g of the "
             "primary method per model (couplings: Spearman rho pooled through Fisher's z), within strata of "
             "like models (model type, drug class); the headline stratum (chemotherapy resistance by default) is "
             "its own FDR family. Single-cell data sets without replicates are shown but not pooled; two-sided "
             "hypotheses get heterogeneity and vote counts only. Squares: models, area by weight (percent of "
             "the total); diamond: pooled effect with 95% CI; line through it: 95% prediction interval (where "
             "the effect of a new model is expected); colours: verdicts. I&sup2; = share of the variation due "
             "to heterogeneity between models.</p>"]
    seen: set[str] = set()
    for _, m in meta.iterrows():
        hid = str(m["hypothesis"])
        test = str(hinfo.get(hid, {}).get("test", "group"))
        # the first row of a hypothesis (the headline stratum) keeps the anchor the verdict matrix links to
        div_id = anchor("meta", hid) if hid not in seen else anchor("meta", hid, m.get("stratum"))
        seen.add(hid)
        stratum = "" if _isnan(m.get("stratum")) else f" [{esc(m['stratum'])}, {esc(m.get('method'))}]"
        pi = "" if _isnan(m.get("pi_low")) else f", 95% PI {fmt(m['pi_low'])} to {fmt(m['pi_high'])}"
        parts.append(f"<div id='{div_id}'>"
                     + figure(fig_forest(hid, m, hyps, datasets, test),
                              f"{esc(hid)}{stratum}: {verdict_badge(m['verdict'])} pooled {esc(m['effect_measure'])} "
                              f"{fmt(m['estimate'])} (95% CI {fmt(m['ci_low'])} to {fmt(m['ci_high'])}{pi}), "
                              f"p {fmt(m['p_value'])}, FDR {fmt(m['fdr'])}; k = {esc(m['k'])}; I&sup2; "
                              f"{fmt(m['i2'], 3)}%, &tau;&sup2; {fmt(m['tau2'])}, Cochran's Q p {fmt(m.get('q_p'))}."
                              + (f" {esc(m['note'])}" if not _isnan(m.get("note")) and m.get("note") else ""))
                     + "</div>")
    cols = [c for c in ["hypothesis", "stratum", "method", "effect_measure", "k", "models", "datasets", "estimate",
                        "ci_low", "ci_high", "pi_low", "pi_high", "p_value", "fdr", "tau2", "i2", "i2_ci_low",
                        "i2_ci_high", "q_p", "vote_up", "vote_down", "loo_min", "loo_max", "predicted", "observed",
                        "verdict", "weights", "descriptive_models", "note"]
            if c in meta.columns]
    parts.append(f"<details><summary>Meta-analysis table</summary>{table_html(meta[cols])}</details></section>")
    return "".join(parts)


def forest_overview(datasets: list[str], data: ReportData, hinfo: dict[str, dict]) -> str:
    """All pooled effects in one standalone SVG (for `snakemake --report`)."""
    return "".join(fig_forest(str(m["hypothesis"]), m, data.hypotheses, datasets,
                              str(hinfo.get(str(m["hypothesis"]), {}).get("test", "group")))
                   for _, m in data.meta.iterrows())


# --------------------------------------------------------------------------- 6. methods


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for pkg in ["igf1r-resistance", "numpy", "scipy", "pandas", "anndata", "scanpy", "gseapy", "snakemake"]:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return versions


def section_methods(config: dict, catalogue: dict, qc_settings: dict) -> str:
    caveats = "".join(f"<li>{esc(c)}</li>" for c in catalogue.get("caveats", []))
    vtable = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in software_versions().items())
    sc, hy = config["scoring"], config["hypotheses"]
    fdr = hy["fdr"]
    sets = "".join(
        f"<tr><td>{esc(name)}</td><td>{esc(', '.join(spec.get('up', [])))}</td>"
        f"<td>{esc(', '.join(spec.get('down', [])))}</td><td class='note'>{esc(spec.get('source'))}</td></tr>"
        for name, spec in catalogue.get("gene_sets", {}).items()
    )
    params = {"qc": qc_settings, "report display": {k: list(v) if isinstance(v, tuple) else v
                                                    for k, v in DISPLAY.items()}}
    return (
        "<section id='methods'><h2>6. Methods and caveats</h2>"
        "<p>Series matrices are read from GEO (or a local mirror); values are log2-transformed by GEO2R's rule "
        "unless configured; probes are mapped to current HGNC symbols and one probe per gene is kept (highest "
        "mean expression). Per-sample gene-set scores: "
        f"{esc(', '.join(sc['methods']))}; the verdict uses <b>{esc(sc['primary'])}</b> (a per-sample score that "
        "does not depend on the other samples). Group differences: difference of mean scores (resistant - "
        "sensitive) with Welch 95% CI, Hedges' g, Welch p and an exact (or seeded Monte-Carlo) label-permutation p; "
        f"the verdict uses the {esc(hy['p_value'])} p, BH-adjusted across all hypotheses x methods of a data set, "
        f"with FDR threshold {esc(fdr)}. Couplings: Spearman correlation of two set scores across samples. "
        "Differential expression: limma moderated t (lmFit on ~0 + group, contrast resistant - sensitive, eBayes, "
        f"BH). Competitive test: preranked GSEA on the moderated t ({esc(config['gsea']['permutations'])} "
        f"permutations, seed {esc(config['gsea']['seed'])}). Across models: random-effects meta-analysis within "
        f"strata ({esc(config.get('meta', {}).get('tau2_method', 'REML'))} &tau;&sup2;, "
        f"{esc(config.get('meta', {}).get('test', 'knha'))} CI, 95% prediction interval, I&sup2; with its "
        "Q-profile CI; as metafor 3.8). QC: PCA (numpy SVD) of the most variable genes, per-sample quantiles, Pearson "
        "correlations, arrayQualityMetrics outlier rules.</p>"
        "<p>Figures are inline SVG without JavaScript; hover any mark for its sample or gene. Dense figures are "
        f"thinned and say so: strip plots draw at most {DISPLAY['max_points_per_group']} points per group; "
        f"heatmaps of more than {esc(qc_settings.get('max_heatmap_columns'))} samples average consecutive samples "
        "of one group; the volcano plot counts background genes per screen cell.</p>"
        f"<div class='caveat'><b>Caveats</b><ul>{caveats}"
        "<li>mRNA is a proxy: a verdict about a signalling pathway is about its transcripts.</li>"
        "<li>Small n: most data sets have 3-5 samples per group; confidence intervals are wide.</li>"
        "<li>Cell-line pairs: a resistant line selected from its parent differs in many ways besides the "
        "mechanism tested.</li></ul></div>"
        "<h3 id='faq'>FAQ: why is a verdict inconclusive?</h3><ul>"
        f"<li><b>Few samples.</b> With 3 vs 3 samples only large, consistent shifts reach FDR &lt; {esc(fdr)}; the "
        "smallest exact two-sided permutation p is 0.1.</li>"
        "<li><b>Many tests.</b> The FDR is adjusted over every hypothesis and method of a data set, so a nominal "
        "p of 0.01 may not pass.</li>"
        "<li><b>The direction is right but the effect small.</b> Look at the strip plots and the CI: an interval "
        "that barely crosses 0 is weak evidence, not evidence of no effect.</li>"
        "<li><b>Protein, not mRNA.</b> The mechanism may act through phosphorylation, invisible on arrays.</li>"
        "<li><b>Methods disagree.</b> The evidence card shows every method; the count of agreeing methods is in "
        "the verdict matrix.</li>"
        "<li><b>Genes at noise level.</b> On MAS5 arrays low intensities carry little signal (genes under the "
        "data set's noise floor in both groups are flagged not measurable).</li>"
        "<li><b>Heterogeneity.</b> In the meta-analysis a large I&sup2; widens the pooled CI: data sets disagree, "
        "often because the models differ (drug, tissue, selection).</li></ul>"
        "<h3>Gene sets</h3><table><thead><tr><th>set</th><th>up</th><th>down</th><th>source</th>"
        f"</tr></thead><tbody>{sets}</tbody></table>"
        f"<p class='note'>Catalogue version {esc(catalogue.get('version'))}; source: {esc(catalogue.get('source'))}."
        "</p>"
        f"<h3>Software versions</h3><table>{vtable}</table>"
        f"<h3>Parameters not in config.yaml</h3><pre>{esc(yaml.safe_dump(params, sort_keys=False))}</pre>"
        f"<h3>Configuration used</h3><pre>{esc(yaml.safe_dump(config, sort_keys=False))}</pre></section>"
    )


# --------------------------------------------------------------------------- assembly


def build_report(config: dict, datasets: list[str], data: ReportData) -> str:
    """The report as one HTML string."""
    info = {d: config["datasets"].get(d, {}) for d in datasets}
    hinfo = hypothesis_info(data.catalogue, config, data.hypotheses)
    qc_settings = data.qc_settings
    title = config.get("report", {}).get("title", "IGF1R resistance report")
    parts = [section_summary(config, datasets, data, hinfo)]
    parts.append("<section id='data'><h2>2. Data</h2>")
    parts += [section_data(d, info[d], data.datasets[d]) for d in datasets]
    parts.append("</section><section id='qc'><h2>3. Quality control</h2>")
    parts += [section_qc(d, data.datasets[d], qc_settings, config["scoring"]["primary"]) for d in datasets]
    parts.append("</section>")
    parts.append(section_mechanisms(config, datasets, data, hinfo))
    parts.append(section_meta(datasets, data, hinfo))
    parts.append(section_methods(config, data.catalogue, qc_settings))
    if data.benchmarks is not None and len(data.benchmarks):
        parts.append(section_run_costs(data.benchmarks))
    nav = "".join(f"<a href='#{a}'>{n}</a>" for a, n in [
        ("summary", "Summary"), ("data", "Data"), ("qc", "QC"), ("mechanisms", "Mechanisms"),
        ("genes", "Genes"), ("meta", "Across data sets"), ("methods", "Methods")])
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><nav>{nav}</nav></header><main>{''.join(parts)}</main></body></html>"
    )


def read_benchmarks(folder: str | Path) -> pd.DataFrame:
    """Snakemake's `benchmark:` tables (one per job) as rows `step, target, s, max_rss_mb`."""
    rows = []
    for path in sorted(Path(folder).glob("*/*.tsv")):
        try:
            table = pd.read_csv(path, sep="\t")
        except (OSError, ValueError, pd.errors.EmptyDataError):
            continue
        if table.empty or "s" not in table.columns:
            continue
        last = table.iloc[-1]
        rows.append({"step": path.parent.name, "target": path.stem, "s": float(last["s"]),
                     "max_rss_mb": float(last.get("max_rss", float("nan")))})
    return pd.DataFrame(rows, columns=["step", "target", "s", "max_rss_mb"])


def section_run_costs(bench: pd.DataFrame) -> str:
    """Per-step run time and peak memory, as Snakemake's benchmark files recorded them."""
    total = bench["s"].sum()
    return (
        "<section id='run-costs'><h3>Run time and memory per step</h3>"
        "<p class='note'>From Snakemake's <code>benchmark:</code> files (<code>results/benchmarks/</code>) of the "
        f"jobs this report was built from: wall seconds and peak resident memory (MB) per job; {len(bench)} jobs, "
        f"{fmt(total)} s in total (jobs run in parallel, so the run took less).</p>"
        + table_html(bench.sort_values(["step", "target"]), numeric={"s", "max_rss_mb"}, verdict_col=None)
        + "</section>"
    )


def run_report(inputs: dict, config: dict, datasets: list[str], out: str, log: logging.Logger,
               qc_settings: dict | None = None, forest_out: str | None = None) -> None:
    """Read the tables the pipeline wrote and write the report (and the forest overview SVG)."""
    data = load_report_data(inputs, datasets, qc_settings)
    # every upstream job has finished (and written its benchmark) before this one runs
    data.benchmarks = read_benchmarks(Path(out).parents[1] / "benchmarks")
    text = build_report(config, datasets, data)
    write_text(text, out)
    log.info("report written: %s (%.2f MB)", out, Path(out).stat().st_size / 1e6)
    if forest_out:
        hinfo = hypothesis_info(data.catalogue, config, data.hypotheses)
        write_text(_svg_document(forest_overview(datasets, data, hinfo)), forest_out)


def _svg_document(svgs: str) -> str:
    """One or several <svg> elements as one standalone SVG file (stacked vertically)."""
    items = re.findall(r"<svg .*?</svg>", svgs, flags=re.S)
    if len(items) == 1:
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + items[0]
    y = 0.0
    body = []
    width = 0.0
    for s in items:
        w = float(re.search(r'width="([0-9.]+)"', s).group(1))
        h = float(re.search(r'height="([0-9.]+)"', s).group(1))
        body.append(f'<g transform="translate(0,{P.f(y)})">{s}</g>')
        y += h + 10
        width = max(width, w)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + P.svg(width, y, "".join(body), label="figures"))


FIGURES = {
    "distributions": lambda d, t, ctx: fig_distributions(d, t),
    "pca": lambda d, t, ctx: fig_pca(d, t),
    "correlation": lambda d, t, ctx: fig_correlation(d, t),
    "volcano": lambda d, t, ctx: fig_volcano(d, t, ctx["catalogue"], ctx["hinfo"], ctx["fdr"]),
}


def run_figures(inputs: dict, config: dict, dataset: str, outputs: dict[str, str], log: logging.Logger) -> None:
    """Standalone SVG figures of one data set for `snakemake --report` (same drawings as the HTML report)."""
    qc = {name: read_tsv(inputs[f"qc_{name}"]) for name in QC_NAMES}
    t = DatasetTables(uns=read_uns(inputs["adata"]), samples=read_tsv(inputs["samples"]), de=read_tsv(inputs["de"]),
                      gsea=pd.DataFrame(columns=["gene_set"]), scores=pd.DataFrame(), qc=qc)
    with open(inputs["catalogue"], encoding="utf-8") as fh:
        catalogue = yaml.safe_load(fh)
    hinfo = {h["id"]: h for h in catalogue.get("hypotheses", [])}
    ctx = {"catalogue": catalogue, "hinfo": hinfo, "fdr": config["hypotheses"]["fdr"]}
    for name, path in outputs.items():
        write_text(_svg_document(FIGURES[name](dataset, t, ctx)), path)
        log.info("figure %s: %s", name, path)
