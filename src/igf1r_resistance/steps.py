"""One function per workflow step: read the step's inputs, call the library, write outputs.

These are the I/O edge of the library; `scripts/*.py` only pass Snakemake's paths and
params in. Every output is written atomically (temporary name, then rename).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from . import genesets as gs
from .errors import InputFormatError
from .io import read_tsv, write_h5ad, write_text, write_tsv

# --------------------------------------------------------------------------- helpers


def load_expression(adata_path: str | Path):
    """AnnData, genes x samples DataFrame and the sample groups of a prepared data set."""
    import anndata as ad

    adata = ad.read_h5ad(adata_path)
    expr = pd.DataFrame(np.asarray(adata.X, dtype=float).T, index=adata.var_names.astype(str),
                        columns=adata.obs_names.astype(str))
    groups = adata.obs["group"].astype(str)
    return adata, expr, groups


def scorable_genes(expr: pd.DataFrame) -> pd.DataFrame:
    """Genes measured in every sample: scoring methods rank whole samples and need no gaps."""
    return expr[np.isfinite(expr.to_numpy()).all(axis=1)]


def set_min_sizes(sets: list[gs.GeneSet], hypotheses: list[gs.Hypothesis], default: int) -> dict[str, int]:
    """Per set, the smallest number of measured genes any hypothesis using it accepts."""
    sizes = {s.name: default for s in sets}
    for h in hypotheses:
        if h.min_genes is not None:
            for name in (h.gene_set, h.with_set):
                if name:
                    sizes[name] = min(sizes[name], h.min_genes)
    return sizes


def used_sets(sets: list[gs.GeneSet], measured: pd.Index, min_sizes: dict[str, int]) -> list[gs.GeneSet]:
    """Sets restricted to measured genes, keeping those with enough measured up genes."""
    out = []
    for s in sets:
        r = gs.restrict(s, measured)
        if len(r.up) >= min_sizes[s.name]:
            out.append(r)
    return out


# --------------------------------------------------------------------------- steps


def run_prepare(dataset: str, settings: dict, series: str, annotation: str, hgnc: str,
                out_adata: str, out_samples: str, out_probes: str, log: logging.Logger) -> None:
    from .prepare import prepare_dataset
    from .symbols import SymbolMapper

    table = read_tsv(annotation)
    table["symbol"] = table["symbol"].fillna("").astype(str)
    table["probe"] = table["probe"].astype(str)
    mapper = SymbolMapper.from_file(hgnc)
    sources = {
        "series_matrix": series,
        "annotation": str(table["source"].iloc[0]) if "source" in table and len(table) else annotation,
        "platform": str(table["platform"].iloc[0]) if "platform" in table and len(table) else "",
        "hgnc": hgnc,
    }
    prepared = prepare_dataset(series, table, dataset, settings, sources=sources, rename=mapper.current)
    a = prepared.adata
    log.info("log2: %s", a.uns["log2"]["reason"])
    log.info("probes -> genes: %s", a.uns["probe_collapse"])
    log.info("groups from field %r: %d resistant, %d sensitive, %d excluded", a.uns["dataset"]["group_field"],
             a.uns["dataset"]["n_resistant"], a.uns["dataset"]["n_sensitive"], a.uns["dataset"]["n_excluded"])
    write_tsv(prepared.probes, out_probes)
    write_tsv(prepared.samples, out_samples)
    write_h5ad(a, out_adata)


def run_scoring(adata_path: str, gene_set_config: dict, extra: list[dict], scoring: dict,
                out_scores: str, out_gmt: str, log: logging.Logger) -> None:
    from .scoring import score_gene_sets

    _, expr, _ = load_expression(adata_path)
    complete = scorable_genes(expr)
    log.info("%d of %d genes measured in every sample are used for scoring", len(complete), len(expr))
    _, sets, hyps = gs.collect(gene_set_config["catalogue"], gene_set_config["gmt"], extra)
    mins = set_min_sizes(sets, hyps, gene_set_config["min_size"])
    usable = used_sets(sets, complete.index, mins)
    skipped = sorted({s.name for s in sets} - {s.name for s in usable})
    if skipped:
        log.info("sets with too few measured genes, not scored: %s", ", ".join(skipped))
    scores = score_gene_sets(complete, usable, list(scoring["methods"]), min_size=1, seed=scoring["seed"])
    log.info("scored %d sets x %d samples with %s", len(usable), complete.shape[1], ", ".join(scoring["methods"]))
    restricted = [gs.restrict(s, complete.index) for s in sets]
    gs_lines = [s for s in restricted if s.genes]
    write_text(gs.format_gmt(gs_lines), out_gmt)
    write_tsv(scores, out_scores)


def run_de(adata_path: str, de_config: dict, out: str, log: logging.Logger) -> None:
    from .limma import moderated_t

    _, expr, groups = load_expression(adata_path)
    table = moderated_t(expr, groups)
    threshold = float(np.nanquantile(table["AveExpr"], de_config["low_expression_quantile"]))
    table["low_expression"] = table["AveExpr"] < threshold
    log.info("limma: %d genes, %d with adj.P.Val < 0.05; low_expression below AveExpr %.3f (quantile %.2f)",
             len(table), int((table["adj.P.Val"] < 0.05).sum()), threshold, de_config["low_expression_quantile"])
    table = table.sort_values(["P.Value", "gene"], na_position="last")
    write_tsv(table, out)


def run_gsea(de_path: str, gmt_path: str, gsea_config: dict, min_size: int, out: str,
             log: logging.Logger) -> None:
    from .gsea import preranked

    de = read_tsv(de_path)
    sets = _read_used_gmt(gmt_path)
    table = preranked(de, sets, permutations=gsea_config["permutations"], seed=gsea_config["seed"],
                      min_size=min_size)
    log.info("preranked GSEA: %d sets tested, %d with FDR < 0.25", len(table), int((table["fdr"] < 0.25).sum()))
    write_tsv(table, out)


def _read_used_gmt(path: str) -> list[gs.GeneSet]:
    """The data set's GMT back as sets, rejoining NAME_UP / NAME_DN pairs written for up/down sets."""
    sets = gs.read_gmt(path)
    by_name = {s.name: s for s in sets}
    out = []
    for s in sets:
        if s.name.endswith("_DN") and f"{s.name[:-3]}_UP" in by_name:
            continue
        if s.name.endswith("_UP") and f"{s.name[:-3]}_DN" in by_name:
            out.append(gs.GeneSet(s.name[:-3], s.up, by_name[f"{s.name[:-3]}_DN"].up, s.source))
        else:
            out.append(s)
    return out


