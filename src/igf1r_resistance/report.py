"""The self-contained HTML report: one file, no external requests, every string escaped.

Report code draws tables the pipeline already wrote; it computes no statistics. Strings
from GEO metadata and config are untrusted and pass through `esc` before they reach the
page (a sample title of `<img src=x onerror=alert(1)>` shows as text).
"""

from __future__ import annotations

import html
import json
import logging
import math
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from .io import read_tsv, write_text

VERDICT_COLOURS = {
    "supported": "#1b7837",
    "contradicted": "#b2182b",
    "inconclusive": "#bdbdbd",
    "not_testable": "#ffffff",
}
KEY_GENES = ["IGF1R", "IGF1", "IGF2", "INSR", "ABCB1", "ABCC1", "ABCG2"]
GEO_URL = "https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc="

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#222;line-height:1.45}
header{background:#243b53;color:#fff;padding:1.2em 2em}header h1{margin:0;font-size:1.6em}
main{padding:1em 2em;max-width:1400px}nav a{color:#cfe3ff;margin-right:1em}
h2{border-bottom:2px solid #243b53;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.verdict{font-weight:600;text-align:center}
.v-supported{background:#1b7837;color:#fff}.v-contradicted{background:#b2182b;color:#fff}
.v-inconclusive{background:#e0e0e0}.v-not_testable{background:#fff;color:#888}
.note{color:#555;font-size:.9em}.caveat{background:#fff8e1;border-left:4px solid #f0b429;padding:.5em 1em}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:.8em}
details{margin:.5em 0}summary{cursor:pointer;font-weight:600}
"""


def esc(value: object) -> str:
    """HTML-escape any value (None and NaN become an empty string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def fmt(value: object, digits: int = 3) -> str:
    """Numbers to short text: 3 significant digits, scientific below 1e-3."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return esc(value)
    if math.isnan(x):
        return ""
    if x != 0 and abs(x) < 1e-3:
        return f"{x:.2e}"
    return f"{x:.{digits}g}"


def table_html(frame: pd.DataFrame, numeric: set[str] | None = None, verdict_col: str | None = "verdict",
               max_rows: int | None = None) -> str:
    """A DataFrame as an escaped HTML table; numeric columns right-aligned and shortened."""
    numeric = numeric or {c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}
    rows = frame if max_rows is None else frame.head(max_rows)
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = []
    for _, r in rows.iterrows():
        cells = []
        for c in frame.columns:
            if c == verdict_col:
                cells.append(f'<td class="verdict v-{esc(r[c])}">{esc(r[c])}</td>')
            elif c in numeric:
                cells.append(f'<td class="num">{fmt(r[c])}</td>')
            else:
                cells.append(f"<td>{esc(r[c])}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if max_rows is not None and len(frame) > max_rows:
        more = f'<p class="note">First {max_rows} of {len(frame)} rows; the full table is in the results folder.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def anchor(*parts: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else "_" for ch in str(p)) for p in parts)


# --------------------------------------------------------------------------- sections


def section_summary(meta: pd.DataFrame, hyps: pd.DataFrame, datasets: list[str], info: dict[str, dict],
                    statements: dict[str, str]) -> str:
    primary = hyps[hyps["primary"].astype(bool)]
    head = "<th>hypothesis</th><th>statement</th>" + "".join(
        f"<th>{esc(d)}<br><span class='note'>{esc(info[d].get('drug', ''))}</span></th>" for d in datasets
    ) + "<th>meta-analysis</th>"
    rows = []
    for hid in primary["hypothesis"].drop_duplicates():
        cells = [f"<td><a href='#{anchor('hyp', hid)}'>{esc(hid)}</a></td><td>{esc(statements.get(hid, ''))}</td>"]
        for d in datasets:
            sub = primary[(primary["hypothesis"] == hid) & (primary["dataset"] == d)]
            if sub.empty:
                cells.append("<td></td>")
                continue
            r = sub.iloc[0]
            title = f"effect {fmt(r['effect'])}, FDR {fmt(r['fdr'])}, methods agreeing {r['methods_agreeing']}"
            cells.append(
                f"<td class='verdict v-{esc(r['verdict'])}' title='{esc(title)}'>"
                f"<a href='#{anchor('res', d, hid)}' style='color:inherit'>{esc(r['verdict'])}</a></td>"
            )
        m = meta[meta["hypothesis"] == hid]
        if m.empty:
            cells.append("<td></td>")
        else:
            r = m.iloc[0]
            cells.append(f"<td class='verdict v-{esc(r['verdict'])}'><a href='#{anchor('meta', hid)}' "
                         f"style='color:inherit'>{esc(r['verdict'])}</a></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<section id='summary'><h2>Summary</h2>"
        "<p>Question: do the resistant samples of these data sets show the IGF1R mechanisms of "
        "Yuan et al. (Oncol Lett 2018;15:41-47): IGF1R up, PI3K/AKT and MAPK signalling, proliferation, "
        "anti-apoptosis, ABC transporters and ECM? Each cell is the verdict of the primary scoring method "
        "in one data set; the last column pools the data sets by random-effects meta-analysis.</p>"
        f"<table id='verdict-matrix'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<p class='note'>supported = predicted direction with FDR below the threshold; contradicted = "
        "opposite direction with FDR below the threshold; inconclusive = neither; not_testable = too few "
        "of the set's genes measured. Hover a cell for effect, FDR and how many methods agree.</p></section>"
    )


def section_data(d: str, info: dict, samples: pd.DataFrame, uns: dict) -> str:
    ds = uns.get("dataset", {})
    log2 = uns.get("log2", {})
    probes = uns.get("probe_collapse", {})
    sources = uns.get("sources", {})
    link = f"<a href='{GEO_URL}{esc(d)}'>{esc(d)}</a>"
    note = f"<p class='caveat'>{esc(info.get('note'))}</p>" if info.get("note") else ""
    cols = [c for c in ["sample", "group", "title", "group_value", "source_name_ch1"] if c in samples.columns]
    quant = ", ".join(f"{k.replace('quantile_', '')} = {fmt(v, 4)}" for k, v in log2.items() if k.startswith("quantile_"))
    return (
        f"<section id='{anchor('data', d)}'><h3>{link}: {esc(info.get('model', ''))}</h3>{note}"
        "<table>"
        f"<tr><th>drug</th><td>{esc(info.get('drug'))}</td></tr>"
        f"<tr><th>model type</th><td>{esc(info.get('model_type'))}</td></tr>"
        f"<tr><th>series title</th><td>{esc(ds.get('series_title'))}</td></tr>"
        f"<tr><th>platform</th><td>{esc(ds.get('platform') or sources.get('platform'))}</td></tr>"
        f"<tr><th>groups</th><td>field <code>{esc(ds.get('group_field'))}</code>; resistant = regex "
        f"<code>{esc(ds.get('group_resistant_regex'))}</code> ({esc(ds.get('n_resistant'))} samples), sensitive = "
        f"<code>{esc(ds.get('group_sensitive_regex'))}</code> ({esc(ds.get('n_sensitive'))}), excluded "
        f"{esc(ds.get('n_excluded'))}</td></tr>"
        f"<tr><th>log2</th><td>{esc(log2.get('reason'))}<br><span class='note'>raw quantiles: {esc(quant)}; "
        f"values &le; 0 set missing: {esc(log2.get('n_nonpositive_set_missing'))}</span></td></tr>"
        f"<tr><th>probes &rarr; genes</th><td>{esc(probes.get('n_probes'))} probes, "
        f"{esc(probes.get('n_probes_without_symbol'))} without symbol, {esc(probes.get('n_multi_gene_probes'))} "
        f"multi-gene ({esc(probes.get('n_genes_from_multi_gene_probes'))} genes kept only through one), "
        f"{esc(probes.get('n_probe_symbols_updated_to_current_hgnc'))} symbols updated to current HGNC; "
        f"{esc(probes.get('n_genes'))} genes kept. <span class='note'>{esc(probes.get('rule'))}</span></td></tr>"
        f"<tr><th>sources</th><td>{esc(sources.get('series_matrix'))}<br>{esc(sources.get('annotation'))}</td></tr>"
        "</table>"
        f"<details><summary>Samples ({len(samples)})</summary>{table_html(samples[cols], numeric=set(), verdict_col=None)}</details>"
        "</section>"
    )


def section_results(d: str, hyps: pd.DataFrame, de: pd.DataFrame, gsea: pd.DataFrame, fdr: float) -> str:
    sub = hyps[hyps["dataset"] == d]
    prim = sub[sub["primary"].astype(bool)]
    cols = ["hypothesis", "method", "effect", "ci_low", "ci_high", "hedges_g", "p_value", "permutation_p", "fdr",
            "predicted", "observed", "verdict", "methods_agreeing", "n_genes", "n_genes_in_set", "note"]
    rows = []
    for _, r in prim.iterrows():
        rows.append(f"<tr id='{anchor('res', d, r['hypothesis'])}'>" + "".join(
            f"<td class='verdict v-{esc(r[c])}'>{esc(r[c])}</td>" if c == "verdict"
            else f"<td class='num'>{fmt(r[c])}</td>" if c in {"effect", "ci_low", "ci_high", "hedges_g", "p_value",
                                                              "permutation_p", "fdr"}
            else f"<td>{esc(r[c])}</td>" for c in cols) + "</tr>")
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    key = de[de["gene"].isin(KEY_GENES)][["gene", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B",
                                          "low_expression"]]
    return (
        f"<section id='{anchor('results', d)}'><h3>{esc(d)}: hypotheses (primary method)</h3>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<details><summary>All methods ({len(sub)} rows)</summary>"
        f"{table_html(sub[['hypothesis', 'method', 'effect', 'ci_low', 'ci_high', 'p_value', 'fdr', 'observed', 'verdict']])}"
        "</details>"
        f"<h4>Key genes (limma, resistant - sensitive)</h4>{table_html(key, verdict_col=None)}"
        "<p class='note'>low_expression = average log2 expression below the data set's configured quantile: "
        "changes there are at noise level and are not findings.</p>"
        f"<details><summary>Preranked GSEA on the moderated t ({len(gsea)} sets)</summary>"
        f"{table_html(gsea[['gene_set', 'n_genes', 'es', 'nes', 'p_value', 'fdr']], verdict_col=None)}</details>"
        f"<details><summary>Top 30 genes by p value</summary>{table_html(de.head(30), verdict_col=None)}</details>"
        "</section>"
    )


def section_meta(meta: pd.DataFrame) -> str:
    rows = []
    cols = ["hypothesis", "effect_measure", "k", "datasets", "estimate", "ci_low", "ci_high", "p_value", "fdr",
            "tau2", "i2", "predicted", "observed", "verdict", "note"]
    for _, r in meta.iterrows():
        rows.append(f"<tr id='{anchor('meta', r['hypothesis'])}'>" + "".join(
            f"<td class='verdict v-{esc(r[c])}'>{esc(r[c])}</td>" if c == "verdict"
            else f"<td class='num'>{fmt(r[c])}</td>" if c in {"estimate", "ci_low", "ci_high", "p_value", "fdr",
                                                              "tau2", "i2"}
            else f"<td>{esc(r[c])}</td>" for c in cols) + "</tr>")
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    return (
        "<section id='meta'><h2>Across data sets</h2><p>DerSimonian-Laird random-effects meta-analysis of "
        "Hedges' g of the primary method (couplings: Fisher z of Spearman's rho), I&sup2; in percent.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def section_hypotheses(catalogue: dict) -> str:
    rows = []
    for h in catalogue.get("hypotheses", []):
        target = h.get("gene_set") or h.get("gene")
        if h.get("with_set"):
            target = f"{target} vs {h['with_set']}"
        rows.append(f"<tr id='{anchor('hyp', h['id'])}'><td>{esc(h['id'])}</td><td>{esc(h.get('statement'))}</td>"
                    f"<td>{esc(h.get('test', 'group'))}</td><td>{esc(target)}</td><td>{esc(h.get('predicted'))}</td>"
                    f"<td class='note'>{esc(h.get('source'))}</td></tr>")
    sets = "".join(
        f"<tr><td>{esc(name)}</td><td>{esc(', '.join(spec.get('up', [])))}</td>"
        f"<td>{esc(', '.join(spec.get('down', [])))}</td><td class='note'>{esc(spec.get('source'))}</td></tr>"
        for name, spec in catalogue.get("gene_sets", {}).items()
    )
    return (
        f"<section id='catalogue'><h2>Mechanisms tested</h2><p>Catalogue version {esc(catalogue.get('version'))}; "
        f"source: {esc(catalogue.get('source'))}.</p>"
        "<table><thead><tr><th>id</th><th>statement</th><th>test</th><th>gene set / gene</th><th>predicted</th>"
        f"<th>source</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<details><summary>Gene sets</summary><table><thead><tr><th>set</th><th>up</th><th>down</th><th>source</th>"
        f"</tr></thead><tbody>{sets}</tbody></table></details></section>"
    )


def section_methods(config: dict, catalogue: dict) -> str:
    caveats = "".join(f"<li>{esc(c)}</li>" for c in catalogue.get("caveats", []))
    versions = {"python": platform.python_version()}
    for pkg in ["igf1r-resistance", "numpy", "scipy", "pandas", "anndata", "scanpy", "gseapy", "snakemake"]:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    vtable = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in versions.items())
    sc = config["scoring"]
    hy = config["hypotheses"]
    return (
        "<section id='methods'><h2>Methods and caveats</h2>"
        "<p>Series matrices are read from GEO (or a local mirror); values are log2-transformed by GEO2R's rule "
        "unless configured; probes are mapped to current HGNC symbols and one probe per gene is kept (highest "
        "mean expression). Per-sample gene-set scores: "
        f"{esc(', '.join(sc['methods']))}; the verdict uses <b>{esc(sc['primary'])}</b>. Group differences: "
        "difference of mean scores (resistant - sensitive) with Welch 95% CI, Hedges' g, Welch p and an "
        "exact (or seeded Monte-Carlo) label-permutation p; "
        f"the verdict uses the {esc(hy['p_value'])} p, BH-adjusted across all hypotheses x methods of a data set, "
        f"with FDR threshold {esc(hy['fdr'])}. Differential expression: limma moderated t (lmFit on ~0 + group, "
        "contrast resistant - sensitive, eBayes, BH). Competitive test: preranked GSEA on the moderated t "
        f"({esc(config['gsea']['permutations'])} permutations, seed {esc(config['gsea']['seed'])}).</p>"
        f"<div class='caveat'><b>Caveats</b><ul>{caveats}</ul></div>"
        "<h3>Why is a verdict inconclusive?</h3><ul>"
        "<li>Few samples: with 3 vs 3 samples only large, consistent shifts reach FDR &lt; 0.05.</li>"
        "<li>Many tests: the FDR is adjusted over every hypothesis and method of a data set.</li>"
        "<li>The mechanism may act through protein activity (phosphorylation), invisible to mRNA arrays.</li>"
        "<li>Methods disagree: the summary counts how many methods reach the primary verdict.</li>"
        "<li>Genes at noise level: on MAS5 arrays, low intensities carry little signal.</li></ul>"
        f"<h3>Software versions</h3><table>{vtable}</table>"
        f"<h3>Configuration used</h3><pre>{esc(yaml.safe_dump(config, sort_keys=False))}</pre></section>"
    )


# --------------------------------------------------------------------------- assembly


def build_report(config: dict, datasets: list[str], uns: dict[str, dict], samples: dict[str, pd.DataFrame],
                 de: dict[str, pd.DataFrame], gsea: dict[str, pd.DataFrame], hyps: pd.DataFrame,
                 meta: pd.DataFrame, catalogue: dict) -> str:
    """The report as one HTML string."""
    info = {d: config["datasets"][d] for d in datasets}
    statements = {h["id"]: h.get("statement", "") for h in catalogue.get("hypotheses", [])}
    for h in config["hypotheses"].get("extra", []):
        statements[h["id"]] = h.get("statement", "")
    title = config.get("report", {}).get("title", "IGF1R resistance report")
    parts = [section_summary(meta, hyps, datasets, info, statements)]
    parts.append("<section id='data'><h2>Data</h2>")
    parts += [section_data(d, info[d], samples[d], uns[d]) for d in datasets]
    parts.append("</section><section id='results'><h2>Mechanisms per data set</h2>")
    parts += [section_results(d, hyps, de[d], gsea[d], config["hypotheses"]["fdr"]) for d in datasets]
    parts.append("</section>")
    parts.append(section_meta(meta))
    parts.append(section_hypotheses(catalogue))
    parts.append(section_methods(config, catalogue))
    nav = "".join(f"<a href='#{s}'>{s}</a>" for s in ["summary", "data", "results", "meta", "catalogue", "methods"])
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:; script-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><nav>{nav}</nav></header><main>{''.join(parts)}</main></body></html>"
    )


def _jsonable_uns(uns) -> dict:
    return json.loads(json.dumps({k: v for k, v in uns.items()}, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def run_report(inputs: dict, config: dict, datasets: list[str], out: str, log: logging.Logger) -> None:
    """Read the tables the pipeline wrote and write the report."""
    import anndata as ad

    uns, samples, de, gsea = {}, {}, {}, {}
    for i, d in enumerate(datasets):
        a = ad.read_h5ad(inputs["adata"][i], backed="r")
        uns[d] = _jsonable_uns(a.uns)
        a.file.close()
        samples[d] = read_tsv(inputs["samples"][i])
        de[d] = read_tsv(inputs["de"][i])
        gsea[d] = read_tsv(inputs["gsea"][i])
    hyps = read_tsv(inputs["hypotheses"])
    meta = read_tsv(inputs["meta"])
    with open(inputs["catalogue"], encoding="utf-8") as fh:
        catalogue = yaml.safe_load(fh)
    text = build_report(config, datasets, uns, samples, de, gsea, hyps, meta, catalogue)
    write_text(text, out)
    log.info("report written: %s (%.1f kB)", out, Path(out).stat().st_size / 1000)
