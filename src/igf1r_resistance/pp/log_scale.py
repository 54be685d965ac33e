"""The log2 decision of preparation: GEO2R's rule on the value quantiles, applied without
copying a large matrix.

GEO2R (Barrett T et al. (2013). NCBI GEO: archive for functional genomics data sets - update.
*Nucleic Acids Res* 41:D991-D995) log2-transforms when the 99th percentile exceeds 100, or the
range exceeds 50 with a positive first quartile; values <= 0 become missing first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError


@dataclass(frozen=True)
class Log2Decision:
    """The outcome of the log2 rule and the numbers that drove it."""

    transformed: bool
    mode: str  # auto | yes | no (the config value)
    reason: str
    quantiles: dict[str, float]  # q0, q25, q50, q75, q99, q100 of the raw values
    n_nonpositive_set_missing: int

    def as_dict(self) -> dict:
        return {
            "transformed": self.transformed,
            "mode": self.mode,
            "reason": self.reason,
            "n_nonpositive_set_missing": self.n_nonpositive_set_missing,
            **{f"quantile_{k}": v for k, v in self.quantiles.items()},
        }


#: matrices with more values than this are scanned in row blocks of about this many values
BLOCK_CELLS = 2**22
_QUANTILE_BINS = 2**18


def _row_blocks(values: np.ndarray, block_cells: int):
    """Blocks (views) of a 1-D or 2-D array, each of about `block_cells` values, along the
    axis that keeps each block's values close in memory (rows of a C-ordered array,
    columns of a Fortran-ordered one): together they cover every value once."""
    x = values.reshape(-1, 1) if values.ndim == 1 else values
    if x.ndim == 2 and abs(x.strides[0]) < abs(x.strides[1]):
        x = x.T
    step = max(1, block_cells // max(x.shape[1], 1))
    for start in range(0, x.shape[0], step):
        yield x[start:start + step]


def finite_quantiles(values: np.ndarray, probs, block_cells: int = BLOCK_CELLS) -> tuple[int, np.ndarray]:
    """`(n, q)`: the number of finite values of `values` and their quantiles at `probs`.

    Equal, to the last bit, to `np.quantile(values[np.isfinite(values)], probs)` (type 7,
    linear interpolation), without copying the values when the array is large: the order
    statistics the interpolation needs are found in two passes over row blocks, a
    histogram of the values into monotone bins, then the sorted distinct values (with
    their counts) of only the bins holding the wanted ranks. `q` is all-NaN when n = 0.
    """
    probs = np.asarray(probs, dtype=float)
    values = np.asarray(values)
    if values.size <= block_cells:
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return 0, np.full(probs.shape, np.nan)
        return int(finite.size), np.quantile(finite, probs)
    n, lo, hi = _finite_range(values, block_cells)
    if n == 0:
        return 0, np.full(probs.shape, np.nan)
    prev, nxt, gamma = _linear_ranks(n, probs)
    ranks = np.unique(np.concatenate([prev % n, nxt % n]))
    span = hi - lo
    if span == 0:
        stats = {int(k): lo for k in ranks}
    else:
        if not np.isfinite(span):
            # values spanning more than the float range: a copy, as np.quantile makes
            finite = values[np.isfinite(values)]
            return n, np.quantile(finite, probs)
        stats = _order_statistics(values, ranks, lo, span, block_cells)
    a = np.array([stats[int(k)] for k in prev % n])
    b = np.array([stats[int(k)] for k in nxt % n])
    # numpy's _lerp
    diff_b_a = b - a
    out = np.add(a, diff_b_a * gamma)
    np.subtract(b, diff_b_a * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe")
    return n, out


def _finite_range(values: np.ndarray, block_cells: int) -> tuple[int, float, float]:
    """Number, minimum and maximum of the finite values, one pass over row blocks."""
    n, lo, hi = 0, np.inf, -np.inf
    for block in _row_blocks(values, block_cells):
        v = block[np.isfinite(block)]
        if v.size:
            n += v.size
            lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
    return n, lo, hi


def _linear_ranks(n: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ranks numpy's linear method reads (numpy.lib._function_base_impl._quantile):
    the lower and upper order statistic of each probability (-1: the last) and the weight
    of the upper one."""
    virtual = (n - 1) * probs
    prev = np.floor(virtual)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = -1
    nxt[above] = -1
    below = virtual < 0
    prev[below] = 0
    nxt[below] = 0
    prev, nxt = prev.astype(np.intp), nxt.astype(np.intp)
    gamma = np.asarray(virtual - prev, dtype=virtual.dtype)
    return prev, nxt, gamma


