"""The cohort engine behind singscore, ssGSEA, AUCell and a chunked z-score.

:func:`score_cohort` sorts each sample once and derives every rank-based score of every
set from that sort, chunked over samples in bounded memory (``benchmarks/scoring_scale.py``:
50 sets x 10,000 samples x 20,000 genes). Its results equal the per-method functions of
:mod:`.scoring` (``tests/test_scoring.py``); ties, missing values and up/down sets follow
the rules documented there.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..genesets.catalogue import GeneSet
from ._score_input import _CONSTANT_SD, SetsLike, _as_gene_sets, _parts

# the logger of the scoring module: its lines in the rule logs read as before this module was split out
log = logging.getLogger("igf1r_resistance.tl.scoring")

# --------------------------------------------------------------------------- cohort engine
#
# One sort per sample gives every rank-based score: singscore (minimum ranks), ssGSEA
# (GSVA 1.46's truncated average ranks and its decreasing order with ties in row order)
# and the AUCell-style recovery AUC (the same decreasing order). From the sort we keep,
# per sample, each gene's sorted position and the first and last position of its block
# of tied values; every score is then a sum over the set's genes of integers derived from
# those three numbers, so only the set genes are touched after the sort. Samples are
# processed in chunks sized to a memory budget (samples x genes layout, so each sample's
# sort runs on contiguous memory); the combined z-score needs every gene's mean and sd
# over the whole cohort and gets them in a first, sort-free pass.

COHORT_METHODS = ("singscore", "ssgsea", "zscore", "aucell")

#: working bytes per gene and sample of a chunk, all methods together (tracemalloc peak
#: 38 for float32 and 37 for float64 input, 20,000 genes): the chunk, its 64-bit sort keys
#: (float32) or argsort and sorted values (float64), and the inverse positions
_BYTES_PER_CELL = 40


def _set_gene_positions(xt: np.ndarray, genes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort each row (sample) of a samples x genes block once; for the columns `genes`
    return their ascending sorted positions with ties in column order (``pos``) and the
    first and last sorted positions of their blocks of tied values (``first``, ``last``),
    all 0-based int64 arrays of shape samples x len(genes).

    float32 values are sorted as unique 64-bit keys (an order-preserving integer image of
    the value in the high half, the column index in the low half), so a plain vectorised
    integer sort is already stable; other values use a stable argsort.
    """
    n_s, n_g = xt.shape
    arange = np.broadcast_to(np.arange(n_g, dtype=np.int32), (n_s, n_g))
    if xt.dtype == np.float32:
        bits = np.add(xt, np.float32(0.0)).view(np.int32)  # -0.0 + 0.0 = +0.0: one key for zero
        flip = bits >> 31  # -1 for negative floats: reverse their order, keep the sign bit
        flip &= np.int32(0x7FFFFFFF)
        bits ^= flip
        del flip
        value = bits[:, genes]
        keys = bits.astype(np.int64)
        del bits
        keys <<= 32
        keys |= arange
        keys.sort(axis=1)
        if sys.byteorder == "little":
            halves = keys.view(np.int32)
            order, ordered = halves[:, 0::2], np.ascontiguousarray(halves[:, 1::2])
        else:  # pragma: no cover
            order, ordered = (keys & 0xFFFFFFFF).astype(np.int32), (keys >> 32).astype(np.int32)
    else:
        order = np.argsort(xt, axis=1, kind="stable")
        ordered = np.take_along_axis(xt, order, axis=1)
        value = xt[:, genes]
    inv = np.empty((n_s, n_g), dtype=np.int32)
    np.put_along_axis(inv, order, arange, axis=1)
    pos = inv[:, genes].astype(np.int64)
    del inv, order
    return pos, _tie_end(ordered, value, pos, -1), _tie_end(ordered, value, pos, +1)


