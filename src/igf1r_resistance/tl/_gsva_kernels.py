"""Numba kernel of GSVA's exact Gaussian kernel CDF (used by ``_gsva._gsva_kcdf``).

Kept in its own module so that importing :mod:`igf1r_resistance.tl._gsva` does not import
numba; ``_gsva._gsva_kcdf`` imports it on first use.

Arithmetic. The kernel reproduces GSVA 1.46's ``matrix_density_R`` as the NumPy reference
``_gsva._gsva_kcdf_numpy`` computes it, operation by operation, so the two agree bit
for bit (``tests/test_gsva_kernel.py``): per gene ``i`` and sample ``j``,
``left_ij = sum_k T(v)`` with ``v = (x_ij - x_ik) / bw_i`` and
``T(v) = table[int(min(|v|, 10) / 10 * 10000)]`` (``1 - table[...]`` for ``v < 0``, taken
from a second, precomputed half of the table: the same subtraction), the terms added in
sample order ``k = 0, 1, ..., n - 1`` starting from 0.0; the kernel returns
``left_ij / n``. Compiled without fastmath, so LLVM may neither reassociate the sum nor
fold ``/ 10 * 10000`` into ``* 1000``.

Speed. Parallel over genes (``prange``) with numba's default thread count: the number of
cores, or ``NUMBA_NUM_THREADS`` if set (``numba.set_num_threads`` lowers it at run time).
For each gene the samples ``j`` are cut into tiles of ``_TILE``; for every ``k`` (in
order) a branch-free loop over the tile computes the table indices (vectorised by LLVM:
SIMD subtraction, division, truncation, select), then a scalar loop adds the table
values to the tile's ``left`` accumulators -- each ``left_ij`` still receives its terms in
sample order. Tiles of ``x_i``, indices and ``left`` stay in L1, the table in L2.
Compiled on first call (a few seconds) and cached on disk (``cache=True``: next to this
file in ``__pycache__``, or under ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: samples per tile (``x_i``, ``left`` in float64 and indices in int32: 20 KiB)
_TILE = 1024


@njit(parallel=True, cache=True, nogil=True)
def kcdf_left(x: np.ndarray, bw: np.ndarray, table: np.ndarray, max_v: float,
              resolution: float) -> np.ndarray:
    """``left_ij / n`` of GSVA's kernel CDF (module docstring); x: genes x samples, C order.

    ``table[m] = Phi(max_v * m / resolution)``, ``m = 0..resolution`` with
    ``table[-1] == 1.0``; ``bw``: per-gene bandwidth (> 0).
    """
    n_genes, n = x.shape
    size = table.size
    both = np.empty(2 * size, dtype=np.float64)  # T(v) for v >= 0, then for v < 0
    for m in range(size):
        both[m] = table[m]
        both[size + m] = 1.0 - table[m]
    neg = np.int32(size)
    out = np.empty((n_genes, n), dtype=np.float64)
    for i in prange(n_genes):
        row = x[i]
        h = bw[i]
        left = np.empty(_TILE, dtype=np.float64)
        idx = np.empty(_TILE, dtype=np.int32)
        for j0 in range(0, n, _TILE):
            tile = row[j0 : j0 + _TILE]
            m = tile.size
            left[:] = 0.0
            for k in range(n):
                xk = row[k]
                for jj in range(m):  # vectorised
                    v = (tile[jj] - xk) / h
                    a = abs(v)
                    a = a if a < max_v else max_v  # = min(|v|, 10); NaN -> 10, never out of range
                    s = np.int32(a / max_v * resolution)
                    idx[jj] = s + neg if v < 0.0 else s
                for jj in range(m):
                    left[jj] += both[idx[jj]]
            for jj in range(m):
                out[i, j0 + jj] = left[jj] / n
    return out


# --------------------------------------------------------------------------- approximate


@njit(parallel=True, cache=True, nogil=True)
def approx_bin(x: np.ndarray, rows: np.ndarray, lo: np.ndarray, scale: np.ndarray,
               g: int) -> np.ndarray:
    """Linear binning of genes ``rows`` of x onto ``g`` grid points ``lo_i + m / scale_i``.

    Returns len(rows) x g weights: sample value ``u = (x_ij - lo_i) * scale_i`` gives
    ``1 - f`` to grid point ``floor(u)`` and ``f = u - floor(u)`` to the next one.
    """
    nr = rows.size
    n = x.shape[1]
    w = np.zeros((nr, g), dtype=np.float64)
    for r in prange(nr):
        i = rows[r]
        for j in range(n):
            u = (x[i, j] - lo[i]) * scale[i]
            i0 = min(np.int64(u), g - 2)  # u >= 0: truncation = floor
            f = u - i0
            w[r, i0] += 1.0 - f
            w[r, i0 + 1] += f
    return w


@njit(parallel=True, cache=True, nogil=True)
def approx_interp(x: np.ndarray, rows: np.ndarray, lo: np.ndarray, scale: np.ndarray,
                  grid: np.ndarray, out: np.ndarray) -> None:
    """``out[rows]``: ``grid`` (len(rows) x g, on the grid of :func:`approx_bin`) linearly
    interpolated at the samples."""
    nr = rows.size
    n = x.shape[1]
    g = grid.shape[1]
    for r in prange(nr):
        i = rows[r]
        for j in range(n):
            u = (x[i, j] - lo[i]) * scale[i]
            i0 = min(np.int64(u), g - 2)
            f = u - i0
            out[i, j] = (1.0 - f) * grid[r, i0] + f * grid[r, i0 + 1]
