"""Per-sample gene-set scores: singscore, ssGSEA, GSVA, combined z-score, PLAGE, scanpy.

Every method except ``score_genes`` is a NumPy re-implementation, vectorised over samples
(loops run over gene sets only; GSVA's kernel CDF, O(genes x samples^2), is a numba kernel
parallel over genes, ``_gsva_kernels.py``), and checked against R in ``tests/test_scoring.py``:

* ``ssgsea``, ``gsva``, ``zscore``, ``plage`` reproduce R GSVA 1.46
  (``gsva(x, sets, method=...)``, old API) to < 1e-13 (unnormalised ssGSEA, whose scores
  are in the hundreds: < 5e-13) on the committed fixtures, including data with ties
  (``tests/data/reference/scoring_*``, made by ``tests/reference/make_scoring_fixtures.R``);
  PLAGE up to the arbitrary sign of a singular vector. GSVA's kernel CDF uses GSVA's own
  lookup table of the normal CDF, so values match R, not an exact Phi.
* ``singscore`` follows ``singscore::simpleScore`` (Foroutan et al. 2018) exactly;
  R singscore is not installed here, so it is tested on hand-computed examples.
* ``score_genes`` wraps :func:`scanpy.tl.score_genes` (imported inside the function).
* ``aucell`` is the AUCell recovery AUC (Aibar et al. 2017), an extra rank-based score.

Cohorts: :func:`score_cohort` (module ``_cohort``) is the engine behind ``singscore``, ``ssgsea`` and
``aucell`` (and a chunked ``zscore``): each sample is sorted once and every rank-based
score of every set is derived from that sort, chunked over samples in bounded memory
(``benchmarks/scoring_scale.py``: 50 sets x 10,000 samples x 20,000 genes).

GSVA (:func:`gsva`, its kernel CDFs exact and approximate) lives in module ``_gsva``;
this module re-exports it.

gseapy 1.3.1 is not used: its ``ssgsea`` and ``gsva`` match GSVA 1.46 on tie-free data
but not when values tie within a sample (up to 0.04 for normalised ssGSEA and 7e-4 for
GSVA on the fixtures: it breaks ties differently and does not truncate average ranks),
and importing it costs ~4 s.

Input and missing values
------------------------
``expr`` is a genes x samples matrix of log2 expression (a DataFrame indexed by unique
gene identifiers, or a 2-D array whose genes are then the row numbers 0..G-1). Genes
with a NaN in any sample are dropped before scoring (by every function here), so the
gene universe -- and therefore every rank -- is the set of completely measured genes.
Gene sets are restricted to genes of that universe; duplicated genes in a set count once.

Gene sets with ``down`` genes
-----------------------------
singscore has its own up/down score (up score + reversed down score, each centred, so
the total lies in [-1, 1]). Every other method scores the up and the down genes as two
separate sets and returns ``score(up) - score(down)``. For ssGSEA the normalisation by
the range of all scores (``ssgsea.norm=TRUE``) is taken over all up and down parts
scored together in one call.

Ties
----
* singscore ranks ties at their minimum (``rankGenes`` default ``ties.method="min"``).
* ssGSEA replicates GSVA 1.46 literally: average ranks (``colRanks(ties="average")``)
  truncated to integers by ``mode(R) <- "integer"`` (2.5 -> 2), genes ordered by
  decreasing rank with ties in row order (R's stable ``order``). So with tied values the
  score depends on the row order of the tied genes, exactly as in R.
* GSVA orders genes by decreasing kernel-CDF log-odds with ties in row order, as R.

Constant genes
--------------
As in GSVA 1.46 (``.filterFeatures``), ``gsva``, ``zscore`` and ``plage`` drop genes
whose standard deviation is below 1e-10 before anything else (their z-scores and kernel
bandwidths are undefined); ``ssgsea``, ``singscore`` and ``score_genes`` keep them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ..genesets.catalogue import GeneSet
from ._cohort import COHORT_METHODS, score_cohort  # noqa: F401 (re-exported)
from ._gsva import gsva
from ._score_input import (  # noqa: F401 (re-exported: tl._api, pp.singlecell, _anndata use them)
    _CONSTANT_SD,
    SetsLike,
    _as_gene_sets,
    _combine,
    _drop_constant,
    _indices,
    _parts,
    _prepare,
)

log = logging.getLogger(__name__)

METHODS = ("singscore", "ssgsea", "gsva", "zscore", "plage", "score_genes")
LONG_COLUMNS = ["sample", "gene_set", "method", "score"]

_MAD_CONSTANT = 1.4826  # R's mad()


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Many small SVDs are ~30x faster single-threaded (OpenBLAS threads contend)."""
    try:
        from threadpoolctl import threadpool_limits  # scikit-learn's dependency, via scanpy
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _set_genes_only(df: pd.DataFrame, gene_sets: SetsLike) -> pd.DataFrame:
    """Rows of the genes some set names: z-scores are per gene, so this is exact, and it
    keeps the standardised copy as small as the sets instead of the whole matrix."""
    wanted = {g for gs in _as_gene_sets(gene_sets) for g in gs.genes}
    return df.loc[df.index.isin(wanted)]


