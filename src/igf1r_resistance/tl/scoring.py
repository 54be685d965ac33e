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
from scipy.special import ndtr
from scipy.stats import rankdata

from ..genesets.catalogue import GeneSet
from ._cohort import COHORT_METHODS, score_cohort  # noqa: F401 (re-exported)
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
# GSVA's kernel_estimation.c: Gaussian CDF looked up in a table of 10,001 values on
# [0, 10] (step 0.001, index truncated towards zero), bandwidth sd / 4.
_SIGMA_FACTOR = 4.0
_PRECOMPUTE_RESOLUTION = 10000
_MAX_PRECOMPUTE = 10.0


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


# --------------------------------------------------------------------------- GSVA


def _c_sd(x: np.ndarray, rows_per_block: int = 256) -> np.ndarray:
    """Row sd as GSVA's C ``sd()`` (R's cov.c: long-double sums, refined mean).

    Computed in blocks of rows, so the long-double temporaries stay small (each row's
    sums are the same as over the whole matrix at once).
    """
    n = x.shape[1]
    out = np.empty(x.shape[0], dtype=np.float64)
    for start in range(0, x.shape[0], rows_per_block):
        xb = x[start : start + rows_per_block]
        xl = xb.astype(np.longdouble)
        tmp = xl.sum(axis=1) / n
        tmp = tmp + (xl - tmp[:, None]).sum(axis=1) / n
        mean = tmp.astype(np.float64)
        d = xb - mean[:, None]
        ss = (d * d).astype(np.longdouble).sum(axis=1)
        out[start : start + rows_per_block] = np.sqrt((ss / (n - 1)).astype(np.float64))
    return out


def _gsva_table() -> np.ndarray:
    """GSVA's precomputed normal CDF: ``Phi(10 m / 10000)``, m = 0..10000."""
    table = ndtr(_MAX_PRECOMPUTE * np.arange(_PRECOMPUTE_RESOLUTION + 1) / _PRECOMPUTE_RESOLUTION)
    # Phi(10) rounds to 1.0, so clamping |v| at 10 reproduces the C branches v < -10 -> 0
    # and v > 10 -> 1.
    assert table[-1] == 1.0
    return table


def _gsva_kcdf(x: np.ndarray) -> np.ndarray:
    """GSVA's Gaussian kernel CDF log-odds (``matrix_density_R``), genes x samples.

    For gene i and sample j: ``F = mean_k Phi((x_ij - x_ik) / h_i)``, ``h_i = sd(x_i)/4``,
    with Phi read from GSVA's precomputed table (truncated index, as in the C code), and
    the returned statistic is ``-log((1 - F) / F)``. Summation over k in sample order.

    The O(genes x samples^2) sum runs in a numba kernel
    (:func:`igf1r_resistance.tl._gsva_kernels.kcdf_left`), parallel over genes on numba's
    default number of threads (all cores, or ``NUMBA_NUM_THREADS``); it repeats the
    arithmetic of :func:`_gsva_kcdf_numpy` operation by operation and returns the same
    bits. Its first call in a fresh environment compiles it (a few seconds; then cached
    on disk).
    """
    from ._gsva_kernels import kcdf_left

    x = np.ascontiguousarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("GSVA kernel CDF: values must be finite and no gene constant")
    bw = _c_sd(x) / _SIGMA_FACTOR
    if not (bw > 0).all():
        raise ValueError("GSVA kernel CDF: values must be finite and no gene constant")
    left = kcdf_left(x, bw, _gsva_table(), _MAX_PRECOMPUTE, float(_PRECOMPUTE_RESOLUTION))
    # the log in NumPy, as in _gsva_kcdf_numpy (numba's scalar log may differ by an ulp)
    return -1.0 * np.log((1.0 - left) / left)


