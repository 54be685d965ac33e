"""Views of the evidence sections: mechanism cards, genes per data set, meta-analysis, methods.

Plain values for the templates (see `views`); figures arrive as `Markup`.
"""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd
import yaml

from ..pl.plots import fmt
from . import figures as F
from .tables import (
    NOT_AVAILABLE,
    DatasetTables,
    Model,
    ReportData,
    isnan,
    num,
    primary_rows,
    truthy,
)
from .views import KEY_GENES, Table, anchor, figure, table_view, verdict_class

# The reference implementations the numbers are tested against (tests/reference/*.R).
REFERENCE_VERSIONS = {"R limma": "3.54", "R GSVA": "1.46", "R edgeR": "3.40", "R metafor": "3.8",
                      "R decoupleR": "2.4", "R progeny": "1.20"}


def _p(value: object, permutations: int) -> str:
    """A permutation p of 0 as '< 1/permutations' (the smallest p the permutations can give)."""
    return f"< {fmt(1 / permutations)}" if permutations and num(value) == 0 else fmt(value)


def competitive_view(t: DatasetTables, set_name: str, p: pd.Series, permutations: int = 0) -> list[dict]:
    """The competitive tests of a set beside GSEA: camera (camera.tsv or the hypotheses row) and the
    set's percentile among random gene sets (contract 1); missing ones say "not available"."""
    out = []
    names = [n for n in (set_name, f"{set_name}_UP", f"{set_name}_DN")]
    gsea = t.gsea[t.gsea["gene_set"].astype(str).isin(names)]
    for _, g in gsea.iterrows():
        out.append({"test": f"GSEA (preranked, {g['gene_set']})",
                    "result": f"NES {fmt(g.get('nes'))}, p {_p(g.get('p_value'), permutations)}, "
                              f"FDR {_p(g.get('fdr'), permutations)}"})
    if not gsea.size:
        out.append({"test": "GSEA (preranked)", "result": NOT_AVAILABLE})
    camera = t.camera[t.camera["gene_set"].astype(str).isin(names)] if t.camera is not None else pd.DataFrame()
    if len(camera):
        for _, c in camera.iterrows():
            out.append({"test": f"camera ({c['gene_set']}, inter-gene correlation {fmt(c.get('correlation'))})",
                        "result": f"{c.get('direction')}, p {fmt(c.get('p_value'))}, FDR {fmt(c.get('fdr'))}"})
    elif not isnan(p.get("camera_p")):
        out.append({"test": "camera", "result": f"{p.get('camera_direction')}, p {fmt(p['camera_p'])}"
                    + (f" (estimated correlation: p {fmt(p['camera_p_estimated_cor'])})"
                       if not isnan(p.get("camera_p_estimated_cor")) else "")})
    else:
        out.append({"test": "camera", "result": NOT_AVAILABLE})
    pct = num(p.get("random_percentile"))
    out.append({"test": "random gene sets (size- and expression-matched)",
                "result": (f"percentile {pct:.0f} of {int(num(p['n_random_sets']))} sets"
                           if not isnan(pct) and not isnan(p.get("n_random_sets")) else
                           f"percentile {pct:.0f}" if not isnan(pct) else NOT_AVAILABLE)
                + (f"; competitive p {fmt(p['competitive_p'])}" if not isnan(p.get("competitive_p")) else "")})
    return out


