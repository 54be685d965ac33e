"""The report's figures: pipeline tables in, inline SVG out (drawn by `plots`).

Each function takes one data set's tables (or the hypotheses and meta-analysis tables) and
returns SVG markup; `plots` escapes every text it draws. No statistics are computed here.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..pl import plots as P
from ..pl.plots import esc, fmt
from .tables import DatasetTables, number
from .tables import isnan as _isnan
from .tables import num as _num
from .tables import truthy as _bool

VERDICT_COLOURS = P.VERDICT_COLOURS
# How dense plots are thinned (the captions and the methods section quote these).
DISPLAY = {
    "max_points_per_group": 40,  # strip plots: points drawn per group (boxes use all samples)
    "volcano_grid": (80, 50),  # volcano background: genes counted per screen cell
    "volcano_top_genes": 40,  # volcano: most significant non-mechanism genes drawn as points
    "volcano_labels": 12,  # volcano: mechanism genes labelled (single-gene hypotheses always)
    "sample_table_open_max": 60,  # sample tables longer than this start collapsed
    "heatmap_max_genes": 12,  # set heatmaps: genes drawn (largest resistant - sensitive z difference)
}


def method_order(config: dict, methods) -> list[str]:
    """Scoring methods in config order, unknown ones last."""
    order = list(config["scoring"]["methods"])
    return [m for m in order if m in set(methods)] + sorted(set(methods) - set(order))


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
    # many columns (single cells): a short tip per cell keeps the figure small
    hovers = [[f"{shown[i]} \u00d7 {shown[j]}\n{what} {fmt(values[i, j], 4)}" if len(labels) <= 40
               else f"{what} {fmt(values[i, j], 2)}" for j in range(len(labels))] for i in range(len(labels))]
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
    """Strip + box of the set's per-sample scores of the primary method (the other methods'
    effects are in the card's agreement forest plot)."""
    groups = t.qc["pca"][["sample", "group"]].astype(str)
    scores = t.scores[t.scores["gene_set"] == set_name].copy()
    scores["sample"] = scores["sample"].astype(str)
    scores = scores.merge(groups, on="sample", how="inner")
    panels = []
    by_method = {str(r["method"]): r for _, r in rows.iterrows()}
    primary = config["scoring"]["primary"]
    for m in [m for m in method_order(config, scores["method"].unique()) if m == primary]:
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
    shown = f"{len(genes)} genes"
    if len(genes) > DISPLAY["heatmap_max_genes"]:
        # large sets (MSigDB footprints of 100-200 genes) would make each card megabytes:
        # draw the genes that separate the groups most, and say so in the legend
        groups = np.asarray(col_groups)
        gap = (z.loc[:, groups == "resistant"].mean(axis=1) - z.loc[:, groups == "sensitive"].mean(axis=1)).abs()
        keep = set(gap.fillna(0).sort_values(ascending=False, kind="stable").index[: DISPLAY["heatmap_max_genes"]])
        shown = f"the {DISPLAY['heatmap_max_genes']} of {len(genes)} genes that differ most between the groups"
        genes = [g for g in genes if g in keep]
        z, x = z.reindex(index=genes), x.reindex(index=genes)
    hovers = []
    for gi, g in enumerate(genes):
        row = []
        for j, c in enumerate(col_labels):
            who = f"{c} ({col_groups[j]})" if not binned else c
            if len(col_labels) > 40:  # many columns: a short tip per cell keeps the figure small
                row.append(f"{g} {c}: z {fmt(z.iat[gi, j], 2)}")
                continue
            row.append(f"{g} ({direction[g]}) \u00d7 {who}\n{'mean ' if binned else ''}z {fmt(z.iat[gi, j])}, "
                       f"log2 {fmt(x.iat[gi, j])}")
        hovers.append(row)
    marks = ["up" if direction[g] == "up" else "down" for g in genes] if set(direction.values()) != {"up"} else None
    legend_text = (f"{shown}: z-score of {value_label(t)} per gene across samples (blue -2.5 .. white 0 .. red +2.5); "
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
                + (" (low expression)" if _bool(r.get("low_expression", False)) else ""))

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


def _meta_models(m: pd.Series) -> tuple[dict[str, str], set[str] | None]:
    """Pooled model -> weight, and the models of the row's stratum (None: every data set; older meta.tsv)."""
    if not _isnan(m.get("models")):  # meta.tsv contract 6: ';'-joined models and weights, one row per stratum
        pooled = [x for x in str(m["models"]).split(";") if x]
        descriptive = [x for x in ("" if _isnan(m.get("descriptive_models")) else str(m["descriptive_models"]))
                       .split(";") if x]
        weights = ("" if _isnan(m.get("weights")) else str(m["weights"])).split(";")
        return dict(zip(pooled, weights)), set(pooled) | set(descriptive)
    return dict(zip(str(m.get("datasets", "")).split(","), str(m.get("weights", "")).split(","))), None


def fig_forest(hid: str, m: pd.Series, hyps: pd.DataFrame, models: list[str], test: str) -> str:
    """Forest plot of one meta.tsv row: the models of its stratum (model ids), the pooled diamond
    and the 95% prediction interval (the line through the diamond)."""
    method = str(m["scoring_method"]) if not _isnan(m.get("scoring_method")) else str(m["method"])
    weights, in_stratum = _meta_models(m)
    model_col = "model" if "model" in hyps.columns else "dataset"
    rows = []
    for d in models:
        if in_stratum is not None and d not in in_stratum:
            continue
        sub = hyps[(hyps["hypothesis"] == hid) & (hyps[model_col] == d) & (hyps["method"].astype(str) == method)]
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
                                hover=f"{d}: {fmt(est)} (95% CI {fmt(lo)} to {fmt(hi)}), n = {number(r.get('n_resistant'))}"
                                      f" vs {number(r.get('n_sensitive'))}, verdict {r['verdict']}"))
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