def _gsva_kcdf_numpy(x: np.ndarray) -> np.ndarray:
    """Reference NumPy implementation of :func:`_gsva_kcdf` (a loop over k, ~8 genes x
    samples temporaries per step; ~5x slower). Kept for tests/test_gsva_kernel.py."""
    table = _gsva_table()
    bw = _c_sd(x) / _SIGMA_FACTOR
    left = np.zeros_like(x)
    for k in range(x.shape[1]):
        v = (x - x[:, k : k + 1]) / bw[:, None]
        a = np.minimum(np.abs(v), _MAX_PRECOMPUTE)
        cdf = table[(a / _MAX_PRECOMPUTE * _PRECOMPUTE_RESOLUTION).astype(np.intp)]
        left += np.where(v < 0, 1.0 - cdf, cdf)
    left = left / x.shape[1]
    return -1.0 * np.log((1.0 - left) / left)


#: grid points per kernel bandwidth of the approximate kernel CDF (``gsva(kcdf_approx=True)``)
_KCDF_GRID_PER_BW = 64
#: genes per block of the approximate kernel CDF (sorted by their range in bandwidths)
_KCDF_BLOCK = 256
#: ``gsva(kcdf_approx=True)`` approximates only from this many samples: below it exact
#: GSVA is cheap anyway (12-25 s at 1,000 samples x 20,000 genes on 2 cores) ...
_KCDF_APPROX_MIN_SAMPLES = 1000
#: ... and from this many (non-constant) genes. The approximate statistic differs from the
#: exact one by up to ~4e-4 (GSVA's own Phi-table truncation noise, which no smooth
#: approximation reproduces), enough to swap genes of nearly equal statistic; one swap at
#: the running sum's extreme moves a score by 1 / (N - set size). Measured max |score
#: difference| (sets of 10-2,500 genes): ~0.7-1.7e-3 at 1,000-2,000 genes, 2.5e-4 to 7e-4
#: from 5,000 genes (correlated normal, heavy-tailed, rounded and count-like data, up to
#: 5,000 samples; it does not grow with the samples). docs/benchmarks.md.
_KCDF_APPROX_MIN_GENES = 5000


def _gsva_kernel(v: np.ndarray) -> np.ndarray:
    """GSVA's table-read Gaussian CDF as a smooth function of ``v = (x_ij - x_ik) / h``.

    The C code reads ``Phi`` at ``floor(|v| * 1000) / 1000``; averaged over the position of
    ``|v|`` within a table step that is ``Phi(|v| - 0.0005)`` (mirrored for ``v < 0``),
    and 0.5 at ``v = 0``. Saturates at ``|v| >= 10`` like the table.
    """
    half = 0.5 * _MAX_PRECOMPUTE / _PRECOMPUTE_RESOLUTION
    a = np.abs(v)
    cdf = np.where(a >= _MAX_PRECOMPUTE, 1.0, ndtr(a - half))
    out = np.where(v < 0, 1.0 - cdf, cdf)
    out[v == 0] = 0.5
    return out