def run_hypotheses(dataset: str, adata_path: str, scores_path: str, gene_set_config: dict,
                   hyp_config: dict, scoring: dict, out: str, log: logging.Logger) -> None:
    from .hypotheses import HypothesisSettings, evaluate

    _, expr, groups = load_expression(adata_path)
    scores = read_tsv(scores_path)
    if scores.empty:
        raise InputFormatError(f"data set {dataset}: {scores_path} holds no scores")
    scores["sample"] = scores["sample"].astype(str)
    _, sets, hyps = gs.collect(gene_set_config["catalogue"], gene_set_config["gmt"], hyp_config["extra"])
    complete = scorable_genes(expr).index
    mins = set_min_sizes(sets, hyps, gene_set_config["min_size"])
    used = {s.name: s for s in used_sets(sets, complete, mins)}
    full = {s.name: s for s in sets}
    settings = HypothesisSettings(
        methods=tuple(scoring["methods"]), primary=scoring["primary"], min_size=gene_set_config["min_size"],
        alpha=hyp_config["fdr"], p_value=hyp_config["p_value"], max_exact=hyp_config["max_exact"],
        n_permutations=hyp_config["permutations"], seed=hyp_config["seed"],
    )
    table = evaluate(dataset, scores, expr, groups, used, full, hyps, settings)
    prim = table[table["primary"].astype(bool)]
    counts = prim["verdict"].value_counts().to_dict()
    log.info("verdicts (primary rows): %s", counts)
    write_tsv(table, out)


def run_meta(paths: list[str], fdr: float, out_hypotheses: str, out_meta: str, log: logging.Logger) -> None:
    from .meta import meta_analyse

    tables = [read_tsv(p) for p in paths]
    combined = pd.concat(tables, ignore_index=True)
    meta = meta_analyse(combined, alpha=fdr)
    log.info("meta-analysis: %d hypotheses, verdicts %s", len(meta), meta["verdict"].value_counts().to_dict())
    write_tsv(combined, out_hypotheses)
    write_tsv(meta, out_meta)
