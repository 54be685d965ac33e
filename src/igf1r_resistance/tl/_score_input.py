"""Input of the set scores: the expression matrix (genes x samples, genes with a NaN
dropped) and the gene sets (restricted to measured genes, up and down parts).

Shared by :mod:`.scoring` (the per-method functions) and :mod:`._cohort` (the one-sort
engine); the rules are documented in :mod:`.scoring` ("Input and missing values").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..genesets.catalogue import GeneSet

# the logger of the scoring module: its lines in the rule logs read as before this module was split out
log = logging.getLogger("igf1r_resistance.tl.scoring")

SetsLike = Sequence[GeneSet] | Mapping[str, Iterable[Any]]

_CONSTANT_SD = 1e-10  # GSVA's .filterFeatures threshold


def _prepare(expr: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    """Float genes x samples DataFrame with unique genes, genes with any NaN dropped."""
    df = expr if isinstance(expr, pd.DataFrame) else pd.DataFrame(np.asarray(expr))
    if df.ndim != 2:
        raise ValueError("expr must be a 2-D genes x samples matrix")
    if not df.index.is_unique:
        dups = df.index[df.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"expr has duplicated gene identifiers, e.g. {dups}; collapse them first")
    if not all(np.issubdtype(t, np.floating) for t in df.dtypes):
        df = df.astype(float)  # no copy when already float: cohort matrices are GBs
    complete = df.notna().all(axis=1).to_numpy()
    if not complete.all():
        log.info("scoring: dropped %d of %d genes with missing values", (~complete).sum(), len(df))
        df = df.loc[complete]
    return df


def _as_gene_sets(gene_sets: SetsLike) -> list[GeneSet]:
    if isinstance(gene_sets, Mapping):
        sets = [GeneSet(str(name), tuple(genes)) for name, genes in gene_sets.items()]
    else:
        sets = list(gene_sets)
        if not all(isinstance(gs, GeneSet) for gs in sets):
            raise TypeError("gene_sets must be a list of GeneSet or a mapping name -> genes")
    names = [gs.name for gs in sets]
    if len(set(names)) != len(names):
        raise ValueError("gene set names must be unique")
    return sets


def _indices(genes: Iterable[Any], index: pd.Index) -> np.ndarray:
    """Row positions of the measured genes of a set, first occurrence order, deduplicated."""
    pos = index.get_indexer(pd.Index(list(dict.fromkeys(genes)), dtype=object))
    return pos[pos >= 0].astype(np.intp)


def _parts(sets: list[GeneSet], index: pd.Index) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(_indices(gs.up, index), _indices(gs.down, index)) for gs in sets]


def _combine(
    sets: list[GeneSet],
    index: pd.Index,
    columns: pd.Index,
    part_scores: Callable[[list[np.ndarray]], np.ndarray],
) -> pd.DataFrame:
    """score(up) - score(down) for every set; parts are scored in one batch.

    ``part_scores`` maps a list of index arrays (every part non-empty) to a parts x
    samples array. A set whose up part has no measured gene scores NaN; an empty down
    part is ignored.
    """
    parts = _parts(sets, index)
    batch: list[np.ndarray] = []
    where: list[tuple[int | None, int | None]] = []
    for up, down in parts:
        if len(up) == 0:
            where.append((None, None))
            continue
        iu = len(batch)
        batch.append(up)
        idn = None
        if len(down):
            idn = len(batch)
            batch.append(down)
        where.append((iu, idn))
    out = np.full((len(sets), len(columns)), np.nan)
    if batch:
        scores = part_scores(batch)
        for row, (iu, idn) in enumerate(where):
            if iu is None:
                continue
            out[row] = scores[iu] if idn is None else scores[iu] - scores[idn]
    return pd.DataFrame(
        out, index=pd.Index([gs.name for gs in sets], name="gene_set"), columns=columns
    )


def _drop_constant(df: pd.DataFrame) -> pd.DataFrame:
    """GSVA 1.46 ``.filterFeatures``: drop genes with sd < 1e-10 (gsva, zscore, plage)."""
    if df.shape[1] < 2:
        raise ValueError(
            f"gsva, zscore and plage standardise genes across samples and need at least 2 "
            f"samples; got {df.shape[1]}"
        )
    sd = df.to_numpy().std(axis=1, ddof=1)
    keep = sd >= _CONSTANT_SD
    if not keep.all():
        log.info("scoring: dropped %d constant genes (GSVA convention)", (~keep).sum())
        df = df.loc[keep]
    if len(df) < 2:
        raise ValueError("fewer than two non-constant genes in the expression matrix")
    return df
