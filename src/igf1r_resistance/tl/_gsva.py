"""GSVA (Hänzelmann et al. 2013) exactly as R GSVA 1.46 (``kcdf="Gaussian"``), and its
approximate kernel CDF for large cohorts (``gsva(kcdf_approx=True)``).

Part of the set scores of :mod:`.scoring` (which re-exports :func:`gsva`; the conventions for
missing values, constant genes, ties and down genes are documented there). The exact kernel
CDF is a numba kernel (``_gsva_kernels.py``), checked bit for bit against the NumPy version
``_gsva_kcdf_numpy`` (``tests/test_gsva_kernel.py``); R parity in ``tests/test_scoring.py``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ._score_input import SetsLike, _as_gene_sets, _combine, _drop_constant, _prepare

# the logger of the scoring module: its lines in the rule logs read as before this module was split out
log = logging.getLogger("igf1r_resistance.tl.scoring")

# GSVA's kernel_estimation.c: Gaussian CDF looked up in a table of 10,001 values on
# [0, 10] (step 0.001, index truncated towards zero), bandwidth sd / 4.
_SIGMA_FACTOR = 4.0
_PRECOMPUTE_RESOLUTION = 10000
_MAX_PRECOMPUTE = 10.0


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
