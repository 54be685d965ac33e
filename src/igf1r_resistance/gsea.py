"""Competitive gene-set test: preranked GSEA (Subramanian et al. 2005) on limma's moderated t.

A competitive test asks whether a set's genes move more than other genes, which the
per-sample (self-contained) scores do not. gseapy's `prerank` runs the GSEA algorithm
with gene-set permutations, seeded for reproducibility. Sets with down genes enter as
two sets, NAME_UP and NAME_DN, as MSigDB writes such signatures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .genesets import GeneSet

GSEA_COLUMNS = ["gene_set", "n_genes", "es", "nes", "p_value", "fdr", "leading_edge"]


def gsea_sets(sets: list[GeneSet]) -> dict[str, list[str]]:
    """GSEA input: a dict name -> genes, up/down sets split into _UP and _DN."""
    out: dict[str, list[str]] = {}
    for s in sets:
        if s.down:
            out[f"{s.name}_UP"] = list(s.up)
            out[f"{s.name}_DN"] = list(s.down)
        else:
            out[s.name] = list(s.up)
    return out


def preranked(de: pd.DataFrame, sets: list[GeneSet], *, permutations: int = 1000, seed: int = 0,
              min_size: int = 5, max_size: int = 2000, threads: int = 1) -> pd.DataFrame:
    """Preranked GSEA of `sets` on the moderated t of `de` (columns `gene`, `t`).

    Returns one row per set tested: `gene_set, n_genes, es, nes, p_value, fdr,
    leading_edge` (gseapy's nominal p and FDR q). Sets below `min_size` are absent.
    """
    import gseapy  # imported here: costs ~4 s, only this step needs it

    ranking = de[["gene", "t"]].dropna()
    # gseapy needs distinct ranks to be reproducible: order ties by gene name
    ranking = ranking.sort_values(["t", "gene"], ascending=[False, True])
    library = {k: v for k, v in gsea_sets(sets).items()
               if len(set(v) & set(ranking["gene"])) >= min_size}
    if not library:
        return pd.DataFrame(columns=GSEA_COLUMNS)
    result = gseapy.prerank(
        rnk=ranking.reset_index(drop=True), gene_sets=library, permutation_num=permutations,
        seed=seed, min_size=min_size, max_size=max_size, threads=threads, outdir=None,
        no_plot=True, verbose=False,
    ).res2d
    measured = set(ranking["gene"])
    table = pd.DataFrame({
        "gene_set": result["Term"].astype(str),
        "n_genes": [len(set(library[t]) & measured) for t in result["Term"]],
        "es": result["ES"].astype(float),
        "nes": result["NES"].astype(float),
        "p_value": result["NOM p-val"].astype(float),
        "fdr": result["FDR q-val"].astype(float),
        "leading_edge": result["Lead_genes"].astype(str),
    })
    return table.sort_values(["p_value", "gene_set"]).reset_index(drop=True)[GSEA_COLUMNS]


def running_sum(ranked_genes: list[str], stats_values: np.ndarray, members: set[str]) -> np.ndarray:
    """GSEA running enrichment score (weight p = 1) along the ranked list, for plots."""
    hits = np.array([g in members for g in ranked_genes])
    weights = np.abs(np.asarray(stats_values, dtype=float)) * hits
    n_hit_total = weights.sum()
    n_miss = (~hits).sum()
    if n_hit_total == 0 or n_miss == 0:
        return np.zeros(len(ranked_genes))
    steps = np.where(hits, weights / n_hit_total, -1.0 / n_miss)
    return np.cumsum(steps)