def card_view(d: str, model: Model, hid: str, h: dict, t: DatasetTables, rows: pd.DataFrame,
              config: dict) -> dict | None:
    """Everything behind one cell of the verdict matrix."""
    test = str(h.get("test", "group"))
    continuous = rows[rows["test"].astype(str) == "continuous"] if "test" in rows.columns else rows.iloc[0:0]
    rows = rows.drop(index=continuous.index)
    if rows.empty:
        return None
    prim = rows[rows["primary"].map(truthy)]
    p = prim.iloc[0] if len(prim) else rows.iloc[0]
    cols = ["method", "effect", "ci_low", "ci_high", "hedges_g", "p_value", "permutation_p", "competitive_p",
            "random_percentile", "camera_p", "equivalence_p", "fdr", "observed", "verdict", "n_genes",
            "n_genes_in_set", "genes_missing", "note"]
    cols = [c for c in cols if c in rows.columns and rows[c].notna().any()]
    order = {m: i for i, m in enumerate(F.method_order(config, rows["method"].unique()))}
    rows = rows.assign(_o=rows["method"].map(order)).sort_values("_o").drop(columns="_o")
    card = {"id": d, "model": model, "anchor": anchor("res", d, hid), "verdict": str(p["verdict"]),
            "cls": verdict_class(p["verdict"]), "p": p, "test": test, "figures": [],
            "untestable": (rows["verdict"].astype(str).isin(["not_testable", "not_measurable"])).all(),
            "note": "" if isnan(p.get("note")) else str(p["note"]),
            "missing": "" if isnan(p.get("genes_missing")) else str(p.get("genes_missing") or ""),
            "table": table_view(rows[cols]), "competitive": [],
            "continuous": table_view(continuous[[c for c in ["method", "effect", "ci_low", "ci_high", "p_value",
                                                              "fdr", "predicted", "observed", "verdict", "note"]
                                                 if c in continuous.columns]]) if len(continuous) else None}
    if card["untestable"]:
        return card
    if len(rows) > 1:
        card["figures"].append(("agreement", figure(F.fig_agreement(rows, test))))
    if test == "group":
        set_name = str(h.get("gene_set"))
        card["set_name"] = set_name
        card["figures"].append(("scores", figure(F.fig_scores(d, t, set_name, rows, config))))
        # gene-level heatmaps and GSEA running-sum curves for the hypotheses that carry a verdict;
        # supporting, descriptive and context sets (large MSigDB footprints) keep their numbers
        # (GSEA NES/p/FDR in the competitive table) and score plots, which keeps the page small
        # with catalogue v2's ~60 hypotheses per model and more models (issue 15's contrasts)
        if str(h.get("role", "primary")) == "primary":
            card["figures"].append(("set_heatmap", figure(F.fig_set_heatmap(d, t, set_name))))
            for name in F._gsea_names(t, set_name):
                card["figures"].append(("running", figure(F.fig_running(
                    d, t, name, config.get("gsea", {}).get("permutations", 0)))))
        card["competitive"] = competitive_view(t, set_name, p, config.get("gsea", {}).get("permutations", 0))
    elif test == "gene":
        card["gene"] = str(h.get("gene"))
        card["figures"].append(("gene", figure(F.fig_gene_values(d, t, card["gene"], p))))
    elif test == "coupling":
        card["figures"].append(("coupling", figure(F.fig_coupling(d, t, str(h.get("gene_set")),
                                                                  str(h.get("with_set")), str(p["method"]), p))))
    return card


def mechanisms_view(config: dict, model_ids: list[str], data: ReportData, hinfo: dict[str, dict],
                    models: dict[str, Model]) -> list[dict]:
    """One block per hypothesis, one evidence card per model (model id, contract 2 of issue 15)."""
    hyps = data.hypotheses
    out = []
    for hid, h in hinfo.items():
        target = h.get("gene_set") or h.get("gene") or ""
        if h.get("with_set"):
            target = f"{target} vs {h['with_set']}"
        cards = []
        for d in model_ids:
            rows = hyps[(hyps["hypothesis"] == hid) & (hyps["model"] == d)]
            card = card_view(d, models[d], hid, h, data.models[d], rows, config) if len(rows) else None
            if card:
                cards.append(card)
        out.append({"id": hid, "anchor": anchor("hyp", hid), "h": h, "target": target, "cards": cards})
    return out


def hypotheses_table(data: ReportData, models: dict[str, Model]) -> Table:
    """Every primary-method row of every model in one sortable, searchable table."""
    prim = primary_rows(data.hypotheses).copy()
    prim["model"] = prim["model"].map(lambda d: models[d].label if d in models else d)
    cols = [c for c in ["model", "dataset", "contrast", "comparison", "hypothesis", "method", "effect", "ci_low", "ci_high", "hedges_g",
                        "p_value", "fdr", "competitive_p", "random_percentile", "camera_p", "verdict",
                        "methods_agreeing", "n_resistant", "n_sensitive"]
            if c in prim.columns and prim[c].notna().any()]
    # a run of plain data sets (no contrasts, resistance only) shows no contrast/comparison columns
    if not (prim["contrast"].astype(str) != "").any():
        cols = [c for c in cols if c not in ("contrast", "comparison")]
    return table_view(prim[cols], sortable=True)


