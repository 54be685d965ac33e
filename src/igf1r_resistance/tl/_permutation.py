"""Two-sided label-permutation tests of a difference in means (Phipson & Smyth 2010,
Stat Appl Genet Mol Biol 9:39), exact or Monte-Carlo, split into chunks that combine exactly.

Part of :mod:`.stats` (which re-exports these names); reference values in
``tests/data/reference/stats_*.tsv`` (``tests/reference/make_stats_fixtures.R``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

#: Relative tolerance for ties between permuted and observed |mean difference|.
_PERM_TOL = 1e-12


def _clean_group(values: np.ndarray, name: str) -> np.ndarray:
    """Return `values` as a 1-D float array with NaNs dropped; reject infinities and n < 2."""
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[~np.isnan(arr)]
    if np.isinf(arr).any():
        raise ValueError(f"the {name} group contains infinite values; remove or fix them")
    if arr.size < 2:
        raise ValueError(
            f"the {name} group has {arr.size} non-missing value(s); at least 2 are needed"
        )
    return arr


def _perm_diffs(centred: np.ndarray, idx: np.ndarray, total: float, n1: int, n2: int) -> np.ndarray:
    """Mean differences (group 1 - group 2) when the rows of `idx` index group 1."""
    s1 = centred[idx].sum(axis=1)
    return s1 / n1 - (total - s1) / n2


@dataclass(frozen=True)
class PermutationCount:
    """Relabellings of one comparison whose |mean difference| reaches the observed one.

    A permutation test is split into `units` -- the C(n1 + n2, n1) relabellings when
    they are enumerated (`exact`), else Monte-Carlo blocks of permutations -- and a count
    covers units ``[start, stop)`` holding `n_done` relabellings. Counts of disjoint unit
    ranges add up (:meth:`combine`); the p-value needs them all (:attr:`p`).
    """

    count: int
    n_done: int
    n_total: int
    exact: bool
    start: int
    stop: int
    units: int

    @property
    def complete(self) -> bool:
        return self.start == 0 and self.stop == self.units and self.n_done == self.n_total

    @property
    def p(self) -> float:
        """Exact: count / C. Monte Carlo: (1 + count) / (1 + B) (Phipson & Smyth 2010)."""
        if not self.complete:
            raise ValueError(
                f"permutation count covers units {self.start}-{self.stop} of {self.units} "
                f"({self.n_done} of {self.n_total} relabellings); a p-value needs them all"
            )
        if self.exact:
            return self.count / self.n_total
        return (1 + self.count) / (1 + self.n_total)

    @staticmethod
    def combine(parts: list[PermutationCount]) -> PermutationCount:
        """Sum counts of contiguous, non-overlapping unit ranges of the same test."""
        parts = sorted(parts, key=lambda c: c.start)
        first = parts[0]
        pos = first.start
        for c in parts:
            if (c.exact, c.units, c.n_total) != (first.exact, first.units, first.n_total):
                raise ValueError("permutation counts of different tests cannot be combined")
            if c.start != pos:
                raise ValueError(f"permutation counts leave a gap or overlap at unit {pos}")
            pos = c.stop
        return PermutationCount(
            count=sum(c.count for c in parts), n_done=sum(c.n_done for c in parts),
            n_total=first.n_total, exact=first.exact, start=first.start, stop=pos, units=first.units,
        )


def permutation_block_size(n: int) -> int:
    """Monte-Carlo permutations per block for n samples: <= 1,000 and <= 10^7 / n indices.

    Blocks are the units of the random stream (block b is drawn from
    ``default_rng([seed, b])``), so their size depends only on n, never on how the work
    is split: any split into chunks draws the same relabellings as one run.
    """
    return max(1, min(1000, 10_000_000 // max(n, 1)))


def permutation_units(n1: int, n2: int, *, max_exact: int, n_permutations: int) -> tuple[bool, int, int]:
    """(exact, number of units, number of relabellings) of a n1-vs-n2 permutation test."""
    n_comb = math.comb(n1 + n2, n1)
    if n_comb <= max_exact:
        return True, n_comb, n_comb
    size = permutation_block_size(n1 + n2)
    return False, -(-n_permutations // size), n_permutations


def permutation_counts(
    pairs: list[tuple[np.ndarray, np.ndarray]],
    *,
    max_exact: int = 10_000,
    n_permutations: int = 10_000,
    seed: int = 0,
    chunk: int = 0,
    n_chunks: int = 1,
) -> list[PermutationCount]:
    """Chunk `chunk` of `n_chunks` of the permutation tests of several comparisons.

    Each pair is (resistant, sensitive) values (NaNs dropped). The units of each test
    (enumerated relabellings, or Monte-Carlo blocks) are split into `n_chunks` contiguous
    ranges ``[k U // N, (k + 1) U // N)`` and this call counts range `chunk`. Pairs with
    the same group sizes share the relabellings, so each block of random relabellings is
    drawn once for all of them. The counts of all chunks, combined, equal those of one
    unsplit call exactly (integers over the same relabellings).
    """
    if n_chunks < 1 or not 0 <= chunk < n_chunks:
        raise ValueError(f"permutation chunk {chunk} of {n_chunks}: need 0 <= chunk < chunks")
    if max_exact < 0:
        raise ValueError(f"max_exact must be >= 0, got {max_exact}")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    prepared = []
    for r, s in pairs:
        r = _clean_group(r, "resistant")
        s = _clean_group(s, "sensitive")
        values = np.concatenate([r, s])
        centred = values - values.mean()  # better float precision for large offsets
        total = float(centred.sum())
        observed = _perm_diffs(centred, np.arange(r.size)[None, :], total, r.size, s.size)[0]
        threshold = abs(observed) - _PERM_TOL * float(np.max(np.abs(centred)))
        prepared.append((r.size, s.size, centred, total, threshold))

    out: list[PermutationCount | None] = [None] * len(prepared)
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, (n1, n2, *_rest) in enumerate(prepared):
        by_size.setdefault((n1, n2), []).append(i)
    for (n1, n2), members in by_size.items():
        n = n1 + n2
        exact, units, n_total = permutation_units(n1, n2, max_exact=max_exact, n_permutations=n_permutations)
        start, stop = chunk * units // n_chunks, (chunk + 1) * units // n_chunks
        counts = dict.fromkeys(members, 0)
        if exact:
            combos = itertools.islice(itertools.combinations(range(n), n1), start, stop)
            while batch := list(itertools.islice(combos, 100_000)):
                idx = np.asarray(batch, dtype=np.intp)
                for i in members:
                    _, _, centred, total, threshold = prepared[i]
                    diffs = _perm_diffs(centred, idx, total, n1, n2)
                    counts[i] += int(np.count_nonzero(np.abs(diffs) >= threshold))
            n_done = stop - start
        else:
            size = permutation_block_size(n)
            base = np.arange(n, dtype=np.intp)
            n_done = 0
            for b in range(start, stop):
                rows = min(size, n_permutations - b * size)
                rng = np.random.default_rng([seed, b])
                idx = rng.permuted(np.tile(base, (rows, 1)), axis=1)[:, :n1]
                for i in members:
                    _, _, centred, total, threshold = prepared[i]
                    diffs = _perm_diffs(centred, idx, total, n1, n2)
                    counts[i] += int(np.count_nonzero(np.abs(diffs) >= threshold))
                n_done += rows
        for i in members:
            out[i] = PermutationCount(count=counts[i], n_done=n_done, n_total=n_total, exact=exact,
                                      start=start, stop=stop, units=units)
    return out  # type: ignore[return-value]


def permutation_p(
    resistant: np.ndarray,
    sensitive: np.ndarray,
    *,
    max_exact: int = 10_000,
    n_permutations: int = 10_000,
    seed: int = 0,
) -> tuple[float, bool]:
    """Two-sided label-permutation p-value of mean(resistant) - mean(sensitive).

    Exact when the C(n1 + n2, n1) relabellings number at most `max_exact`: all are
    enumerated (the observed one included) and p = #{|diff| >= |observed|} / C.
    Otherwise Monte Carlo with `n_permutations` random relabellings, drawn in blocks of
    :func:`permutation_block_size` (block b from ``numpy.random.default_rng([seed, b])``),
    and p = (1 + #{|diff| >= |observed|}) / (1 + B) (Phipson & Smyth 2010), which is
    never 0 and keeps the test valid. The work can be split into chunks
    (:func:`permutation_counts`) without changing the result.

    Ties: |diff| >= |observed| - 1e-12 * max|x - mean(x)|, so relabellings whose
    difference equals the observed one up to floating-point rounding count as ties
    (the 1e-12 tolerance is relative to the data scale).

    Returns:
        (p, exact) where `exact` is True when all relabellings were enumerated.

    Raises:
        ValueError: fewer than 2 non-missing values in a group, infinite values, or
            max_exact < 0 / n_permutations < 1.
    """
    (c,) = permutation_counts([(resistant, sensitive)], max_exact=max_exact,
                              n_permutations=n_permutations, seed=seed)
    return c.p, c.exact