def _gsva_kcdf_approx(x: np.ndarray, grid_per_bw: int = _KCDF_GRID_PER_BW,
                      block: int = _KCDF_BLOCK) -> np.ndarray:
    """Fast approximation of :func:`_gsva_kcdf`: O(genes x (samples + G log G)), not samples^2.

    Per gene, the samples are linearly binned onto a regular grid of spacing
    ``h / grid_per_bw`` spanning their range (G points), the kernel CDF is evaluated at
    every grid point by one FFT convolution of the bin weights with the kernel
    (:func:`_gsva_kernel`, which reproduces the mean effect of GSVA's truncated table) and
    linearly interpolated back at each sample. Both steps are linear interpolations of a
    smooth function, so the error in F is O((1 / grid_per_bw)^2) (about 1e-6 at 64); the
    rest of the difference from the exact F is the exact method's own table-truncation
    noise (each pair's Phi read at ``floor(|v| * 1000) / 1000``), ~1e-4 / sqrt(samples),
    which no smooth kernel reproduces: the log-odds differ by up to ~4e-4.
    Genes are processed in blocks of similar range (in bandwidths) sharing one grid size;
    binning and interpolation run in numba kernels parallel over genes, the FFTs on as
    many scipy workers as numba has threads. (The bandwidth uses NumPy's float64 sd, not
    GSVA's long-double one: the same to ~1e-16, and 5x faster.)
    """
    import numba
    from scipy import fft

    from ._gsva_kernels import approx_bin, approx_interp

    x = np.ascontiguousarray(x, dtype=np.float64)
    n_genes, n = x.shape
    workers = numba.get_num_threads()
    bw = x.std(axis=1, ddof=1) / _SIGMA_FACTOR
    lo = x.min(axis=1)
    span = (x.max(axis=1) - lo) / bw  # range in bandwidths
    out = np.empty(x.shape, dtype=np.float64)
    scale = grid_per_bw / bw  # grid steps per unit of x
    kernels: dict[tuple[int, int], np.ndarray] = {}
    by_span = np.argsort(span, kind="stable")
    for start in range(0, n_genes, block):
        rows = by_span[start : start + block]
        g = int(np.ceil(span[rows].max() * grid_per_bw)) + 2  # grid points 0..g-1
        length = fft.next_fast_len(3 * g - 2, real=True)
        if (g, length) not in kernels:
            m = np.arange(-(g - 1), g, dtype=np.float64) / grid_per_bw
            kernels[(g, length)] = fft.rfft(_gsva_kernel(m), n=length)
        w = approx_bin(x, rows, lo, scale, g)
        spec = fft.rfft(w, n=length, axis=1, workers=workers)
        spec *= kernels[(g, length)]
        conv = fft.irfft(spec, n=length, axis=1, workers=workers)
        grid_cdf = np.ascontiguousarray(conv[:, g - 1 : 2 * g - 1]) / n
        approx_interp(x, rows, lo, scale, grid_cdf, out)  # F at the samples
    for start in range(0, n_genes, block):  # log-odds, in place, block by block
        f = out[start : start + block]
        odds = np.divide(1.0 - f, f)
        np.log(odds, out=f)
        np.negative(f, out=f)
    return out


def _gsva_use_approx(n_genes: int, n_samples: int) -> bool:
    """Whether ``gsva(kcdf_approx=True)`` approximates the kernel CDF (see :func:`gsva`)."""
    return n_samples >= _KCDF_APPROX_MIN_SAMPLES and n_genes >= _KCDF_APPROX_MIN_GENES


def _gsva_positions(stat: np.ndarray, samples_per_block: int = 128) -> np.ndarray:
    """Samples x genes: 1-based position of each gene when the genes of a sample are
    ordered by decreasing ``stat`` (genes x samples), ties in row order (R's stable
    ``order(decreasing=TRUE)``).

    Sorted per sample on contiguous memory, in blocks of samples (on as many threads as
    numba uses for the kernel CDF; NumPy releases the GIL while sorting), with NumPy's
    SIMD quicksort; a sample whose sorted statistics contain a tie (or a NaN) is
    re-sorted with the stable sort, so the result is that of a stable sort throughout.
    """
    from concurrent.futures import ThreadPoolExecutor

    import numba

    n_genes, n_samples = stat.shape
    pos_t = np.empty((n_samples, n_genes), dtype=np.int32 if n_genes < 2**31 else np.intp)
    position = np.arange(1, n_genes + 1, dtype=pos_t.dtype)[None, :]

    def one_block(s0: int) -> None:
        neg = np.ascontiguousarray(stat[:, s0 : s0 + samples_per_block].T)
        np.negative(neg, out=neg)
        order = np.argsort(neg, axis=1, kind="quicksort")
        srt = np.take_along_axis(neg, order, axis=1)
        redo = (srt[:, 1:] == srt[:, :-1]).any(axis=1) | np.isnan(srt[:, -1])
        for r in np.flatnonzero(redo):
            order[r] = np.argsort(neg[r], kind="stable")
        np.put_along_axis(pos_t[s0 : s0 + samples_per_block], order, position, axis=1)

    starts = range(0, n_samples, samples_per_block)
    threads = min(numba.get_num_threads(), len(starts))
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one_block, starts))
    else:
        for s0 in starts:
            one_block(s0)
    return pos_t