def genes_view(d: str, t: DatasetTables, catalogue: dict, hinfo: dict[str, dict], config: dict) -> dict:
    de = t.de
    key = de[de["gene"].isin(KEY_GENES)]
    key = key[[c for c in ["gene", "logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B", "low_expression"]
               if c in key.columns]]
    g = t.gsea[[c for c in ["gene_set", "n_genes", "es", "nes", "p_value", "fdr", "leading_edge", "note"]
                if c in t.gsea.columns]]
    return {"id": d, "anchor": anchor("genes", d), "n_de": len(de),
            "volcano": figure(F.fig_volcano(d, t, catalogue, hinfo, config["hypotheses"]["fdr"]),
                              anchor("fig", "volcano", d)),
            "key": table_view(key, verdict_col=None), "n_gsea": len(g), "gsea": table_view(g, verdict_col=None,
                                                                                        sortable=True),
            "camera": table_view(t.camera, verdict_col=None, sortable=True) if t.camera is not None else None,
            "top": table_view(de.head(30), verdict_col=None, sortable=True)}


def meta_view(model_ids: list[str], data: ReportData, hinfo: dict[str, dict]) -> dict:
    """One forest per meta.tsv row (hypothesis x stratum); the first row of a hypothesis (the
    headline stratum) keeps the anchor the verdict matrix links to."""
    meta, hyps = data.meta, data.hypotheses
    forests = []
    seen: set[str] = set()
    for _, m in meta.iterrows():
        hid = str(m["hypothesis"])
        test = str(hinfo.get(hid, {}).get("test", "group"))
        div_id = anchor("meta", hid) if hid not in seen else anchor("meta", hid, m.get("stratum"))
        seen.add(hid)
        forests.append({"id": hid, "anchor": div_id, "m": m, "cls": verdict_class(m["verdict"]),
                        "stratum": "" if isnan(m.get("stratum")) else str(m["stratum"]),
                        "fig": figure(F.fig_forest(hid, m, hyps, model_ids, test)),
                        "pi": (f"95% prediction interval {fmt(m['pi_low'])} to {fmt(m['pi_high'])}"
                               if not isnan(m.get("pi_low")) else "")})
    cols = [c for c in ["hypothesis", "stratum", "method", "effect_measure", "k", "models", "estimate", "ci_low",
                        "ci_high", "pi_low", "pi_high", "p_value", "fdr", "tau2", "i2", "i2_ci_low", "i2_ci_high",
                        "q_p", "vote_up", "vote_down", "loo_min", "loo_max", "predicted", "observed", "verdict",
                        "weights", "descriptive_models", "note"] if c in meta.columns and meta[c].notna().any()]
    return {"forests": forests, "table": table_view(meta[cols], sortable=True)}


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for pkg in ["igf1r-resistance", "numpy", "scipy", "pandas", "anndata", "scanpy", "gseapy", "snakemake",
                "jinja2"]:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return versions


def methods_view(config: dict, data: ReportData) -> dict:
    catalogue, qc_settings = data.catalogue, data.qc_settings
    params = {"qc": qc_settings, "report display": {k: list(v) if isinstance(v, tuple) else v
                                                    for k, v in F.DISPLAY.items()}}
    floors = {d: t.noise_floor for d, t in data.datasets.items()}
    probe_rules = {d: (t.uns.get("probe_collapse") or {}).get("rule", NOT_AVAILABLE) for d, t in data.datasets.items()}
    return {**run_costs_view(data.benchmarks),
        "caveats": catalogue.get("caveats", []), "versions": software_versions(), "references": REFERENCE_VERSIONS,
        "sets": [{"name": n, "up": ", ".join(s.get("up", [])), "down": ", ".join(s.get("down", [])),
                  "source": s.get("source", "")} for n, s in (catalogue.get("gene_sets") or {}).items()],
        "catalogue": catalogue, "params": yaml.safe_dump(params, sort_keys=False),
        "config_text": yaml.safe_dump(config, sort_keys=False), "floors": floors, "probe_rules": probe_rules,
        "display": F.DISPLAY, "qc": qc_settings,
    }


def run_costs_view(bench: pd.DataFrame | None) -> dict:
    """Run time and peak memory per job (Snakemake's benchmark files)."""
    if bench is None or bench.empty:
        return {"bench": None, "bench_jobs": 0, "bench_total": "0"}
    return {"bench": table_view(bench.sort_values(["step", "target"]), numeric={"s", "max_rss_mb"},
                                verdict_col=None, sortable=True),
            "bench_jobs": len(bench), "bench_total": fmt(bench["s"].sum())}