def _tie_end(ordered: np.ndarray, value: np.ndarray, pos: np.ndarray, step: int) -> np.ndarray:
    """First (step -1) or last (step +1) sorted position holding the same value as each
    ``pos``: one vectorised look at the neighbour, then walk only the entries that are
    tied (few in continuous data); rows with long ties get the block ends of all their
    positions from a running maximum / minimum."""
    n_g = ordered.shape[1]
    cur = pos.copy()
    rows = np.arange(pos.shape[0])[:, None]
    nxt = np.clip(cur + step, 0, n_g - 1)
    same = (nxt != cur) & (ordered[rows, nxt] == value)
    r, c = np.nonzero(same)
    for _ in range(8):
        if not r.size:
            return cur
        cur[r, c] += step
        nxt = cur[r, c] + step
        inside = (nxt >= 0) & (nxt < n_g)
        keep = inside & (ordered[r, np.clip(nxt, 0, n_g - 1)] == value[r, c])
        r, c = r[keep], c[keep]
    if r.size:  # long ties: block ends of every position of those rows, by running max / min
        left = np.unique(r)
        sub = ordered[left]
        pos_all = np.arange(n_g)
        if step < 0:
            starts = np.ones(sub.shape, dtype=bool)
            starts[:, 1:] = sub[:, 1:] != sub[:, :-1]
            ends = np.maximum.accumulate(np.where(starts, pos_all, 0), axis=1)
        else:
            stops = np.ones(sub.shape, dtype=bool)
            stops[:, :-1] = sub[:, 1:] != sub[:, :-1]
            ends = np.minimum.accumulate(np.where(stops, pos_all, n_g - 1)[:, ::-1], axis=1)[:, ::-1]
        cur[left] = np.take_along_axis(ends, pos[left], axis=1)
    return cur