def gsva(
    expr: pd.DataFrame | np.ndarray,
    gene_sets: SetsLike,
    *,
    tau: float = 1.0,
    mx_diff: bool = True,
    kcdf_approx: bool | None = None,
) -> pd.DataFrame:
    """GSVA (Hänzelmann et al. 2013) exactly as R GSVA 1.46, ``kcdf="Gaussian"``.

    Constant genes are dropped; each gene's expression is turned into the log-odds of a
    Gaussian-kernel CDF estimated over the samples (see :func:`_gsva_kcdf`); per sample,
    genes are ordered by decreasing statistic (ties in row order) and the gene at
    position ``p`` (1-based) of ``N`` gets the symmetric rank score ``|N - p + 1 - N/2|``.
    The random walk adds ``score ** tau / sum(set scores ** tau)`` at set genes and
    subtracts ``1 / (N - n)`` elsewhere; the result is max + min deviation (``mx_diff``)
    or the larger deviation in absolute value. Returns sets x samples.

    ``kcdf_approx``: ``None``/``False`` (default) computes the kernel CDF exactly
    (:func:`_gsva_kcdf`, numba, parallel over genes), O(genes x samples^2): 12-25 s at
    1,000 samples x 20,000 genes on 2 cores (R GSVA 1.46: 84-93 s), 4x that per doubling
    of the samples (~30 min at 10,000 samples).
    ``True`` uses :func:`_gsva_kcdf_approx` (grid binning + FFT convolution +
    interpolation, O(genes x samples)) **only** when there are at least
    ``_KCDF_APPROX_MIN_SAMPLES`` (1,000) samples and ``_KCDF_APPROX_MIN_GENES`` (5,000)
    non-constant genes, where its scores are within 1e-3 of exact GSVA (measured max
    |difference| 2.5e-4 to 7e-4); otherwise it computes the exact kernel CDF (fewer
    samples: exact is cheap; fewer genes: one swap of two genes with nearly equal
    statistics can move a score by more than 1e-3). See docs/benchmarks.md, "GSVA and
    differential expression at scale", and tests/test_gsva_approx.py.
    """
    df = _drop_constant(_prepare(expr))
    sets = _as_gene_sets(gene_sets)
    n_genes, n_samples = df.shape
    approx = bool(kcdf_approx) and _gsva_use_approx(n_genes, n_samples)
    if kcdf_approx and not approx:
        log.info("gsva: exact kernel CDF for %d genes x %d samples (the approximation is "
                 "used from %d samples and %d genes)", n_genes, n_samples,
                 _KCDF_APPROX_MIN_SAMPLES, _KCDF_APPROX_MIN_GENES)
    stat = (_gsva_kcdf_approx if approx else _gsva_kcdf)(df.to_numpy())
    pos_t = _gsva_positions(stat)  # samples x genes
    del stat
    rank_score = np.abs(np.arange(n_genes, 0, -1) - n_genes / 2)  # by position

    def part_scores(batch: list[np.ndarray]) -> np.ndarray:
        es = np.empty((len(batch), n_samples))
        for i, idx in enumerate(batch):
            k = len(idx)
            # Closed form of the running sum: it only rises at set genes, so its maximum
            # is reached just after and its minimum just before a set gene (or at 0).
            # k x samples, 1-based positions (C order, so the sums below run as before)
            p = np.ascontiguousarray(np.sort(pos_t[:, idx], axis=1).T)
            w = rank_score[p - 1] ** tau
            w = w / w.sum(axis=0)
            before_out = (p - np.arange(1, k + 1)[:, None]) / (n_genes - k)
            cum = np.cumsum(w, axis=0)
            mx_pos = np.maximum((cum - before_out).max(axis=0), 0.0)
            mx_neg = np.minimum((cum - w - before_out).min(axis=0), 0.0)
            if mx_diff:
                es[i] = mx_pos + mx_neg
            else:
                es[i] = np.where(mx_pos > np.abs(mx_neg), mx_pos, mx_neg)
        return es

    return _combine(sets, df.index, df.columns, part_scores)


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
    kept: list[GeneSet] = []
    for gs in _as_gene_sets(gene_sets):
        up = tuple(df.index[_indices(gs.up, df.index)])
        down = tuple(df.index[_indices(gs.down, df.index)])
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
            frames.append(
                pd.DataFrame(
                    {
                        "sample": np.tile(wide.columns.to_numpy(), wide.shape[0]),
                        "gene_set": np.repeat(wide.index.to_numpy(), wide.shape[1]),
                        "method": method,
                        "score": wide.to_numpy().ravel(),
                    }
                )
            )
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