def _zscores(x: np.ndarray) -> np.ndarray:
    """Row-wise standardisation, sd with n - 1 (R ``t(scale(t(x)))``)."""
    centred = x - x.mean(axis=1, keepdims=True)
    sd = np.sqrt((centred**2).sum(axis=1, keepdims=True) / (x.shape[1] - 1))
    return centred / sd


# --------------------------------------------------------------------------- singscore


def _singscore_parts(
    ranks: np.ndarray, up: np.ndarray, down: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """singscore::simpleScore (centerScore=TRUE) TotalScore and TotalDispersion."""
    n_total = ranks.shape[0]

    def norm(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = ranks[idx]
        k = len(idx)
        low, high = (k + 1) / 2, (2 * n_total - k + 1) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            score = (r.mean(axis=0) - low) / (high - low)
        med = np.median(r, axis=0)
        disp = _MAD_CONSTANT * np.median(np.abs(r - med), axis=0)
        return score, disp

    up_score, up_disp = norm(up)
    if len(down) == 0:
        return up_score - 0.5, up_disp
    down_score, down_disp = norm(down)
    return (up_score - 0.5) + ((1.0 - down_score) - 0.5), up_disp + down_disp


def _singscore_frames(
    expr: pd.DataFrame | np.ndarray, gene_sets: SetsLike
) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _prepare(expr)
    sets = _as_gene_sets(gene_sets)
    ranks = rankdata(df.to_numpy(), method="min", axis=0).astype(float)
    score = np.full((len(sets), df.shape[1]), np.nan)
    disp = np.full_like(score, np.nan)
    for row, (up, down) in enumerate(_parts(sets, df.index)):
        if len(up):
            score[row], disp[row] = _singscore_parts(ranks, up, down)
    names = pd.Index([gs.name for gs in sets], name="gene_set")
    return (
        pd.DataFrame(score, index=names, columns=df.columns),
        pd.DataFrame(disp, index=names, columns=df.columns),
    )


def singscore(expr: pd.DataFrame | np.ndarray, gene_sets: SetsLike) -> pd.DataFrame:
    """singscore (Foroutan et al. 2018), as ``simpleScore(rankGenes(x), up, down)``.

    Genes are ranked within each sample (1 = lowest, ties at the minimum rank). For a
    set of ``n`` measured genes out of ``N``, with mean rank ``m`` in a sample, the up
    score is ``(m - (n + 1) / 2) / (N - n) - 0.5`` -- the mean rank rescaled between its
    theoretical minimum ``(n + 1) / 2`` and maximum ``(2N - n + 1) / 2`` and centred, so
    it lies in [-0.5, 0.5]. With down genes the total score is
    ``up + (1 - down_uncentred) - 0.5`` (the down set scored on reversed ranks), in
    [-1, 1]. Returns sets x samples. (Computed by :func:`score_cohort`.)
    """
    return score_cohort(expr, gene_sets, ("singscore",))["singscore"]


def singscore_dispersion(expr: pd.DataFrame | np.ndarray, gene_sets: SetsLike) -> pd.DataFrame:
    """singscore's dispersion: MAD (R ``mad``, constant 1.4826) of the set's ranks.

    With down genes it is the sum of the up and the down dispersions, as in singscore's
    ``TotalDispersion``. Returns sets x samples.
    """
    return _singscore_frames(expr, gene_sets)[1]


# --------------------------------------------------------------------------- ssGSEA


def ssgsea(
    expr: pd.DataFrame | np.ndarray,
    gene_sets: SetsLike,
    *,
    alpha: float = 0.25,
    normalize: bool = True,
) -> pd.DataFrame:
    """ssGSEA (Barbie et al. 2009) exactly as R GSVA 1.46 ``method="ssgsea"``.

    Per sample: integer ranks ``r`` (1 = lowest; average ranks truncated as in GSVA 1.46),
    genes ordered by decreasing rank (ties in row order), weights ``r ** alpha``; the
    enrichment score is the sum over the whole ranking of the weighted in-set minus the
    out-of-set running ECDFs (GSVA's closed form ``.fastRndWalk``). With ``normalize``
    (``ssgsea.norm=TRUE``) all scores are divided by the range (max - min) of all the
    scores computed in this call, so they depend on which sets are scored together (with
    a single set and a single sample the range is 0 and, as in R, the score is not
    finite). Returns sets x samples. (Computed by :func:`score_cohort`, which derives
    these ranks and positions from one sort per sample.)
    """
    return score_cohort(expr, gene_sets, ("ssgsea",), alpha=alpha, normalize=normalize)["ssgsea"]


# --------------------------------------------------------------------------- z-score, PLAGE


def zscore(expr: pd.DataFrame | np.ndarray, gene_sets: SetsLike) -> pd.DataFrame:
    """Combined z-score (Lee et al. 2008) as R GSVA 1.46 ``method="zscore"``.

    Each gene is standardised across samples (mean 0, sd 1 with n - 1); the set score is
    ``sum(z) / sqrt(n)`` over its ``n`` measured genes. Constant genes are dropped.
    Returns sets x samples.
    """
    df = _drop_constant(_set_genes_only(_prepare(expr), gene_sets))
    z = _zscores(df.to_numpy())

    def part_scores(batch: list[np.ndarray]) -> np.ndarray:
        return np.vstack([z[idx].sum(axis=0) / np.sqrt(len(idx)) for idx in batch])

    return _combine(_as_gene_sets(gene_sets), df.index, df.columns, part_scores)


def plage(expr: pd.DataFrame | np.ndarray, gene_sets: SetsLike) -> pd.DataFrame:
    """PLAGE (Tomfohr et al. 2005) as R GSVA 1.46 ``method="plage"``.

    The score is the first right singular vector of the set's standardised (genes x
    samples) matrix, i.e. unit-norm sample loadings. Its sign is arbitrary in R (LAPACK);
    here it is fixed so that the score correlates non-negatively with the mean z-score of
    the set's genes, which makes higher = more expressed and ``up - down`` meaningful.
    Constant genes are dropped. Returns sets x samples.
    """
    df = _drop_constant(_set_genes_only(_prepare(expr), gene_sets))
    z = _zscores(df.to_numpy())

    def part_scores(batch: list[np.ndarray]) -> np.ndarray:
        out = np.empty((len(batch), z.shape[1]))
        with _single_threaded_blas():
            for i, idx in enumerate(batch):
                sub = z[idx]
                v = np.linalg.svd(sub, full_matrices=False)[2][0]
                out[i] = -v if np.dot(v, sub.mean(axis=0)) < 0 else v
        return out

    return _combine(_as_gene_sets(gene_sets), df.index, df.columns, part_scores)


# --------------------------------------------------------------------------- scanpy


def score_genes(
    expr: pd.DataFrame | np.ndarray,
    gene_sets: SetsLike,
    *,
    seed: int = 0,
    ctrl_size: int = 50,
    n_bins: int = 25,
) -> pd.DataFrame:
    """:func:`scanpy.tl.score_genes` on an AnnData of samples x genes (``use_raw=False``).

    The score is the set's mean expression minus the mean of ``ctrl_size`` control genes
    drawn per expression bin with ``random_state=seed`` (reproducible for a given seed).
    scanpy seeds NumPy's global generator; its previous state is restored afterwards.
    Returns sets x samples.
    """
    import anndata
    import scanpy as sc

    df = _prepare(expr)
    names = np.array([f"g{i}" for i in range(df.shape[0])], dtype=object)
    adata = anndata.AnnData(
        X=df.to_numpy().T,  # a view: a copy would add the whole matrix (scores are identical)
        obs=pd.DataFrame(index=[f"s{j}" for j in range(df.shape[1])]),
        var=pd.DataFrame(index=names),
    )

    def part_scores(batch: list[np.ndarray]) -> np.ndarray:
        state = np.random.get_state()
        try:
            out = []
            for idx in batch:
                sc.tl.score_genes(
                    adata,
                    list(names[idx]),
                    ctrl_size=ctrl_size,
                    n_bins=n_bins,
                    random_state=seed,
                    score_name="_igf1r_score",
                    use_raw=False,
                )
                out.append(adata.obs["_igf1r_score"].to_numpy(dtype=float))
        finally:
            np.random.set_state(state)
        return np.vstack(out)

    return _combine(_as_gene_sets(gene_sets), df.index, df.columns, part_scores)


# --------------------------------------------------------------------------- entry point

_FUNCS: dict[str, Callable[..., pd.DataFrame]] = {
    "singscore": singscore,
    "ssgsea": ssgsea,
    "gsva": gsva,
    "zscore": zscore,
    "plage": plage,
    "score_genes": score_genes,
}


def score_gene_sets(
    expr: pd.DataFrame,
    gene_sets: list[GeneSet],
    methods: list[str],
    *,
    min_size: int = 5,
    seed: int = 0,
    gsva_approx: bool = False,
    threads: int | None = None,
) -> pd.DataFrame:
    """Score every gene set in every sample with every requested method.

    ``expr`` is a genes x samples log2 matrix (index: unique gene symbols; columns:
    sample ids). Genes with a NaN in any sample are dropped before scoring (and logged),
    so ranks and standardisations use only completely measured genes. Each set is first
    restricted to genes present in (the NaN-free) ``expr``; a set whose up part has fewer
    than ``min_size`` measured genes is skipped (not scored, logged). A down part with
    fewer than ``min_size`` measured genes is ignored (the set is scored on its up genes,
    logged). Sets with down genes are scored as up + reversed down by singscore and as
    ``score(up) - score(down)`` by the other methods. ssGSEA scores are normalised by the
    range over all the sets scored in this call (GSVA ``ssgsea.norm=TRUE``); ``seed`` is
    the ``random_state`` of scanpy's ``score_genes``. ``gsva_approx=True`` scores GSVA
    with its approximate kernel CDF (``gsva(kcdf_approx=True)``: O(genes x samples)
    instead of O(genes x samples^2), scores within 1e-3 of exact GSVA; used from 1,000
    samples and 5,000 genes, exact below); the default is exact GSVA as R GSVA 1.46.
    ``threads``: samples ranked in parallel by the rank-based methods (default: numba's
    thread count, which the workflow sets to the rule's ``threads``); results do not depend
    on it.

    Returns a long DataFrame with columns ``['sample', 'gene_set', 'method', 'score']``,
    one row per (sample, set, method), ordered by method, set, sample.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown scoring method(s) {unknown}; choose from {list(METHODS)}")
    df = _prepare(expr)
    kept = _measured_sets(df.index, gene_sets, min_size)
    log.info("scoring: %d gene sets x %d samples (%d genes) with %s", len(kept), df.shape[1], df.shape[0],
             ", ".join(methods))
    frames = []
    if kept:
        # singscore and ssGSEA from one sort per sample
        cohort = [m for m in methods if m in ("singscore", "ssgsea")]
        if threads is None:  # the rule's threads (runner._limit_threads sets numba's)
            import numba

            threads = numba.get_num_threads()
        shared = score_cohort(df, kept, cohort, threads=threads) if cohort else {}
        for method in methods:
            kwargs = {"seed": seed} if method == "score_genes" else {}
            if method == "gsva" and gsva_approx:
                kwargs = {"kcdf_approx": True}
            wide = shared[method] if method in shared else _FUNCS[method](df, kept, **kwargs)
            frames.append(_long_scores(wide, method))
    if not frames:
        return pd.DataFrame(
            {
                "sample": pd.Series(dtype=object),
                "gene_set": pd.Series(dtype=object),
                "method": pd.Series(dtype=object),
                "score": pd.Series(dtype=float),
            }
        )
    return pd.concat(frames, ignore_index=True)


def _measured_sets(genes: pd.Index, gene_sets: SetsLike, min_size: int) -> list[GeneSet]:
    """The sets restricted to the measured `genes`, in their order; a set with fewer than
    `min_size` measured up genes is skipped, a down part with fewer is dropped (both logged)."""
    kept: list[GeneSet] = []
    for gs in _as_gene_sets(gene_sets):
        up = tuple(genes[_indices(gs.up, genes)])
        down = tuple(genes[_indices(gs.down, genes)])
        if len(up) < min_size:
            log.info(
                "scoring: skipped gene set %s: %d of %d up genes measured (min_size %d)",
                gs.name,
                len(up),
                len(set(gs.up)),
                min_size,
            )
            continue
        if 0 < len(gs.down) and len(down) < min_size:
            log.info(
                "scoring: gene set %s: only %d down genes measured (min_size %d); "
                "scored on its up genes only",
                gs.name,
                len(down),
                min_size,
            )
            down = ()
        kept.append(GeneSet(gs.name, up, down, gs.source))
    return kept


def _long_scores(wide: pd.DataFrame, method: str) -> pd.DataFrame:
    """A sets x samples table of one method as long rows (sample, gene_set, method, score),
    ordered by set, then sample."""
    return pd.DataFrame(
        {
            "sample": np.tile(wide.columns.to_numpy(), wide.shape[0]),
            "gene_set": np.repeat(wide.index.to_numpy(), wide.shape[1]),
            "method": method,
            "score": wide.to_numpy().ravel(),
        }
    )


def aucell(expr: pd.DataFrame | np.ndarray, gene_sets: SetsLike, *, max_rank: float = 0.05) -> pd.DataFrame:
    """AUCell-style recovery AUC (Aibar et al. 2017, ``AUCell_calcAUC``).

    Per sample, genes are ordered by decreasing expression (ties in row order; AUCell
    breaks ties at random) and a set's AUC counts, for each of its genes at position
    ``r < K``, ``K - r``, divided by ``K * n`` (AUCell's ``maxAUC``) where ``K =
    round(max_rank * N)`` for a fraction (AUCell's default ``aucMaxRank`` is 5% of the
    genes) or ``max_rank`` itself for a number. Down genes are scored as a separate set and
    subtracted. Returns sets x samples.
    """
    return score_cohort(expr, gene_sets, ("aucell",), aucell_max_rank=max_rank)["aucell"]
