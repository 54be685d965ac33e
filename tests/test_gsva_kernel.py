"""The numba kernel of GSVA's exact kernel CDF against the NumPy reference, bit for bit.

``_gsva._gsva_kcdf`` (numba, ``_gsva_kernels.kcdf_left``) must return exactly the bits
of ``_gsva._gsva_kcdf_numpy`` (the former implementation, which reproduces R GSVA 1.46
to ~1e-14 on the fixtures of tests/test_scoring.py), and ``gsva``'s ranking
(``_gsva_positions``) exactly the positions of a stable argsort.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from igf1r_resistance.tl import _gsva, _gsva_kernels, scoring


def assert_same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    assert np.array_equal(a.view(np.int64), b.view(np.int64)), np.nanmax(np.abs(a - b))


def matrix(n_genes: int, n_samples: int, seed: int) -> np.ndarray:
    """Normal rows of mixed scale and offset, negative values, ties, near-constant rows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n_genes, n_samples)) * rng.uniform(0.05, 3, (n_genes, 1))
    x += rng.normal(0, 5, (n_genes, 1))  # negative and positive rows
    x[0] = np.round(x[0])  # many ties within a gene
    x[1] = rng.integers(0, 3, n_samples) * 0.5 - 7.25  # three values only
    x[2] = 1e6 + rng.normal(0, 1e-3, n_samples)  # large offset, small spread
    x[3] = 3.0 + rng.normal(0, 1e-8, n_samples)  # nearly constant (sd above GSVA's 1e-10)
    x[4] = np.r_[np.zeros(n_samples - 1), 50.0]  # one outlier: most |v| saturate at 10
    if n_samples >= 10:
        x[:, 1::7] = x[:, :1]  # tied samples (identical columns)
    x[5] = x[6]  # identical genes
    return x[_gsva._c_sd(x) >= 1e-10]  # with 2-3 samples a rounded row can be constant


def test_kernel_rejects_constant_genes_and_non_finite_values():
    x = matrix(10, 20, 0)
    for bad in (np.r_[x, np.full((1, 20), 2.0)], np.where(x == x[0, 0], np.inf, x)):
        with pytest.raises(ValueError, match="finite and no gene constant"):
            _gsva._gsva_kcdf(bad)


@pytest.mark.parametrize("n_genes,n_samples,seed", [(40, 2, 0), (30, 3, 1), (60, 37, 2), (25, 250, 3),
                                                     (12, 1024, 4), (20, 1031, 5), (8, 2100, 6)])
def test_kernel_bitwise_equal_to_numpy_reference(n_genes, n_samples, seed):
    # 1024 is the kernel's tile of samples: 1031 and 2100 cross tile boundaries
    x = matrix(n_genes, n_samples, seed)
    assert_same_bits(_gsva._gsva_kcdf(x), _gsva._gsva_kcdf_numpy(x))


def test_kernel_on_r_fixture_data_equals_reference():
    from pathlib import Path

    ref = Path(__file__).parent / "data" / "reference"
    for case in ("random", "gse27473", "ties"):
        expr = pd.read_csv(ref / f"scoring_{case}_expr.tsv", sep="\t", index_col=0)
        x = scoring._drop_constant(expr).to_numpy()
        assert_same_bits(_gsva._gsva_kcdf(x), _gsva._gsva_kcdf_numpy(x))


def test_kernel_layout_dtype_and_threads_do_not_matter():
    x = matrix(30, 300, 7)
    ref = _gsva._gsva_kcdf_numpy(x)
    assert_same_bits(_gsva._gsva_kcdf(np.asfortranarray(x)), ref)
    wide = np.repeat(x, 2, axis=1)[:, ::2]  # a strided view equal to x
    assert_same_bits(_gsva._gsva_kcdf(wide), ref)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert_same_bits(_gsva._gsva_kcdf(x), ref)
    finally:
        numba.set_num_threads(threads)


def test_kernel_is_compiled_parallel_and_cached():
    assert _gsva_kernels.kcdf_left.targetoptions.get("parallel")
    assert not _gsva_kernels.kcdf_left.targetoptions.get("fastmath")
    for kernel in (_gsva_kernels.kcdf_left, _gsva_kernels.approx_bin, _gsva_kernels.approx_interp):
        assert type(kernel._cache).__name__ != "NullCache"  # cache=True


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 40)),
              elements=st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)))
def test_kernel_bitwise_property(x):
    sd = _gsva._c_sd(x)
    x = x[sd >= 1e-10]  # GSVA drops constant genes before the kernel CDF
    if len(x):
        assert_same_bits(_gsva._gsva_kcdf(x), _gsva._gsva_kcdf_numpy(x))


def test_c_sd_blocks_do_not_change_it():
    x = matrix(700, 50, 8)
    assert_same_bits(_gsva._c_sd(x, rows_per_block=7), _gsva._c_sd(x, rows_per_block=10_000))


# ------------------------------------------------------------------ ranking (positions)


def stable_positions(stat: np.ndarray) -> np.ndarray:
    """The former implementation: argsort(-stat, axis=0, stable), inverted."""
    order = np.argsort(-stat, axis=0, kind="stable")
    pos = np.empty_like(order)
    pos[order, np.arange(stat.shape[1])] = np.arange(1, stat.shape[0] + 1)[:, None]
    return pos.T


@pytest.mark.parametrize("block", [1, 3, 128])
def test_positions_equal_stable_argsort_with_ties_and_nan(block):
    rng = np.random.default_rng(9)
    stat = rng.normal(size=(500, 40))
    stat[:, 5] = np.round(stat[:, 5])  # many ties in one sample
    stat[10:20, 7] = stat[30, 7]  # a block of ties
    stat[3, 8] = np.nan  # NaN (not produced by the kernel; sorted last as before)
    stat[4, 9], stat[5, 9] = 0.0, -0.0  # signed zeros tie
    np.testing.assert_array_equal(_gsva._gsva_positions(stat, samples_per_block=block),
                                  stable_positions(stat))


def test_gsva_positions_threads_do_not_matter():
    stat = np.round(np.random.default_rng(10).normal(size=(300, 333)), 2)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _gsva._gsva_positions(stat, samples_per_block=16)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(_gsva._gsva_positions(stat, samples_per_block=16), one)
    np.testing.assert_array_equal(one, stable_positions(stat))