def score_cohort(
    expr: pd.DataFrame | np.ndarray,
    gene_sets: SetsLike,
    methods: Sequence[str] = ("singscore", "ssgsea", "zscore"),
    *,
    alpha: float = 0.25,
    normalize: bool = True,
    aucell_max_rank: float = 0.05,
    chunk_size: int | None = None,
    memory_mb: float = 256.0,
    threads: int = 1,
    float32: bool = False,
) -> dict[str, pd.DataFrame]:
    """Rank-based and z-score set scores of a large cohort in bounded memory.

    Each sample is sorted once; singscore, ssGSEA and the AUCell-style AUC all come from
    that one sort, for every set, ``chunk_size`` samples at a time (default: as many as
    fit in ``memory_mb`` of working memory per thread). The results equal
    :func:`singscore`, :func:`ssgsea`, :func:`zscore` and :func:`aucell` (tested to
    1e-12, with the same gene universe -- genes with a NaN dropped, constant genes dropped
    for the z-score only --, tie rules and up/down handling). ssGSEA's normalisation uses
    the range over the whole cohort, as one ``gsva(method = "ssgsea")`` call would.

    Parameters
    ----------
    expr
        Genes x samples (DataFrame, or an array/memmap whose genes are the row numbers).
        It is read a chunk at a time and never copied whole; float32 input is ranked as
        float32 (its ties are the float32 ties).
    methods
        Any of ``COHORT_METHODS``.
    alpha, normalize
        ssGSEA weight exponent and range normalisation, as :func:`ssgsea`.
    aucell_max_rank
        AUCell's ``aucMaxRank``: a fraction of the genes (< 1) or a number of genes.
    threads
        Chunks scored in parallel threads (numpy releases the GIL while sorting).
    float32
        Compute ssGSEA weights and z-scores in float32 (relative error ~1e-6; an explicit
        option). Rank sums are integers and always exact.

    Returns
    -------
    dict
        method -> sets x samples DataFrame.
    """
    unknown = [m for m in methods if m not in COHORT_METHODS]
    if unknown:
        raise ValueError(f"unknown cohort method(s) {unknown}; choose from {list(COHORT_METHODS)}")
    values, genes, samples = _cohort_matrix(expr)
    n_all, n_samples = values.shape
    sets = _as_gene_sets(gene_sets)
    work = np.float32 if float32 else np.float64
    want = set(methods)
    step = chunk_size or max(1, int(memory_mb * 2**20 // (_BYTES_PER_CELL * max(n_all, 1))))
    chunks = [slice(j, min(j + step, n_samples)) for j in range(0, n_samples, step)]

    # pass 1 (no sort): genes measured in every sample; for the z-score, means and sds
    keep = _complete_rows(values, chunks)
    index = genes if keep is None else genes[keep]
    n_genes = len(index)

    def block(sl: slice) -> np.ndarray:
        """samples x genes (complete genes only), contiguous."""
        b = values[:, sl] if keep is None else values[keep, sl]
        return np.ascontiguousarray(b.T)

    parts = _parts(sets, index)
    flat = [p for pair in parts for p in pair]
    out = {m: np.full((len(flat), n_samples), np.nan) for m in want}
    z_parts = z_flat = z_mean = z_sd = None
    if "zscore" in want:
        z_parts, z_flat, z_mean, z_sd = _zscore_setup(block, chunks, sets, index, n_samples, work)
    k_auc = _aucell_k(aucell_max_rank, n_genes) if "aucell" in want else 0
    ranked = bool(want & {"singscore", "ssgsea", "aucell"})

    union = np.unique(np.concatenate([np.asarray(p, dtype=np.intp) for p in flat] or [np.empty(0, np.intp)]))
    where = [np.searchsorted(union, p) for p in flat]  # columns of each part in the union

    def score_chunk(sl: slice) -> None:
        xt = block(sl)
        if "zscore" in want:
            _zscore_chunk(xt, z_flat, z_mean, z_sd, work, out["zscore"], sl)
        if not ranked or not union.size:
            return
        pos_u, first_u, last_u = _set_gene_positions(xt, union)
        del xt
        _rank_scores_chunk(pos_u, first_u, last_u, where, want, out, sl, n_genes=n_genes, alpha=alpha,
                           work=work, k_auc=k_auc)

    if threads > 1 and len(chunks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(score_chunk, chunks))
    else:
        for sl in chunks:
            score_chunk(sl)

    names = pd.Index([gs.name for gs in sets], name="gene_set")
    sizes = np.array([len(p) for p in flat], dtype=float)
    return {
        method: pd.DataFrame(
            _set_scores(method, out[method], parts, z_parts, sizes, n_genes, normalize), index=names, columns=samples
        )
        for method in methods
    }


def _cohort_matrix(expr: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """The genes x samples values of `expr` (not copied unless not float), its genes and samples."""
    if isinstance(expr, pd.DataFrame):
        if not expr.index.is_unique:
            dups = expr.index[expr.index.duplicated()].unique()[:5].tolist()
            raise ValueError(f"expr has duplicated gene identifiers, e.g. {dups}; collapse them first")
        values, genes, samples = expr.to_numpy(), expr.index, expr.columns
    else:
        values = expr
        if values.ndim != 2:
            raise ValueError("expr must be a 2-D genes x samples matrix")
        genes, samples = pd.RangeIndex(values.shape[0]), pd.RangeIndex(values.shape[1])
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(float)
    return values, genes, samples


def _complete_rows(values: np.ndarray, chunks: list[slice]) -> np.ndarray | None:
    """Rows (genes) with a value in every sample, read a chunk of samples at a time; None
    when that is every row."""
    n_all = values.shape[0]
    complete = np.ones(n_all, dtype=bool)
    for sl in chunks:
        complete &= ~np.isnan(values[:, sl]).any(axis=1)
    keep = None if complete.all() else np.flatnonzero(complete)
    if keep is not None:
        log.info("scoring: dropped %d of %d genes with missing values", n_all - keep.size, n_all)
    return keep


def _gene_moments(
    block: Callable[[slice], np.ndarray], chunks: list[slice], n_genes: int, n_samples: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (n - 1) of every gene over the whole cohort, in two passes over the chunks
    (``block(sl)``: samples x genes) so the sd is computed around the exact mean."""
    if n_samples < 2:
        raise ValueError("the z-score standardises genes across samples; it needs at least 2 samples")
    total = np.zeros(n_genes)
    for sl in chunks:
        total += block(sl).sum(axis=0, dtype=np.float64)
    mean = total / n_samples
    ss = np.zeros(n_genes)
    for sl in chunks:
        d = block(sl) - mean
        ss += np.einsum("ij,ij->j", d, d)
    return mean, np.sqrt(ss / (n_samples - 1))


def _zscore_setup(
    block: Callable[[slice], np.ndarray], chunks: list[slice], sets: list[GeneSet], index: pd.Index,
    n_samples: int, work: type,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[np.ndarray], np.ndarray, np.ndarray]:
    """What the z-score needs before any chunk is scored: the set parts over the non-constant
    genes (GSVA convention, sd >= 1e-10), as (up, down) pairs and as a flat list of columns of
    the complete genes, and every gene's mean and sd in the working precision."""
    mean, sd = _gene_moments(block, chunks, len(index), n_samples)
    varying = sd >= _CONSTANT_SD
    if varying.sum() < 2:
        raise ValueError("fewer than two non-constant genes in the expression matrix")
    if not varying.all():
        log.info("scoring: z-score drops %d constant genes (GSVA convention)", (~varying).sum())
    z_parts = _parts(sets, index[varying])
    z_flat = [np.flatnonzero(varying)[p] for pair in z_parts for p in pair]
    return z_parts, z_flat, mean.astype(work), sd.astype(work)


def _aucell_k(max_rank: float, n_genes: int) -> int:
    """AUCell's ``aucMaxRank`` K: a fraction of the genes (< 1) or a number, within [1, N]."""
    k_auc = int(round(max_rank * n_genes)) if max_rank < 1 else int(round(max_rank))
    return max(1, min(k_auc, n_genes))


def _zscore_chunk(
    xt: np.ndarray, z_flat: list[np.ndarray], z_mean: np.ndarray, z_sd: np.ndarray, work: type,
    out: np.ndarray, sl: slice,
) -> None:
    """Combined z-score (sum of the set genes' z-scores / sqrt(k)) of every part, for the
    samples ``sl`` of the chunk ``xt`` (samples x genes), written into ``out[part, sl]``."""
    for i, idx in enumerate(z_flat):
        if len(idx):
            z = (xt[:, idx].astype(work) - z_mean[idx]) / z_sd[idx]
            out[i, sl] = z.sum(axis=1) / np.sqrt(len(idx))


def _rank_scores_chunk(
    pos_u: np.ndarray, first_u: np.ndarray, last_u: np.ndarray, where: list[np.ndarray], want: set[str],
    out: dict[str, np.ndarray], sl: slice, *, n_genes: int, alpha: float, work: type, k_auc: int,
) -> None:
    """Raw rank sums of every part for the samples ``sl``, from the sorted positions and tie
    block ends of the set genes (``_set_gene_positions``; ``where``: each part's columns):
    singscore's sum of minimum ranks, GSVA 1.46's ssGSEA walk, the AUCell recovery AUC."""
    for i, cols in enumerate(where):
        if not len(cols):
            continue
        p, f, lst = pos_u[:, cols], first_u[:, cols], last_u[:, cols]
        if "singscore" in want:  # ties.method = "min": 1-based rank = first + 1
            out["singscore"][i, sl] = (f + 1).sum(axis=1)
        if "ssgsea" in want:
            # GSVA 1.46: average rank truncated to an integer; reversed position in the
            # decreasing order with ties in row order, n - pos + 1 = first + last - p + 1
            w = ((f + lst + 2) // 2).astype(work) ** alpha
            rev = f + lst - p + 1
            k = len(cols)
            step_in = (w * rev).sum(axis=1) / w.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                step_out = (n_genes * (n_genes + 1) / 2 - rev.sum(axis=1)) / (n_genes - k)
            out["ssgsea"][i, sl] = step_in - step_out
        if "aucell" in want:
            # 1-based position in the decreasing order (ties in row order); AUC adds K - r for r < K
            dec = n_genes - lst + p - f
            out["aucell"][i, sl] = np.maximum(k_auc - dec, 0).sum(axis=1) / (k_auc * len(cols))


def _set_scores(
    method: str, raw: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray]],
    z_parts: list[tuple[np.ndarray, np.ndarray]] | None, sizes: np.ndarray, n_genes: int, normalize: bool,
) -> np.ndarray:
    """Sets x samples scores of one method from its raw parts x samples values (rows: up,
    down, up, down, ...): singscore rescaled and centred (up + reversed down), the others
    ``score(up) - score(down)`` (ssGSEA first divided by the cohort's range when
    `normalize`); NaN for a set without measured up genes."""
    if method == "singscore":
        has_up = np.array([len(up) > 0 for up, _ in parts])
        has_down = np.array([len(down) > 0 for _, down in parts])
        k = sizes[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            # mean rank rescaled between its minimum (k + 1) / 2 and maximum (2N - k + 1) / 2
            raw = (raw / k - (k + 1) / 2) / ((2 * n_genes - k + 1) / 2 - (k + 1) / 2)
        up, down = raw[0::2], raw[1::2]
        score = np.where(has_down[:, None], (up - 0.5) + ((1.0 - down) - 0.5), up - 0.5)
        score[~has_up] = np.nan
        return score
    if method == "zscore":
        z_up = np.array([len(u) > 0 for u, _ in z_parts])
        z_dn = np.array([len(d) > 0 for _, d in z_parts])
        score = np.where(z_dn[:, None], raw[0::2] - raw[1::2], raw[0::2])
        score[~z_up] = np.nan
        return score
    has_up = np.array([len(up) > 0 for up, _ in parts])
    has_down = np.array([len(down) > 0 for _, down in parts])
    if method == "ssgsea" and normalize:
        used = np.concatenate([raw[0::2][has_up], raw[1::2][has_up & has_down]])
        if used.size:
            with np.errstate(divide="ignore", invalid="ignore"):
                raw = raw / (np.nanmax(used) - np.nanmin(used))
    score = np.where(has_down[:, None], raw[0::2] - raw[1::2], raw[0::2])
    score[~has_up] = np.nan
    return score
