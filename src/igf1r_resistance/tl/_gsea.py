"""Competitive gene-set test: preranked GSEA (Subramanian et al. 2005) on limma's moderated t.

A competitive test asks whether a set's genes move more than other genes, which the
per-sample (self-contained) scores do not. gseapy's `prerank` runs the GSEA algorithm
with gene-set permutations, seeded for reproducibility. Sets with down genes enter as
two sets, NAME_UP and NAME_DN, as MSigDB writes such signatures.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..genesets.catalogue import GeneSet

GSEA_COLUMNS = ["gene_set", "n_genes", "es", "nes", "p_value", "fdr", "leading_edge", "note"]


def set_parts(sets: list[GeneSet]) -> list[tuple[str, str, list[str]]]:
    """(set name, part name, genes) of every set; an up/down set gives NAME_UP and NAME_DN."""
    out: list[tuple[str, str, list[str]]] = []
    for s in sets:
        if s.down:
            out.append((s.name, f"{s.name}_UP", list(s.up)))
            out.append((s.name, f"{s.name}_DN", list(s.down)))
        else:
            out.append((s.name, s.name, list(s.up)))
    return out


def gsea_sets(sets: list[GeneSet]) -> dict[str, list[str]]:
    """GSEA input: a dict name -> genes, up/down sets split into _UP and _DN."""
    return {part: genes for _, part, genes in set_parts(sets)}


def _ranking(de: pd.DataFrame) -> pd.DataFrame:
    """`gene, t` of every gene with a finite t, by decreasing t, ties by gene name."""
    ranking = de[["gene", "t"]].dropna()
    ranking = ranking[np.isfinite(ranking["t"].to_numpy(dtype=float))]
    ranking = ranking.assign(gene=ranking["gene"].astype(str))
    return ranking.sort_values(["t", "gene"], ascending=[False, True]).reset_index(drop=True)


def _testable_parts(
    sets: list[GeneSet], measured: set[str], min_size: int | Mapping[str, int], max_size: int | None
) -> tuple[dict[str, list[str]], list[dict]]:
    """The set parts (:func:`set_parts`) restricted to the `measured` (ranked) genes: those
    with between the minimum and the maximum number of ranked genes (name -> genes), and the
    others as rows `gene_set, n_genes, note` saying why they are not tested."""
    n_ranked = len(measured)
    limit = n_ranked - 1 if max_size is None else min(max_size, n_ranked - 1)
    library: dict[str, list[str]] = {}
    untested: list[dict] = []
    for set_name, name, genes in set_parts(sets):
        present = [g for g in dict.fromkeys(genes) if g in measured]
        need = max(1, int(min_size.get(set_name, 5) if isinstance(min_size, Mapping) else min_size))
        if len(present) < need:
            note = f"{len(present)} of {len(set(genes))} genes ranked, at least {need} needed"
        elif len(present) > limit:
            note = (f"{len(present)} genes ranked, more than the maximum {limit}"
                    if len(present) < n_ranked else "the set contains every ranked gene")
        else:
            library[name] = present
            continue
        untested.append({"gene_set": name, "n_genes": len(present), "note": note})
    return library, untested


def preranked(
    de: pd.DataFrame,
    sets: list[GeneSet],
    *,
    permutations: int = 1000,
    seed: int = 0,
    min_size: int | Mapping[str, int] = 5,
    max_size: int | None = None,
    threads: int = 1,
) -> pd.DataFrame:
    """Preranked GSEA of `sets` on the moderated t of `de` (columns `gene`, `t`).

    The ranking is every gene with a finite t, by decreasing t, ties ordered by gene name
    (so results are reproducible); gseapy's `prerank` (weight 1, gene-set permutations,
    `seed`) tests every set. Sets with down genes enter as NAME_UP and NAME_DN
    (:func:`gsea_sets`).

    `min_size` is the smallest number of ranked genes a set needs, for all sets or per
    set name (each part of an up/down set needs its set's minimum; names absent from the
    mapping need 5); `max_size` is the largest (default: no limit, so big user sets are
    tested too). Every set appears in the result: the ones that cannot be tested (too
    few ranked genes, or every ranked gene) with NaN statistics and a `note` saying why.

    Returns `gene_set, n_genes, es, nes, p_value, fdr, leading_edge, note`: gseapy's ES,
    NES, nominal p (0 when no permutation reached the observed ES, i.e. p < 1 /
    permutations) and FDR q over the tested sets; tested sets first, by p and name.
    """
    ranking = _ranking(de)
    library, untested = _testable_parts(sets, set(ranking["gene"]), min_size, max_size)
    frames = [pd.DataFrame(untested, columns=["gene_set", "n_genes", "note"])]
    if library:
        import gseapy  # imported here: costs ~4 s, only this step needs it

        result = gseapy.prerank(
            rnk=ranking, gene_sets=library, permutation_num=permutations, seed=seed,
            min_size=1, max_size=max(len(v) for v in library.values()), threads=threads,
            outdir=None, no_plot=True, verbose=False,
        ).res2d
        tested = pd.DataFrame({
            "gene_set": result["Term"].astype(str),
            "n_genes": [len(library[t]) for t in result["Term"]],
            "es": result["ES"].astype(float),
            "nes": result["NES"].astype(float),
            "p_value": result["NOM p-val"].astype(float),
            "fdr": result["FDR q-val"].astype(float),
            "leading_edge": result["Lead_genes"].astype(str),
            "note": "",
        })
        frames.insert(0, tested.sort_values(["p_value", "gene_set"]))
        lost = [name for name in library if name not in set(tested["gene_set"])]
        if lost:  # never seen; guards against gseapy filtering a set on its own
            frames.append(pd.DataFrame({"gene_set": lost, "n_genes": [len(library[n]) for n in lost],
                                        "note": "not returned by gseapy"}))
    frames = [f for f in frames if len(f)]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=GSEA_COLUMNS)
    rows = rows.reindex(columns=GSEA_COLUMNS)
    rows["leading_edge"] = rows["leading_edge"].fillna("")
    rows["note"] = rows["note"].fillna("")
    for col in ("es", "nes", "p_value", "fdr"):
        rows[col] = rows[col].astype(float)
    rows["n_genes"] = rows["n_genes"].astype(int)
    return rows.reset_index(drop=True)[GSEA_COLUMNS]


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