def _order_statistics(values: np.ndarray, ranks: np.ndarray, lo: float, span: float,
                      block_cells: int) -> dict[int, float]:
    """rank -> value of the finite values at `ranks` (0-based, ascending), without a copy:
    a histogram into monotone bins over [lo, lo + span], then the sorted distinct values
    (with their counts) of only the bins that hold a wanted rank and several values."""
    scale = _QUANTILE_BINS / span

    def bins_of(v: np.ndarray) -> np.ndarray:  # monotone in v: equal values share a bin
        return np.minimum(((v - lo) * scale).astype(np.int64), _QUANTILE_BINS - 1)

    counts = np.zeros(_QUANTILE_BINS, dtype=np.int64)
    bin_min = np.full(_QUANTILE_BINS, np.inf)
    bin_max = np.full(_QUANTILE_BINS, -np.inf)
    for block in _row_blocks(values, block_cells):
        v = block[np.isfinite(block)]
        b = bins_of(v)
        counts += np.bincount(b, minlength=_QUANTILE_BINS)
        np.minimum.at(bin_min, b, v)
        np.maximum.at(bin_max, b, v)
    ends = np.cumsum(counts)  # ranks of bin b: ends[b] - counts[b] .. ends[b] - 1
    rank_bin = np.searchsorted(ends, ranks, side="right")
    stats = {int(k): float(bin_min[b]) for k, b in zip(ranks, rank_bin) if bin_min[b] == bin_max[b]}
    wanted = np.zeros(_QUANTILE_BINS, dtype=bool)  # bins of several distinct values
    wanted[[b for k, b in zip(ranks, rank_bin) if int(k) not in stats]] = True
    if wanted.any():
        distinct, weights = [], []
        for block in _row_blocks(values, block_cells):
            v = block[np.isfinite(block)]
            v = v[wanted[bins_of(v)]]
            if v.size:
                u, c = np.unique(v, return_counts=True)
                distinct.append(u)
                weights.append(c)
        u, inverse = np.unique(np.concatenate(distinct), return_inverse=True)
        c = np.bincount(inverse, weights=np.concatenate(weights)).astype(np.int64)
        u_bin = bins_of(u)  # ascending, as u is
        for k, b in zip(ranks, rank_bin):
            if int(k) in stats:
                continue
            first, last = np.searchsorted(u_bin, b, side="left"), np.searchsorted(u_bin, b, side="right")
            within = int(k) - int(ends[b] - counts[b])  # rank among the bin's values
            stats[int(k)] = float(u[first + np.searchsorted(np.cumsum(c[first:last]), within, side="right")])
    return stats


def geo2r_needs_log2(values: np.ndarray) -> tuple[bool, dict[str, float]]:
    """GEO2R's rule: log-transform when q99 > 100, or when max - min > 50 and q25 > 0.

    Quantiles as R's `quantile(ex, c(0, .25, .5, .75, .99, 1), na.rm=TRUE)` (type 7,
    numpy's default linear interpolation), computed without copying a large matrix.
    """
    n_finite, q = finite_quantiles(values, [0.0, 0.25, 0.5, 0.75, 0.99, 1.0])
    if n_finite == 0:
        raise ValueError("no finite expression values")
    names = ["q0", "q25", "q50", "q75", "q99", "q100"]
    quantiles = {n: float(v) for n, v in zip(names, q)}
    needs = bool(q[4] > 100 or (q[5] - q[0] > 50 and q[1] > 0))
    return needs, quantiles


def apply_log2(expr: pd.DataFrame, mode: str = "auto", *, inplace: bool = False) -> tuple[pd.DataFrame, Log2Decision]:
    """Apply the log2 decision (`mode`: auto = GEO2R rule, yes = always, no = never).

    As GEO2R does, values <= 0 become missing before the log is taken. With
    `inplace=True` the log is written into `expr`'s own values (no copy of a large
    matrix; `expr` must not be used afterwards).
    """
    if mode not in {"auto", "yes", "no"}:
        raise ConfigError(f"log2 must be one of auto, yes, no (got {mode!r})")
    needs, quantiles = geo2r_needs_log2(expr.to_numpy(dtype=float))
    if mode == "auto":
        transform = needs
        reason = (
            f"GEO2R rule: q99 = {quantiles['q99']:.4g}, max - min = "
            f"{quantiles['q100'] - quantiles['q0']:.4g}, q25 = {quantiles['q25']:.4g} -> "
            + ("values look linear, log2 applied" if needs else "values look log-scaled, kept")
        )
    else:
        transform = mode == "yes"
        reason = f"set in config (log2: {mode}); the GEO2R rule would have said {'yes' if needs else 'no'}"
    n_nonpositive = 0
    if transform:
        values = expr.to_numpy(dtype=float)
        if not inplace:
            values = values.copy()
        for block in _row_blocks(values, BLOCK_CELLS):  # views: bounded temporaries
            nonpositive = block <= 0
            n_nonpositive += int(nonpositive.sum())
            block[nonpositive] = np.nan
            with np.errstate(invalid="ignore", divide="ignore"):
                np.log2(block, out=block)
        expr = pd.DataFrame(values, index=expr.index, columns=expr.columns, copy=False)
    return expr, Log2Decision(transform, mode, reason, quantiles, n_nonpositive)
